package mockserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// coverageFaults make every requirement one a fault can fail: the
// requirements the spec's coverage table (suite/COVERAGE.md) added, and
// those no other fault declared.
func coverageFaults() []Deviation {
	return []Deviation{
		// Errors of the wrong kind.
		{
			Name: "missing-token-forbidden", Category: "wrong status",
			Description: "A request without an access token gets 403 M_FORBIDDEN instead of 401 M_MISSING_TOKEN.",
			CaughtBy:    []string{"PRES-STATUS-PUT-08", "PRES-STATUS-GET-09", "PRES-LIST-POST-08"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewriteAll(next, func(rec *recorder) {
					if rec.status == http.StatusUnauthorized && strings.Contains(rec.body.String(), "M_MISSING_TOKEN") {
						rec.status = http.StatusForbidden
						rec.body.Reset()
						rec.body.WriteString(`{"errcode":"M_FORBIDDEN","error":"no access token"}`)
					}
				})
			},
		},
		{
			Name: "not-json-as-bad-json", Category: "error format",
			Description: "A PUT status or POST list body that is not JSON gets M_BAD_JSON instead of M_NOT_JSON.",
			CaughtBy:    []string{"PRES-STATUS-PUT-16", "PRES-LIST-POST-10"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewrite(s, next, noEndpoint, func(rec *recorder, _ *http.Request, at reached) {
					if (at.endpoint == putStatus || at.endpoint == postList) && rec.status == http.StatusBadRequest {
						swapped := bytes.ReplaceAll(rec.body.Bytes(), []byte(`"M_NOT_JSON"`), []byte(`"M_BAD_JSON"`))
						rec.body.Reset()
						rec.body.Write(swapped)
					}
				})
			},
		},
		{
			Name: "unknown-user-404-unknown-errcode", Category: "error format",
			Description: "GET status of a user who does not exist answers 404 with M_UNKNOWN instead of M_NOT_FOUND.",
			CaughtBy:    []string{"PRES-STATUS-GET-03"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewrite(s, next, getStatus, func(rec *recorder, _ *http.Request, at reached) {
					if rec.status == http.StatusNotFound && s.userByID(at.userID) == nil {
						rec.body.Reset()
						rec.body.WriteString(`{"errcode":"M_UNKNOWN","error":"no such user"}`)
					}
				})
			},
		},
		{
			Name: "drop-unlisted-404", Category: "wrong status",
			Description: "Dropping a user who is not on the presence list answers 404 M_NOT_FOUND instead of succeeding.",
			CaughtBy:    []string{"PRES-LIST-POST-13"},
			wrap: intercept(func(s *Server, w http.ResponseWriter, r *http.Request, at reached) bool {
				owner := s.userByID(at.userID)
				if at.endpoint != postList || owner == nil {
					return false
				}
				var body struct {
					Drop []string `json:"drop"`
				}
				if json.Unmarshal(readAll(r), &body) != nil {
					return false
				}
				owner.mu.Lock()
				defer owner.mu.Unlock()
				for _, id := range body.Drop {
					if target := s.userByID(id); target == nil || !owner.listed[target] {
						writeRaw(w, http.StatusNotFound, "application/json", `{"errcode":"M_NOT_FOUND","error":"not on the list"}`)
						return true
					}
				}
				return false
			}),
		},

		// Part of a request ignored, or state stored wrongly.
		{
			Name: "drop-ignored-with-invite", Category: "state not stored",
			Description: "POST list applies the invites of a body that both invites and drops, and ignores its drops.",
			CaughtBy:    []string{"PRES-LIST-POST-04"},
			wrap: onBody(postList, func(http.ResponseWriter, []byte) bool { return false }, func(body []byte) []byte {
				var diff map[string]json.RawMessage
				if json.Unmarshal(body, &diff) != nil {
					return body
				}
				var invite, drop []string
				if json.Unmarshal(diff["invite"], &invite) != nil || json.Unmarshal(diff["drop"], &drop) != nil || len(invite) == 0 || len(drop) == 0 {
					return body
				}
				delete(diff, "drop")
				out, _ := json.Marshal(diff)
				return out
			}),
		},
		{
			Name: "status-msg-defaulted", Category: "state stored wrongly",
			Description: "A PUT without status_msg stores the presence state's name as the status message.",
			CaughtBy:    []string{"PRES-STATUS-PUT-18"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				defaulted := afterPut(s, next, func(u *user, _ presenceState) {
					u.statusMsg, u.hasStatusMsg = u.presence, true
				})
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if s.reach(r).endpoint != putStatus {
						next.ServeHTTP(w, r)
						return
					}
					var body map[string]json.RawMessage
					if json.Unmarshal(readAll(r), &body) == nil {
						if _, has := body["status_msg"]; !has {
							defaulted.ServeHTTP(w, r)
							return
						}
					}
					next.ServeHTTP(w, r)
				})
			},
		},

		// Auth not checked on delivery.
		{
			Name: "sync-without-token-empty", Category: "auth not checked", CheckWith: "v3",
			Description: "/sync without an access token, or with one never issued, answers 200 with an empty sync response.",
			CaughtBy:    []string{"PRES-SYNC-23", "PRES-SYNC-24"},
			wrap: intercept(func(s *Server, w http.ResponseWriter, r *http.Request, at reached) bool {
				if at.endpoint != getSync || !noValidToken(s, r) {
					return false
				}
				writeRaw(w, http.StatusOK, "application/json", `{"next_batch":"s0","presence":{"events":[]},"rooms":{"join":{},"invite":{},"leave":{}}}`)
				return true
			}),
		},
		{
			Name: "filter-auth-skipped", Category: "auth not checked", CheckWith: "r0",
			Description: "The filter endpoints act as the user in their path for a request without an access token, or with one never issued.",
			CaughtBy:    []string{"PRES-SYNC-25"},
			wrap: actAsPathUser(noEndpoint, func(s *Server, r *http.Request, at reached) bool {
				return (at.endpoint == postFilter || at.endpoint == getFilter) && noValidToken(s, r)
			}),
		},
		{
			Name: "foreign-filter-upload", Category: "another user allowed to act", CheckWith: "v3",
			Description: "Any user may upload a filter for another user, which is stored as theirs.",
			CaughtBy:    []string{"PRES-SYNC-26"},
			wrap: actAsPathUser(postFilter, func(s *Server, r *http.Request, at reached) bool {
				token, err := accessToken(r)
				caller := s.userByToken(token)
				return err == nil && caller != nil && caller.id != at.userID
			}),
		},
		{
			Name: "events-without-token-empty", Category: "auth not checked",
			Description: "GET /events and GET /initialSync without an access token, or with one never issued, answer 200 with nothing in them.",
			CaughtBy:    []string{"PRES-EVENTS-07"},
			wrap: intercept(func(s *Server, w http.ResponseWriter, r *http.Request, at reached) bool {
				if (at.endpoint != getEvents && at.endpoint != getInitial) || !noValidToken(s, r) {
					return false
				}
				body := `{"start":"0","end":"0","chunk":[]}`
				if at.endpoint == getInitial {
					body = `{"end":"0","presence":[],"rooms":[]}`
				}
				writeRaw(w, http.StatusOK, "application/json", body)
				return true
			}),
		},

		// Filter IDs and long-polls.
		{
			Name: "filter-id-braced", Category: "off the spec: value", CheckWith: "r0",
			Description: "Filter IDs are issued wrapped in braces, {7}, which /sync then takes for inline JSON.",
			CaughtBy:    []string{"PRES-SYNC-29"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewrite(s, next, postFilter, func(rec *recorder, _ *http.Request, _ reached) {
					if rec.status != http.StatusOK {
						return
					}
					rec.editJSON(func(v any) any {
						if m, ok := v.(map[string]any); ok {
							if id, ok := m["filter_id"].(string); ok {
								m["filter_id"] = "{" + id + "}"
							}
						}
						return v
					})
				})
			},
		},
		{
			Name: "sync-waits-by-default", Category: "delivery: long-poll held", CheckWith: "v3",
			Description: "An incremental /sync that gives no timeout is held as if it asked for 30 s, instead of answering at once.",
			CaughtBy:    []string{"PRES-SYNC-30"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					q := r.URL.Query()
					if s.reach(r).endpoint == getSync && q.Get("since") != "" && !q.Has("timeout") {
						r = r.Clone(r.Context())
						r.URL.RawQuery += "&timeout=30000"
					}
					next.ServeHTTP(w, r)
				})
			},
		},

		// Filters half applied.
		{
			Name: "presence-types-half-applied", Category: "filter ignored", CheckWith: "r0",
			Description: `An inline presence filter's "types" is ignored, and so is any "not_types" entry with a wildcard.`,
			CaughtBy:    []string{"PRES-SYNC-27"},
			wrap: rewriteInlineFilter(func(presence map[string]any) {
				delete(presence, "types")
				if notTypes, ok := presence["not_types"].([]any); ok {
					presence["not_types"] = slices.DeleteFunc(notTypes, func(t any) bool { s, _ := t.(string); return strings.Contains(s, "*") })
				}
			}),
		},
		{
			Name: "senders-beat-not-senders", Category: "filter ignored", CheckWith: "v3",
			Description: `A sender listed in both "senders" and "not_senders" of an inline presence filter is let through.`,
			CaughtBy:    []string{"PRES-SYNC-28"},
			wrap: rewriteInlineFilter(func(presence map[string]any) {
				senders, _ := presence["senders"].([]any)
				if notSenders, ok := presence["not_senders"].([]any); ok {
					presence["not_senders"] = slices.DeleteFunc(notSenders, func(id any) bool { return slices.Contains(senders, id) })
				}
			}),
		},
	}
}

// noValidToken holds for a request with no access token, or one no
// session holds.
func noValidToken(s *Server, r *http.Request) bool {
	token, err := accessToken(r)
	return err != nil || s.userByToken(token) == nil
}

// rewriteInlineFilter lets edit change the presence section of an inline
// /sync filter before the reference reads it, as a server that drops the
// parts of a filter it does not implement.
func rewriteInlineFilter(edit func(presence map[string]any)) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			var filter map[string]any
			if s.reach(r).endpoint != getSync || json.Unmarshal([]byte(q.Get("filter")), &filter) != nil {
				next.ServeHTTP(w, r)
				return
			}
			if presence, ok := filter["presence"].(map[string]any); ok {
				edit(presence)
				out, _ := json.Marshal(filter)
				q.Set("filter", string(out))
				r2 := r.Clone(r.Context())
				r2.URL.RawQuery = q.Encode()
				r = r2
			}
			next.ServeHTTP(w, r)
		})
	}
}
