package schemas_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mxpresence/mxpresence/schemas"
)

// BenchmarkLoadSeed measures what `mxpresence examples` pays per document
// before checking anything: parse, resolve every $ref, compile every schema.
func BenchmarkLoadSeed(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schemas.LoadSeed(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckSeedExamples(b *testing.B) {
	doc := mustLoadSeed(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, ex := range doc.CheckExamples() {
			if !ex.Passed() {
				b.Fatal(ex.Err)
			}
		}
	}
}

// BenchmarkLoadAndCheckSeed is the whole cost of one document; fifty of
// them is a spec directory.
func BenchmarkLoadAndCheckSeed(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		doc, err := schemas.LoadSeed()
		if err != nil {
			b.Fatal(err)
		}
		doc.CheckExamples()
	}
}

func BenchmarkValidateStatusResponse(b *testing.B) {
	op := mustLoadSeed(b).Operation("GET", "/presence/{userId}/status")
	body := []byte(`{"presence":"online","last_active_ago":1200,"status_msg":"hello"}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := op.ValidateResponse(200, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckOpenAPI31 is `mxpresence examples` over the OpenAPI 3.1
// client-server documents of Matrix v1.19 (the passing fixtures when the
// spec data is absent): load, resolve every $ref across files, compile and
// check every example. One op is the whole folder; ms/doc (wall time) is
// the goal's unit.
func BenchmarkCheckOpenAPI31(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(sharedSpec, "v3/v1.19/data/api/client-server/*.yaml"))
	if len(files) == 0 {
		files = []string{openapi31 + "pass/api/presence.yaml", openapi31 + "pass/api/filter.json"}
	}
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		for _, f := range files {
			if _, err := schemas.CheckFileExamples(f, schemas.ExampleOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	docs := float64(b.N * len(files))
	b.ReportMetric(b.Elapsed().Seconds()*1000/docs, "ms/doc")
	// CPU time, garbage collection on every core included: what the goal
	// costs, whatever else the machine is doing.
	b.ReportMetric((processCPU()-cpu).Seconds()*1000/docs, "cpu-ms/doc")
	b.ReportMetric(float64(len(files)), "docs")
}

// BenchmarkCheckSwaggerSync is the same for the Swagger 2.0 sync.yaml of
// Matrix v1.1, whose events are written by $ref.
func BenchmarkCheckSwaggerSync(b *testing.B) {
	file := filepath.Join(sharedSpec, "v3/v1.1/data/api/client-server/sync.yaml")
	if _, err := os.Stat(file); err != nil {
		file = fixtures + "example-ref.yaml"
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schemas.CheckFileExamples(file, schemas.ExampleOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
