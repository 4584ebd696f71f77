package mockserver

import (
	"bytes"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// The log must not hand out a token whichever separator the client put
// before it: Go's query parser drops a pair holding ";", so a redaction
// that looks the key up in the parsed query misses it.
func TestRequestLogRedactsTokensWhateverTheSeparator(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, func(o *Options) { o.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	a := h.register("alice")
	for _, query := range []string{
		"?x=1;access_token=" + a.AccessToken,
		"?access_token=" + a.AccessToken + ";x=1",
		"?x=1;access%5Ftoken=" + a.AccessToken + "&y=2",
		"?x=%zz;access_token%3D" + a.AccessToken,
	} {
		h.request("GET", statusPath(a.UserID)+query, "", nil)
	}
	if strings.Contains(logs.String(), a.AccessToken) {
		t.Fatalf("the log holds the access token:\n%s", logs.String())
	}
	if n := strings.Count(logs.String(), "REDACTED"); n != 4 {
		t.Errorf("%d redactions, want 4:\n%s", n, logs.String())
	}
}

func TestRedactedPathKeepsWhatIsNoToken(t *testing.T) {
	for raw, want := range map[string]string{
		"/p":                                 "/p",
		"/p?since=s1&timeout=0":              "/p?since=s1&timeout=0",
		"/p?since=s1;timeout=0":              "/p?since=s1;timeout=0",
		"/p?access_token=abc":                "/p?access_token=REDACTED",
		"/p?a=1;access_token=abc&b=2":        "/p?a=1;access_token=REDACTED&b=2",
		"/p?access%5ftoken=abc;access_token": "/p?access%5ftoken=REDACTED;access_token",
		"/p?access_token%3dabc":              "/p?access_token=REDACTED",
		"/p?access+token=abc":                "/p?access+token=abc",
	} {
		u, err := url.ParseRequestURI(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := redactedPath(u); got != want {
			t.Errorf("redactedPath(%q) = %q, want %q", raw, got, want)
		}
	}
}
