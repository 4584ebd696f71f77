package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// serve --federation-addr says where the federation API is, serves the
// mock's key there under its server name, and stops with the rest.
func TestServeFederationAddr(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, stderr, exit := startServe(t, func(stdout, stderr io.Writer) int {
		return serve(ctx, []string{"--addr", "127.0.0.1:0", "--federation-addr", "127.0.0.1:0", "--server-name", "example.test"}, stdout, stderr)
	})
	var fedURL string
	for _, n := range st.notes {
		if rest, ok := strings.CutPrefix(n, "federation on "); ok {
			fedURL, _, _ = strings.Cut(rest, " as ")
			if !strings.HasSuffix(n, " as example.test") {
				t.Errorf("line %q does not name the server", n)
			}
		}
	}
	if !strings.HasPrefix(fedURL, "http://127.0.0.1:") {
		t.Fatalf("no federation line: %v", st.notes)
	}
	code, body := get(t, fedURL+"/_matrix/key/v2/server")
	var keys struct {
		ServerName string         `json:"server_name"`
		VerifyKeys map[string]any `json:"verify_keys"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &keys) != nil || keys.ServerName != "example.test" || len(keys.VerifyKeys) != 1 {
		t.Fatalf("key server: %d %s", code, body)
	}
	if code, body := get(t, fedURL+"/_matrix/federation/v1/send/1"); code != 405 || !strings.Contains(body, "M_UNRECOGNIZED") {
		t.Errorf("GET /send: %d %s", code, body)
	}
	cancel()
	if code := waitExit(t, exit); code != 0 {
		t.Errorf("exit %d after shutdown: %s", code, stderr)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(fedURL, "http://"), time.Second); err == nil {
		t.Error("the federation listener is still listening after shutdown")
	}
}

// Without --federation-addr there is no federation line.
func TestServeWithoutFederation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, _, exit := startServe(t, func(stdout, stderr io.Writer) int {
		return serve(ctx, []string{"--addr", "127.0.0.1:0"}, stdout, stderr)
	})
	for _, n := range st.notes {
		if strings.HasPrefix(n, "federation on ") {
			t.Errorf("federation line without --federation-addr: %q", n)
		}
	}
	cancel()
	waitExit(t, exit)
}
