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
// Every piece between separators is checked, whichever separator ("&" or
// the ";" older servers took) comes before it: the log must not hand out a
// token because a client chose a separator this server does not split on.
func redactedPath(u *url.URL) string {
	p := u.EscapedPath()
	if u.RawQuery == "" {
		return p
	}
	return p + "?" + redactQuery(u.RawQuery)
}

// redactQuery replaces the value of every access_token pair in a raw
// query, its key matched after unescaping (so "access%5Ftoken" and an
// escaped "=" count too), and keeps the rest byte for byte.
func redactQuery(raw string) string {
	var b strings.Builder
	for raw != "" {
		end := strings.IndexAny(raw, "&;")
		piece, sep := raw, ""
		if end >= 0 {
			piece, sep, raw = raw[:end], raw[end:end+1], raw[end+1:]
		} else {
			raw = ""
		}
		b.WriteString(redactPair(piece))
		b.WriteString(sep)
	}
	return b.String()
}

func redactPair(pair string) string {
	// Decoded leniently, so that a bad escape elsewhere in the pair cannot
	// keep the key from being recognised; an escaped "=" puts the value
	// inside what looks like the key.
	k, v, _ := strings.Cut(lenientUnescape(pair), "=")
	if strings.TrimSpace(k) != "access_token" || v == "" {
		return pair
	}
	rawKey, _, found := strings.Cut(pair, "=")
	if !found || lenientUnescape(rawKey) != k {
		rawKey = "access_token"
	}
	return rawKey + "=REDACTED"
}

// lenientUnescape decodes "+" and every well-formed %XX and keeps anything
// else as it is.
func lenientUnescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
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
