package mockserver

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// GET /joined_rooms follows joins and leaves; an invitation is not a join.
func TestJoinedRooms(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t)
		a := h.register("alice")
		b := h.register("bob")
		joined := func(acct Account) []string {
			t.Helper()
			var got struct {
				JoinedRooms []string `json:"joined_rooms"`
			}
			r := mustOK(t, h.as(acct.AccessToken, "GET", prefix+"/joined_rooms", ""))
			if err := json.Unmarshal(r.body, &got); err != nil || got.JoinedRooms == nil {
				t.Fatalf("%s joined_rooms: %s", prefix, r.body)
			}
			return got.JoinedRooms
		}
		if got := joined(a); len(got) != 0 {
			t.Errorf("%s: a new user's rooms: %v", prefix, got)
		}
		r1 := h.createRoom(prefix, a, b.UserID)
		r2 := h.createRoom(prefix, a)
		want := []string{r1, r2}
		slices.Sort(want)
		if got := joined(a); !slices.Equal(got, want) {
			t.Errorf("%s: alice's rooms %v, want %v", prefix, got, want)
		}
		if got := joined(b); len(got) != 0 {
			t.Errorf("%s: invited bob's rooms: %v, want none", prefix, got)
		}
		mustOK(t, h.joinRoom(prefix, b, r1))
		if got := joined(b); !slices.Equal(got, []string{r1}) {
			t.Errorf("%s: bob's rooms after joining: %v", prefix, got)
		}
		mustOK(t, h.as(a.AccessToken, "POST", prefix+"/rooms/"+r1+"/leave", ""))
		if got := joined(a); !slices.Equal(got, []string{r2}) {
			t.Errorf("%s: alice's rooms after leaving %s: %v", prefix, r1, got)
		}
		before := h.world()
		expectError(t, h.request("GET", prefix+"/joined_rooms", "", nil), http.StatusUnauthorized, "M_MISSING_TOKEN")
		expectError(t, h.as(a.AccessToken, "POST", prefix+"/joined_rooms", "{}"), http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
		h.unchanged(prefix+" joined_rooms refused", before)
	}
}
