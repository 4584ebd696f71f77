package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/bench"
)

// Exit statuses of `mxpresence bench`: as test's, 1 when a gate is passed.
const (
	benchPassed  = 0
	benchGate    = 1
	benchCannot  = 2
	mockStartMax = 10 * time.Second
)

type benchFlags struct {
	target, apiName, sharedSecret, usersFile string
	users                                    string
	roomSize, roomsPerUser, setup, pid       int
	rate                                     float64
	duration, window, pollTimeout, timeout   time.Duration
	settle                                   time.Duration
	jsonOut, summaryMD, svgOut, label        string
	maxP99                                   time.Duration
	maxLost                                  int
	mockFaults, mockVariations, from         stringList
	mockLog, cpuProfile                      string
	noProgress                               bool
}

func runBench(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return benchMain(ctx, args, stdout, stderr)
}

func benchMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f benchFlags
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.target, "target", "", "homeserver base URL (default: start the bundled mock, `mxpresence serve`, in a process of its own for each size)")
	fs.StringVar(&f.apiName, "api", "auto", "API version: r0, v3, or auto (the newest the server offers); the bench needs /sync")
	fs.StringVar(&f.sharedSecret, "shared-secret", os.Getenv("MXPRESENCE_SHARED_SECRET"), "register users through shared-secret admin registration with this secret (default $MXPRESENCE_SHARED_SECRET)")
	fs.StringVar(&f.usersFile, "users-file", "", `pre-made users, one "@user:server ACCESS_TOKEN" per line; it must hold at least --users distinct users (default: register fresh users)`)
	fs.StringVar(&f.users, "users", "100", "users, each a /sync watcher; a comma-separated list sweeps sizes, e.g. 10,100,1000")
	fs.IntVar(&f.roomSize, "room-size", 10, "members of each room (at most --users)")
	fs.IntVar(&f.roomsPerUser, "rooms-per-user", 1, "rooms each user is in")
	fs.Float64Var(&f.rate, "rate", 10, "presence changes per second (PUT status, each user in turn)")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "how long changes are made")
	fs.DurationVar(&f.window, "window", 5*time.Second, "how long a change may take to reach a room-mate before it counts as lost")
	fs.DurationVar(&f.settle, "settle", 0, "wait at least this long after the watchers start before the first change, for a server still working through the setup (joins) in the background")
	fs.DurationVar(&f.pollTimeout, "poll-timeout", 30*time.Second, "the timeout each /sync long-poll asks for")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "timeout of each other request")
	fs.IntVar(&f.setup, "setup", 8, "provisioning requests at once (registration, rooms, initial syncs)")
	fs.IntVar(&f.pid, "pid", 0, "the server's process ID on this machine, to read its CPU time and memory from /proc (automatic for the bundled mock)")
	fs.StringVar(&f.jsonOut, "json", "", "write a JSON report to this file")
	fs.StringVar(&f.summaryMD, "summary-md", "", "write a Markdown summary to this file (and append it to $GITHUB_STEP_SUMMARY when that is set)")
	fs.StringVar(&f.svgOut, "svg", "", "draw p99 latency and cost per change against users to this SVG file")
	fs.StringVar(&f.label, "label", "", "name of this run's series in the SVG (default: the target)")
	fs.DurationVar(&f.maxP99, "max-p99", 0, "gate: exit 1 when a size's p99 delivery latency is above this (0: no gate)")
	fs.IntVar(&f.maxLost, "max-lost", -1, "gate: exit 1 when a size loses more deliveries than this (-1: no gate)")
	fs.Var(&f.mockFaults, "mock-fault", "run the bundled mock with this fault (repeatable; see serve --list-faults)")
	fs.Var(&f.mockVariations, "mock-variation", "run the bundled mock with this variation (repeatable)")
	fs.StringVar(&f.mockLog, "mock-log", "", "write the bundled mock's access log to this file (default: discarded; it is written either way)")
	fs.Var(&f.from, "from", "draw and tabulate earlier JSON reports instead of running: `[LABEL=]FILE`, repeatable; reports of one label are one series of the SVG, a point per run and a line through the medians")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no progress bar even on a terminal")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the bench itself, the load's side, over the measured span (one size: the last), to this file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mxpresence bench [flags]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Measures what presence costs a homeserver: every user long-polls /sync with a presence")
		fmt.Fprintln(stderr, "filter while presence changes at --rate; reports delivery latency to room-mates, lost,")
		fmt.Fprintln(stderr, "leaked and redundant deliveries, /sync wake-ups, 429s and, with --pid, CPU and memory.")
		fmt.Fprintln(stderr, "Exit status: 0 within the gates, 1 a gate passed, 2 the run could not start.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mxpresence bench: unexpected argument %q\n", fs.Arg(0))
		return benchCannot
	}
	if len(f.from) > 0 {
		return redraw(f, stdout, stderr)
	}
	sizes, err := parseSizes(f.users)
	if err == nil {
		err = f.check()
	}
	if err != nil {
		fmt.Fprintln(stderr, "mxpresence bench:", err)
		return benchCannot
	}
	rep := &bench.Report{Target: f.target, Label: f.label, Started: time.Now().UTC(),
		Gates: bench.Gates{MaxP99: f.maxP99, MaxLost: f.maxLost}}
	code := benchPassed
	for _, n := range sizes {
		run, err := f.runSize(ctx, n, rep, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "mxpresence bench: %d users: %v\n", n, err)
			rep.Error = fmt.Sprintf("%d users: %v", n, err)
			code = benchCannot
			break
		}
		rep.Runs = append(rep.Runs, run)
	}
	rep.Check()
	if code == benchPassed && !rep.Passed() {
		code = benchGate
	}
	bench.WriteText(stdout, rep)
	if err := writeBenchReports(f, rep); err != nil {
		fmt.Fprintln(stderr, "mxpresence bench:", err)
		return benchCannot
	}
	return code
}

