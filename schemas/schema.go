package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-openapi/spec"
	"github.com/xeipuuv/gojsonschema"
)

// Schema is one JSON schema of a document, compiled once.
type Schema struct {
	// Pointer locates the schema in the expanded document, e.g.
	// /paths/~1presence~1{userId}~1status/get/responses/200/schema.
	Pointer string
	// Source is the schema with every $ref resolved.
	Source   *spec.Schema
	compiled *gojsonschema.Schema
}

func compileSchema(s *spec.Schema, pointer string) (*Schema, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pointer, err)
	}
	compiled, err := compileJSONSchema(raw, pointer)
	if err != nil {
		return nil, err
	}
	return &Schema{Pointer: pointer, Source: s, compiled: compiled}, nil
}

func compileJSONSchema(raw []byte, pointer string) (*gojsonschema.Schema, error) {
	sl := gojsonschema.NewSchemaLoader()
	// Swagger 2.0 schemas are a dialect of draft 4 (the seed's `type: [string,
	// "null"]` is draft-4 JSON Schema, not Swagger), so draft 4 it is.
	sl.Draft = gojsonschema.Draft4
	compiled, err := sl.Compile(gojsonschema.NewBytesLoader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: invalid schema: %w", pointer, err)
	}
	return compiled, nil
}

// Validate checks a JSON text against the schema. It returns nil, an
// *InvalidJSONError or a *ValidationError.
func (s *Schema) Validate(data []byte) error {
	if err := checkJSON(data); err != nil {
		return err
	}
	result, err := s.compiled.Validate(gojsonschema.NewBytesLoader(data))
	if err != nil {
		return fmt.Errorf("validate against %s: %w", s.Pointer, err)
	}
	if result.Valid() {
		return nil
	}
	return newValidationError(s.Pointer, result.Errors())
}

// ValidateValue checks a decoded JSON value (as encoding/json decodes into
// any) against the schema.
func (s *Schema) ValidateValue(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode value: %w", err)
	}
	return s.Validate(data)
}

// Types lists the JSON types the schema declares; empty means any.
func (s *Schema) Types() []string { return s.Source.Type }

// InvalidJSONError is a text that is not JSON, with the place it breaks.
type InvalidJSONError struct {
	Offset       int64 // index of the offending byte
	Line, Column int   // 1-based
	Err          error
}

func (e *InvalidJSONError) Error() string {
	return fmt.Sprintf("not valid JSON: line %d, column %d: %v", e.Line, e.Column, e.Err)
}

func (e *InvalidJSONError) Unwrap() error { return e.Err }

func checkJSON(data []byte) error {
	if json.Valid(data) {
		return nil
	}
	// json.Valid says only yes or no; decoding finds where and why.
	dec := json.NewDecoder(bytes.NewReader(data))
	var v any
	err := dec.Decode(&v)
	var at int64 // index of the offending byte
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		at = syntax.Offset - 1 // Offset counts the bytes read, the bad one included
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		at = int64(len(data))
		err = errors.New("unexpected end of JSON input")
	case err == nil:
		rest := data[dec.InputOffset():]
		at = dec.InputOffset() + int64(len(rest)-len(bytes.TrimLeft(rest, " \t\r\n")))
		err = errors.New("unexpected data after the JSON value")
	}
	line, col := lineColumn(data, at)
	return &InvalidJSONError{Offset: at, Line: line, Column: col, Err: err}
}

// lineColumn gives the 1-based line and column of the byte at index at.
func lineColumn(data []byte, at int64) (line, col int) {
	at = max(0, min(at, int64(len(data))))
	before := data[:at]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(at) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// Violation is one way a value breaks a schema.
type Violation struct {
	Pointer string // JSON pointer into the value; "" is the value itself
	Rule    string // the JSON Schema keyword broken: type, required, enum, ...
	Message string
	Value   any  // the value found at Pointer
	Missing bool // nothing was found at Pointer (a required property)
}

func (v Violation) String() string {
	where := v.Pointer
	if where == "" {
		where = "(root)"
	}
	found := "absent"
	if !v.Missing {
		b, err := json.Marshal(v.Value)
		if err != nil {
			b = []byte(fmt.Sprint(v.Value))
		}
		found = string(b)
	}
	return fmt.Sprintf("%s: %s: %s; found %s", where, v.Rule, v.Message, found)
}

// ValidationError lists every way a value breaks a schema.
type ValidationError struct {
	Schema     string // pointer of the schema in its document
	Violations []Violation
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	return "does not match the schema at " + e.Schema + ": " + strings.Join(parts, "; ")
}

func newValidationError(schemaPointer string, errs []gojsonschema.ResultError) *ValidationError {
	out := &ValidationError{Schema: schemaPointer}
	for _, re := range errs {
		v := Violation{
			Pointer: contextPointer(re.Context()),
			Rule:    ruleOf(re.Type()),
			Message: re.Description(),
			Value:   re.Value(),
		}
		if re.Type() == "required" {
			if prop, ok := re.Details()["property"].(string); ok {
				v.Pointer += "/" + escapePointer(prop)
				v.Missing = true
				v.Value = nil
				v.Message = fmt.Sprintf("property %q is required", prop)
			}
		}
		out.Violations = append(out.Violations, v)
	}
	return out
}

// contextPointer turns gojsonschema's "(root).a.0" into the JSON pointer
// "/a/0". The context is joined with a byte no property name holds, so names
// that contain dots survive.
func contextPointer(ctx *gojsonschema.JsonContext) string {
	if ctx == nil {
		return ""
	}
	tokens := strings.Split(ctx.String("\x00"), "\x00")
	var b strings.Builder
	for _, t := range tokens[1:] { // tokens[0] is "(root)"
		b.WriteString("/")
		b.WriteString(escapePointer(t))
	}
	return b.String()
}

// ruleOf names the JSON Schema keyword behind a gojsonschema error type.
func ruleOf(errorType string) string {
	if rule, ok := keywordOfErrorType[errorType]; ok {
		return rule
	}
	return errorType
}

var keywordOfErrorType = map[string]string{
	"invalid_type":                    "type",
	"required":                        "required",
	"enum":                            "enum",
	"const":                           "const",
	"number_any_of":                   "anyOf",
	"number_one_of":                   "oneOf",
	"number_all_of":                   "allOf",
	"number_not":                      "not",
	"array_min_items":                 "minItems",
	"array_max_items":                 "maxItems",
	"unique":                          "uniqueItems",
	"array_no_additional_items":       "additionalItems",
	"additional_property_not_allowed": "additionalProperties",
	"array_min_properties":            "minProperties",
	"array_max_properties":            "maxProperties",
	"string_gte":                      "minLength",
	"string_lte":                      "maxLength",
	"does_not_match_pattern":          "pattern",
	"format":                          "format",
	"multiple_of":                     "multipleOf",
	"number_gte":                      "minimum",
	"number_gt":                       "minimum",
	"number_lte":                      "maximum",
	"number_lt":                       "maximum",
	"missing_dependency":              "dependencies",
	"invalid_property_pattern":        "patternProperties",
	"invalid_property_name":           "propertyNames",
}
