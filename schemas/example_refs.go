package schemas

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// The Matrix spec writes many examples by reference: an example value
// holding {"$ref": "../../event-schemas/examples/m.presence.yaml"} stands for
// that file's content, and keys beside the $ref are laid over it (the spec's
// build and its own checker inline them so). Both formats follow that
// convention here, before any example is checked.

// inlineExampleRefs returns a copy of value, written at pointer `at` of the
// file holder, with every object holding a string "$ref" replaced by what the
// reference names (relative to the file that holds the $ref), the object's
// other keys laid over it. A reference that does not resolve is a
// *LoadError naming the file and the pointer of the $ref.
func (l *loader) inlineExampleRefs(value any, holder, at string) (any, error) {
	return l.inlineRefs(value, location{file: holder, pointer: at}, nil)
}

// inlineRefs does the work of inlineExampleRefs; chain holds the targets
// being inlined, to refuse a cycle rather than recurse forever.
func (l *loader) inlineRefs(value any, at location, chain []location) (any, error) {
	switch node := value.(type) {
	case map[string]any:
		out := make(map[string]any, len(node))
		ref, hasRef := node["$ref"].(string)
		if hasRef {
			refAt := at.pointer + "/$ref"
			target, where, err := l.resolveTo(ref, at.file, refAt)
			if err != nil {
				return nil, err
			}
			if slices.Contains(chain, where) {
				return nil, &LoadError{File: l.name(at.file), Pointer: refAt, Err: fmt.Errorf("$ref %q: the example refers back to itself", ref)}
			}
			inlined, err := l.inlineRefs(target, where, append(chain, where))
			if err != nil {
				return nil, err
			}
			if len(node) == 1 {
				return inlined, nil
			}
			base, ok := inlined.(map[string]any)
			if !ok {
				return nil, &LoadError{File: l.name(at.file), Pointer: refAt, Err: fmt.Errorf("$ref %q: keys beside it need an object to lay them over, and it names %s", ref, aJSONType(inlined))}
			}
			for k, v := range base {
				out[k] = v
			}
		}
		for k, child := range node {
			if k == "$ref" && hasRef {
				continue
			}
			v, err := l.inlineRefs(child, location{at.file, at.pointer + "/" + escapePointer(k)}, chain)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case []any:
		out := make([]any, len(node))
		for i, child := range node {
			v, err := l.inlineRefs(child, location{at.file, at.pointer + "/" + strconv.Itoa(i)}, chain)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return value, nil
}

// aJSONType names the JSON type of v, with its article: "an object".
func aJSONType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// inlineSwaggerExampleRefs applies the convention to every example site of a
// Swagger 2.0 document as written: response examples, parameter x-examples
// and the example of every schema, in the root document and in each schema
// file its $refs reach. It runs on the files as written so that a $ref
// resolves relative to the file that holds it.
func (l *loader) inlineSwaggerExampleRefs(root map[string]any) error {
	rootFile := l.rootPath
	inlineAt := func(m map[string]any, key, at string, file string) error {
		v, ok := m[key]
		if !ok {
			return nil
		}
		inlined, err := l.inlineExampleRefs(v, file, at+"/"+escapePointer(key))
		if err != nil {
			return err
		}
		m[key] = inlined
		return nil
	}
	var schema func(v any, at, file string) error
	schema = func(v any, at, file string) error {
		node, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if err := inlineAt(node, "example", at, file); err != nil {
			return err
		}
		var err error
		eachSubschema(node, at, func(child any, childAt string) {
			if err == nil {
				err = schema(child, childAt, file)
			}
		})
		return err
	}
	parameter := func(v any, at string) error {
		p, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if err := inlineAt(p, "x-example", at, rootFile); err != nil {
			return err
		}
		return schema(p["schema"], at+"/schema", rootFile)
	}
	parameters := func(v any, at string) error {
		list, _ := v.([]any)
		for i, p := range list {
			if err := parameter(p, at+"/"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
		return nil
	}
	response := func(v any, at string) error {
		r, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if examples, ok := r["examples"].(map[string]any); ok {
			for _, mt := range sortedKeys(examples) {
				if err := inlineAt(examples, mt, at+"/examples", rootFile); err != nil {
					return err
				}
			}
		}
		return schema(r["schema"], at+"/schema", rootFile)
	}
	eachNamed := func(v any, at string, fn func(v any, at string) error) error {
		m, _ := v.(map[string]any)
		for _, k := range sortedKeys(m) {
			if err := fn(m[k], at+"/"+escapePointer(k)); err != nil {
				return err
			}
		}
		return nil
	}

	if err := eachNamed(root["definitions"], "/definitions", func(v any, at string) error { return schema(v, at, rootFile) }); err != nil {
		return err
	}
	if err := eachNamed(root["parameters"], "/parameters", parameter); err != nil {
		return err
	}
	if err := eachNamed(root["responses"], "/responses", response); err != nil {
		return err
	}
	err := eachNamed(root["paths"], "/paths", func(item any, at string) error {
		return eachNamed(item, at, func(v any, opAt string) error {
			if opAt == at+"/parameters" {
				return parameters(v, opAt)
			}
			op, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			if err := parameters(op["parameters"], opAt+"/parameters"); err != nil {
				return err
			}
			return eachNamed(op["responses"], opAt+"/responses", response)
		})
	})
	if err != nil {
		return err
	}
	for _, file := range l.schemaFiles {
		if err := schema(l.files[file], "", file); err != nil {
			return err
		}
	}
	return nil
}

// eachSubschema calls fn for each schema directly inside a JSON Schema
// object (draft 4 to 2020-12), with its pointer, in a stable order. Values
// of example, enum, const and default are data and never visited.
func eachSubschema(node map[string]any, at string, fn func(child any, at string)) {
	for _, key := range singleSubschemaKeys {
		if child, ok := node[key]; ok {
			if list, isList := child.([]any); isList && key == "items" {
				for i, c := range list { // items as a list: draft 4 to 2019-09
					fn(c, at+"/items/"+strconv.Itoa(i))
				}
				continue
			}
			fn(child, at+"/"+key)
		}
	}
	for _, key := range subschemaListKeys {
		list, _ := node[key].([]any)
		for i, c := range list {
			fn(c, at+"/"+key+"/"+strconv.Itoa(i))
		}
	}
	for _, key := range subschemaMapKeys {
		m, _ := node[key].(map[string]any)
		for _, name := range sortedKeys(m) {
			if _, isSchema := m[name].(map[string]any); isSchema || key != "dependencies" {
				fn(m[name], at+"/"+key+"/"+escapePointer(name))
			}
		}
	}
}

var (
	singleSubschemaKeys = []string{"items", "additionalItems", "additionalProperties", "not",
		"if", "then", "else", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema"}
	subschemaListKeys = []string{"allOf", "anyOf", "oneOf", "prefixItems"}
	subschemaMapKeys  = []string{"properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"}
)

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
