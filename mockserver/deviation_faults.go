package mockserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// faults lists the faults: each the kind of break a real homeserver shows,
// with the requirements of the conformance suite that must catch it. The
// suite's self-test (cmd/mxpresence) switches each on in turn and checks
// that they do.
func faults() []Deviation {
	return append(deliveryFaults(), []Deviation{
		// Wrong status codes.
		{
			Name: "put-status-201", Category: "wrong status",
			Description: "PUT status answers 201 Created instead of 200.",
			CaughtBy:    []string{"PRES-STATUS-PUT-01"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewrite(s, next, putStatus, func(rec *recorder, _ *http.Request, _ reached) {
					if rec.status == http.StatusOK {
						rec.status = http.StatusCreated
					}
				})
			},
		},
		{
			Name: "post-list-204", Category: "wrong status",
			Description: "POST list answers 204 No Content, with no body, instead of 200 {}.",
			CaughtBy:    []string{"PRES-LIST-POST-01"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewrite(s, next, postList, func(rec *recorder, _ *http.Request, _ reached) {
					if rec.status == http.StatusOK {
						rec.status = http.StatusNoContent
						rec.body.Reset()
					}
				})
			},
		},
		{
			Name: "unknown-user-200", Category: "wrong status",
			Description: "GET status of a user who does not exist answers 200, offline, instead of 404.",
			CaughtBy:    []string{"PRES-STATUS-GET-02"},
			wrap: intercept(func(s *Server, w http.ResponseWriter, r *http.Request, at reached) bool {
				if at.endpoint != getStatus || at.userID == "" || s.userByID(at.userID) != nil {
					return false
				}
				writeRaw(w, http.StatusOK, "application/json", `{"presence":"offline","last_active_ago":0,"status_msg":null}`)
				return true
			}),
		},
		{
			Name: "unknown-token-403", Category: "wrong status",
			Description: "An unknown access token gets 403 M_FORBIDDEN instead of 401 M_UNKNOWN_TOKEN.",
			CaughtBy:    []string{"PRES-STATUS-PUT-10"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewriteAll(next, func(rec *recorder) {
					if rec.status == http.StatusUnauthorized && strings.Contains(rec.body.String(), "M_UNKNOWN_TOKEN") {
						rec.status = http.StatusForbidden
						rec.body.Reset()
						rec.body.WriteString(`{"errcode":"M_FORBIDDEN","error":"invalid token"}`)
					}
				})
			},
		},

		// Wrong content type.
		{
			Name: "success-text-plain", Category: "wrong content type",
			Description: "Successful responses are served as text/plain.",
			CaughtBy:    []string{"PRES-GEN-02"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewriteAll(next, func(rec *recorder) {
					if rec.status < 300 {
						rec.header.Set("Content-Type", "text/plain; charset=utf-8")
					}
				})
			},
		},
		{
			Name: "error-html", Category: "wrong content type",
			Description: "Errors are HTML pages served as text/html, as a bare web framework gives.",
			CaughtBy:    []string{"PRES-GEN-01", "PRES-GEN-03"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewriteAll(next, func(rec *recorder) {
					if rec.status >= 400 {
						rec.header.Set("Content-Type", "text/html; charset=utf-8")
						rec.body.Reset()
						rec.body.WriteString("<html><body><h1>" + http.StatusText(rec.status) + "</h1></body></html>")
					}
				})
			},
		},

		// Bodies off the schema.
		{
			Name: "status-without-presence", Category: "off the schema: missing field",
			Description: "GET status leaves out presence.",
			CaughtBy:    []string{"PRES-STATUS-GET-01", "PRES-STATUS-PUT-01"},
			wrap:        editStatus(func(st map[string]any) { delete(st, "presence") }),
		},
		{
			Name: "last-active-string", Category: "off the schema: wrong type",
			Description: `GET status gives last_active_ago as a string of digits ("1234").`,
			CaughtBy:    []string{"PRES-STATUS-GET-01"},
			wrap: editStatus(func(st map[string]any) {
				if n, ok := st["last_active_ago"].(json.Number); ok {
					st["last_active_ago"] = n.String()
				}
			}),
		},
		{
			Name: "presence-busy", Category: "off the schema: bad enum value",
			Description: `GET status reports "busy", a state no version has, for unavailable.`,
			CaughtBy:    []string{"PRES-STATUS-GET-01"},
			wrap: editStatus(func(st map[string]any) {
				if st["presence"] == "unavailable" {
					st["presence"] = "busy"
				}
			}),
		},
		{
			Name: "presence-null", Category: "off the schema: null where not allowed",
			Description: "GET status gives presence as null.",
			CaughtBy:    []string{"PRES-STATUS-GET-01", "PRES-STATUS-PUT-01"},
			wrap:        editStatus(func(st map[string]any) { st["presence"] = nil }),
		},
		{
			Name: "put-answers-array", Category: "off the schema: wrong type",
			Description: "PUT status answers 200 with [] instead of an object.",
			CaughtBy:    []string{"PRES-STATUS-PUT-01"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewrite(s, next, putStatus, func(rec *recorder, _ *http.Request, _ reached) {
					if rec.status == http.StatusOK {
						rec.body.Reset()
						rec.body.WriteString("[]")
					}
				})
			},
		},
		{
			Name: "list-as-object", Category: "off the schema: wrong type",
			Description: `GET list wraps the events in an object, {"chunk": [...]}, instead of an array.`,
			CaughtBy:    []string{"PRES-LIST-GET-01"},
			wrap:        editList(func(v any) any { return map[string]any{"chunk": v} }),
		},
		{
			Name: "event-type-number", Category: "off the schema: wrong type",
			Description: "GET list gives each event's type as a number.",
			CaughtBy:    []string{"PRES-LIST-GET-02", "PRES-LIST-POST-01"},
			wrap: editList(func(v any) any {
				return mapEvents(v, func(e map[string]any) any { e["type"] = 7; return e })
			}),
		},

		// State not stored, stored wrongly, or stale.
		{
			Name: "put-not-stored", Category: "state not stored",
			Description: "PUT status answers 200 but stores nothing.",
			CaughtBy:    []string{"PRES-STATUS-PUT-01", "PRES-STATUS-PUT-02"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return afterPut(s, next, func(u *user, before presenceState) { u.presenceState = before })
			},
		},
		{
			Name: "first-put-sticks", Category: "state stale",
			Description: "Only a user's first PUT status is stored; later ones answer 200 and change nothing.",
			CaughtBy:    []string{"PRES-STATUS-PUT-04"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				var stuck sync.Map // *user -> true once set
				return afterPut(s, next, func(u *user, before presenceState) {
					if _, again := stuck.LoadOrStore(u, true); again {
						u.presenceState = before
					}
				})
			},
		},
		{
			Name: "status-msg-dropped", Category: "state stored wrongly",
			Description: "PUT status stores the presence but never the status_msg.",
			CaughtBy:    []string{"PRES-STATUS-PUT-02"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return afterPut(s, next, func(u *user, _ presenceState) { u.statusMsg, u.hasStatusMsg = "", false })
			},
		},
		{
			Name: "status-msg-ascii-only", Category: "state stored wrongly",
			Description: "PUT status stores status_msg with every non-ASCII character replaced by ?, as a Latin-1 column would.",
			CaughtBy:    []string{"PRES-STATUS-PUT-03"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return afterPut(s, next, func(u *user, _ presenceState) {
					u.statusMsg = strings.Map(func(r rune) rune {
						if r > 0x7f {
							return '?'
						}
						return r
					}, u.statusMsg)
				})
			},
		},
		{
			Name: "unavailable-stored-as-offline", Category: "state stored wrongly",
			Description: "PUT status stores unavailable as offline.",
			CaughtBy:    []string{"PRES-STATUS-PUT-01", "PRES-STATUS-GET-01"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return afterPut(s, next, func(u *user, _ presenceState) {
					if u.presence == "unavailable" {
						u.presence = "offline"
					}
				})
			},
		},

		// Another user allowed to act.
		{
			Name: "put-for-anyone", Category: "another user allowed to act",
			Description: "Any user may set any other user's presence.",
			CaughtBy:    []string{"PRES-STATUS-PUT-05", "PRES-STATUS-PUT-06"},
			wrap:        actAsPathUser(putStatus, always),
		},
		{
			Name: "post-list-for-anyone", Category: "another user allowed to act",
			Description: "Any user may change any other user's presence list.",
			CaughtBy:    []string{"PRES-LIST-POST-05", "PRES-LIST-POST-06"},
			wrap:        actAsPathUser(postList, always),
		},
		{
			Name: "get-list-for-anyone", Category: "another user allowed to act",
			Description: "Any user may read any other user's presence list.",
			CaughtBy:    []string{"PRES-LIST-GET-04"},
			wrap:        actAsPathUser(getList, always),
		},
		{
			Name: "status-visible-to-all", Category: "another user allowed to act",
			Description: "Any user may read any user's presence and status_msg, on their list or not.",
			CaughtBy:    []string{"PRES-STATUS-GET-05", "PRES-STATUS-GET-06"},
			wrap:        actAsPathUser(getStatus, always),
		},

		// Auth not checked.
		{
			Name: "no-token-accepted", Category: "auth not checked",
			Description: "A request without an access token acts as the user in its path.",
			CaughtBy:    []string{"PRES-STATUS-PUT-07", "PRES-LIST-POST-07"},
			wrap:        actAsPathUser(noEndpoint, tokenMissing),
		},
		{
			Name: "any-token-accepted", Category: "auth not checked",
			Description: "An access token the server never issued acts as the user in the path.",
			CaughtBy:    []string{"PRES-STATUS-PUT-09"},
			wrap: actAsPathUser(noEndpoint, func(s *Server, r *http.Request, _ reached) bool {
				token, err := accessToken(r)
				return err == nil && s.userByToken(token) == nil
			}),
		},
		{
			Name: "missing-token-500", Category: "crash",
			Description: "A request without an access token crashes the handler: 500.",
			CaughtBy:    []string{"PRES-STATUS-PUT-07", "PRES-LIST-POST-07"},
			wrap: intercept(func(s *Server, w http.ResponseWriter, r *http.Request, at reached) bool {
				if at.op == nil || !at.op.authenticated || !tokenMissing(s, r, at) {
					return false
				}
				writeRaw(w, http.StatusInternalServerError, "application/json", `{"errcode":"M_UNKNOWN","error":"Internal server error"}`)
				return true
			}),
		},

		// Bad input accepted, or crashing.
		{
			Name: "not-json-accepted", Category: "bad input accepted",
			Description: "PUT status answers 200 {} to a body that is not JSON, and stores nothing.",
			CaughtBy:    []string{"PRES-STATUS-PUT-11"},
			wrap:        answerNotJSON(http.StatusOK, "application/json", "{}"),
		},
		{
			Name: "not-json-500", Category: "crash",
			Description: "PUT status crashes on a body that is not JSON: 500 with a text/plain stack trace.",
			CaughtBy:    []string{"PRES-STATUS-PUT-11"},
			wrap:        answerNotJSON(http.StatusInternalServerError, "text/plain; charset=utf-8", "panic: invalid character in JSON\n\ngoroutine 1 [running]:\n"),
		},
		{
			Name: "unknown-presence-stored", Category: "bad input accepted",
			Description: `PUT status stores any string as presence, "away" included.`,
			CaughtBy:    []string{"PRES-STATUS-PUT-14"},
			wrap:        storeLoosely(func(v any) (string, bool) { p, ok := v.(string); return p, ok }),
		},
		{
			Name: "wrong-types-stored", Category: "bad input accepted",
			Description: "PUT status stores presence and status_msg of any JSON type, as their text.",
			CaughtBy:    []string{"PRES-STATUS-PUT-15"},
			wrap: storeLoosely(func(v any) (string, bool) {
				if _, isString := v.(string); isString {
					return "", false
				}
				text, _ := json.Marshal(v)
				return string(text), true
			}),
		},
		{
			Name: "list-applies-valid-part", Category: "bad input accepted",
			Description: "POST list applies the invites that are valid user IDs before refusing the rest of a bad body.",
			CaughtBy:    []string{"PRES-LIST-POST-09", "PRES-LIST-POST-11"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					at := s.reach(r)
					if at.endpoint != postList {
						next.ServeHTTP(w, r)
						return
					}
					body := readAll(r)
					rec := record(next, r)
					if rec.status == http.StatusBadRequest {
						// The server walked the invites one by one and stopped at the first bad one.
						var diff struct{ Invite []any }
						json.Unmarshal(body, &diff)
						for _, id := range diff.Invite {
							if id, ok := id.(string); ok && validUserID(id) {
								one, _ := json.Marshal(map[string][]string{"invite": {id}})
								record(next, withBody(r, one))
							}
						}
					}
					rec.sendTo(w)
				})
			},
		},
		{
			Name: "unknown-invitee-accepted", Category: "bad input accepted",
			Description: "POST list answers 200 to an invite of a user who does not exist, and applies the rest.",
			CaughtBy:    []string{"PRES-LIST-POST-12"},
			wrap:        filterInvites(func(s *Server, id string) bool { return !validUserID(id) || s.userByID(id) != nil }),
		},
		{
			Name: "malformed-invitee-ignored", Category: "bad input accepted",
			Description: "POST list skips invites that are not user IDs and applies the rest.",
			CaughtBy:    []string{"PRES-LIST-POST-11"},
			wrap:        filterInvites(func(s *Server, id string) bool { return validUserID(id) }),
		},

		// List semantics broken.
		{
			Name: "drop-ignored", Category: "list semantics",
			Description: "POST list ignores drop.",
			CaughtBy:    []string{"PRES-LIST-POST-02"},
			wrap: onBody(postList, func(w http.ResponseWriter, body []byte) bool { return false }, func(body []byte) []byte {
				var diff map[string]json.RawMessage
				if json.Unmarshal(body, &diff) != nil {
					return body
				}
				delete(diff, "drop")
				out, _ := json.Marshal(diff)
				return out
			}),
		},
		{
			Name: "invite-twice-lists-twice", Category: "list semantics",
			Description: "A user invited twice appears twice in the list.",
			CaughtBy:    []string{"PRES-LIST-POST-03"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				var mu sync.Mutex
				invites := map[[2]string]int{} // owner, invitee -> times invited
				counting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					at := s.reach(r)
					if at.endpoint != postList {
						next.ServeHTTP(w, r)
						return
					}
					var diff struct{ Invite []string }
					json.Unmarshal(readAll(r), &diff)
					rec := record(next, r)
					if rec.status == http.StatusOK {
						mu.Lock()
						for _, id := range diff.Invite {
							invites[[2]string{at.userID, id}]++
						}
						mu.Unlock()
					}
					rec.sendTo(w)
				})
				return rewrite(s, counting, getList, func(rec *recorder, _ *http.Request, at reached) {
					rec.editJSON(func(v any) any {
						events, _ := v.([]any)
						var out []any
						for _, e := range events {
							out = append(out, e)
							id, _ := content(e.(map[string]any))["user_id"].(string)
							mu.Lock()
							twice := invites[[2]string{at.userID, id}] > 1
							mu.Unlock()
							if twice {
								out = append(out, e)
							}
						}
						return out
					})
				})
			},
		},
		{
			Name: "list-frozen", Category: "list semantics",
			Description: "GET list reports each user's presence as it was when the list first showed them.",
			CaughtBy:    []string{"PRES-LIST-GET-03"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				var first sync.Map // owner + user -> presence first shown
				return rewrite(s, next, getList, func(rec *recorder, _ *http.Request, at reached) {
					rec.editJSON(func(v any) any {
						return mapEvents(v, func(e map[string]any) any {
							c := content(e)
							id, _ := c["user_id"].(string)
							shown, _ := first.LoadOrStore(at.userID+" "+id, c["presence"])
							c["presence"] = shown
							return e
						})
					})
				})
			},
		},
		{
			Name: "events-without-type", Category: "list semantics",
			Description: "GET list gives bare contents: events without type.",
			CaughtBy:    []string{"PRES-LIST-POST-01", "PRES-LIST-GET-02"},
			wrap: editList(func(v any) any {
				return mapEvents(v, func(e map[string]any) any { delete(e, "type"); return e })
			}),
		},

		// Errors not in Matrix format.
		{
			Name: "errors-without-errcode", Category: "error format",
			Description: `Error bodies say {"error": "..."} with no errcode.`,
			CaughtBy:    []string{"PRES-GEN-01"},
			wrap:        dropField(func(status int) bool { return status >= 400 }, "errcode"),
		},

		// last_active_ago wrong.
		{
			Name: "last-active-negative", Category: "last_active_ago wrong",
			Description: "last_active_ago is negative: a timestamp subtracted the wrong way round.",
			CaughtBy:    []string{"PRES-STATUS-GET-08"},
			wrap: editStatus(func(st map[string]any) {
				if n, ok := integer(st["last_active_ago"]); ok {
					st["last_active_ago"] = -n - 1
				}
			}),
		},
		{
			Name: "last-active-frozen", Category: "last_active_ago wrong",
			Description: "last_active_ago is always 0: the clock is read at the wrong moment.",
			CaughtBy:    []string{"PRES-STATUS-PUT-17", "PRES-STATUS-GET-07"},
			wrap:        editStatus(func(st map[string]any) { st["last_active_ago"] = 0 }),
		},
		{
			Name: "last-active-seconds", Category: "last_active_ago wrong",
			Description: "last_active_ago is in seconds, not milliseconds.",
			CaughtBy:    []string{"PRES-STATUS-GET-07"},
			wrap: editStatus(func(st map[string]any) {
				if n, ok := integer(st["last_active_ago"]); ok {
					st["last_active_ago"] = n / 1000
				}
			}),
		},

		// No response, or a broken one.
		{
			Name: "get-list-never-answers", Category: "no response",
			Description: "GET list never answers: the handler waits until the client gives up.",
			CaughtBy:    []string{"PRES-LIST-GET-01"},
			wrap: intercept(func(_ *Server, _ http.ResponseWriter, r *http.Request, at reached) bool {
				if at.endpoint != getList {
					return false
				}
				<-r.Context().Done()
				return true
			}),
		},
		{
			Name: "status-body-cut-short", Category: "body cut short",
			Description: "GET status sends half its body, then closes the connection.",
			CaughtBy:    []string{"PRES-STATUS-GET-01"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if s.reach(r).endpoint != getStatus {
						next.ServeHTTP(w, r)
						return
					}
					rec := record(next, r)
					body := rec.body.Bytes()
					for k, v := range rec.header {
						w.Header()[k] = v
					}
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
					w.WriteHeader(rec.status)
					w.Write(body[:len(body)/2])
					panic(http.ErrAbortHandler) // net/http closes the connection, mid-body
				})
			},
		},
		{
			Name: "status-body-not-json", Category: "body not JSON",
			Description: "GET status answers 200 with a form-encoded body under application/json.",
			CaughtBy:    []string{"PRES-STATUS-GET-01"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewrite(s, next, getStatus, func(rec *recorder, _ *http.Request, _ reached) {
					if rec.status == http.StatusOK {
						rec.body.Reset()
						rec.body.WriteString("presence=online&last_active_ago=0")
					}
				})
			},
		},

		// The rules of r0 and v3.
		{
			Name: "bearer-header-ignored", Category: "auth not checked", CheckWith: "v3",
			Description: "Under r0 and v3, a token in the Authorization: Bearer header is ignored; only the query parameter counts.",
			CaughtBy:    []string{"PRES-GEN-10"},
			wrap: sinceR0(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				r = r.Clone(r.Context())
				r.Header.Del("Authorization")
				next.ServeHTTP(w, r)
			}),
		},
		{
			Name: "query-token-ignored", Category: "auth not checked", CheckWith: "r0",
			Description: "Under r0 and v3, the access_token query parameter is ignored; only the header counts.",
			CaughtBy:    []string{"PRES-GEN-11"},
			wrap: sinceR0(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				r = r.Clone(r.Context())
				q := r.URL.Query()
				q.Del("access_token")
				r.URL.RawQuery = q.Encode()
				next.ServeHTTP(w, r)
			}),
		},
		{
			Name: "free-for-chat-accepted", Category: "bad input accepted", CheckWith: "v3",
			Description: "Under r0 and v3, PUT status still accepts and stores free_for_chat, which r0.2.0 removed.",
			CaughtBy:    []string{"PRES-STATUS-PUT-19"},
			wrap: storeLoosely(func(v any) (string, bool) {
				p, ok := v.(string)
				return p, ok && p == "free_for_chat"
			}),
		},
		{
			Name: "currently-active-while-offline", Category: "state reported wrongly", CheckWith: "r0",
			Description: "Under r0 and v3, GET status gives currently_active true whatever the presence, offline and unavailable included.",
			CaughtBy:    []string{"PRES-STATUS-GET-11"},
			wrap: editStatus(func(st map[string]any) {
				if _, ok := st["currently_active"]; ok {
					st["currently_active"] = true
				}
			}),
		},
		{
			Name: "currently-active-string", Category: "off the schema: wrong type", CheckWith: "v3",
			Description: `Under r0 and v3, GET status gives currently_active as a string ("true").`,
			CaughtBy:    []string{"PRES-STATUS-GET-01", "PRES-STATUS-GET-11"},
			wrap: editStatus(func(st map[string]any) {
				if b, ok := st["currently_active"].(bool); ok {
					st["currently_active"] = strconv.FormatBool(b)
				}
			}),
		},
		{
			Name: "shared-room-not-visible", Category: "state not shared", CheckWith: "v3",
			Description: "Under r0 and v3, a user's presence stays hidden from the users they share a room with.",
			CaughtBy:    []string{"PRES-STATUS-GET-04"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewrite(s, next, getStatus, func(rec *recorder, r *http.Request, at reached) {
					viewer, err := s.authenticate(r)
					if at.api.name == "v1" || err != nil || viewer.id == at.userID || rec.status != http.StatusOK {
						return
					}
					rec.status = errNoPresence.status
					rec.body.Reset()
					rec.body.WriteString(`{"errcode":"M_NOT_FOUND","error":"there is no presence state for this user that you may see"}`)
				})
			},
		},
		{
			Name: "token-not-required-to-read", Category: "auth not checked", CheckWith: "r0",
			Description: "Under r0 and v3, GET status needs no access token: an anonymous reader sees every user's presence.",
			CaughtBy:    []string{"PRES-STATUS-GET-10"},
			wrap: actAsPathUser(getStatus, func(s *Server, r *http.Request, at reached) bool {
				return at.api.name != "v1" && tokenMissing(s, r, at)
			}),
		},

		{
			Name: "fresh-user-presence-empty", Category: "off the schema: bad enum value", CheckWith: "v3",
			Description: `GET status of a user who has never set a presence answers presence "", as a store that fills in an empty record does.`,
			CaughtBy:    []string{"PRES-STATUS-GET-12"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				var set sync.Map // *user -> true once they have set a presence
				marking := afterPut(s, next, func(u *user, _ presenceState) { set.Store(u, true) })
				return rewrite(s, marking, getStatus, func(rec *recorder, _ *http.Request, at reached) {
					u := s.userByID(at.userID)
					if _, done := set.Load(u); u == nil || done || rec.status != http.StatusOK {
						return
					}
					rec.editJSON(func(v any) any {
						if m, ok := v.(map[string]any); ok {
							m["presence"], m["status_msg"] = "", ""
						}
						return v
					})
				})
			},
		},
		{
			Name: "settling-presence-empty", Category: "off the schema: while settling", CheckWith: "v3",
			Description: `For half a second after a PUT, GET status answers presence "" while the write settles; then the right state.`,
			CaughtBy:    []string{"PRES-STATUS-PUT-01", "PRES-STATUS-GET-01"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				var settling sync.Map // *user -> time the write lands
				marking := afterPut(s, next, func(u *user, _ presenceState) { settling.Store(u, time.Now().Add(settleLag)) })
				return rewrite(s, marking, getStatus, func(rec *recorder, _ *http.Request, at reached) {
					until, ok := settling.Load(s.userByID(at.userID))
					if !ok || time.Now().After(until.(time.Time)) || rec.status != http.StatusOK {
						return
					}
					rec.editJSON(func(v any) any {
						if m, ok := v.(map[string]any); ok {
							m["presence"] = ""
						}
						return v
					})
				})
			},
		},

		presenceFlickersEmpty(),

		// Rate limiting, CORS, routing, paths.
		{
			Name: "rate-limit-without-retry-after", Category: "rate limit",
			Description: "429 responses carry no retry_after_ms.",
			CaughtBy:    []string{"PRES-GEN-09"},
			wrap:        dropField(func(status int) bool { return status == http.StatusTooManyRequests }, "retry_after_ms"),
		},
		{
			Name: "no-cors", Category: "CORS",
			Description: "No CORS headers, and OPTIONS is a method like any other: 405.",
			CaughtBy:    []string{"PRES-GEN-07", "PRES-GEN-08"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodOptions {
						writeRaw(w, http.StatusMethodNotAllowed, "application/json", `{"errcode":"M_UNRECOGNIZED","error":"method not allowed"}`)
						return
					}
					rec := record(next, r)
					rec.header.Del("Access-Control-Allow-Origin")
					rec.sendTo(w)
				})
			},
		},
		{
			Name: "wrong-method-404", Category: "routing",
			Description: "A known path called with a method it does not serve gets 404, as if the path were unknown.",
			CaughtBy:    []string{"PRES-GEN-05"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewriteAll(next, func(rec *recorder) {
					if rec.status == http.StatusMethodNotAllowed {
						rec.status = http.StatusNotFound
						rec.header.Del("Allow")
					}
				})
			},
		},
		{
			Name: "unknown-endpoint-200", Category: "routing",
			Description: "Unknown paths under the prefix answer 200 {}, as a catch-all route does.",
			CaughtBy:    []string{"PRES-GEN-04"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewriteAll(next, func(rec *recorder) {
					if rec.status == http.StatusNotFound && strings.Contains(rec.body.String(), "M_UNRECOGNIZED") {
						rec.status = http.StatusOK
						rec.body.Reset()
						rec.body.WriteString("{}")
					}
				})
			},
		},
		{
			Name: "encoded-user-id-refused", Category: "path encoding",
			Description: "User IDs in paths are not percent-decoded: %40alice%3Aserver is refused as malformed.",
			CaughtBy:    []string{"PRES-GEN-06"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if p := r.URL.EscapedPath(); strings.Contains(p, "%40") || strings.Contains(p, "%3A") {
						w.Header()["Content-Type"] = contentTypeJSON
						w.Header()["Access-Control-Allow-Origin"] = allowAnyOrigin
						writeError(w, errorf(http.StatusBadRequest, "M_INVALID_PARAM", "userId: not a Matrix user ID"))
						return
					}
					next.ServeHTTP(w, r)
				})
			},
		},
	}...)
}

