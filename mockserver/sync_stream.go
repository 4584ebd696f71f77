package mockserver

import (
	"cmp"
	"crypto/rand"
	"slices"
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
//
// The recent positions are also kept in a log, so that a long-poll woken
// by one change looks at that change alone rather than at every user it
// may see: a thousand waiters in a room of a thousand then cost a thousand
// small looks, not a million. A token older than the log falls back to
// walking the users, which the latest change of each is enough for.

// presenceStream is the counter, the log and the broadcast that wakes
// waiting long-polls.
type presenceStream struct {
	pos     atomic.Uint64 // the last position taken; moves only under mu
	waiting atomic.Int64  // long-polls waiting for a change now
	// tag is this server's mark in every token it issues, so that a token
	// from another server (or an earlier run of this one) is not taken for
	// a position of this one.
	tag string

	mu sync.RWMutex
	// log holds every position after floor, in order, in chunks of
	// logChunk entries; a full chunk never changes again, so a reader may
	// keep one after letting go of the lock.
	log     [][]streamEntry
	floor   uint64
	changed chan struct{} // closed, and replaced, at a change once someone took it
	taken   bool          // someone may be waiting on changed
}

// A streamEntry is what took a position: a user's presence change, or
// a user's join of a room (rm set).
type streamEntry struct {
	pos uint64
	u   *user
	rm  *room
}

// The log keeps the last maxLogChunks chunks of logChunk positions; each
// change then costs its entry's share of a chunk, and nothing is copied.
const (
	logChunk     = 1 << 10
	maxLogChunks = 1 << 6
)

func newPresenceStream() *presenceStream {
	return &presenceStream{tag: strings.ToLower(rand.Text()[:8]), changed: make(chan struct{})}
}

// record takes the next position for what happened. The counter moves and
// the log grows in one step, so that whoever reads a position finds every
// entry up to it.
func (st *presenceStream) record(u *user, rm *room) uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	pos := st.pos.Add(1)
	if n := len(st.log); n == 0 || len(st.log[n-1]) == logChunk {
		if n == maxLogChunks {
			oldest := st.log[0]
			st.floor = oldest[len(oldest)-1].pos
			st.log = st.log[1:]
		}
		st.log = append(st.log, make([]streamEntry, 0, logChunk))
	}
	last := &st.log[len(st.log)-1]
	*last = append(*last, streamEntry{pos: pos, u: u, rm: rm})
	return pos
}

// since returns the entries after a position up to the current one, and
// that position; ok is false when the log no longer reaches back so far.
func (st *presenceStream) since(pos uint64) (entries []streamEntry, upTo uint64, ok bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	upTo = st.pos.Load()
	if pos < st.floor {
		return nil, upTo, false
	}
	after := func(chunk []streamEntry) []streamEntry {
		i, _ := slices.BinarySearchFunc(chunk, pos+1, func(e streamEntry, p uint64) int { return cmp.Compare(e.pos, p) })
		return chunk[i:]
	}
	// The first chunk that reaches past pos; usually the last, whose tail
	// is returned as it is.
	c, _ := slices.BinarySearchFunc(st.log, pos+1, func(chunk []streamEntry, p uint64) int {
		return cmp.Compare(chunk[len(chunk)-1].pos+1, p)
	})
	switch {
	case c >= len(st.log):
		return nil, upTo, true
	case c == len(st.log)-1:
		return after(st.log[c]), upTo, true
	}
	entries = append(entries, after(st.log[c])...)
	for _, chunk := range st.log[c+1:] {
		entries = append(entries, chunk...)
	}
	return entries, upTo, true
}

// current is the last position taken.
func (st *presenceStream) current() uint64 { return st.pos.Load() }

// changes returns a channel that is closed at the next change. A waiter
// takes it before it looks at the state, so that a change in between still
// wakes it.
func (st *presenceStream) changes() <-chan struct{} {
	st.mu.RLock()
	ch, taken := st.changed, st.taken
	st.mu.RUnlock()
	if !taken {
		st.mu.Lock()
		ch, st.taken = st.changed, true
		st.mu.Unlock()
	}
	return ch
}

// wake wakes every waiter at once. With nobody waiting, the channel is
// kept: a change then costs no allocation.
func (st *presenceStream) wake() {
	st.mu.Lock()
	if st.taken {
		close(st.changed)
		st.changed, st.taken = make(chan struct{}), false
	}
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

// presenceChangedLocked records that u's presence changed at now, the
// time the caller stored with it: the caller holds u.mu, and calls s.presenceWake once it has let go. Taking the
// position under the lock means a sync that read the counter after it
// also reads the new state.
func (s *Server) presenceChangedLocked(u *user, now time.Time) {
	u.changedAt = s.stream.record(u, nil)
	u.changedTime = now
	if s.fed != nil && s.isLocalUserID(u.id) {
		s.fed.LocalChanged(u.id)
	}
}

// presenceWake wakes the waiting long-polls after a change.
func (s *Server) presenceWake() {
	s.stream.wake()
	if lag := s.seams.lag; lag > 0 {
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
	rm.joinedAt[u] = s.stream.record(u, rm)
}
