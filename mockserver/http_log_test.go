package mockserver

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestRequestLog(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, func(o *Options) { o.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	a := h.register("alice")
	h.as(a.AccessToken, "GET", statusPath(a.UserID)+"?x=1", "")
	h.request("PUT", statusPath(a.UserID), `{"presence":"online"}`, http.Header{"Authorization": {"Bearer " + a.AccessToken}})
	h.request("GET", "/nowhere?access%5Ftoken="+a.AccessToken, "", nil)

	if strings.Contains(logs.String(), a.AccessToken) {
		t.Fatalf("the log holds the access token:\n%s", logs.String())
	}
	want := []struct {
		method, path string
		status       int
	}{
		{"GET", statusPath(a.UserID) + "?x=1&access_token=REDACTED", 200},
		{"PUT", statusPath(a.UserID), 200},
		{"GET", "/nowhere?access%5Ftoken=REDACTED", 404},
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d log records, want %d:\n%s", len(lines), len(want), logs.String())
	}
	for i, line := range lines {
		var rec struct {
			Msg      string `json:"msg"`
			Method   string `json:"method"`
			Path     string `json:"path"`
			Status   int    `json:"status"`
			Duration *int64 `json:"duration"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Msg != "request" || rec.Method != want[i].method || rec.Path != want[i].path || rec.Status != want[i].status || rec.Duration == nil {
			t.Errorf("record %d: %s; want %+v with a duration", i, line, want[i])
		}
	}
}
