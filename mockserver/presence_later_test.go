package mockserver

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The presence API under r0 and v3: each version's own enum, and
// currently_active in GET status.

func TestFreeForChatOnlyInV1(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"unavailable","status_msg":"before"}`))
	for _, prefix := range laterPrefixes {
		before := h.world()
		r := h.as(a.AccessToken, "PUT", statusPathIn(prefix, a.UserID), `{"presence":"free_for_chat"}`)
		expectError(t, r, http.StatusBadRequest, "M_BAD_JSON")
		if !strings.Contains(string(r.body), "presence") || !strings.Contains(string(r.body), "online, offline, unavailable") {
			t.Errorf("%s: the error does not name the field and the states: %s", prefix, r.body)
		}
		h.unchanged(prefix+" PUT free_for_chat", before)
	}
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"free_for_chat"}`))
	if r := mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), "")); !strings.Contains(string(r.body), `"presence":"free_for_chat"`) {
		t.Errorf("v1 after free_for_chat: %s", r.body)
	}
	// Read through a version without it, it is the online it is a form of.
	for _, prefix := range laterPrefixes {
		r := mustOK(t, h.as(a.AccessToken, "GET", statusPathIn(prefix, a.UserID), ""))
		if want := `{"presence":"online","last_active_ago":0,"status_msg":null,"currently_active":true}`; string(r.body) != want {
			t.Errorf("%s after free_for_chat through v1: %s, want %s", prefix, r.body, want)
		}
	}
}

func TestEveryPresenceStateOfTheLaterVersions(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	for _, prefix := range laterPrefixes {
		for _, state := range []string{"online", "offline", "unavailable"} {
			mustOK(t, h.as(a.AccessToken, "PUT", statusPathIn(prefix, a.UserID), `{"presence":"`+state+`"}`))
			got := decodeJSON(t, mustOK(t, h.as(a.AccessToken, "GET", statusPathIn(prefix, a.UserID), "")).body).(map[string]any)
			if got["presence"] != state {
				t.Errorf("%s: PUT %s, GET says %v", prefix, state, got["presence"])
			}
		}
	}
}

// currently_active is a boolean, true while an online user's last activity
// is less than five minutes old.
func TestCurrentlyActive(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	active := func(prefix string) any {
		t.Helper()
		got := decodeJSON(t, mustOK(t, h.as(a.AccessToken, "GET", statusPathIn(prefix, a.UserID), "")).body).(map[string]any)
		v, ok := got["currently_active"]
		if !ok {
			t.Fatalf("%s: no currently_active in %v", prefix, got)
		}
		if _, isBool := v.(bool); !isBool {
			t.Fatalf("%s: currently_active is %T, not a boolean", prefix, v)
		}
		return v
	}
	for _, prefix := range laterPrefixes {
		h.clock.Advance(time.Hour)
		if v := active(prefix); v != false {
			t.Errorf("%s: a new, offline account: currently_active %v", prefix, v)
		}
		mustOK(t, h.as(a.AccessToken, "PUT", statusPathIn(prefix, a.UserID), `{"presence":"online"}`))
		if v := active(prefix); v != true {
			t.Errorf("%s: online just now: %v", prefix, v)
		}
		h.clock.Advance(5*time.Minute - time.Millisecond)
		if v := active(prefix); v != true {
			t.Errorf("%s: online 4:59.999 ago: %v", prefix, v)
		}
		h.clock.Advance(time.Millisecond)
		if v := active(prefix); v != false {
			t.Errorf("%s: online 5:00 ago: %v", prefix, v)
		}
		for _, state := range []string{"unavailable", "offline"} {
			mustOK(t, h.as(a.AccessToken, "PUT", statusPathIn(prefix, a.UserID), `{"presence":"`+state+`"}`))
			if v := active(prefix); v != false {
				t.Errorf("%s: %s just now: %v", prefix, state, v)
			}
		}
	}
	// v1 responses stay as they were.
	if r := mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), "")); strings.Contains(string(r.body), "currently_active") {
		t.Errorf("v1 GET status: %s", r.body)
	}
}

