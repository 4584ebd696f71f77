package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// FederationFigures are what a target sent the suite's remote server in a
// run: reported beside the verdict, never part of it, since the spec sets
// no number for most of them.
type FederationFigures struct {
	RemoteServer string `json:"remote_server"` // the suite's server name, 127.0.0.1:PORT
	TargetServer string `json:"target_server"` // the target's, from its keys
	Transactions int    `json:"transactions"`  // every PUT /send received
	PresenceEDUs int    `json:"presence_edus"` // m.presence EDUs among them
	// EDUsPerChange: for each presence change the suite made of a user the
	// remote server shares a room with, the m.presence push items about
	// that user that arrived within --settle of it (before the user's next
	// change). Min, max and mean over the changes.
	Changes          int     `json:"changes"`
	EDUsPerChangeMin int     `json:"edus_per_change_min"`
	EDUsPerChangeMax int     `json:"edus_per_change_max"`
	EDUsPerChange    float64 `json:"edus_per_change_mean"`
	// Idle: transactions that arrived during PRES-FED-07's quiet window,
	// per minute. Other requirements may run meanwhile, so this is an upper
	// bound; focus PRES-FED-07 alone for a clean figure.
	IdleWindow         time.Duration `json:"idle_window_ns"`
	IdleTransactions   int           `json:"idle_transactions"`
	IdleTxnsPerMinute  float64       `json:"idle_transactions_per_minute"`
	LargestPush        int           `json:"largest_push"`        // most items in one m.presence push list
	LargestTransaction int           `json:"largest_transaction"` // most EDUs in one transaction
	// OtherRequests counts what else the target asked, by method and path
	// template ("GET /_matrix/federation/v1/query/profile": 2).
	OtherRequests map[string]int `json:"other_requests,omitempty"`
}

// writeFederation writes the federation figures, when the run had them.
func writeFederation(w io.Writer, r *Result) {
	f := r.Federation
	if f == nil {
		return
	}
	fmt.Fprintf(w, "\nFEDERATION (what %s sent the suite's remote server %s; not part of the verdict)\n", f.TargetServer, f.RemoteServer)
	fmt.Fprintf(w, "  transactions received:       %d (%d m.presence EDUs)\n", f.Transactions, f.PresenceEDUs)
	if f.Changes > 0 {
		fmt.Fprintf(w, "  EDUs per presence change:    %.2f mean, %d to %d over %d changes\n", f.EDUsPerChange, f.EDUsPerChangeMin, f.EDUsPerChangeMax, f.Changes)
	} else {
		fmt.Fprintln(w, "  EDUs per presence change:    no change measured")
	}
	if f.IdleWindow > 0 {
		fmt.Fprintf(w, "  transactions/minute idle:    %.1f (%d in PRES-FED-07's quiet window of %s)\n", f.IdleTxnsPerMinute, f.IdleTransactions, f.IdleWindow.Round(time.Millisecond))
	} else {
		fmt.Fprintln(w, "  transactions/minute idle:    not measured (PRES-FED-07 did not run)")
	}
	fmt.Fprintf(w, "  largest push:                %d items (largest transaction: %d EDUs)\n", f.LargestPush, f.LargestTransaction)
	if len(f.OtherRequests) > 0 {
		var parts []string
		for k, n := range f.OtherRequests {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, n))
		}
		slices.Sort(parts)
		fmt.Fprintf(w, "  other requests:              %s\n", strings.Join(parts, ", "))
	}
}
