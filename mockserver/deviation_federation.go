package mockserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mxpresence/mxpresence/mockserver/federation"
)

// The deviations of the mock's federation (Options.Federation). Each acts
// through the federation's Tweaks (Deviation.federate), or, where it is
// about what local clients see, through the delivery seams. They are
// checked with the v3 API, where remote room-mates are visible.

// laterDelay is how long the later faults wait before misbehaving: well
// inside the self-test's 500 ms settle window. unsignedLater is shorter:
// PRES-FED-11 watches from before it sends its two refused transactions
// (the second may make this server fetch the peer's keys again), so on a
// busy machine 150 ms after the refusal can fall outside the window.
const (
	laterDelay    = 150 * time.Millisecond
	unsignedLater = 50 * time.Millisecond
)

func federationFaults() []Deviation {
	fed := func(d Deviation, set func(s *Server, tw *federation.Tweaks)) Deviation {
		d.Kind, d.CheckWith, d.federate = Fault, "v3", set
		return d
	}
	return []Deviation{
		fed(Deviation{Name: "fed-edu-storm", Category: "federation: flood",
			Description: "After a presence change, the user's presence is queued again every 25 ms for 10 s for every server in their rooms, though nothing changed, and the queue never merges repeats.",
			CaughtBy:    []string{"PRES-FED-07"}},
			func(_ *Server, tw *federation.Tweaks) {
				tw.Repeat, tw.RepeatFor, tw.NoMerge = 25*time.Millisecond, 10*time.Second, true
			}),
		fed(Deviation{Name: "fed-edu-storm-later", Category: "federation: flood",
			Description: "A presence change is sent once, rightly; 300 ms later the sender starts queueing it again every 25 ms, for 10 s, and never merges the repeats.",
			CaughtBy:    []string{"PRES-FED-07"}},
			func(_ *Server, tw *federation.Tweaks) {
				tw.Repeat, tw.RepeatAfter, tw.RepeatFor, tw.NoMerge = 25*time.Millisecond, 300*time.Millisecond, 10*time.Second, true
			}),
		fed(Deviation{Name: "fed-empty-push", Category: "federation: off the schema's intent",
			Description: "Every transaction carries, besides its presence, an m.presence EDU whose push list is empty.",
			CaughtBy:    []string{"PRES-FED-04"}},
			func(_ *Server, tw *federation.Tweaks) {
				tw.EditEDUs = func(edus []json.RawMessage) []json.RawMessage {
					return append(edus, json.RawMessage(`{"edu_type":"m.presence","content":{"push":[]}}`))
				}
			}),
		fed(Deviation{Name: "fed-over-100-edus", Category: "federation: over the limits",
			Description: "A transaction repeats its first EDU until it carries 101, as a queue that never merges does.",
			CaughtBy:    []string{"PRES-FED-03"}},
			func(_ *Server, tw *federation.Tweaks) {
				tw.EditEDUs = func(edus []json.RawMessage) []json.RawMessage {
					for len(edus) > 0 && len(edus) <= 100 {
						edus = append(edus, edus[0])
					}
					return edus
				}
			}),
		fed(Deviation{Name: "fed-sends-to-strangers", Category: "federation: presence leaked",
			Description: "Every local user's presence goes to every server with a user in any room of this server, whether or not they share a room.",
			CaughtBy:    []string{"PRES-FED-06"}},
			func(s *Server, tw *federation.Tweaks) {
				tw.Destinations = func(_ string, reference []string) []string {
					return mergeServers(reference, s.remoteServersInRooms())
				}
			}),
		fed(Deviation{Name: "fed-sends-after-leave", Category: "federation: presence leaked",
			Description: "A server once sent a user's presence keeps receiving it after its users leave the user's rooms.",
			CaughtBy:    []string{"PRES-FED-08"}},
			func(_ *Server, tw *federation.Tweaks) {
				var mu sync.Mutex
				sent := map[string][]string{}
				tw.Destinations = func(userID string, reference []string) []string {
					mu.Lock()
					defer mu.Unlock()
					sent[userID] = mergeServers(sent[userID], reference)
					return slices.Clone(sent[userID])
				}
			}),
		fed(Deviation{Name: "fed-no-last-active-ago", Category: "federation: off the schema",
			Description: "Outbound push items leave out last_active_ago, which the m.presence EDU schema requires.",
			CaughtBy:    []string{"PRES-FED-02"}},
			func(_ *Server, tw *federation.Tweaks) {
				tw.EditItem = func(item map[string]any) { delete(item, "last_active_ago") }
			}),
		fed(Deviation{Name: "fed-drops-status-msg", Category: "federation: wrong content",
			Description: "Outbound push items leave out the user's status_msg.",
			CaughtBy:    []string{"PRES-FED-01"}},
			func(_ *Server, tw *federation.Tweaks) {
				tw.EditItem = func(item map[string]any) { delete(item, "status_msg") }
			}),
		fed(Deviation{Name: "fed-bad-signature", Category: "federation: auth not given",
			Description: "Outbound requests are signed with a key that has the published key's ID but is another key, so the X-Matrix header does not verify.",
			CaughtBy:    []string{"PRES-FED-05"}},
			func(_ *Server, tw *federation.Tweaks) { tw.SignWithOtherKey = true }),
		fed(Deviation{Name: "fed-accepts-forged-push", Category: "federation: forged presence believed",
			Description: "Push items about users of other servers than the transaction's origin (this server's own among them) are applied.",
			CaughtBy:    []string{"PRES-FED-10"}},
			func(_ *Server, tw *federation.Tweaks) { tw.AcceptForeign = true }),
		fed(Deviation{Name: "fed-forged-applied-later", Category: "federation: forged presence believed",
			Description: "Push items about users of other servers than the origin are ignored at first, and applied 150 ms later.",
			CaughtBy:    []string{"PRES-FED-10"}},
			func(_ *Server, tw *federation.Tweaks) { tw.AcceptForeign, tw.ForeignAfter = true, laterDelay }),
		fed(Deviation{Name: "fed-accepts-unsigned", Category: "federation: auth not checked",
			Description: "PUT /send is served without checking the X-Matrix header: an unsigned or badly signed transaction is applied, as from its body's origin.",
			CaughtBy:    []string{"PRES-FED-11"}},
			func(_ *Server, tw *federation.Tweaks) { tw.SkipAuth = isSend }),
		fed(Deviation{Name: "fed-unsigned-applied-later", Category: "federation: auth not checked",
			Description: "A transaction whose X-Matrix header is missing or does not verify is refused with 401, and its EDUs applied 50 ms later, as from its body's origin.",
			CaughtBy:    []string{"PRES-FED-11"}},
			func(_ *Server, tw *federation.Tweaks) { tw.Inbound = applyRefusedLater }),
		fed(Deviation{Name: "fed-ignores-inbound", Category: "federation: presence lost",
			Description: "Transactions are answered 200 and their presence EDUs thrown away.",
			CaughtBy:    []string{"PRES-FED-09"}},
			func(_ *Server, tw *federation.Tweaks) { tw.IgnoreEDUs = true }),
		fed(Deviation{Name: "fed-malformed-stops-transaction", Category: "federation: presence lost",
			Description: "The first malformed EDU or push item of a transaction drops everything after it.",
			CaughtBy:    []string{"PRES-FED-12"}},
			func(_ *Server, tw *federation.Tweaks) { tw.StopAtMalformed = true }),
		{
			Name: "fed-shows-unshared-remote", Kind: Fault, CheckWith: "v3", Category: "federation: presence leaked",
			Description: "Local users receive the presence of every remote user this server has heard of, sharing a room or not.",
			CaughtBy:    []string{"PRES-FED-13"},
			wrap: widenTo(func(*apiVersion) bool { return true }, func(s *Server, _ *user, mates []mate) []mate {
				have := map[*user]bool{}
				for _, m := range mates {
					have[m.u] = true
				}
				s.remotes.Range(func(_, v any) bool {
					if u := v.(*user); !have[u] {
						mates = append(mates, mate{u: u})
					}
					return true
				})
				return mates
			}),
		},
	}
}

