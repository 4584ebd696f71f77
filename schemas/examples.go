package schemas

import (
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/go-openapi/spec"
)

// Example is one example a document gives, with its verdict.
type Example struct {
	Operation string // e.g. "PUT /presence/{userId}/status"; empty for a top-level definition
	Where     string // e.g. `body "presenceState" schema example`
	// File holds the example, named as the user would name it: the
	// document, or for OpenAPI 3.1 a file one of its $refs reaches.
	File string
	// Pointer locates the example in File; for Swagger 2.0, in the expanded
	// document.
	Pointer string
	// Value is the example as written: a string holding JSON is still a
	// string, and an OpenAPI 3.1 example keeps its $refs (a Swagger 2.0 one
	// has them inlined).
	Value any
	// Schema is the schema it is checked against: file#pointer for OpenAPI
	// 3.1, the pointer in the expanded document for Swagger 2.0; empty when
	// none (or for a parameter's x-example, checked against its own fields).
	Schema string
	Note   string // what was not checked, and why; empty when fully checked
	Err    error  // nil when the example is valid
}

// Passed reports whether the example is valid.
func (e Example) Passed() bool { return e.Err == nil }

// CheckExamples checks every example the document gives against its schema:
// body and response schema `example`s at any depth, response `examples`
// for JSON media types, and `x-example`s of path, query and header
// parameters against the parameter's type and format.
//
// A string example is JSON text when its schema admits no string (the v1
// spec writes its examples that way), so it is parsed before it is checked,
// and text that is not JSON fails with the parse error and its position.
func (d *Document) CheckExamples() []Example {
	var out []Example
	for _, op := range d.Operations {
		out = append(out, op.checkExamples()...)
	}
	names := make([]string, 0, len(d.Swagger.Definitions))
	for name := range d.Swagger.Definitions {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		def := d.Swagger.Definitions[name]
		out = append(out, schemaExamples("", fmt.Sprintf("definition %q", name), "/definitions/"+escapePointer(name), &def, nil)...)
	}
	for i := range out {
		out[i].File = d.Name
	}
	return out
}

func (o *Operation) checkExamples() []Example {
	var out []Example
	for i, p := range o.Parameters {
		if p.In == "body" || p.In == "formData" {
			continue
		}
		value, ok := p.Extensions["x-example"]
		if !ok {
			continue
		}
		out = append(out, Example{
			Operation: o.String(),
			Where:     fmt.Sprintf("%s parameter %q x-example", p.In, p.Name),
			Pointer:   fmt.Sprintf("%s/parameters/%d/x-example", o.Pointer, i),
			Value:     value,
			Err:       checkParameterExample(&p, value),
		})
	}
	if o.Body != nil {
		out = append(out, schemaExamples(o.String(), fmt.Sprintf("body %q schema", o.BodyName), o.Body.Pointer, o.Body.Source, o.Body)...)
	}
	for _, status := range o.DocumentedStatuses() {
		out = append(out, o.Responses[status].checkExamples(o.String(), strconv.Itoa(status))...)
	}
	if o.Default != nil {
		out = append(out, o.Default.checkExamples(o.String(), "default")...)
	}
	return out
}

func (r *Response) checkExamples(op, status string) []Example {
	var out []Example
	mediaTypes := make([]string, 0, len(r.Examples))
	for mt := range r.Examples {
		mediaTypes = append(mediaTypes, mt)
	}
	sort.Strings(mediaTypes)
	for _, mt := range mediaTypes {
		ex := Example{
			Operation: op,
			Where:     fmt.Sprintf("response %s example (%s)", status, mt),
			Pointer:   r.Pointer + "/examples/" + escapePointer(mt),
			Value:     r.Examples[mt],
		}
		switch {
		case r.File:
			ex.Note = "not checked: the response is a file (type: file)"
		case !isJSONMediaType(mt):
			ex.Note = "not checked: not a JSON media type"
		case r.Schema == nil:
			ex.Note = "no schema: checked only that it is JSON"
			if text, ok := ex.Value.(string); ok {
				ex.Err = checkJSON([]byte(text))
			}
		default:
			ex.Schema = r.Schema.Pointer
			ex.Err = checkAgainst(r.Schema, ex.Value)
		}
		out = append(out, ex)
	}
	if r.Schema != nil {
		out = append(out, schemaExamples(op, "response "+status+" schema", r.Schema.Pointer, r.Schema.Source, r.Schema)...)
	}
	return out
}

