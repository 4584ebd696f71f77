package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mxpresence/mxpresence/suite/safetext"
)

// WriteSummary writes the conformance summary: a table per endpoint, the
// details of every failure, warning and surprise, and one verdict line.
//
// Messages and findings quote the server, so control characters in the
// whole text are escaped: a server's error body must not be able to paint
// a verdict of its own over this one.
func WriteSummary(w io.Writer, r *Result) {
	var b strings.Builder
	writeSummary(&b, r)
	io.WriteString(w, safetext.Escape(b.String()))
}

func writeSummary(w io.Writer, r *Result) {
	fmt.Fprintf(w, "\nmxpresence conformance: %s API at %s, %d requirements in %s\n\n",
		r.API, r.Target, len(r.Entries), r.Duration.Round(time.Millisecond))
	if r.Schemas != "" {
		fmt.Fprintf(w, "Responses validated against %s.\n\n", r.Schemas)
	}

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

	writeFederation(w, r)
	writeFindings(w, r)
	writeDetails(w, r, Failed, "FAILED", true)
	writeDetails(w, r, Warned, "WARNINGS (SHOULD requirements not met; --strict makes them fail)", true)
	writeDetails(w, r, KnownFailure, "KNOWN FAILURES (expected by the skip file)", false)
	writeDetails(w, r, UnexpectedPass, "UNEXPECTED PASSES (listed in the skip file, but passed: remove them from it)", false)

	if r.Thresholds != "" {
		fmt.Fprintf(w, "\nTimer requirements assumed: %s\n", r.Thresholds)
	}
	fmt.Fprintf(w, "\nVERDICT: %s (%s API): %s\n", r.Verdict(), r.API, tally(r))
}

// Verdict is PASS or FAIL, or ERROR for a run that could not start, or
// INTERRUPTED for one stopped before it finished.
func (r *Result) Verdict() string {
	switch {
	case r.Error != "":
		return "ERROR"
	case r.Interrupted:
		return "INTERRUPTED"
	case r.Passed():
		return "PASS"
	}
	return "FAIL"
}

// tally counts what the verdict rests on: "38 of 50 requirements met (12
// failed, 9 not applicable); 3 distinct findings".
func tally(r *Result) string {
	if r.Error != "" {
		return "the run could not start: " + firstLine(r.Error)
	}
	met := r.Count(Passed) + r.Count(UnexpectedPass)
	run := len(r.Entries) - r.Count(Skipped) - r.Count(NotApplicable) - r.Count(Interrupted)
	out := fmt.Sprintf("%d of %d requirements met", met, run)
	if r.Interrupted {
		out = fmt.Sprintf("the run was interrupted, so there is no verdict; %d of the %d requirements that finished were met", met, run)
	}
	var notes []string
	for _, n := range []struct {
		o    Outcome
		what string
	}{{Failed, "failed"}, {Warned, "SHOULD warnings"}, {KnownFailure, "known failures"}, {UnexpectedPass, "unexpected passes"}, {Interrupted, "interrupted"}, {Skipped, "not run"}, {NotApplicable, "not applicable"}} {
		if c := r.Count(n.o); c > 0 {
			notes = append(notes, fmt.Sprintf("%d %s", c, n.what))
		}
	}
	if len(notes) > 0 {
		out += " (" + strings.Join(notes, ", ") + ")"
	}
	if len(r.Findings) > 0 {
		out += "; " + distinctFindings(len(r.Findings))
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

func distinctFindings(n int) string {
	if n == 1 {
		return "1 distinct finding"
	}
	return fmt.Sprintf("%d distinct findings", n)
}

// writeFindings lists each distinct violation once, numbered so that the
// details of each failure can refer to it.
func writeFindings(w io.Writer, r *Result) {
	if len(r.Findings) == 0 {
		return
	}
	fmt.Fprintf(w, "\nFINDINGS: %s, each counted once whichever requirements met it\n", distinctFindings(len(r.Findings)))
	for i, fd := range r.Findings {
		fmt.Fprintf(w, "\n  F%d  %s\n", i+1, fd.Signature)
		fmt.Fprintf(w, "      %s; met by %s\n", responses(fd.Responses), strings.Join(fd.Requirements, ", "))
	}
}

func responses(n int) string {
	if n == 1 {
		return "1 response"
	}
	return fmt.Sprintf("%d responses", n)
}

// findingRefs names the findings a requirement met by their numbers in the
// findings list: "F1, F3".
func findingRefs(r *Result, id string) string {
	var refs []string
	for i, fd := range r.Findings {
		if slices.Contains(fd.Requirements, id) {
			refs = append(refs, fmt.Sprintf("F%d", i+1))
		}
	}
	return strings.Join(refs, ", ")
}

// column folds outcomes into the summary table's columns.
func column(o Outcome) Outcome {
	switch o {
	case UnexpectedPass:
		return Passed
	case Interrupted:
		return Skipped
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
		if refs := findingRefs(r, e.ID); refs != "" {
			fmt.Fprintf(w, "    findings: %s\n", refs)
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
