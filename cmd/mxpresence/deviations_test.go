package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mxpresence/mxpresence/mockserver"
	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/remote"
	"github.com/mxpresence/mxpresence/suite/report"
)

// The suite tests itself against the mock: it must fail against every
// fault, with the requirements the fault declares among the failures, and
// pass every legitimate variation at MUST level. Each run is a process of
// its own (ginkgo runs one suite per process); runs go several at a time.

// concurrentRuns bounds the suite processes at once: each mostly waits on
// timeouts and settle windows, so more than the cores pays, but the race
// detector makes each process CPU-bound.
func concurrentRuns(raceBuilt bool) int {
	if raceBuilt {
		return runtime.GOMAXPROCS(0)
	}
	return 4 * runtime.GOMAXPROCS(0)
}

// selfTestBinary is what the self-test runs, one process a deviation.
// Under the race detector it is a plain build of mxpresence, made once:
// a hundred and more race-instrumented suite runs, two at a time, took
// most of CI's ten minutes, while the races they could show, in the
// suite and the mock, are the race detector's in the suite's and the
// mock's own tests (the suite against the reference mock, in process).
// If the build fails, the race-built test binary runs them, slowly.
// selfTestDir holds that build; TestMain removes it.
var selfTestDir string

var selfTestBinary = sync.OnceValues(func() (path string, raceBuilt bool) {
	if !raceEnabled {
		return os.Args[0], false
	}
	dir, err := os.MkdirTemp("", "mxpresence-selftest-")
	if err != nil {
		return os.Args[0], true
	}
	selfTestDir = dir
	bin := filepath.Join(dir, "mxpresence")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "self-test: a plain build of mxpresence failed, so the race-built test binary runs the deviations: %v\n%s", err, out)
		return os.Args[0], true
	}
	return bin, false
})

// deviationRun is one suite run against the mock with one deviation on.
type deviationRun struct {
	deviation mockserver.Deviation
	code      int
	output    string
	result    *report.Result
}

func runDeviations(t *testing.T, ds []mockserver.Deviation, args func(mockserver.Deviation) []string) []deviationRun {
	t.Helper()
	dir := t.TempDir()
	runs := make([]deviationRun, len(ds))
	bin, raceBuilt := selfTestBinary()
	sem := make(chan struct{}, concurrentRuns(raceBuilt))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			jsonPath := filepath.Join(dir, d.Name+"-"+d.SuiteAPI()+".json")
			code, out, errOut := runBinary(t, bin, append(args(d), "--json", jsonPath, "--no-color")...)
			run := deviationRun{deviation: d, code: code, output: out + errOut}
			if file, err := os.Open(jsonPath); err == nil {
				run.result, _ = report.ReadJSON(file)
				file.Close()
			}
			runs[i] = run
		}()
	}
	wg.Wait()
	return runs
}

// faultArgs runs a fault strictly, so that faults in SHOULD behaviour count,
// with a short settle window (the mock applies writes at once; the faults
// that apply a refused write later do so well inside it) and, for a
// fault that never answers, a short timeout. Slow requirements run only
// for the faults that declare one.
func faultArgs(d mockserver.Deviation) []string {
	timeout := "5s"
	if d.Category == "no response" {
		timeout = "500ms"
	}
	args := []string{"test", "--mock-fault", d.Name, "--api", d.SuiteAPI(), "--strict", "--timeout", timeout, "--settle", "500ms", "--spec-timeout", "30s"}
	if !slices.ContainsFunc(d.CaughtBy, isSlow) {
		args = append(args, "--label-filter", "!slow")
	}
	if len(d.CaughtBy) > 0 && !slices.ContainsFunc(d.CaughtBy, func(id string) bool { return !isTimeOrDevice(id) }) {
		// A fault of presence over time or across devices is caught in its
		// own groups; the rest of the suite would only add minutes under
		// the race detector.
		args = append(args, "--focus", "PRES-(TIME|DEVICE)-")
	}
	return withTimers(d, args)
}

