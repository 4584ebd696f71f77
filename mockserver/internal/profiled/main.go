// Command profiled serves the mock as `mxpresence serve --rate-limit 0`
// does (access log on, to a file) and writes a CPU profile of it, so that
// a load from another process (`mxpresence bench --target ... --pid ...`)
// shows where the server spends its time:
//
//	go run ./mockserver/internal/profiled -addr 127.0.0.1:8402 -for 60s -cpuprofile /tmp/mock.cpu
//	go tool pprof -top /tmp/mock.cpu
//
// -after keeps a load's set-up (registration, joins, initial syncs) out of
// the profile. It listens on loopback only and stops by itself once the
// profile is written.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8402", "loopback `host:port` to listen on")
	length := flag.Duration("for", time.Minute, "how long to serve and profile")
	cpu := flag.String("cpuprofile", "mock.cpu", "write the CPU profile to this `file`")
	logPath := flag.String("log", os.DevNull, "write the access log to this `file`")
	heap := flag.String("memprofile", "", "also write a heap profile to this `file` when the profile ends, with the memory figures on stdout")
	after := flag.Duration("after", 0, "serve this long before the profile starts, so that a load's set-up stays out of it")
	flag.Parse()
	if err := run(*addr, *after, *length, *cpu, *heap, *logPath); err != nil {
		fmt.Fprintln(os.Stderr, "profiled:", err)
		os.Exit(1)
	}
}

func run(addr string, after, length time.Duration, cpuPath, heapPath, logPath string) error {
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
	go srv.Serve(mock.ReuseConnections(ln))
	fmt.Printf("listening on http://%s pid %d; profiling from %s for %s\n", ln.Addr(), os.Getpid(), after, length)
	time.Sleep(after)
	if err := pprof.StartCPUProfile(out); err != nil {
		return err
	}
	time.Sleep(length)
	pprof.StopCPUProfile()
	if heapPath != "" {
		if err := writeHeap(heapPath); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mock.Shutdown(ctx)
	return srv.Shutdown(ctx)
}

// writeHeap writes a heap profile of what is live now, and prints where
// the resident memory goes by the runtime's account.
func writeHeap(path string) error {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fmt.Printf("heap in use %d MB, stacks %d MB, goroutines %d, from the OS %d MB, released %d MB\n",
		m.HeapInuse>>20, m.StackInuse>>20, runtime.NumGoroutine(), m.Sys>>20, m.HeapReleased>>20)
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	if err := pprof.Lookup("heap").WriteTo(out, 0); err != nil {
		return err
	}
	// Where the goroutines wait, beside it: a connection held by net/http
	// holds a goroutine, parked long-polls hold none.
	stacks, err := os.Create(path + ".goroutines")
	if err != nil {
		return err
	}
	defer stacks.Close()
	return pprof.Lookup("goroutine").WriteTo(stacks, 1)
}
