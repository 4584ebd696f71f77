package schemas

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Official is the client-server API documents of a Matrix spec checkout as
// the spec project publishes them: Swagger 2.0 in the r0 trees
// (api/client-server/), OpenAPI 3.1 in today's (data/api/client-server/).
// Responses are validated against them as written, with the loader the
// example checker uses, so a verdict can say "the spec's own schema" and
// mean the file a reader can open.
type Official struct {
	// Dir is the client-server folder the documents were read from, as the
	// caller named it.
	Dir string
	// Files are the documents that describe at least one operation, as
	// named in errors and reports (Dir joined with the file name), sorted.
	Files []string
	ops   map[string]*OfficialOperation // by "METHOD /path/template"
}

// OfficialOperation is one operation of an official document.
type OfficialOperation struct {
	Method   string
	Path     string // template relative to BasePath, e.g. /sync
	BasePath string // e.g. /_matrix/client/v3
	File     string // the document, as in Official.Files
	Pointer  string // of the operation in File
	// responses by status; 0 is the default response.
	responses map[int]*officialResponse
	validate  func(r *officialResponse, body []byte) error
}

type officialResponse struct {
	status  int
	schema  *location // nil when the response documents no JSON body
	swagger *Response // set for Swagger 2.0 documents
}

// clientServerFolders are where a checkout keeps the client-server API:
// today's layout first, then the r0 one.
var clientServerFolders = []string{"data/api/client-server", "api/client-server"}

// FindClientServer returns the client-server folder of a spec checkout, or
// dir itself when it is that folder.
func FindClientServer(dir string) (string, error) {
	for _, sub := range clientServerFolders {
		p := filepath.Join(dir, filepath.FromSlash(sub))
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, nil
		}
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, m := range matches {
		if data, err := os.ReadFile(m); err == nil && isAPIDocument(data) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%s: no %s folder and no API documents in it; give a Matrix spec checkout (e.g. ../shared/spec/v3/v1.19)", dir, strings.Join(clientServerFolders, " or "))
}

// isAPIDocument tells a Swagger or OpenAPI document by its top-level key.
func isAPIDocument(data []byte) bool {
	for _, key := range []string{"openapi:", "swagger:"} {
		if bytes.HasPrefix(data, []byte(key)) || bytes.Contains(data, []byte("\n"+key)) {
			return true
		}
	}
	return false
}

// LoadOfficial reads every API document of a spec checkout's client-server
// folder (see FindClientServer). A document that cannot be read, or whose
// $refs do not resolve, fails the whole load: a verdict against a partial
// spec would claim more than it checked.
func LoadOfficial(dir string) (*Official, error) {
	folder, err := FindClientServer(dir)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(folder)
	if err != nil {
		return nil, fmt.Errorf("read the spec folder: %w", err)
	}
	out := &Official{Dir: folder, ops: map[string]*OfficialOperation{}}
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".json")) {
			continue
		}
		file := filepath.Join(folder, e.Name())
		ops, err := loadOfficialFile(file)
		if err != nil {
			return nil, err
		}
		if len(ops) > 0 {
			out.Files = append(out.Files, file)
		}
		for _, op := range ops {
			key := op.Method + " " + op.Path
			if prev, dup := out.ops[key]; dup {
				return nil, fmt.Errorf("%s and %s both describe %s", prev.File, op.File, key)
			}
			out.ops[key] = op
		}
	}
	if len(out.ops) == 0 {
		return nil, fmt.Errorf("%s: no API document with operations", folder)
	}
	sort.Strings(out.Files)
	return out, nil
}

// Operation returns the operation for a method and path template, or nil.
func (o *Official) Operation(method, pathTemplate string) *OfficialOperation {
	return o.ops[method+" "+pathTemplate]
}

// Match is Operation that also takes a template whose literal segments the
// official one writes as parameters: the suite's GET
// /profile/{userId}/displayname is the spec's /profile/{userId}/{keyName}.
func (o *Official) Match(method, pathTemplate string) *OfficialOperation {
	return matchOperation(o.ops, method+" "+pathTemplate)
}

// Operations lists every operation, by path then method.
func (o *Official) Operations() []*OfficialOperation {
	out := make([]*OfficialOperation, 0, len(o.ops))
	for _, op := range o.ops {
		out = append(out, op)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return slices.Index(methodOrder, out[i].Method) < slices.Index(methodOrder, out[j].Method)
	})
	return out
}

// BasePaths lists the base paths the documents give, sorted.
func (o *Official) BasePaths() []string {
	var out []string
	for _, op := range o.ops {
		if op.BasePath != "" && !slices.Contains(out, op.BasePath) {
			out = append(out, op.BasePath)
		}
	}
	sort.Strings(out)
	return out
}

func (op *OfficialOperation) String() string { return op.Method + " " + op.Path }

// DocumentedStatuses lists the status codes the operation documents, ascending.
func (op *OfficialOperation) DocumentedStatuses() []int {
	var codes []int
	for c := range op.responses {
		if c != 0 {
			codes = append(codes, c)
		}
	}
	sort.Ints(codes)
	return codes
}