func isTimeOrDevice(id string) bool {
	return strings.HasPrefix(id, "PRES-TIME-") || strings.HasPrefix(id, "PRES-DEVICE-")
}

// withTimers runs the timer requirements for a deviation of the timers,
// on the bundled mock's short thresholds.
func withTimers(d mockserver.Deviation, args []string) []string {
	if d.Timers {
		return append(args, "--timers")
	}
	return args
}

func isSlow(id string) bool {
	for _, r := range suite.Catalogue() {
		if r.ID == id {
			return r.Slow
		}
	}
	return false
}

// The federation faults and variations ("fed-...") need a build that can
// join rooms over federation (GOEXPERIMENT=jsonv2, for mautrix's
// federation/pdu), whose encoding/json differs enough that the rest of the
// self-test is run without it. So they are checked apart, by
// TestEveryFederationDeviation, which .ci/run runs with GOEXPERIMENT=jsonv2;
// the table of faults lists them all the same.
func isFederationDeviation(d mockserver.Deviation) bool { return strings.HasPrefix(d.Name, "fed-") }

func splitFederation(ds []mockserver.Deviation) (others, fed []mockserver.Deviation) {
	for _, d := range ds {
		if isFederationDeviation(d) {
			fed = append(fed, d)
		} else {
			others = append(others, d)
		}
	}
	return others, fed
}

func TestEveryFaultIsCaught(t *testing.T) {
	faults := mockserver.Faults()
	if len(faults) < 30 {
		t.Errorf("%d faults; the self-test promises at least 30", len(faults))
	}
	others, _ := splitFederation(faults)
	runs := runDeviations(t, others, faultArgs)
	caught := checkFaultRuns(t, runs)
	t.Logf("kill rate: %d of %d faults caught (%.0f%%); the federation faults apart", caught, len(runs), 100*float64(caught)/float64(len(runs)))
	// The table lists every fault: what it declares, whichever test runs it.
	var table []deviationRun
	byName := map[string]deviationRun{}
	for _, run := range runs {
		byName[run.deviation.Name] = run
	}
	for _, d := range faults {
		run, ok := byName[d.Name]
		if !ok {
			run = deviationRun{deviation: d}
		}
		table = append(table, run)
	}
	checkDeviationTables(t, table, nil)
}

// checkFaultRuns asserts that each fault's run failed, by every
// requirement it declares, and returns how many did.
func checkFaultRuns(t *testing.T, runs []deviationRun) (caught int) {
	t.Helper()
	known := map[string]bool{}
	for _, r := range suite.Catalogue() {
		known[r.ID] = true
	}
	for _, run := range runs {
		d := run.deviation
		for _, id := range d.CaughtBy {
			if !known[id] {
				t.Errorf("fault %s declares %s, which is not in the catalogue", d.Name, id)
			}
		}
		if run.result == nil {
			t.Errorf("fault %s: no report (exit %d)\n%s", d.Name, run.code, run.output)
			continue
		}
		failed := run.result.WithOutcome(report.Failed)
		var missed []string
		for _, id := range d.CaughtBy {
			if !slices.Contains(failed, id) {
				missed = append(missed, id)
			}
		}
		switch {
		case run.code != notConformant:
			t.Errorf("fault %s: the suite exited %d; it must fail (1)", d.Name, run.code)
		case len(missed) > 0:
			t.Errorf("fault %s: not caught by %v, which it declares; failures were %v", d.Name, missed, failed)
		default:
			caught++
		}
	}
	for _, run := range runs {
		if run.result != nil {
			t.Logf("%s: failed %v", run.deviation.Name, run.result.WithOutcome(report.Failed))
		}
	}
	checkFindings(t, runs)
	return caught
}

