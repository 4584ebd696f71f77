package suite

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/safetext"
)

// T is what the helpers of a spec need: a context that ends with the spec,
// and assertions that end the spec when they fail.
type T interface {
	Context() context.Context
	Expect(actual any, extra ...any) types.Assertion
}

// Spec is one running requirement. Its assertions fail the requirement
// hard (MUST) or softly (a SHOULD, or a known failure), but always stop it.
type Spec struct {
	ctx    context.Context
	log    io.Writer // where the spec's exchanges go
	req    Requirement
	run    *runner
	client *client.Client
	g      gomega.Gomega
	soft   bool
	// ahead: the spec runs before ginkgo reaches its requirement, so a
	// failure is recorded for the requirement to replay (see ahead.go).
	ahead bool

	// breach is the first schema breach the spec's responses showed. It
	// fails the requirement, but only once the body has run its own
	// checks: a requirement that stopped at a breach another requirement
	// also meets would hide what it alone can find, and the run's findings
	// would then change with timing.
	breachMu sync.Mutex
	breach   string
}

var _ T = (*Spec)(nil)

// softFailure carries a failure that must not fail the run; the spec's
// wrapper recovers it and records it for the report.
type softFailure struct{ message string }

// softFailureEntry names the report entry a soft failure leaves.
const softFailureEntry = "mxpresence-soft-failure"

func (r *runner) newSpec(ctx context.Context, req Requirement) *Spec {
	s, err := r.newSpecLogging(ctx, req, ginkgo.GinkgoWriter)
	if err != nil {
		ginkgo.Fail(safetext.Escape(err.Error()))
	}
	return s
}

// newSpecLogging makes a spec whose exchanges go to log.
func (r *runner) newSpecLogging(ctx context.Context, req Requirement, log io.Writer) (*Spec, error) {
	s := &Spec{ctx: ctx, log: log, req: req, run: r, soft: r.isSoft(req)}
	s.g = gomega.NewGomega(s.fail)
	target := r.cfg.Target
	if req.Timers && r.cfg.TimersTarget != "" {
		target = r.cfg.TimersTarget
	}
	c, err := client.New(target, r.cfg.API, client.Options{
		Timeout:           r.cfg.Timeout,
		HTTP:              r.http,
		Log:               log,
		OnSchemaViolation: s.schemaViolation,
		OnExchange:        s.saw,
	})
	if err != nil {
		return nil, err
	}
	s.client = c
	return s, nil
}

func (s *Spec) fail(message string, callerSkip ...int) {
	if !s.run.findings.has(s.req.ID) {
		// A failure no check put in words (a direct failure, a panic):
		// its message's first line is the rule.
		s.behaviourFinding(message, "failed")
	}
	if breach := s.firstBreach(); breach != "" && breach != message {
		message = breach + "\n\nAnd after it:\n" + message
	}
	// gomega quotes what the server sent as it came; ginkgo prints the
	// message on the terminal, and the reports keep it.
	message = safetext.Escape(message)
	if s.ahead {
		panic(aheadFailure{message})
	}
	if s.soft {
		panic(softFailure{message})
	}
	skip := 1
	if len(callerSkip) > 0 {
		skip += callerSkip[0]
	}
	ginkgo.Fail(message, skip)
}

// schemaViolation fails the requirement whose request met a response that
// breaks the schema of its documented status: every response is checked,
// whatever the requirement is about. The message says whose schema it is,
// the spec's or mxpresence's own rule, and in which document.
func (s *Spec) schemaViolation(ex *client.Exchange) {
	s.run.findings.add(s.req.ID, schemaFindings(s.client.API(), ex)...)
	s.breachMu.Lock()
	defer s.breachMu.Unlock()
	if s.breach == "" {
		s.breach = fmt.Sprintf("The response to %s breaks %s for status %d: %s\n\n%s",
			ex.Operation, ex.SchemaLabel(), ex.Status(), schemaBreach(ex.SchemaErr), ex)
	}
}

func (s *Spec) firstBreach() string {
	s.breachMu.Lock()
	defer s.breachMu.Unlock()
	return s.breach
}

// finish fails a requirement whose body passed its own checks but met a
// schema breach on the way.
func (s *Spec) finish() {
	if breach := s.firstBreach(); breach != "" {
		s.fail(breach)
	}
}

// recoverSoftFailure turns a soft failure into a report entry; anything
// else keeps unwinding to ginkgo.
func recoverSoftFailure() {
	r := recover()
	if r == nil {
		return
	}
	if sf, ok := r.(softFailure); ok {
		ginkgo.AddReportEntry(softFailureEntry, sf.message, ginkgo.ReportEntryVisibilityNever)
		return
	}
	panic(r)
}

// Context ends when the spec does.
func (s *Spec) Context() context.Context { return s.ctx }

// Expect starts an assertion; a failure ends the spec, and a failed
// exchange matcher leaves a finding.
func (s *Spec) Expect(actual any, extra ...any) types.Assertion {
	return findingAssertion{Assertion: s.g.ExpectWithOffset(2, actual, extra...), spec: s, actual: actual}
}

// Client is the spec's own client, logging to the spec's output.
func (s *Spec) Client() *client.Client { return s.client }

// Anonymous is a session without an access token.
func (s *Spec) Anonymous() *client.Session { return s.client.Anonymous() }

// NewUser provisions a user no other spec has touched.
func (s *Spec) NewUser() *client.Session {
	u, err := s.run.users.NewUser(s.ctx, s.client)
	if err != nil {
		s.fail(fmt.Sprintf("Cannot provision a user for the spec: %v", err))
	}
	return u
}

// Settle is how long a read may lag behind the write it should see.
func (s *Spec) Settle() time.Duration { return s.run.cfg.Settle }

// Sleep waits, or ends the spec if it is cancelled meanwhile.
func (s *Spec) Sleep(d time.Duration) {
	select {
	case <-time.After(d):
	case <-s.ctx.Done():
		s.fail("the spec was cancelled while waiting")
	}
}

// NewDevice logs in again as a user the spec provisioned: a second device
// of theirs. Users from a file have no password the suite knows, so there
// it fails the spec, saying so.
func (s *Spec) NewDevice(of *client.Session) *client.Session {
	src, ok := s.run.users.(deviceSource)
	if !ok {
		s.fail(fmt.Sprintf("Cannot log %s in on a second device: users from --users-file come without a password; register users (open registration or --shared-secret) for the requirements about devices.", of.UserID))
	}
	d, err := src.NewDevice(s.ctx, s.client, of)
	if err != nil {
		s.fail(fmt.Sprintf("Cannot log %s in on a second device: %v", of.UserID, err))
	}
	return d
}
