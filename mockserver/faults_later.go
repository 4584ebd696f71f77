package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// laterFaults are servers whose refusals do not hold: they answer a request
// they must refuse with the right error, and then apply it a moment later
// anyway, as a server does whose writes go through a queue that skips the
// check. Only a suite that keeps watching after the refusal catches them.
func laterFaults() []Deviation {
	return []Deviation{
		{
			Name: "foreign-put-applied-later", Category: "refused, then applied later",
			Description: "A PUT status for another user is refused with 403, and applied 150 ms later all the same.",
			CaughtBy:    []string{"PRES-STATUS-PUT-05"},
			wrap: refuseThenApply(putStatus, func(s *Server, r *http.Request, body []byte, at reached) {
				if viewer, err := s.authenticate(r); err == nil && viewer.id != at.userID {
					s.serveAs(&recorder{header: http.Header{}}, withBody(r, body), at)
				}
			}),
		},
		{
			Name: "bad-presence-applied-later", Category: "refused, then applied later",
			Description: `A PUT status with a presence outside the spec's states ("away") is refused with 400, and the state stored 150 ms later all the same.`,
			CaughtBy:    []string{"PRES-STATUS-PUT-14"},
			wrap: refuseThenApply(putStatus, func(s *Server, r *http.Request, body []byte, at reached) {
				viewer, err := s.authenticate(r)
				var fields map[string]any
				if err != nil || viewer.id != at.userID || json.Unmarshal(body, &fields) != nil {
					return
				}
				presence, ok := fields["presence"].(string)
				if _, known := at.api.presenceState(presence); !ok || known {
					return
				}
				msg, hasMsg := fields["status_msg"].(string)
				s.storeLate(viewer, presenceState{presence: presence, statusMsg: msg, hasStatusMsg: hasMsg})
			}),
		},
		{
			Name: "bad-shape-applied-later", Category: "refused, then applied later",
			Description: "A PUT status body of the wrong shape is refused with 400, and 150 ms later applied all the same by a lenient reader: a JSON array's first string becomes the presence (status_msg cleared); an object without presence sets its status_msg.",
			CaughtBy:    []string{"PRES-STATUS-PUT-12", "PRES-STATUS-PUT-13"},
			wrap: refuseThenApply(putStatus, func(s *Server, r *http.Request, body []byte, at reached) {
				viewer, err := s.authenticate(r)
				if err != nil || viewer.id != at.userID {
					return
				}
				viewer.mu.Lock()
				state := viewer.presenceState
				viewer.mu.Unlock()
				var list []any
				var fields map[string]any
				switch {
				case json.Unmarshal(body, &list) == nil && len(list) > 0:
					presence, _ := list[0].(string)
					if _, known := at.api.presenceState(presence); !known {
						return
					}
					state.presence, state.statusMsg, state.hasStatusMsg = presence, "", false
				case json.Unmarshal(body, &fields) == nil && fields["presence"] == nil:
					msg, ok := fields["status_msg"].(string)
					if !ok {
						return
					}
					state.statusMsg, state.hasStatusMsg = msg, true
				default:
					return
				}
				s.storeLate(viewer, state)
			}),
		},
		{
			Name: "foreign-list-change-applied-later", Category: "refused, then applied later",
			Description: "A POST list changing another user's presence list is refused with 403, and applied 150 ms later all the same.",
			CaughtBy:    []string{"PRES-LIST-POST-05"},
			wrap: refuseThenApply(postList, func(s *Server, r *http.Request, body []byte, at reached) {
				if viewer, err := s.authenticate(r); err == nil && viewer.id != at.userID {
					s.serveAs(&recorder{header: http.Header{}}, withBody(r, body), at)
				}
			}),
		},
		{
			Name: "bad-invite-applied-later", Category: "refused, then applied later",
			Description: "A POST list whose invites include one that is not a user ID, or a user who does not exist, is refused, and its valid invites applied 150 ms later all the same.",
			CaughtBy:    []string{"PRES-LIST-POST-09", "PRES-LIST-POST-11", "PRES-LIST-POST-12"},
			wrap: refuseThenApply(postList, func(s *Server, r *http.Request, body []byte, at reached) {
				viewer, err := s.authenticate(r)
				var diff struct{ Invite []any }
				if err != nil || viewer.id != at.userID || json.Unmarshal(body, &diff) != nil {
					return
				}
				valid := []string{}
				for _, id := range diff.Invite {
					if id, ok := id.(string); ok && validUserID(id) && s.userByID(id) != nil {
						valid = append(valid, id)
					}
				}
				if len(valid) > 0 {
					one, _ := json.Marshal(map[string][]string{"invite": valid})
					s.serveAs(&recorder{header: http.Header{}}, withBody(r, one), at)
				}
			}),
		},
		{
			Name: "bad-set-presence-applied-later", Category: "refused, then applied later", CheckWith: "v3",
			Description: "A /sync with a set_presence outside the spec's states (busy) is refused with 400, and 150 ms later the caller is marked online all the same, as if set_presence had been left out.",
			CaughtBy:    []string{"PRES-SYNC-11"},
			wrap: refuseThenApply(noEndpoint, func(s *Server, r *http.Request, _ []byte, at reached) {
				viewer, err := s.authenticate(r)
				presence := r.URL.Query().Get("set_presence")
				if err != nil || at.api == nil || !strings.HasSuffix(r.URL.Path, "/sync") || presence == "" {
					return
				}
				if _, known := at.api.presenceState(presence); known {
					return
				}
				viewer.mu.Lock()
				state := viewer.presenceState
				viewer.mu.Unlock()
				state.presence = "online"
				s.storeLate(viewer, state)
			}),
		},
		{
			Name: "malformed-filter-stored-later", Category: "refused, then applied later", CheckWith: "v3",
			Description: "A filter upload that is not a JSON object of the filter's shape is refused with 400, and 150 ms later stored all the same, over the uploader's latest filter.",
			CaughtBy:    []string{"PRES-SYNC-21"},
			wrap:        storeRefusedFilterLater,
		},
	}
}

