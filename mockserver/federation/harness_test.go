package federation

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHome is a homeserver of rooms and presence in memory, recording
// what the federation asks of it.
type fakeHome struct {
	name string

	mu       sync.Mutex
	rooms    map[string]*fakeRoom
	presence map[string]Presence // local users' presence
	applied  []Presence          // what ApplyPresence was given, in order
}

type fakeRoom struct {
	creator string
	public  bool
	members []string
}

func newFakeHome(name string) *fakeHome {
	return &fakeHome{name: name, rooms: map[string]*fakeRoom{}, presence: map[string]Presence{}}
}

func (h *fakeHome) addRoom(id, creator string, public bool, members ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rooms[id] = &fakeRoom{creator: creator, public: public, members: append([]string{creator}, members...)}
}

func (h *fakeHome) setPresence(p Presence) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.presence[p.UserID] = p
}

func (h *fakeHome) Room(roomID string) (RoomInfo, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rm := h.rooms[roomID]
	if rm == nil {
		return RoomInfo{}, false
	}
	return RoomInfo{Creator: rm.creator, Public: rm.public, Members: slices.Clone(rm.members)}, true
}

func (h *fakeHome) Join(roomID, userID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	rm := h.rooms[roomID]
	if rm == nil {
		return errNoRoomForTest
	}
	if !slices.Contains(rm.members, userID) {
		rm.members = append(rm.members, userID)
	}
	return nil
}

func (h *fakeHome) Leave(roomID, userID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	rm := h.rooms[roomID]
	if rm == nil {
		return errNoRoomForTest
	}
	rm.members = slices.DeleteFunc(rm.members, func(m string) bool { return m == userID })
	return nil
}

func (h *fakeHome) members(roomID string) []string {
	info, _ := h.Room(roomID)
	return info.Members
}

func (h *fakeHome) LocalPresence(userID string) (Presence, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.presence[userID]
	return p, ok
}

func (h *fakeHome) Destinations(userID string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, rm := range h.rooms {
		if !slices.Contains(rm.members, userID) {
			continue
		}
		for _, m := range rm.members {
			_, server, _ := strings.Cut(m, ":")
			if server != h.name && !slices.Contains(out, server) {
				out = append(out, server)
			}
		}
	}
	return out
}

func (h *fakeHome) ApplyPresence(p Presence) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.applied = append(h.applied, p)
}

func (h *fakeHome) appliedCopy() []Presence {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.applied)
}

var errNoRoomForTest = io.ErrUnexpectedEOF

// serve runs one request through the handler.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// wantError checks a Matrix error answer.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, errcode string) {
	t.Helper()
	var body struct {
		Errcode string `json:"errcode"`
		Error   string `json:"error"`
	}
	if rec.Code != status || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Errcode != errcode || body.Error == "" {
		t.Fatalf("got %d %s, want %d %s with a message", rec.Code, rec.Body.String(), status, errcode)
	}
}

// newMock is a federation named localhost over home, with a short batch
// delay.
func newMock(t *testing.T, home Home, tw Tweaks) *Federation {
	t.Helper()
	f, err := New(home, Config{ServerName: "localhost", BatchDelay: 5 * time.Millisecond, Tweaks: tw})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// presenceEDU is a transaction body with one m.presence EDU of items.
func presenceTxn(origin string, items ...any) map[string]any {
	return map[string]any{
		"origin": origin, "origin_server_ts": 1, "pdus": []any{},
		"edus": []any{map[string]any{"edu_type": "m.presence", "content": map[string]any{"push": items}}},
	}
}
