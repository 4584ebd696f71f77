package mockserver

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/schemas"
)

// exchangeLog collects responses by the operation they answer, to check
// them against a version's documents.
type exchangeLog struct {
	t    *testing.T
	seen map[string][]response // "document METHOD /template" -> responses
}

func (l *exchangeLog) record(doc, op string, r response) response {
	l.seen[doc+" "+op] = append(l.seen[doc+" "+op], r)
	return r
}

// check validates every response against its document, and asserts that
// each status each document gives its operations was produced.
func (l *exchangeLog) check(version string, docs ...string) {
	l.t.Helper()
	for _, name := range docs {
		doc, err := schemas.LoadVersionDocument(version, name)
		if err != nil {
			l.t.Fatal(err)
		}
		produced := map[string]bool{}
		for key, rs := range l.seen {
			docName, op, _ := strings.Cut(key, " ")
			if docName != name {
				continue
			}
			method, template, _ := strings.Cut(op, " ")
			o := doc.Operation(method, template)
			if o == nil {
				l.t.Fatalf("%s/%s has no operation %s", version, name, op)
			}
			for _, r := range rs {
				if _, ok := o.Responses[r.status]; !ok {
					l.t.Errorf("%s/%s %s answered %d, which it does not document: %s", version, name, op, r.status, r.body)
					continue
				}
				produced[op+" "+strconv.Itoa(r.status)] = true
				if err := o.ValidateResponse(r.status, r.body); err != nil {
					l.t.Errorf("%s/%s %s → %d %s: %v", version, name, op, r.status, r.body, err)
				}
			}
		}
		for _, o := range doc.Operations {
			for _, status := range o.DocumentedStatuses() {
				if key := o.String() + " " + strconv.Itoa(status); !produced[key] {
					l.t.Errorf("%s/%s: no test response for %s", version, name, key)
				}
			}
		}
	}
}

// Every response of /sync and the filter API, success and error, validates
// against the version's documents, and each documented status is produced.
func TestSyncResponsesValidateAgainstTheDocuments(t *testing.T) {
	for _, prefix := range laterPrefixes {
		version := strings.TrimPrefix(prefix, "/_matrix/client/")
		t.Run(version, func(t *testing.T) {
			log := &exchangeLog{t: t, seen: map[string][]response{}}
			h, a, b, c, _ := roomOfMany(t, prefix)
			sync := func(acct Account, query string) response {
				return log.record("sync", "GET /sync", h.as(acct.AccessToken, "GET", prefix+"/sync?"+query, ""))
			}
			mustOK(t, sync(b, ""))
			tok := h.syncAs(prefix, b, "").NextBatch
			h.putPresence(prefix, a, `{"presence":"unavailable"}`) // not active, no message
			h.clock.Advance(time.Hour)                             // online but no longer active
			sync(b, q("since", tok))
			sync(b, q("since", tok, "set_presence", "unavailable", "timeout", "10"))
			sync(b, q("filter", `{"presence":{"limit":1}}`))
			sync(c, "")
			sync(b, q("since", "nope"))
			sync(b, q("set_presence", "away"))
			sync(b, q("filter", "{"))
			sync(b, q("filter", `{"presence":{"limit":-1}}`))
			sync(b, q("filter", `{"presence":[]}`))
			sync(b, q("timeout", "x"))

			filters := prefix + "/user/"
			post := func(acct Account, owner, body string) response {
				return log.record("filter", "POST /user/{userId}/filter", h.as(acct.AccessToken, "POST", filters+owner+"/filter", body))
			}
			get := func(acct Account, owner, id string) response {
				return log.record("filter", "GET /user/{userId}/filter/{filterId}", h.as(acct.AccessToken, "GET", filters+owner+"/filter/"+id, ""))
			}
			created := mustOK(t, post(b, b.UserID, `{"presence":{"types":["m.presence"],"limit":5},"room":{"timeline":{"limit":10,"lazy_load_members":true}},"event_format":"client","event_fields":["type"]}`))
			id := strings.Trim(strings.TrimPrefix(string(created.body), `{"filter_id":`), `"}`)
			get(b, b.UserID, id)
			post(b, b.UserID, `{}`)
			post(b, b.UserID, `not json`)
			post(b, b.UserID, `{"presence":{"senders":"x"}}`)
			post(a, b.UserID, `{}`)
			get(a, b.UserID, id)
			get(b, b.UserID, "999")
			sync(b, q("filter", id))
			log.check(version, "sync", "filter")
		})
	}
}

func TestEventStreamResponsesValidateAgainstTheDocument(t *testing.T) {
	log := &exchangeLog{t: t, seen: map[string][]response{}}
	h, a, b, c := newListing(t)
	initial := func(acct Account, query string) response {
		return log.record("sync", "GET /initialSync", h.as(acct.AccessToken, "GET", v1Prefix+"/initialSync?"+query, ""))
	}
	events := func(acct Account, query string) response {
		return log.record("sync", "GET /events", h.as(acct.AccessToken, "GET", v1Prefix+"/events?"+query, ""))
	}
	h.createRoom(r0Prefix, b)
	end := h.initialSync(b).End
	initial(b, "")
	initial(b, "limit=3")
	initial(c, "")
	initial(b, "limit=x")
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"unavailable"}`))
	events(b, q("from", end))
	events(b, q("from", end, "timeout", "10"))
	events(b, "")
	events(b, q("from", "s1"))
	events(b, "timeout=soon")
	log.check("v1", "sync")
}
