package mockserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Whether each fault is caught is the suite's business (cmd/mxpresence
// runs it against every one); here, the catalogue of deviations is sound.
func TestDeviationsAreDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range append(Faults(), Variations()...) {
		switch {
		case seen[d.Name]:
			t.Errorf("%s: name used twice", d.Name)
		case d.Description == "" || d.wrap == nil && d.federate == nil:
			t.Errorf("%s: no description or no behaviour", d.Name)
		case d.Kind == Fault && (len(d.CaughtBy) == 0 && !d.Transient || d.Category == ""):
			t.Errorf("%s: a fault must name its kind of break and the requirements that catch it", d.Name)
		case d.Transient && len(d.CaughtBy) > 0:
			t.Errorf("%s: a transient fault lands on different requirements each run, so it can declare none", d.Name)
		case d.Kind == Variation && len(d.CaughtBy) > 0:
			t.Errorf("%s: a variation is caught by nothing", d.Name)
		}
		seen[d.Name] = true
		if got, ok := LookupDeviation(d.Name); !ok || got.Name != d.Name {
			t.Errorf("LookupDeviation(%q) = %v, %v", d.Name, got.Name, ok)
		}
		for _, id := range d.CaughtBy {
			if !strings.HasPrefix(id, "PRES-") {
				t.Errorf("%s: %q is not a requirement ID", d.Name, id)
			}
		}
	}
	if _, ok := LookupDeviation("no-such-fault"); ok {
		t.Error("found a deviation that does not exist")
	}
}

// A server with no deviations serves the reference itself, and one with a
// deviation changes exactly what it says.
func TestDeviationChangesOnlyItsPart(t *testing.T) {
	fault, _ := LookupDeviation("put-status-201")
	s := New(Options{Deviations: []Deviation{fault}})
	if s.deviated == nil || New(Options{}).deviated != nil {
		t.Fatal("deviated handler set wrongly")
	}
	acc, err := s.Register("alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	put := httptest.NewRequest("PUT", "/_matrix/client/api/v1/presence/@alice:localhost/status?access_token="+acc.AccessToken, strings.NewReader(`{"presence":"online"}`))
	w := httptest.NewRecorder()
	s.ServeHTTP(w, put)
	if w.Code != http.StatusCreated || w.Body.String() != "{}" || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("PUT: %d %q %v", w.Code, w.Body, w.Header())
	}
	get := httptest.NewRequest("GET", "/_matrix/client/api/v1/presence/@alice:localhost/status?access_token="+acc.AccessToken, nil)
	w = httptest.NewRecorder()
	s.ServeHTTP(w, get)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"presence":"online"`) {
		t.Errorf("GET after a 201 PUT: %d %s", w.Code, w.Body)
	}
}
