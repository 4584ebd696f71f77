package report

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteSummary writes the conformance summary: a table per endpoint, the
// details of every failure, warning and surprise, and one verdict line.
func WriteSummary(w io.Writer, r *Result) {
	fmt.Fprintf(w, "\nmxpresence conformance: %s API at %s, %d requirements in %s\n\n",
		r.API, r.Target, len(r.Entries), r.Duration.Round(time.Millisecond))

	columns := []Outcome{Passed, Failed, Warned, KnownFailure, Skipped, NotApplicable}
	fmt.Fprintf(w, "%-32s %7s %7s %7s %7s %7s %7s\n", "endpoint", "passed", "failed", "warned", "known", "skipped", "n/a")
	totals := map[Outcome]int{}
	for _, endpoint := range endpoints(r) {
		counts := map[Outcome]int{}
		for _, e := range r.Entries {
			if e.Endpoint == endpoint {
				counts[column(e.Outcome)]++
				totals[column(e.Outcome)]++
			}
		}
		fmt.Fprintf(w, "%-32s", endpoint)
		for _, c := range columns {
			fmt.Fprintf(w, " %7d", counts[c])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%-32s", "total")
	for _, c := range columns {
		fmt.Fprintf(w, " %7d", totals[c])
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "(ginkgo's counts above run only applicable requirements and count SHOULD warnings as passes.)")

	writeDetails(w, r, Failed, "FAILED", true)
	writeDetails(w, r, Warned, "WARNINGS (SHOULD requirements not met; --strict makes them fail)", true)
	writeDetails(w, r, KnownFailure, "KNOWN FAILURES (expected by the skip file)", false)
	writeDetails(w, r, UnexpectedPass, "UNEXPECTED PASSES (listed in the skip file, but passed: remove them from it)", false)

	met := r.Count(Passed) + r.Count(UnexpectedPass)
	run := len(r.Entries) - r.Count(Skipped) - r.Count(NotApplicable)
	verdict := "PASS"
	if !r.Passed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "\nVERDICT: %s: %d of %d requirements met", verdict, met, run)
	var notes []string
	for _, n := range []struct {
		o    Outcome
		what string
	}{{Failed, "failed"}, {Warned, "SHOULD warnings"}, {KnownFailure, "known failures"}, {UnexpectedPass, "unexpected passes"}, {Skipped, "not run"}, {NotApplicable, "not applicable"}} {
		if c := r.Count(n.o); c > 0 {
			notes = append(notes, fmt.Sprintf("%d %s", c, n.what))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(notes, ", "))
	}
	fmt.Fprintln(w)
}

// column folds outcomes into the summary table's columns.
func column(o Outcome) Outcome {
	if o == UnexpectedPass {
		return Passed
	}
	return o
}

func writeDetails(w io.Writer, r *Result, o Outcome, heading string, withMessage bool) {
	if r.Count(o) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", heading)
	for _, e := range r.Entries {
		if e.Outcome != o {
			continue
		}
		fmt.Fprintf(w, "\n  %s [%s] %s\n", e.ID, e.Level, e.Text)
		if e.Reason != "" {
			fmt.Fprintf(w, "    reason: %s\n", e.Reason)
		}
		if withMessage && e.Message != "" {
			for _, line := range strings.Split(strings.TrimRight(e.Message, "\n"), "\n") {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
}

// endpoints lists the endpoints of the entries in order of first appearance.
func endpoints(r *Result) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range r.Entries {
		if !seen[e.Endpoint] {
			seen[e.Endpoint] = true
			out = append(out, e.Endpoint)
		}
	}
	return out
}
