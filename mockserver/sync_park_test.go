package mockserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// parkedCount is how many long-polls wait parked on hijacked connections.
func (s *Server) parkedCount() int {
	s.lot.mu.Lock()
	defer s.lot.mu.Unlock()
	return len(s.lot.polls)
}

// eventually waits, bounded, until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type httpAnswer struct {
	res  *http.Response
	body []byte
	err  error
}

// getOver sends GET target to a served mock over loopback HTTP/1.1.
func getOver(ts *httptest.Server, target string) <-chan httpAnswer {
	out := make(chan httpAnswer, 1)
	go func() {
		res, err := ts.Client().Get(ts.URL + target)
		if err != nil {
			out <- httpAnswer{err: err}
			return
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		out <- httpAnswer{res: res, body: body, err: err}
	}()
	return out
}

func awaitAnswer(t *testing.T, answers <-chan httpAnswer) httpAnswer {
	t.Helper()
	select {
	case a := <-answers:
		if a.err != nil {
			t.Fatal(a.err)
		}
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("no answer within 10s")
		return httpAnswer{}
	}
}

func syncTarget(prefix string, acct Account, pairs ...string) string {
	return prefix + "/sync?" + q(append(pairs, "access_token", acct.AccessToken)...)
}

// checkParkedAnswer checks the response a parked long-poll writes itself:
// what net/http would have written, and the connection closed after it.
func checkParkedAnswer(t *testing.T, a httpAnswer) {
	t.Helper()
	h := a.res.Header
	if a.res.StatusCode != http.StatusOK || a.res.Proto != "HTTP/1.1" {
		t.Errorf("status %s %s", a.res.Proto, a.res.Status)
	}
	if h.Get("Content-Type") != "application/json" || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("headers %v", h)
	}
	if h.Get("Content-Length") != strconv.Itoa(len(a.body)) || !a.res.Close {
		t.Errorf("Content-Length %q for %d bytes, close %v", h.Get("Content-Length"), len(a.body), a.res.Close)
	}
	if _, err := http.ParseTime(h.Get("Date")); err != nil {
		t.Errorf("Date: %v", err)
	}
}

func TestParkedLongPollAnsweredByAChange(t *testing.T) {
	h, a, b, _, _ := newTrio(t, v3Prefix)
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	tok := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch
	answers := getOver(ts, syncTarget(v3Prefix, b, "since", tok, "timeout", "60000", "set_presence", "offline"))
	eventually(t, "the poll parks", func() bool { return h.srv.parkedCount() == 1 && h.srv.stream.waiting.Load() == 1 })

	h.putPresence(v3Prefix, a, `{"presence":"unavailable","status_msg":"lunch"}`)
	got := awaitAnswer(t, answers)
	checkParkedAnswer(t, got)
	var s syncBody
	if err := json.Unmarshal(got.body, &s); err != nil {
		t.Fatalf("%v: %s", err, got.body)
	}
	if e := s.eventFrom(a.UserID); e == nil || e.Content.Presence != "unavailable" || len(s.Presence.Events) != 1 {
		t.Errorf("woken with %s, want alice's change alone", got.body)
	}
	eventually(t, "the waiter leaves", func() bool { return h.srv.parkedCount() == 0 && h.srv.stream.waiting.Load() == 0 })
	// The token answered with carries on where the parked poll left off.
	if next := h.syncAs(v3Prefix, b, q("since", s.NextBatch, "set_presence", "offline")); len(next.Presence.Events) != 0 {
		t.Errorf("the change came twice: %+v", next)
	}
}

