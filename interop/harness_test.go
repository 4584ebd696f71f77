package interop

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
)

// startMock serves a fresh mock, with the deviations given switched on, on
// a loopback port for the length of the test, and returns its base URL and
// the log of every request it served.
// When the test fails, or runs with -v, the log is printed: it is the list
// of calls the client library made, which is what these tests are for.
func startMock(t *testing.T, deviations ...mockserver.Deviation) (string, *callLog) {
	t.Helper()
	calls := &callLog{}
	mock := mockserver.New(mockserver.Options{Logger: slog.New(calls), Deviations: deviations})
	srv := httptest.NewServer(mock) // httptest listens on 127.0.0.1
	t.Cleanup(func() {
		// The mock answers its parked long-polls itself: the http.Server
		// no longer knows their connections.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := mock.Shutdown(ctx); err != nil {
			t.Errorf("mock shutdown: %v", err)
		}
		srv.CloseClientConnections()
		srv.Close()
		t.Logf("requests the mock served:\n%s", calls)
	})
	return srv.URL, calls
}

// A callLog is an slog.Handler that keeps the mock's request records.
type callLog struct {
	mu    sync.Mutex
	calls []call
}

type call struct {
	method, path string
	status       int64
}

func (l *callLog) Enabled(context.Context, slog.Level) bool { return true }

func (l *callLog) Handle(_ context.Context, r slog.Record) error {
	var c call
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "method":
			c.method = a.Value.String()
		case "path":
			c.path = a.Value.String()
		case "status":
			c.status = a.Value.Int64()
		}
		return true
	})
	if c.method == "" {
		return nil // not a request record
	}
	l.mu.Lock()
	l.calls = append(l.calls, c)
	l.mu.Unlock()
	return nil
}

func (l *callLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *callLog) WithGroup(string) slog.Handler      { return l }

// failed lists the requests the mock answered with an error status.
func (l *callLog) failed() []call {
	l.mu.Lock()
	defer l.mu.Unlock()
	var bad []call
	for _, c := range l.calls {
		if c.status >= 400 {
			bad = append(bad, c)
		}
	}
	return bad
}

func (l *callLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, c := range l.calls {
		fmt.Fprintf(&b, "  %d %s %s\n", c.status, c.method, c.path)
	}
	return b.String()
}

func (c call) String() string { return fmt.Sprintf("%d %s %s", c.status, c.method, c.path) }
