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
	if s.seams.widen != nil {
		mates = s.seams.widen(s, api, viewer, mates)
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

// collect gathers what the viewer is owed: for an initial sync every
// mate's presence and every joined room; for an incremental one each mate
// whose presence changed, or who became a mate, after since, and the rooms
// joined after it. Everything it returns took a position no later than
// upTo, the position the response's token names, and each user appears
// once, with the state they are in now, in stream order.
func (s *Server) collect(api *apiVersion, viewer *user, since uint64, initial bool) (out []delivery, rooms []joinedRoom, upTo uint64) {
	// Positions are consecutive, so what the log holds after since is
	// known before it is read. Past logScanMax entries, walking the mates
	// costs less: when thousands of users come online at once, each
	// long-poll would otherwise look through every one of them (and copy
	// them out of the log's chunks), thousands of times over.
	if !initial && s.stream.current()-since <= logScanMax {
		if entries, upTo, ok := s.stream.since(since); ok {
			return s.collectFromLog(api, viewer, since, entries, upTo)
		}
	}
	mates, rooms := s.audience(api, viewer)
	out, upTo = s.collectFromMates(mates, since, initial)
	if !initial {
		rooms = slices.DeleteFunc(rooms, func(jr joinedRoom) bool { return jr.joinedAt <= since || jr.joinedAt > upTo })
	}
	return out, rooms, upTo
}

// logScanMax is how many log entries collect looks through before it walks
// the mates instead; a look at one entry costs about as much as a look at
// one mate.
const logScanMax = 256

// collectFromMates walks every mate: for initial syncs, for tokens older
// than the log, and for tokens with more than logScanMax changes after
// them.
func (s *Server) collectFromMates(mates []mate, since uint64, initial bool) (out []delivery, upTo uint64) {
	upTo = s.stream.current()
	out = make([]delivery, 0, len(mates))
	for _, m := range mates {
		d, changedTime := readDelivery(m.u)
		if !initial {
			d.at = max(d.changedAt, m.sharedFrom)
			if d.at <= since {
				continue
			}
		}
		out = append(out, d)
		upTo = s.holdBackYoung(d, changedTime, since, upTo)
	}
	return s.settle(out, upTo, initial)
}

// collectFromLog looks at the log entries after since alone.
func (s *Server) collectFromLog(api *apiVersion, viewer *user, since uint64, entries []streamEntry, upTo uint64) ([]delivery, []joinedRoom, uint64) {
	var extra map[*user]bool
	if s.seams.widen != nil {
		extra = map[*user]bool{}
		for _, m := range s.seams.widen(s, api, viewer, nil) {
			extra[m.u] = true
		}
	}
	seen := map[*user]bool{}
	visible := func(u *user) bool {
		v, known := seen[u]
		if !known {
			switch {
			case u == viewer, extra[u]:
				v = true
			case api.visibility == visibleByList:
				v = viewer.lists(u)
			case api.visibility == visibleBySharedRoom:
				v = viewer.sharesRoomWith(u)
			}
			seen[u] = v
		}
		return v
	}
	news := map[*user]uint64{} // the latest position that makes each user news
	roomsAt := map[*room]uint64{}
	for _, e := range entries {
		if e.pos > upTo {
			break
		}
		switch {
		case e.rm == nil:
			if visible(e.u) {
				news[e.u] = max(news[e.u], e.pos)
			}
		case api.visibility != visibleBySharedRoom:
			// joins decide nothing where presence lists do
		case e.u == viewer:
			// A room the viewer joined: its members are news, unless
			// they shared another room already.
			var members []*user
			e.rm.mu.Lock()
			if e.rm.members[viewer] == joined && e.rm.joinedAt[viewer] == e.pos {
				roomsAt[e.rm] = e.pos
				for u, m := range e.rm.members {
					if m == joined && u != viewer {
						members = append(members, u)
					}
				}
			}
			e.rm.mu.Unlock()
			for _, u := range members {
				if from, ok := s.sharedSince(viewer, u); ok && from > since {
					news[u] = max(news[u], from)
				}
			}
		default:
			// Someone joined a room of the viewer's: news, likewise.
			if from, ok := s.sharedSince(viewer, e.u); ok && from > since {
				news[e.u] = max(news[e.u], from)
			}
		}
	}
	out := make([]delivery, 0, len(news))
	for u, at := range news {
		d, changedTime := readDelivery(u)
		d.at = max(at, d.changedAt)
		out = append(out, d)
		upTo = s.holdBackYoung(d, changedTime, since, upTo)
	}
	var rooms []joinedRoom
	for rm, at := range roomsAt {
		if at <= upTo {
			rooms = append(rooms, joinedRoom{id: rm.id, joinedAt: at})
		}
	}
	out, upTo = s.settle(out, upTo, false)
	return out, rooms, upTo
}

// sharedSince is the position from which viewer and u have shared a
// joined room, as roomMates reckons it, and whether they share one now.
func (s *Server) sharedSince(viewer, u *user) (uint64, bool) {
	viewer.mu.Lock()
	mine := make([]*room, 0, len(viewer.joinedRooms))
	for rm := range viewer.joinedRooms {
		mine = append(mine, rm)
	}
	viewer.mu.Unlock()
	var from uint64
	shared := false
	for _, rm := range mine {
		rm.mu.Lock()
		if rm.members[viewer] == joined && rm.members[u] == joined {
			f := max(rm.joinedAt[viewer], rm.joinedAt[u])
			if !shared || f < from {
				from = f
			}
			shared = true
		}
		rm.mu.Unlock()
	}
	return from, shared
}

// readDelivery reads a user's presence and where it stands, under the
// user's lock.
func readDelivery(u *user) (delivery, time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	d := delivery{u: u, state: u.presenceState, changedAt: u.changedAt}
	d.at = d.changedAt
	return d, u.changedTime
}

// holdBackYoung stops the token short of a change that is too young to
// show yet, when delivery lags: the next sync brings it.
func (s *Server) holdBackYoung(d delivery, changedTime time.Time, since, upTo uint64) uint64 {
	if s.seams.lag > 0 && d.changedAt > since && s.clock().Sub(changedTime) < s.seams.lag {
		return min(upTo, d.changedAt-1)
	}
	return upTo
}

// settle drops, from an incremental sync, what comes after upTo (the next
// token brings it), and puts the rest in stream order: the latest change
// last.
func (s *Server) settle(out []delivery, upTo uint64, initial bool) ([]delivery, uint64) {
	if !initial {
		out = slices.DeleteFunc(out, func(d delivery) bool { return d.at > upTo })
	}
	slices.SortFunc(out, func(a, b delivery) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.u.id, b.u.id))
	})
	return out, upTo
}
