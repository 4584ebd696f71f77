package mockserver

import (
	"context"
	"math"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"
)

// A long-poll waiting in its handler holds what net/http gave it: the
// connection's goroutine and background reader, their 4 KB buffers, the
// response's buffer, the request. Thousands of them cost over 20 KB each.
// So a long-poll with nothing to answer yet is parked instead: the
// connection is hijacked, everything else let go, and what is left is a
// small record in the parking lot, with no goroutine of its own. One
// watcher goroutine per server reads each change from the presence stream
// and pokes the parked long-polls of the users it concerns (the changer and
// whoever shares a room with them; every v1 long-poll, whose presence lists
// are not indexed), pokes every one at shutdown, and looks every
// hangUpSweep for clients that went; a timer pokes a long-poll at its
// timeout. So a change costs the long-polls it is owed to, not every one
// parked: a thousand users in rooms of ten wake nine, not a thousand. A
// poked long-poll looks, in a goroutine that lives as long as the look, and
// answers when there is news, or when the time is up, its client went or
// the server shuts down. It writes the HTTP/1.1 response itself, then hands
// the connection back to net/http through the listener it came from when
// that listener is one ReuseConnections made (the client keeps its
// connection for its next poll), and closes it otherwise. Where the connection cannot
// be hijacked (HTTP/2, a recorder), on a system where a hang-up cannot be
// seen without a read, and wherever deviations are switched on, the
// long-poll waits in its handler as before, so faults and variations see
// the requests they always saw.

// parkedWriteTimeout bounds writing a parked long-poll's answer, so that a
// client that reads nothing does not keep its connection for ever.
const parkedWriteTimeout = 10 * time.Second

// hangUpSweep is how often the watcher looks for parked long-polls whose
// client went away: each look is one system call per long-poll.
const hangUpSweep = time.Second

// A parkingLot keeps the parked long-polls, so that a change can wake
// them and shutdown answer them: http.Server.Shutdown does not know
// hijacked connections.
type parkingLot struct {
	closing chan struct{} // closed when shutdown begins; ends every wait
	emptied chan struct{} // tells the watcher the lot may be empty
	mu      sync.Mutex
	closed  bool
	polls   map[*parkedPoll]struct{}
	// byViewer indexes the long-polls that see presence through shared
	// rooms by their user; the others (v1's presence lists) are in
	// everyChange and looked at whatever changed.
	byViewer    map[*user][]*parkedPoll
	everyChange map[*parkedPoll]struct{}
	watched     bool // a watcher runs
	parked      sync.WaitGroup
	// The watcher has poked, for every change up to woken, the long-polls
	// it concerns; heldFrom is the least position that a long-poll held
	// since the watcher's last round had looked to. Its next round reads
	// the changes after the lesser of the two: a long-poll that looked
	// before a change and parked after the watcher read it is still poked.
	woken, heldFrom uint64
}

// noPosition marks woken and heldFrom as unset.
const noPosition = math.MaxUint64

func (lot *parkingLot) init() {
	lot.closing = make(chan struct{})
	lot.emptied = make(chan struct{}, 1)
	lot.polls = make(map[*parkedPoll]struct{})
	lot.byViewer = make(map[*user][]*parkedPoll)
	lot.everyChange = make(map[*parkedPoll]struct{})
	lot.woken, lot.heldFrom = noPosition, noPosition
}

// enter reserves a place for a long-poll about to park; false once
// shutdown has begun.
func (lot *parkingLot) enter() bool {
	lot.mu.Lock()
	defer lot.mu.Unlock()
	if lot.closed {
		return false
	}
	lot.parked.Add(1)
	return true
}

// hold lets changes, hang-ups and shutdown reach p, starting the watcher
// if none runs.
func (lot *parkingLot) hold(s *Server, p *parkedPoll) {
	lot.mu.Lock()
	defer lot.mu.Unlock()
	lot.polls[p] = struct{}{}
	if p.q.api.visibility == visibleBySharedRoom {
		lot.byViewer[p.q.viewer] = append(lot.byViewer[p.q.viewer], p)
	} else {
		lot.everyChange[p] = struct{}{}
	}
	lot.heldFrom = min(lot.heldFrom, p.lookedTo)
	if !lot.watched {
		lot.watched = true
		// The channel is taken here, not in the watcher: a change made
		// before the watcher runs must still reach p.
		go lot.watch(s, s.stream.changes())
	}
}

