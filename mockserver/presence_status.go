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
	update, ok := decodeBody(s, w, r, func(body []byte) (presenceUpdate, *apiError) {
		return decodePresenceUpdate(body, c.api)
	})
	if !ok {
		return
	}
	now := s.clock()
	u := c.viewer
	u.mu.Lock()
	s.putStatusLocked(u, c.deviceID(), update, now)
	u.mu.Unlock()
	s.presenceWake()
	s.scheduleTimers(u)
	writeJSON(w, http.StatusOK, emptyObject)
}

// getStatus serves GET /presence/{userId}/status for the viewer's own
// status and for the users the version lets the viewer see. Anyone else
// gets the very answer a user who does not exist gets.
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request, c call) {
	target := s.visibleTo(c.api, c.viewer, c.userID)
	if target == nil {
		writeError(w, errNoPresence)
		return
	}
	s.applyDueTimers(target)
	state := target.state()
	bp := s.buffer()
	*bp = appendStatus(*bp, c.api, state, s.clock())
	writeJSON(w, http.StatusOK, *bp)
	s.releaseBuffer(bp)
}

// visibleTo returns the user named id if viewer may see their presence:
// in v1 the users on the viewer's list, in r0 and v3 the users the viewer
// shares a joined room with. Reading your own status touches neither.
func (s *Server) visibleTo(api *apiVersion, viewer *user, id string) *user {
	if id == viewer.id {
		return viewer
	}
	target := s.userByID(id)
	if target == nil {
		return nil
	}
	switch api.visibility {
	case visibleByList:
		if viewer.lists(target) {
			return target
		}
	case visibleBySharedRoom:
		if viewer.sharesRoomWith(target) {
			return target
		}
	}
	return nil
}

// currentlyActiveWindow is how recent the last activity of an online user
// must be for currently_active to be true.
const currentlyActiveWindow = 5 * time.Minute

// appendStatus appends the GET status body as the version has it:
// status_msg is null when unset, as the spec's example shows, and
// currently_active is there where the version defines it.
func appendStatus(dst []byte, api *apiVersion, p presenceState, now time.Time) []byte {
	presence := api.reportedState(p.presence)
	ago := lastActiveAgo(p.lastActive, now)
	dst = append(dst, `{"presence":`...)
	dst = appendString(dst, presence)
	dst = append(dst, `,"last_active_ago":`...)
	dst = strconv.AppendInt(dst, ago, 10)
	dst = append(dst, `,"status_msg":`...)
	if p.hasStatusMsg {
		dst = appendString(dst, p.statusMsg)
	} else {
		dst = append(dst, "null"...)
	}
	if api.currentlyActive {
		if presence == "online" && ago < currentlyActiveWindow.Milliseconds() {
			dst = append(dst, `,"currently_active":true`...)
		} else {
			dst = append(dst, `,"currently_active":false`...)
		}
	}
	return append(dst, '}')
}

// lastActiveAgo is in whole milliseconds, never negative even if an
// injected clock steps back.
func lastActiveAgo(lastActive, now time.Time) int64 {
	return max(0, now.Sub(lastActive).Milliseconds())
}
