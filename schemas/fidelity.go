package schemas

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The embedded r0 and v3 documents are written by mxpresence from the
// spec's facts; Fidelity holds them to the official files, so that a breach
// they report is a breach of the spec and not of a looser or stricter
// paraphrase. What it compares, per operation and status: the documented
// statuses, and in every response schema and the request body's, as deep as
// the official one goes, the types, the enums, the required keys and which
// properties, items and map values are described. Formats, patterns and
// bounds are not compared.

// OwnRuleKey marks a response of an embedded document that the spec does
// not document: mxpresence's own rule, with the reason as its value.
// Breaches of it are reported as mxpresence's rule, never as the spec's
// schema, and Fidelity checks that the spec really leaves it out.
const OwnRuleKey = "x-mxpresence-own-rule"

// SpecSchemaKey, on a schema of an embedded document, names an official
// schema file (relative to the client-server folder) that also holds there:
// the embedded m.presence event of /sync is the spec's m.presence event
// schema, where the /sync document itself only asks for an event. The
// comparison holds the embedded schema to both.
const SpecSchemaKey = "x-mxpresence-spec-schema"

// Drift is one way an embedded document differs from the official one.
type Drift struct {
	Operation string // e.g. "GET /sync"
	Status    int    // the response's status; 0 for its default response, RequestBody for the request's
	Pointer   string // in the response schema; "" for the response or the operation
	// Looser says the embedded document accepts what the spec refuses;
	// otherwise it refuses what the spec accepts (or documents what the
	// spec does not).
	Looser  bool
	Message string
}

// RequestBody is a Drift's Status when it is in the request body's schema.
const RequestBody = -1

func (d Drift) String() string {
	where := d.Operation
	switch d.Status {
	case 0:
	case RequestBody:
		where += " request body"
	default:
		where += " " + strconv.Itoa(d.Status)
	}
	if d.Pointer != "" {
		where += " " + d.Pointer
	}
	way := "stricter"
	if d.Looser {
		way = "looser"
	}
	return fmt.Sprintf("%s: %s: %s", where, way, d.Message)
}

// FidelityReport is the outcome of comparing an API version's embedded
// documents with a spec checkout.
type FidelityReport struct {
	Official string  // the client-server folder compared with
	Drifts   []Drift // sorted
	// Compared and Unchecked are operations of the embedded documents: the
	// ones the official files describe, and the ones they do not (the
	// snapshot holds no file for them).
	Compared, Unchecked []string
}

// Fidelity compares the embedded documents of an API version (r0, v3) with
// the official documents of the spec checkout in dir.
func Fidelity(version, dir string) (*FidelityReport, error) {
	folder, err := FindClientServer(dir)
	if err != nil {
		return nil, err
	}
	names, err := VersionDocuments(version)
	if err != nil {
		return nil, err
	}
	embedded := map[string]*opTrees{}
	for _, name := range names {
		file := version + "/" + name + ".yaml"
		ops, err := responseTrees(Files(), "/"+file, "schemas/spec/"+file)
		if err != nil {
			return nil, err
		}
		for k, v := range ops {
			embedded[k] = v
		}
	}
	official := map[string]*opTrees{}
	entries, err := os.ReadDir(folder)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(folder)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		ops, err := responseTrees(os.DirFS("/"), path.Join(filepath.ToSlash(abs), e.Name()), filepath.Join(folder, e.Name()))
		if err != nil {
			return nil, err
		}
		for k, v := range ops {
			official[k] = v
		}
	}
	rep := &FidelityReport{Official: folder}
	keys := make([]string, 0, len(embedded))
	for k := range embedded {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		o := matchOperation(official, key)
		if o == nil {
			rep.Unchecked = append(rep.Unchecked, key)
			continue
		}
		rep.Compared = append(rep.Compared, key)
		rep.Drifts = append(rep.Drifts, compareOperation(key, embedded[key], o, abs)...)
	}
	sort.SliceStable(rep.Drifts, func(i, j int) bool { return rep.Drifts[i].String() < rep.Drifts[j].String() })
	return rep, nil
}

