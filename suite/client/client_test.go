package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/suite/client"
)

func v1(t *testing.T) client.API {
	t.Helper()
	api, err := client.V1()
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// A server that answers every request from a function, recording the last.
func serve(t *testing.T, fn func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(fn))
	t.Cleanup(srv.Close)
	return srv
}

func TestTokenGoesWhereTheAPISays(t *testing.T) {
	var got *http.Request
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { got = r; w.Write([]byte(`{}`)) })
	api := v1(t)
	c, _ := client.New(srv.URL, api, client.Options{})
	c.As("@a:b", "secret").SetStatus(context.Background(), "@a:b", client.StatusUpdate{Presence: "online"})
	if got.URL.Query().Get("access_token") != "secret" || got.Header.Get("Authorization") != "" {
		t.Errorf("v1: query %q, header %q", got.URL.RawQuery, got.Header.Get("Authorization"))
	}
	if got.URL.Path != "/_matrix/client/api/v1/presence/@a:b/status" {
		t.Errorf("path %q", got.URL.Path)
	}

	api.TokenIn = client.TokenInHeader
	c, _ = client.New(srv.URL, api, client.Options{})
	c.As("@a:b", "secret").GetStatus(context.Background(), "@a:b")
	if got.URL.Query().Has("access_token") || got.Header.Get("Authorization") != "Bearer secret" {
		t.Errorf("header placement: query %q, header %q", got.URL.RawQuery, got.Header.Get("Authorization"))
	}
}

func TestExchangeShowsEverythingButSecrets(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"errcode":"M_FORBIDDEN","access_token":"leaked-token"}`))
	})
	c, _ := client.New(srv.URL, v1(t), client.Options{})
	ex := c.As("@a:b", "secret-token").SetStatus(context.Background(), "@c:d", client.StatusUpdate{Presence: "online"})
	shown := ex.String()
	for _, want := range []string{
		"--> PUT " + srv.URL + "/_matrix/client/api/v1/presence/@c:d/status?access_token=REDACTED",
		"Content-Type: application/json",
		`{"presence":"online"}`,
		"<-- HTTP/1.1 403 Forbidden",
		`{"errcode":"M_FORBIDDEN","access_token":"REDACTED"}`,
		"PUT /presence/{userId}/status does not document status 403 (Forbidden); it documents [200 429]",
	} {
		if !strings.Contains(shown, want) {
			t.Errorf("exchange lacks %q:\n%s", want, shown)
		}
	}
	if strings.Contains(shown, "secret-token") || strings.Contains(shown, "leaked-token") {
		t.Errorf("a secret shows:\n%s", shown)
	}
}

func TestSchemaViolationIsReported(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"presence":"away","last_active_ago":"5"}`))
	})
	var violated *client.Exchange
	c, _ := client.New(srv.URL, v1(t), client.Options{OnSchemaViolation: func(ex *client.Exchange) { violated = ex }})
	ex := c.As("@a:b", "t").GetStatus(context.Background(), "@a:b")
	if violated != ex || ex.SchemaErr == nil {
		t.Fatalf("no violation reported for %s", ex)
	}
	for _, want := range []string{"/presence: enum", "/last_active_ago: type"} {
		if !strings.Contains(ex.SchemaErr.Error(), want) {
			t.Errorf("%v lacks %q", ex.SchemaErr, want)
		}
	}
}

func TestRateLimitedRequestsWaitAndRetry(t *testing.T) {
	var calls atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":20}`))
			return
		}
		w.Write([]byte(`{}`))
	})
	var limited int
	c, _ := client.New(srv.URL, v1(t), client.Options{OnRateLimited: func(*client.Exchange) { limited++ }})
	start := time.Now()
	ex := c.As("@a:b", "t").SetStatus(context.Background(), "@a:b", client.StatusUpdate{Presence: "online"})
	if ex.Status() != http.StatusOK || calls.Load() != 3 || limited != 2 {
		t.Errorf("status %d after %d calls, %d seen limited", ex.Status(), calls.Load(), limited)
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Errorf("retried after %s; the server asked for 2 x 20ms", waited)
	}

	calls.Store(0)
	ex = c.Do(context.Background(), client.Request{Operation: client.PutStatus, UserID: "@a:b", NoRetry: true, JSON: client.StatusUpdate{Presence: "online"}})
	if ex.Status() != http.StatusTooManyRequests || calls.Load() != 1 {
		t.Errorf("NoRetry: status %d after %d calls", ex.Status(), calls.Load())
	}
}