// dropField leaves a field out of every response body whose status when
// picks.
func dropField(when func(status int) bool, field string) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return rewriteAll(next, func(rec *recorder) {
			if !when(rec.status) {
				return
			}
			rec.editJSON(func(v any) any {
				if m, ok := v.(map[string]any); ok {
					delete(m, field)
				}
				return v
			})
		})
	}
}

// editStatus changes the body of every 200 GET status.
func editStatus(edit func(status map[string]any)) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return rewrite(s, next, getStatus, func(rec *recorder, _ *http.Request, _ reached) {
			if rec.status != http.StatusOK {
				return
			}
			rec.editJSON(func(v any) any {
				if m, ok := v.(map[string]any); ok {
					edit(m)
				}
				return v
			})
		})
	}
}

// editList changes the body of every 200 GET list.
func editList(edit func(v any) any) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return rewrite(s, next, getList, func(rec *recorder, _ *http.Request, _ reached) {
			if rec.status == http.StatusOK {
				rec.editJSON(edit)
			}
		})
	}
}

// intercept lets handle answer a request itself, returning true, instead
// of the reference.
func intercept(handle func(s *Server, w http.ResponseWriter, r *http.Request, at reached) bool) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !handle(s, w, r, s.reach(r)) {
				next.ServeHTTP(w, r)
			}
		})
	}
}

