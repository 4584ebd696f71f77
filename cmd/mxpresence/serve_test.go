package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
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

// started is what serve printed before it listened.
type started struct {
	base   string            // the listening URL
	tokens map[string]string // access token by user ID
	apis   []string          // "name base-path", one per API version
	notes  []string          // the other lines: registration open or closed, shared secret
}

// startServe runs the command in the background and waits for it to say
// where it listens. It returns what it printed until then, its log, and the
// channel its exit code arrives on.
func startServe(t *testing.T, run func(stdout, stderr io.Writer) int) (st started, stderr *syncBuffer, exit chan int) {
	t.Helper()
	out, stdout := io.Pipe()
	stderr = &syncBuffer{}
	exit = make(chan int, 1)
	go func() {
		exit <- run(stdout, stderr)
		stdout.Close()
	}()
	st.tokens = map[string]string{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "listening on "); ok {
			go io.Copy(io.Discard, out)
			st.base = rest
			return st, stderr, exit
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 4 && f[0] == "user" && f[2] == "access_token":
			st.tokens[f[1]] = f[3]
		case len(f) == 3 && f[0] == "api":
			st.apis = append(st.apis, f[1]+" "+f[2])
		case line == "registration open" || line == "registration closed" || line == "shared-secret registration /_synapse/admin/v1/register",
			strings.HasPrefix(line, "federation on "):
			st.notes = append(st.notes, line)
		default:
			t.Fatalf("unexpected output line %q", line)
		}
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
	st, stderr, exit := startServe(t, func(stdout, stderr io.Writer) int {
		return serve(ctx, []string{"--addr", "127.0.0.1:0", "--server-name", "example.test", "--user", "alice:pass:word", "--user", "bob:pw"}, stdout, stderr)
	})
	base, tokens := st.base, st.tokens
	alice, bob := tokens["@alice:example.test"], tokens["@bob:example.test"]
	if len(tokens) != 2 || alice == "" || bob == "" {
		t.Fatalf("printed accounts: %v", tokens)
	}
	if got := strings.Join(st.apis, "; "); got != "v1 /_matrix/client/api/v1; r0 /_matrix/client/r0; v3 /_matrix/client/v3" {
		t.Errorf("printed APIs: %s", got)
	}
	if got := strings.Join(st.notes, "; "); got != "registration open" {
		t.Errorf("printed notes: %s", got)
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
	st, stderr, exit := startServe(t, func(stdout, stderr io.Writer) int {
		return runServe([]string{"--addr", "127.0.0.1:0"}, stdout, stderr)
	})
	base := st.base
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
		st, _, exit := startServe(t, func(stdout, stderr io.Writer) int {
			return serve(ctx, []string{"--addr", "127.0.0.1:0", "--rate-limit", tt.rate, "--user", "alice:pw"}, stdout, stderr)
		})
		base, tokens := st.base, st.tokens
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
		{[]string{"--idle-after", "0s"}, 2, "--idle-after"},
		{[]string{"--offline-after", "-1s"}, 2, "--offline-after"},
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

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(out)
}

// --no-registration closes open registration in every version;
// --shared-secret opens the admin API, which still works; --user still
// makes accounts, usable under every prefix.
func TestServeRegistrationFlags(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, stderr, exit := startServe(t, func(stdout, stderr io.Writer) int {
		return serve(ctx, []string{"--addr", "127.0.0.1:0", "--no-registration", "--shared-secret", "s3cret", "--user", "alice:pw"}, stdout, stderr)
	})
	if got := strings.Join(st.notes, "; "); got != "registration closed; shared-secret registration /_synapse/admin/v1/register" {
		t.Errorf("printed notes: %s", got)
	}
	alice := st.tokens["@alice:localhost"]
	for _, prefix := range []string{"/_matrix/client/api/v1", "/_matrix/client/r0", "/_matrix/client/v3"} {
		if code, body := get(t, st.base+prefix+"/presence/@alice:localhost/status?access_token="+alice); code != 200 {
			t.Errorf("GET own status under %s: %d %s", prefix, code, body)
		}
		if code, body := post(t, st.base+prefix+"/register", `{"type":"m.login.password","username":"bob","user":"bob","password":"pw"}`); code != 403 || !strings.Contains(body, "registration is disabled") {
			t.Errorf("POST %s/register: %d %s, want 403", prefix, code, body)
		}
	}

	code, body := get(t, st.base+"/_synapse/admin/v1/register")
	var n struct{ Nonce string }
	if code != 200 || json.Unmarshal([]byte(body), &n) != nil || n.Nonce == "" {
		t.Fatalf("GET nonce: %d %s", code, body)
	}
	m := hmac.New(sha1.New, []byte("s3cret"))
	m.Write([]byte(n.Nonce + "\x00bob\x00pw\x00notadmin"))
	code, body = post(t, st.base+"/_synapse/admin/v1/register",
		`{"nonce":"`+n.Nonce+`","username":"bob","password":"pw","admin":false,"mac":"`+hex.EncodeToString(m.Sum(nil))+`"}`)
	if code != 200 || !strings.Contains(body, `"user_id":"@bob:localhost"`) {
		t.Errorf("shared-secret registration: %d %s", code, body)
	}
	if code, body := post(t, st.base+"/_matrix/client/v3/login", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"bob"},"password":"pw"}`); code != 200 {
		t.Errorf("bob logs in: %d %s", code, body)
	}
	cancel()
	if code := waitExit(t, exit); code != 0 {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr.String(), "s3cret") {
		t.Error("the log holds the shared secret")
	}
}

// Without the flags, registration is open in every version and the admin
// API is off.
func TestServeRegistrationDefaults(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, _, exit := startServe(t, func(stdout, stderr io.Writer) int {
		return serve(ctx, []string{"--addr", "127.0.0.1:0"}, stdout, stderr)
	})
	if code, body := get(t, st.base+"/_synapse/admin/v1/register"); code != 400 || !strings.Contains(body, "not enabled") {
		t.Errorf("GET nonce: %d %s, want 400", code, body)
	}
	if code, body := post(t, st.base+"/_matrix/client/api/v1/register", `{"type":"m.login.password","user":"carol","password":"pw"}`); code != 200 {
		t.Errorf("v1 register: %d %s", code, body)
	}
	if code, body := post(t, st.base+"/_matrix/client/r0/register", `{"username":"dave","password":"pw"}`); code != 401 || !strings.Contains(body, "m.login.dummy") {
		t.Errorf("r0 register: %d %s, want the 401 that opens user-interactive auth", code, body)
	}
	if code, body := get(t, st.base+"/_matrix/client/versions"); code != 200 || !strings.Contains(body, `"v1.1"`) {
		t.Errorf("GET /versions: %d %s", code, body)
	}
	cancel()
	waitExit(t, exit)
}