// leave gives the place back; p is nil when parking failed.
func (lot *parkingLot) leave(p *parkedPoll) {
	if p != nil {
		lot.mu.Lock()
		delete(lot.polls, p)
		delete(lot.everyChange, p)
		if mine := lot.byViewer[p.q.viewer]; len(mine) > 0 {
			mine = slices.DeleteFunc(mine, func(q *parkedPoll) bool { return q == p })
			if len(mine) == 0 {
				delete(lot.byViewer, p.q.viewer)
			} else {
				lot.byViewer[p.q.viewer] = mine
			}
		}
		if len(lot.polls) == 0 {
			select {
			case lot.emptied <- struct{}{}:
			default:
			}
		}
		lot.mu.Unlock()
	}
	lot.parked.Done()
}

// watch pokes the parked long-polls a change concerns at each change,
// every one at shutdown, and the ones whose client went at each sweep,
// until the lot is empty. It takes the next change's channel before it
// reads the changes, so that a change made while it pokes is read in the
// round after.
func (lot *parkingLot) watch(s *Server, changed <-chan struct{}) {
	sweep := time.NewTicker(hangUpSweep)
	defer sweep.Stop()
	var polls []*parkedPoll
	concerned := map[*user]struct{}{}
	changers := map[*user]struct{}{}
	for {
		closing, sweeping, changes := false, false, false
		select {
		case <-changed:
			changed = s.stream.changes()
			changes = true
		case <-lot.closing:
			closing = true
		case <-sweep.C:
			sweeping = true
		case <-lot.emptied:
		}
		everyone := closing
		if changes {
			lot.mu.Lock()
			from := min(lot.woken, lot.heldFrom)
			lot.heldFrom = noPosition
			lot.mu.Unlock()
			if from != noPosition {
				entries, upTo, ok := s.stream.since(from)
				// A log that no longer reaches back so far names no one:
				// everyone looks.
				everyone = !ok
				s.concernedBy(entries, upTo, changers, concerned)
				lot.mu.Lock()
				lot.woken = upTo
				lot.mu.Unlock()
			}
		}
		// Poked outside the lock, which a long-poll that answers takes
		// to leave.
		lot.mu.Lock()
		polls = polls[:0]
		switch {
		case everyone, sweeping:
			for p := range lot.polls {
				polls = append(polls, p)
			}
		case changes:
			for p := range lot.everyChange {
				polls = append(polls, p)
			}
			for u := range concerned {
				polls = append(polls, lot.byViewer[u]...)
			}
		}
		clear(concerned)
		clear(changers)
		done := closing || len(lot.polls) == 0
		if done {
			lot.watched = false
			lot.woken, lot.heldFrom = noPosition, noPosition
		}
		lot.mu.Unlock()
		for i, p := range polls {
			switch {
			case !sweeping:
				p.poke(closing)
			case hungUp(p.conn):
				p.poke(true)
			}
			polls[i] = nil
		}
		if done {
			return
		}
	}
}

// concernedBy adds to concerned the users whose deliveries the stream
// entries up to upTo may change: for a presence change and for a join
// alike, the user who made it and everyone who shares a joined room with
// them now, as collect reckons a delivery. changers keeps a user's rooms
// from being walked twice.
func (s *Server) concernedBy(entries []streamEntry, upTo uint64, changers, concerned map[*user]struct{}) {
	var rooms []*room
	for _, e := range entries {
		if e.pos > upTo {
			break
		}
		if _, done := changers[e.u]; done {
			continue
		}
		changers[e.u] = struct{}{}
		concerned[e.u] = struct{}{}
		rooms = rooms[:0]
		e.u.mu.Lock()
		for rm := range e.u.joinedRooms {
			rooms = append(rooms, rm)
		}
		e.u.mu.Unlock()
		for _, rm := range rooms {
			rm.mu.Lock()
			for u, m := range rm.members {
				if m == joined {
					concerned[u] = struct{}{}
				}
			}
			rm.mu.Unlock()
		}
	}
}

