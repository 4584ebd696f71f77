package main

import "syscall"

// shardProcAttr has the kernel kill a shard when its parent goes, however
// it goes, and puts the shard in a process group of its own, so that a
// Ctrl-C reaches it once, through the parent, rather than twice.
func shardProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