// matchOperation finds "METHOD /template" among ops: the same template, or
// one whose parameter segments stand for the literal ones of key (the
// embedded /profile/{userId}/displayname is the spec's
// /profile/{userId}/{keyName}).
func matchOperation[T any](ops map[string]T, key string) T {
	if op, ok := ops[key]; ok {
		return op
	}
	method, template, _ := strings.Cut(key, " ")
	want := strings.Split(template, "/")
	var zero T
	for k, op := range ops {
		m, t, _ := strings.Cut(k, " ")
		got := strings.Split(t, "/")
		if m != method || len(got) != len(want) {
			continue
		}
		ok := true
		for i := range got {
			if got[i] != want[i] && !(isParam(got[i]) && !isParam(want[i])) && !(isParam(got[i]) && isParam(want[i])) {
				ok = false
				break
			}
		}
		if ok {
			return op
		}
	}
	return zero
}

func isParam(segment string) bool {
	return strings.HasPrefix(segment, "{") && strings.HasSuffix(segment, "}")
}

// opTrees are an operation's responses, each schema with every $ref
// resolved into one tree.
type opTrees struct {
	file      string
	request   any                   // the JSON request body's schema; nil when none
	responses map[int]*responseTree // 0 is the default response
}

type responseTree struct {
	schema  any    // nil when no JSON body is documented
	ownRule string // OwnRuleKey's value
}

// responseTrees reads the responses of every operation of one document,
// Swagger 2.0 or OpenAPI 3.1, as written (no normalisation).
func responseTrees(fsys fs.FS, rootPath, display string) (map[string]*opTrees, error) {
	l := newLoader(fsys, rootPath, display, parseYAMLNodes)
	root, err := l.read(rootPath)
	if err != nil {
		return nil, err
	}
	rootMap, _ := root.(map[string]any)
	if rootMap == nil || (rootMap["swagger"] == nil && rootMap["openapi"] == nil) {
		return nil, nil
	}
	_, isOpenAPI := rootMap["openapi"]
	r := &treeReader{l: l}
	out := map[string]*opTrees{}
	rootAt := location{file: rootPath}
	items, _ := rootMap["paths"].(map[string]any)
	for _, p := range sortedKeys(items) {
		item, itemAt, err := r.deref(items[p], rootAt.child("paths", p))
		if err != nil {
			return nil, err
		}
		for _, method := range operationMethods {
			op, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			ops := &opTrees{file: display, responses: map[int]*responseTree{}}
			if ops.request, err = r.requestBody(op, itemAt.child(method), isOpenAPI); err != nil {
				return nil, err
			}
			responses, _ := op["responses"].(map[string]any)
			for _, code := range sortedKeys(responses) {
				status := 0
				if code != "default" {
					if status, err = strconv.Atoi(code); err != nil {
						continue
					}
				}
				resp, at, err := r.deref(responses[code], itemAt.child(method, "responses", code))
				if err != nil {
					return nil, err
				}
				t := &responseTree{}
				t.ownRule, _ = resp[OwnRuleKey].(string)
				schema, schemaAt := resp["schema"], at.child("schema")
				if isOpenAPI {
					content, _ := resp["content"].(map[string]any)
					media, _ := content["application/json"].(map[string]any)
					schema, schemaAt = media["schema"], at.child("content", "application/json", "schema")
				}
				if schema != nil {
					if t.schema, err = r.tree(schema, schemaAt, nil); err != nil {
						return nil, err
					}
				}
				ops.responses[status] = t
			}
			out[strings.ToUpper(method)+" "+p] = ops
		}
	}
	return out, nil
}

type treeReader struct{ l *loader }

// requestBody resolves an operation's JSON request body schema: Swagger's
// body parameter, or OpenAPI's requestBody.
func (r *treeReader) requestBody(op map[string]any, at location, isOpenAPI bool) (any, error) {
	if isOpenAPI {
		body, bodyAt, err := r.deref(op["requestBody"], at.child("requestBody"))
		if err != nil || body == nil {
			return nil, err
		}
		content, _ := body["content"].(map[string]any)
		media, _ := content["application/json"].(map[string]any)
		if media["schema"] == nil {
			return nil, nil
		}
		return r.tree(media["schema"], bodyAt.child("content", "application/json", "schema"), nil)
	}
	params, _ := op["parameters"].([]any)
	for i, p := range params {
		param, pAt, err := r.deref(p, at.child("parameters", strconv.Itoa(i)))
		if err != nil {
			return nil, err
		}
		if param["in"] == "body" && param["schema"] != nil {
			return r.tree(param["schema"], pAt.child("schema"), nil)
		}
	}
	return nil, nil
}

