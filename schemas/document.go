package schemas

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"

	"github.com/go-openapi/spec"
)

// Document is a loaded Swagger 2.0 document: every $ref resolved, every
// schema compiled, its operations indexed by method and path template.
type Document struct {
	Name       string // the file as the caller named it
	Title      string
	BasePath   string
	Swagger    *spec.Swagger // expanded: no $ref remains
	Operations []*Operation  // by path, then method in methodOrder
}

// Operation is one method on one path template, with its schemas compiled.
type Operation struct {
	Method  string // upper case, as in HTTP
	Path    string // template relative to BasePath, e.g. /presence/{userId}/status
	ID      string // operationId, when the document gives one
	Pointer string // JSON pointer of the operation in the document
	// Parameters are the path item's and the operation's, the latter
	// overriding the former by name and location.
	Parameters []spec.Parameter
	// Body is the body parameter's schema; nil when the operation takes none.
	Body *Schema
	// BodyName is the body parameter's name, e.g. presenceState.
	BodyName string
	// Responses holds a response per documented status code; Default is the
	// `default` response, or nil.
	Responses map[int]*Response
	Default   *Response
	// Security is the operation's requirement, or the document's when the
	// operation states none.
	Security []map[string][]string
}

// Response is one documented response of an operation.
type Response struct {
	Status   int // 0 for the default response
	Pointer  string
	Schema   *Schema        // nil when the document gives no schema or a file
	Examples map[string]any // by media type, as written
	// File says the schema is Swagger's `type: file`, a download: no JSON
	// Schema describes it, so any body is accepted and no example checked.
	File bool
	// OwnRule, when set, says the response is mxpresence's own rule and
	// why (OwnRuleKey): the spec documents no such status, or no body for
	// it. A breach of it is an *OwnRuleError.
	OwnRule string
}

// methodOrder is how operations are listed: reads before writes, as a
// reader of the API meets them.
var methodOrder = []string{"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"}

func newDocument(name string, sw *spec.Swagger) (*Document, error) {
	doc := &Document{Name: name, BasePath: sw.BasePath, Swagger: sw}
	if sw.Info != nil {
		doc.Title = sw.Info.Title
	}
	if sw.Paths == nil {
		return doc, nil
	}
	paths := make([]string, 0, len(sw.Paths.Paths))
	for p := range sw.Paths.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		item := sw.Paths.Paths[p]
		for _, method := range methodOrder {
			op := operationOf(&item, method)
			if op == nil {
				continue
			}
			o, err := newOperation(sw, p, method, &item, op)
			if err != nil {
				return nil, &LoadError{File: name, Err: err}
			}
			doc.Operations = append(doc.Operations, o)
		}
	}
	return doc, nil
}

func operationOf(item *spec.PathItem, method string) *spec.Operation {
	switch method {
	case "GET":
		return item.Get
	case "PUT":
		return item.Put
	case "POST":
		return item.Post
	case "DELETE":
		return item.Delete
	case "PATCH":
		return item.Patch
	case "HEAD":
		return item.Head
	case "OPTIONS":
		return item.Options
	}
	return nil
}

func newOperation(sw *spec.Swagger, path, method string, item *spec.PathItem, op *spec.Operation) (*Operation, error) {
	o := &Operation{
		Method:    method,
		Path:      path,
		ID:        op.ID,
		Pointer:   "/paths/" + escapePointer(path) + "/" + lower(method),
		Responses: map[int]*Response{},
		Security:  op.Security,
	}
	if o.Security == nil {
		o.Security = sw.Security
	}
	o.Parameters = mergeParameters(item.Parameters, op.Parameters)
	for i, p := range op.Parameters {
		if p.In != "body" || p.Schema == nil {
			continue
		}
		body, err := compileSchema(p.Schema, o.Pointer+"/parameters/"+strconv.Itoa(i)+"/schema")
		if err != nil {
			return nil, err
		}
		o.Body, o.BodyName = body, p.Name
	}
	if op.Responses == nil {
		return o, nil
	}
	for status, r := range op.Responses.StatusCodeResponses {
		resp, err := newResponse(status, o.Pointer+"/responses/"+strconv.Itoa(status), &r)
		if err != nil {
			return nil, err
		}
		o.Responses[status] = resp
	}
	if r := op.Responses.Default; r != nil {
		resp, err := newResponse(0, o.Pointer+"/responses/default", r)
		if err != nil {
			return nil, err
		}
		o.Default = resp
	}
	return o, nil
}

