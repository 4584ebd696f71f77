package schemas

import "strings"

// The Matrix spec files write `$ref` beside other keywords to mean "this, and
// also that": rate_limited.yaml is error.yaml plus retry_after_ms. JSON Schema
// draft 4 ignores a $ref's siblings and so does go-openapi's expander, which
// would silently drop the extension. normaliseSchemaRefs states the authors'
// intent in a form both understand: {"allOf": [{"$ref": ...}], <siblings>}.

// normaliseSchemaRefs rewrites every $ref-with-siblings inside v, which must
// be a schema or a file of schemas.
func normaliseSchemaRefs(v any) any {
	switch node := v.(type) {
	case map[string]any:
		for k, child := range node {
			if !isLiteralValue(k) {
				node[k] = normaliseSchemaRefs(child)
			}
		}
		ref, hasRef := node["$ref"]
		if !hasRef || len(node) == 1 {
			return node
		}
		delete(node, "$ref")
		allOf, _ := node["allOf"].([]any)
		node["allOf"] = append([]any{map[string]any{"$ref": ref}}, allOf...)
		return node
	case []any:
		for i, child := range node {
			node[i] = normaliseSchemaRefs(child)
		}
	}
	return v
}

// normaliseSwaggerRefs applies normaliseSchemaRefs to the schemas of a Swagger
// document and nowhere else: elsewhere a $ref names a parameter, response or
// path item, and its siblings are not schema keywords.
func normaliseSwaggerRefs(doc any) {
	root, ok := doc.(map[string]any)
	if !ok {
		return
	}
	eachObject(root["definitions"], func(m map[string]any, k string) { m[k] = normaliseSchemaRefs(m[k]) })
	normaliseParameters(root["parameters"])
	normaliseResponses(root["responses"])
	eachObject(root["paths"], func(paths map[string]any, p string) {
		eachObject(paths[p], func(item map[string]any, key string) {
			if key == "parameters" {
				normaliseParameters(item[key])
				return
			}
			op, ok := item[key].(map[string]any)
			if !ok {
				return
			}
			normaliseParameters(op["parameters"])
			normaliseResponses(op["responses"])
		})
	})
}

func normaliseParameters(params any) {
	each := func(p any) {
		if param, ok := p.(map[string]any); ok {
			if s, ok := param["schema"]; ok {
				param["schema"] = normaliseSchemaRefs(s)
			}
		}
	}
	switch ps := params.(type) {
	case []any: // an operation's list
		for _, p := range ps {
			each(p)
		}
	case map[string]any: // the document's named parameters
		for _, p := range ps {
			each(p)
		}
	}
}

func normaliseResponses(responses any) {
	eachObject(responses, func(m map[string]any, code string) {
		if resp, ok := m[code].(map[string]any); ok {
			if s, ok := resp["schema"]; ok {
				resp["schema"] = normaliseSchemaRefs(s)
			}
		}
	})
}

func eachObject(v any, fn func(m map[string]any, key string)) {
	if m, ok := v.(map[string]any); ok {
		for k := range m {
			fn(m, k)
		}
	}
}

// isLiteralValue tells the keys whose values are data, not schema: a "$ref"
// inside them is text (the Matrix event examples use one of their own).
func isLiteralValue(key string) bool {
	switch key {
	case "example", "examples", "default", "enum":
		return true
	}
	return strings.HasPrefix(key, "x-")
}
