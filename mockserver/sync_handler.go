package mockserver

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// maxLongPoll bounds how long a request waits, whatever timeout it asks:
// long enough for any client's loop, short enough that a forgotten
// request does not hold its goroutine for ever.
const maxLongPoll = 5 * time.Minute

// syncParams are the query parameters of GET /sync, checked.
type syncParams struct {
	since       uint64
	initial     bool // no since
	timeout     time.Duration
	setPresence string // "" when omitted
	filter      *syncFilter
	fullState   bool
}

// readSyncParams checks every parameter before anything changes, so a bad
// one refuses the request whole.
func (s *Server) readSyncParams(q url.Values, viewer *user) (syncParams, *apiError) {
	var p syncParams
	var err *apiError
	if p.filter, err = s.syncFilterParam(viewer, q.Get("filter"), q.Has("filter")); err != nil {
		return p, err
	}
	if p.since, p.initial, err = s.sinceParam(q, "since"); err != nil {
		return p, err
	}
	if p.timeout, err = timeoutParam(q); err != nil {
		return p, err
	}
	if q.Has("set_presence") {
		switch v := q.Get("set_presence"); v {
		case "online", "offline", "unavailable":
			p.setPresence = v
		default:
			return p, errorf(http.StatusBadRequest, "M_INVALID_PARAM",
				"set_presence: "+quoteForMessage(v)+" is not one of offline, online, unavailable")
		}
	}
	if q.Has("full_state") {
		switch q.Get("full_state") {
		case "true":
			p.fullState = true
		case "false":
		default:
			return p, errorf(http.StatusBadRequest, "M_INVALID_PARAM", "full_state: must be true or false")
		}
	}
	return p, nil
}

// sinceParam reads a stream token parameter: absent means from the start.
func (s *Server) sinceParam(q url.Values, name string) (pos uint64, absent bool, err *apiError) {
	if !q.Has(name) {
		return 0, true, nil
	}
	tok := q.Get(name)
	pos, ok := s.stream.parseToken(tok)
	if !ok {
		return 0, false, errorf(http.StatusBadRequest, "M_INVALID_PARAM",
			name+": "+quoteForMessage(tok)+" is not a token this server issued")
	}
	return pos, false, nil
}