func TestNoResponseIsAnExchangeNotAHang(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	c, _ := client.New(srv.URL, v1(t), client.Options{Timeout: 50 * time.Millisecond})
	ex := c.As("@a:b", "t").GetStatus(context.Background(), "@a:b")
	if ex.Response != nil || ex.Err == nil {
		t.Fatalf("got response %v, err %v", ex.Response, ex.Err)
	}
	if !strings.Contains(ex.String(), "<-- no response after") {
		t.Errorf("exchange does not say no response came:\n%s", ex)
	}
}

func TestCutShortBodyIsAnError(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write([]byte(`{"presence":`))
	})
	c, _ := client.New(srv.URL, v1(t), client.Options{})
	ex := c.As("@a:b", "t").GetStatus(context.Background(), "@a:b")
	if ex.Err == nil || ex.Status() != http.StatusOK {
		t.Errorf("status %d, err %v: want 200 with a read error", ex.Status(), ex.Err)
	}
}

func TestNewRejectsARelativeTarget(t *testing.T) {
	if _, err := client.New("localhost:8008", v1(t), client.Options{}); err == nil {
		t.Error("accepted a target without a scheme")
	}
}

func v3(t *testing.T) client.API {
	t.Helper()
	api, err := client.ForVersion("v3")
	if err != nil {
		t.Fatal(err)
	}
	return api
}

func TestSyncSendsItsParametersAndIsValidatedAgainstTheSyncDocument(t *testing.T) {
	var got *http.Request
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Write([]byte(`{"next_batch": 5, "presence": {"events": [{"type": "m.presence", "content": {"presence": "away"}}]}}`))
	})
	var violated *client.Exchange
	c, _ := client.New(srv.URL, v3(t), client.Options{OnSchemaViolation: func(ex *client.Exchange) { violated = ex }})
	ex := c.As("@a:b", "t").Sync(context.Background(), client.SyncParams{Since: "s1", Timeout: 1500 * time.Millisecond, Filter: `{"presence":{}}`, SetPresence: "offline"})
	q := got.URL.Query()
	if got.URL.Path != "/_matrix/client/v3/sync" || q.Get("since") != "s1" || q.Get("timeout") != "1500" || q.Get("filter") != `{"presence":{}}` || q.Get("set_presence") != "offline" {
		t.Errorf("request %s", got.URL)
	}
	if violated != ex || ex.SchemaErr == nil {
		t.Fatalf("no violation reported for %s", ex)
	}
	for _, want := range []string{"/next_batch", "/presence/events/0/sender", "/presence/events/0/content/presence"} {
		if !strings.Contains(ex.SchemaErr.Error(), want) {
			t.Errorf("%v lacks %q", ex.SchemaErr, want)
		}
	}
}

func TestSyncLeavesOutWhatIsNotSet(t *testing.T) {
	var got *http.Request
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { got = r; w.Write([]byte(`{"next_batch":"x"}`)) })
	c, _ := client.New(srv.URL, v3(t), client.Options{})
	ex := c.As("@a:b", "t").Sync(context.Background(), client.SyncParams{})
	if got.URL.RawQuery != "" {
		t.Errorf("an initial sync with nothing set sends %q", got.URL.RawQuery)
	}
	if resp, err := client.DecodeSync(ex); err != nil || resp.NextBatch != "x" {
		t.Errorf("decoded %+v, %v", resp, err)
	}
}

func TestFilterCallsNameTheUserAndTheFilter(t *testing.T) {
	var paths []string
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.EscapedPath())
		w.Write([]byte(`{"filter_id":"f/1"}`))
	})
	c, _ := client.New(srv.URL, v3(t), client.Options{})
	s := c.As("@a:b", "t")
	id, err := client.DecodeFilterID(s.UploadFilter(context.Background(), "@a:b", client.Filter{Presence: &client.EventFilter{Senders: []string{"@c:d"}}}))
	if err != nil || id != "f/1" {
		t.Fatalf("filter ID %q, %v", id, err)
	}
	s.GetFilter(context.Background(), "@a:b", id)
	want := []string{"POST /_matrix/client/v3/user/@a:b/filter", "GET /_matrix/client/v3/user/@a:b/filter/f%2F1"}
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Errorf("paths %q, want %q", paths, want)
	}
}