// storeLate stores a state the reference refused, as the queue that
// skipped the check does, and tells the sync stream.
func (s *Server) storeLate(u *user, state presenceState) {
	u.mu.Lock()
	state.lastActive = s.clock()
	u.presenceState = state
	s.presenceChangedLocked(u, state.lastActive)
	u.mu.Unlock()
	s.presenceWake()
}

// refusedLag is how long a fault that applies a refused request waits: well
// inside the settle window the self-test gives (500 ms), well after a read
// made right after the refusal.
const refusedLag = 150 * time.Millisecond

// refuseThenApply serves requests to one endpoint (any, for noEndpoint) as
// the reference does and, after each it refuses with a 4xx, calls apply
// refusedLag later with a copy of the request and its body.
func refuseThenApply(on endpoint, apply func(s *Server, r *http.Request, body []byte, at reached)) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			at := s.reach(r)
			if on != noEndpoint && at.endpoint != on {
				next.ServeHTTP(w, r)
				return
			}
			body := readAll(r)
			rec := record(next, r)
			if rec.status >= 400 && rec.status < 500 {
				later := r.Clone(context.Background())
				time.AfterFunc(refusedLag, func() { apply(s, later, body, at) })
			}
			rec.sendTo(w)
		})
	}
}

// storeRefusedFilterLater remembers the last filter each user uploaded and,
// refusedLag after a refused upload, serves the refused body as that
// filter from then on: the queue stored it under the ID it had reserved.
func storeRefusedFilterLater(s *Server, next http.Handler) http.Handler {
	type owned struct{ userID, filterID string }
	latest := map[string]string{} // user -> latest filter ID
	stored := map[owned][]byte{}
	var mu sync.Mutex
	lock, unlock := mu.Lock, mu.Unlock
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		userID, filterID, isFilter := filterRoute(r.URL.Path)
		if !isFilter {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && filterID != "" {
			lock()
			body, replaced := stored[owned{userID, filterID}]
			unlock()
			if replaced {
				w.Header()["Access-Control-Allow-Origin"] = allowAnyOrigin
				writeRaw(w, http.StatusOK, "application/json", string(body))
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost || filterID != "" {
			next.ServeHTTP(w, r)
			return
		}
		body := readAll(r)
		rec := record(next, r)
		switch {
		case rec.status == http.StatusOK:
			var created struct {
				FilterID string `json:"filter_id"`
			}
			if json.Unmarshal(rec.body.Bytes(), &created) == nil {
				lock()
				latest[userID] = created.FilterID
				unlock()
			}
		case rec.status >= 400 && rec.status < 500:
			lock()
			id, ok := latest[userID]
			unlock()
			if ok {
				refused := bytes.Clone(body)
				time.AfterFunc(refusedLag, func() {
					lock()
					stored[owned{userID, id}] = refused
					unlock()
				})
			}
		}
		rec.sendTo(w)
	})
}

// filterRoute reads /user/{userId}/filter[/{filterId}] at the end of a path
// under any prefix; the user ID is as it appears, still escaped or not.
func filterRoute(path string) (userID, filterID string, ok bool) {
	i := strings.LastIndex(path, "/user/")
	if i < 0 {
		return "", "", false
	}
	parts := strings.Split(path[i+len("/user/"):], "/")
	switch {
	case len(parts) == 2 && parts[1] == "filter":
		return parts[0], "", true
	case len(parts) == 3 && parts[1] == "filter":
		return parts[0], parts[2], true
	}
	return "", "", false
}
