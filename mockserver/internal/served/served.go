// Package served starts the built mxpresence binary as `mxpresence serve`,
// so that load tools measure what a client developer runs rather than the
// handler alone.
package served

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Process is a running `mxpresence serve` and the accounts it made on start.
type Process struct {
	URL      string
	PID      int
	Accounts map[string]string // user ID -> access token, from --user
	cmd      *exec.Cmd
	log      *os.File
}

// Start runs `bin serve --addr 127.0.0.1:0 args...`, reads what it prints on
// start until "listening on", and sends its access log (stderr) to logPath,
// as a terminal or a file would take it.
func Start(bin, logPath string, args ...string) (*Process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	p := &Process{PID: cmd.Process.Pid, Accounts: map[string]string{}, cmd: cmd, log: logFile}
	lines := bufio.NewScanner(stdout)
	for p.URL == "" && lines.Scan() {
		fields := strings.Fields(lines.Text())
		switch {
		case len(fields) == 4 && fields[0] == "user" && fields[2] == "access_token":
			p.Accounts[fields[1]] = fields[3]
		case len(fields) == 3 && fields[0] == "listening" && fields[1] == "on":
			p.URL = fields[2]
		}
	}
	go io.Copy(io.Discard, stdout)
	if p.URL == "" {
		p.Stop()
		return nil, fmt.Errorf("%s serve exited before printing its listening line; its log is %s", bin, logPath)
	}
	return p, nil
}

// Stop interrupts the server, as Ctrl-C would, and waits for it.
func (p *Process) Stop() {
	p.cmd.Process.Signal(os.Interrupt)
	p.cmd.Wait()
	p.log.Close()
}

// ResidentKB reads the server's resident set size now and at its peak, from
// /proc (Linux), in kilobytes.
func (p *Process) ResidentKB() (now, peak int, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		var kb int
		if _, err := fmt.Sscanf(line, "VmRSS: %d kB", &kb); err == nil {
			now = kb
		}
		if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil {
			peak = kb
		}
	}
	if now == 0 {
		return 0, 0, fmt.Errorf("no VmRSS in /proc/%d/status", p.PID)
	}
	return now, peak, nil
}
