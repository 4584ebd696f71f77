package mockserver

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"sync"
	"time"
)

// A user is one account. Its identity and credentials never change after
// registration; everything below mu is its mutable state. Each user has its
// own lock so that no request for one user waits on another, and no code
// holds two users' locks at once, so no order between them is needed. A
// room's lock may be held while one member's is taken (a join changes both
// together), never the other way round.
type user struct {
	id           string
	passwordSalt [16]byte
	passwordHash [32]byte

	mu sync.Mutex
	presenceState
	streamState                       // where the last change stands in the sync stream
	list        []*user               // the presence list, in invite order
	listed      map[*user]bool        // the same users, for lookups; nil until the first invite
	joinedRooms map[*room]bool        // nil until the first join
	tokens      map[tokenKey]*session // the user's live access tokens; nil until the first
	profile     profile
	bucket      tokenBucket        // rate limiting
	devices     map[string]*device // by device ID; nil until the first sync or PUT
	deviceSeq   uint64             // orders the devices' changes of state
}

// presenceState is what GET status reports about a user.
type presenceState struct {
	presence     string
	statusMsg    string
	hasStatusMsg bool
	lastActive   time.Time
}

func newUser(id, password string, now time.Time, burst float64) *user {
	u := &user{id: id}
	rand.Read(u.passwordSalt[:])
	u.passwordHash = hashPassword(u.passwordSalt, password)
	u.presence = initialPresence
	u.lastActive = now // registration counts as activity
	u.bucket = tokenBucket{tokens: burst, updated: now}
	return u
}

// hashPassword is a single salted SHA-256: enough for a mock that holds
// passwords in memory for its lifetime, and not what a real homeserver
// should use (that wants a slow hash such as bcrypt or argon2).
func hashPassword(salt [16]byte, password string) [32]byte {
	h := sha256.New()
	h.Write(salt[:])
	h.Write([]byte(password))
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func (u *user) passwordIs(password string) bool {
	sum := hashPassword(u.passwordSalt, password)
	return subtle.ConstantTimeCompare(sum[:], u.passwordHash[:]) == 1
}

// state returns a copy of the user's presence, taken under its lock.
func (u *user) state() presenceState {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.presenceState
}

// lists reports whether other is on u's presence list.
func (u *user) lists(other *user) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.listed[other]
}

// sharesRoomWith reports whether u and other have joined a room in common.
// u's rooms are copied under u's lock and looked up under other's, so no
// two users' locks are held at once; most users are in few rooms, and those
// fit in a buffer on the stack.
func (u *user) sharesRoomWith(other *user) bool {
	var buf [16]*room
	rooms := buf[:0]
	u.mu.Lock()
	for rm := range u.joinedRooms {
		rooms = append(rooms, rm)
	}
	u.mu.Unlock()
	if len(rooms) == 0 {
		return false
	}
	other.mu.Lock()
	defer other.mu.Unlock()
	for _, rm := range rooms {
		if other.joinedRooms[rm] {
			return true
		}
	}
	return false
}

// listCopy returns u's presence list as it is now, so the caller can read
// each listed user without holding u's lock.
func (u *user) listCopy() []*user {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*user(nil), u.list...)
}

// userByID returns the local user with that ID, or nil.
func (s *Server) userByID(id string) *user {
	if v, ok := s.users.Load(id); ok {
		return v.(*user)
	}
	return nil
}
