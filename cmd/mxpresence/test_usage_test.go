package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A usage error is the user's, not the server's: exit 2 with a message
// naming the flag, before a mock starts or a report is written, and never
// a panic or a verdict.
func TestUsageErrorsExitTwoBeforeAnythingRuns(t *testing.T) {
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"--focus", "PRES-(STATUS"}, `--focus "PRES-(STATUS" is not a regular expression`},
		{[]string{"--skip", "[a-"}, `--skip "[a-" is not a regular expression`},
		{[]string{"--label-filter", "MUST && (slow"}, `--label-filter "MUST && (slow"`},
		{[]string{"--label-filter", "MUST &&"}, `--label-filter "MUST &&"`},
		{[]string{"--settle", "-1s"}, "--settle -1s"},
		{[]string{"--spec-timeout", "-1m"}, "--spec-timeout -1m0s"},
		{[]string{"--timeout", "-10s"}, "--timeout -10s"},
		{[]string{"--timeout", "0"}, "--timeout 0s"},
		{[]string{"--procs", "0"}, "--procs 0"},
		{[]string{"--shard", "3/2"}, `--shard "3/2"`},
		{[]string{"--api", "v2"}, `--api "v2"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			jsonPath := filepath.Join(t.TempDir(), "report.json")
			code, stdout, stderr := mxpresence(t, append([]string{"test", "--no-color", "--json", jsonPath}, c.args...)...)
			if code != cannotRun || !strings.Contains(stderr, c.says) {
				t.Errorf("exit %d, stderr %q; want exit 2 saying %q", code, stderr, c.says)
			}
			for _, sign := range []string{"panic", "goroutine ", "VERDICT", "checking the bundled mock"} {
				if strings.Contains(stdout+stderr, sign) {
					t.Errorf("output holds %q: the run went ahead\n%s\n%s", sign, stdout, stderr)
				}
			}
			if _, err := os.Stat(jsonPath); err == nil {
				t.Errorf("a report was written for a usage error")
			}
		})
	}
}
