package main

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/mxpresence/mxpresence/suite/report"
)

// shardGrace is how long an interrupted shard has to write its report
// before it is killed.
const shardGrace = 10 * time.Second

// runShard runs one shard to its end, or interrupts it when ctx ends and
// kills it if it outlives the grace.
//
// On Linux the kernel kills the shard when the thread that started it
// ends (shardProcAttr); the thread is locked to this goroutine until the
// shard is done, so that thread is the parent's for as long as the shard
// lives, and goes only with the parent.
func runShard(ctx context.Context, cmd *exec.Cmd) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd.SysProcAttr = shardProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	// A shard in a process group of its own gets no terminal signal: it
	// hears of the interrupt from here, once.
	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		return err
	case <-time.After(shardGrace):
		cmd.Process.Kill()
		return <-done
	}
}

// readShardReport reads the JSON report a shard wrote.
func readShardReport(path string) (*report.Result, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return report.ReadJSON(file)
}
