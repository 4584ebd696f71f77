package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/mockserver"
)

// paint is what a hostile or broken server could send to fake the verdict:
// erase the line, return the carriage, print a green pass, and reverse
// what follows.
const paint = "\x1b[2K\r\x1b[1;32mVERDICT: PASS\x1b[0m\u202e"

// checkUnpainted fails when any of the outputs holds a control character
// that reached it raw, or lacks the server's text in its escaped form.
func checkUnpainted(t *testing.T, outputs map[string]string) {
	t.Helper()
	quoted := false
	for name, out := range outputs {
		for _, raw := range []string{"\x1b", "\r", "\u202e"} {
			if strings.Contains(out, raw) {
				t.Errorf("%s holds %q raw:\n%s", name, raw, out)
			}
		}
		quoted = quoted || strings.Contains(out, `\x1b[1;32mVERDICT: PASS\x1b[0m\u202e`)
	}
	if !quoted {
		t.Errorf("no output quotes the server's text, escaped: %v", outputs)
	}
}

// A server's error body reaches the progress output, the summary and the
// Markdown report: each must show it escaped.
func TestServerTextCannotPaintTheOutput(t *testing.T) {
	mock := mockserver.New(mockserver.Options{NoRateLimit: true})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/status") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"errcode":"M_UNKNOWN","error":"`+paint+`"}`)
			return
		}
		mock.ServeHTTP(w, r)
	}))
	defer target.Close()
	md := filepath.Join(t.TempDir(), "summary.md")
	code, stdout, stderr := mxpresence(t, "test", "--target", target.URL, "--api", "v3", "--no-color",
		"--focus", "PRES-STATUS-PUT-01", "--summary-md", md)
	summary, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if code != notConformant || !strings.Contains(stdout, "\nVERDICT: FAIL") {
		t.Errorf("exit %d; want 1 and a FAIL verdict\n%s\n%s", code, stdout, stderr)
	}
	checkUnpainted(t, map[string]string{"stdout": stdout, "stderr": stderr, "the Markdown summary": string(summary)})
}

// A run that cannot start says why on stderr, quoting the server.
func TestServerTextCannotPaintTheSetupError(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"errcode":"M_FORBIDDEN","error":"`+paint+`"}`)
	}))
	defer target.Close()
	md := filepath.Join(t.TempDir(), "summary.md")
	code, stdout, stderr := mxpresence(t, "test", "--target", target.URL, "--api", "v3", "--no-color", "--summary-md", md)
	summary, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if code != cannotRun {
		t.Errorf("exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
	checkUnpainted(t, map[string]string{"stdout": stdout, "stderr": stderr, "the Markdown summary": string(summary)})
}