func TestParkedEventsAnsweredByAChange(t *testing.T) {
	h := newHarness(t)
	a, b := h.register("alice"), h.register("bob")
	mustOK(t, h.as(b.AccessToken, "POST", listPath(b.UserID), `{"invite":["`+a.UserID+`"]}`))
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	answers := getOver(ts, v1Prefix+"/events?"+q("timeout", "60000", "access_token", b.AccessToken))
	eventually(t, "the poll parks", func() bool { return h.srv.parkedCount() == 1 })
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"unavailable"}`))
	got := awaitAnswer(t, answers)
	checkParkedAnswer(t, got)
	var e eventsBody
	if err := json.Unmarshal(got.body, &e); err != nil {
		t.Fatalf("%v: %s", err, got.body)
	}
	if users := v1Users(e.Chunk); len(users) != 1 || users[0] != a.UserID {
		t.Errorf("woken with %s", got.body)
	}
}

func TestParkedLongPollAnswersEmptyAtItsTimeout(t *testing.T) {
	h, _, b, _, _ := newTrio(t, r0Prefix)
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	tok := h.syncAs(r0Prefix, b, "set_presence=offline").NextBatch
	answers := getOver(ts, syncTarget(r0Prefix, b, "since", tok, "timeout", "300", "set_presence", "offline"))
	eventually(t, "the poll parks", func() bool { return h.srv.parkedCount() == 1 })
	got := awaitAnswer(t, answers)
	checkParkedAnswer(t, got)
	var s syncBody
	if err := json.Unmarshal(got.body, &s); err != nil || len(s.Presence.Events) != 0 || s.NextBatch == "" {
		t.Errorf("timed-out parked poll: %s", got.body)
	}
	eventually(t, "the waiter leaves", func() bool { return h.srv.parkedCount() == 0 && h.srv.stream.waiting.Load() == 0 })
}

// A client that goes away frees its parked wait: nothing of it stays.
func TestParkedLongPollFreedWhenTheClientGoes(t *testing.T) {
	h, _, b, _, _ := newTrio(t, v3Prefix)
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	tok := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	target := syncTarget(v3Prefix, b, "since", tok, "timeout", "300000", "set_presence", "offline")
	if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: mock\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the poll parks", func() bool { return h.srv.parkedCount() == 1 && h.srv.stream.waiting.Load() == 1 })
	conn.Close()
	eventually(t, "the parked poll is freed after its client closed", func() bool {
		return h.srv.parkedCount() == 0 && h.srv.stream.waiting.Load() == 0
	})
}

// Shutdown answers parked long-polls at once, and a later one waits for
// nothing.
func TestShutdownAnswersParkedLongPolls(t *testing.T) {
	h, _, b, _, _ := newTrio(t, v3Prefix)
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	tok := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch
	target := syncTarget(v3Prefix, b, "since", tok, "timeout", "300000", "set_presence", "offline")
	answers := getOver(ts, target)
	eventually(t, "the poll parks", func() bool { return h.srv.parkedCount() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	got := awaitAnswer(t, answers)
	checkParkedAnswer(t, got)
	var s syncBody
	if err := json.Unmarshal(got.body, &s); err != nil || len(s.Presence.Events) != 0 || s.NextBatch == "" {
		t.Errorf("parked poll at shutdown: %s", got.body)
	}
	late := awaitAnswer(t, getOver(ts, target))
	if late.res.StatusCode != http.StatusOK || late.res.Close || h.srv.parkedCount() != 0 {
		t.Errorf("a long-poll after shutdown: %s, close %v, parked %d", late.res.Status, late.res.Close, h.srv.parkedCount())
	}
}

// With a deviation switched on, a long-poll waits in its handler, as
// before: the deviation sees the whole response.
func TestLongPollUnderADeviationWaitsInPlace(t *testing.T) {
	kept, ok := LookupDeviation("status-msg-kept")
	if !ok {
		t.Fatal("no variation status-msg-kept")
	}
	h := newHarness(t, func(o *Options) { o.Deviations = []Deviation{kept} })
	a, b := h.register("alice"), h.register("bob")
	roomID := h.createRoom(v3Prefix, a, b.UserID)
	mustOK(t, h.joinRoom(v3Prefix, b, roomID))
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	tok := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch
	answers := getOver(ts, syncTarget(v3Prefix, b, "since", tok, "timeout", "60000", "set_presence", "offline"))
	eventually(t, "the poll waits", func() bool { return h.srv.stream.waiting.Load() == 1 })
	if n := h.srv.parkedCount(); n != 0 {
		t.Fatalf("%d parked under a deviation", n)
	}
	h.putPresence(v3Prefix, a, `{"presence":"unavailable"}`)
	got := awaitAnswer(t, answers)
	if got.res.StatusCode != http.StatusOK || got.res.Close || !bytes.Contains(got.body, []byte(a.UserID)) {
		t.Errorf("in-place long-poll: %s close %v: %s", got.res.Status, got.res.Close, got.body)
	}
}

// lockedBuffer is a log destination written from more than one goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) records(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		out = append(out, rec)
	}
	return out
}

// A parked request is logged once, when it is answered, with the status
// sent and the whole wait.
func TestParkedLongPollLoggedWhenAnswered(t *testing.T) {
	var logs lockedBuffer
	h := newHarness(t, func(o *Options) { o.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	a, b := h.register("alice"), h.register("bob")
	roomID := h.createRoom(v3Prefix, a, b.UserID)
	mustOK(t, h.joinRoom(v3Prefix, b, roomID))
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	tok := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch
	target := syncTarget(v3Prefix, b, "since", tok, "timeout", "60000", "set_presence", "offline")
	syncRecords := func() []map[string]any {
		var out []map[string]any
		for _, rec := range logs.records(t) {
			if p, _ := rec["path"].(string); strings.Contains(p, "since=") {
				out = append(out, rec)
			}
		}
		return out
	}
	answers := getOver(ts, target)
	eventually(t, "the poll parks", func() bool { return h.srv.parkedCount() == 1 })
	const held = 100 * time.Millisecond
	time.Sleep(held)
	if recs := syncRecords(); len(recs) != 0 {
		t.Fatalf("logged while parked: %v", recs)
	}
	h.putPresence(v3Prefix, a, `{"presence":"unavailable"}`)
	checkParkedAnswer(t, awaitAnswer(t, answers))
	eventually(t, "the parked request is logged", func() bool { return len(syncRecords()) > 0 })
	recs := syncRecords()
	redacted := strings.Replace(target, url.QueryEscape(b.AccessToken), "REDACTED", 1)
	if len(recs) != 1 || recs[0]["method"] != "GET" || recs[0]["path"] != redacted || recs[0]["status"] != float64(200) {
		t.Fatalf("records %v, want one GET %s 200", recs, redacted)
	}
	if d, _ := recs[0]["duration"].(float64); time.Duration(d) < held {
		t.Errorf("duration %v, want the whole wait (over %v)", time.Duration(d), held)
	}
}
