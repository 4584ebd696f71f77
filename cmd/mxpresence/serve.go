package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
)

// shutdownGrace is how long requests in flight get to finish on SIGINT or
// SIGTERM before their connections are closed.
const shutdownGrace = 5 * time.Second

// runServe runs the reference mock homeserver until SIGINT or SIGTERM.
func runServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr)
}

// serve is runServe until ctx ends, so tests can stop it without a signal.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8008", "`host:port` to listen on")
	serverName := fs.String("server-name", "localhost", "the server `name` in user IDs")
	rate := fs.Float64("rate-limit", mockserver.DefaultRateLimit, "requests per second each user may make (`N`, with a burst of N); 0 turns limiting off")
	var users userFlags
	fs.Var(&users, "user", "create the account `NAME:PASSWORD` on start and print its access token; repeatable")
	noRegistration := fs.Bool("no-registration", false, "close open registration (POST /register answers 403), as homeservers often do")
	sharedSecret := fs.String("shared-secret", "", "turn on shared-secret registration at /_synapse/admin/v1/register, keyed with `SECRET`")
	var faults, variations stringList
	fs.Var(&faults, "fault", "switch on the fault `NAME`, to see a broken server from the client side; repeatable")
	fs.Var(&variations, "variation", "switch on the legitimate variation `NAME`; repeatable")
	listFaults := fs.Bool("list-faults", false, "list the faults and variations, and exit")
	fedAddr := fs.String("federation-addr", "", "also serve the Server-Server API (plain HTTP) on `host:port` and send presence to the servers in the users' rooms; empty: no federation")
	idleAfter := fs.Duration("idle-after", mockserver.DefaultIdleAfter, "show an online user with no activity for this `long` as unavailable")
	offlineAfter := fs.Duration("offline-after", mockserver.DefaultOfflineAfter, "show a user offline this `long` after all their devices stopped syncing")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the server to this `file`, from start to stop, for go tool pprof")
	memoryFloor := fs.Int64("memory-floor", defaultMemoryFloor>>20, "keep the Go runtime's soft memory limit at the larger of this many `MiB` and 1.5 times the live heap, so that memory taken by a burst of connections goes back to the system; 0: leave the runtime alone (as does a GOMEMLIMIT in the environment)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mxpresence serve [flags]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Serves the reference mock homeserver: the Matrix presence API as v1, r0")
		fmt.Fprintln(stderr, "and v3 at once, with register and login, in memory. Stop it with Ctrl-C.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mxpresence serve: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *listFaults {
		writeDeviations(stdout)
		return 0
	}
	deviations, err := mockDeviations(faults, variations)
	if err != nil {
		fmt.Fprintf(stderr, "mxpresence serve: %v\n", err)
		return 2
	}
	if *rate < 0 || math.IsNaN(*rate) || math.IsInf(*rate, 0) {
		fmt.Fprintf(stderr, "mxpresence serve: --rate-limit %v: want a number of requests per second, or 0 for no limit\n", *rate)
		return 2
	}
	if *memoryFloor < 0 {
		fmt.Fprintf(stderr, "mxpresence serve: --memory-floor %d: want MiB, or 0 to leave the runtime alone\n", *memoryFloor)
		return 2
	}
	if *idleAfter <= 0 || *offlineAfter <= 0 {
		fmt.Fprintf(stderr, "mxpresence serve: --idle-after %s, --offline-after %s: want durations above zero\n", *idleAfter, *offlineAfter)
		return 2
	}
	// Only once every flag is good: a usage error starts nothing.
	if *cpuProfile != "" {
		out, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(out)
		}
		if err != nil {
			fmt.Fprintf(stderr, "mxpresence serve: --cpuprofile: %v\n", err)
			return 2
		}
		defer out.Close()
		defer pprof.StopCPUProfile()
	}
	if *memoryFloor > 0 && os.Getenv("GOMEMLIMIT") == "" {
		defer governMemory(*memoryFloor << 20)()
	}
	// Everything serve writes to stderr from here on goes through one
	// buffer, in the order written; it is flushed when serve returns.
	logs := newLogBuffer(stderr)
	defer logs.Flush()
	stderr = logs
	opts := mockserver.Options{
		IdleAfter:                *idleAfter,
		OfflineAfter:             *offlineAfter,
		ServerName:               *serverName,
		RateLimit:                *rate,
		NoRateLimit:              *rate == 0,
		Logger:                   slog.New(slog.NewTextHandler(stderr, nil)),
		ClosedRegistration:       *noRegistration,
		RegistrationSharedSecret: *sharedSecret,
		Deviations:               deviations,
	}
	if *fedAddr != "" {
		opts.Federation = &mockserver.FederationOptions{}
	}
	if err := opts.Validate(); err != nil {
		fmt.Fprintf(stderr, "mxpresence serve: --server-name: %v\n", err)
		return 2
	}
	mock := mockserver.New(opts)
	var accounts []mockserver.Account
	for _, u := range users {
		acct, err := mock.Register(u.name, u.password)
		if err != nil {
			fmt.Fprintf(stderr, "mxpresence serve: --user: %v\n", err)
			return 2
		}
		accounts = append(accounts, acct)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "mxpresence serve: %v\n", err)
		return 1
	}
	// Cancelled when shutdown begins, so that waiting long-polls answer at
	// once instead of holding the shutdown for their whole timeout.
	requests, stopRequests := context.WithCancel(context.Background())
	defer stopRequests()
	srv := &http.Server{
		Handler:           mock,
		BaseContext:       func(net.Listener) context.Context { return requests },
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(mock.ReuseConnections(ln)) }()
	var fed *fedListener
	if *fedAddr != "" {
		if fed, err = listenFederation(*fedAddr, mock, opts.Logger); err != nil {
			srv.Close()
			fmt.Fprintf(stderr, "mxpresence serve: --federation-addr: %v\n", err)
			return 1
		}
	}

	for _, a := range accounts {
		fmt.Fprintf(stdout, "user %s access_token %s\n", a.UserID, a.AccessToken)
	}
	for _, v := range mock.APIVersions() {
		fmt.Fprintf(stdout, "api %s %s\n", v.Name, v.BasePath)
	}
	if *noRegistration {
		fmt.Fprintln(stdout, "registration closed")
	} else {
		fmt.Fprintln(stdout, "registration open")
	}
	if *sharedSecret != "" {
		fmt.Fprintln(stdout, "shared-secret registration /_synapse/admin/v1/register")
	}
	for _, d := range deviations {
		fmt.Fprintf(stdout, "%s %s: %s\n", d.Kind, d.Name, d.Description)
	}
	if fed != nil {
		fmt.Fprintf(stdout, "federation on %s as %s\n", fed.URL(), *serverName)
	}
	// Last, so that a script can wait for this line and then start.
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())

	select {
	case err := <-served:
		fmt.Fprintf(stderr, "mxpresence serve: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	opts.Logger.Info("shutting down", "grace", shutdownGrace)
	stopRequests()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	// The mock first: it answers the long-polls parked on connections it
	// took over, which srv no longer knows, and parks no more.
	if err := mock.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "mxpresence serve: shutdown: long-polls: %v\n", err)
		return 1
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "mxpresence serve: shutdown: %v\n", err)
		return 1
	}
	if err := fed.shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "mxpresence serve: shutdown: federation: %v\n", err)
		return 1
	}
	return 0
}

