package mockserver

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// deliveryVariations are choices about delivery the spec leaves open, each
// made differently from the reference.
func deliveryVariations() []Deviation {
	return []Deviation{
		{
			Name: "delivery-late", Kind: Variation,
			Description: "Presence changes reach /sync and /events up to one second late, as servers that fan changes out through a queue deliver them; waiting long-polls wake when they arrive.",
			wrap: func(s *Server, next http.Handler) http.Handler {
				s.seams.lag = time.Second
				return next
			},
		},
		{
			Name: "own-presence-absent", Kind: Variation,
			Description: "/sync and the v1 stream never carry the caller's own presence.",
			wrap: func(s *Server, next http.Handler) http.Handler {
				notOwn := func(events []any, viewer *user) []any {
					out := []any{}
					for _, e := range events {
						m, _ := e.(map[string]any)
						c, _ := m["content"].(map[string]any)
						if viewer != nil && (m["sender"] == viewer.id || c["user_id"] == viewer.id) {
							continue
						}
						out = append(out, e)
					}
					return out
				}
				sync := editSyncEvents(func(events []any, _ url.Values, viewer *user) []any { return notOwn(events, viewer) })(s, next)
				events := editSuccess(getEvents, func(body map[string]any, _ url.Values, viewer *user) {
					chunk, _ := body["chunk"].([]any)
					body["chunk"] = notOwn(chunk, viewer)
				})(s, sync)
				return editSuccess(getInitial, func(body map[string]any, _ url.Values, viewer *user) {
					presence, _ := body["presence"].([]any)
					body["presence"] = notOwn(presence, viewer)
				})(s, events)
			},
		},
		{
			Name: "opaque-tokens", Kind: Variation,
			Description: "Sync and stream tokens are long and full of characters a query string must escape (/, +, =, !), as opaque tokens may be.",
			wrap:        opaqueTokens,
		},
		{
			Name: "currently-active-omitted", Kind: Variation,
			Description: "/sync's m.presence events leave out currently_active, which the spec does not require.",
			wrap: editSyncEvents(func(events []any, _ url.Values, _ *user) []any {
				return eachEvent(events, func(e map[string]any) {
					if c, ok := e["content"].(map[string]any); ok {
						delete(c, "currently_active")
					}
				})
			}),
		},
		{
			Name: "offline-mates-omitted", Kind: Variation,
			Description: "An initial /sync leaves out room-mates who are offline; their presence comes when it changes.",
			wrap: editSyncEvents(func(events []any, q url.Values, _ *user) []any {
				if q.Has("since") {
					return events
				}
				out := []any{}
				for _, e := range events {
					m, _ := e.(map[string]any)
					if c, _ := m["content"].(map[string]any); c["presence"] == "offline" {
						continue
					}
					out = append(out, e)
				}
				return out
			}),
		},
	}
}

// Opaque tokens wrap the reference's: a prefix and suffix that need
// escaping around the token in standard base64, which has / and +.
const opaquePrefix, opaqueSuffix = "t/", "==!"

func toOpaque(tok string) string {
	return opaquePrefix + base64.StdEncoding.EncodeToString([]byte("position "+tok+" of this stream")) + opaqueSuffix
}

// fromOpaque unwraps a token; one that is not wrapped passes as given, and
// is refused as the reference refuses it.
func fromOpaque(tok string) string {
	inner, ok := strings.CutPrefix(tok, opaquePrefix)
	if !ok {
		return tok
	}
	inner, ok = strings.CutSuffix(inner, opaqueSuffix)
	raw, err := base64.StdEncoding.DecodeString(inner)
	if !ok || err != nil {
		return tok
	}
	s, ok := strings.CutPrefix(string(raw), "position ")
	s, ok2 := strings.CutSuffix(s, " of this stream")
	if !ok || !ok2 {
		return tok
	}
	return s
}

func opaqueTokens(s *Server, next http.Handler) http.Handler {
	wrapTokens := func(m map[string]any, keys ...string) {
		for _, k := range keys {
			if tok, ok := m[k].(string); ok {
				m[k] = toOpaque(tok)
			}
		}
	}
	h := next
	for _, on := range []endpoint{getSync, getEvents} {
		h = onQuery(on, func(_ *Server, q url.Values, _ *http.Request) bool {
			changed := false
			for _, k := range []string{"since", "from"} {
				if q.Has(k) {
					q.Set(k, fromOpaque(q.Get(k)))
					changed = true
				}
			}
			return changed
		})(s, h)
	}
	h = editSuccess(getSync, func(body map[string]any, _ url.Values, _ *user) {
		wrapTokens(body, "next_batch")
		rooms, _ := body["rooms"].(map[string]any)
		join, _ := rooms["join"].(map[string]any)
		for _, jr := range join {
			if tl, ok := jr.(map[string]any)["timeline"].(map[string]any); ok {
				wrapTokens(tl, "prev_batch")
			}
		}
	})(s, h)
	h = editSuccess(getEvents, func(body map[string]any, _ url.Values, _ *user) { wrapTokens(body, "start", "end") })(s, h)
	return editSuccess(getInitial, func(body map[string]any, _ url.Values, _ *user) {
		wrapTokens(body, "end")
		rooms, _ := body["rooms"].([]any)
		for _, rm := range rooms {
			if msgs, ok := rm.(map[string]any)["messages"].(map[string]any); ok {
				wrapTokens(msgs, "start", "end")
			}
		}
	})(s, h)
}