func (r *treeReader) deref(v any, at location) (map[string]any, location, error) {
	for hops := 0; hops < 32; hops++ {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, at, nil
		}
		ref, isRef := m["$ref"].(string)
		if !isRef {
			return m, at, nil
		}
		var err error
		if v, at, err = r.l.resolveTo(ref, at.file, at.pointer+"/$ref"); err != nil {
			return nil, at, err
		}
	}
	return nil, at, &LoadError{File: r.l.name(at.file), Pointer: at.pointer, Err: fmt.Errorf("more than 32 $ref hops")}
}

// tree resolves every $ref in a schema. A $ref with siblings is both:
// {allOf: [target, siblings]}. A $ref back into a schema being resolved
// (a recursive definition) is left as any schema.
func (r *treeReader) tree(v any, at location, stack []location) (any, error) {
	switch node := v.(type) {
	case map[string]any:
		if ref, ok := node["$ref"].(string); ok {
			target, tAt, err := r.l.resolveTo(ref, at.file, at.pointer+"/$ref")
			if err != nil {
				return nil, err
			}
			if slices.Contains(stack, tAt) {
				return map[string]any{}, nil
			}
			resolved, err := r.tree(target, tAt, append(stack, tAt))
			if err != nil {
				return nil, err
			}
			if len(node) == 1 {
				return resolved, nil
			}
			rest := map[string]any{}
			for k, c := range node {
				if k != "$ref" {
					rest[k] = c
				}
			}
			siblings, err := r.tree(rest, at, stack)
			if err != nil {
				return nil, err
			}
			return map[string]any{"allOf": []any{resolved, siblings}}, nil
		}
		out := make(map[string]any, len(node))
		for k, c := range node {
			if isLiteralValue(k) {
				out[k] = c
				continue
			}
			t, err := r.tree(c, at.child(k), stack)
			if err != nil {
				return nil, err
			}
			out[k] = t
		}
		return out, nil
	case []any:
		out := make([]any, len(node))
		for i, c := range node {
			t, err := r.tree(c, at.child(strconv.Itoa(i)), stack)
			if err != nil {
				return nil, err
			}
			out[i] = t
		}
		return out, nil
	}
	return v, nil
}

func compareOperation(key string, e, o *opTrees, officialFolder string) []Drift {
	var out []Drift
	switch {
	case e.request != nil && o.request != nil:
		c := comparer{op: key, status: RequestBody, folder: officialFolder}
		c.schema("", e.request, o.request)
		out = append(out, c.drifts...)
	case o.request != nil:
		out = append(out, Drift{Operation: key, Status: RequestBody, Looser: true,
			Message: fmt.Sprintf("%s gives the request body a schema; %s does not", o.file, e.file)})
	case e.request != nil:
		out = append(out, Drift{Operation: key, Status: RequestBody,
			Message: fmt.Sprintf("%s gives the request body a schema; %s does not", e.file, o.file)})
	}
	codes := map[int]bool{}
	for c := range e.responses {
		codes[c] = true
	}
	for c := range o.responses {
		codes[c] = true
	}
	sorted := make([]int, 0, len(codes))
	for c := range codes {
		sorted = append(sorted, c)
	}
	sort.Ints(sorted)
	for _, c := range sorted {
		er, or := e.responses[c], o.responses[c]
		name := "status " + strconv.Itoa(c)
		if c == 0 {
			name = "the default response"
		}
		switch {
		case er == nil:
			out = append(out, Drift{Operation: key, Status: c, Looser: true,
				Message: fmt.Sprintf("%s documents %s; %s does not, so a breach of it goes unreported", o.file, name, e.file)})
		case or == nil && er.ownRule == "":
			out = append(out, Drift{Operation: key, Status: c,
				Message: fmt.Sprintf("%s documents %s, which %s does not; mark it %s if it is mxpresence's own rule", e.file, name, o.file, OwnRuleKey)})
		case or == nil:
			// mxpresence's own rule, labelled as such wherever it is reported.
		case er.ownRule != "" && or.schema != nil:
			out = append(out, Drift{Operation: key, Status: c,
				Message: fmt.Sprintf("%s marks %s as mxpresence's own rule, but %s gives its body a schema", e.file, name, o.file)})
		case er.ownRule != "":
			// The spec documents the status but not its body: the body's
			// schema is mxpresence's own rule, labelled as such.
		default:
			c := comparer{op: key, status: c, folder: officialFolder}
			c.schema("", er.schema, or.schema)
			out = append(out, c.drifts...)
		}
	}
	return out
}