// ValidateResponse checks a response body against the schema the operation
// documents for its status, as Operation.ValidateResponse does for the
// embedded documents: nil, an *UndocumentedStatusError, an
// *InvalidJSONError or a *ValidationError.
func (op *OfficialOperation) ValidateResponse(status int, body []byte) error {
	r, ok := op.responses[status]
	if !ok {
		r = op.responses[0]
	}
	if r == nil {
		return &UndocumentedStatusError{Operation: op.String(), Status: status, Documented: op.DocumentedStatuses()}
	}
	return op.validate(r, body)
}

// loadOfficialFile indexes the operations of one document; a file that is
// not an API document (no "swagger" or "openapi" key) has none.
func loadOfficialFile(file string) ([]*OfficialOperation, error) {
	l, rootMap, err := readDocument(file)
	if err != nil {
		return nil, err
	}
	openapi, _ := rootMap["openapi"].(string)
	switch {
	case rootMap == nil:
		return nil, nil
	case strings.HasPrefix(openapi, "3.1."):
		return openAPI31Operations(l, rootMap)
	case rootMap["openapi"] != nil:
		return nil, &LoadError{File: file, Err: fmt.Errorf("OpenAPI %v; mxpresence reads Swagger 2.0 and OpenAPI 3.1", rootMap["openapi"])}
	case rootMap["swagger"] != nil:
		return swaggerOperations(file)
	}
	return nil, nil
}

func swaggerOperations(file string) ([]*OfficialOperation, error) {
	doc, err := Load(file)
	if err != nil {
		return nil, err
	}
	var out []*OfficialOperation
	for _, o := range doc.Operations {
		op := &OfficialOperation{Method: o.Method, Path: o.Path, BasePath: doc.BasePath, File: file, Pointer: o.Pointer,
			responses: map[int]*officialResponse{}}
		for status, r := range o.Responses {
			op.responses[status] = &officialResponse{status: status, swagger: r}
		}
		if o.Default != nil {
			op.responses[0] = &officialResponse{swagger: o.Default}
		}
		op.validate = func(r *officialResponse, body []byte) error {
			if r.swagger.Schema == nil {
				return nil
			}
			err := r.swagger.Schema.Validate(body)
			var invalid *ValidationError
			if errors.As(err, &invalid) {
				// A Swagger pointer is inside the expanded document; the
				// file makes it one a reader can follow.
				invalid.Schema = file + "#" + invalid.Schema
			}
			return err
		}
		out = append(out, op)
	}
	return out, nil
}

// openAPI31Operations indexes an OpenAPI 3.1 document's operations; each
// response schema is compiled in JSON Schema 2020-12 the first time a
// response needs it.
func openAPI31Operations(l *loader, root map[string]any) ([]*OfficialOperation, error) {
	if err := l.checkRefs(l.rootPath); err != nil {
		return nil, err
	}
	o := &openAPI31{l: l, compiler: newCompiler2020(l, ExampleOptions{}), compiled: map[location]compiledSchema{}}
	var mu sync.Mutex // guards o: one per document
	basePath := openAPI31BasePath(root)
	rootAt := location{file: l.rootPath}
	items, _ := root["paths"].(map[string]any)
	var out []*OfficialOperation
	for _, p := range sortedKeys(items) {
		item, itemAt, err := o.deref(items[p], rootAt.child("paths", p))
		if err != nil {
			return nil, err
		}
		for _, method := range operationMethods {
			opv, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			opAt := itemAt.child(method)
			op := &OfficialOperation{Method: strings.ToUpper(method), Path: p, BasePath: basePath, File: l.displayName,
				Pointer: opAt.pointer, responses: map[int]*officialResponse{}}
			responses, _ := opv["responses"].(map[string]any)
			for _, code := range sortedKeys(responses) {
				status := 0
				if code != "default" {
					if status, err = strconv.Atoi(code); err != nil {
						continue // 2XX ranges: Matrix documents none
					}
				}
				r, rAt, err := o.deref(responses[code], opAt.child("responses", code))
				if err != nil {
					return nil, err
				}
				resp := &officialResponse{status: status}
				if content, ok := r["content"].(map[string]any); ok {
					if media, ok := content["application/json"].(map[string]any); ok && media["schema"] != nil {
						at := rAt.child("content", "application/json", "schema")
						resp.schema = &at
					}
				}
				op.responses[status] = resp
			}
			op.validate = func(r *officialResponse, body []byte) error {
				if r.schema == nil {
					return nil
				}
				if err := checkJSON(body); err != nil {
					return err
				}
				value, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
				if err != nil {
					return fmt.Errorf("decode the body: %w", err)
				}
				// The suite validates from many goroutines; the compiler
				// and its cache of compiled schemas are not safe for that.
				mu.Lock()
				defer mu.Unlock()
				return o.validate(*r.schema, value)
			}
			out = append(out, op)
		}
	}
	return out, nil
}

// openAPI31BasePath is the default of the servers' basePath variable, the
// way the Matrix documents give their prefix (e.g. /_matrix/client/v3).
func openAPI31BasePath(root map[string]any) string {
	servers, _ := root["servers"].([]any)
	for _, s := range servers {
		server, _ := s.(map[string]any)
		vars, _ := server["variables"].(map[string]any)
		bp, _ := vars["basePath"].(map[string]any)
		if d, ok := bp["default"].(string); ok {
			return d
		}
		if u, ok := server["url"].(string); ok && strings.HasPrefix(u, "/") {
			return u
		}
	}
	return ""
}