// always skips the check, whatever the request.
func always(*Server, *http.Request, reached) bool { return true }

// tokenMissing holds for a request that carries no access token.
func tokenMissing(_ *Server, r *http.Request, _ reached) bool {
	_, err := accessToken(r)
	return err == errMissingToken
}

// actAsPathUser serves requests to one endpoint (any, for noEndpoint) as
// the user in their path would be served, when skip says the server would
// skip its check.
func actAsPathUser(on endpoint, skip func(s *Server, r *http.Request, at reached) bool) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			at := s.reach(r)
			applies := at.op != nil && at.op.authenticated && at.userID != "" && (on == noEndpoint || at.endpoint == on)
			if applies && skip(s, r, at) && s.serveAs(w, r, at) {
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// onBody gives a deviation the body of requests to one endpoint: answer
// may answer them itself (returning true), and change, if given, rewrites
// the body the reference then sees.
func onBody(on endpoint, answer func(w http.ResponseWriter, body []byte) bool, change ...func([]byte) []byte) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s.reach(r).endpoint != on {
				next.ServeHTTP(w, r)
				return
			}
			body := readAll(r)
			if answer(w, body) {
				return
			}
			for _, c := range change {
				body = c(body)
			}
			next.ServeHTTP(w, withBody(r, body))
		})
	}
}