func (f *benchFlags) check() error {
	switch {
	case f.usersFile != "" && f.sharedSecret != "":
		return errors.New("give --users-file or --shared-secret, not both")
	case (len(f.mockFaults) > 0 || len(f.mockVariations) > 0) && f.target != "":
		return errors.New("--mock-fault and --mock-variation apply to the bundled mock, not to --target")
	case f.pid < 0:
		return fmt.Errorf("--pid %d: want a process ID", f.pid)
	case f.maxP99 < 0:
		return fmt.Errorf("--max-p99 %s: want a positive duration, or 0 for no gate", f.maxP99)
	case f.maxLost < -1:
		return fmt.Errorf("--max-lost %d: want a count, or -1 for no gate", f.maxLost)
	}
	if f.pid > 0 {
		if _, err := (bench.ProcProbe{PID: f.pid}).Sample(); err != nil {
			return fmt.Errorf("--pid %d: %v", f.pid, err)
		}
	}
	_, err := mockDeviations(f.mockFaults, f.mockVariations)
	return err
}

// parseSizes reads --users: one size, or a comma-separated sweep.
func parseSizes(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 2 {
			return nil, fmt.Errorf("--users %q: want numbers of users of at least 2, comma-separated", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// runSize runs the bench at one size, against the target or against a
// fresh bundled mock of its own, so no size inherits another's users.
func (f *benchFlags) runSize(ctx context.Context, n int, rep *bench.Report, stderr io.Writer) (*bench.Result, error) {
	target, pid := f.target, f.pid
	if target == "" {
		mock, err := startMockProcess(f.mockFaults, f.mockVariations, f.mockLog)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", bench.ErrCannotStart, err)
		}
		defer mock.stop()
		target, pid = mock.url, mock.pid
		fmt.Fprintf(stderr, "mxpresence bench: %d users against the bundled mock at %s (pid %d)%s\n", n, target, pid, deviationNames(f.mockFaults, f.mockVariations))
	}
	api, offered, err := resolveAPI(f.apiName, target, f.timeout)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", bench.ErrCannotStart, err)
	}
	if api.Name == "v1" {
		return nil, fmt.Errorf("%w: the %s API has no /sync (%s); the bench needs r0 or v3", bench.ErrCannotStart, api.Name, cmp.Or(offered, "--api v1"))
	}
	rep.Target, rep.API = cmp.Or(f.target, "bundled mock"), api.Name
	users, err := f.userSource()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", bench.ErrCannotStart, err)
	}
	cfg := bench.Config{Target: target, API: api, Users: users, N: n, RoomSize: f.roomSize, RoomsPerUser: f.roomsPerUser,
		Rate: f.rate, Duration: f.duration, Window: f.window, Settle: f.settle, PollTimeout: f.pollTimeout, Timeout: f.timeout, Setup: f.setup}
	if pid > 0 {
		cfg.Probe = bench.ProcProbe{PID: pid}
	}
	if !f.noProgress && isTerminal(stderr) {
		cfg.Progress = stderr
	}
	if f.cpuProfile != "" {
		// Each size overwrites the file: a sweep leaves the last size's.
		out, err := os.Create(f.cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("%w: --cpuprofile: %v", bench.ErrCannotStart, err)
		}
		defer out.Close()
		cfg.CPUProfile = out
	}
	return bench.Run(ctx, cfg)
}

