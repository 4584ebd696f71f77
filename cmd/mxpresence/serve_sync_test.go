package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A /sync long-poll waiting when serve shuts down answers at once, empty,
// and the shutdown ends cleanly well within its grace period.
func TestServeShutdownAnswersWaitingLongPolls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, stderr, exit := startServe(t, func(stdout, stderr io.Writer) int {
		return serve(ctx, []string{"--addr", "127.0.0.1:0", "--user", "alice:pw"}, stdout, stderr)
	})
	token := st.tokens["@alice:localhost"]
	sync := st.base + "/_matrix/client/v3/sync?set_presence=offline&access_token=" + token
	code, body := get(t, sync)
	var first struct {
		NextBatch string `json:"next_batch"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &first) != nil || first.NextBatch == "" {
		t.Fatalf("initial sync: %d %s", code, body)
	}
	answered := make(chan string, 1)
	go func() {
		res, err := http.Get(sync + "&timeout=120000&since=" + first.NextBatch)
		if err != nil {
			answered <- err.Error()
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		answered <- string(b)
	}()
	time.Sleep(200 * time.Millisecond) // let the poll start waiting
	cancel()
	select {
	case got := <-answered:
		if !strings.Contains(got, `"next_batch"`) {
			t.Errorf("the waiting poll got %q, want an empty sync", got)
		}
	case <-time.After(shutdownGrace - time.Second):
		t.Fatal("the long-poll held on into the shutdown grace period")
	}
	if code := waitExit(t, exit); code != 0 {
		t.Errorf("exit %d after shutdown: %s", code, stderr)
	}
}
