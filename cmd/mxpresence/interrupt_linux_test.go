package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
)

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procStat(child); ok && ppid == pid {
			out = append(out, child)
		}
	}
	return out
}

// procStat reads a process's parent and state from /proc/PID/stat.
func procStat(pid int) (ppid int, state string, ok bool) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, "", false
	}
	// "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(fields) < 2 {
		return 0, "", false
	}
	ppid, err = strconv.Atoi(fields[1])
	return ppid, fields[0], err == nil
}

// alive reports whether a process still runs: a zombie has ended, and only
// waits for whoever adopted it to reap it.
func alive(pid int) bool {
	_, state, ok := procStat(pid)
	return ok && state != "Z" && state != "X"
}

// shardsOf waits until the parent has started its shards and returns them.
func shardsOf(t *testing.T, parent, want int) []int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if shards := childrenOf(parent); len(shards) == want {
			return shards
		}
		if time.Now().After(deadline) {
			t.Fatalf("parent %d has children %v, want %d shards", parent, childrenOf(parent), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkGone fails unless every shard ends within 10s.
func checkGone(t *testing.T, shards []int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range shards {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Errorf("shard %d still runs 10s after its parent went", pid)
				syscall.Kill(pid, syscall.SIGKILL)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// hangingTarget provisions users as the mock does, then never answers a
// presence request: a shard waits there, writing nothing, so that only
// the kernel's parent-death signal can end it (a shard that writes dies of
// SIGPIPE once its parent is gone, which would hide the defect).
func hangingTarget(t *testing.T) string {
	t.Helper()
	mock := mockserver.New(mockserver.Options{NoRateLimit: true})
	stop := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/presence/") || strings.HasSuffix(r.URL.Path, "/sync") {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		mock.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(stop); ts.Close() })
	return ts.URL
}

// A parent killed outright (SIGKILL, a crash, the OOM killer) can tell its
// shards nothing: the kernel must end them.
func TestShardsEndWhenTheirParentIsKilled(t *testing.T) {
	run := startRun(t, "Running 2 shards", "--procs", "2", "--target", hangingTarget(t), "--api", "v3", "--no-color",
		"--timeout", "2m", "--spec-timeout", "5m")
	shards := shardsOf(t, run.cmd.Process.Pid, 2)
	// Long enough for the shards to have written their headers and to be
	// waiting on the target, writing nothing.
	time.Sleep(2 * time.Second)
	run.cmd.Process.Kill()
	checkGone(t, shards)
}

// A parent interrupted (SIGTERM alone, as a CI runner sends it) ends its
// shards, writes the reports of what they finished, and exits 130.
func TestInterruptedParallelRunEndsItsShardsAndWritesItsReports(t *testing.T) {
	dir := t.TempDir()
	run := startRun(t, "Running 2 shards", append([]string{"--procs", "2", "--target", hangingTarget(t), "--api", "v3", "--no-color",
		"--timeout", "2m", "--spec-timeout", "5m"}, reportFlags(dir)...)...)
	shards := shardsOf(t, run.cmd.Process.Pid, 2)
	time.Sleep(2 * time.Second) // the shards wait on the target
	start := time.Now()
	run.cmd.Process.Signal(syscall.SIGTERM)
	if code := run.wait(t); code != interrupted {
		t.Errorf("exit %d, want 130\n%s\n%s", code, run.output(), run.stderr.String())
	}
	if took := time.Since(start); took > shardGrace+5*time.Second {
		t.Errorf("the parent took %s to end after SIGTERM", took.Round(time.Millisecond))
	}
	checkGone(t, shards)
	checkInterruptedReports(t, dir, run.output())
}
