package suite

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/report"
	"github.com/mxpresence/mxpresence/suite/safetext"
)

// Config is one run of the suite.
type Config struct {
	Target string     // the homeserver's base URL, e.g. http://127.0.0.1:8008
	API    client.API // the version of the API under test
	// Users provisions the users specs act as; nil registers fresh ones.
	Users UserSource
	// Timeout bounds each request; SpecTimeout bounds each requirement.
	Timeout     time.Duration
	SpecTimeout time.Duration
	// Settle is how long a read may lag behind a write before a
	// read-after-write requirement fails.
	Settle time.Duration
	// Strict makes SHOULD failures fail the run.
	Strict bool
	// KnownFailures maps requirement IDs to the reason they are expected to
	// fail (the skip file).
	KnownFailures map[string]string
	// Focus, Skip and LabelFilter pass through to ginkgo.
	Focus, Skip []string
	LabelFilter string
	// Shard runs every Total-th requirement from Index (0-based); the zero
	// value runs them all.
	Shard Shard
	// NoColor and Verbose tune ginkgo's progress output.
	NoColor, Verbose bool
	// Context, once done, stops the run before its specs start; nil is
	// context.Background. Once they run, ginkgo takes SIGINT and SIGTERM
	// itself, and Run marks the result interrupted.
	Context context.Context
	// Federation is the base URL of the target's federation API; when set,
	// the suite plays a remote homeserver and checks presence between
	// servers (the PRES-FED requirements). Empty: they are not applicable.
	Federation string
	// FederationOff says why the federation requirements are not
	// applicable when Federation is empty; empty gives the usual reason.
	FederationOff string
	// Timers runs the requirements about the server's idle and offline
	// timers, which otherwise are not run; Thresholds are the target's
	// (see timers.go).
	Timers     bool
	Thresholds Thresholds
	// TimersTarget is where the timer requirements run, when not Target:
	// the bundled mock runs them on an instance of its own with short
	// thresholds, so that its timers do not disturb the other
	// requirements.
	TimersTarget string
}

// Shard is a slice of the requirements for one process of a parallel run.
type Shard struct{ Index, Total int }

func (s Shard) holds(i int) bool { return s.Total <= 1 || i%s.Total == s.Index }

// Defaults fills what a Config leaves zero.
func (c *Config) defaults() {
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.SpecTimeout == 0 {
		c.SpecTimeout = time.Minute
	}
	if c.Users == nil {
		c.Users = NewRegistration()
	}
}

type runner struct {
	findings findingLog // what the specs found wrong, for the report

	cfg   Config
	users UserSource
	http  *http.Client
	// ahead holds the requirements whose bodies run ahead of their specs;
	// filled before the specs run, read only after.
	ahead map[string]*aheadRun
	// fed is the remote server the suite plays; nil without --federation.
	fed *federation
}

// runsAhead reports whether a requirement's body runs ahead of its spec.
// Users from a pool are handed out again in turn, so there every body
// keeps to its own spec's time.
func (r *runner) runsAhead(req Requirement) bool {
	_, pool := r.users.(*Pool)
	return (req.Watches || req.Waits) && !pool
}

func (r *runner) isSoft(req Requirement) bool {
	if _, known := r.cfg.KnownFailures[req.ID]; known {
		return true
	}
	return req.Level == Should && !r.cfg.Strict
}

