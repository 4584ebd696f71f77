package mockserver

import (
	"net/http"
	"strconv"
	"time"
)

// putStatus serves PUT /presence/{userId}/status: only the owner sets it,
// presence and status_msg together (an absent status_msg clears it), and
// setting it is activity.
func (s *Server) putStatus(w http.ResponseWriter, r *http.Request, c call) {
	if c.userID != c.viewer.id {
		writeError(w, errorf(http.StatusForbidden, "M_FORBIDDEN", "you cannot set the presence of another user"))
		return
	}
	bp, err := s.readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	update, err := decodePresenceUpdate(*bp, c.api)
	s.releaseBuffer(bp)
	if err != nil {
		writeError(w, err)
		return
	}
	now := s.clock()
	u := c.viewer
	u.mu.Lock()
	u.presence = update.presence
	u.statusMsg, u.hasStatusMsg = update.statusMsg, update.hasStatusMsg
	u.lastActive = now
	u.mu.Unlock()
	writeJSON(w, http.StatusOK, emptyObject)
}

// getStatus serves GET /presence/{userId}/status for the viewer's own
// status and for the users on the viewer's presence list. Anyone else gets
// the very answer a user who does not exist gets.
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request, c call) {
	target := s.visibleTo(c.viewer, c.userID)
	if target == nil {
		writeError(w, errNoPresence)
		return
	}
	state := target.state()
	bp := s.buffer()
	*bp = appendStatus(*bp, state, s.clock())
	writeJSON(w, http.StatusOK, *bp)
	s.releaseBuffer(bp)
}

// visibleTo returns the user named id if viewer may see their presence.
func (s *Server) visibleTo(viewer *user, id string) *user {
	if id == viewer.id {
		return viewer
	}
	target := s.userByID(id)
	if target == nil || !viewer.lists(target) {
		return nil
	}
	return target
}

// appendStatus appends the GET status body: status_msg is null when unset,
// as the spec's example shows.
func appendStatus(dst []byte, p presenceState, now time.Time) []byte {
	dst = append(dst, `{"presence":`...)
	dst = appendString(dst, p.presence)
	dst = append(dst, `,"last_active_ago":`...)
	dst = strconv.AppendInt(dst, lastActiveAgo(p.lastActive, now), 10)
	dst = append(dst, `,"status_msg":`...)
	if p.hasStatusMsg {
		dst = appendString(dst, p.statusMsg)
	} else {
		dst = append(dst, "null"...)
	}
	return append(dst, '}')
}

// lastActiveAgo is in whole milliseconds, never negative even if an
// injected clock steps back.
func lastActiveAgo(lastActive, now time.Time) int64 {
	return max(0, now.Sub(lastActive).Milliseconds())
}
