package mockserver

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// flickerWindow is how long after a write reads may flicker.
const flickerWindow = 300 * time.Millisecond

// presenceFlickersEmpty is a defect that lands on a different set of
// requirements every run, as Dendrite's did: for a moment after each write,
// some reads show an empty presence and some the right one. Which reads
// flicker is left to chance, so no one requirement is sure to meet it, but
// a run that reads after dozens of writes is: the fault is Transient and
// declares no requirement, and the run must fail all the same. The suite's findings
// name the defect the same way every run (cmd/mxpresence's
// TestFindingsAreStable checks that).
func presenceFlickersEmpty() Deviation {
	return Deviation{
		Name: "presence-flickers-empty", Category: "off the schema: transient", CheckWith: "v3", Transient: true,
		Description: `For 300 ms after each PUT, each GET status has an even chance of answering presence "", so the requirements that meet it differ from run to run.`,
		wrap: func(s *Server, next http.Handler) http.Handler {
			var written sync.Map // *user -> time of the last write
			marking := afterPut(s, next, func(u *user, _ presenceState) { written.Store(u, time.Now()) })
			return rewrite(s, marking, getStatus, func(rec *recorder, _ *http.Request, at reached) {
				when, ok := written.Load(s.userByID(at.userID))
				if !ok || time.Since(when.(time.Time)) > flickerWindow || rec.status != http.StatusOK || rand.IntN(2) == 0 {
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
	}
}
