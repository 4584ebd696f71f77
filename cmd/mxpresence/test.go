package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/report"
	"github.com/mxpresence/mxpresence/suite/safetext"
)

// Exit statuses of `mxpresence test`.
const (
	conformant    = 0
	notConformant = 1
	cannotRun     = 2   // bad flags, unreadable files, a target the suite cannot start on
	interrupted   = 130 // SIGINT or SIGTERM stopped the run (128 + SIGINT, as shells report it)
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type testFlags struct {
	target, apiName, usersFile, skipFile string
	junit, json, summaryMD               string
	timeout, specTimeout, settle         time.Duration
	strict, list, noColor, verbose       bool
	listFormat                           string
	focus, skip                          stringList
	labelFilter                          string
	procs                                int
	shard                                string
	mockFaults, mockVariations           stringList
	sharedSecret                         string
	specDir                              string
	federation                           string
	timers                               bool
	idleAfter, offlineAfter              time.Duration
}

func runTest(args []string, stdout, stderr io.Writer) int {
	var f testFlags
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.target, "target", "", "homeserver base URL, e.g. http://127.0.0.1:8008 (default: start the bundled mock server on a free loopback port)")
	fs.StringVar(&f.apiName, "api", "", "API version to test: v1, r0, v3, or auto (the newest the server's /_matrix/client/versions offers that mxpresence speaks) (default auto with --target, v1 for the bundled mock)")
	fs.StringVar(&f.sharedSecret, "shared-secret", os.Getenv("MXPRESENCE_SHARED_SECRET"), "register users through shared-secret admin registration (/_synapse/admin/v1/register) with this secret, for servers with closed registration (default $MXPRESENCE_SHARED_SECRET)")
	fs.StringVar(&f.usersFile, "users-file", "", `pre-made users, one "@user:server ACCESS_TOKEN" per line (default: register fresh users)`)
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "timeout of each request")
	fs.DurationVar(&f.specTimeout, "spec-timeout", time.Minute, "timeout of each requirement")
	fs.DurationVar(&f.settle, "settle", 2*time.Second, "how long a read may lag behind a write before a read-after-write requirement fails")
	fs.BoolVar(&f.strict, "strict", false, "fail the run on SHOULD requirements too")
	fs.StringVar(&f.junit, "junit", "", "write a JUnit XML report to this file")
	fs.StringVar(&f.json, "json", "", "write a JSON report to this file")
	fs.StringVar(&f.summaryMD, "summary-md", "", "write a Markdown summary to this file (and append it to $GITHUB_STEP_SUMMARY when that is set)")
	fs.StringVar(&f.skipFile, "skip-file", "", `known failures: one "REQUIREMENT-ID reason" per line`)
	fs.Var(&f.focus, "focus", "run only requirements whose ID or text matches this regular expression (repeatable)")
	fs.Var(&f.skip, "skip", "skip requirements whose ID or text matches this regular expression (repeatable)")
	fs.StringVar(&f.labelFilter, "label-filter", "", "ginkgo label filter over MUST, SHOULD, status, list, sync, events, time, devices, general, federation, GET, PUT, POST, slow, timers; e.g. 'MUST && !slow'")
	fs.BoolVar(&f.list, "list", false, "print the catalogue of requirements and exit")
	fs.StringVar(&f.listFormat, "format", "text", "catalogue format for --list: text or markdown")
	fs.BoolVar(&f.noColor, "no-color", false, "no colour in the progress output")
	fs.BoolVar(&f.verbose, "v", false, "print every requirement and every exchange as it runs")
	fs.Var(&f.mockFaults, "mock-fault", "check the bundled mock server with this fault switched on, to watch the suite catch it (repeatable; see serve --list-faults)")
	fs.Var(&f.mockVariations, "mock-variation", "check the bundled mock server with this legitimate variation switched on (repeatable)")
	fs.StringVar(&f.specDir, "spec", "", "validate every response against the official documents of this Matrix spec checkout (its data/api/client-server/, OpenAPI 3.1, or api/client-server/ of an r0 tree, Swagger 2.0) instead of the embedded ones; e.g. ../shared/spec/v3/v1.19 with --api v3 (default: the embedded documents)")
	fs.StringVar(&f.federation, "federation", "", "the target's federation API base URL (on a test Dendrite, the client API's listener): the suite plays a remote homeserver and checks presence between servers (PRES-FED); off skips them. Default: on for the bundled mock, off with --target")
	fs.BoolVar(&f.timers, "timers", false, "also run the requirements about the server's idle and offline timers (PRES-TIME-01..03): minutes on a real server; the bundled mock runs them with short thresholds of its own")
	fs.DurationVar(&f.idleAfter, "idle-after", 0, "with --timers, the target's idle threshold: an online user with no activity for this long is shown unavailable (default 5m, Synapse's and the spec's example; 2s on the bundled mock)")
	fs.DurationVar(&f.offlineAfter, "offline-after", 0, "with --timers, the target's offline threshold: a user whose clients all stopped syncing this long ago is shown offline (default 30s, Synapse's; 1s on the bundled mock)")
	fs.IntVar(&f.procs, "procs", 1, "run the requirements in this many processes at once")
	fs.StringVar(&f.shard, "shard", "", "run only shard I of N (I/N, 0-based); what --procs gives each process")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mxpresence test [flags]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Runs the conformance suite against a homeserver. With no --target, starts the bundled")
		fmt.Fprintln(stderr, "mock server and checks it. Exit status: 0 conformant, 1 not, 2 the run could not start,")
		fmt.Fprintln(stderr, "130 interrupted (SIGINT, SIGTERM; the reports are still written, marked interrupted).")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mxpresence test: unexpected argument %q\n", fs.Arg(0))
		return cannotRun
	}
	if err := f.validate(); err != nil {
		fmt.Fprintf(stderr, "mxpresence test: %v\nRun 'mxpresence test -h' for the flags.\n", err)
		return cannotRun
	}
	if f.list {
		return listCatalogue(f.listFormat, stdout, stderr)
	}

	started := time.Now()
	// Caught from here on, so that an interrupted run still writes its
	// reports, marked interrupted, and exits 130 rather than giving a
	// verdict on the server; ginkgo catches them too while specs run.
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	cfg, cleanup, err := f.config(stderr)
	defer cleanup()
	cfg.Context = ctx
	var result *report.Result
	if err == nil {
		if f.procs > 1 {
			result, err = runParallel(ctx, fs, cfg, f.procs, stdout, stderr)
		} else {
			result, err = suite.Run(cfg, &ginkgoVerdict{})
		}
	}
	if ctx.Err() != nil {
		return interruptedRun(f, cfg, started, result, stdout, stderr)
	}
	if err != nil {
		// CI reads the reports whatever happens, so a run that cannot
		// start still writes them, saying why.
		// The error may quote the server (a refused registration).
		fmt.Fprintln(stderr, "mxpresence test:", safetext.Escape(err.Error()))
		api := cmp.Or(cfg.API.Name, f.apiName, "auto")
		if werr := writeReports(f, report.CannotStart(api, cmp.Or(cfg.Target, f.target), started, err)); werr != nil {
			fmt.Fprintln(stderr, "mxpresence test:", werr)
		}
		return cannotRun
	}
	if result.Interrupted {
		return interruptedRun(f, cfg, started, result, stdout, stderr)
	}
	report.WriteSummary(stdout, result)
	if err := writeReports(f, result); err != nil {
		fmt.Fprintln(stderr, "mxpresence test:", err)
		return cannotRun
	}
	if !result.Passed() {
		return notConformant
	}
	return conformant
}

