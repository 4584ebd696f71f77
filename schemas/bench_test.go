package schemas_test

import (
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
