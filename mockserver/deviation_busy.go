package mockserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// The busy state of MSC3026, which the spec does not have: a server that
// implements it advertises org.matrix.msc3026.busy in /versions
// unstable_features and takes "org.matrix.msc3026.busy" as a presence. The
// reference offers no unstable features, so busy lives here, as a
// variation (and a fault built on it), wrapped around the reference.

// busyFeature is both the unstable feature and the presence value.
const busyFeature = "org.matrix.msc3026.busy"

// withBusy advertises busy and keeps it: a PUT may set it, GET status and
// /sync show it, and a /sync does not clear it unless clearedBySync.
func withBusy(clearedBySync bool) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		s.timerSeams.busyCleared = clearedBySync
		put := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			at := s.reach(r)
			if at.endpoint != putStatus {
				next.ServeHTTP(w, r)
				return
			}
			body := readAll(r)
			viewer, authErr := s.authenticate(r)
			var fields struct {
				Presence  string  `json:"presence"`
				StatusMsg *string `json:"status_msg"`
			}
			if authErr != nil || viewer.id != at.userID || json.Unmarshal(body, &fields) != nil || fields.Presence != busyFeature {
				next.ServeHTTP(w, r)
				return
			}
			now := s.clock()
			viewer.mu.Lock()
			viewer.presence = busyFeature
			viewer.statusMsg, viewer.hasStatusMsg = "", fields.StatusMsg != nil
			if fields.StatusMsg != nil {
				viewer.statusMsg = *fields.StatusMsg
			}
			viewer.lastActive = now
			s.presenceChangedLocked(viewer, now)
			viewer.mu.Unlock()
			s.presenceWake()
			writeRaw(w, http.StatusOK, "application/json", "{}")
		})
		shown := func(id string) bool {
			u := s.userByID(id)
			return u != nil && u.state().presence == busyFeature
		}
		status := rewrite(s, put, getStatus, func(rec *recorder, r *http.Request, at reached) {
			if rec.status == http.StatusOK && shown(at.userID) {
				rec.editJSON(func(v any) any {
					if m, ok := v.(map[string]any); ok {
						m["presence"] = busyFeature
						m["currently_active"] = false
					}
					return v
				})
			}
		})
		sync := editSyncEvents(func(events []any, _ url.Values, _ *user) []any {
			return eachEvent(events, func(e map[string]any) {
				sender, _ := e["sender"].(string)
				if c, ok := e["content"].(map[string]any); ok && shown(sender) {
					c["presence"] = busyFeature
					c["currently_active"] = false
				}
			})
		})(s, status)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || strings.TrimSuffix(r.URL.Path, "/") != "/_matrix/client/versions" {
				sync.ServeHTTP(w, r)
				return
			}
			rec := record(sync, r)
			if rec.status == http.StatusOK {
				rec.editJSON(func(v any) any {
					if m, ok := v.(map[string]any); ok {
						features, _ := m["unstable_features"].(map[string]any)
						if features == nil {
							features = map[string]any{}
						}
						features[busyFeature] = true
						m["unstable_features"] = features
					}
					return v
				})
			}
			rec.sendTo(w)
		})
	}
}
