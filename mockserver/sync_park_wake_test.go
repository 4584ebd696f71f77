package mockserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"
)

// parkedOf returns acct's parked long-polls.
func (s *Server) parkedOf(acct Account) []*parkedPoll {
	s.lot.mu.Lock()
	defer s.lot.mu.Unlock()
	var out []*parkedPoll
	for p := range s.lot.polls {
		if p.q.viewer.id == acct.UserID {
			out = append(out, p)
		}
	}
	return out
}

func (p *parkedPoll) pokeCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pokes
}

// A change pokes the long-polls of the users it concerns alone: under a
// broadcast, carol's poll would look at alice's change too.
func TestAChangeLooksOnlyAtTheLongPollsItConcerns(t *testing.T) {
	h, a, b, c, _ := newTrio(t, v3Prefix)
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	bobs := getOver(ts, syncTarget(v3Prefix, b, "since", h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch, "timeout", "60000", "set_presence", "offline"))
	carols := getOver(ts, syncTarget(v3Prefix, c, "since", h.syncAs(v3Prefix, c, "set_presence=offline").NextBatch, "timeout", "60000", "set_presence", "offline"))
	eventually(t, "both polls park", func() bool { return h.srv.parkedCount() == 2 })
	carolsPolls := h.srv.parkedOf(c)
	if len(carolsPolls) != 1 {
		t.Fatalf("carol has %d parked polls", len(carolsPolls))
	}

	h.putPresence(v3Prefix, a, `{"presence":"unavailable","status_msg":"lunch"}`)
	checkParkedAnswer(t, awaitAnswer(t, bobs))
	// The watcher's rounds run one after another, so once carol's own
	// change has answered her, the round for alice's change is over: a
	// broadcast would have poked her twice.
	h.putPresence(v3Prefix, c, `{"presence":"online","status_msg":"back"}`)
	got := awaitAnswer(t, carols)
	if !strings.Contains(string(got.body), `"back"`) || strings.Contains(string(got.body), "lunch") {
		t.Errorf("carol woken with %s, want her own change alone", got.body)
	}
	if n := carolsPolls[0].pokeCount(); n != 1 {
		t.Errorf("carol's parked poll was poked %d times, want once: alice's change does not concern her", n)
	}
}

// concernedBy names the changer and everyone who shares a room with them
// now, and nobody else.
func TestConcernedByIsTheChangerAndTheirRoomMates(t *testing.T) {
	h, a, b, c, _ := newTrio(t, v3Prefix)
	d := h.register("dave")
	h.createRoom(v3Prefix, c, d.UserID) // carol and dave: not alice's
	userOf := func(acct Account) *user { return h.srv.userByID(acct.UserID) }
	entries, upTo, ok := h.srv.stream.since(0)
	if !ok {
		t.Fatal("the log does not reach back to 0")
	}
	var aliceOnly []streamEntry
	for _, e := range entries {
		if e.u == userOf(a) {
			aliceOnly = append(aliceOnly, e)
		}
	}
	concerned, changers := map[*user]struct{}{}, map[*user]struct{}{}
	h.srv.concernedBy(aliceOnly, upTo, changers, concerned)
	if len(concerned) != 2 || !has(concerned, userOf(a)) || !has(concerned, userOf(b)) {
		t.Errorf("alice's changes concern %d users, want alice and bob", len(concerned))
	}
	clear(concerned)
	clear(changers)
	h.srv.concernedBy(entries, upTo, changers, concerned)
	if len(concerned) != 3 || has(concerned, userOf(d)) {
		t.Errorf("every change so far concerns %d users, want alice, bob and carol (dave only joined no room of theirs)", len(concerned))
	}
}

func has(set map[*user]struct{}, u *user) bool { _, ok := set[u]; return ok }

// A token with more changes after it than logScanMax walks the mates
// instead of the log, and answers as the log would: the room-mate's change
// and a join, none of the strangers' hundreds.
func TestAFarBehindTokenAnswersAsTheLogWould(t *testing.T) {
	for _, strangers := range []int{3, logScanMax + 50} {
		t.Run(fmt.Sprint(strangers), func(t *testing.T) {
			h := newHarness(t)
			a, b, c, d := h.register("alice"), h.register("bob"), h.register("carol"), h.register("dave")
			roomID := h.createRoom(v3Prefix, a, b.UserID, d.UserID)
			mustOK(t, h.joinRoom(v3Prefix, b, roomID))
			tok := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch
			for i := range strangers {
				h.putPresence(v3Prefix, c, fmt.Sprintf(`{"presence":"online","status_msg":"%d"}`, i))
			}
			h.putPresence(v3Prefix, a, `{"presence":"unavailable","status_msg":"lunch"}`)
			mustOK(t, h.joinRoom(v3Prefix, d, roomID))
			if behind := h.srv.stream.current() - h.srv.mustParseToken(t, tok); (behind > logScanMax) != (strangers > logScanMax) {
				t.Fatalf("the token is %d positions behind", behind)
			}
			got := h.syncAs(v3Prefix, b, q("since", tok, "set_presence", "offline"))
			senders := got.senders()
			if len(senders) != 2 || got.eventFrom(a.UserID) == nil || got.eventFrom(d.UserID) == nil {
				t.Errorf("after %d strangers' changes: senders %v, want alice (changed) and dave (joined)", strangers, senders)
			}
			if e := got.eventFrom(a.UserID); e != nil && e.Content.Presence != "unavailable" {
				t.Errorf("alice is %s, want unavailable", e.Content.Presence)
			}
		})
	}
}

func (s *Server) mustParseToken(t *testing.T, tok string) uint64 {
	t.Helper()
	pos, ok := s.stream.parseToken(tok)
	if !ok {
		t.Fatalf("token %q", tok)
	}
	return pos
}