// checkVariationRuns asserts that each variation's run passed.
func checkVariationRuns(t *testing.T, runs []deviationRun) {
	t.Helper()
	for _, run := range runs {
		if run.result == nil {
			t.Errorf("variation %s: no report (exit %d)\n%s", run.deviation.Name, run.code, run.output)
			continue
		}
		if failed := run.result.WithOutcome(report.Failed); run.code != conformant || len(failed) > 0 {
			t.Errorf("variation %s: exit %d, MUST failures %v; a legitimate variation must pass\n%s", run.deviation.Name, run.code, failed, run.output)
		}
	}
	checkFindings(t, runs)
}

// TestEveryFederationDeviation checks the federation faults and variations
// against the bundled mock, which federates: each fault caught by the
// requirements it declares, each variation passing. It needs a build that
// can join rooms; .ci/run runs it with GOEXPERIMENT=jsonv2.
func TestEveryFederationDeviation(t *testing.T) {
	_, faults := splitFederation(mockserver.Faults())
	_, variations := splitFederation(mockserver.Variations())
	if !remote.CanJoin {
		t.Skipf("%d federation faults and %d variations need a build with GOEXPERIMENT=jsonv2 (mautrix federation/pdu): "+
			"GOEXPERIMENT=jsonv2 go test ./cmd/mxpresence -run TestEveryFederationDeviation, as .ci/run does", len(faults), len(variations))
	}
	if len(faults) == 0 {
		t.Fatal("no federation faults in the registry")
	}
	checkFaultRuns(t, runDeviations(t, faults, faultArgs))
	checkVariationRuns(t, runDeviations(t, perVersion(variations), func(d mockserver.Deviation) []string {
		return []string{"test", "--mock-variation", d.Name, "--api", d.SuiteAPI()}
	}))
}

func TestEveryVariationPasses(t *testing.T) {
	variations, _ := splitFederation(mockserver.Variations())
	if len(variations) < 4 {
		t.Errorf("%d variations; the self-test promises at least 4", len(variations))
	}
	runs := runDeviations(t, perVersion(variations), func(d mockserver.Deviation) []string {
		return []string{"test", "--mock-variation", d.Name, "--api", d.SuiteAPI()}
	})
	checkVariationRuns(t, runs)
	checkDeviationTables(t, nil, runs)
}

// perVersion runs a variation under the version it names or, when it names
// none, under the oldest and the newest, v1 and v3: a choice the spec
// leaves open must pass wherever it shows.
func perVersion(ds []mockserver.Deviation) []mockserver.Deviation {
	var out []mockserver.Deviation
	for _, d := range ds {
		if d.CheckWith != "" {
			out = append(out, d)
			continue
		}
		for _, api := range []string{"v1", "v3"} {
			pinned := d
			pinned.CheckWith = api
			out = append(out, pinned)
		}
	}
	return out
}

// The self-test page's tables of faults and variations are generated from
// these runs; each test checks its half.
const (
	selfTestDoc     = "../../docs/self-test.md"
	faultsBegin     = "<!-- generated: faults -->"
	variationsBegin = "<!-- generated: variations -->"
	generatedEnd    = "<!-- end generated -->"
)

