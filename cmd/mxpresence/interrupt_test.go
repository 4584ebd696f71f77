//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
	"github.com/mxpresence/mxpresence/suite/report"
)

// slowTarget is the mock answering every request late, so that a run
// lasts long enough to be interrupted in the middle.
func slowTarget(t *testing.T) string {
	t.Helper()
	mock := mockserver.New(mockserver.Options{NoRateLimit: true})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond)
		mock.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// startedRun is `mxpresence test` running in a process of its own.
type startedRun struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
}

// startRun starts `mxpresence test` and returns once its output holds
// ready, which says the specs have started.
func startRun(t *testing.T, ready string, args ...string) *startedRun {
	t.Helper()
	run := &startedRun{cmd: exec.Command(os.Args[0], append([]string{"test"}, args...)...), done: make(chan struct{})}
	run.cmd.Env = append(os.Environ(), runMainEnv+"=1")
	run.cmd.Stderr = &run.stderr
	out, err := run.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := run.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		run.cmd.Process.Kill()
		<-run.done
	})
	started := make(chan struct{})
	go func() {
		defer close(run.done)
		sc := bufio.NewScanner(out)
		seen := false
		for sc.Scan() {
			run.mu.Lock()
			run.stdout.WriteString(sc.Text() + "\n")
			run.mu.Unlock()
			if !seen && strings.Contains(sc.Text(), ready) {
				seen = true
				close(started)
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case <-started:
	case <-run.done:
		t.Fatalf("the run ended before %q:\n%s\n%s", ready, run.output(), run.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("no %q within 60s:\n%s", ready, run.output())
	}
	return run
}

func (r *startedRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stdout.String()
}

// wait waits, bounded, for the run to end and returns its exit status.
func (r *startedRun) wait(t *testing.T) int {
	t.Helper()
	exited := make(chan error, 1)
	go func() { <-r.done; exited <- r.cmd.Wait() }()
	select {
	case err := <-exited:
		if exit, ok := err.(*exec.ExitError); ok {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(60 * time.Second):
		t.Fatalf("still running 60s after the signal:\n%s", r.output())
		return -1
	}
}

// checkInterruptedReports checks that every report was written, marked
// interrupted, with no verdict and no failure blamed on the server.
func checkInterruptedReports(t *testing.T, dir, stdout string) {
	t.Helper()
	if !strings.Contains(stdout, "\nVERDICT: INTERRUPTED") || strings.Contains(stdout, "VERDICT: PASS") || strings.Contains(stdout, "VERDICT: FAIL") {
		t.Errorf("the summary does not say INTERRUPTED, or gives a verdict:\n%s", stdout)
	}
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("no JSON report: %v", err)
	}
	var result report.Result
	if err := json.Unmarshal(data, &result); err != nil {
		t.Fatal(err)
	}
	if !result.Interrupted || result.Passed() {
		t.Errorf("JSON report: interrupted %v, passed %v", result.Interrupted, result.Passed())
	}
	if n := len(result.WithOutcome(report.Failed)); n != 0 {
		t.Errorf("JSON report blames the server for %d failures: %v", n, result.WithOutcome(report.Failed))
	}
	if notRun := len(result.WithOutcome(report.Skipped)) + len(result.WithOutcome(report.Interrupted)); notRun == 0 {
		t.Errorf("JSON report: every requirement ran, so the run was not interrupted in the middle")
	}
	junit, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil || !bytes.Contains(junit, []byte(`<property name="interrupted" value="true">`)) {
		t.Errorf("JUnit report not marked interrupted (%v):\n%.600s", err, junit)
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil || !bytes.HasPrefix(md, []byte("## mxpresence: INTERRUPTED")) {
		t.Errorf("Markdown summary not marked interrupted (%v):\n%.300s", err, md)
	}
}

func reportFlags(dir string) []string {
	return []string{"--json", filepath.Join(dir, "report.json"), "--junit", filepath.Join(dir, "junit.xml"), "--summary-md", filepath.Join(dir, "summary.md")}
}

// Ctrl-C in the middle of a run: exit 130 and every report written,
// marked interrupted, not a verdict on the server.
func TestInterruptedRunExits130AndWritesItsReports(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			run := startRun(t, "Will run", append([]string{"--target", slowTarget(t), "--api", "v3", "--no-color"}, reportFlags(dir)...)...)
			time.Sleep(500 * time.Millisecond)
			run.cmd.Process.Signal(sig)
			if code := run.wait(t); code != interrupted {
				t.Errorf("exit %d, want 130\n%s\n%s", code, run.output(), run.stderr.String())
			}
			checkInterruptedReports(t, dir, run.output())
		})
	}
}