func (f *benchFlags) userSource() (suite.UserSource, error) {
	switch {
	case f.sharedSecret != "":
		return suite.NewSharedSecret(f.sharedSecret), nil
	case f.usersFile == "":
		return suite.NewRegistration(), nil
	}
	file, err := os.Open(f.usersFile)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return suite.ReadPool(file)
}

func deviationNames(faults, variations []string) string {
	var out []string
	for _, n := range faults {
		out = append(out, "fault "+n)
	}
	for _, n := range variations {
		out = append(out, "variation "+n)
	}
	if len(out) == 0 {
		return ""
	}
	return " with " + strings.Join(out, ", ")
}

// isTerminal reports whether w is a character device: a progress bar
// belongs there and nowhere else (not in a file, a pipe or CI's log).
func isTerminal(w io.Writer) bool {
	file, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := file.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// mockProcess is the bundled mock as `mxpresence serve` runs, in a
// process of its own, so that the load comes from another process and
// /proc reads the server alone.
type mockProcess struct {
	cmd *exec.Cmd
	url string
	pid int
	log *os.File
}

func startMockProcess(faults, variations []string, logPath string) (*mockProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start the bundled mock: %w", err)
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--rate-limit", "0"}
	for _, n := range faults {
		args = append(args, "--fault", n)
	}
	for _, n := range variations {
		args = append(args, "--variation", n)
	}
	cmd := exec.Command(self, args...)
	m := &mockProcess{cmd: cmd}
	if logPath != "" {
		if m.log, err = os.Create(logPath); err != nil {
			return nil, err
		}
		cmd.Stderr = m.log
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the bundled mock: %w", err)
	}
	m.pid = cmd.Process.Pid
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				found <- u
				break
			}
		}
		close(found)
		io.Copy(io.Discard, out)
	}()
	select {
	case u, ok := <-found:
		if ok {
			m.url = u
			return m, nil
		}
	case <-time.After(mockStartMax):
	}
	m.stop()
	return nil, errors.New("the bundled mock did not start listening")
}

// stop ends the mock with SIGTERM, and kills it if it has not ended in
// ten seconds.
func (m *mockProcess) stop() {
	m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		m.cmd.Process.Kill()
		<-done
	}
	if m.log != nil {
		m.log.Close()
	}
}

// redraw reads earlier reports and writes the table, the Markdown and the
// chart of them all.
func redraw(f benchFlags, stdout, stderr io.Writer) int {
	var reps []*bench.Report
	for _, from := range f.from {
		// LABEL=FILE names the file's series, runs of one label making one.
		label, path, found := strings.Cut(from, "=")
		if !found {
			label, path = "", from
		}
		file, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(stderr, "mxpresence bench:", err)
			return benchCannot
		}
		rep, err := bench.ReadJSON(file)
		file.Close()
		if err != nil {
			fmt.Fprintf(stderr, "mxpresence bench: %s: %v\n", path, err)
			return benchCannot
		}
		if label != "" {
			rep.Label = label
		}
		reps = append(reps, rep)
		bench.WriteText(stdout, rep)
	}
	if f.svgOut != "" {
		if err := writeFile(f.svgOut, func(w io.Writer) error { return bench.WriteSVG(w, reps...) }); err != nil {
			fmt.Fprintln(stderr, "mxpresence bench:", err)
			return benchCannot
		}
	}
	return benchPassed
}

// writeBenchReports writes the reports the flags ask for; the Markdown
// also goes to GitHub's step summary when that is set, as test's does.
func writeBenchReports(f benchFlags, rep *bench.Report) error {
	var errs []error
	if f.jsonOut != "" {
		errs = append(errs, writeFile(f.jsonOut, func(w io.Writer) error { return bench.WriteJSON(w, rep) }))
	}
	if f.summaryMD != "" {
		errs = append(errs, writeFile(f.summaryMD, func(w io.Writer) error { return bench.WriteMarkdown(w, rep) }))
	}
	if f.svgOut != "" && len(rep.Runs) > 0 {
		errs = append(errs, writeFile(f.svgOut, func(w io.Writer) error { return bench.WriteSVG(w, rep) }))
	}
	if step := os.Getenv("GITHUB_STEP_SUMMARY"); step != "" {
		file, err := os.OpenFile(step, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err == nil {
			err = bench.WriteMarkdown(file, rep)
			err = errors.Join(err, file.Close())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err))
		}
	}
	return errors.Join(errs...)
}

func writeFile(path string, fn func(io.Writer) error) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(file); err != nil {
		file.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return file.Close()
}
