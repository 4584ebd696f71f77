package mockserver

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// serveLogged serves a request and logs it. It is a separate path so that a
// server without a logger pays nothing for logging.
func (s *Server) serveLogged(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK, start: time.Now(), logger: s.logger, request: r}
	s.dispatch(rec, r)
	if !rec.late {
		logRequest(s.logger, r.Method, redactedPath(r.URL), rec.status, time.Since(rec.start))
	}
}

func logRequest(logger *slog.Logger, method, path string, status int, d time.Duration) {
	logger.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("method", method),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Duration("duration", d))
}

// redactedPath is the request path and query with the access token's value
// replaced, so that logs can be shared without handing out a session.
func redactedPath(u *url.URL) string {
	p := u.EscapedPath()
	if u.RawQuery == "" {
		return p
	}
	pairs := strings.Split(u.RawQuery, "&")
	for i, pair := range pairs {
		k, _, _ := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(k); err == nil && key == "access_token" {
			pairs[i] = k + "=REDACTED"
		}
	}
	return p + "?" + strings.Join(pairs, "&")
}

type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	start       time.Time
	logger      *slog.Logger
	request     *http.Request
	late        bool // a parked long-poll logs the request when it answers
}

func (r *statusRecorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logLater is for a long-poll parked on its hijacked connection: the record
// waits for its answer, so that it shows the status sent and the whole
// wait. The function returned keeps neither the request nor the writer.
func (r *statusRecorder) logLater() func(status int) {
	r.late = true
	logger, start := r.logger, r.start
	method, path := r.request.Method, redactedPath(r.request.URL)
	return func(status int) { logRequest(logger, method, path, status, time.Since(start)) }
}