// Run runs the suite once; ginkgo allows one run per process. t receives
// ginkgo's verdict (a *testing.T in tests; anything with Fail() otherwise),
// which counts SHOULD warnings as passes; the returned result is the
// conformance verdict.
func Run(cfg Config, t ginkgo.GinkgoTestingT) (*report.Result, error) {
	cfg.defaults()
	ctx := cfg.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if err := Preflight(ctx, cfg); err != nil {
		if ctx.Err() != nil {
			return interruptedBeforeStart(cfg), nil
		}
		return nil, err
	}
	if ctx.Err() != nil {
		return interruptedBeforeStart(cfg), nil
	}
	r := &runner{cfg: cfg, users: cfg.Users, http: newHTTPClient(), ahead: map[string]*aheadRun{}}
	if cfg.Federation != "" {
		fed, err := startFederation(cfg)
		if err != nil {
			return nil, err
		}
		defer fed.close()
		r.fed = fed
	}
	byText := map[string]Requirement{}
	order := map[string]int{} // ginkgo shuffles specs; reports follow the catalogue
	index := 0
	var notApplicable []report.Entry
	var ahead []aheadEntry
	define(registerFunc(func(req Requirement, body func(*Spec)) {
		i := index
		index++
		if !cfg.Shard.holds(i) {
			return
		}
		order[req.ID] = i
		if req.Federation && r.fed == nil {
			notApplicable = append(notApplicable, report.Entry{ID: req.ID, Level: string(req.Level), Endpoint: string(req.Endpoint), Text: req.Text,
				Outcome: report.NotApplicable, Reason: cmp.Or(cfg.FederationOff, "needs --federation URL (the target's federation API), for the suite to play a remote server")})
			return
		}
		if !req.AppliesTo(cfg.API.Name) {
			notApplicable = append(notApplicable, report.Entry{ID: req.ID, Level: string(req.Level), Endpoint: string(req.Endpoint), Text: req.Text,
				Outcome: report.NotApplicable, Reason: fmt.Sprintf("holds for %s, not %s", req.VersionsText(), cfg.API.Name)})
			return
		}
		if req.Timers && !cfg.Timers {
			notApplicable = append(notApplicable, report.Entry{ID: req.ID, Level: string(req.Level), Endpoint: string(req.Endpoint), Text: req.Text,
				Outcome: report.Skipped, Reason: "a timer requirement: runs only with --timers"})
			return
		}
		text := req.ID + ": " + req.Text
		byText[text] = req
		// Specs whose bodies run ahead come last, so the others run while
		// their settle windows pass.
		priority := ginkgo.SpecPriority(0)
		if r.runsAhead(req) && r.willRun(req, text) {
			ahead = append(ahead, aheadEntry{req, body})
			priority = -1
		}
		ginkgo.It(text, req.labels(), priority, func(ctx ginkgo.SpecContext) {
			defer recoverSoftFailure()
			s := r.newSpec(ctx, req)
			if run, ok := r.ahead[req.ID]; ok {
				s.replay(run)
				return
			}
			body(s)
			s.finish()
		}, ginkgo.SpecTimeout(r.specTimeout(req)))
	}))
	ginkgo.BeforeSuite(func() { r.startAhead(ahead) })

	result := &report.Result{API: cfg.API.Name, Target: cfg.Target, Strict: cfg.Strict, Schemas: cfg.API.Schemas(), Started: time.Now()}
	if cfg.Timers {
		result.Thresholds = cfg.Thresholds.report(cfg.TimersTarget)
	}
	ginkgo.ReportAfterSuite("mxpresence conformance report", func(rep ginkgo.Report) {
		result.Interrupted = interruptedBySignal(rep)
		for _, sr := range rep.SpecReports {
			if req, ok := byText[sr.LeafNodeText]; ok && sr.LeafNodeType == types.NodeTypeIt {
				e := r.entry(req, sr)
				if result.Interrupted && e.Outcome == report.Skipped && r.willRun(req, sr.LeafNodeText) {
					e.Reason = "not run: the run was interrupted first"
				}
				result.Entries = append(result.Entries, e)
			}
		}
	})

	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	suiteConfig.FocusStrings = cfg.Focus
	suiteConfig.SkipStrings = cfg.Skip
	suiteConfig.LabelFilter = cfg.LabelFilter
	suiteConfig.RandomizeAllSpecs = false
	reporterConfig.NoColor = cfg.NoColor
	reporterConfig.Verbose = cfg.Verbose
	ginkgo.RunSpecs(t, fmt.Sprintf("Matrix presence API conformance (%s)", cfg.API.Name), suiteConfig, reporterConfig)
	// Connections left open, idle or dialled and never used, would keep a
	// server that shuts down after the run waiting for them.
	r.http.CloseIdleConnections()
	result.Duration = time.Since(result.Started)
	if r.fed != nil {
		result.Federation = r.fed.figures(cfg.Settle)
	}
	result.Findings = r.findings.list()
	result.Entries = append(result.Entries, notApplicable...)
	slices.SortFunc(result.Entries, func(a, b report.Entry) int { return order[a.ID] - order[b.ID] })
	return result, nil
}

// newHTTPClient keeps enough idle connections for the requirements that
// run at once (the watches run ahead together, each with long-polls), so
// they reuse connections instead of opening and closing one per request.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}

// entry turns ginkgo's report of a spec into the requirement's outcome.
func (r *runner) entry(req Requirement, sr types.SpecReport) report.Entry {
	e := report.Entry{ID: req.ID, Level: string(req.Level), Endpoint: string(req.Endpoint), Text: req.Text, Duration: sr.RunTime}
	reason, known := r.cfg.KnownFailures[req.ID]
	if known {
		e.Reason = reason
	}
	softMessage, softFailed := "", false
	for _, entry := range sr.ReportEntries {
		if entry.Name == softFailureEntry {
			softMessage, softFailed = entry.StringRepresentation(), true
		}
	}
	switch {
	case sr.State == types.SpecStateInterrupted:
		// Cut short by SIGINT or SIGTERM, not by the server: whatever it
		// had seen by then is no verdict.
		e.Outcome, e.Reason, e.Message = report.Interrupted, "the run was interrupted while this requirement ran", ""
	case sr.State == types.SpecStateSkipped || sr.State == types.SpecStatePending:
		e.Outcome, e.Reason = report.Skipped, skipReason(sr)
	case sr.State == types.SpecStatePassed && !softFailed:
		e.Outcome = report.Passed
		if known {
			e.Outcome = report.UnexpectedPass
		}
	default:
		e.Message = softMessage
		if !softFailed {
			e.Message = failureMessage(sr)
		}
		switch {
		case known:
			e.Outcome = report.KnownFailure
		case req.Level == Should && !r.cfg.Strict:
			e.Outcome = report.Warned
		default:
			e.Outcome = report.Failed
		}
		if !r.findings.has(req.ID) {
			// It ended without a check saying what it saw (a timeout, an
			// interrupt): how it ended is the finding.
			r.findings.addBehaviour(req.ID, "the requirement's checks to end within --spec-timeout", sr.State.String())
		}
	}
	return e
}

