package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer the server's log and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe runs the command in the background and waits for it to say
// where it listens. It returns the base URL, the tokens it printed by user
// ID, and the channel its exit code arrives on.
func startServe(t *testing.T, run func(stdout, stderr io.Writer) int) (base string, tokens map[string]string, stderr *syncBuffer, exit chan int) {
	t.Helper()
	out, stdout := io.Pipe()
	stderr = &syncBuffer{}
	exit = make(chan int, 1)
	go func() {
		exit <- run(stdout, stderr)
		stdout.Close()
	}()
	tokens = map[string]string{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "listening on "); ok {
			go io.Copy(io.Discard, out)
			return rest, tokens, stderr, exit
		}
		var id, tok string
		if f := strings.Fields(line); len(f) == 4 && f[0] == "user" && f[2] == "access_token" {
			id, tok = f[1], f[3]
		}
		if id == "" {
			t.Fatalf("unexpected output line %q", line)
		}
		tokens[id] = tok
	}
	t.Fatalf("serve ended before listening (exit %d): %s", <-exit, stderr)
	return
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func waitExit(t *testing.T, exit chan int) int {
	t.Helper()
	select {
	case code := <-exit:
		return code
	case <-time.After(shutdownGrace + 5*time.Second):
		t.Fatal("serve did not stop")
		return -1
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, tokens, stderr, exit := startServe(t, func(stdout, stderr io.Writer) int {
		return serve(ctx, []string{"--addr", "127.0.0.1:0", "--server-name", "example.test", "--user", "alice:pass:word", "--user", "bob:pw"}, stdout, stderr)
	})
	alice, bob := tokens["@alice:example.test"], tokens["@bob:example.test"]
	if len(tokens) != 2 || alice == "" || bob == "" {
		t.Fatalf("printed accounts: %v", tokens)
	}
	status := base + "/_matrix/client/api/v1/presence/@alice:example.test/status"
	if code, body := get(t, status+"?access_token="+alice); code != 200 || !strings.Contains(body, `"presence":"offline"`) {
		t.Errorf("GET own status: %d %s", code, body)
	}
	if code, _ := get(t, status+"?access_token="+bob); code != 404 {
		t.Errorf("bob reads alice: %d, want 404", code)
	}
	// The password holds a ":" and the printed token is not the only way in.
	res, err := http.Post(base+"/_matrix/client/api/v1/login", "application/json",
		strings.NewReader(`{"type":"m.login.password","user":"alice","password":"pass:word"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("login: %v %v", res, err)
	}
	res.Body.Close()

	cancel()
	if code := waitExit(t, exit); code != 0 {
		t.Errorf("exit %d after shutdown: %s", code, stderr)
	}
	logs := stderr.String()
	if !strings.Contains(logs, "access_token=REDACTED") || strings.Contains(logs, alice) {
		t.Errorf("request log does not redact the token:\n%s", logs)
	}
	if !strings.Contains(logs, "status=404") || !strings.Contains(logs, "method=GET") {
		t.Errorf("request log lacks status or method:\n%s", logs)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
		t.Error("still listening after shutdown")
	}
}

// The real entry point, stopped by a real signal. NotifyContext is in place
// before the listening line, so the signal cannot reach the default handler.
func TestServeStopsOnSIGTERM(t *testing.T) {
	base, _, stderr, exit := startServe(t, func(stdout, stderr io.Writer) int {
		return runServe([]string{"--addr", "127.0.0.1:0"}, stdout, stderr)
	})
	if code, body := get(t, base+"/_matrix/client/api/v1/register"); code != 200 || !strings.Contains(body, "m.login.password") {
		t.Errorf("GET /register: %d %s", code, body)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, exit); code != 0 {
		t.Errorf("exit %d after SIGTERM: %s", code, stderr)
	}
}

func TestServeRateLimitFlag(t *testing.T) {
	for _, tt := range []struct {
		rate       string
		requests   int
		lastStatus int
	}{
		{"0", 150, 200},   // off: more than the default allows
		{"0.001", 2, 429}, // one request, then a wait of 1000 s
		{"100", 100, 200}, // the default burst
	} {
		ctx, cancel := context.WithCancel(context.Background())
		base, tokens, _, exit := startServe(t, func(stdout, stderr io.Writer) int {
			return serve(ctx, []string{"--addr", "127.0.0.1:0", "--rate-limit", tt.rate, "--user", "alice:pw"}, stdout, stderr)
		})
		url := base + "/_matrix/client/api/v1/presence/@alice:localhost/status?access_token=" + tokens["@alice:localhost"]
		var code int
		for range tt.requests {
			if code, _ = get(t, url); code != 200 {
				break
			}
		}
		if code != tt.lastStatus {
			t.Errorf("--rate-limit %s: after %d requests, status %d, want %d", tt.rate, tt.requests, code, tt.lastStatus)
		}
		cancel()
		waitExit(t, exit)
	}
}

func TestServeRefusesBadFlags(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tt := range []struct {
		args    []string
		code    int
		inError string
	}{
		{[]string{"--rate-limit", "-1"}, 2, "--rate-limit"},
		{[]string{"--rate-limit", "NaN"}, 2, "--rate-limit"},
		{[]string{"--user", "alice"}, 2, "NAME:PASSWORD"},
		{[]string{"--user", ":pw"}, 2, "NAME:PASSWORD"},
		{[]string{"--user", "Alice:pw"}, 2, "M_INVALID_USERNAME"},
		{[]string{"--user", "alice:pw", "--user", "alice:other"}, 2, "M_USER_IN_USE"},
		{[]string{"--server-name", "not a name"}, 2, "--server-name"},
		{[]string{"extra"}, 2, "unexpected argument"},
		{[]string{"--nope"}, 2, "flag provided but not defined"},
		{[]string{"--addr", busy.Addr().String()}, 1, "address already in use"},
		{[]string{"-h"}, 0, "usage: mxpresence serve"},
	} {
		var stdout, stderr bytes.Buffer
		code := serve(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.inError) {
			t.Errorf("serve %q: exit %d, stderr %q; want exit %d mentioning %q", tt.args, code, stderr.String(), tt.code, tt.inError)
		}
	}
}
