package schemas

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// openAPI31 checks the examples of one OpenAPI 3.1 document. The walk goes
// over the YAML as written, file by file, so every example is reported in the
// file and at the pointer where its author wrote it.
type openAPI31 struct {
	l        *loader
	compiler *jsonschema.Compiler
	compiled map[location]compiledSchema
	walked   map[location]bool    // schemas whose nested examples are taken
	checked  map[[2]location]bool // (example, schema) pairs already checked
	examples []Example
}

type compiledSchema struct {
	schema *jsonschema.Schema
	err    error
}

// site is one example and what it illustrates.
type site struct {
	where  string
	at     location // the example value
	value  any
	schema *location // nil when no schema is given
	note   string
}

// walkContext says where the walk stands, for the sites it finds.
type walkContext struct {
	operation string   // e.g. "GET /sync"
	opAt      location // the operation object
	what      string   // e.g. `response 200`, `query parameter "limit"`
	mediaType string   // of the media type being walked, if any
	top       location // the schema whose nested examples are being walked
}

var operationMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// checkOpenAPI31 finds every example site of the document and checks each
// against its schema, in JSON Schema 2020-12:
//   - media types (request bodies, responses, parameter and header content):
//     `example`, and each of `examples` (a value, or a $ref to an Example
//     Object in components/examples or another file) against the media
//     type's schema;
//   - parameters and headers: `example` and `examples` against their schema;
//   - every schema reached, in this file or through $refs in any other, and
//     every schema under components: its `example` and each item of its
//     `examples` array, against that schema (a definition file's own
//     top-level example is the example of the schema the file is).
func checkOpenAPI31(l *loader, root map[string]any, opts ExampleOptions) ([]Example, error) {
	if err := l.checkRefs(l.rootPath); err != nil {
		return nil, err
	}
	o := &openAPI31{
		l:        l,
		compiler: newCompiler2020(l, opts),
		compiled: map[location]compiledSchema{},
		walked:   map[location]bool{},
		checked:  map[[2]location]bool{},
	}
	rootAt := location{file: l.rootPath}
	for _, section := range []string{"paths", "webhooks"} {
		items, _ := root[section].(map[string]any)
		for _, p := range sortedKeys(items) {
			if err := o.pathItem(p, items[p], rootAt.child(section, p)); err != nil {
				return nil, err
			}
		}
	}
	if err := o.components(root["components"], rootAt.child("components")); err != nil {
		return nil, err
	}
	return o.examples, nil
}

func (at location) child(tokens ...string) location {
	var b strings.Builder
	b.WriteString(at.pointer)
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointer(t))
	}
	return location{file: at.file, pointer: b.String()}
}

// deref follows a Reference Object ($ref, with at most a summary and a
// description beside it) to what it names, however many hops away.
func (o *openAPI31) deref(v any, at location) (map[string]any, location, error) {
	for hops := 0; ; hops++ {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, at, nil
		}
		ref, isRef := m["$ref"].(string)
		if !isRef {
			return m, at, nil
		}
		if hops > 32 {
			return nil, at, &LoadError{File: o.l.name(at.file), Pointer: at.pointer + "/$ref", Err: fmt.Errorf("$ref %q: more than 32 hops; a cycle?", ref)}
		}
		var err error
		v, at, err = o.l.resolveTo(ref, at.file, at.pointer+"/$ref")
		if err != nil {
			return nil, at, err
		}
	}
}

