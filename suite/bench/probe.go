package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Usage is what a server has spent so far: CPU time (user and system) and
// resident memory now.
type Usage struct {
	CPU time.Duration
	RSS int64 // bytes
}

// Probe reads a server's resource use.
type Probe interface {
	Sample() (Usage, error)
}

// ProcProbe reads a process on this machine from /proc (Linux).
type ProcProbe struct{ PID int }

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times; 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// Sample reads utime and stime from /proc/PID/stat and VmRSS from
// /proc/PID/status.
func (p ProcProbe) Sample() (Usage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID))
	if err != nil {
		return Usage{}, err
	}
	// The command name, field 2, may hold spaces; fields count from its ")".
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return Usage{}, fmt.Errorf("/proc/%d/stat: no command name", p.PID)
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return Usage{}, fmt.Errorf("/proc/%d/stat: %d fields", p.PID, len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(fields[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return Usage{}, fmt.Errorf("/proc/%d/stat: utime or stime not a number", p.PID)
	}
	u := Usage{CPU: time.Duration(utime+stime) * time.Second / clockTicks}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID))
	if err != nil {
		return Usage{}, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return Usage{}, fmt.Errorf("/proc/%d/status: VmRSS: %v", p.PID, err)
			}
			u.RSS = kb << 10
		}
	}
	return u, nil
}

// peakWatch samples resident memory every 100 ms while the load runs.
type peakWatch struct {
	stopc chan struct{}
	wg    sync.WaitGroup
	peak  int64
}

func startPeakWatch(p Probe) *peakWatch {
	w := &peakWatch{stopc: make(chan struct{})}
	if p == nil {
		return w
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if u, err := p.Sample(); err == nil {
				w.peak = max(w.peak, u.RSS)
			}
			select {
			case <-w.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *peakWatch) stop() int64 {
	close(w.stopc)
	w.wg.Wait()
	return w.peak
}

// loadAverage reads the one-minute load average, 0 when it cannot.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(fields[0], 64)
	return v
}