// schemaExamples checks the `example` of s and of every schema inside it.
// compiled is s already compiled, or nil.
func schemaExamples(op, where, pointer string, s *spec.Schema, compiled *Schema) []Example {
	var out []Example
	walkSchemas(s, "", func(sub *spec.Schema, at string) {
		if sub.Example == nil {
			return
		}
		ex := Example{Operation: op, Where: where + " example", Pointer: pointer + at + "/example", Value: sub.Example}
		if at != "" {
			ex.Where = where + " example at " + at
		}
		if isFileSchema(sub) {
			ex.Note = "not checked: the schema is a file (type: file)"
			out = append(out, ex)
			return
		}
		target := compiled
		if at != "" || target == nil {
			var err error
			if target, err = compileSchema(sub, pointer+at); err != nil {
				ex.Err = err
				out = append(out, ex)
				return
			}
		}
		ex.Schema = target.Pointer
		ex.Err = checkAgainst(target, sub.Example)
		out = append(out, ex)
	})
	return out
}

// checkAgainst validates an example value, reading a string as JSON text
// when the schema admits no string.
func checkAgainst(s *Schema, value any) error {
	if text, ok := value.(string); ok && readsAsJSONText(s) {
		return s.Validate([]byte(text))
	}
	return s.ValidateValue(value)
}

func readsAsJSONText(s *Schema) bool {
	types := s.Types()
	return len(types) > 0 && !slices.Contains(types, "string")
}

func isJSONMediaType(mt string) bool {
	base, _, err := mime.ParseMediaType(mt)
	if err != nil {
		return false
	}
	return base == "application/json" || strings.HasSuffix(base, "+json")
}

// walkSchemas calls fn for s and each schema nested in it, depth first, with
// the JSON pointer of each relative to s.
func walkSchemas(s *spec.Schema, at string, fn func(*spec.Schema, string)) {
	if s == nil {
		return
	}
	fn(s, at)
	each := func(key string, list []spec.Schema) {
		for i := range list {
			walkSchemas(&list[i], at+"/"+key+"/"+strconv.Itoa(i), fn)
		}
	}
	eachNamed := func(key string, m map[string]spec.Schema) {
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			child := m[n]
			walkSchemas(&child, at+"/"+key+"/"+escapePointer(n), fn)
		}
	}
	eachNamed("properties", s.Properties)
	eachNamed("patternProperties", s.PatternProperties)
	eachNamed("definitions", s.Definitions)
	if s.Items != nil {
		walkSchemas(s.Items.Schema, at+"/items", fn)
		each("items", s.Items.Schemas)
	}
	each("allOf", s.AllOf)
	each("anyOf", s.AnyOf)
	each("oneOf", s.OneOf)
	walkSchemas(s.Not, at+"/not", fn)
	if s.AdditionalProperties != nil {
		walkSchemas(s.AdditionalProperties.Schema, at+"/additionalProperties", fn)
	}
	if s.AdditionalItems != nil {
		walkSchemas(s.AdditionalItems.Schema, at+"/additionalItems", fn)
	}
}

// checkParameterExample checks a path, query or header parameter's
// x-example. Such values travel as text, so an example written as a string
// for a numeric or boolean parameter is parsed as the server would parse it.
func checkParameterExample(p *spec.Parameter, value any) error {
	raw, err := json.Marshal(struct {
		spec.CommonValidations
		spec.SimpleSchema
	}{p.CommonValidations, p.SimpleSchema})
	if err != nil {
		return err
	}
	pointer := "parameter " + p.Name
	compiled, err := compileJSONSchema(raw, pointer)
	if err != nil {
		return err
	}
	s := &Schema{Pointer: pointer, compiled: compiled}
	if text, ok := value.(string); ok {
		switch p.Type {
		case "integer", "number":
			n, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return &ValidationError{Schema: pointer, Violations: []Violation{{Rule: "type", Message: "the text does not parse as " + p.Type, Value: text}}}
			}
			value = n
		case "boolean":
			b, err := strconv.ParseBool(text)
			if err != nil {
				return &ValidationError{Schema: pointer, Violations: []Violation{{Rule: "type", Message: "the text does not parse as boolean", Value: text}}}
			}
			value = b
		}
	}
	if err := s.ValidateValue(value); err != nil {
		return err
	}
	return checkIntegerFormat(pointer, p.Format, value)
}

// checkIntegerFormat checks the Swagger formats JSON Schema does not know.
func checkIntegerFormat(pointer, format string, value any) error {
	limit := map[string]float64{"int32": math.MaxInt32, "int64": math.MaxInt64}[format]
	n, isNumber := value.(float64)
	if limit == 0 || !isNumber {
		return nil
	}
	if n != math.Trunc(n) || n > limit || n < -limit-1 {
		return &ValidationError{Schema: pointer, Violations: []Violation{{Rule: "format", Message: "not an " + format, Value: value}}}
	}
	return nil
}
