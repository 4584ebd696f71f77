// Command loadtest measures the mock server's throughput over loopback with
// wrk, beside a bare net/http handler that writes a fixed JSON body, in one
// process and one run: the bare handler is the ceiling net/http allows on
// this machine, and the mock's GET and PUT status are reported as a share
// of it.
//
//	go run ./mockserver/internal/loadtest [-duration 10s] [-rounds 3] [-serve ./mxpresence]
//
// With -serve it also measures what a client developer runs: the built
// binary as `mxpresence serve` starts it, access log on (to a file, as a
// terminal would take it), with only rate limiting turned off, since one
// token at tens of thousands of requests a second is what the limiter is
// there to stop.
//
// It needs wrk on PATH (Debian: apt-get install wrk). Every request goes to
// 127.0.0.1, and each wrk run stops after -duration.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
	"github.com/mxpresence/mxpresence/mockserver/internal/served"
)

// The targets, as shares of the bare handler's requests per second.
const (
	getTarget = 0.85
	putTarget = 0.75
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "length of each wrk run")
	rounds := flag.Int("rounds", 3, "runs of each target, interleaved; the median counts")
	threads := flag.Int("threads", 1, "wrk threads")
	connections := flag.Int("connections", 32, "wrk connections")
	wrkPath := flag.String("wrk", "wrk", "the wrk binary")
	serveBin := flag.String("serve", "", "also measure this mxpresence `binary` as `mxpresence serve --rate-limit 0` serves, access log on")
	flag.Parse()
	if err := run(*wrkPath, *serveBin, *duration, *rounds, *threads, *connections, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// statusBody is what the mock answers to the GET being measured; the bare
// handler writes the same bytes, so both send equal responses.
const statusBody = `{"presence":"online","last_active_ago":0,"status_msg":"I am here."}`

func run(wrkPath, serveBin string, duration time.Duration, rounds, threads, connections int, out io.Writer) error {
	if _, err := exec.LookPath(wrkPath); err != nil {
		return fmt.Errorf("wrk not found (apt-get install wrk): %w", err)
	}
	mock := mockserver.New(mockserver.Options{NoRateLimit: true, Clock: frozenClock()})
	alice, err := mock.Register("alice", "loadtest")
	if err != nil {
		return err
	}
	mockURL, stopMock, err := listen(mock)
	if err != nil {
		return err
	}
	defer stopMock()
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, statusBody)
	})
	bareURL, stopBare, err := listen(bare)
	if err != nil {
		return err
	}
	defer stopBare()

	statusURL := mockURL + "/_matrix/client/api/v1/presence/" + alice.UserID + "/status?access_token=" + alice.AccessToken
	putBody := `{"presence":"online","status_msg":"I am here."}`
	if err := check(http.MethodPut, statusURL, putBody, "{}"); err != nil {
		return err
	}
	if err := check(http.MethodGet, statusURL, "", statusBody); err != nil {
		return err
	}
	if err := check(http.MethodGet, bareURL+"/", "", statusBody); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	putScript := filepath.Join(dir, "put.lua")
	lua := fmt.Sprintf("wrk.method = \"PUT\"\nwrk.body = %q\nwrk.headers[\"Content-Type\"] = \"application/json\"\n", putBody)
	if err := os.WriteFile(putScript, []byte(lua), 0o644); err != nil {
		return err
	}

	common := []string{"-t" + strconv.Itoa(threads), "-c" + strconv.Itoa(connections), "-d" + duration.String()}
	targets := []target{
		{"bare", append(slices.Clone(common), bareURL+"/")},
		{"GET status", append(slices.Clone(common), statusURL)},
		{"PUT status", append(slices.Clone(common), "-s", putScript, statusURL)},
	}
	if serveBin != "" {
		proc, err := served.Start(serveBin, filepath.Join(dir, "access.log"), "--user", "alice:loadtest", "--rate-limit", "0")
		if err != nil {
			return err
		}
		defer proc.Stop()
		servedURL := proc.URL + "/_matrix/client/api/v1/presence/@alice:localhost/status?access_token=" + proc.Accounts["@alice:localhost"]
		if err := check(http.MethodPut, servedURL, putBody, "{}"); err != nil {
			return err
		}
		if err := check(http.MethodGet, servedURL, "", ""); err != nil {
			return err
		}
		targets = append(targets,
			target{"serve GET", append(slices.Clone(common), servedURL)},
			target{"serve PUT", append(slices.Clone(common), "-s", putScript, servedURL)})
	}
	fmt.Fprintf(out, "wrk over loopback, %d round(s) of %v each; lua script for PUT:\n%s\n", rounds, duration, lua)
	results := make([][]float64, len(targets))
	for round := 1; round <= rounds; round++ {
		for i, tg := range targets {
			rps, err := runWrk(wrkPath, tg.args)
			if err != nil {
				return fmt.Errorf("%s: %w", tg.name, err)
			}
			results[i] = append(results[i], rps)
			fmt.Fprintf(out, "round %d  %-10s  %10.0f req/s   %s %s\n", round, tg.name, rps, wrkPath, strings.Join(tg.args, " "))
		}
	}
	bareRPS := median(results[0])
	fmt.Fprintf(out, "\nmedian of %d:\n", rounds)
	fmt.Fprintf(out, "  %-10s  %10.0f req/s  100.0%%\n", "bare", bareRPS)
	var missed []string
	for i, target := range []float64{getTarget, putTarget} {
		rps := median(results[i+1])
		share := rps / bareRPS
		verdict := "meets"
		if share < target {
			verdict = "MISSES"
			missed = append(missed, targets[i+1].name)
		}
		fmt.Fprintf(out, "  %-10s  %10.0f req/s  %5.1f%%  (%s the %.0f%% target)\n", targets[i+1].name, rps, 100*share, verdict, 100*target)
	}
	for i := 3; i < len(targets); i++ {
		rps := median(results[i])
		fmt.Fprintf(out, "  %-10s  %10.0f req/s  %5.1f%%  (the served binary, access log on)\n", targets[i].name, rps, 100*rps/bareRPS)
	}
	if len(missed) > 0 {
		return fmt.Errorf("below target: %s", strings.Join(missed, ", "))
	}
	return nil
}