// Shutdown makes every waiting long-poll answer at once with what it has,
// parked or waiting in its handler, and every later one answer without
// waiting; it returns once the parked long-polls have written their
// answers, or when ctx ends, closing those still writing. Call it when the
// http.Server serving this one shuts down: Shutdown there does not wait
// for parked long-polls, whose connections it no longer knows.
func (s *Server) Shutdown(ctx context.Context) error {
	lot := &s.lot
	lot.mu.Lock()
	if !lot.closed {
		lot.closed = true
		close(lot.closing)
	}
	lot.mu.Unlock()
	answered := make(chan struct{})
	go func() {
		lot.parked.Wait()
		close(answered)
	}()
	select {
	case <-answered:
		return nil
	case <-ctx.Done():
	}
	lot.mu.Lock()
	for p := range lot.polls {
		p.conn.Close()
	}
	lot.mu.Unlock()
	return ctx.Err()
}

// answerPresence answers a delivery request with what q's viewer is owed,
// waiting up to wait for something; render appends the body for a batch.
func (s *Server) answerPresence(w http.ResponseWriter, r *http.Request, q presenceQuery, wait time.Duration, render func(buf []byte, b presenceBatch) []byte) {
	if wait > 0 && s.deviated == nil && hijackable(w) {
		b, changed, news := s.lookPresence(q)
		if !news {
			if s.park(w, r, q, b.upTo, wait, changed, render) {
				return
			}
			b = s.waitForNews(r.Context().Done(), q, wait, changed)
		}
		s.writeBatch(w, b, render)
		return
	}
	s.writeBatch(w, s.awaitPresence(r.Context().Done(), q, wait), render)
}

func (s *Server) writeBatch(w http.ResponseWriter, b presenceBatch, render func(buf []byte, b presenceBatch) []byte) {
	bp := s.buffer()
	*bp = render(*bp, b)
	writeJSON(w, http.StatusOK, *bp)
	s.releaseBuffer(bp)
}

