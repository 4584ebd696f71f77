package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"testing"

	"github.com/mxpresence/mxpresence/suite/report"
)

// runMainEnv makes the test binary act as mxpresence itself. ginkgo runs
// one suite per process, so every `mxpresence test` in these tests is a
// process of its own: this binary, re-executed.
const runMainEnv = "MXPRESENCE_TEST_RUN_MAIN"

var update = flag.Bool("update", false, "rewrite the generated tables of docs/self-test.md from the runs")

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	code := m.Run()
	if selfTestDir != "" {
		os.RemoveAll(selfTestDir)
	}
	os.Exit(code)
}

// mxpresence runs the command in a process of its own and returns its exit
// status and output.
func mxpresence(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runBinary(t, os.Args[0], args...)
}

// runBinary runs bin, this test binary or a build of mxpresence, as
// mxpresence with args.
func runBinary(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), out.String(), errOut.String()
	}
	if err != nil {
		t.Fatalf("run mxpresence %v: %v", args, err)
	}
	return 0, out.String(), errOut.String()
}

// readReport reads a report that `mxpresence test --json` wrote.
func readReport(t *testing.T, path string) *report.Result {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	result, err := report.ReadJSON(file)
	if err != nil {
		t.Fatal(err)
	}
	return result
}