// A target is one wrk run: a name for the report and wrk's arguments.
type target struct {
	name string
	args []string
}

// frozenClock keeps last_active_ago at 0, so every GET answers the very
// bytes the bare handler writes.
func frozenClock() func() time.Time {
	t := time.Now()
	return func() time.Time { return t }
}

func listen(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// check makes one request and insists on a 200 with the expected body (any
// body when want is empty), so that wrk measures the path it is meant to.
func check(method, url, body, want string) error {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || (want != "" && string(got) != want) {
		return fmt.Errorf("%s %s: %d %s, want 200 %s", method, url, res.StatusCode, got, want)
	}
	return nil
}

var (
	requestsPerSec = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	non2xx         = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	socketErrors   = regexp.MustCompile(`Socket errors:.*`)
)

// runWrk runs wrk and returns its requests per second, refusing runs with
// failed responses or socket errors, which would make the number a lie.
func runWrk(wrkPath string, args []string) (float64, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(wrkPath, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%v: %s%s", err, stdout.String(), stderr.String())
	}
	text := stdout.String()
	if m := non2xx.FindStringSubmatch(text); m != nil {
		return 0, fmt.Errorf("%s responses were not 2xx:\n%s", m[1], text)
	}
	if m := socketErrors.FindString(text); m != "" {
		return 0, errors.New(m + "\n" + text)
	}
	m := requestsPerSec.FindStringSubmatch(text)
	if m == nil {
		return 0, fmt.Errorf("no Requests/sec in wrk's output:\n%s", text)
	}
	return strconv.ParseFloat(m[1], 64)
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
