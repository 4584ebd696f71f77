package mockserver

import (
	"context"
	"net"
	"net/http"
	"runtime"
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
// watcher goroutine per server pokes every parked long-poll at each change
// and at shutdown, and looks every hangUpSweep for clients that went; a
// timer pokes a long-poll at its timeout. A poked long-poll looks, in a
// goroutine that lives as long as the look, and answers when there is
// news, or when the time is up, its client went or the server shuts down.
// It writes the HTTP/1.1 response itself and closes the connection after
// it (clients reconnect for their next poll). Where the connection cannot
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
	watched bool // a watcher runs
	parked  sync.WaitGroup
}

func (lot *parkingLot) init() {
	lot.closing = make(chan struct{})
	lot.emptied = make(chan struct{}, 1)
	lot.polls = make(map[*parkedPoll]struct{})
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

// watch pokes every parked long-poll at each change and at shutdown, and
// the ones whose client went at each sweep, until the lot is empty. It
// takes the next change's channel before it pokes anyone, so that a change
// made while it does is not missed: a long-poll that looked before that
// change either sees its channel closed or is poked by the round after.
func (lot *parkingLot) watch(s *Server, changed <-chan struct{}) {
	sweep := time.NewTicker(hangUpSweep)
	defer sweep.Stop()
	var polls []*parkedPoll
	for {
		closing, sweeping := false, false
		select {
		case <-changed:
			changed = s.stream.changes()
		case <-lot.closing:
			closing = true
		case <-sweep.C:
			sweeping = true
		case <-lot.emptied:
		}
		// Poked outside the lock, which a long-poll that answers takes
		// to leave.
		lot.mu.Lock()
		polls = polls[:0]
		for p := range lot.polls {
			polls = append(polls, p)
		}
		done := closing || len(lot.polls) == 0
		if done {
			lot.watched = false
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
			if s.park(w, r, q, wait, changed, render) {
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
	s      *Server
	conn   net.Conn
	q      presenceQuery
	render func(buf []byte, b presenceBatch) []byte
	head   []byte           // the status line and the handler's headers
	noBody bool             // a HEAD request: the headers alone, as net/http answers one
	logged func(status int) // nil without a logger
	timer  *time.Timer      // pokes it, final, at its timeout

	mu      sync.Mutex
	looking bool // a goroutine looks for it now
	again   bool // poked while it looked: look again
	final   bool // answer at the next look, news or not
	done    bool // answered
}

// park hijacks the connection and leaves the long-poll in the parking lot;
// false leaves w as it was, for the long-poll to wait in its handler.
func (s *Server) park(w http.ResponseWriter, r *http.Request, q presenceQuery, wait time.Duration, changed <-chan struct{}, render func(buf []byte, b presenceBatch) []byte) bool {
	if !canSeeHangUps || !s.lot.enter() {
		return false
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.lot.leave(nil)
		return false
	}
	// A request pipelined behind this one, in the reader net/http hands
	// over or arriving later, goes unanswered: the connection closes
	// after this answer, and a pipelining client resends what went
	// unanswered (RFC 9112, section 9.3.2).
	p := &parkedPoll{s: s, conn: conn, q: q, render: render, noBody: r.Method == http.MethodHead}
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
	*head = append(h, "\r\nConnection: close\r\n\r\n"...)
	p.conn.SetWriteDeadline(time.Now().Add(parkedWriteTimeout))
	out := net.Buffers{*head, *body}
	if p.noBody {
		// Content-Length still says what GET would send (RFC 9110,
		// section 9.3.2), as net/http does for a handler's HEAD.
		out = out[:1]
	}
	out.WriteTo(p.conn)
	s.releaseBuffer(head)
	s.releaseBuffer(body)
	// Closing costs both ends kernel work: when a change wakes thousands,
	// the others' answers go out first.
	runtime.Gosched()
	p.conn.Close()
	if p.logged != nil {
		p.logged(http.StatusOK)
	}
}
