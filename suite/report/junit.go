package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The JUnit XML schema that CI systems (GitHub Actions reporters, GitLab,
// Jenkins) read: testsuites > testsuite per endpoint > testcase per
// requirement. JUnit knows only pass, failure and skipped, so:
//   - failed:          <failure>
//   - warned:          passes, with property mxpresence.outcome=warned and the
//     details in <system-out> (a SHOULD does not fail the build)
//   - known failure:   <skipped message="known failure: REASON">
//   - unexpected pass: passes, with property mxpresence.outcome=unexpected-pass
//   - skipped, not applicable: <skipped>
//   - errored (the run could not start): <error>, the one testcase
//
// Findings: each testcase carries a property mxpresence.finding per finding
// its requirement met, and each testsuite lists the findings its
// requirements met in its <system-out>, where CI viewers show them.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string          `xml:"name,attr"`
	Tests     int             `xml:"tests,attr"`
	Failures  int             `xml:"failures,attr"`
	Errors    int             `xml:"errors,attr"`
	Skipped   int             `xml:"skipped,attr"`
	Time      string          `xml:"time,attr"`
	Timestamp string          `xml:"timestamp,attr"`
	Props     []junitProperty `xml:"properties>property"`
	Cases     []junitCase     `xml:"testcase"`
	SystemOut string          `xml:"system-out,omitempty"`
}

type junitCase struct {
	Name      string           `xml:"name,attr"`
	Classname string           `xml:"classname,attr"`
	Time      string           `xml:"time,attr"`
	Props     *junitProperties `xml:"properties"`
	Failure   *junitMessage    `xml:"failure,omitempty"`
	Error     *junitMessage    `xml:"error,omitempty"`
	Skipped   *junitMessage    `xml:"skipped,omitempty"`
	SystemOut string           `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// WriteJUnit writes the result as JUnit XML.
func WriteJUnit(w io.Writer, r *Result) error {
	out := junitSuites{Name: "mxpresence " + r.API, Time: seconds(r.Duration)}
	for _, endpoint := range endpoints(r) {
		s := junitSuite{
			Name:      endpoint,
			Timestamp: r.Started.UTC().Format(time.RFC3339),
			Props: []junitProperty{
				{"api", r.API}, {"target", r.Target}, {"strict", fmt.Sprint(r.Strict)}, {"schemas", r.Schemas}, {"interrupted", fmt.Sprint(r.Interrupted)},
			},
		}
		var total time.Duration
		var entries []Entry
		for _, e := range r.Entries {
			if e.Endpoint != endpoint {
				continue
			}
			entries = append(entries, e)
			c := junitCase{
				Name:      fmt.Sprintf("%s [%s] %s", e.ID, e.Level, e.Text),
				Classname: "mxpresence." + r.API + "." + endpoint,
				Time:      seconds(e.Duration),
			}
			var props []junitProperty
			switch e.Outcome {
			case Failed:
				c.Failure = &junitMessage{Message: e.Level + " requirement not met", Type: e.Level, Body: e.Message}
				s.Failures++
			case Errored:
				c.Error = &junitMessage{Message: "the run could not start", Type: "setup", Body: e.Message}
				s.Errors++
			case Warned:
				props = append(props, junitProperty{"mxpresence.outcome", string(Warned)})
				c.SystemOut = "WARNING: SHOULD requirement not met.\n\n" + e.Message
			case UnexpectedPass:
				props = append(props, junitProperty{"mxpresence.outcome", string(UnexpectedPass)})
				c.SystemOut = "Listed in the skip file (" + e.Reason + "), but passed: remove it from the file."
			case KnownFailure:
				c.Skipped = &junitMessage{Message: "known failure: " + e.Reason, Body: e.Message}
				s.Skipped++
			case Skipped, NotApplicable, Interrupted:
				c.Skipped = &junitMessage{Message: string(e.Outcome) + ": " + e.Reason}
				s.Skipped++
			}
			for _, fd := range r.Findings {
				if slices.Contains(fd.Requirements, e.ID) {
					props = append(props, junitProperty{"mxpresence.finding", fd.Signature.String()})
				}
			}
			if len(props) > 0 {
				c.Props = &junitProperties{props}
			}
			s.Tests++
			total += e.Duration
			s.Cases = append(s.Cases, c)
		}
		s.SystemOut = findingsText(r.findingsMetBy(entries))
		s.Time = seconds(total)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JUnit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// findingsText lists findings for a testsuite's <system-out>.
func findingsText(findings []Finding) string {
	if len(findings) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Findings: the distinct violations the requirements of this endpoint met.\n")
	for _, fd := range findings {
		fmt.Fprintf(&b, "\n%s\n    %s; met by %s\n", fd.Signature, responses(fd.Responses), strings.Join(fd.Requirements, ", "))
	}
	return b.String()
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
