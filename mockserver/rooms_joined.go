package mockserver

import (
	"net/http"
	"slices"
)

// getJoinedRooms serves GET /joined_rooms: the rooms the caller has
// joined, not those they are only invited to, sorted by ID so that the
// answer does not change while nothing else does.
func (s *Server) getJoinedRooms(w http.ResponseWriter, r *http.Request, c call) {
	u := c.viewer
	u.mu.Lock()
	ids := make([]string, 0, len(u.joinedRooms))
	for rm := range u.joinedRooms {
		ids = append(ids, rm.id)
	}
	u.mu.Unlock()
	slices.Sort(ids)
	buf := append(make([]byte, 0, 32+40*len(ids)), `{"joined_rooms":[`...)
	for i, id := range ids {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, id)
	}
	writeJSON(w, http.StatusOK, append(buf, "]}"...))
}
