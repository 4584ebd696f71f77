package mockserver

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Many goroutines read and write many users at once. Each user is written
// by one goroutine only, which keeps the user's last successful write on
// the client side; at the end, and after every own read, the server must
// agree with it. Readers, failed writes against other users, logins and new
// registrations run alongside. Run under -race.
func TestConcurrentUsers(t *testing.T) {
	const (
		users   = 24
		rounds  = 150
		readers = 6
	)
	// Rate limiting stays on (at a rate nobody reaches) so the buckets are
	// exercised under contention too.
	h := newHarness(t, func(o *Options) { o.NoRateLimit = false; o.RateLimit = 1e9 })
	accts := make([]Account, users)
	for i := range accts {
		accts[i] = h.register(fmt.Sprintf("user%d", i))
	}
	states := []string{"online", "offline", "unavailable", "free_for_chat"}

	type model struct {
		status string   // the GET status body the last PUT implies
		list   []string // the presence list, in invite order
	}
	finals := make([]model, users)

	var wg sync.WaitGroup
	var stop sync.WaitGroup // readers run until the writers are done
	done := make(chan struct{})
	errs := make(chan error, 1000)
	fail := func(format string, args ...any) {
		select {
		case errs <- fmt.Errorf(format, args...):
		default:
		}
	}

	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			me := accts[i]
			m := model{status: `{"presence":"offline","last_active_ago":0,"status_msg":null}`}
			for round := range rounds {
				switch rng.IntN(5) {
				case 0, 1:
					state := states[rng.IntN(len(states))]
					body, want := `{"presence":"`+state+`"}`, `{"presence":"`+state+`","last_active_ago":0,"status_msg":null}`
					if rng.IntN(2) == 0 {
						msg := fmt.Sprintf("u%d r%d", i, round)
						body = `{"presence":"` + state + `","status_msg":"` + msg + `"}`
						want = `{"presence":"` + state + `","last_active_ago":0,"status_msg":"` + msg + `"}`
					}
					if r := h.as(me.AccessToken, "PUT", statusPath(me.UserID), body); r.status == http.StatusOK {
						m.status = want
					} else {
						fail("user %d PUT: %s", i, r)
					}
				case 2:
					other := accts[rng.IntN(users)].UserID
					field := []string{"invite", "drop"}[rng.IntN(2)]
					if other == me.UserID {
						field = "drop" // inviting yourself is refused
					}
					r := h.as(me.AccessToken, "POST", listPath(me.UserID), `{"`+field+`":["`+other+`"]}`)
					if r.status != http.StatusOK {
						fail("user %d POST list: %s", i, r)
						continue
					}
					has := slices.Contains(m.list, other)
					switch {
					case field == "invite" && !has:
						m.list = append(m.list, other)
					case field == "drop" && has:
						m.list = slices.DeleteFunc(m.list, func(id string) bool { return id == other })
					}
				case 3:
					if r := h.as(me.AccessToken, "GET", statusPath(me.UserID), ""); string(r.body) != m.status {
						fail("user %d reads own status %s, last write says %s", i, r.body, m.status)
					}
				case 4:
					// Writing another user's status must fail and change nothing.
					victim := accts[rng.IntN(users)]
					if victim.UserID == me.UserID {
						continue
					}
					if r := h.as(me.AccessToken, "PUT", statusPath(victim.UserID), `{"presence":"online","status_msg":"forged"}`); r.status != http.StatusForbidden {
						fail("user %d wrote user %s's status: %s", i, victim.UserID, r)
					}
				}
				if got := listIDs(h, me); !slices.Equal(got, m.list) {
					fail("user %d list %v, model %v", i, got, m.list)
				}
			}
			finals[i] = m
		}()
	}
	for r := range readers {
		stop.Add(1)
		go func() {
			defer stop.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				viewer := accts[rng.IntN(users)]
				switch n % 4 {
				case 0:
					target := accts[rng.IntN(users)]
					res := h.as(viewer.AccessToken, "GET", statusPath(target.UserID), "")
					if res.status != http.StatusOK && res.status != http.StatusNotFound || strings.Contains(string(res.body), "forged") {
						fail("reader: GET %s as %s: %s", target.UserID, viewer.UserID, res)
					}
				case 1:
					res := h.request("POST", v1Prefix+"/login", `{"type":"m.login.password","user":"`+viewer.UserID+`","password":"secret-`+strings.TrimSuffix(strings.TrimPrefix(viewer.UserID, "@"), ":localhost")+`"}`, nil)
					if res.status != http.StatusOK {
						fail("reader: login: %s", res)
					}
				case 2:
					res := h.request("POST", v1Prefix+"/register", `{"type":"m.login.password","password":"pw"}`, nil)
					if res.status != http.StatusOK {
						fail("reader: register: %s", res)
					}
				case 3:
					// The owner's reads check the list; here it is enough that
					// another user cannot.
					other := accts[rng.IntN(users)]
					if other.UserID == viewer.UserID {
						continue
					}
					if res := h.as(viewer.AccessToken, "GET", listPath(other.UserID), ""); res.status != http.StatusForbidden {
						fail("reader: GET %s's list as %s: %s", other.UserID, viewer.UserID, res)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	stop.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, m := range finals {
		me := accts[i]
		if got := string(mustOK(t, h.as(me.AccessToken, "GET", statusPath(me.UserID), "")).body); got != m.status {
			t.Errorf("user %d final status %s, last write %s", i, got, m.status)
		}
		if got := listIDs(h, me); !slices.Equal(got, m.list) {
			t.Errorf("user %d final list %v, model %v", i, got, m.list)
		}
	}
}

// listIDs is harness.listedIDs for use off the test goroutine: it reports
// nothing itself.
func listIDs(h *harness, acct Account) []string {
	r := h.as(acct.AccessToken, "GET", listPath(acct.UserID), "")
	var events []struct {
		Content struct {
			UserID string `json:"user_id"`
		} `json:"content"`
	}
	if json.Unmarshal(r.body, &events) != nil {
		return []string{"unreadable: " + string(r.body)}
	}
	ids := []string{}
	for _, e := range events {
		ids = append(ids, e.Content.UserID)
	}
	return ids
}

// Many users join and leave each other's rooms while others read their
// status through r0 and v3. Each user changes only their own memberships,
// so each keeps a model of them; at the end every user must see exactly
// the users they share a joined room with. Run under -race.
func TestConcurrentRooms(t *testing.T) {
	const (
		users  = 12
		rounds = 120
	)
	h := newHarness(t, func(o *Options) { o.NoRateLimit = false; o.RateLimit = 1e9 })
	accts := make([]Account, users)
	for i := range accts {
		accts[i] = h.register(fmt.Sprintf("user%d", i))
	}
	// Each user owns a room with everyone else invited.
	roomIDs := make([]string, users)
	for i, a := range accts {
		var others []string
		for _, o := range accts {
			if o.UserID != a.UserID {
				others = append(others, o.UserID)
			}
		}
		roomIDs[i] = h.createRoom(r0Prefix, a, others...)
	}
	type state int
	const (
		invitedTo state = iota
		joinedTo
		gone // left: no way back without a new invitation
	)
	models := make([][]state, users)
	errs := make(chan error, 1000)
	fail := func(format string, args ...any) {
		select {
		case errs <- fmt.Errorf(format, args...):
		default:
		}
	}
	var wg sync.WaitGroup
	for i := range users {
		models[i] = make([]state, users)
		models[i][i] = joinedTo
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 99))
			me, m := accts[i], models[i]
			prefix := laterPrefixes[i%2]
			for range rounds {
				j := rng.IntN(users)
				switch rng.IntN(4) {
				case 0:
					r := h.as(me.AccessToken, "POST", prefix+"/rooms/"+roomIDs[j]+"/join", "")
					switch {
					case m[j] != gone && r.status == http.StatusOK:
						m[j] = joinedTo
					case m[j] == gone && r.status == http.StatusForbidden:
					default:
						fail("user %d joins room %d (%d): %s", i, j, m[j], r)
					}
				case 1:
					r := h.as(me.AccessToken, "POST", prefix+"/rooms/"+roomIDs[j]+"/leave", "")
					switch {
					case m[j] != gone && r.status == http.StatusOK:
						m[j] = gone
					case m[j] == gone && r.status == http.StatusForbidden:
					default:
						fail("user %d leaves room %d (%d): %s", i, j, m[j], r)
					}
				case 2:
					target := accts[rng.IntN(users)]
					r := h.as(me.AccessToken, "GET", statusPathIn(prefix, target.UserID), "")
					if r.status != http.StatusOK && r.status != http.StatusNotFound {
						fail("user %d reads %s: %s", i, target.UserID, r)
					}
				case 3:
					if r := h.as(me.AccessToken, "PUT", statusPathIn(prefix, me.UserID), `{"presence":"online"}`); r.status != http.StatusOK {
						fail("user %d PUT: %s", i, r)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, viewer := range accts {
		for k, target := range accts {
			shared := i == k
			for j := range users {
				shared = shared || models[i][j] == joinedTo && models[k][j] == joinedTo
			}
			r := h.as(viewer.AccessToken, "GET", statusPathIn(v3Prefix, target.UserID), "")
			if (r.status == http.StatusOK) != shared {
				t.Errorf("user %d reads user %d: %s; they share a room: %v", i, k, r, shared)
			}
		}
	}
}
