// Command longpolls holds many /sync long-polls open against the mock at
// once, over loopback, with the mock in a process of its own: it reports
// the mock's resident memory while they wait, how fast GET status answers
// meanwhile, and how long one presence change takes to answer them all.
//
//	go run ./mockserver/internal/longpolls [-polls 5000]
//
// Each poll is a user of its own in one public room. Every request goes to
// 127.0.0.1; the run stops itself (the polls wait at most two minutes).
// With LONGPOLLS_HEAP_PROFILE=FILE set, the mock writes a heap profile there
// while the polls wait.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
)

func main() {
	polls := flag.Int("polls", 5000, "long-polls to hold open at once")
	child := flag.Bool("serve-child", false, "internal: serve the mock and print its URL")
	flag.Parse()
	if *child {
		serveChild()
		return
	}
	if err := run(*polls); err != nil {
		fmt.Fprintln(os.Stderr, "longpolls:", err)
		os.Exit(1)
	}
}

// serveChild serves the mock until its stdin closes.
func serveChild() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mock := mockserver.New(mockserver.Options{NoRateLimit: true})
	srv := &http.Server{Handler: mock, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(mock.ReuseConnections(ln))
	fmt.Printf("listening on http://%s\n", ln.Addr())
	// Each line on stdin asks for the memory figures ("gc": after returning
	// what is garbage to the OS); end of input ends it.
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "gc" {
			debug.FreeOSMemory()
		}
		if f := os.Getenv("LONGPOLLS_HEAP_PROFILE"); f != "" && sc.Text() == "stats" {
			out, _ := os.Create(f)
			pprof.WriteHeapProfile(out)
			out.Close()
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Printf("heap in use %.1f MB, stacks %.1f MB, goroutines %d, from the OS %.1f MB\n",
			mb(m.HeapInuse), mb(m.StackInuse), runtime.NumGoroutine(), mb(m.Sys))
	}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

type account struct {
	UserID      string `json:"user_id"`
	AccessToken string `json:"access_token"`
}

func run(polls int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-serve-child")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	childOut := bufio.NewReader(stdout)
	line, err := childOut.ReadString('\n')
	if err != nil {
		return fmt.Errorf("the mock did not start: %w", err)
	}
	base := strings.TrimSpace(strings.TrimPrefix(line, "listening on ")) + "/_matrix/client/v3"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: polls + 16}, Timeout: 3 * time.Minute}
	call := func(method, path, token, body string) ([]byte, error) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			return out, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, out)
		}
		return out, nil
	}
	register := func(name string) (account, error) {
		out, err := call("POST", "/register", "", `{"username":"`+name+`","password":"pw","auth":{"type":"m.login.dummy"}}`)
		var a account
		if err == nil {
			err = json.Unmarshal(out, &a)
		}
		return a, err
	}

	fmt.Printf("setting up: %d users in one public room, through the API\n", polls+1)
	creator, err := register("creator")
	if err != nil {
		return err
	}
	out, err := call("POST", "/createRoom", creator.AccessToken, `{"preset":"public_chat"}`)
	if err != nil {
		return err
	}
	var room struct {
		RoomID string `json:"room_id"`
	}
	json.Unmarshal(out, &room)
	members := make([]account, polls)
	if err := parallel(polls, func(i int) error {
		a, err := register(fmt.Sprintf("member%05d", i))
		if err != nil {
			return err
		}
		members[i] = a
		_, err = call("POST", "/join/"+url.PathEscape(room.RoomID), a.AccessToken, `{}`)
		return err
	}); err != nil {
		return err
	}
	// One token for all: positions are server-wide. The filter keeps this
	// sync from carrying every member's presence.
	out, err = call("GET", "/sync?"+url.Values{"set_presence": {"offline"}, "filter": {`{"presence":{"types":[]}}`}}.Encode(), creator.AccessToken, "")
	if err != nil {
		return err
	}
	var first struct {
		NextBatch string `json:"next_batch"`
	}
	json.Unmarshal(out, &first)
	rssBefore := residentMB(cmd.Process.Pid)

	var written sync.WaitGroup
	var wg sync.WaitGroup
	answered := make([]time.Time, polls)
	var failed atomic.Int64
	var firstFailure atomic.Value
	for i, m := range members {
		written.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var once sync.Once
			trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(written.Done) }}
			q := url.Values{"since": {first.NextBatch}, "timeout": {"120000"}, "set_presence": {"offline"}}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", base+"/sync?"+q.Encode(), nil)
			req.Header.Set("Authorization", "Bearer "+m.AccessToken)
			res, err := client.Do(req)
			once.Do(written.Done)
			if err != nil {
				failed.Add(1)
				firstFailure.CompareAndSwap(nil, err.Error())
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			answered[i] = time.Now()
			if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(creator.UserID)) {
				failed.Add(1)
				firstFailure.CompareAndSwap(nil, string(body))
			}
		}()
	}
	written.Wait()
	time.Sleep(time.Second) // the last requests reach their handlers
	rssHeld := residentMB(cmd.Process.Pid)
	io.WriteString(stdin, "stats\n")
	stats, _ := childOut.ReadString('\n')
	io.WriteString(stdin, "gc\n")
	statsGC, _ := childOut.ReadString('\n')
	rssGC := residentMB(cmd.Process.Pid)
	var statusTimes []time.Duration
	for range 20 {
		t := time.Now()
		if _, err := call("GET", "/presence/"+members[0].UserID+"/status", creator.AccessToken, ""); err != nil {
			return fmt.Errorf("GET status while the polls wait: %w", err)
		}
		statusTimes = append(statusTimes, time.Since(t))
	}
	changed := time.Now()
	if _, err := call("PUT", "/presence/"+creator.UserID+"/status", creator.AccessToken, `{"presence":"online","status_msg":"wake"}`); err != nil {
		return err
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d polls failed; the first: %v", n, firstFailure.Load())
	}
	var lat []time.Duration
	for _, at := range answered {
		lat = append(lat, at.Sub(changed))
	}
	slices.Sort(lat)
	slices.Sort(statusTimes)
	fmt.Printf("mock resident memory: %.1f MB before the polls, %.1f MB with %d polls waiting\n", rssBefore, rssHeld, polls)
	fmt.Printf("  the mock's runtime then: %s", stats)
	fmt.Printf("after a collection that returns garbage to the OS: %.1f MB resident; %s", rssGC, statsGC)
	fmt.Printf("GET status while they wait, 20 calls: median %v, max %v\n", statusTimes[len(statusTimes)/2], statusTimes[len(statusTimes)-1])
	fmt.Printf("one change answered all %d: p50 %v, p99 %v, last %v after the PUT\n", polls, lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	return nil
}

// parallel runs f for 0..n-1 on a few goroutines, stopping at the first
// error.
func parallel(n int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// residentMB reads a process's resident set size from /proc.
func residentMB(pid int) float64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}
