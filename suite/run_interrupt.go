package suite

import (
	"slices"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/mxpresence/mxpresence/suite/report"
)

// interruptedBySignal reports whether ginkgo stopped the run on SIGINT or
// SIGTERM: it names the cause among the suite's special failure reasons.
func interruptedBySignal(rep ginkgo.Report) bool {
	return slices.Contains(rep.SpecialSuiteFailureReasons, "Interrupted by User")
}

// interruptedBeforeStart is the result of a run interrupted before its
// first spec: every requirement applicable to the shard, not run.
func interruptedBeforeStart(cfg Config) *report.Result {
	result := &report.Result{API: cfg.API.Name, Target: cfg.Target, Strict: cfg.Strict, Started: time.Now(), Interrupted: true, Findings: []report.Finding{}}
	for i, req := range Catalogue() {
		if !cfg.Shard.holds(i) {
			continue
		}
		e := report.Entry{ID: req.ID, Level: string(req.Level), Endpoint: string(req.Endpoint), Text: req.Text,
			Outcome: report.Skipped, Reason: "not run: the run was interrupted before it started"}
		if !req.AppliesTo(cfg.API.Name) {
			e.Outcome, e.Reason = report.NotApplicable, "holds for "+req.VersionsText()+", not "+cfg.API.Name
		}
		result.Entries = append(result.Entries, e)
	}
	return result
}
