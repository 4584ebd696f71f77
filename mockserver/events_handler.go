package mockserver

import (
	"net/http"
	"strconv"
)

// v1 delivers presence through the event stream: GET /initialSync for the
// current state and a token, GET /events from that token for what changed
// after it, waiting up to timeout. A v1 viewer receives the presence of the
// users on their presence list, and their own. Neither call marks the
// caller active: v1 has no set_presence, and its clients PUT their status.

// getEvents serves GET /events?from=&timeout=. Without from it streams
// from now: nothing that happened before the call.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request, c call) {
	q := r.URL.Query()
	since, absent, err := s.sinceParam(q, "from")
	if err != nil {
		writeError(w, err)
		return
	}
	wait, err := timeoutParam(q)
	if err != nil {
		writeError(w, err)
		return
	}
	if absent {
		since = s.stream.current()
	}
	s.answerPresence(w, r, presenceQuery{api: c.api, viewer: c.viewer, since: since}, wait, func(buf []byte, b presenceBatch) []byte {
		now := s.clock()
		buf = append(buf, `{"start":`...)
		buf = appendString(buf, s.stream.token(b.since))
		buf = append(buf, `,"end":`...)
		buf = appendString(buf, s.stream.token(b.upTo))
		buf = append(buf, `,"chunk":[`...)
		for i, d := range b.events {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = s.appendV1PresenceEvent(buf, c.api, d, now)
		}
		return append(buf, "]}"...)
	})
}

// getInitialSync serves GET /initialSync: the presence of everyone the
// caller may see, the caller's joined rooms (made through r0 or v3; v1
// itself has no room API here) with no messages and no state, and the
// token to stream from.
func (s *Server) getInitialSync(w http.ResponseWriter, r *http.Request, c call) {
	q := r.URL.Query()
	if q.Has("limit") {
		if n, err := strconv.Atoi(q.Get("limit")); err != nil || n < 0 {
			writeError(w, errorf(http.StatusBadRequest, "M_INVALID_PARAM", "limit: must be a whole number, 0 or more"))
			return
		}
	}
	b := s.awaitPresence(r.Context().Done(), presenceQuery{api: c.api, viewer: c.viewer, initial: true}, 0)
	_, rooms := s.roomMates(c.viewer, nil)
	now := s.clock()
	end := s.stream.token(b.upTo)
	bp := s.buffer()
	buf := append(*bp, `{"end":`...)
	buf = appendString(buf, end)
	buf = append(buf, `,"presence":[`...)
	for i, d := range b.events {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = s.appendV1PresenceEvent(buf, c.api, d, now)
	}
	buf = append(buf, `],"rooms":[`...)
	for i, jr := range rooms {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"room_id":`...)
		buf = appendString(buf, jr.id)
		buf = append(buf, `,"membership":"join","messages":{"start":`...)
		buf = appendString(buf, end)
		buf = append(buf, `,"end":`...)
		buf = appendString(buf, end)
		buf = append(buf, `,"chunk":[]},"state":[]}`...)
	}
	*bp = append(buf, "]}"...)
	writeJSON(w, http.StatusOK, *bp)
	s.releaseBuffer(bp)
}
