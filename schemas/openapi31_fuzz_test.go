package schemas_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mxpresence/mxpresence/schemas"
)

// FuzzCheckOpenAPI31 feeds any text as a document beside the passing
// fixtures' definition files: it must load or fail with a LoadError, never
// panic or hang.
func FuzzCheckOpenAPI31(f *testing.F) {
	seeds, _ := filepath.Glob(openapi31 + "*.yaml")
	seeds = append(seeds, openapi31+"pass/api/presence.yaml", openapi31+"pass/api/filter.json")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	defs, err := filepath.Abs(openapi31 + "pass/definitions")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		dir := t.TempDir()
		// The document's ../definitions and ../examples are the fixtures'.
		api := filepath.Join(dir, "api")
		if err := os.Mkdir(api, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(defs, filepath.Join(dir, "definitions")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(defs, "../examples"), filepath.Join(dir, "examples")); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(api, "doc.yaml")
		if err := os.WriteFile(file, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := schemas.CheckFileExamples(file, schemas.ExampleOptions{})
		var lerr *schemas.LoadError
		if err != nil && !errors.As(err, &lerr) {
			t.Errorf("an error that is no LoadError: %v", err)
		}
	})
}