func checkDeviationTables(t *testing.T, faultRuns, variationRuns []deviationRun) {
	t.Helper()
	doc, err := os.ReadFile(selfTestDoc)
	if err != nil {
		t.Fatal(err)
	}
	begin, table := faultsBegin, ""
	if faultRuns != nil {
		table = faultTable(faultRuns)
	} else {
		begin, table = variationsBegin, variationTable(variationRuns)
	}
	t.Logf("%s\n%s", begin, table)
	updated, err := replaceSection(string(doc), begin, table)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(selfTestDoc, []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if updated != string(doc) {
		t.Errorf("the table after %s in docs/self-test.md is not what the runs gave; run: go test ./cmd/mxpresence -run 'TestEvery(Fault|Variation)' -update\n\n%s", begin, table)
	}
}

// faultTable is what the self-test page keeps: each fault and the requirements it
// declares, which every run checks are among its failures. How many other
// requirements fail too depends on timing (a fault that answers late fails
// whatever is waiting), so those are logged, not kept.
func faultTable(runs []deviationRun) string {
	var b bytes.Buffer
	b.WriteString("| fault | kind of break | what the server does wrong | suite run | caught by |\n|---|---|---|---|---|\n")
	for _, run := range runs {
		d := run.deviation
		caughtBy := strings.Join(d.CaughtBy, ", ")
		if d.Transient {
			caughtBy = "whichever requirements meet it, a different set each run; the [finding](suite.md#findings) is the same"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | `%s` | %s |\n", d.Name, d.Category, cell(d.Description), suiteRun(d), caughtBy)
	}
	return b.String()
}

func variationTable(runs []deviationRun) string {
	var b bytes.Buffer
	b.WriteString("| variation | what the server does | suite run | SHOULD warnings it earns | not run |\n|---|---|---|---|---|\n")
	list := func(ids []string) string {
		if len(ids) == 0 {
			return "none"
		}
		return strings.Join(ids, ", ")
	}
	for _, run := range runs {
		warned, skipped := "(no report)", ""
		if run.result != nil {
			warned, skipped = list(run.result.WithOutcome(report.Warned)), list(run.result.WithOutcome(report.Skipped))
		}
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | %s |\n", run.deviation.Name, cell(run.deviation.Description), suiteRun(run.deviation), warned, skipped)
	}
	return b.String()
}

// suiteRun names the flags a deviation's run differs by.
func suiteRun(d mockserver.Deviation) string {
	return strings.Join(withTimers(d, []string{"--api", d.SuiteAPI()}), " ")
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// replaceSection puts body between the begin marker and the next end marker.
func replaceSection(doc, begin, body string) (string, error) {
	start := strings.Index(doc, begin)
	if start < 0 {
		return "", fmt.Errorf("%s has no %s marker", selfTestDoc, begin)
	}
	start += len(begin)
	end := strings.Index(doc[start:], generatedEnd)
	if end < 0 {
		return "", fmt.Errorf("%s has no %s after %s", selfTestDoc, generatedEnd, begin)
	}
	return doc[:start] + "\n" + body + doc[start+end:], nil
}

// Every delivery requirement, and every requirement a refusal must hold
// for, is one some fault makes fail: a requirement no fault can fail
// proves nothing about the suite.
func TestEveryDeliveryRequirementHasAFault(t *testing.T) {
	declared := map[string]bool{}
	delivery := 0
	for _, d := range mockserver.Faults() {
		if slices.ContainsFunc(d.CaughtBy, isDelivery) {
			delivery++
		}
		for _, id := range d.CaughtBy {
			declared[id] = true
		}
	}
	if delivery < 15 {
		t.Errorf("%d faults of presence delivery; the self-test promises at least 15", delivery)
	}
	for _, r := range suite.Catalogue() {
		watched := r.Watches && r.Level == suite.Must
		if (isDelivery(r.ID) || watched) && !declared[r.ID] {
			t.Errorf("%s: no fault declares it", r.ID)
		}
	}
}

func isDelivery(id string) bool {
	return strings.HasPrefix(id, "PRES-SYNC-") || strings.HasPrefix(id, "PRES-EVENTS-")
}

// Every requirement about presence over time and across devices is one
// some fault makes fail, SHOULD ones included.
func TestEveryTimeAndDeviceRequirementHasAFault(t *testing.T) {
	declared := map[string]bool{}
	for _, d := range mockserver.Faults() {
		for _, id := range d.CaughtBy {
			declared[id] = true
		}
	}
	n := 0
	for _, r := range suite.Catalogue() {
		if r.Endpoint == suite.EndpointTime || r.Endpoint == suite.EndpointDevices {
			n++
			if !declared[r.ID] {
				t.Errorf("%s: no fault declares it", r.ID)
			}
		}
	}
	if n < 9 {
		t.Errorf("%d requirements about time and devices; issue 16 asks for idle, offline, freshness, currently_active and four about two devices", n)
	}
}