func TestLaterPutStatusRefusals(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	b := h.register("bob")
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"online","status_msg":"before"}`))
	h.clock.Advance(time.Second)
	for _, prefix := range laterPrefixes {
		for _, tt := range []struct {
			name, path, body string
			status           int
			errcode          string
		}{
			{"another user's status", statusPathIn(prefix, b.UserID), `{"presence":"offline"}`, 403, "M_FORBIDDEN"},
			{"malformed user ID", statusPathIn(prefix, "alice"), `{"presence":"offline"}`, 400, "M_INVALID_PARAM"},
			{"not JSON", statusPathIn(prefix, a.UserID), `presence=online`, 400, "M_NOT_JSON"},
			{"empty body", statusPathIn(prefix, a.UserID), ``, 400, "M_NOT_JSON"},
			{"an array", statusPathIn(prefix, a.UserID), `[]`, 400, "M_BAD_JSON"},
			{"no presence", statusPathIn(prefix, a.UserID), `{"status_msg":"x"}`, 400, "M_BAD_JSON"},
			{"unknown state", statusPathIn(prefix, a.UserID), `{"presence":"busy"}`, 400, "M_BAD_JSON"},
			{"v1's extra state", statusPathIn(prefix, a.UserID), `{"presence":"free_for_chat","status_msg":"x"}`, 400, "M_BAD_JSON"},
			{"presence twice", statusPathIn(prefix, a.UserID), `{"presence":"online","presence":"offline"}`, 400, "M_BAD_JSON"},
			{"status_msg null", statusPathIn(prefix, a.UserID), `{"presence":"online","status_msg":null}`, 400, "M_BAD_JSON"},
			{"too large", statusPathIn(prefix, a.UserID), `{"presence":"online","status_msg":"` + strings.Repeat("x", maxBodyBytes) + `"}`, 413, "M_TOO_LARGE"},
		} {
			before := h.world()
			expectError(t, h.as(a.AccessToken, "PUT", tt.path, tt.body), tt.status, tt.errcode)
			h.unchanged(prefix+" "+tt.name, before)
		}
	}
}

// In r0 and v3 you see yourself and the users you share a joined room
// with; an invitation is not enough. Anyone else is as invisible as a user
// who does not exist.
func TestLaterVisibilityBySharedRoom(t *testing.T) {
	for _, prefix := range laterPrefixes {
		t.Run(strings.TrimPrefix(prefix, "/_matrix/client/"), func(t *testing.T) {
			h := newHarness(t)
			a := h.register("alice")
			b := h.register("bob")
			c := h.register("carol")
			mustOK(t, h.as(b.AccessToken, "PUT", statusPathIn(prefix, b.UserID), `{"presence":"online","status_msg":"bob here"}`))
			notFound := h.as(a.AccessToken, "GET", statusPathIn(prefix, "@nobody:localhost"), "")
			expectError(t, notFound, http.StatusNotFound, "M_NOT_FOUND")
			hidden := func(viewer Account, target string) {
				t.Helper()
				r := h.as(viewer.AccessToken, "GET", statusPathIn(prefix, target), "")
				if r.status != notFound.status || string(r.body) != string(notFound.body) {
					t.Errorf("%s reads %s: %s; want exactly %s", viewer.UserID, target, r, notFound)
				}
			}
			sees := func(viewer Account, target string) {
				t.Helper()
				if r := h.as(viewer.AccessToken, "GET", statusPathIn(prefix, target), ""); r.status != http.StatusOK {
					t.Errorf("%s reads %s: %s, want 200", viewer.UserID, target, r)
				}
			}
			hidden(a, b.UserID)
			hidden(b, a.UserID)
			hidden(a, "@bob:elsewhere")

			// Invited is not joined.
			roomID := h.createRoom(prefix, a, b.UserID)
			hidden(a, b.UserID)
			hidden(b, a.UserID)

			mustOK(t, h.joinRoom(prefix, b, roomID))
			h.clock.Advance(3 * time.Millisecond)
			r := mustOK(t, h.as(a.AccessToken, "GET", statusPathIn(prefix, b.UserID), ""))
			if want := `{"presence":"online","last_active_ago":3,"status_msg":"bob here","currently_active":true}`; string(r.body) != want {
				t.Errorf("alice reads bob: %s, want %s", r.body, want)
			}
			sees(b, a.UserID)
			hidden(c, a.UserID)
			hidden(c, b.UserID)
			hidden(a, c.UserID)
			// The rooms of r0 and v3 are not v1's presence lists, nor the
			// other way round.
			expectError(t, h.as(a.AccessToken, "GET", statusPath(b.UserID), ""), http.StatusNotFound, "M_NOT_FOUND")
			mustOK(t, h.as(a.AccessToken, "POST", listPath(a.UserID), `{"invite":["@carol:localhost"]}`))
			hidden(a, c.UserID)

			// A second shared room: leaving one keeps the other.
			second := h.createRoom(prefix, b, a.UserID)
			mustOK(t, h.joinRoom(prefix, a, second))
			mustOK(t, h.as(b.AccessToken, "POST", prefix+"/rooms/"+roomID+"/leave", `{}`))
			sees(a, b.UserID)
			sees(b, a.UserID)
			mustOK(t, h.as(a.AccessToken, "POST", prefix+"/rooms/"+second+"/leave", ``))
			hidden(a, b.UserID)
			hidden(b, a.UserID)
			sees(a, a.UserID)
		})
	}
}
