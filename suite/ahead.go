package suite

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// Requirements that watch for something that must not happen (a refused
// write landing late, presence reaching a stranger) wait out the whole
// settle window whatever the server does. Run one after another, their
// windows would add up; so they all start together when the suite does,
// each in a goroutine of its own, and their ginkgo specs only wait for the
// outcome and replay it, exchanges and all. Requirements that mostly wait
// for time to pass (a sleep, a long-poll) run ahead for the same reason.
// Every other requirement runs meanwhile, as usual.

// aheadRun is a requirement's body running ahead of its spec.
type aheadRun struct {
	done    chan struct{}
	log     bytes.Buffer // the exchanges, for the spec's output
	failed  bool
	message string
}

// aheadFailure carries an assertion's failure out of a body running ahead.
type aheadFailure struct{ message string }

// startAhead starts the body of each watching requirement that this run
// will check.
func (r *runner) startAhead(ahead []aheadEntry) {
	for _, a := range ahead {
		run := &aheadRun{done: make(chan struct{})}
		r.ahead[a.req.ID] = run
		go r.runAhead(run, a.req, a.body)
	}
}

type aheadEntry struct {
	req  Requirement
	body func(*Spec)
}

func (r *runner) runAhead(run *aheadRun, req Requirement, body func(*Spec)) {
	defer close(run.done)
	ctx, cancel := context.WithTimeout(context.Background(), r.specTimeout(req))
	defer cancel()
	defer func() {
		switch p := recover().(type) {
		case nil:
		case aheadFailure:
			run.failed, run.message = true, p.message
		default:
			run.failed, run.message = true, fmt.Sprintf("panic: %v\n\n%s", p, debug.Stack())
		}
	}()
	s, err := r.newSpecLogging(ctx, req, &run.log)
	if err != nil {
		panic(aheadFailure{err.Error()})
	}
	s.ahead = true
	body(s)
	s.finish()
}

// replay waits for a requirement's body that ran ahead and makes its
// outcome the spec's.
func (s *Spec) replay(run *aheadRun) {
	select {
	case <-run.done:
	case <-s.ctx.Done():
		s.fail("the spec was cancelled while its checks, started ahead, were still running")
	}
	ginkgo.GinkgoWriter.Write(run.log.Bytes())
	if run.failed {
		s.fail(run.message)
	}
}

// willRun reports whether ginkgo will run the spec of a requirement, given
// the run's focus, skip and label filter, so that nothing filtered out
// runs ahead.
func (r *runner) willRun(req Requirement, text string) bool {
	if len(r.cfg.Focus) > 0 && !matchesAny(r.cfg.Focus, text) {
		return false
	}
	if len(r.cfg.Skip) > 0 && matchesAny(r.cfg.Skip, text) {
		return false
	}
	if r.cfg.LabelFilter != "" {
		filter, err := types.ParseLabelFilter(r.cfg.LabelFilter)
		if err != nil || !filter(req.labels()) {
			return false
		}
	}
	return true
}

func matchesAny(patterns []string, text string) bool {
	re, err := regexp.Compile(strings.Join(patterns, "|"))
	return err == nil && re.MatchString(text)
}
