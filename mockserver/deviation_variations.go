package mockserver

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// variations lists choices the spec leaves open, each made differently
// from the reference. A conformant server may make any of them, so the
// suite must pass each at MUST level; SHOULD warnings are allowed, and each
// variation says which it expects.
func variations() []Deviation {
	return append(deliveryVariations(), []Deviation{
		{
			Name: "another-users-status-400", Kind: Variation,
			Description: "Acting on another user's presence or presence list gets 400 M_INVALID_PARAM rather than 403 M_FORBIDDEN: the seed only says it cannot be done.",
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewriteAll(next, func(rec *recorder) {
					if rec.status == http.StatusForbidden {
						rec.status = http.StatusBadRequest
						rec.body.Reset()
						rec.body.WriteString(`{"errcode":"M_INVALID_PARAM","error":"userId must be your own user ID"}`)
					}
				})
			},
		},
		{
			Name: "status-readable-without-token", Kind: Variation, CheckWith: "v1",
			Description: "GET status needs no access token, as the seed declares no security for it; an anonymous reader sees every user's presence.",
			wrap:        actAsPathUser(getStatus, tokenMissing),
		},
		{
			Name: "status-msg-kept", Kind: Variation,
			Description: "A PUT without status_msg keeps the one set before, rather than clearing it.",
			wrap: func(s *Server, next http.Handler) http.Handler {
				return afterPut(s, next, func(u *user, before presenceState) {
					if !u.hasStatusMsg {
						u.statusMsg, u.hasStatusMsg = before.statusMsg, before.hasStatusMsg
					}
				})
			},
		},
		{
			Name: "hidden-status-403", Kind: Variation,
			Description: "Reading the status of an existing user who hides it from the reader gets 403 M_FORBIDDEN rather than 404, as r0 documents.",
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewrite(s, next, getStatus, func(rec *recorder, _ *http.Request, at reached) {
					if rec.status == http.StatusNotFound && s.userByID(at.userID) != nil {
						rec.status = http.StatusForbidden
						rec.body.Reset()
						rec.body.WriteString(`{"errcode":"M_FORBIDDEN","error":"You are not allowed to see their presence"}`)
					}
				})
			},
		},
		{
			Name: "status-msg-omitted", Kind: Variation,
			Description: "An unset status_msg is left out of GET status rather than given as null.",
			wrap: editStatus(func(st map[string]any) {
				if st["status_msg"] == nil {
					delete(st, "status_msg")
				}
			}),
		},
		{
			Name: "extra-fields", Kind: Variation,
			Description: "Responses carry fields the spec does not name (currently_active, displayname, avatar_url), as real servers add.",
			wrap: func(s *Server, next http.Handler) http.Handler {
				extra := func(m map[string]any) {
					m["currently_active"] = true
					m["displayname"] = "Someone"
					m["avatar_url"] = "mxc://example.org/abc"
				}
				return rewriteAll(next, func(rec *recorder) {
					if rec.status != http.StatusOK {
						return
					}
					rec.editJSON(func(v any) any {
						switch v := v.(type) {
						case map[string]any:
							if _, isStatus := v["presence"]; isStatus {
								extra(v)
							}
						case []any:
							return mapEvents(v, func(e map[string]any) any { extra(content(e)); e["event_id"] = "$x"; return e })
						}
						return v
					})
				})
			},
		},
		{
			Name: "writes-settle-late", Kind: Variation,
			Description: "A PUT status answers 200 at once but its state shows half a second later, as servers that apply writes through a queue do; reads meanwhile show the previous state.",
			wrap: func(s *Server, next http.Handler) http.Handler {
				// Writes land in the order they were made, as a queue
				// delivers them, even if their timers fire out of order.
				var mu sync.Mutex
				made, landed := map[*user]int{}, map[*user]int{}
				return afterPut(s, next, func(u *user, before presenceState) {
					written := u.presenceState
					u.presenceState = before
					mu.Lock()
					made[u]++
					seq := made[u]
					mu.Unlock()
					time.AfterFunc(settleLag, func() {
						mu.Lock()
						defer mu.Unlock()
						if seq <= landed[u] {
							return
						}
						landed[u] = seq
						u.mu.Lock()
						u.presenceState = written
						s.presenceChangedLocked(u, s.clock())
						u.mu.Unlock()
						s.presenceWake()
					})
				})
			},
		},
		{
			Name: "status-currently-active-omitted", Kind: Variation, CheckWith: "v3",
			Description: "Under r0 and v3, GET status leaves out currently_active, which the spec says a server may include.",
			wrap:        editStatus(func(st map[string]any) { delete(st, "currently_active") }),
		},
		{
			Name: "no-rate-limit", Kind: Variation,
			Description: "No rate limiting at all: the spec documents 429 as possible, not required.",
			wrap: func(s *Server, next http.Handler) http.Handler {
				s.rate = 0
				return next
			},
		},
		{
			Name: "unset-status-msg-empty", Kind: Variation,
			Description: `An unset status_msg reads back as "" rather than null.`,
			wrap: editStatus(func(st map[string]any) {
				if st["status_msg"] == nil {
					st["status_msg"] = json.RawMessage(`""`)
				}
			}),
		},
	}...)
}
