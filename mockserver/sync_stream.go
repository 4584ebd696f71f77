package mockserver

import (
	"crypto/rand"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Presence reaches clients through a stream: every presence change and
// every room join takes the next position of one server-wide counter, and
// the user (or room) remembers it. A sync token names a position; an
// incremental sync delivers what took a position after its token and no
// later than the position it answers with, which becomes the next token.
// Nothing is logged: the latest change of each user is all a client is
// owed, so a sync walks the users it may see, not a history.

// presenceStream is the counter and the broadcast that wakes waiting
// long-polls.
type presenceStream struct {
	pos atomic.Uint64 // the last position taken
	// tag is this server's mark in every token it issues, so that a token
	// from another server (or an earlier run of this one) is not taken for
	// a position of this one.
	tag string

	mu      sync.Mutex
	changed chan struct{} // closed, and replaced, at each change
}

func newPresenceStream() *presenceStream {
	return &presenceStream{tag: strings.ToLower(rand.Text()[:8]), changed: make(chan struct{})}
}

// advance takes the next position.
func (st *presenceStream) advance() uint64 { return st.pos.Add(1) }

// current is the last position taken.
func (st *presenceStream) current() uint64 { return st.pos.Load() }

// changes returns a channel that is closed at the next change. A waiter
// takes it before it looks at the state, so that a change in between still
// wakes it.
func (st *presenceStream) changes() <-chan struct{} {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.changed
}

// wake wakes every waiter at once.
func (st *presenceStream) wake() {
	st.mu.Lock()
	close(st.changed)
	st.changed = make(chan struct{})
	st.mu.Unlock()
}

// token is the opaque sync token for a position: "s", the position, "_",
// the server's tag.
func (st *presenceStream) token(pos uint64) string {
	return "s" + strconv.FormatUint(pos, 10) + "_" + st.tag
}

// parseToken returns the position a token names, if this server issued it:
// its own tag, and a position already taken.
func (st *presenceStream) parseToken(tok string) (uint64, bool) {
	digits, tag, ok := strings.Cut(strings.TrimPrefix(tok, "s"), "_")
	if !ok || !strings.HasPrefix(tok, "s") || tag != st.tag || digits == "" || digits[0] == '+' {
		return 0, false
	}
	pos, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || pos > st.current() || strconv.FormatUint(pos, 10) != digits {
		return 0, false
	}
	return pos, true
}

// streamState is where a user's presence stands in the stream; it lives
// beside presenceState, under the user's lock.
type streamState struct {
	changedAt   uint64    // the position of the last presence change; 0: never changed
	changedTime time.Time // when it was made, on the server's clock
}

// presenceChangedLocked records that u's presence changed: the caller
// holds u.mu, and calls s.presenceWake once it has let go. Taking the
// position under the lock means a sync that read the counter after it
// also reads the new state.
func (s *Server) presenceChangedLocked(u *user) {
	u.changedAt = s.stream.advance()
	u.changedTime = s.clock()
}

// presenceWake wakes the waiting long-polls after a change.
func (s *Server) presenceWake() {
	s.stream.wake()
	if lag := s.delivery.lag; lag > 0 {
		// A server that delivers late still delivers: wake the waiters
		// again once the change is old enough to show.
		time.AfterFunc(lag+time.Millisecond, s.stream.wake)
	}
}

// joinedLocked records that u joined rm; the caller holds rm.mu and calls
// s.presenceWake once it has let go: a new room-mate's presence is news to
// both sides.
func (s *Server) joinedLocked(rm *room, u *user) {
	if rm.joinedAt == nil {
		rm.joinedAt = make(map[*user]uint64)
	}
	rm.joinedAt[u] = s.stream.advance()
}
