package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedSpecTree is a spec checkout beside the clone (../shared/spec); the
// test skips, saying so, only when that data is absent.
func sharedSpecTree(t *testing.T, tree string) string {
	t.Helper()
	dir := filepath.Join("../../../shared/spec", tree)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("spec reference data not present at %s (../shared/spec beside the clone)", dir)
	}
	return dir
}

// With --spec the mock passes against the official documents, the report
// names them, and a body the official schema refuses fails, naming the
// official file as the spec's schema.
func TestSpecFlagValidatesAgainstTheOfficialDocuments(t *testing.T) {
	for _, c := range []struct{ api, tree, file string }{
		{"v3", "v3/v1.19", "data/api/client-server/presence.yaml"},
		{"r0", "r0/r0.6.1", "api/client-server/presence.yaml"},
	} {
		t.Run(c.api, func(t *testing.T) {
			specDir := sharedSpecTree(t, c.tree)
			jsonPath := filepath.Join(t.TempDir(), "report.json")
			code, out, errOut := mxpresence(t, "test", "--no-color", "--api", c.api, "--spec", specDir, "--json", jsonPath, "--focus", "PRES-STATUS-GET")
			if code != 0 {
				t.Fatalf("exit %d against the mock\n%s\n%s", code, out, errOut)
			}
			if r := readReport(t, jsonPath); !strings.Contains(r.Schemas, "spec's own documents in "+specDir) {
				t.Errorf("the JSON report names %q as the documents, want %s", r.Schemas, specDir)
			}
			if !strings.Contains(out, "Responses validated against the spec's own documents in "+specDir) {
				t.Errorf("the summary does not name the documents:\n%s", out)
			}

			code, out, errOut = mxpresence(t, "test", "--no-color", "--api", c.api, "--spec", specDir, "--focus", "PRES-STATUS-GET-01", "--mock-fault", "presence-busy")
			if code != 1 {
				t.Fatalf("exit %d with presence-busy, want 1\n%s\n%s", code, out, errOut)
			}
			official := filepath.Join(specDir, filepath.FromSlash(c.file))
			if !strings.Contains(out, "breaks the spec's schema in "+official) {
				t.Errorf("the failure does not name %s as the spec's schema:\n%s", official, out)
			}
		})
	}
}

func TestSpecFlagRefusesWhatItCannotUse(t *testing.T) {
	v119 := sharedSpecTree(t, "v3/v1.19")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no documents", []string{"--api", "v3", "--spec", t.TempDir()}, "no data/api/client-server"},
		{"another version's documents", []string{"--api", "r0", "--spec", v119}, "not /_matrix/client/r0 (the r0 API)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := mxpresence(t, append([]string{"test", "--no-color"}, c.args...)...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, want 2 with %q\n%s\n%s", code, c.want, out, errOut)
			}
		})
	}
}
