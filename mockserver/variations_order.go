package mockserver

import (
	"encoding/json"
	"net/http"
	"net/url"
)

// orderVariations are choices the spec leaves open about how a change is
// delivered; the suite must judge only what the spec fixes.
func orderVariations() []Deviation {
	return []Deviation{
		{
			Name: "stale-event-first", Kind: Variation,
			Description: "Every m.presence event of /sync, /events and /initialSync comes after an older one of the same user (offline, no status_msg): several events for one user, the last carrying the latest state. Filtered syncs are left alone, so a limit still holds.",
			wrap: func(s *Server, next http.Handler) http.Handler {
				v1 := editV1Events(staleFirst)(s, next)
				return editSyncEvents(func(events []any, q url.Values, _ *user) []any {
					if q.Get("filter") != "" {
						return events
					}
					return staleFirst(events)
				})(s, v1)
			},
		},
	}
}

// staleFirst puts before each m.presence event a copy that shows the user
// offline, with an event ID of its own where the event has one.
func staleFirst(events []any) []any {
	out := make([]any, 0, 2*len(events))
	for _, e := range events {
		m, ok := e.(map[string]any)
		if !ok || m["type"] != "m.presence" {
			out = append(out, e)
			continue
		}
		var stale map[string]any
		raw, _ := json.Marshal(m)
		json.Unmarshal(raw, &stale)
		if c, ok := stale["content"].(map[string]any); ok {
			c["presence"] = "offline"
			delete(c, "status_msg")
			delete(c, "currently_active")
		}
		if id, ok := stale["event_id"].(string); ok {
			stale["event_id"] = id + "-stale"
		}
		out = append(out, stale, m)
	}
	return out
}