func (o *openAPI31) pathItem(path string, v any, at location) error {
	item, at, err := o.deref(v, at)
	if err != nil || item == nil {
		return err
	}
	ctx := walkContext{what: "path " + path}
	if err := o.parameters(item["parameters"], at.child("parameters"), ctx); err != nil {
		return err
	}
	for _, method := range operationMethods {
		op, ok := item[method].(map[string]any)
		if !ok {
			continue
		}
		opAt := at.child(method)
		ctx := walkContext{operation: strings.ToUpper(method) + " " + path, opAt: opAt}
		if err := o.parameters(op["parameters"], opAt.child("parameters"), ctx); err != nil {
			return err
		}
		if err := o.requestBody(op["requestBody"], opAt.child("requestBody"), ctx); err != nil {
			return err
		}
		responses, _ := op["responses"].(map[string]any)
		for _, code := range sortedKeys(responses) {
			if err := o.response(code, responses[code], opAt.child("responses", code), ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *openAPI31) components(v any, at location) error {
	comps, _ := v.(map[string]any)
	named := func(section string, fn func(name string, v any, at location) error) error {
		m, _ := comps[section].(map[string]any)
		for _, name := range sortedKeys(m) {
			if err := fn(name, m[name], at.child(section, name)); err != nil {
				return err
			}
		}
		return nil
	}
	in := func(what string) walkContext { return walkContext{what: what} }
	steps := []struct {
		section string
		walk    func(name string, v any, at location) error
	}{
		{"schemas", func(name string, v any, at location) error {
			ctx := in(fmt.Sprintf("components schema %q", name))
			ctx.top = at
			return o.schema(v, at, ctx)
		}},
		{"parameters", func(name string, v any, at location) error { return o.parameter(v, at, walkContext{}) }},
		{"headers", func(name string, v any, at location) error { return o.header(name, v, at, walkContext{}) }},
		{"requestBodies", func(name string, v any, at location) error {
			return o.requestBody(v, at, in(fmt.Sprintf("components request body %q", name)))
		}},
		{"responses", func(name string, v any, at location) error { return o.response(name, v, at, in("components")) }},
		{"pathItems", func(name string, v any, at location) error { return o.pathItem(name, v, at) }},
	}
	for _, step := range steps {
		if err := named(step.section, step.walk); err != nil {
			return err
		}
	}
	return nil
}

func (o *openAPI31) parameters(v any, at location, ctx walkContext) error {
	list, _ := v.([]any)
	for i, p := range list {
		if err := o.parameter(p, at.child(strconv.Itoa(i)), ctx); err != nil {
			return err
		}
	}
	return nil
}

func (o *openAPI31) parameter(v any, at location, ctx walkContext) error {
	p, at, err := o.deref(v, at)
	if err != nil || p == nil {
		return err
	}
	name, _ := p["name"].(string)
	in, _ := p["in"].(string)
	ctx.what = fmt.Sprintf("%s parameter %q", in, name)
	return o.exampleHolder(p, at, ctx)
}

func (o *openAPI31) header(name string, v any, at location, ctx walkContext) error {
	h, at, err := o.deref(v, at)
	if err != nil || h == nil {
		return err
	}
	ctx.what = strings.TrimSpace(ctx.what + fmt.Sprintf(" header %q", name))
	return o.exampleHolder(h, at, ctx)
}

func (o *openAPI31) requestBody(v any, at location, ctx walkContext) error {
	body, at, err := o.deref(v, at)
	if err != nil || body == nil {
		return err
	}
	if ctx.what == "" {
		ctx.what = "request body"
	}
	return o.content(body["content"], at.child("content"), ctx)
}

func (o *openAPI31) response(code string, v any, at location, ctx walkContext) error {
	r, at, err := o.deref(v, at)
	if err != nil || r == nil {
		return err
	}
	ctx.what = strings.TrimSpace(ctx.what + " response " + code)
	if err := o.content(r["content"], at.child("content"), ctx); err != nil {
		return err
	}
	headers, _ := r["headers"].(map[string]any)
	for _, name := range sortedKeys(headers) {
		if err := o.header(name, headers[name], at.child("headers", name), ctx); err != nil {
			return err
		}
	}
	return nil
}

func (o *openAPI31) content(v any, at location, ctx walkContext) error {
	media, _ := v.(map[string]any)
	for _, mt := range sortedKeys(media) {
		m, ok := media[mt].(map[string]any)
		if !ok {
			continue
		}
		mctx := ctx
		mctx.mediaType = mt
		note := ""
		if !isJSONMediaType(mt) {
			note = "not checked: not a JSON media type"
		}
		if err := o.sitesOf(m, at.child(mt), mctx, note); err != nil {
			return err
		}
	}
	return nil
}

// exampleHolder handles a parameter or header: a schema, or content.
func (o *openAPI31) exampleHolder(h map[string]any, at location, ctx walkContext) error {
	if err := o.sitesOf(h, at, ctx, ""); err != nil {
		return err
	}
	return o.content(h["content"], at.child("content"), ctx)
}

// sitesOf checks the `example` and `examples` of a media type, parameter or
// header against its `schema`, and the examples inside that schema.
func (o *openAPI31) sitesOf(holder map[string]any, at location, ctx walkContext, note string) error {
	var schemaAt *location
	schema, hasSchema := holder["schema"]
	if hasSchema {
		canonical, err := o.canonicalSchema(schema, at.child("schema"))
		if err != nil {
			return err
		}
		schemaAt = &canonical
	}
	describe := func(example string) string {
		if ctx.mediaType != "" {
			return ctx.what + " " + example + " (" + ctx.mediaType + ")"
		}
		return ctx.what + " " + example
	}
	if value, ok := holder["example"]; ok {
		s := site{where: describe("example"), at: at.child("example"), value: value, schema: schemaAt, note: note}
		if err := o.check(s, ctx); err != nil {
			return err
		}
	}
	examples, _ := holder["examples"].(map[string]any)
	for _, exName := range sortedKeys(examples) {
		ex, exAt, err := o.deref(examples[exName], at.child("examples", exName))
		if err != nil {
			return err
		}
		if ex == nil {
			continue
		}
		s := site{where: describe(fmt.Sprintf("example %q", exName)), schema: schemaAt, note: note}
		value, hasValue := ex["value"]
		switch {
		case hasValue:
			s.at, s.value = exAt.child("value"), value
		case ex["externalValue"] != nil:
			s.at, s.value = exAt.child("externalValue"), ex["externalValue"]
			s.schema, s.note = nil, "not checked: an externalValue is not read"
		default:
			continue // an Example Object with neither gives nothing to check
		}
		if err := o.check(s, ctx); err != nil {
			return err
		}
	}
	if !hasSchema {
		return nil
	}
	// The schema's own examples come after the holder's, as a reader meets them.
	ctx.top = at.child("schema")
	return o.schema(schema, ctx.top, ctx)
}

// canonicalSchema is where the schema at `at` really is: a schema that is
// only a $ref (perhaps with a title or description) is its target, so two
// operations that $ref one schema give one (example, schema) pair.
func (o *openAPI31) canonicalSchema(v any, at location) (location, error) {
	for hops := 0; hops <= 32; hops++ {
		m, ok := v.(map[string]any)
		if !ok {
			return at, nil
		}
		ref, isRef := m["$ref"].(string)
		if !isRef {
			return at, nil
		}
		for k := range m {
			switch k {
			case "$ref", "description", "title", "$comment":
			default:
				return at, nil
			}
		}
		var err error
		if v, at, err = o.l.resolveTo(ref, at.file, at.pointer+"/$ref"); err != nil {
			return at, err
		}
	}
	return at, nil
}

// schema takes the examples of the schema at `at` and of every schema inside
// it or reached from it by $ref, each schema once.
func (o *openAPI31) schema(v any, at location, ctx walkContext) error {
	if o.walked[at] {
		return nil
	}
	o.walked[at] = true
	node, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	self := at
	what := strings.TrimSpace(ctx.what + " schema")
	suffix := ""
	if inner, ok := strings.CutPrefix(at.pointer, ctx.top.pointer); ok && at.file == ctx.top.file && strings.HasPrefix(inner, "/") {
		suffix = " at " + inner
	} else if at != ctx.top {
		suffix = " at " + at.pointer
	}
	if value, ok := node["example"]; ok {
		if err := o.check(site{where: what + " example" + suffix, at: at.child("example"), value: value, schema: &self}, ctx); err != nil {
			return err
		}
	}
	if value, ok := node["examples"]; ok {
		list, isList := value.([]any)
		if !isList {
			o.examples = append(o.examples, Example{
				Where: what + " examples" + suffix, File: o.l.name(at.file), Pointer: at.child("examples").pointer, Value: value,
				Err: fmt.Errorf("a schema's examples must be an array in JSON Schema 2020-12; found %s", aJSONType(value)),
			})
		}
		for i, item := range list {
			s := site{where: fmt.Sprintf("%s examples/%d%s", what, i, suffix), at: at.child("examples", strconv.Itoa(i)), value: item, schema: &self}
			if err := o.check(s, ctx); err != nil {
				return err
			}
		}
	}
	if ref, ok := node["$ref"].(string); ok {
		target, targetAt, err := o.l.resolveTo(ref, at.file, at.pointer+"/$ref")
		if err != nil {
			return err
		}
		ctx := ctx
		ctx.top = targetAt
		if err := o.schema(target, targetAt, ctx); err != nil {
			return err
		}
	}
	var err error
	eachSubschema(node, at.pointer, func(child any, pointer string) {
		if err == nil {
			err = o.schema(child, location{file: at.file, pointer: pointer}, ctx)
		}
	})
	return err
}

// check checks one site, once per (example, schema) pair. A $ref inside the
// example that does not resolve fails the whole document, as any $ref does.
func (o *openAPI31) check(s site, ctx walkContext) error {
	key := [2]location{s.at}
	if s.schema != nil {
		key[1] = *s.schema
	}
	if o.checked[key] {
		return nil
	}
	o.checked[key] = true
	ex := Example{Where: s.where, File: o.l.name(s.at.file), Pointer: s.at.pointer, Value: s.value, Note: s.note}
	if s.at.file == ctx.opAt.file && strings.HasPrefix(s.at.pointer, ctx.opAt.pointer+"/") {
		ex.Operation = ctx.operation
	}
	// Inlined even when not checked: a dangling $ref is a fault either way.
	value, err := o.l.inlineExampleRefs(s.value, s.at.file, s.at.pointer)
	if err != nil {
		return err
	}
	switch {
	case s.note != "":
	case s.schema == nil:
		ex.Note = "no schema: nothing to check it against"
	default:
		ex.Schema = o.l.name(s.schema.file) + "#" + s.schema.pointer
		ex.Err = o.validate(*s.schema, value)
	}
	o.examples = append(o.examples, ex)
	return nil
}