func federationVariations() []Deviation {
	fed := func(d Deviation, set func(s *Server, tw *federation.Tweaks)) Deviation {
		d.Kind, d.CheckWith, d.federate = Variation, "v3", set
		return d
	}
	return []Deviation{
		fed(Deviation{Name: "fed-one-user-per-edu", Description: "Each user's presence goes in an m.presence EDU of its own, instead of one EDU for every user of a batch."},
			func(_ *Server, tw *federation.Tweaks) { tw.OneUserPerEDU = true }),
		fed(Deviation{Name: "fed-no-currently-active", Description: "Outbound push items leave out currently_active, which the schema makes optional."},
			func(_ *Server, tw *federation.Tweaks) {
				tw.EditItem = func(item map[string]any) { delete(item, "currently_active") }
			}),
		fed(Deviation{Name: "fed-delivers-late", Description: "Each change waits 250 ms in the queue before it goes: late, but inside the settle window."},
			func(_ *Server, tw *federation.Tweaks) { tw.Hold = 250 * time.Millisecond }),
		fed(Deviation{Name: "fed-batches-slowly", Description: "The sender gathers changes for 200 ms before it sends, so that a burst goes in one transaction."},
			func(_ *Server, tw *federation.Tweaks) { tw.BatchDelay = 200 * time.Millisecond }),
	}
}

// isSend says whether a request is to PUT /send.
func isSend(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/_matrix/federation/v1/send/")
}

// applyRefusedLater lets the reference refuse a transaction whose
// signature fails, then applies it anyway a moment later.
func applyRefusedLater(f *federation.Federation, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isSend(r) {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status != http.StatusUnauthorized {
			return
		}
		var txn struct {
			Origin string `json:"origin"`
		}
		if json.Unmarshal(body, &txn) == nil && txn.Origin != "" {
			time.AfterFunc(unsignedLater, func() { f.ApplyTransaction(txn.Origin, body) })
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// remoteServersInRooms is every server with a joined user in a room here.
func (s *Server) remoteServersInRooms() []string {
	var out []string
	s.rooms.Range(func(_, v any) bool {
		rm := v.(*room)
		rm.mu.Lock()
		for u, m := range rm.members {
			if m == joined && !s.isLocalUserID(u.id) {
				if _, server, ok := strings.Cut(u.id, ":"); ok {
					out = mergeServers(out, []string{server})
				}
			}
		}
		rm.mu.Unlock()
		return true
	})
	return out
}

// mergeServers is a with b's servers added, each once.
func mergeServers(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
