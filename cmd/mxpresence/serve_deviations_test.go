package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/mockserver"
)

func TestServeListsEveryDeviation(t *testing.T) {
	code, out, _ := mxpresence(t, "serve", "--list-faults")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, d := range append(mockserver.Faults(), mockserver.Variations()...) {
		if !strings.Contains(out, "  "+d.Name+" ") {
			t.Errorf("--list-faults lacks %s", d.Name)
		}
	}
	if code, _, stderr := mxpresence(t, "serve", "--fault", "hidden-status-403"); code != 2 || !strings.Contains(stderr, `no fault named "hidden-status-403"`) {
		t.Errorf("a variation passed as a fault: exit %d, %q", code, stderr)
	}
}

// A fault switched on in serve shows to any client, not only to the suite.
func TestServeWithAFault(t *testing.T) {
	target := startServeProcess(t, "--fault", "unknown-endpoint-200")
	resp, err := http.Get(target + "/_matrix/client/api/v1/no-such-endpoint")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want the fault's 200", resp.StatusCode)
	}
}
