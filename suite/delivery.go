package suite

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/onsi/gomega"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
)

// How clients receive presence, followed the way a client follows it: an
// initial sync, then one incremental sync after another from the token the
// last one gave. Each stream remembers the last presence it has seen of
// each user: the spec leaves open how many events a change takes and in
// which order they come, so what counts is the last one.

// syncStream follows one user's /sync (r0, v3).
type syncStream struct {
	s      *Spec
	viewer *client.Session
	params client.SyncParams // Since moves on with each response
	latest map[string]client.SyncPresence
}

// startSync makes viewer's initial sync.
func startSync(s *Spec, viewer *client.Session, params client.SyncParams) *syncStream {
	st := &syncStream{s: s, viewer: viewer, params: params, latest: map[string]client.SyncPresence{}}
	st.params.Since, st.params.Timeout = "", 0
	st.next(0)
	return st
}

// next makes one incremental sync that may wait up to timeout, and
// returns the presence events it carried.
func (st *syncStream) next(timeout time.Duration) ([]client.SyncPresence, *client.Exchange) {
	p := st.params
	p.Timeout = st.s.longPollWait(timeout)
	ex := st.viewer.Sync(st.s.Context(), p)
	st.s.Expect(ex).To(match.HaveStatus(http.StatusOK), "%s syncing", st.viewer.UserID)
	resp, err := client.DecodeSync(ex)
	st.s.Expect(err).NotTo(gomega.HaveOccurred(), "decoding a /sync response\n\n%s", ex)
	events, err := resp.PresenceEvents()
	st.s.Expect(err).NotTo(gomega.HaveOccurred(), "decoding presence.events\n\n%s", ex)
	for _, e := range events {
		st.latest[e.Sender] = e
	}
	st.params.Since = resp.NextBatch
	return events, ex
}

// await syncs until the last presence event of sender satisfies want, for
// at most the settle window; a long-poll waits no longer than the window.
func (st *syncStream) await(sender, what string, want func(client.SyncPresence) bool) client.SyncPresence {
	if e, ok := awaitLatest(st.s, st.latest, func(d time.Duration) { st.next(d) }, sender, want); ok {
		return e
	}
	last := "no m.presence event of theirs"
	if e, ok := st.latest[sender]; ok {
		last = "the last one shows " + describeSync(e)
	}
	st.s.failBehaviour("a room-mate's /sync to deliver their presence as "+what+" within --settle", last,
		fmt.Sprintf("Expected %s's /sync to deliver %s's presence as %s within %s (--settle); %s.",
			st.viewer.UserID, sender, what, st.s.Settle(), last), 1)
	return client.SyncPresence{}
}

// awaitLatest reads a stream with next until the last event it has seen of
// whose satisfies want, for at most the settle window, each read waiting
// no longer than what is left of it; false when the window ran out first.
// It reads at least once, so a window of zero still asks the server.
func awaitLatest[E any](s *Spec, latest map[string]E, next func(time.Duration), whose string, want func(E) bool) (E, bool) {
	deadline := time.Now().Add(s.Settle())
	for read := false; ; read = true {
		if e, ok := latest[whose]; ok && want(e) {
			return e, true
		}
		left := time.Until(deadline)
		if left <= 0 && read {
			var none E
			return none, false
		}
		next(max(left, 0))
	}
}

// holdNone watches, for the whole settle window, that no presence event
// the stream delivers is one that bad picks.
func (st *syncStream) holdNone(what string, bad func(client.SyncPresence) bool) {
	hold(st.s, what, func(left time.Duration) string {
		events, ex := st.next(left)
		for _, e := range events {
			if bad(e) {
				return fmt.Sprintf("a /sync of %s delivered %s.\n\n%s", st.viewer.UserID, describeSync(e), ex)
			}
		}
		return ""
	})
}

// isState says whether an event shows a presence and status message.
func isState(presence, msg string) func(client.SyncPresence) bool {
	return func(e client.SyncPresence) bool {
		return e.Content.Presence == presence && e.Content.StatusMsg != nil && *e.Content.StatusMsg == msg
	}
}

func describeSync(e client.SyncPresence) string {
	msg := "no status_msg"
	if e.Content.StatusMsg != nil {
		msg = fmt.Sprintf("status_msg %q", *e.Content.StatusMsg)
	}
	return fmt.Sprintf("m.presence from %s: %s, %s", e.Sender, e.Content.Presence, msg)
}

// shareRoom makes a room that a creates and the others join, and returns
// its ID.
func shareRoom(t T, a *client.Session, others ...*client.Session) string {
	var ids []string
	for _, o := range others {
		ids = append(ids, o.UserID)
	}
	roomID, ex, err := a.CreateRoom(t.Context(), ids...)
	t.Expect(err).NotTo(gomega.HaveOccurred(), "%s creating a room with %v\n\n%s", a.UserID, ids, ex)
	for _, o := range others {
		ex, err = o.JoinRoom(t.Context(), roomID)
		t.Expect(err).NotTo(gomega.HaveOccurred(), "%s joining %s\n\n%s", o.UserID, roomID, ex)
	}
	return roomID
}

// eventStream follows one user's v1 event stream: GET /initialSync, then
// GET /events from the end token of the last answer.
type eventStream struct {
	s      *Spec
	viewer *client.Session
	from   string
	latest map[string]client.PresenceEvent
	// seen, when set, sees every read's presence events before they count.
	seen func(events []client.PresenceEvent, ex *client.Exchange)
}