// answerNotJSON answers a PUT status whose body is not JSON as given,
// instead of the reference's 400.
func answerNotJSON(status int, contentType, body string) func(*Server, http.Handler) http.Handler {
	return onBody(putStatus, func(w http.ResponseWriter, got []byte) bool {
		if json.Valid(got) {
			return false
		}
		writeRaw(w, status, contentType, body)
		return true
	})
}

// storeLoosely makes PUT status store presence and status_msg values the
// reference refuses: asText says which, and the text to store.
func storeLoosely(asText func(v any) (string, bool)) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			at := s.reach(r)
			if at.endpoint != putStatus {
				next.ServeHTTP(w, r)
				return
			}
			body := readAll(r)
			viewer, authErr := s.authenticate(r)
			var fields map[string]any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if authErr != nil || viewer.id != at.userID || dec.Decode(&fields) != nil {
				next.ServeHTTP(w, r)
				return
			}
			presence, loose := asText(fields["presence"])
			if _, known := at.api.presenceState(presence); !loose || known {
				next.ServeHTTP(w, r)
				return
			}
			msg, hasMsg := "", false
			if v, ok := fields["status_msg"]; ok {
				if msg, hasMsg = v.(string); !hasMsg {
					text, _ := json.Marshal(v)
					msg, hasMsg = string(text), true
				}
			}
			viewer.mu.Lock()
			viewer.presence, viewer.statusMsg, viewer.hasStatusMsg = presence, msg, hasMsg
			viewer.lastActive = s.clock()
			s.presenceChangedLocked(viewer, viewer.lastActive)
			viewer.mu.Unlock()
			s.presenceWake()
			writeRaw(w, http.StatusOK, "application/json", "{}")
		})
	}
}