// ginkgoVerdict receives ginkgo's own verdict, which counts SHOULD
// warnings as passes; the conformance verdict comes from the result.
type ginkgoVerdict struct{ failed bool }

func (g *ginkgoVerdict) Fail() { g.failed = true }

func listCatalogue(format string, stdout, stderr io.Writer) int {
	var err error
	switch format {
	case "text":
		err = suite.WriteCatalogueText(stdout)
	case "markdown":
		err = suite.WriteCatalogueMarkdown(stdout)
	default:
		err = fmt.Errorf("--format must be text or markdown, not %q", format)
	}
	if err != nil {
		fmt.Fprintln(stderr, "mxpresence test:", err)
		return cannotRun
	}
	return conformant
}

// config turns the flags into a suite configuration, starting the bundled
// mock server when there is no target; cleanup stops it.
func (f *testFlags) config(stderr io.Writer) (suite.Config, func(), error) {
	cleanup := func() {}
	cfg := suite.Config{
		Target: f.target, Timeout: f.timeout, SpecTimeout: f.specTimeout, Settle: f.settle,
		Strict: f.strict, Focus: f.focus, Skip: f.skip, LabelFilter: f.labelFilter,
		NoColor: f.noColor, Verbose: f.verbose,
	}
	if f.shard != "" {
		if _, err := fmt.Sscanf(f.shard, "%d/%d", &cfg.Shard.Index, &cfg.Shard.Total); err != nil ||
			cfg.Shard.Total < 1 || cfg.Shard.Index < 0 || cfg.Shard.Index >= cfg.Shard.Total {
			return cfg, cleanup, fmt.Errorf("--shard %q: want I/N with 0 <= I < N", f.shard)
		}
	}
	if f.procs < 1 {
		return cfg, cleanup, fmt.Errorf("--procs %d: want at least 1", f.procs)
	}
	var err error
	if f.skipFile != "" {
		if cfg.KnownFailures, err = readSkipFile(f.skipFile); err != nil {
			return cfg, cleanup, err
		}
	}
	if cfg.Users, err = f.userSource(cfg.Shard); err != nil {
		return cfg, cleanup, err
	}
	deviations, err := mockDeviations(f.mockFaults, f.mockVariations)
	if err != nil {
		return cfg, cleanup, err
	}
	if len(deviations) > 0 && cfg.Target != "" {
		return cfg, cleanup, fmt.Errorf("--mock-fault and --mock-variation apply to the bundled mock server, not to --target")
	}
	if err := f.federationConfig(&cfg); err != nil {
		return cfg, cleanup, err
	}
	if f.idleAfter < 0 || f.offlineAfter < 0 {
		return cfg, cleanup, fmt.Errorf("--idle-after %s, --offline-after %s: want durations above zero", f.idleAfter, f.offlineAfter)
	}
	if cfg.Target == "" {
		url, fedURL, stop, err := startBundledMock(mockserver.Options{Deviations: deviations}, cfg.FederationOff == "")
		if err != nil {
			return cfg, cleanup, err
		}
		fmt.Fprintf(stderr, "mxpresence test: no --target; checking the bundled mock server at %s%s%s\n", url, describeDeviations(deviations), describeFederation(fedURL))
		cfg.Target, cfg.Federation, cleanup = url, fedURL, stop
		if f.timers {
			var stopTimers func()
			if cfg.TimersTarget, cfg.Thresholds, stopTimers, err = startTimersMock(f, deviations, stderr); err != nil {
				return cfg, cleanup, err
			}
			cleanup = func() { stop(); stopTimers() }
		}
	}
	if f.timers && cfg.TimersTarget == "" {
		cfg.Thresholds = suite.Thresholds{IdleAfter: cmp.Or(f.idleAfter, suite.DefaultIdleAfter), OfflineAfter: cmp.Or(f.offlineAfter, suite.DefaultOfflineAfter)}
	}
	cfg.Timers = f.timers
	apiName := f.apiName
	if apiName == "" {
		// Servers of today serve r0 and v3, never the seed's v1: a bare
		// --target asks the server; the bundled mock keeps the seed.
		apiName = "auto"
		if f.target == "" {
			apiName = "v1"
		}
	}
	var offered string
	if cfg.API, offered, err = resolveAPI(apiName, cfg.Target, f.timeout); err != nil {
		return cfg, cleanup, err
	}
	if apiName == "auto" {
		fmt.Fprintf(stderr, "mxpresence test: %s; testing the %s API (--api %s); --api picks another\n", offered, cfg.API.Name, cfg.API.Name)
	}
	if f.specDir != "" {
		if cfg.API, err = useSpecDir(cfg.API, f.specDir); err != nil {
			return cfg, cleanup, err
		}
	}
	return cfg, cleanup, nil
}