type comparer struct {
	op     string
	status int
	folder string // the official client-server folder, absolute
	drifts []Drift
}

// specSchema reads an official schema file SpecSchemaKey names.
func (c *comparer) specSchema(rel string) (any, error) {
	file := path.Join(filepath.ToSlash(c.folder), rel)
	l := newLoader(os.DirFS("/"), file, file, parseYAMLNodes)
	root, err := l.read(file)
	if err != nil {
		return nil, err
	}
	return (&treeReader{l: l}).tree(root, location{file: file}, nil)
}

func (c *comparer) add(ptr string, looser bool, format string, args ...any) {
	c.drifts = append(c.drifts, Drift{Operation: c.op, Status: c.status, Pointer: ptr, Looser: looser, Message: fmt.Sprintf(format, args...)})
}

// shape is a schema with its allOf folded in: what it asks of a value.
type shape struct {
	types    []string // nil: any
	enum     []string // JSON texts; nil: none
	required []string
	props    map[string]any
	items    any
	addl     any // a schema for the values of a map
	oneOf    []any
}

func (s *shape) constrains() bool {
	return s.types != nil || s.enum != nil || len(s.required) > 0 || len(s.props) > 0 || s.items != nil || s.addl != nil || len(s.oneOf) > 0
}

func shapeOf(v any) *shape {
	s := &shape{}
	node, _ := v.(map[string]any)
	if node == nil {
		return s
	}
	switch t := node["type"].(type) {
	case string:
		s.types = []string{t}
	case []any:
		for _, x := range t {
			if str, ok := x.(string); ok {
				s.types = append(s.types, str)
			}
		}
	}
	if enum, ok := node["enum"].([]any); ok {
		for _, x := range enum {
			b, _ := json.Marshal(x)
			s.enum = append(s.enum, string(b))
		}
	}
	if req, ok := node["required"].([]any); ok {
		for _, x := range req {
			if str, ok := x.(string); ok {
				s.required = append(s.required, str)
			}
		}
	}
	if props, ok := node["properties"].(map[string]any); ok {
		s.props = props
	}
	s.items = node["items"]
	if addl, ok := node["additionalProperties"].(map[string]any); ok {
		s.addl = addl
	}
	// The spec writes a map keyed by room ID as patternProperties; any of
	// its patterns is a map's value here.
	if pp, ok := node["patternProperties"].(map[string]any); ok {
		for _, k := range sortedKeys(pp) {
			s.addl = both(s.addl, pp[k])
		}
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts, ok := node[k].([]any); ok {
			s.oneOf = append(s.oneOf, alts...)
		}
	}
	if all, ok := node["allOf"].([]any); ok {
		for _, part := range all {
			s.merge(shapeOf(part))
		}
	}
	return s
}

// merge folds in one part of an allOf: a value must satisfy both.
func (s *shape) merge(p *shape) {
	switch {
	case s.types == nil:
		s.types = p.types
	case p.types != nil:
		s.types = slices.DeleteFunc(slices.Clone(s.types), func(t string) bool { return !typeAllowed(t, p.types) })
	}
	switch {
	case s.enum == nil:
		s.enum = p.enum
	case p.enum != nil:
		s.enum = slices.DeleteFunc(slices.Clone(s.enum), func(x string) bool { return !slices.Contains(p.enum, x) })
	}
	for _, r := range p.required {
		if !slices.Contains(s.required, r) {
			s.required = append(s.required, r)
		}
	}
	for k, v := range p.props {
		if s.props == nil {
			s.props = map[string]any{}
		}
		s.props[k] = both(s.props[k], v)
	}
	s.items = both(s.items, p.items)
	s.addl = both(s.addl, p.addl)
	s.oneOf = append(s.oneOf, p.oneOf...)
}

func both(a, b any) any {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return map[string]any{"allOf": []any{a, b}}
}

// typeAllowed: an integer is a number.
func typeAllowed(t string, allowed []string) bool {
	return slices.Contains(allowed, t) || (t == "integer" && slices.Contains(allowed, "number"))
}

