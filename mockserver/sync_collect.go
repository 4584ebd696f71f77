package mockserver

import (
	"cmp"
	"slices"
	"time"
)

// A mate is a user whose presence a viewer may receive, with the position
// from which the viewer may: a join for room-mates (the later of the two
// joins, the earliest over the rooms they share), 0 for the viewer and
// for the users on a v1 presence list.
type mate struct {
	u          *user
	sharedFrom uint64
}

// joinedRoom is one of the viewer's rooms as a sync reports it.
type joinedRoom struct {
	id       string
	joinedAt uint64
}

// deliverySeams are where deviations reach into delivery; the reference
// leaves them zero. A seam rather than a flag in the code, so that the
// reference reads as one path.
type deliverySeams struct {
	// lag holds each change back from incremental syncs until it is this
	// old.
	lag time.Duration
	// widen, when set, changes who a viewer receives presence from.
	widen func(s *Server, api *apiVersion, viewer *user, mates []mate) []mate
}

// audience is who viewer receives presence from in this version: the
// viewer, and the users they share a joined room with (r0, v3) or have on
// their presence list (v1). rooms lists the viewer's joined rooms.
func (s *Server) audience(api *apiVersion, viewer *user) (mates []mate, rooms []joinedRoom) {
	mates = append(mates, mate{u: viewer})
	switch api.visibility {
	case visibleByList:
		for _, u := range viewer.listCopy() {
			mates = append(mates, mate{u: u})
		}
	case visibleBySharedRoom:
		mates, rooms = s.roomMates(viewer, mates)
	}
	if s.delivery.widen != nil {
		mates = s.delivery.widen(s, api, viewer, mates)
	}
	return mates, rooms
}

// roomMates appends the users who share a joined room with viewer. Each
// room is read under its own lock alone.
func (s *Server) roomMates(viewer *user, mates []mate) ([]mate, []joinedRoom) {
	viewer.mu.Lock()
	mine := make([]*room, 0, len(viewer.joinedRooms))
	for rm := range viewer.joinedRooms {
		mine = append(mine, rm)
	}
	viewer.mu.Unlock()
	var rooms []joinedRoom
	index := map[*user]int{} // position in mates
	for _, rm := range mine {
		rm.mu.Lock()
		myJoin, in := rm.joinedAt[viewer]
		if rm.members[viewer] != joined {
			in = false // left since the copy was taken
		}
		if in {
			rooms = append(rooms, joinedRoom{id: rm.id, joinedAt: myJoin})
			for u, m := range rm.members {
				if m != joined || u == viewer {
					continue
				}
				from := max(myJoin, rm.joinedAt[u])
				if i, seen := index[u]; seen {
					mates[i].sharedFrom = min(mates[i].sharedFrom, from)
					continue
				}
				index[u] = len(mates)
				mates = append(mates, mate{u: u, sharedFrom: from})
			}
		}
		rm.mu.Unlock()
	}
	return mates, rooms
}

// A delivery is one user's presence as a response carries it.
type delivery struct {
	u         *user
	state     presenceState
	changedAt uint64 // the position of the change that made state
	at        uint64 // what puts it in this response: changedAt, or a join
}

// collect gathers the presence the viewer is owed: every mate's, for an
// initial sync; for an incremental one, each mate whose presence changed,
// or who became a mate, after since. Everything it returns took a position
// no later than upTo, the position the response's token names, and each
// user appears once, with the state they are in now.
func (s *Server) collect(mates []mate, since uint64, initial bool) (out []delivery, upTo uint64) {
	upTo = s.stream.current()
	now := s.clock()
	out = make([]delivery, 0, len(mates))
	for _, m := range mates {
		m.u.mu.Lock()
		d := delivery{u: m.u, state: m.u.presenceState, changedAt: m.u.changedAt}
		d.at = d.changedAt
		changedTime := m.u.changedTime
		m.u.mu.Unlock()
		if initial {
			out = append(out, d)
			continue
		}
		news := max(d.changedAt, m.sharedFrom)
		if news <= since {
			continue
		}
		if s.delivery.lag > 0 && d.changedAt > since && now.Sub(changedTime) < s.delivery.lag {
			// Not yet: the token stops short of it, so the next sync
			// brings it.
			upTo = min(upTo, d.changedAt-1)
			continue
		}
		d.at = news
		out = append(out, d)
	}
	if !initial {
		// A change after upTo comes with the next token instead: this one
		// must not pass over it.
		out = slices.DeleteFunc(out, func(d delivery) bool { return d.at > upTo })
	}
	// Stream order: the latest change last.
	slices.SortFunc(out, func(a, b delivery) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.u.id, b.u.id))
	})
	return out, upTo
}