// timeoutParam reads timeout, in milliseconds: absent means 0, answer at
// once.
func timeoutParam(q url.Values) (time.Duration, *apiError) {
	if !q.Has("timeout") {
		return 0, nil
	}
	ms, err := strconv.ParseInt(q.Get("timeout"), 10, 64)
	if err != nil || ms < 0 {
		return 0, errorf(http.StatusBadRequest, "M_INVALID_PARAM", "timeout: must be a whole number of milliseconds, 0 or more")
	}
	if ms > maxLongPoll.Milliseconds() {
		return maxLongPoll, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// getSync serves GET /sync (r0, v3) for presence: the caller's room-mates'
// presence, and their joined rooms, empty.
func (s *Server) getSync(w http.ResponseWriter, r *http.Request, c call) {
	p, err := s.readSyncParams(r.URL.Query(), c.viewer)
	if err != nil {
		writeError(w, err)
		return
	}
	wait := p.timeout
	if p.initial || p.fullState {
		wait = 0 // an initial sync has news by definition; full_state answers at once
	}
	// set_presence marks the caller's device (presence_devices.go).
	s.deviceSynced(c.viewer, c.deviceID(), p.setPresence, wait)
	var presence *eventFilter
	if p.filter != nil {
		presence = p.filter.Presence
	}
	q := presenceQuery{api: c.api, viewer: c.viewer, since: p.since, initial: p.initial, filter: presence, withRooms: true}
	s.answerPresence(w, r, q, wait, func(buf []byte, b presenceBatch) []byte {
		// Sized once: an event is under 200 bytes, a room entry under 400.
		buf = slices.Grow(buf, 512+200*len(b.events)+400*len(b.rooms))
		now := s.clock()
		s.syncAnswered(c.viewer, c.deviceID(), now)
		return s.appendSyncResponse(buf, c.api, b, now)
	})
}

// A presenceBatch is what one response delivers.
type presenceBatch struct {
	events []delivery
	rooms  []joinedRoom // the joined rooms to report: all, or those joined since
	since  uint64
	upTo   uint64 // the position the response's token names
}

// A presenceQuery is what a delivery request asks: what viewer is owed
// since a position, in one version, through a filter. withRooms counts
// newly joined rooms as news.
type presenceQuery struct {
	api       *apiVersion
	viewer    *user
	since     uint64
	initial   bool
	filter    *eventFilter
	withRooms bool
}

// lookPresence collects what q's viewer is owed now. changed is taken
// before looking, so that no change slips between the look and a wait on
// it; news says the batch is worth answering with before the timeout.
func (s *Server) lookPresence(q presenceQuery) (b presenceBatch, changed <-chan struct{}, news bool) {
	changed = s.stream.changes()
	events, rooms, upTo := s.collect(q.api, q.viewer, q.since, q.initial)
	events = filterDeliveries(events, q.filter)
	b = presenceBatch{events: events, rooms: rooms, since: q.since, upTo: upTo}
	return b, changed, q.initial || len(events) > 0 || (q.withRooms && len(rooms) > 0)
}

// awaitPresence collects what the viewer is owed and, when that is
// nothing, waits up to wait for a change that brings something. When stop
// closes (the client went away) or the server shuts down it stops waiting
// and returns what there is: written to a client that is gone, it goes
// nowhere; to one still there, it is an answer.
func (s *Server) awaitPresence(stop <-chan struct{}, q presenceQuery, wait time.Duration) presenceBatch {
	b, changed, news := s.lookPresence(q)
	if news || wait <= 0 {
		return b
	}
	return s.waitForNews(stop, q, wait, changed)
}

// waitForNews waits for a change that brings q's viewer something, from a
// look that found nothing and took changed. Every change wakes every
// waiter at once (a broadcast); a waiter whose viewer has nothing new goes
// back to waiting. At the timeout, at stop and at shutdown it looks once
// more and answers with what there is.
func (s *Server) waitForNews(stop <-chan struct{}, q presenceQuery, wait time.Duration, changed <-chan struct{}) presenceBatch {
	t := time.NewTimer(wait)
	defer t.Stop()
	timeUp := t.C
	for {
		s.stream.waiting.Add(1)
		select {
		case <-changed:
		case <-timeUp:
			timeUp = nil
		case <-stop:
			timeUp = nil
		case <-s.lot.closing:
			timeUp = nil
		}
		s.stream.waiting.Add(-1)
		b, next, news := s.lookPresence(q)
		if news || timeUp == nil {
			return b
		}
		changed = next
	}
}

// filterDeliveries applies a presence EventFilter: the senders and types
// it lets through, then its limit, which keeps the latest changes.
func filterDeliveries(events []delivery, f *eventFilter) []delivery {
	if f == nil {
		return events
	}
	events = slices.DeleteFunc(events, func(d delivery) bool { return !f.passes(d.u.id) })
	if f.Limit != nil && len(events) > *f.Limit {
		events = events[len(events)-*f.Limit:]
	}
	return events
}

// deliveryRoutes are the routes that deliver presence: /sync and filters
// where rooms decide who sees whom (r0, v3), the event stream where
// presence lists do (v1).
func (s *Server) deliveryRoutes(api *apiVersion) []route {
	get := func(h handlerFunc) operation {
		return operation{method: http.MethodGet, authenticated: true, handle: h}
	}
	switch api.visibility {
	case visibleBySharedRoom:
		return []route{
			newRoute("/sync", get(s.getSync)),
			newRoute("/user/"+userIDSegment+"/filter", operation{method: http.MethodPost, authenticated: true, handle: s.postFilter}),
			newRoute("/user/"+userIDSegment+"/filter/"+filterIDSegment, get(s.getFilter)),
		}
	case visibleByList:
		return []route{
			newRoute("/events", get(s.getEvents)),
			newRoute("/initialSync", get(s.getInitialSync)),
		}
	}
	return nil
}
