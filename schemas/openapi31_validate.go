package schemas

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// newCompiler2020 compiles the schemas of one OpenAPI 3.1 document set in
// JSON Schema 2020-12 (the dialect OpenAPI 3.1 builds on; its own keywords,
// such as discriminator and example, are annotations). Files come from the
// loader, so each is read once for the walk and the compiler alike.
func newCompiler2020(l *loader, opts ExampleOptions) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(compilerFiles{l})
	if opts.AssertFormats {
		c.AssertFormat()
		// OpenAPI's own integer formats, which JSON Schema does not define.
		c.RegisterFormat(&jsonschema.Format{Name: "int32", Validate: integerFormat(math.MinInt32, math.MaxInt32)})
		c.RegisterFormat(&jsonschema.Format{Name: "int64", Validate: integerFormat(math.MinInt64, math.MaxInt64)})
	}
	return c
}

func integerFormat(low, high float64) func(any) error {
	return func(v any) error {
		var f float64
		switch n := v.(type) {
		case int64:
			f = float64(n)
		case int:
			f = float64(n)
		case float64:
			f = n
		default:
			return nil // formats apply to their own type only
		}
		if f != math.Trunc(f) || f < low || f > high {
			return fmt.Errorf("%v is out of range", v)
		}
		return nil
	}
}

// compilerFiles serves the compiler the files the loader has parsed.
type compilerFiles struct{ l *loader }

func (f compilerFiles) Load(rawURL string) (any, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "file" {
		return nil, fmt.Errorf("only local files are read, not %s", rawURL)
	}
	return f.l.read(u.Path)
}

func schemaURL(at location) string {
	return (&url.URL{Scheme: "file", Path: at.file, Fragment: at.pointer}).String()
}

// validate checks a value against the schema at `at`, compiled once.
func (o *openAPI31) validate(at location, value any) error {
	name := o.l.name(at.file) + "#" + at.pointer
	c, ok := o.compiled[at]
	if !ok {
		c.schema, c.err = o.compiler.Compile(schemaURL(at))
		if c.err != nil {
			c.err = fmt.Errorf("%s: invalid schema: %w", name, c.err)
		}
		o.compiled[at] = c
	}
	if c.err != nil {
		return c.err
	}
	err := c.schema.Validate(value)
	var verr *jsonschema.ValidationError
	if errors.As(err, &verr) {
		return &ValidationError{Schema: name, Violations: violationsOf(verr, value)}
	}
	return err
}

var english = message.NewPrinter(language.English)

// violationsOf lists the leaves of the validator's error tree, where the
// broken keyword is, in the style gojsonschema's are listed: the pointer in
// the value, the keyword, what was wrong, and the value found.
func violationsOf(verr *jsonschema.ValidationError, value any) []Violation {
	var out []Violation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		pointer := instancePointer(e.InstanceLocation)
		if req, ok := e.ErrorKind.(*kind.Required); ok {
			for _, prop := range req.Missing {
				out = append(out, Violation{
					Pointer: pointer + "/" + escapePointer(prop), Rule: "required",
					Message: fmt.Sprintf("property %q is required", prop), Missing: true,
				})
			}
			return
		}
		v := Violation{Pointer: pointer, Value: valueAt(value, e.InstanceLocation)}
		if _, ok := e.ErrorKind.(*kind.FalseSchema); ok {
			v.Rule = falseSchemaKeyword(e.SchemaURL)
			v.Message = "not allowed here: the schema at " + v.Rule + " is false"
		} else {
			if path := e.ErrorKind.KeywordPath(); len(path) > 0 {
				v.Rule = path[len(path)-1]
			}
			// Some messages start with their keyword, which Rule already gives.
			v.Message = strings.TrimPrefix(e.ErrorKind.LocalizedString(english), v.Rule+": ")
		}
		out = append(out, v)
	}
	walk(verr)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pointer != out[j].Pointer {
			return out[i].Pointer < out[j].Pointer
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}

// falseSchemaKeyword names the keyword that holds a `false` schema:
// unevaluatedProperties, items, or the property a `properties` entry names.
func falseSchemaKeyword(schemaURL string) string {
	_, frag, _ := strings.Cut(schemaURL, "#")
	tokens := strings.Split(frag, "/")
	last := tokens[len(tokens)-1]
	if len(tokens) >= 2 {
		switch parent := tokens[len(tokens)-2]; parent {
		case "properties", "patternProperties", "prefixItems", "dependentSchemas":
			return parent + "/" + last
		}
	}
	return last
}

func instancePointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointer(t))
	}
	return b.String()
}

func valueAt(v any, tokens []string) any {
	for _, t := range tokens {
		switch node := v.(type) {
		case map[string]any:
			v = node[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(node) {
				return nil
			}
			v = node[i]
		default:
			return nil
		}
	}
	return v
}