func (c *comparer) schema(ptr string, e, o any) {
	at := ptr
	if at == "" {
		at = "(body)"
	}
	if node, ok := e.(map[string]any); ok {
		if rel, ok := node[SpecSchemaKey].(string); ok {
			also, err := c.specSchema(rel)
			if err != nil {
				c.add(at, true, "%s names %s: %v", SpecSchemaKey, rel, err)
				return
			}
			o = both(o, also)
		}
	}
	es, os := shapeOf(e), shapeOf(o)
	if os.types != nil {
		if es.types == nil {
			c.add(at, true, "the spec allows only %v; the embedded schema any type", os.types)
		}
		for _, t := range es.types {
			if !typeAllowed(t, os.types) {
				c.add(at, true, "type %s is allowed here; the spec allows only %v", t, os.types)
			}
		}
		for _, t := range os.types {
			if es.types != nil && !typeAllowed(t, es.types) {
				c.add(at, false, "the spec allows type %s too; the embedded schema only %v", t, es.types)
			}
		}
	} else if es.types != nil {
		c.add(at, false, "type %v is asked; the spec allows any", es.types)
	}
	if os.enum != nil {
		if es.enum == nil {
			c.add(at, true, "the spec allows only %v; the embedded schema has no enum", os.enum)
		}
		for _, x := range es.enum {
			if !slices.Contains(os.enum, x) {
				c.add(at, true, "%s is allowed; the spec's enum is %v", x, os.enum)
			}
		}
		for _, x := range os.enum {
			if es.enum != nil && !slices.Contains(es.enum, x) {
				c.add(at, false, "the spec allows %s too; the embedded enum is %v", x, es.enum)
			}
		}
	} else if es.enum != nil {
		c.add(at, false, "enum %v is asked; the spec has none", es.enum)
	}
	for _, r := range os.required {
		if !slices.Contains(es.required, r) {
			c.add(at, true, "the spec requires %q; the embedded schema does not", r)
		}
	}
	for _, r := range es.required {
		if !slices.Contains(os.required, r) {
			c.add(at, false, "%q is required; the spec does not require it", r)
		}
	}
	for _, k := range sortedKeys(os.props) {
		sub := ptr + "/" + escapePointer(k)
		if ev, ok := es.props[k]; ok {
			c.schema(sub, ev, os.props[k])
		} else if es.addl != nil {
			c.schema(sub, es.addl, os.props[k])
		} else if shapeOf(os.props[k]).constrains() {
			c.add(sub, true, "the spec describes this property; the embedded schema does not")
		}
	}
	for _, k := range sortedKeys(es.props) {
		if _, ok := os.props[k]; ok {
			continue
		}
		sub := ptr + "/" + escapePointer(k)
		if os.addl != nil {
			c.schema(sub, es.props[k], os.addl)
		} else if shapeOf(es.props[k]).constrains() {
			c.add(sub, false, "the embedded schema describes this property; the spec does not")
		}
	}
	c.child(ptr+"/*", es.items, os.items, "the items")
	// An embedded map whose values stood for the spec's named properties
	// above has been compared already.
	if mapForNamed := os.addl == nil && len(os.props) > 0 && es.addl != nil; !mapForNamed {
		c.child(ptr+"/{}", es.addl, os.addl, "a map's values")
	}
	switch {
	case len(os.oneOf) == 0 && len(es.oneOf) > 0:
		c.add(at, false, "one of %d schemas is asked; the spec names none", len(es.oneOf))
	case len(os.oneOf) > 0 && len(es.oneOf) != len(os.oneOf):
		c.add(at, true, "the spec asks for one of %d schemas; the embedded schema %d", len(os.oneOf), len(es.oneOf))
	default:
		for i := range os.oneOf {
			c.schema(ptr+"/oneOf/"+strconv.Itoa(i), es.oneOf[i], os.oneOf[i])
		}
	}
}

func (c *comparer) child(ptr string, e, o any, what string) {
	switch {
	case o != nil && e != nil:
		c.schema(ptr, e, o)
	case o != nil && shapeOf(o).constrains():
		c.add(ptr, true, "the spec describes %s; the embedded schema does not", what)
	case e != nil && shapeOf(e).constrains():
		c.add(ptr, false, "the embedded schema describes %s; the spec does not", what)
	}
}
