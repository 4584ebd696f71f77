package mockserver

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"sync"
)

// The room API here is the least that visibility in r0 and v3 needs: create
// a room with invites, join, leave. A room is its members (and when each
// joined, for /sync) and nothing else: no events, no state, no aliases.

// A room is who is in it. Its lock guards its members; a join or a leave
// takes the member's lock inside it, so that the room and the member's own
// set of joined rooms change together.
type room struct {
	id     string
	public bool // anyone on the server may join, not only the invited

	mu       sync.Mutex
	members  map[*user]membership
	joinedAt map[*user]uint64 // the stream position of each joined member's join
}

type membership int

const (
	invited membership = iota + 1
	joined
)

// roomByID returns the local room with that ID, or nil.
func (s *Server) roomByID(id string) *room {
	if v, ok := s.rooms.Load(id); ok {
		return v.(*room)
	}
	return nil
}

// postCreateRoom serves POST /createRoom: the creator joins, the invitees
// are invited. Every invitee is checked before the room exists, so a
// failed request leaves nothing behind.
func (s *Server) postCreateRoom(w http.ResponseWriter, r *http.Request, c call) {
	nr, ok := decodeBody(s, w, r, decodeNewRoom)
	if !ok {
		return
	}
	invitees, err := s.resolveInvitees(c.viewer, nr.invite)
	if err != nil {
		writeError(w, err)
		return
	}
	rm := &room{public: nr.public(), members: map[*user]membership{c.viewer: joined}}
	for _, u := range invitees {
		rm.members[u] = invited
	}
	for {
		rm.id = "!" + rand.Text() + ":" + s.serverName
		if _, taken := s.rooms.LoadOrStore(rm.id, rm); !taken {
			break
		}
	}
	// The room's lock first, as everywhere: a join by an invitee may already
	// be waiting on it.
	rm.mu.Lock()
	c.viewer.join(rm)
	s.joinedLocked(rm, c.viewer)
	rm.mu.Unlock()
	s.presenceWake()
	buf := make([]byte, 0, 64)
	buf = append(buf, `{"room_id":`...)
	buf = appendString(buf, rm.id)
	writeJSON(w, http.StatusOK, append(buf, '}'))
}

// resolveInvitees turns createRoom's invite list into users: every ID is
// checked for form before any is looked up, as in a presence list.
func (s *Server) resolveInvitees(creator *user, ids []string) ([]*user, *apiError) {
	for i, id := range ids {
		if !validUserID(id) {
			return nil, errorf(http.StatusBadRequest, "M_INVALID_PARAM",
				fmt.Sprintf("invite[%d]: %s is not a Matrix user ID (@localpart:server.name)", i, quoteForMessage(id)))
		}
	}
	var users []*user
	for i, id := range ids {
		if id == creator.id {
			return nil, errorf(http.StatusBadRequest, "M_INVALID_PARAM",
				fmt.Sprintf("invite[%d]: you cannot invite yourself to a room you create", i))
		}
		u := s.userByID(id)
		if u == nil {
			return nil, noSuchUser("invite", i, id)
		}
		users = append(users, u)
	}
	return users, nil
}

// postJoin serves POST /join/{roomIdOrAlias} and POST /rooms/{roomId}/join:
// an invited user joins, a joined one stays joined, anyone may join a
// public room; everyone else is refused.
func (s *Server) postJoin(w http.ResponseWriter, r *http.Request, c call) {
	rm, err := s.roomFor(c.roomID)
	if err != nil {
		writeError(w, err)
		return
	}
	if !rm.mayJoin(c.viewer) {
		writeError(w, errNotInvited)
		return
	}
	if _, ok := decodeBody(s, w, r, decodeOptionalObject); !ok {
		return
	}
	rm.mu.Lock()
	ok := rm.mayJoinLocked(c.viewer)
	if ok {
		rm.members[c.viewer] = joined
		c.viewer.join(rm)
		s.joinedLocked(rm, c.viewer)
	}
	rm.mu.Unlock()
	if ok {
		s.presenceWake()
	}
	if !ok { // left or was never invited after all: the check above raced a change
		writeError(w, errNotInvited)
		return
	}
	buf := make([]byte, 0, 64)
	buf = append(buf, `{"room_id":`...)
	buf = appendString(buf, rm.id)
	writeJSON(w, http.StatusOK, append(buf, '}'))
}

// postLeave serves POST /rooms/{roomId}/leave: a member, joined or
// invited, is a member no longer.
func (s *Server) postLeave(w http.ResponseWriter, r *http.Request, c call) {
	rm, err := s.roomFor(c.roomID)
	if err != nil {
		writeError(w, err)
		return
	}
	if !rm.isMember(c.viewer) {
		writeError(w, errNotInRoom)
		return
	}
	if _, ok := decodeBody(s, w, r, decodeOptionalObject); !ok {
		return
	}
	rm.mu.Lock()
	_, ok := rm.members[c.viewer]
	if ok {
		delete(rm.members, c.viewer)
		delete(rm.joinedAt, c.viewer)
		c.viewer.leave(rm)
	}
	rm.mu.Unlock()
	if !ok {
		writeError(w, errNotInRoom)
		return
	}
	writeJSON(w, http.StatusOK, emptyObject)
}

var (
	errNotInvited = errorf(http.StatusForbidden, "M_FORBIDDEN", "you are not invited to this room")
	errNotInRoom  = errorf(http.StatusForbidden, "M_FORBIDDEN", "you are not in this room")
)

// roomFor finds the room a path names. The mock has no aliases and
// federates with nobody, so an alias, and a room of another server, is as
// unknown as a room that never was.
func (s *Server) roomFor(idOrAlias string) (*room, *apiError) {
	if validRoomAlias(idOrAlias) {
		return nil, errorf(http.StatusNotFound, "M_NOT_FOUND", "there is no room alias "+quoteForMessage(idOrAlias)+": this server has no aliases")
	}
	rm := s.roomByID(idOrAlias)
	if rm == nil {
		return nil, errorf(http.StatusNotFound, "M_NOT_FOUND", "there is no room "+quoteForMessage(idOrAlias)+" on this server")
	}
	return rm, nil
}

// decodeOptionalObject checks a body that may be left out, in decodeBody's
// shape; see checkOptionalObject. Nothing in it is kept.
func decodeOptionalObject(body []byte) (struct{}, *apiError) {
	return struct{}{}, checkOptionalObject(body)
}

func (rm *room) mayJoin(u *user) bool {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return rm.mayJoinLocked(u)
}

func (rm *room) mayJoinLocked(u *user) bool {
	return rm.public || rm.members[u] != 0
}

func (rm *room) isMember(u *user) bool {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return rm.members[u] != 0
}

// join records that u has joined rm; the caller holds rm's lock.
func (u *user) join(rm *room) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.joinedRooms == nil {
		u.joinedRooms = make(map[*room]bool)
	}
	u.joinedRooms[rm] = true
}

// leave records that u has left rm; the caller holds rm's lock.
func (u *user) leave(rm *room) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.joinedRooms, rm)
}
