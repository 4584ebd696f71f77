//go:build unix

package schemas_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used, user and system, on all
// threads: unlike wall time, a busy machine does not inflate it.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