// writeDeviations lists the faults and variations: name, the suite run that
// must catch a fault and the requirements that do, and what each does.
func writeDeviations(w io.Writer) {
	fmt.Fprintln(w, "Faults (a conformant server must not show them; `mxpresence test --mock-fault NAME` must fail):")
	for _, d := range mockserver.Faults() {
		fmt.Fprintf(w, "  %-32s %s\n  %-32s caught by %s with --api %s\n", d.Name, d.Description, "", strings.Join(d.CaughtBy, ", "), d.SuiteAPI())
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Variations (the spec allows them; `mxpresence test --mock-variation NAME` must pass):")
	for _, d := range mockserver.Variations() {
		fmt.Fprintf(w, "  %-32s %s\n", d.Name, d.Description)
	}
}

// userFlags collects --user NAME:PASSWORD. NAME is a localpart, which holds
// no ":", so the first ":" ends it and the password may hold any.
type userFlags []struct{ name, password string }

func (u *userFlags) String() string { return "" }

func (u *userFlags) Set(value string) error {
	name, password, found := strings.Cut(value, ":")
	if !found || name == "" || password == "" {
		return errors.New("want NAME:PASSWORD, e.g. alice:wonderland")
	}
	*u = append(*u, struct{ name, password string }{name, password})
	return nil
}
