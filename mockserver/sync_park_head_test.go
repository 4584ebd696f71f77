package mockserver

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A parked long-poll writes its own answer on the hijacked connection, so
// net/http cannot drop the body of a HEAD for it: the poll must. The test
// reads the raw bytes, as a client that trusts the framing would.
func TestParkedHeadSyncAnswersWithoutABody(t *testing.T) {
	h, a, b, _, _ := newTrio(t, v3Prefix)
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	tok := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch

	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	target := syncTarget(v3Prefix, b, "since", tok, "timeout", "60000", "set_presence", "offline")
	fmt.Fprintf(conn, "HEAD %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, ts.Listener.Addr())
	eventually(t, "the HEAD poll parks", func() bool { return h.srv.parkedCount() == 1 })

	h.putPresence(v3Prefix, a, `{"presence":"unavailable","status_msg":"lunch"}`)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	raw, err := io.ReadAll(conn) // the parked answer closes the connection
	if err != nil {
		t.Fatalf("%v after %q", err, raw)
	}
	head, rest, found := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !found || !strings.HasPrefix(string(head), "HTTP/1.1 200 OK\r\n") {
		t.Fatalf("answer %q", raw)
	}
	if len(rest) != 0 {
		t.Errorf("HEAD answered with a %d-byte body: %q", len(rest), rest)
	}
	if !strings.Contains(string(head), "\r\nContent-Length: ") || strings.Contains(string(head), "\r\nContent-Length: 0\r\n") {
		t.Errorf("headers %q: want the Content-Length a GET would get", head)
	}
}