// serveReusing serves the mock from a listener that takes answered
// long-polls' connections back.
func serveReusing(t *testing.T, srv *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(srv)
	ts.Listener = srv.ReuseConnections(ts.Listener)
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// An answered long-poll leaves its connection open, and the client's next
// request goes over it.
func TestAnsweredLongPollKeepsItsConnection(t *testing.T) {
	h, a, b, _, _ := newTrio(t, v3Prefix)
	ts := serveReusing(t, h.srv)
	tok := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch
	answers := getOver(ts, syncTarget(v3Prefix, b, "since", tok, "timeout", "60000", "set_presence", "offline"))
	eventually(t, "the poll parks", func() bool { return h.srv.parkedCount() == 1 })
	h.putPresence(v3Prefix, a, `{"presence":"unavailable","status_msg":"lunch"}`)
	got := awaitAnswer(t, answers)
	if got.res.Close || got.res.Header.Get("Connection") != "" {
		t.Errorf("the answer closes its connection: Connection %q", got.res.Header.Get("Connection"))
	}
	var s syncBody
	if err := json.Unmarshal(got.body, &s); err != nil || s.eventFrom(a.UserID) == nil {
		t.Fatalf("answer %s: %v", got.body, err)
	}

	var reused bool
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET",
		ts.URL+syncTarget(v3Prefix, b, "since", s.NextBatch, "timeout", "0", "set_presence", "offline"), nil)
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !reused {
		t.Errorf("the next request: status %d, over the answered poll's connection %v", res.StatusCode, reused)
	}
}

// A long-poll with a request pipelined behind it, or one that asked to
// close, closes its connection after the answer: net/http would have to be
// given the bytes read ahead.
func TestPipelinedLongPollClosesItsConnection(t *testing.T) {
	h, a, b, _, _ := newTrio(t, v3Prefix)
	ts := serveReusing(t, h.srv)
	tok := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	poll := "GET " + syncTarget(v3Prefix, b, "since", tok, "timeout", "60000", "set_presence", "offline") + " HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(conn, poll+"GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the poll parks", func() bool { return h.srv.parkedCount() == 1 })
	h.putPresence(v3Prefix, a, `{"presence":"unavailable"}`)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	if !res.Close {
		t.Error("a pipelined long-poll's answer keeps the connection, whose read-ahead request is lost")
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after the answer: %v, want the connection closed", err)
	}
}

// A connection handed back when handBackQueue already wait for Accept, or
// once the listener has closed, is refused, for the long-poll to close it;
// closing closes the ones queued.
func TestHandBackRefusedWhenFullOrClosed(t *testing.T) {
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := h.srv.ReuseConnections(ln).(*reusingListener)
	var queued []net.Conn
	for i := range handBackQueue + 1 {
		client, server := net.Pipe()
		queued = append(queued, client)
		defer client.Close()
		defer server.Close()
		if took := l.handBack(&reusableConn{Conn: server, from: l}); took != (i < handBackQueue) {
			t.Fatalf("connection %d: taken %v with %d queued", i, took, i)
		}
	}
	client, server := net.Pipe()
	defer client.Close()
	l.Close()
	queued[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := queued[0].Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("a queued connection after Close: %v, want it closed", err)
	}
	if l.handBack(&reusableConn{Conn: server, from: l}) {
		t.Error("a closed listener took a connection back")
	}
	if _, err := l.Accept(); err == nil {
		t.Error("a closed listener accepted")
	}
}

// Pairs of room-mates, every watcher long-polling over kept connections
// while its mate changes presence: each sees its mate's last change, with
// polls parking while the watcher reads the changes.
func TestEveryWatcherSeesItsMateUnderChurn(t *testing.T) {
	const pairs, changes = 20, 15
	h := newHarness(t)
	ts := serveReusing(t, h.srv)
	var accts []Account
	for i := range pairs {
		x, y := h.register(fmt.Sprintf("x%02d", i)), h.register(fmt.Sprintf("y%02d", i))
		roomID := h.createRoom(v3Prefix, x, y.UserID)
		mustOK(t, h.joinRoom(v3Prefix, y, roomID))
		accts = append(accts, x, y)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(accts))
	for i, me := range accts {
		mate := accts[i^1]
		tok := h.syncAs(v3Prefix, me, "set_presence=offline").NextBatch
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf(`"%s %d"`, mate.UserID, changes-1)
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+syncTarget(v3Prefix, me, "since", tok, "timeout", "20000", "set_presence", "offline"), nil)
				res, err := ts.Client().Do(req)
				if err != nil {
					errs <- fmt.Errorf("%s: %v", me.UserID, err)
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				var s syncBody
				if err := json.Unmarshal(body, &s); err != nil {
					errs <- fmt.Errorf("%s: %v: %s", me.UserID, err, body)
					return
				}
				tok = s.NextBatch
				if strings.Contains(string(body), want) {
					return
				}
			}
			errs <- fmt.Errorf("%s never saw %s", me.UserID, want)
		}()
	}
	for k := range changes {
		for _, who := range accts {
			go h.srv.ServeHTTP(httptest.NewRecorder(), httptestRequest("PUT", statusPathIn(v3Prefix, who.UserID)+"?access_token="+who.AccessToken,
				fmt.Sprintf(`{"presence":"online","status_msg":"%s %d"}`, who.UserID, k)))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The last round may race the round before it; say it once more, in
	// order, so that the last change is the one every mate must see.
	for _, who := range accts {
		h.putPresence(v3Prefix, who, fmt.Sprintf(`{"presence":"online","status_msg":"%s %d"}`, who.UserID, changes-1))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
