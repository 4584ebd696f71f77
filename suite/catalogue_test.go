package suite_test

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/suite"
)

var update = flag.Bool("update", false, "rewrite CATALOGUE.md from the code")

func TestCatalogueIsCurrent(t *testing.T) {
	var b bytes.Buffer
	if err := suite.WriteCatalogueMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("CATALOGUE.md", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkedIn, err := os.ReadFile("CATALOGUE.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(checkedIn, b.Bytes()) {
		t.Error("suite/CATALOGUE.md is not what the code declares; run: go test ./suite -run TestCatalogueIsCurrent -update")
	}
}

func TestRequirementsAreWellFormed(t *testing.T) {
	id := regexp.MustCompile(`^PRES-(STATUS-PUT|STATUS-GET|LIST-POST|LIST-GET|SYNC|EVENTS|TIME|DEVICE|GEN|FED)-\d{2}$`)
	seen := map[string]bool{}
	reqs := suite.Catalogue()
	if len(reqs) < 40 {
		t.Errorf("%d requirements; the suite promises at least 40", len(reqs))
	}
	for _, r := range reqs {
		if !id.MatchString(r.ID) {
			t.Errorf("%s: ID does not follow PRES-<ENDPOINT>-NN", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("%s: ID used twice", r.ID)
		}
		seen[r.ID] = true
		if r.Level != suite.Must && r.Level != suite.Should {
			t.Errorf("%s: level %q", r.ID, r.Level)
		}
		// The text states the requirement in its level's RFC 2119 word.
		if !strings.Contains(r.Text, string(r.Level)) {
			t.Errorf("%s: a %s requirement whose text does not say %s: %q", r.ID, r.Level, r.Level, r.Text)
		}
		if r.Basis == "" {
			t.Errorf("%s: no basis", r.ID)
		}
	}
}