// startEvents makes viewer's initial sync and starts the stream at its end.
func startEvents(s *Spec, viewer *client.Session) (*eventStream, client.InitialSyncResponse) {
	ex := viewer.InitialSync(s.Context())
	s.Expect(ex).To(match.HaveStatus(http.StatusOK), "%s's initial sync", viewer.UserID)
	resp, err := client.DecodeInitialSync(ex)
	s.Expect(err).NotTo(gomega.HaveOccurred(), "decoding /initialSync\n\n%s", ex)
	st := &eventStream{s: s, viewer: viewer, from: resp.End, latest: map[string]client.PresenceEvent{}}
	events, err := client.V1PresenceEvents(resp.Presence)
	s.Expect(err).NotTo(gomega.HaveOccurred(), "decoding the presence of /initialSync\n\n%s", ex)
	for _, e := range events {
		st.latest[e.Content.UserID] = e
	}
	return st, resp
}

// next reads the stream once, waiting up to timeout.
func (st *eventStream) next(timeout time.Duration) ([]client.PresenceEvent, *client.Exchange) {
	ex := st.viewer.Events(st.s.Context(), st.from, st.s.longPollWait(timeout))
	st.s.Expect(ex).To(match.HaveStatus(http.StatusOK), "%s reading the event stream", st.viewer.UserID)
	resp, err := client.DecodeEvents(ex)
	st.s.Expect(err).NotTo(gomega.HaveOccurred(), "decoding /events\n\n%s", ex)
	events, err := client.V1PresenceEvents(resp.Chunk)
	st.s.Expect(err).NotTo(gomega.HaveOccurred(), "decoding the chunk of /events\n\n%s", ex)
	if st.seen != nil {
		st.seen(events, ex)
	}
	for _, e := range events {
		st.latest[e.Content.UserID] = e
	}
	st.from = resp.End
	return events, ex
}

// await reads the stream until the last presence event of userID
// satisfies want, for at most the settle window.
func (st *eventStream) await(userID, what string, want func(client.PresenceEvent) bool) client.PresenceEvent {
	if e, ok := awaitLatest(st.s, st.latest, func(d time.Duration) { st.next(d) }, userID, want); ok {
		return e
	}
	last := "no m.presence event of theirs"
	if e, ok := st.latest[userID]; ok {
		last = "the last one shows presence " + e.Content.Presence
	}
	st.s.failBehaviour("the event stream to deliver a user's presence as "+what+" within --settle", last,
		fmt.Sprintf("Expected %s's event stream to deliver %s's presence as %s within %s (--settle); %s.",
			st.viewer.UserID, userID, what, st.s.Settle(), last), 1)
	return client.PresenceEvent{}
}

// holdNone watches, for the whole settle window, that the stream delivers
// no presence event that bad picks.
func (st *eventStream) holdNone(what string, bad func(client.PresenceEvent) bool) {
	hold(st.s, what, func(left time.Duration) string {
		events, ex := st.next(left)
		for _, e := range events {
			if bad(e) {
				return fmt.Sprintf("GET /events of %s delivered m.presence of %s: %s.\n\n%s", st.viewer.UserID, e.Content.UserID, e.Content.Presence, ex)
			}
		}
		return ""
	})
}

// longPollWakes checks that a long-poll already waiting returns early,
// carrying the change, when change happens. request makes one read from
// the stream's position, asking the server to wait up to the given time;
// it runs on another goroutine, so it must not assert: consume, on the
// spec's goroutine, takes each answer in turn and says whether it carried
// the change. Every read is bounded by the settle window after the change,
// so a server that sleeps through the change fails fast instead of holding
// the run for the whole timeout.
func longPollWakes(s *Spec, what string, change func(), request func(ctx context.Context, wait time.Duration) *client.Exchange, consume func(*client.Exchange) bool) {
	const asked = 20 * time.Second // the timeout the long-poll asks for
	ctx, cancel := context.WithTimeout(s.Context(), longPollLead+s.Settle()+time.Second)
	defer cancel()
	type answer struct {
		ex *client.Exchange
		at time.Time
	}
	answers := make(chan answer, 1)
	go func() {
		ex := request(ctx, asked)
		answers <- answer{ex, time.Now()}
	}()
	s.Sleep(longPollLead)
	change()
	changed := time.Now()
	a := <-answers
	for {
		s.Client().Report(a.ex)
		if a.ex.Response == nil {
			s.failBehaviour("a waiting long-poll to return early when "+what, "none returned", fmt.Sprintf("Expected a long-poll (timeout=%d) waiting when %s to return early, within %s (--settle), carrying it; none returned in %s.\n\n%s",
				asked.Milliseconds(), what, s.Settle(), time.Since(changed).Round(time.Millisecond), a.ex), 1)
		}
		if consume(a.ex) {
			break
		}
		if a.at.After(changed) && time.Since(changed) > s.Settle() {
			s.failBehaviour("a waiting long-poll to return early when "+what, "returned without it", fmt.Sprintf("Expected a long-poll waiting when %s to return carrying it within %s (--settle); the reads so far carried something else.\n\n%s", what, s.Settle(), a.ex), 1)
		}
		// It returned for something else (before the change, or with other
		// news): wait again from where it left off.
		a = answer{request(ctx, asked), time.Now()}
	}
	s.Expect(a.at.Sub(changed)).To(gomega.BeNumerically("<", s.Settle()+time.Second/2), "how long after %s the long-poll returned", what)
}

// longPollWait is how long a long-poll may ask the server to wait: what
// is asked, but short enough that the answer comes well inside the
// client's own request timeout, which would otherwise cut a server that
// waits as asked.
func (s *Spec) longPollWait(asked time.Duration) time.Duration {
	return min(asked, s.run.cfg.Timeout*3/4)
}

// longPollLead is how long a long-poll is left waiting before the change
// that should wake it.
const longPollLead = 200 * time.Millisecond

// neverIssued is a token no server issued.
func neverIssued() string { return "mxp_never_issued_" + strings.ToLower(rand.Text()) }
