package mockserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// deliveryFaults are the faults of presence delivery: /sync and filters
// (r0, v3) and the v1 event stream, each the kind of break a real
// homeserver shows, with the delivery requirements that must catch it.
func deliveryFaults() []Deviation {
	isLater := func(api *apiVersion) bool { return api.visibility == visibleBySharedRoom }
	isV1 := func(api *apiVersion) bool { return api.visibility == visibleByList }
	return []Deviation{
		// Presence not delivered, or delivered wrongly.
		{
			Name: "sync-without-presence", Category: "delivery: nothing delivered", CheckWith: "v3",
			Description: "/sync answers well formed but its presence.events is always empty.",
			CaughtBy:    []string{"PRES-SYNC-01", "PRES-SYNC-04"},
			wrap:        editSyncEvents(func([]any, url.Values, *user) []any { return []any{} }),
		},
		{
			Name: "sync-event-without-sender", Category: "off the schema: missing field", CheckWith: "r0",
			Description: "/sync's m.presence events leave out sender.",
			CaughtBy:    []string{"PRES-SYNC-02"},
			wrap: editSyncEvents(func(events []any, _ url.Values, _ *user) []any {
				return eachEvent(events, func(e map[string]any) { delete(e, "sender") })
			}),
		},
		{
			Name: "sync-currently-active-string", Category: "off the schema: wrong type", CheckWith: "v3",
			Description: `/sync's m.presence events give currently_active as a string ("true").`,
			CaughtBy:    []string{"PRES-SYNC-02"},
			wrap: editSyncEvents(func(events []any, _ url.Values, _ *user) []any {
				return eachEvent(events, func(e map[string]any) {
					if c, ok := e["content"].(map[string]any); ok {
						if b, ok := c["currently_active"].(bool); ok {
							c["currently_active"] = strconv.FormatBool(b)
						}
					}
				})
			}),
		},
		{
			Name: "sync-duplicate-events", Category: "delivery: duplicated", CheckWith: "r0",
			Description: "/sync carries every m.presence event twice in one response.",
			CaughtBy:    []string{"PRES-SYNC-06"},
			wrap: editSyncEvents(func(events []any, _ url.Values, _ *user) []any {
				out := make([]any, 0, 2*len(events))
				for _, e := range events {
					out = append(out, e, e)
				}
				return out
			}),
		},
		{
			Name: "sync-without-next-batch", Category: "off the schema: missing field", CheckWith: "v3",
			Description: "/sync answers without next_batch.",
			CaughtBy:    []string{"PRES-SYNC-02", "PRES-SYNC-03"},
			wrap:        editSuccess(getSync, func(body map[string]any, _ url.Values, _ *user) { delete(body, "next_batch") }),
		},
		{
			Name: "sync-rooms-join-empty", Category: "delivery: rooms missing", CheckWith: "r0",
			Description: "/sync's rooms.join is always empty, whatever rooms the caller has joined.",
			CaughtBy:    []string{"PRES-SYNC-03"},
			wrap: editSuccess(getSync, func(body map[string]any, _ url.Values, _ *user) {
				if rooms, ok := body["rooms"].(map[string]any); ok {
					rooms["join"] = map[string]any{}
				}
			}),
		},

		// Tokens and waiting.
		{
			Name: "incremental-sync-resends-everything", Category: "delivery: since ignored", CheckWith: "v3",
			Description: "An incremental /sync carries every room-mate's presence again, changed since the token or not.",
			CaughtBy:    []string{"PRES-SYNC-05"},
			wrap: onQuery(getSync, func(s *Server, q url.Values, _ *http.Request) bool {
				if _, ok := s.stream.parseToken(q.Get("since")); !ok {
					return false // an unknown token is still refused
				}
				q.Set("since", s.stream.token(0))
				return true
			}),
		},
		{
			Name: "sync-long-poll-sleeps", Category: "delivery: long-poll not woken", CheckWith: "r0",
			Description: "A /sync long-poll ignores presence changes and answers only when its timeout runs out.",
			CaughtBy:    []string{"PRES-SYNC-07"},
			wrap:        sleepThroughTimeout(getSync, "since"),
		},
		{
			Name: "unknown-since-accepted", Category: "bad input accepted", CheckWith: "v3",
			Description: "/sync with a since token the server never issued answers 200, as an initial sync.",
			CaughtBy:    []string{"PRES-SYNC-20"},
			wrap: onQuery(getSync, func(s *Server, q url.Values, _ *http.Request) bool {
				if _, ok := s.stream.parseToken(q.Get("since")); !q.Has("since") || ok {
					return false
				}
				q.Del("since")
				return true
			}),
		},

		// set_presence.
		{
			Name: "set-presence-ignored", Category: "state not stored", CheckWith: "r0",
			Description: "/sync never changes the caller's presence: set_presence, given or omitted, is ignored.",
			CaughtBy:    []string{"PRES-SYNC-08", "PRES-SYNC-10"},
			wrap: onQuery(getSync, func(_ *Server, q url.Values, _ *http.Request) bool {
				if v := q.Get("set_presence"); q.Has("set_presence") && v != "online" && v != "offline" && v != "unavailable" {
					return false // still refused
				}
				q.Set("set_presence", "offline")
				return true
			}),
		},
		{
			Name: "set-presence-offline-marks-online", Category: "state stored wrongly", CheckWith: "v3",
			Description: "/sync?set_presence=offline marks the caller online, as if set_presence were omitted.",
			CaughtBy:    []string{"PRES-SYNC-09"},
			wrap: onQuery(getSync, func(_ *Server, q url.Values, _ *http.Request) bool {
				if q.Get("set_presence") != "offline" {
					return false
				}
				q.Del("set_presence")
				return true
			}),
		},
		{
			Name: "set-presence-bad-value-accepted", Category: "bad input accepted", CheckWith: "r0",
			Description: "/sync with a set_presence that is not a presence state answers 200 and marks the caller online.",
			CaughtBy:    []string{"PRES-SYNC-11"},
			wrap: onQuery(getSync, func(_ *Server, q url.Values, _ *http.Request) bool {
				switch v := q.Get("set_presence"); {
				case !q.Has("set_presence"), v == "online", v == "offline", v == "unavailable":
					return false
				}
				q.Del("set_presence")
				return true
			}),
		},

		// Filters.
		{
			Name: "inline-filter-ignored", Category: "filter ignored", CheckWith: "v3",
			Description: "/sync ignores a filter given inline as JSON.",
			CaughtBy:    []string{"PRES-SYNC-12", "PRES-SYNC-13", "PRES-SYNC-14", "PRES-SYNC-15"},
			wrap: onQuery(getSync, func(_ *Server, q url.Values, _ *http.Request) bool {
				if !strings.HasPrefix(q.Get("filter"), "{") || !json.Valid([]byte(q.Get("filter"))) {
					return false
				}
				q.Del("filter")
				return true
			}),
		},
		{
			Name: "filter-id-ignored", Category: "filter ignored", CheckWith: "r0",
			Description: "/sync ignores a filter given by the ID an upload returned.",
			CaughtBy:    []string{"PRES-SYNC-16"},
			wrap: onQuery(getSync, func(_ *Server, q url.Values, _ *http.Request) bool {
				if !q.Has("filter") || strings.HasPrefix(q.Get("filter"), "{") {
					return false
				}
				q.Del("filter")
				return true
			}),
		},
		{
			Name: "presence-limit-ignored", Category: "filter ignored", CheckWith: "v3",
			Description: "A presence filter's limit is ignored, inline or uploaded; its other members apply.",
			CaughtBy:    []string{"PRES-SYNC-15"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				inline := onQuery(getSync, func(_ *Server, q url.Values, _ *http.Request) bool {
					f, ok := withoutPresenceLimit([]byte(q.Get("filter")))
					if ok {
						q.Set("filter", string(f))
					}
					return ok
				})(s, next)
				return onBody(postFilter, func(http.ResponseWriter, []byte) bool { return false }, func(body []byte) []byte {
					if f, ok := withoutPresenceLimit(body); ok {
						return f
					}
					return body
				})(s, inline)
			},
		},
		{
			Name: "bad-filter-unknown-errcode", Category: "error format", CheckWith: "r0",
			Description: "A filter that is not JSON, or of the wrong shape, is refused with 400 M_UNKNOWN, a code that says nothing of what was wrong.",
			CaughtBy:    []string{"PRES-SYNC-22"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				unknown := func(rec *recorder, _ *http.Request, _ reached) {
					if rec.status == http.StatusBadRequest && bytes.Contains(rec.body.Bytes(), []byte(`"errcode":"M_`)) {
						rec.body.Reset()
						rec.body.WriteString(`{"errcode":"M_UNKNOWN","error":"json.Unmarshal: unexpected end of JSON input"}`)
					}
				}
				return rewrite(s, rewrite(s, next, postFilter, unknown), getSync, func(rec *recorder, r *http.Request, at reached) {
					if r.URL.Query().Has("filter") {
						unknown(rec, r, at)
					}
				})
			},
		},
		{
			Name: "bad-filter-accepted", Category: "bad input accepted", CheckWith: "r0",
			Description: "A filter that is not JSON is accepted: inline, /sync answers as if there were none; uploaded, it gets a filter ID.",
			CaughtBy:    []string{"PRES-SYNC-21"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				inline := onQuery(getSync, func(_ *Server, q url.Values, _ *http.Request) bool {
					if !q.Has("filter") || json.Valid([]byte(q.Get("filter"))) || !strings.HasPrefix(q.Get("filter"), "{") {
						return false
					}
					q.Del("filter")
					return true
				})(s, next)
				return onBody(postFilter, func(w http.ResponseWriter, body []byte) bool {
					if json.Valid(body) {
						return false
					}
					w.Header()["Access-Control-Allow-Origin"] = allowAnyOrigin
					writeRaw(w, http.StatusOK, "application/json", `{"filter_id":"0"}`)
					return true
				})(s, inline)
			},
		},
		{
			Name: "foreign-filter-readable", Category: "another user allowed to act", CheckWith: "v3",
			Description: "Any user may read any other user's uploaded filters.",
			CaughtBy:    []string{"PRES-SYNC-17"},
			wrap:        actAsPathUser(getFilter, always),
		},
		{
			Name: "unknown-filter-200", Category: "wrong status", CheckWith: "r0",
			Description: "GET of a filter ID that was never issued answers 200 with an empty filter instead of 404.",
			CaughtBy:    []string{"PRES-SYNC-17"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				return rewrite(s, next, getFilter, func(rec *recorder, _ *http.Request, _ reached) {
					if rec.status == http.StatusNotFound {
						rec.status = http.StatusOK
						rec.body.Reset()
						rec.body.WriteString("{}")
					}
				})
			},
		},

		// Who receives whose presence.
		{
			Name: "presence-leaked-to-strangers", Category: "delivery: leaked", CheckWith: "v3",
			Description: "/sync delivers every user's presence to everyone, room-mates or not.",
			CaughtBy:    []string{"PRES-SYNC-18"},
			wrap:        widenTo(isLater, everyone),
		},
		{
			Name: "delivery-continues-after-leave", Category: "delivery: leaked", CheckWith: "r0",
			Description: "After a user leaves a room, /sync keeps delivering the presence of its members to them.",
			CaughtBy:    []string{"PRES-SYNC-19"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				var lr leftRooms
				return widenTo(isLater, func(s *Server, viewer *user, mates []mate) []mate {
					return lr.widen(s, viewer, mates, 0)
				})(s, next)
			},
		},
		{
			Name: "delivery-stops-late-after-leave", Category: "delivery: leaked", CheckWith: "v3",
			Description: "After a user leaves a room, /sync keeps delivering its members' presence for two more seconds, as a membership cache that expires late does.",
			CaughtBy:    []string{"PRES-SYNC-19"},
			wrap: func(s *Server, next http.Handler) http.Handler {
				var lr leftRooms
				return widenTo(isLater, func(s *Server, viewer *user, mates []mate) []mate {
					return lr.widen(s, viewer, mates, 2*time.Second)
				})(s, next)
			},
		},

		// The v1 event stream.
		{
			Name: "v1-events-without-event-id", Category: "off the schema: missing field",
			Description: "v1 /events and /initialSync give m.presence events without event_id.",
			CaughtBy:    []string{"PRES-EVENTS-01"},
			wrap: editV1Events(func(events []any) []any {
				return eachEvent(events, func(e map[string]any) { delete(e, "event_id") })
			}),
		},
		{
			Name: "events-from-ignored", Category: "delivery: since ignored",
			Description: "v1 /events ignores from and streams from the beginning: every listed user's presence again.",
			CaughtBy:    []string{"PRES-EVENTS-03"},
			wrap: onQuery(getEvents, func(s *Server, q url.Values, _ *http.Request) bool {
				if _, ok := s.stream.parseToken(q.Get("from")); !ok {
					return false
				}
				q.Set("from", s.stream.token(0))
				return true
			}),
		},
		{
			Name: "events-long-poll-sleeps", Category: "delivery: long-poll not woken",
			Description: "A v1 /events long-poll ignores presence changes and answers only when its timeout runs out.",
			CaughtBy:    []string{"PRES-EVENTS-04"},
			wrap:        sleepThroughTimeout(getEvents, "from"),
		},
		{
			Name: "unknown-from-accepted", Category: "bad input accepted",
			Description: "v1 /events with a from token the server never issued answers 200, streaming from now.",
			CaughtBy:    []string{"PRES-EVENTS-05"},
			wrap: onQuery(getEvents, func(s *Server, q url.Values, _ *http.Request) bool {
				if _, ok := s.stream.parseToken(q.Get("from")); !q.Has("from") || ok {
					return false
				}
				q.Del("from")
				return true
			}),
		},
		{
			Name: "initial-sync-without-presence", Category: "delivery: nothing delivered",
			Description: "v1 /initialSync's presence is always empty.",
			CaughtBy:    []string{"PRES-EVENTS-02"},
			wrap: editSuccess(getInitial, func(body map[string]any, _ url.Values, _ *user) {
				body["presence"] = []any{}
			}),
		},
		{
			Name: "events-leaked-to-unlisted", Category: "delivery: leaked",
			Description: "v1 /events delivers every user's presence to everyone, on their list or not.",
			CaughtBy:    []string{"PRES-EVENTS-06"},
			wrap:        widenTo(isV1, everyone),
		},
	}
}

// withoutPresenceLimit removes presence.limit from a filter, reporting
// whether there was one.
func withoutPresenceLimit(filter []byte) ([]byte, bool) {
	var f map[string]json.RawMessage
	if json.Unmarshal(filter, &f) != nil {
		return nil, false
	}
	var p map[string]json.RawMessage
	if json.Unmarshal(f["presence"], &p) != nil || p["limit"] == nil {
		return nil, false
	}
	delete(p, "limit")
	f["presence"], _ = json.Marshal(p)
	out, _ := json.Marshal(f)
	return out, true
}
