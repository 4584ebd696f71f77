package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/report"
)

// runParallel runs the suite as procs processes of this binary, each on its
// own shard of the requirements and against the same target, then merges
// their reports. ginkgo runs one suite per process, and its own parallel
// mode needs the ginkgo CLI; shards need nothing but this binary.
//
// The shards end with the parent: when ctx ends (SIGINT, SIGTERM) each is
// interrupted and then, after a grace, killed, and on Linux the kernel
// kills them if the parent dies without a word (SIGKILL, a crash).
func runParallel(ctx context.Context, fs *flag.FlagSet, cfg suite.Config, procs int, stdout, stderr io.Writer) (*report.Result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("--procs: find this binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "mxpresence-shards-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	started := time.Now()
	fmt.Fprintf(stdout, "Running %d shards in parallel against %s\n", procs, cfg.Target)
	type shard struct {
		out  bytes.Buffer
		err  error
		json string
	}
	shards := make([]shard, procs)
	var wg sync.WaitGroup
	var mu sync.Mutex // keeps progress lines whole
	for i := range shards {
		sh := &shards[i]
		sh.json = filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		args := append([]string{"test"}, shardArgs(fs, cfg, i, procs, sh.json)...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(self, args...)
			cmd.Stdout, cmd.Stderr = &sh.out, &sh.out
			cmd.Env = shardEnv()
			sh.err = runShard(ctx, cmd)
			mu.Lock()
			fmt.Fprintf(stdout, "shard %d/%d finished (%s)\n", i+1, procs, exitDescription(sh.err))
			mu.Unlock()
		}()
	}
	wg.Wait()

	merged := &report.Result{API: cfg.API.Name, Target: cfg.Target, Strict: cfg.Strict, Schemas: cfg.API.Schemas(), Started: started, Interrupted: ctx.Err() != nil}
	for i, sh := range shards {
		var exit *exec.ExitError
		exited := errors.As(sh.err, &exit)
		if merged.Interrupted && (sh.err == nil || exited) {
			// An interrupted shard reports what it finished; one killed
			// after the grace has nothing to add.
			if part, err := readShardReport(sh.json); err == nil {
				merged.Entries = append(merged.Entries, part.Entries...)
				merged.Findings = report.MergeFindings(merged.Findings, part.Findings)
			}
			continue
		}
		if sh.err != nil && !(exited && exit.ExitCode() == notConformant) {
			return nil, fmt.Errorf("shard %d/%d could not run: %v\n%s", i+1, procs, sh.err, sh.out.String())
		}
		file, err := os.Open(sh.json)
		if err != nil {
			return nil, fmt.Errorf("shard %d/%d wrote no report: %v\n%s", i+1, procs, err, sh.out.String())
		}
		part, err := report.ReadJSON(file)
		file.Close()
		if err != nil {
			return nil, fmt.Errorf("shard %d/%d: %w", i+1, procs, err)
		}
		merged.Entries = append(merged.Entries, part.Entries...)
		merged.Findings = report.MergeFindings(merged.Findings, part.Findings)
		if cfg.Verbose {
			fmt.Fprintf(stdout, "\n--- shard %d/%d output ---\n%s", i+1, procs, sh.out.String())
		}
	}
	order := map[string]int{}
	for i, r := range suite.Catalogue() {
		order[r.ID] = i
	}
	slices.SortFunc(merged.Entries, func(a, b report.Entry) int { return order[a.ID] - order[b.ID] })
	merged.Duration = time.Since(started)
	return merged, nil
}

// shardArgs passes every flag the user set on to a shard, but those only
// the parent acts on, and points the shard at the parent's target and the
// API version the parent chose, so no shard asks the server again.
func shardArgs(fs *flag.FlagSet, cfg suite.Config, index, total int, jsonPath string) []string {
	parentOnly := map[string]bool{"procs": true, "junit": true, "json": true, "summary-md": true, "target": true, "api": true, "shard": true, "federation": true}
	var args []string
	fs.Visit(func(f *flag.Flag) {
		if parentOnly[f.Name] {
			return
		}
		if list, ok := f.Value.(*stringList); ok {
			for _, v := range *list {
				args = append(args, "--"+f.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+f.Name+"="+f.Value.String())
	})
	if cfg.Federation != "" {
		args = append(args, "--federation="+cfg.Federation)
	}
	return append(args, "--no-color", "--target="+cfg.Target, "--api="+cfg.API.Name, fmt.Sprintf("--shard=%d/%d", index, total), "--json="+jsonPath)
}

// shardEnv is this process's environment without GITHUB_STEP_SUMMARY: the
// parent writes the one summary of the merged run.
func shardEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GITHUB_STEP_SUMMARY=") })
}

func exitDescription(err error) string {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return "conformant"
	case errors.As(err, &exit) && exit.ExitCode() == notConformant:
		return "not conformant"
	case errors.As(err, &exit) && exit.ExitCode() == interrupted:
		return "interrupted"
	}
	return err.Error()
}
