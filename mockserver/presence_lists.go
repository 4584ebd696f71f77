package mockserver

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// postPresenceList serves POST /presence/list/{userId}. Invites of local
// users are accepted at once. Every user ID in the body is checked before
// anything changes, then invites and drops apply in one step under the
// owner's lock, so a failed request changes nothing and a reader never sees
// half a change.
func (s *Server) postPresenceList(w http.ResponseWriter, r *http.Request, c call) {
	owner := c.viewer
	if c.userID != owner.id {
		writeError(w, errorf(http.StatusForbidden, "M_FORBIDDEN", "you cannot change another user's presence list"))
		return
	}
	diff, ok := decodeBody(s, w, r, decodeListDiff)
	if !ok {
		return
	}
	invite, drop, err := s.resolveListDiff(owner, diff)
	if err != nil {
		writeError(w, err)
		return
	}
	owner.mu.Lock()
	for _, u := range invite {
		if owner.listed[u] {
			continue // inviting twice changes nothing
		}
		if owner.listed == nil {
			owner.listed = make(map[*user]bool)
		}
		owner.listed[u] = true
		owner.list = append(owner.list, u)
	}
	for _, u := range drop {
		if !owner.listed[u] {
			continue // dropping someone not listed changes nothing
		}
		delete(owner.listed, u)
		for i, listed := range owner.list {
			if listed == u {
				owner.list = append(owner.list[:i], owner.list[i+1:]...)
				break
			}
		}
	}
	owner.mu.Unlock()
	writeJSON(w, http.StatusOK, emptyObject)
}

// resolveListDiff turns the body's user IDs into users. Every ID is checked
// for form before any is looked up, so a malformed ID anywhere is a 400
// whatever else the body holds. The owner in drop is skipped: they are never
// on their own list, so dropping them is dropping someone not listed.
func (s *Server) resolveListDiff(owner *user, diff listDiff) (invite, drop []*user, err *apiError) {
	for _, field := range []struct {
		name string
		ids  []string
	}{{"invite", diff.invite}, {"drop", diff.drop}} {
		for i, id := range field.ids {
			if !validUserID(id) {
				return nil, nil, errorf(http.StatusBadRequest, "M_INVALID_PARAM",
					fmt.Sprintf("%s[%d]: %s is not a Matrix user ID (@localpart:server.name)", field.name, i, quoteForMessage(id)))
			}
		}
	}
	for i, id := range diff.invite {
		if id == owner.id {
			return nil, nil, errorf(http.StatusBadRequest, "M_INVALID_PARAM",
				fmt.Sprintf("invite[%d]: you cannot invite yourself to your own presence list", i))
		}
		u := s.userByID(id)
		if u == nil {
			return nil, nil, noSuchUser("invite", i, id)
		}
		invite = append(invite, u)
	}
	for i, id := range diff.drop {
		if id == owner.id {
			continue
		}
		u := s.userByID(id)
		if u == nil {
			return nil, nil, noSuchUser("drop", i, id)
		}
		drop = append(drop, u)
	}
	return invite, drop, nil
}

// noSuchUser covers unknown local users and every remote one alike: this
// server federates with nobody.
func noSuchUser(field string, i int, id string) *apiError {
	return errorf(http.StatusNotFound, "M_NOT_FOUND",
		fmt.Sprintf("%s[%d]: there is no user %s on this server", field, i, quoteForMessage(id)))
}

// getPresenceList serves GET /presence/list/{userId} to its owner: one
// m.presence event per listed user, in invite order.
func (s *Server) getPresenceList(w http.ResponseWriter, r *http.Request, c call) {
	if c.userID != c.viewer.id {
		writeError(w, errorf(http.StatusForbidden, "M_FORBIDDEN", "you cannot read another user's presence list"))
		return
	}
	listed := c.viewer.listCopy() // then read each user under their own lock alone
	now := s.clock()
	bp := s.buffer()
	buf := append(*bp, '[')
	for i, u := range listed {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendPresenceEvent(buf, u.id, u.state(), now)
		// A long list goes out in pieces from one small buffer rather than
		// growing a large one per request. Bodies over 2 KiB are sent
		// chunked by net/http in any case, so the wire format is the same.
		if len(buf) >= listFlushBytes {
			w.Write(buf)
			buf = buf[:0]
		}
	}
	*bp = append(buf, ']')
	w.Write(*bp)
	s.releaseBuffer(bp)
}

// listFlushBytes is how much of a presence list is built before it is sent.
const listFlushBytes = 16 << 10

// appendPresenceEvent appends an m.presence event. Unlike GET status, the
// content carries status_msg only when one is set: the spec's example
// leaves it out, and an event's content omits what does not apply.
func appendPresenceEvent(dst []byte, userID string, p presenceState, now time.Time) []byte {
	dst = append(dst, `{"type":"m.presence","content":{"user_id":`...)
	dst = appendString(dst, userID)
	dst = append(dst, `,"presence":`...)
	dst = appendString(dst, p.presence)
	dst = append(dst, `,"last_active_ago":`...)
	dst = strconv.AppendInt(dst, lastActiveAgo(p.lastActive, now), 10)
	if p.hasStatusMsg {
		dst = append(dst, `,"status_msg":`...)
		dst = appendString(dst, p.statusMsg)
	}
	return append(dst, "}}"...)
}