func skipReason(sr types.SpecReport) string {
	if sr.Failure.Message != "" {
		return sr.Failure.Message
	}
	return "filtered out by focus, skip or label filter"
}

// failureMessage is the assertion's message; when the spec timed out or
// was interrupted, that says little, so the exchanges so far follow.
func failureMessage(sr types.SpecReport) string {
	msg := sr.Failure.Message
	if sr.State == types.SpecStateFailed {
		return msg
	}
	out := sr.CapturedGinkgoWriterOutput
	const keep = 8192
	if len(out) > keep {
		out = "...\n" + out[len(out)-keep:]
	}
	return safetext.Escape(fmt.Sprintf("%s: %s\n\nExchanges so far:\n%s", sr.State, msg, out))
}

// ErrTargetUnusable is a target the suite cannot start on.
var ErrTargetUnusable = errors.New("target unusable")

// Preflight checks that the target answers and that a user can be
// provisioned, so a misconfigured run stops with one clear error instead
// of failing every requirement.
func Preflight(ctx context.Context, cfg Config) error {
	cfg.defaults()
	hc := newHTTPClient()
	defer hc.CloseIdleConnections()
	c, err := client.New(cfg.Target, cfg.API, client.Options{Timeout: cfg.Timeout, HTTP: hc})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTargetUnusable, err)
	}
	if _, err := cfg.Users.NewUser(ctx, c); err != nil {
		return fmt.Errorf("%w: cannot provision a user on %s: %v%s", ErrTargetUnusable, cfg.Target, err, provisioningHint(cfg, err))
	}
	return nil
}

// provisioningHint says what usually fixes a failed provisioning, then
// every way to provision that the command offers.
func provisioningHint(cfg Config, err error) string {
	msg := err.Error()
	var diagnosis string
	switch cfg.Users.(type) {
	case *SharedSecret:
		diagnosis = "Check the shared secret, and that the server offers /_synapse/admin/v1/register."
	case *Pool:
		diagnosis = "Check the users file: each line a user ID and a valid access token."
	case *Registration:
		switch {
		case strings.Contains(msg, "404") || strings.Contains(msg, "M_UNRECOGNIZED"):
			diagnosis = fmt.Sprintf("The server does not serve the %s API at %s (Matrix 1.x servers serve v3; v1 is the 2015 API).", cfg.API.Name, cfg.API.Prefix)
		case strings.Contains(msg, "M_FORBIDDEN") || strings.Contains(msg, "m.login.dummy"):
			diagnosis = "The server's open registration is closed, or asks for more than the m.login.dummy stage."
		}
	}
	var try []string
	for _, v := range client.Versions {
		if v != cfg.API.Name {
			try = append(try, "--api "+v)
		}
	}
	out := "\n"
	if diagnosis != "" {
		out += diagnosis + "\n"
	}
	return out + fmt.Sprintf("To try: another version (%s; leave --api out to take the newest the server offers), "+
		"--shared-secret SECRET (the server's registration shared secret), or --users-file FILE (accounts made beforehand).",
		strings.Join(try, ", "))
}

// registrar receives each requirement with the body that checks it.
type registrar interface {
	require(req Requirement, body func(*Spec))
}

type registerFunc func(Requirement, func(*Spec))

func (f registerFunc) require(req Requirement, body func(*Spec)) { f(req, body) }

// Catalogue lists every requirement, in the order the suite runs them.
func Catalogue() []Requirement {
	var reqs []Requirement
	define(registerFunc(func(req Requirement, _ func(*Spec)) { reqs = append(reqs, req) }))
	return reqs
}

// define declares every requirement of the suite.
func define(r registrar) {
	statusPutRequirements(r)
	statusGetRequirements(r)
	listPostRequirements(r)
	listGetRequirements(r)
	syncRequirements(r)
	moreSyncRequirements(r)
	filterRequirements(r)
	moreFilterRequirements(r)
	lastSyncRequirements(r)
	eventsRequirements(r)
	moreEventsRequirements(r)
	timeRequirements(r)
	deviceRequirements(r)
	generalRequirements(r)
	federationRequirements(r)
}
