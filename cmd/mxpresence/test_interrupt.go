package main

import (
	"cmp"
	"fmt"
	"io"
	"time"

	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/report"
)

// interruptedRun ends a run stopped by SIGINT or SIGTERM: the summary and
// every report the flags ask for, marked interrupted, and exit 130. A run
// stopped before it had a result reports every requirement as not run.
func interruptedRun(f testFlags, cfg suite.Config, started time.Time, result *report.Result, stdout, stderr io.Writer) int {
	if result == nil {
		result = &report.Result{API: cmp.Or(cfg.API.Name, f.apiName, "auto"), Target: cmp.Or(cfg.Target, f.target), Started: started, Findings: []report.Finding{}}
		for _, r := range suite.Catalogue() {
			result.Entries = append(result.Entries, report.Entry{ID: r.ID, Level: string(r.Level), Endpoint: string(r.Endpoint), Text: r.Text,
				Outcome: report.Skipped, Reason: "not run: the run was interrupted before it started"})
		}
		result.Duration = time.Since(started)
	}
	result.Interrupted = true
	report.WriteSummary(stdout, result)
	if err := writeReports(f, result); err != nil {
		fmt.Fprintln(stderr, "mxpresence test:", err)
	}
	fmt.Fprintln(stderr, "mxpresence test: interrupted; the reports say what ran before it stopped, and give no verdict")
	return interrupted
}