// filterInvites passes POST list on with only the invites keep accepts.
func filterInvites(keep func(s *Server, id string) bool) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s.reach(r).endpoint != postList {
				next.ServeHTTP(w, r)
				return
			}
			body := readAll(r)
			var diff map[string]json.RawMessage
			var invite []string
			if json.Unmarshal(body, &diff) == nil && json.Unmarshal(diff["invite"], &invite) == nil {
				kept := []string{}
				for _, id := range invite {
					if keep(s, id) {
						kept = append(kept, id)
					}
				}
				diff["invite"], _ = json.Marshal(kept)
				body, _ = json.Marshal(diff)
			}
			next.ServeHTTP(w, withBody(r, body))
		})
	}
}

// integer reads a JSON number decoded with UseNumber.
func integer(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// sinceR0 applies a deviation to requests under the r0 and v3 prefixes.
func sinceR0(deviate func(w http.ResponseWriter, r *http.Request, next http.Handler)) func(*Server, http.Handler) http.Handler {
	return func(s *Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if at := s.reach(r); at.api != nil && at.api.name != "v1" {
				deviate(w, r, next)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// settleLag is how long a deviation that applies writes late takes: longer
// than a read right after the write, shorter than the suite's default settle
// window of two seconds.
const settleLag = 500 * time.Millisecond
