package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mxpresence/mxpresence/suite/safetext"
)

// WriteMarkdown writes the summary a CI page shows (GitHub's step summary,
// a pull-request comment): the verdict, a table per endpoint, the findings
// and each failed requirement with a one-line reason. The full messages
// stay in the text summary and the JUnit and JSON reports.
func WriteMarkdown(w io.Writer, r *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## mxpresence: %s (%s API)\n\n", r.Verdict(), r.API)
	if r.Error != "" {
		fmt.Fprintf(&b, "The run could not start, so nothing was tested. Target `%s`.\n\n```text\n%s\n```\n", r.Target, strings.TrimSpace(r.Error))
		_, err := io.WriteString(w, safetext.Escape(b.String()))
		return err
	}
	if r.Interrupted {
		b.WriteString("**Interrupted** (SIGINT or SIGTERM) before it finished: the counts below are of a partial run, not a verdict on the server.\n\n")
	}
	fmt.Fprintf(&b, "%s. Target `%s`, %s.\n", tally(r), r.Target, r.Duration.Round(time.Millisecond))
	if r.Schemas != "" {
		fmt.Fprintf(&b, "\nResponses validated against %s.\n", r.Schemas)
	}
	if r.Thresholds != "" {
		fmt.Fprintf(&b, "\nTimer requirements assumed: %s.\n", r.Thresholds)
	}

	columns := []Outcome{Passed, Failed, Warned, KnownFailure, Skipped, NotApplicable}
	b.WriteString("\n| endpoint | passed | failed | warned | known | skipped | n/a |\n|---|---:|---:|---:|---:|---:|---:|\n")
	totals := map[Outcome]int{}
	for _, endpoint := range endpoints(r) {
		fmt.Fprintf(&b, "| `%s` |", endpoint)
		counts := map[Outcome]int{}
		for _, e := range r.Entries {
			if e.Endpoint == endpoint {
				counts[column(e.Outcome)]++
				totals[column(e.Outcome)]++
			}
		}
		for _, c := range columns {
			fmt.Fprintf(&b, " %d |", counts[c])
		}
		b.WriteString("\n")
	}
	b.WriteString("| **total** |")
	for _, c := range columns {
		fmt.Fprintf(&b, " **%d** |", totals[c])
	}
	b.WriteString("\n")

	if len(r.Findings) > 0 {
		fmt.Fprintf(&b, "\n### Findings\n\nEach distinct violation once, whichever requirements met it.\n\n")
		b.WriteString("| | operation | status | where | rule | found | responses | met by |\n|---|---|---|---|---|---|---:|---|\n")
		for i, fd := range r.Findings {
			status := "no response"
			if fd.Status != 0 {
				status = fmt.Sprint(fd.Status)
			}
			where := fd.Pointer
			if where == "" {
				where = "(body)"
			}
			fmt.Fprintf(&b, "| F%d | `%s` | %s | `%s` | %s | %s | %d | %s |\n", i+1, fd.Operation, status,
				where, mdCell(fd.Rule), mdCell(fd.Found), fd.Responses, strings.Join(fd.Requirements, ", "))
		}
	}

	writeMarkdownEntries(&b, r, Failed, "Failed requirements")
	writeMarkdownEntries(&b, r, Warned, "SHOULD warnings")
	writeMarkdownEntries(&b, r, UnexpectedPass, "Unexpected passes (remove them from the skip file)")
	// Messages and findings quote the server; see WriteSummary.
	_, err := io.WriteString(w, safetext.Escape(b.String()))
	return err
}

// writeMarkdownEntries lists the entries with an outcome, one line each.
func writeMarkdownEntries(b *strings.Builder, r *Result, o Outcome, heading string) {
	if r.Count(o) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### %s\n\n| requirement | level | why | findings |\n|---|---|---|---|\n", heading)
	for _, e := range r.Entries {
		if e.Outcome != o {
			continue
		}
		why := e.Message
		if why == "" {
			why = e.Reason
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", e.ID, e.Level, mdCell(oneLine(why)), findingRefs(r, e.ID))
	}
}

// maxReason keeps a table row to one readable line.
const maxReason = 240

// oneLine is the first paragraph of a message on one line, cut short:
// gomega puts the assertion's description on one line and what the matcher
// expected and got on the next, and the exchange after a blank line.
func oneLine(s string) string {
	paragraph, _, _ := strings.Cut(strings.TrimSpace(s), "\n\n")
	var line string
	for _, l := range strings.Split(paragraph, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "":
		case line == "":
			line = l
		case strings.HasSuffix(line, ":"), strings.HasPrefix(l, "("):
			line += " " + l
		default:
			line += ": " + l
		}
	}
	if len(line) > maxReason {
		cut := maxReason
		for cut > 0 && !utf8Start(line[cut]) {
			cut--
		}
		line = line[:cut] + "…"
	}
	return line
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// mdCell escapes what would break a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;").Replace(s)
}
