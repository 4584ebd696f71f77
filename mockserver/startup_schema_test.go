package mockserver

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/schemas"
)

// The documents of the start-up calls, by name under each version.
var startupDocuments = []string{"capabilities", "account", "pushrules", "profile", "rooms-joined", "logout", "register-available"}

// Every response of every start-up call, success and each error, validates
// against its version's document: a documented status against its schema,
// any other error against the error definition. Every documented status is
// produced, but for the few the mock never gives (named below, with why).
func TestStartupResponsesValidateAgainstTheirDocuments(t *testing.T) {
	for _, version := range []string{"r0", "v3"} {
		t.Run(version, func(t *testing.T) {
			ops := map[string]*schemas.Operation{} // "GET /capabilities" → its operation
			var prefix string
			for _, name := range startupDocuments {
				doc, err := schemas.LoadVersionDocument(version, name)
				if err != nil {
					t.Fatal(err)
				}
				prefix = doc.BasePath
				for _, op := range doc.Operations {
					if ops[op.String()] != nil {
						t.Fatalf("%s is in two documents", op)
					}
					ops[op.String()] = op
				}
			}
			presence, err := schemas.LoadVersion(version)
			if err != nil {
				t.Fatal(err)
			}
			errorSchema := presence.Operation("GET", "/presence/{userId}/status").Responses[http.StatusNotFound].Schema

			h := newHarness(t, func(o *Options) { o.NoRateLimit = false; o.RateLimit = 1000 })
			tight := newHarness(t, func(o *Options) { o.NoRateLimit = false; o.RateLimit = 1 })
			closed := newHarness(t, func(o *Options) { o.ClosedRegistration = true })
			a := h.register("alice")
			b := h.register("bob")
			l := tight.register("limited")
			bearer := func(acct Account) http.Header { return http.Header{"Authorization": {"Bearer " + acct.AccessToken}} }

			type exchange struct {
				op   string
				resp response
			}
			var seen []exchange
			record := func(op string, r response) { seen = append(seen, exchange{op, r}) }
			profile, name, avatar := "/profile/{userId}", "/profile/{userId}/displayname", "/profile/{userId}/avatar_url"
			pa := prefix + "/profile/" + a.UserID

			record("GET /capabilities", h.request("GET", prefix+"/capabilities", "", bearer(a)))
			record("GET /capabilities", h.request("GET", prefix+"/capabilities", "", nil)) // 401
			record("GET /account/whoami", h.request("GET", prefix+"/account/whoami", "", bearer(a)))
			record("GET /account/whoami", h.request("GET", prefix+"/account/whoami", "", http.Header{"Authorization": {"Bearer nope"}}))
			record("GET /pushrules/", h.request("GET", prefix+"/pushrules/", "", bearer(a)))
			record("GET /pushrules/global/", h.request("GET", prefix+"/pushrules/global/", "", bearer(a)))
			record("GET /pushrules/global/", h.request("GET", prefix+"/pushrules/global/", "", nil)) // 401
			record("GET "+profile, h.request("GET", pa, "", nil))                                    // {}
			record("GET "+name, h.request("GET", pa+"/displayname", "", nil))                        // 404: not set
			record("PUT "+name, h.request("PUT", pa+"/displayname", `{"displayname":"Alice"}`, bearer(a)))
			record("PUT "+avatar, h.request("PUT", pa+"/avatar_url", `{"avatar_url":"mxc://localhost/abc"}`, bearer(a)))
			record("GET "+profile, h.request("GET", pa, "", nil)) // both fields
			record("GET "+name, h.request("GET", pa+"/displayname", "", nil))
			record("GET "+avatar, h.request("GET", pa+"/avatar_url", "", nil))
			record("GET "+profile, h.request("GET", prefix+"/profile/@nobody:localhost", "", nil))                                         // 404
			record("GET "+profile, h.request("GET", prefix+"/profile/bad", "", nil))                                                       // 400, bad user ID
			record("GET "+avatar, h.request("GET", prefix+"/profile/@nobody:localhost/avatar_url", "", nil))                               // 404
			record("PUT "+name, h.request("PUT", pa+"/displayname", `{"displayname":"x"}`, bearer(b)))                                     // 403
			record("PUT "+avatar, h.request("PUT", pa+"/avatar_url", `{"avatar_url":"mxc://localhost/x"}`, bearer(b)))                     // 403
			record("PUT "+name, h.request("PUT", pa+"/displayname", `{"displayname":7}`, bearer(a)))                                       // 400
			record("PUT "+name, h.request("PUT", pa+"/displayname", `{}`, bearer(a)))                                                      // 400 M_MISSING_PARAM
			record("PUT "+avatar, h.request("PUT", pa+"/avatar_url", `{"avatar_url":"http://x/y"}`, bearer(a)))                            // 400 M_INVALID_PARAM
			record("PUT "+avatar, h.request("PUT", pa+"/avatar_url", `nope`, bearer(a)))                                                   // 400 M_NOT_JSON
			record("PUT "+avatar, h.request("PUT", pa+"/avatar_url", `{"avatar_url":"`+strings.Repeat("x", maxBodyBytes)+`"}`, bearer(a))) // 413
			record("PUT "+avatar, h.request("PUT", pa+"/avatar_url", `{}`, nil))                                                           // 401
			h.createRoom(prefix, a)
			record("GET /joined_rooms", h.request("GET", prefix+"/joined_rooms", "", bearer(b))) // []
			record("GET /joined_rooms", h.request("GET", prefix+"/joined_rooms", "", bearer(a))) // one room
			record("GET /register/available", h.request("GET", prefix+"/register/available?username=free", "", nil))
			record("GET /register/available", h.request("GET", prefix+"/register/available?username=alice", "", nil))
			record("GET /register/available", h.request("GET", prefix+"/register/available?username=Alice", "", nil))
			record("GET /register/available", h.request("GET", prefix+"/register/available", "", nil))
			record("GET /register/available", closed.request("GET", prefix+"/register/available?username=free", "", nil)) // 403
			record("POST /logout", h.request("POST", prefix+"/logout", "nope", bearer(b)))                                // 400
			record("POST /logout", h.request("POST", prefix+"/logout", "", bearer(b)))
			record("POST /logout", h.request("POST", prefix+"/logout", "", bearer(b))) // 401: gone
			record("POST /logout/all", h.request("POST", prefix+"/logout/all", "{}", bearer(a)))
			record("POST /logout/all", h.request("POST", prefix+"/logout/all", "{}", bearer(a))) // 401: gone

			// 429 from every call that takes a token and documents it.
			for _, op := range []struct{ method, template, path, body string }{
				{"GET", "/capabilities", "/capabilities", ""},
				{"GET", "/account/whoami", "/account/whoami", ""},
				{"PUT", name, "/profile/" + l.UserID + "/displayname", `{"displayname":"L"}`},
				{"PUT", avatar, "/profile/" + l.UserID + "/avatar_url", `{"avatar_url":"mxc://localhost/l"}`},
			} {
				tight.clock.Advance(time.Hour)
				mustOK(t, tight.request(op.method, prefix+op.path, op.body, bearer(l)))
				record(op.method+" "+op.template, tight.request(op.method, prefix+op.path, op.body, bearer(l)))
			}

			produced := map[string]bool{}
			for _, ex := range seen {
				op := ops[ex.op]
				if op == nil {
					t.Fatalf("no document has %s", ex.op)
				}
				if _, documented := op.Responses[ex.resp.status]; !documented {
					if ex.resp.status < 400 {
						t.Errorf("%s answered %d, which it does not document: %s", ex.op, ex.resp.status, ex.resp.body)
					} else if err := errorSchema.Validate(ex.resp.body); err != nil {
						t.Errorf("%s → %d %s: not a Matrix error: %v", ex.op, ex.resp.status, ex.resp.body, err)
					}
					continue
				}
				produced[ex.op+" "+strconv.Itoa(ex.resp.status)] = true
				if err := op.ValidateResponse(ex.resp.status, ex.resp.body); err != nil {
					t.Errorf("%s → %d %s: %v", ex.op, ex.resp.status, ex.resp.body, err)
				}
			}
			// Statuses the documents allow that the mock never gives: it has
			// no application services (whoami 403), never hides a profile
			// (profile 403), and rate-limits only by user, so a call without
			// a token is never limited (register/available 429).
			never := map[string]bool{
				"GET /account/whoami 403": true, "GET " + profile + " 403": true,
				"GET " + name + " 403": true, "GET " + avatar + " 403": true,
				"GET /register/available 429": true,
			}
			for key, op := range ops {
				for _, status := range op.DocumentedStatuses() {
					k := key + " " + strconv.Itoa(status)
					if !produced[k] && !never[k] {
						t.Errorf("no test response for %s", k)
					}
				}
			}

			// The schemas are not vacuous: each refuses a wrong answer.
			for _, bad := range []struct{ op, body string }{
				{"GET /capabilities", `{}`},
				{"GET /capabilities", `{"capabilities":{"m.change_password":{}}}`},
				{"GET /account/whoami", `{"device_id":"X"}`},
				{"GET /pushrules/", `{"global":{"override":[{"rule_id":"x"}]}}`},
				{"GET /pushrules/global/", `{"content":{}}`},
				{"GET " + profile, `{"displayname":7}`},
				{"GET /joined_rooms", `{"joined_rooms":["#alias:localhost"]}`},
				{"GET /register/available", `{"available":"yes"}`},
			} {
				err := ops[bad.op].ValidateResponse(http.StatusOK, []byte(bad.body))
				var undocumented *schemas.UndocumentedStatusError
				if err == nil || errors.As(err, &undocumented) {
					t.Errorf("%s accepts %s (%v)", bad.op, bad.body, err)
				}
			}
		})
	}
}
