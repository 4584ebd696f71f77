package mockserver

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mxpresence/mxpresence/mockserver/federation"
)

// FederationOptions switch the mock's federation on (Options.Federation):
// it then serves the Server-Server API on FederationHandler, under its
// ServerName, and sends its users' presence to the servers in their rooms.
type FederationOptions struct {
	// KeySeed is the ed25519 seed of the signing key (32 bytes); empty
	// makes a fresh key.
	KeySeed []byte
	// Transport carries outbound federation requests; nil does not verify
	// TLS certificates. For tests.
	Transport http.RoundTripper
	// BatchDelay is how long the sender gathers changes before it sends;
	// zero is federation.DefaultBatchDelay.
	BatchDelay time.Duration
}

// newFederation starts the federation the options ask for, with the
// deviations' tweaks; nil when it is off.
func (s *Server) newFederation(opts Options) *federation.Federation {
	if opts.Federation == nil {
		return nil
	}
	var tw federation.Tweaks
	for _, d := range opts.Deviations {
		if d.federate != nil {
			d.federate(s, &tw)
		}
	}
	f, err := federation.New(fedHome{s}, federation.Config{
		ServerName: s.serverName,
		KeySeed:    opts.Federation.KeySeed,
		Transport:  opts.Federation.Transport,
		BatchDelay: opts.Federation.BatchDelay,
		Logger:     s.logger,
		Tweaks:     tw,
	})
	if err != nil {
		s.invalid = errors.Join(s.invalid, err)
		return nil
	}
	return f
}

// FederationHandler serves the federation API, on a listener of its own;
// with federation off it answers every request 404 M_UNRECOGNIZED.
func (s *Server) FederationHandler() http.Handler {
	if s.fed == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header()["Content-Type"] = contentTypeJSON
			writeError(w, errorf(http.StatusNotFound, "M_UNRECOGNIZED", "this server does not federate"))
		})
	}
	return s.fed.Handler()
}

// Federation is the server's federation, nil when it is off; for tests
// and deviations.
func (s *Server) Federation() *federation.Federation { return s.fed }

// isLocalUserID says whether a user ID is of this server.
func (s *Server) isLocalUserID(id string) bool {
	_, server, ok := strings.Cut(id, ":")
	return ok && server == s.serverName
}

// fedHome is the server as the federation sees it. Remote users are users
// like any other to rooms and /sync (so they are room-mates with no code of
// their own), but kept apart from the accounts: no login, list, invite,
// profile or GET status finds them, as none found them before federation.
type fedHome struct{ s *Server }

// maxRemoteUsers bounds the remote users a server keeps, so that peers
// cannot grow it without end.
const maxRemoteUsers = 100000

// remoteUser returns the remote user with that ID, made on first sight;
// nil past maxRemoteUsers.
func (s *Server) remoteUser(id string) *user {
	if v, ok := s.remotes.Load(id); ok {
		return v.(*user)
	}
	if s.remoteCount.Load() >= maxRemoteUsers {
		return nil
	}
	u := &user{id: id}
	u.presence = initialPresence
	u.lastActive = s.clock()
	if v, loaded := s.remotes.LoadOrStore(id, u); loaded {
		return v.(*user)
	}
	s.remoteCount.Add(1)
	return u
}

func (h fedHome) Room(roomID string) (federation.RoomInfo, bool) {
	rm := h.s.roomByID(roomID)
	if rm == nil {
		return federation.RoomInfo{}, false
	}
	info := federation.RoomInfo{Public: rm.public}
	var first uint64
	rm.mu.Lock()
	for u, m := range rm.members {
		if m != joined {
			continue
		}
		info.Members = append(info.Members, u.id)
		if at := rm.joinedAt[u]; h.s.isLocalUserID(u.id) && (info.Creator == "" || at < first) {
			info.Creator, first = u.id, at
		}
	}
	rm.mu.Unlock()
	slices.Sort(info.Members)
	// A room no local user is in has no server here to vouch for it.
	return info, info.Creator != ""
}

var errNoRoom = errors.New("there is no such room on this server")

func (h fedHome) Join(roomID, userID string) error {
	rm := h.s.roomByID(roomID)
	u := h.s.remoteUser(userID)
	if rm == nil || u == nil {
		return errNoRoom
	}
	rm.mu.Lock()
	rm.members[u] = joined
	u.join(rm)
	h.s.joinedLocked(rm, u)
	rm.mu.Unlock()
	h.s.presenceWake()
	return nil
}

func (h fedHome) Leave(roomID, userID string) error {
	rm := h.s.roomByID(roomID)
	v, ok := h.s.remotes.Load(userID)
	if rm == nil || !ok {
		return errNoRoom
	}
	u := v.(*user)
	rm.mu.Lock()
	delete(rm.members, u)
	delete(rm.joinedAt, u)
	u.leave(rm)
	rm.mu.Unlock()
	return nil
}

func (h fedHome) LocalPresence(userID string) (federation.Presence, bool) {
	u := h.s.userByID(userID)
	if u == nil || !h.s.isLocalUserID(userID) {
		return federation.Presence{}, false
	}
	st := u.state()
	ago := lastActiveAgo(st.lastActive, h.s.clock())
	p := federation.Presence{UserID: userID, Presence: st.presence, LastActiveAgo: ago}
	switch p.Presence {
	case "online", "unavailable", "offline":
	default: // a v1 state federation has not: as the client API reports it
		p.Presence = foreignPresence
	}
	if st.hasStatusMsg {
		p.StatusMsg = &st.statusMsg
	}
	active := p.Presence == "online" && ago < currentlyActiveWindow.Milliseconds()
	p.CurrentlyActive = &active
	return p, true
}

func (h fedHome) Destinations(userID string) []string {
	u := h.s.userByID(userID)
	if u == nil {
		return nil
	}
	var dests []string
	u.mu.Lock()
	rooms := make([]*room, 0, len(u.joinedRooms))
	for rm := range u.joinedRooms {
		rooms = append(rooms, rm)
	}
	u.mu.Unlock()
	for _, rm := range rooms {
		rm.mu.Lock()
		if rm.members[u] == joined {
			for m, ms := range rm.members {
				if ms != joined || h.s.isLocalUserID(m.id) {
					continue
				}
				if _, server, ok := strings.Cut(m.id, ":"); ok && !slices.Contains(dests, server) {
					dests = append(dests, server)
				}
			}
		}
		rm.mu.Unlock()
	}
	slices.Sort(dests)
	return dests
}

func (h fedHome) ApplyPresence(p federation.Presence) {
	var u *user
	if h.s.isLocalUserID(p.UserID) {
		u = h.s.userByID(p.UserID) // only ever by a fault: the reference drops items about other servers' users
	} else {
		u = h.s.remoteUser(p.UserID)
	}
	if u == nil {
		return
	}
	now := h.s.clock()
	u.mu.Lock()
	u.presence = p.Presence
	u.hasStatusMsg = p.StatusMsg != nil
	u.statusMsg = ""
	if p.StatusMsg != nil {
		u.statusMsg = *p.StatusMsg
	}
	u.lastActive = now.Add(-time.Duration(p.LastActiveAgo) * time.Millisecond)
	h.s.presenceChangedLocked(u, now)
	u.mu.Unlock()
	h.s.presenceWake()
}