// userSource picks how users are provisioned: pre-made ones from a file,
// shared-secret registration, or open registration.
func (f *testFlags) userSource(shard suite.Shard) (suite.UserSource, error) {
	switch {
	case f.usersFile != "" && f.sharedSecret != "":
		return nil, errors.New("give --users-file or --shared-secret, not both")
	case f.sharedSecret != "":
		return suite.NewSharedSecret(f.sharedSecret), nil
	case f.usersFile == "":
		return nil, nil // registration, the default
	}
	file, err := os.Open(f.usersFile)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	pool, err := suite.ReadPool(file)
	if err != nil {
		return nil, err
	}
	if shard.Total > 1 {
		return pool.Shard(shard.Index, shard.Total)
	}
	return pool, nil
}

// resolveAPI turns --api into the version under test; auto asks the
// server's /_matrix/client/versions and takes the newest it offers that
// the suite speaks. offered says what the server offered, for the log.
func resolveAPI(name, target string, timeout time.Duration) (api client.API, offered string, err error) {
	if name != "auto" {
		if !slices.Contains(client.Versions, name) {
			return client.API{}, "", fmt.Errorf("--api %q: want one of %s, or auto", name, strings.Join(client.Versions, ", "))
		}
		api, err = client.ForVersion(name)
		return api, "", err
	}
	probe, err := client.ForVersion("v1")
	if err != nil {
		return client.API{}, "", err
	}
	c, err := client.New(target, probe, client.Options{Timeout: timeout})
	if err != nil {
		return client.API{}, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	supported, ex, err := c.SupportedVersions(ctx)
	switch {
	case ex.Response == nil:
		return client.API{}, "", fmt.Errorf("%w: cannot reach %s: %v", suite.ErrTargetUnusable, target, ex.Err)
	case err != nil:
		// Servers that predate /versions speak v1.
		offered = fmt.Sprintf("the server answers no list of versions (%v), so it predates /versions", err)
		return probe, offered, nil
	}
	offered = "the server offers " + strings.Join(supported, ", ")
	if len(supported) == 0 {
		offered = "the server offers no versions"
	}
	api, err = client.ForVersion(newestAPI(supported))
	return api, offered, err
}

// newestAPI maps spec versions ("r0.6.1", "v1.1") to the newest API version
// the suite tests: v3 for any v1.x release, r0 for any r0.x, else v1.
func newestAPI(supported []string) string {
	newest := "v1"
	for _, v := range supported {
		switch {
		case strings.HasPrefix(v, "v1."):
			return "v3"
		case strings.HasPrefix(v, "r0."):
			newest = "r0"
		}
	}
	return newest
}

// mockDeviations looks up the faults and variations named on the command
// line, each in its own list, so a fault cannot be passed off as a variation.
func mockDeviations(faults, variations []string) ([]mockserver.Deviation, error) {
	var out []mockserver.Deviation
	for _, want := range []struct {
		names []string
		kind  mockserver.DeviationKind
	}{{faults, mockserver.Fault}, {variations, mockserver.Variation}} {
		for _, name := range want.names {
			d, ok := mockserver.LookupDeviation(name)
			if !ok || d.Kind != want.kind {
				return nil, fmt.Errorf("no %s named %q; mxpresence serve --list-faults lists them", want.kind, name)
			}
			out = append(out, d)
		}
	}
	return out, nil
}

func describeDeviations(ds []mockserver.Deviation) string {
	if len(ds) == 0 {
		return ""
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.Kind.String()+" "+d.Name)
	}
	return " with " + strings.Join(names, ", ")
}

