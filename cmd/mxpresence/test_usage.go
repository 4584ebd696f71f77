package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/mxpresence/mxpresence/suite/client"
)

// validate checks every flag that can be checked without the server, so
// that a mistyped flag stops the command with a usage error (exit 2)
// before a mock starts or a request goes out. Left to the run, a bad
// pattern panics inside ginkgo and a bad duration or label filter fails
// every requirement, which reads as a verdict about the server.
func (f *testFlags) validate() error {
	var errs []error
	for _, p := range []struct {
		flag     string
		patterns []string
	}{{"focus", f.focus}, {"skip", f.skip}} {
		for _, pattern := range p.patterns {
			if _, err := regexp.Compile(pattern); err != nil {
				errs = append(errs, fmt.Errorf("--%s %q is not a regular expression: %v", p.flag, pattern, err))
			}
		}
	}
	if f.labelFilter != "" {
		if _, err := types.ParseLabelFilter(f.labelFilter); err != nil {
			errs = append(errs, fmt.Errorf("--label-filter %q: %v", f.labelFilter, oneLine(err)))
		}
	}
	if f.timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout %s: want a duration above zero, e.g. 10s", f.timeout))
	}
	if f.specTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--spec-timeout %s: want a duration above zero, e.g. 1m", f.specTimeout))
	}
	if f.settle < 0 {
		errs = append(errs, fmt.Errorf("--settle %s: want zero or more, e.g. 2s", f.settle))
	}
	if f.procs < 1 {
		errs = append(errs, fmt.Errorf("--procs %d: want at least 1", f.procs))
	}
	if f.shard != "" {
		var i, n int
		if _, err := fmt.Sscanf(f.shard, "%d/%d", &i, &n); err != nil || n < 1 || i < 0 || i >= n {
			errs = append(errs, fmt.Errorf("--shard %q: want I/N with 0 <= I < N", f.shard))
		}
	}
	if f.apiName != "" && f.apiName != "auto" && !slices.Contains(client.Versions, f.apiName) {
		errs = append(errs, fmt.Errorf("--api %q: want one of %s, or auto", f.apiName, strings.Join(client.Versions, ", ")))
	}
	if f.listFormat != "text" && f.listFormat != "markdown" {
		errs = append(errs, fmt.Errorf("--format %q: want text or markdown", f.listFormat))
	}
	return errors.Join(errs...)
}

// oneLine is the fault a ginkgo error names, the last line of its message,
// without the colour codes and documentation link ginkgo adds.
func oneLine(err error) string {
	if ge, ok := errors.AsType[types.GinkgoError](err); ok {
		lines := strings.Split(strings.TrimSpace(ge.Message), "\n")
		return ge.Heading + ": " + strings.TrimSpace(lines[len(lines)-1])
	}
	return strings.TrimSpace(err.Error())
}
