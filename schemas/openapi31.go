package schemas

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ExampleOptions say how CheckFileExamples judges an example.
type ExampleOptions struct {
	// AssertFormats makes `format` an assertion in OpenAPI 3.1 schemas;
	// JSON Schema 2020-12 makes it an annotation. Swagger 2.0 documents are
	// draft 4, where gojsonschema always asserts the formats it knows.
	AssertFormats bool
}

// readDocument reads a document from disk, with a loader for the files its
// $refs reach; rootMap is nil when its top level is not an object.
func readDocument(file string) (l *loader, rootMap map[string]any, err error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, nil, &LoadError{File: file, Err: err}
	}
	l = newLoader(os.DirFS("/"), filepath.ToSlash(abs), file, parseYAMLNodes)
	root, err := l.read(l.rootPath)
	if err != nil {
		return nil, nil, err
	}
	rootMap, _ = root.(map[string]any)
	return l, rootMap, nil
}

// CheckFileExamples loads a Swagger 2.0 or an OpenAPI 3.1 document, with
// every file its $refs reach, and checks each example it gives against the
// schema the example illustrates. A document that cannot be loaded (a file
// or a $ref that is missing, also a $ref inside an example) is a
// *LoadError.
//
// OpenAPI 3.1 examples are checked in JSON Schema 2020-12, each (example,
// schema) pair once, and reported in the file and at the pointer where the
// example is written; see checkOpenAPI31 for the sites.
func CheckFileExamples(file string, opts ExampleOptions) ([]Example, error) {
	l, rootMap, err := readDocument(file)
	if err != nil {
		return nil, err
	}
	openapi, isOpenAPI := rootMap["openapi"].(string)
	switch {
	case rootMap == nil:
		return nil, &LoadError{File: file, Err: errors.New("not an API document: the top level is not an object")}
	case isOpenAPI && strings.HasPrefix(openapi, "3.1."):
		return checkOpenAPI31(l, rootMap, opts)
	case isOpenAPI:
		return nil, &LoadError{File: file, Err: fmt.Errorf("an OpenAPI %s document; mxpresence reads Swagger 2.0 and OpenAPI 3.1", openapi)}
	case rootMap["openapi"] != nil: // YAML reads an unquoted 3.1 as a number
		return nil, &LoadError{File: file, Err: fmt.Errorf(`"openapi" must be a version string such as "3.1.0", not %v`, rootMap["openapi"])}
	case rootMap["swagger"] != nil:
		doc, err := Load(file)
		if err != nil {
			return nil, err
		}
		return doc.CheckExamples(), nil
	}
	return nil, &LoadError{File: file, Err: errors.New(`not an API document: neither "swagger: 2.0" nor "openapi: 3.1.x"`)}
}

// parseYAMLNodes reads YAML (and so JSON) straight into the values
// encoding/json would give, but keeps integers as int64, so an example's
// 2478593 stays an integer. It is the OpenAPI 3.1 reader: walking yaml.v3's
// nodes skips parseYAML's round trip through JSON text (BenchmarkParseYAML:
// a little faster, a third fewer allocations).
func parseYAMLNodes(data []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if doc.Kind == 0 {
		return nil, nil // an empty file
	}
	// An alias is expanded wherever it is used; the budget stops a file of
	// aliases of aliases (the "billion laughs") from expanding without end.
	r := &nodeReader{budget: maxYAMLValues}
	v, err := r.value(&doc)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	return v, nil
}

// maxYAMLValues bounds the values one file expands to: the largest Matrix
// spec file holds a few thousand.
const maxYAMLValues = 1_000_000

type nodeReader struct{ budget int }

func (r *nodeReader) value(n *yaml.Node) (any, error) {
	r.budget--
	if r.budget < 0 {
		return nil, fmt.Errorf("more than %d values once its aliases are expanded", maxYAMLValues)
	}
	return r.nodeValue(n)
}

func (r *nodeReader) nodeValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return r.value(n.Content[0])
	case yaml.AliasNode:
		return r.value(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := r.value(c)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			if key.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a mapping key that is not a scalar", key.Line)
			}
			v, err := r.value(value)
			if err != nil {
				return nil, err
			}
			if key.ShortTag() == "!!merge" {
				merged, ok := v.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("line %d: a merge key needs a mapping", key.Line)
				}
				for k, mv := range merged {
					if _, set := out[k]; !set {
						out[k] = mv
					}
				}
				continue
			}
			out[key.Value] = v
		}
		return out, nil
	case yaml.ScalarNode:
		return scalarValue(n)
	}
	return nil, fmt.Errorf("line %d: unknown YAML node", n.Line)
}

func scalarValue(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return i, nil
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f, nil
		}
	case "!!bool":
	default: // strings, and timestamps and binary, which JSON holds as text
		return n.Value, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("line %d: %w", n.Line, err)
	}
	return v, nil
}