// readSkipFile reads known failures: "REQUIREMENT-ID reason" per line, #
// comments. An ID the catalogue does not know is an error, so a typo
// cannot hide a failure.
func readSkipFile(path string) (map[string]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	known := map[string]bool{}
	for _, r := range suite.Catalogue() {
		known[r.ID] = true
	}
	out := map[string]string{}
	sc := bufio.NewScanner(file)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		reason = strings.TrimSpace(reason)
		switch {
		case !known[id]:
			return nil, fmt.Errorf("%s:%d: no requirement %q in the catalogue", path, n, id)
		case reason == "":
			return nil, fmt.Errorf("%s:%d: %s has no reason; say why it is expected to fail", path, n, id)
		}
		out[id] = reason
	}
	return out, sc.Err()
}

// writeReports writes the reports the flags ask for; the Markdown summary
// also goes to GitHub's step summary when the run is a GitHub Actions step.
func writeReports(f testFlags, result *report.Result) error {
	write := func(path string, fn func(io.Writer, *report.Result) error) error {
		if path == "" {
			return nil
		}
		file, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := fn(file, result); err != nil {
			file.Close()
			return err
		}
		return file.Close()
	}
	errs := []error{write(f.junit, report.WriteJUnit), write(f.json, report.WriteJSON), write(f.summaryMD, report.WriteMarkdown)}
	if step := os.Getenv("GITHUB_STEP_SUMMARY"); step != "" {
		errs = append(errs, appendStepSummary(step, result))
	}
	return errors.Join(errs...)
}

// appendStepSummary appends the Markdown summary to GitHub's step summary
// file, which other steps write to as well.
func appendStepSummary(path string, result *report.Result) error {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	if err := report.WriteMarkdown(file, result); err != nil {
		file.Close()
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	return file.Close()
}