func newResponse(status int, pointer string, r *spec.Response) (*Response, error) {
	resp := &Response{Status: status, Pointer: pointer, Examples: r.Examples}
	resp.OwnRule, _ = r.Extensions.GetString(OwnRuleKey)
	if r.Schema != nil && isFileSchema(r.Schema) {
		resp.File = true
		return resp, nil
	}
	if r.Schema != nil {
		s, err := compileSchema(r.Schema, pointer+"/schema")
		if err != nil {
			return nil, err
		}
		resp.Schema = s
	}
	return resp, nil
}

// isFileSchema tells Swagger's `type: file`, which gojsonschema cannot compile.
func isFileSchema(s *spec.Schema) bool { return s.Type.Contains("file") }

func mergeParameters(pathLevel, opLevel []spec.Parameter) []spec.Parameter {
	out := slices.Clone(opLevel)
	for _, p := range pathLevel {
		overridden := slices.ContainsFunc(opLevel, func(q spec.Parameter) bool { return q.Name == p.Name && q.In == p.In })
		if !overridden {
			out = append(out, p)
		}
	}
	return out
}

func lower(method string) string {
	b := []byte(method)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Operation returns the operation for a method and path template, or nil.
func (d *Document) Operation(method, pathTemplate string) *Operation {
	for _, o := range d.Operations {
		if o.Method == method && o.Path == pathTemplate {
			return o
		}
	}
	return nil
}

func (o *Operation) String() string { return o.Method + " " + o.Path }

// RequiresToken reports whether the operation declares a security requirement.
func (o *Operation) RequiresToken() bool { return len(o.Security) > 0 }

// DocumentedStatuses lists the status codes the operation documents, ascending.
func (o *Operation) DocumentedStatuses() []int {
	codes := make([]int, 0, len(o.Responses))
	for c := range o.Responses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	return codes
}

// UndocumentedStatusError is a response status the operation does not document.
type UndocumentedStatusError struct {
	Operation  string
	Status     int
	Documented []int
}

func (e *UndocumentedStatusError) Error() string {
	return fmt.Sprintf("%s does not document status %d (%s); it documents %v",
		e.Operation, e.Status, http.StatusText(e.Status), e.Documented)
}

// ValidateResponse checks a response body against the schema the operation
// documents for its status. A documented status without a schema accepts any
// body; a status the operation does not document, with no default response,
// is an *UndocumentedStatusError.
func (o *Operation) ValidateResponse(status int, body []byte) error {
	r, ok := o.Responses[status]
	if !ok {
		r = o.Default
	}
	if r == nil {
		return &UndocumentedStatusError{Operation: o.String(), Status: status, Documented: o.DocumentedStatuses()}
	}
	if r.Schema == nil {
		return nil
	}
	err := r.Schema.Validate(body)
	if err != nil && r.OwnRule != "" {
		return &OwnRuleError{Operation: o.String(), Status: status, Reason: r.OwnRule, Err: err}
	}
	return err
}

// OwnRuleError is a breach of a response schema that is mxpresence's own
// rule, not the spec's (see OwnRuleKey): reports label it so.
type OwnRuleError struct {
	Operation string
	Status    int
	Reason    string // why mxpresence checks it
	Err       error  // the breach: a *ValidationError or an *InvalidJSONError
}

func (e *OwnRuleError) Error() string {
	return fmt.Sprintf("mxpresence's own rule for %s %d (%s): %v", e.Operation, e.Status, e.Reason, e.Err)
}

func (e *OwnRuleError) Unwrap() error { return e.Err }

// BreachLabel says whose rule a response breach breaks: the spec's schema,
// or mxpresence's own rule.
func BreachLabel(err error) string {
	var own *OwnRuleError
	if errors.As(err, &own) {
		return "mxpresence's own rule (not the spec's schema: " + own.Reason + ")"
	}
	return "the spec's schema"
}
