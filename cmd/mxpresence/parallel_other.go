//go:build !linux

package main

import "syscall"

// shardProcAttr: outside Linux there is no parent-death signal, so shards
// stay in the parent's process group, where a Ctrl-C reaches them too, and
// the parent interrupts and kills them when it is interrupted.
func shardProcAttr() *syscall.SysProcAttr { return nil }
