// Command profiled serves the mock as `mxpresence serve --rate-limit 0`
// does (access log on, to a file) and writes a CPU profile of it, so that
// a load from another process (`mxpresence bench --target ... --pid ...`)
// shows where the server spends its time:
//
//	go run ./mockserver/internal/profiled -addr 127.0.0.1:8402 -for 60s -cpuprofile /tmp/mock.cpu
//	go tool pprof -top /tmp/mock.cpu
//
// It listens on loopback only and stops by itself after -for.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8402", "loopback `host:port` to listen on")
	length := flag.Duration("for", time.Minute, "how long to serve and profile")
	cpu := flag.String("cpuprofile", "mock.cpu", "write the CPU profile to this `file`")
	logPath := flag.String("log", os.DevNull, "write the access log to this `file`")
	flag.Parse()
	if err := run(*addr, *length, *cpu, *logPath); err != nil {
		fmt.Fprintln(os.Stderr, "profiled:", err)
		os.Exit(1)
	}
}

func run(addr string, length time.Duration, cpuPath, logPath string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || (host != "127.0.0.1" && host != "localhost") {
		return fmt.Errorf("-addr %q: loopback only", addr)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	out, err := os.Create(cpuPath)
	if err != nil {
		return err
	}
	defer out.Close()
	mock := mockserver.New(mockserver.Options{NoRateLimit: true, Logger: slog.New(slog.NewTextHandler(logFile, nil))})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mock, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("listening on http://%s pid %d for %s\n", ln.Addr(), os.Getpid(), length)
	if err := pprof.StartCPUProfile(out); err != nil {
		return err
	}
	time.Sleep(length)
	pprof.StopCPUProfile()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mock.Shutdown(ctx)
	return srv.Shutdown(ctx)
}
