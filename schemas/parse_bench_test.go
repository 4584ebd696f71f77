package schemas

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// specYAMLFiles are the v1.19 client-server documents and definitions, or
// the OpenAPI 3.1 fixtures when the spec data is absent.
func specYAMLFiles(tb testing.TB) [][]byte {
	tb.Helper()
	files, _ := filepath.Glob("../../shared/spec/v3/v1.19/data/api/client-server/*.yaml")
	defs, _ := filepath.Glob("../../shared/spec/v3/v1.19/data/api/client-server/definitions/*.yaml")
	files = append(files, defs...)
	if len(files) == 0 {
		files, _ = filepath.Glob("../fixtures/examples/openapi31/*.yaml")
	}
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// The OpenAPI 3.1 reader and the Swagger 2.0 one read the same values, but
// for integers, which the former keeps as int64.
func TestParseYAMLNodesReadsWhatParseYAMLReads(t *testing.T) {
	for _, data := range specYAMLFiles(t) {
		viaNodes, err := parseYAMLNodes(data)
		if err != nil {
			t.Fatal(err)
		}
		viaJSON, err := parseYAML(data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(numbersAsFloat(viaNodes), viaJSON) {
			t.Errorf("the two readers disagree on:\n%s", data)
		}
	}
}

func numbersAsFloat(v any) any {
	switch node := v.(type) {
	case map[string]any:
		for k, c := range node {
			node[k] = numbersAsFloat(c)
		}
	case []any:
		for i, c := range node {
			node[i] = numbersAsFloat(c)
		}
	case int64:
		return float64(node)
	}
	return v
}

// BenchmarkParseYAML compares the two readers over the same files: the
// figures chose parseYAMLNodes for OpenAPI 3.1.
func BenchmarkParseYAML(b *testing.B) {
	files := specYAMLFiles(b)
	for _, reader := range []struct {
		name  string
		parse func([]byte) (any, error)
	}{{"nodes", parseYAMLNodes}, {"via-json", parseYAML}} {
		b.Run(reader.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, data := range files {
					if _, err := reader.parse(data); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N*len(files)), "ms/file")
		})
	}
}
