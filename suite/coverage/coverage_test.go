package coverage

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/mxpresence/mxpresence/suite"
)

var update = flag.Bool("update", false, "rewrite suite/COVERAGE.md")

const coverageDoc = "../COVERAGE.md"

// specRoot finds the spec reference data: $MXPRESENCE_SPEC_DIR, or
// ../shared/spec beside the clone (or beside the folder of worktrees).
func specRoot(t *testing.T) string {
	candidates := []string{os.Getenv("MXPRESENCE_SPEC_DIR"), "../../../shared/spec", "../../../../shared/spec"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, Sources[0].Path)); err == nil {
			return c
		}
	}
	t.Skipf("spec reference data not found (../shared/spec beside the clone, or $MXPRESENCE_SPEC_DIR): the coverage table cannot be checked against it")
	return ""
}

// The table is generated, and fails when stale; every sentence of the
// sources has a trace and every trace a sentence, both ways.
func TestCoverageIsCurrent(t *testing.T) {
	sentences, err := Extract(specRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range suite.Catalogue() {
		known[r.ID] = true
	}
	for _, p := range Problems(sentences, known) {
		t.Error(p)
	}
	table := Table(sentences)
	if *update {
		if err := os.WriteFile(coverageDoc, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	doc, err := os.ReadFile(coverageDoc)
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != table {
		t.Errorf("suite/COVERAGE.md is stale; run: go test ./suite/coverage -run TestCoverageIsCurrent -update")
	}
}

// The check fails both ways: a sentence the traces lack, and a trace no
// sentence matches.
func TestProblemsCatchDriftBothWays(t *testing.T) {
	known := map[string]bool{}
	for _, r := range suite.Catalogue() {
		known[r.ID] = true
	}
	var all []Sentence
	for _, tr := range traces {
		all = append(all, Sentence{File: "f", Text: tr.Sentence})
	}
	if p := Problems(all, known); len(p) != 0 {
		t.Fatalf("the traces against their own sentences: %v", p)
	}
	added := append(append([]Sentence(nil), all...), Sentence{File: "f", Text: "The server MUST do something new."})
	if p := Problems(added, known); len(p) != 1 {
		t.Errorf("a new sentence: %v", p)
	}
	if p := Problems(all[1:], known); len(p) != 1 {
		t.Errorf("a sentence gone: %v", p)
	}
}

func TestSentencesSplitAtSentenceEnds(t *testing.T) {
	got := sentences("The server may include it (e.g. \"in a meeting\"). Clients MUST NOT. See `x`.")
	want := []string{"The server may include it (e.g. \"in a meeting\").", "Clients MUST NOT.", "See `x`."}
	if len(got) != len(want) {
		t.Fatalf("%q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %q, want %q", i, got[i], want[i])
		}
	}
}
