package mockserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testBodyTimeout = 300 * time.Millisecond

// dribble sends a request's headers promising a body, then one byte of it
// every 50ms for far longer than the body deadline, and returns how long
// the server kept the connection and what it answered.
func dribble(t *testing.T, addr, method, path string) (held time.Duration, answer string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{", method, path, addr)
	// The client gives up after 5s, 16 times the server's deadline.
	giveUp := time.Now().Add(5 * time.Second)
	closed := make(chan string, 1)
	go func() {
		conn.SetReadDeadline(giveUp)
		raw, _ := io.ReadAll(bufio.NewReader(conn))
		closed <- string(raw)
	}()
	for time.Now().Before(giveUp) {
		select {
		case answer = <-closed:
			return time.Since(start), answer
		case <-time.After(50 * time.Millisecond):
			conn.Write([]byte(" "))
		}
	}
	return time.Since(start), <-closed
}

// One client sending bodies a byte at a time must not hold a connection
// (and its handler) longer than the body deadline, on the endpoints that
// need no token above all.
func TestSlowBodyIsCutOffAtTheDeadline(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.BodyReadTimeout = testBodyTimeout })
	a := h.register("alice")
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	addr := ts.Listener.Addr().String()
	for _, c := range []struct{ method, path string }{
		{"POST", v3Prefix + "/login"},
		{"POST", r0Prefix + "/register"},
		{"PUT", v3Prefix + "/presence/" + a.UserID + "/status?access_token=" + a.AccessToken},
	} {
		held, answer := dribble(t, addr, c.method, c.path)
		if held > 3*time.Second {
			t.Errorf("%s %s: a dribbled body held the connection %s (deadline %s)", c.method, c.path, held.Round(time.Millisecond), testBodyTimeout)
			continue
		}
		if !strings.HasPrefix(answer, "HTTP/1.1 400 ") || !strings.Contains(answer, `"errcode":"M_`) {
			t.Errorf("%s %s: answered %q, want a 400 Matrix error", c.method, c.path, answer)
		}
	}
}

// The deadline is for bodies: a long-poll has none and waits out its
// timeout, and a body sent in time leaves the connection to serve the next
// request however long that takes to come.
func TestBodyDeadlineSparesLongPollsAndKeptAliveConnections(t *testing.T) {
	h, _, b, _, _ := newTrio(t, v3Prefix)
	h.srv.bodyTimeout = testBodyTimeout
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	tok := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch

	start := time.Now()
	got := awaitAnswer(t, getOver(ts, syncTarget(v3Prefix, b, "since", tok, "timeout", "1000", "set_presence", "offline")))
	if waited := time.Since(start); got.res.StatusCode != http.StatusOK || waited < 900*time.Millisecond {
		t.Errorf("long-poll: %d after %s, want 200 after its 1s timeout", got.res.StatusCode, waited)
	}

	put := func() {
		req, _ := http.NewRequest("PUT", ts.URL+v3Prefix+"/presence/"+b.UserID+"/status", strings.NewReader(`{"presence":"online"}`))
		req.Header.Set("Authorization", "Bearer "+b.AccessToken)
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("PUT status: %d", res.StatusCode)
		}
	}
	put()
	time.Sleep(2 * testBodyTimeout) // idle on the kept-alive connection past the deadline
	put()
}
