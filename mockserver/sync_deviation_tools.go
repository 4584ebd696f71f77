package mockserver

import (
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// The tools the delivery deviations are built from: which delivery
// endpoint a request reaches, changing its query before the reference sees
// it, and changing the events of its answer.

// deliveryEndpoints names the delivery operations by method and route.
var deliveryEndpoints = map[string]endpoint{
	"GET sync":                            getSync,
	"POST user/{userId}/filter":           postFilter,
	"GET user/{userId}/filter/{filterId}": getFilter,
	"GET events":                          getEvents,
	"GET initialSync":                     getInitial,
}

// onQuery lets change rewrite the query of requests to one endpoint before
// the reference serves them. change reports whether it changed anything.
func onQuery(on endpoint, change func(s *Server, q url.Values, r *http.Request) bool) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s.reach(r).endpoint != on {
				next.ServeHTTP(w, r)
				return
			}
			q := r.URL.Query()
			if change(s, q, r) {
				r = r.Clone(r.Context())
				r.URL.RawQuery = q.Encode()
			}
			next.ServeHTTP(w, r)
		})
	}
}

// editSuccess changes the decoded body of every 200 answer of one
// endpoint; viewer is who asked, nil if nobody could be told.
func editSuccess(on endpoint, edit func(body map[string]any, q url.Values, viewer *user)) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return rewrite(s, next, on, func(rec *recorder, r *http.Request, _ reached) {
			if rec.status != http.StatusOK {
				return
			}
			viewer, _ := s.authenticate(r)
			rec.editJSON(func(v any) any {
				if m, ok := v.(map[string]any); ok {
					edit(m, r.URL.Query(), viewer)
				}
				return v
			})
		})
	}
}

// editSyncEvents changes the presence events of every 200 /sync.
func editSyncEvents(edit func(events []any, q url.Values, viewer *user) []any) func(*Server, http.Handler) http.Handler {
	return editSuccess(getSync, func(body map[string]any, q url.Values, viewer *user) {
		if p, ok := body["presence"].(map[string]any); ok {
			events, _ := p["events"].([]any)
			p["events"] = edit(events, q, viewer)
		}
	})
}

// eachEvent applies edit to every event object of a list.
func eachEvent(events []any, edit func(e map[string]any)) []any {
	for _, e := range events {
		if m, ok := e.(map[string]any); ok {
			edit(m)
		}
	}
	return events
}

// editV1Events changes the events of every 200 /events (chunk) and
// /initialSync (presence).
func editV1Events(edit func(events []any) []any) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		inner := editSuccess(getEvents, func(body map[string]any, _ url.Values, _ *user) {
			events, _ := body["chunk"].([]any)
			body["chunk"] = edit(events)
		})(s, next)
		return editSuccess(getInitial, func(body map[string]any, _ url.Values, _ *user) {
			events, _ := body["presence"].([]any)
			body["presence"] = edit(events)
		})(s, inner)
	}
}

// sleepThroughTimeout makes a long-poll of one endpoint wait out its whole
// timeout, whatever happens meanwhile, and only then look: a server that
// polls its store once per request.
func sleepThroughTimeout(on endpoint, tokenParam string) func(*Server, http.Handler) http.Handler {
	return onQuery(on, func(s *Server, q url.Values, r *http.Request) bool {
		ms, err := strconv.ParseInt(q.Get("timeout"), 10, 64)
		if !q.Has(tokenParam) || err != nil || ms <= 0 {
			return false
		}
		t := time.NewTimer(min(time.Duration(ms)*time.Millisecond, maxLongPoll))
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		q.Set("timeout", "0")
		return true
	})
}

// widenTo sets who viewers receive presence from, in the versions api
// picks.
func widenTo(applies func(api *apiVersion) bool, widen func(s *Server, viewer *user, mates []mate) []mate) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		s.seams.widen = func(s *Server, api *apiVersion, viewer *user, mates []mate) []mate {
			if !applies(api) {
				return mates
			}
			return widen(s, viewer, mates)
		}
		return next
	}
}

// everyone is every user on the server, the viewer's mates first.
func everyone(s *Server, viewer *user, mates []mate) []mate {
	seen := map[*user]bool{}
	for _, m := range mates {
		seen[m.u] = true
	}
	s.users.Range(func(_, v any) bool {
		if u := v.(*user); !seen[u] {
			mates = append(mates, mate{u: u})
		}
		return true
	})
	return mates
}

// leftRooms remembers, per viewer, the rooms a sync once saw them in and
// when it first saw them gone: what a server that caches room membership
// per sync connection, and forgets it late or never, delivers from.
type leftRooms struct {
	mu     sync.Mutex
	joined map[*user]map[*room]time.Time // zero time: still joined
}

// widen adds the members of the rooms viewer has left, while forget says
// the room is still remembered.
func (lr *leftRooms) widen(s *Server, viewer *user, mates []mate, forget time.Duration) []mate {
	viewer.mu.Lock()
	now := make(map[*room]bool, len(viewer.joinedRooms))
	for rm := range viewer.joinedRooms {
		now[rm] = true
	}
	viewer.mu.Unlock()
	lr.mu.Lock()
	if lr.joined == nil {
		lr.joined = map[*user]map[*room]time.Time{}
	}
	seen := lr.joined[viewer]
	if seen == nil {
		seen = map[*room]time.Time{}
		lr.joined[viewer] = seen
	}
	for rm := range now {
		seen[rm] = time.Time{}
	}
	var stale []*room
	for rm, leftAt := range seen {
		if now[rm] {
			continue
		}
		if leftAt.IsZero() {
			seen[rm] = time.Now()
			leftAt = seen[rm]
		}
		if forget == 0 || time.Since(leftAt) < forget {
			stale = append(stale, rm)
		}
	}
	lr.mu.Unlock()
	have := map[*user]bool{}
	for _, m := range mates {
		have[m.u] = true
	}
	for _, rm := range stale {
		rm.mu.Lock()
		for u, m := range rm.members {
			if m == joined && !have[u] {
				have[u] = true
				mates = append(mates, mate{u: u})
			}
		}
		rm.mu.Unlock()
	}
	return mates
}
