package mockserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// roomWithMany makes a public room of n members besides its creator, who
// is returned first.
func roomWithMany(t testing.TB, srv *Server, prefix string, n int) (creator Account, members []Account) {
	t.Helper()
	must := func(a Account, err error) Account {
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	creator = must(srv.Register("creator", "pw"))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", prefix+"/createRoom?access_token="+creator.AccessToken, strings.NewReader(`{"preset":"public_chat"}`)))
	var created struct {
		RoomID string `json:"room_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || rec.Code != 200 {
		t.Fatalf("createRoom: %d %s", rec.Code, rec.Body)
	}
	for i := range n {
		m := must(srv.Register(fmt.Sprintf("member%04d", i), "pw"))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("POST", prefix+"/join/"+url.PathEscape(created.RoomID)+"?access_token="+m.AccessToken, nil))
		if rec.Code != 200 {
			t.Fatalf("join: %d %s", rec.Code, rec.Body)
		}
		members = append(members, m)
	}
	return creator, members
}

// One change wakes every waiting long-poll at once, and each carries it.
func TestOneChangeWakesEveryLongPoll(t *testing.T) {
	const waiters = 200
	h := newHarness(t)
	creator, members := roomWithMany(t, h.srv, v3Prefix, waiters)
	tokens := make([]string, waiters)
	for i, m := range members {
		tokens[i] = h.syncAs(v3Prefix, m, "set_presence=offline").NextBatch
	}
	var started, done sync.WaitGroup
	results := make([]syncBody, waiters)
	for i, m := range members {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			req := httptest.NewRequest("GET", v3Prefix+"/sync?"+q("since", tokens[i], "timeout", "60000", "set_presence", "offline", "access_token", m.AccessToken), nil)
			started.Done()
			rec := httptest.NewRecorder()
			h.srv.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Errorf("member %d: %d %s", i, rec.Code, rec.Body)
				return
			}
			json.Unmarshal(rec.Body.Bytes(), &results[i])
		}()
	}
	started.Wait()
	// A poll that starts after the change finds it at once, one already
	// waiting is woken by it: either way each must end carrying it.
	h.putPresence(v3Prefix, creator, `{"presence":"online","status_msg":"everyone wake"}`)
	finished := make(chan struct{})
	go func() { done.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		t.Fatal("not every long-poll was woken")
	}
	for i, r := range results {
		ev := r.eventFrom(creator.UserID)
		if ev == nil || ev.Content.StatusMsg == nil || *ev.Content.StatusMsg != "everyone wake" {
			t.Errorf("member %d woke with %v", i, r.senders())
		}
	}
}

// Presence changes, joins, leaves and syncs at once: for the race detector,
// and every answer well formed.
func TestSyncUnderConcurrentChanges(t *testing.T) {
	h := newHarness(t)
	creator, members := roomWithMany(t, h.srv, r0Prefix, 20)
	roomID := h.firstRoomOf(creator)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := ""
			for n := 0; ctx.Err() == nil; n++ {
				switch n % 4 {
				case 0:
					if r := h.as(m.AccessToken, "PUT", statusPathIn(r0Prefix, m.UserID), fmt.Sprintf(`{"presence":"online","status_msg":"%d"}`, n)); r.status != 200 {
						t.Errorf("PUT: %s", r)
					}
				case 1:
					query := q("timeout", "20", "set_presence", []string{"online", "offline", "unavailable"}[n%3])
					if tok != "" {
						query += "&" + q("since", tok)
					}
					r := h.as(m.AccessToken, "GET", r0Prefix+"/sync?"+query, "")
					var b syncBody
					if err := json.Unmarshal(r.body, &b); r.status != 200 || err != nil || b.NextBatch == "" {
						t.Errorf("sync: %s", r)
						return
					}
					tok = b.NextBatch
				case 2:
					if i%2 == 0 {
						h.as(m.AccessToken, "POST", r0Prefix+"/rooms/"+url.PathEscape(roomID)+"/leave", `{}`)
					}
				case 3:
					h.as(m.AccessToken, "POST", r0Prefix+"/join/"+url.PathEscape(roomID), `{}`)
				}
			}
		}()
	}
	wg.Wait()
}

func (h *harness) firstRoomOf(acct Account) string {
	u := h.srv.userByID(acct.UserID)
	u.mu.Lock()
	defer u.mu.Unlock()
	for rm := range u.joinedRooms {
		return rm.id
	}
	h.t.Fatal("in no room")
	return ""
}