// hijackable reports whether w, or a writer it wraps, can hand over its
// connection: HTTP/1.x from net/http can, HTTP/2 and recorders cannot.
func hijackable(w http.ResponseWriter) bool {
	for {
		if _, ok := w.(http.Hijacker); ok {
			return true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
}

// A lateLogger logs a request when it is answered rather than when its
// handler returns: logLater takes the log record off the return, and the
// parked long-poll calls the function it returns with the status it sent.
type lateLogger interface {
	logLater() func(status int)
}

// parkedPoll is what a parked long-poll keeps: its connection, its query,
// and what it needs to write the response.
type parkedPoll struct {
	s     *Server
	conn  net.Conn
	reuse *reusingListener // where conn goes after the answer; nil: it closes
	q     presenceQuery
	// lookedTo is the position the look before parking reached: the
	// changes after it may concern the long-poll.
	lookedTo uint64
	render   func(buf []byte, b presenceBatch) []byte
	head     []byte           // the status line and the handler's headers
	noBody   bool             // a HEAD request: the headers alone, as net/http answers one
	logged   func(status int) // nil without a logger
	timer    *time.Timer      // pokes it, final, at its timeout

	mu      sync.Mutex
	pokes   int  // how many times it was poked, for tests
	looking bool // a goroutine looks for it now
	again   bool // poked while it looked: look again
	final   bool // answer at the next look, news or not
	done    bool // answered
}

// park hijacks the connection and leaves the long-poll in the parking lot;
// false leaves w as it was, for the long-poll to wait in its handler.
func (s *Server) park(w http.ResponseWriter, r *http.Request, q presenceQuery, lookedTo uint64, wait time.Duration, changed <-chan struct{}, render func(buf []byte, b presenceBatch) []byte) bool {
	if !canSeeHangUps || !s.lot.enter() {
		return false
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.lot.leave(nil)
		return false
	}
	// The connection goes back to net/http after the answer only when
	// nothing after this request was read with it (the reader net/http
	// hands over is then empty) and the client wants it kept.
	var reuse *reusingListener
	if rc, ok := conn.(*reusableConn); ok && rw.Reader.Buffered() == 0 && r.ProtoAtLeast(1, 1) && !r.Close {
		reuse = rc.from
	}
	// A request pipelined behind this one and already read into the
	// reader net/http hands over goes unanswered: the connection closes
	// after this answer, and a pipelining client resends what went
	// unanswered (RFC 9112, section 9.3.2). One that arrives later is
	// read by net/http once the connection is handed back, or lost with
	// the close where it is not.
	p := &parkedPoll{s: s, conn: conn, reuse: reuse, q: q, lookedTo: lookedTo, render: render, noBody: r.Method == http.MethodHead}
	p.head = append(p.head, "HTTP/1.1 200 OK\r\n"...)
	if !r.ProtoAtLeast(1, 1) {
		p.head = append(p.head[:0], "HTTP/1.0 200 OK\r\n"...)
	}
	for k, vs := range w.Header() {
		for _, v := range vs {
			p.head = append(append(append(append(p.head, k...), ": "...), v...), "\r\n"...)
		}
	}
	if ll, ok := w.(lateLogger); ok {
		p.logged = ll.logLater()
	}
	s.stream.waiting.Add(1)
	p.mu.Lock() // the timer's poke waits until p is whole
	p.timer = time.AfterFunc(wait, func() { p.poke(true) })
	p.mu.Unlock()
	s.lot.hold(s, p)
	// A change since the handler's look, before the watcher knew p.
	select {
	case <-changed:
		p.poke(false)
	case <-s.lot.closing:
		p.poke(true)
	default:
	}
	return true
}

// poke has p look again, in a goroutine of its own unless one looks
// already; final makes that look answer, news or not.
func (p *parkedPoll) poke(final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pokes++
	if p.done {
		return
	}
	p.final = p.final || final
	if p.looking {
		p.again = true
		return
	}
	p.looking = true
	go p.look()
}

// look looks until it has answered, or a look found nothing and nobody
// poked p meanwhile.
func (p *parkedPoll) look() {
	s := p.s
	for {
		p.mu.Lock()
		final := p.final
		p.again = false
		p.mu.Unlock()
		b, _, news := s.lookPresence(p.q)
		if news || final {
			p.mu.Lock()
			p.done = true
			p.mu.Unlock()
			p.timer.Stop()
			s.stream.waiting.Add(-1)
			p.answer(b)
			s.lot.leave(p)
			return
		}
		p.mu.Lock()
		if !p.again {
			p.looking = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
}

// answer writes the response and closes the connection.
func (p *parkedPoll) answer(b presenceBatch) {
	s := p.s
	body := s.buffer()
	*body = p.render(*body, b)
	head := s.buffer()
	h := append(*head, p.head...)
	h = append(h, "Content-Length: "...)
	h = strconv.AppendInt(h, int64(len(*body)), 10)
	h = append(h, "\r\nDate: "...)
	h = time.Now().UTC().AppendFormat(h, http.TimeFormat)
	keep := p.reuse != nil && !s.lot.isClosed()
	if !keep {
		h = append(h, "\r\nConnection: close"...)
	}
	*head = append(h, "\r\n\r\n"...)
	p.conn.SetWriteDeadline(time.Now().Add(parkedWriteTimeout))
	out := net.Buffers{*head, *body}
	if p.noBody {
		// Content-Length still says what GET would send (RFC 9110,
		// section 9.3.2), as net/http does for a handler's HEAD.
		out = out[:1]
	}
	_, err := out.WriteTo(p.conn)
	s.releaseBuffer(head)
	s.releaseBuffer(body)
	if p.logged != nil {
		p.logged(http.StatusOK)
	}
	if keep && err == nil && p.reuse.handBack(p.conn.(*reusableConn)) {
		return
	}
	// Closing costs both ends kernel work: when a change wakes thousands,
	// the others' answers go out first.
	runtime.Gosched()
	p.conn.Close()
}

func (lot *parkingLot) isClosed() bool {
	select {
	case <-lot.closing:
		return true
	default:
		return false
	}
}
