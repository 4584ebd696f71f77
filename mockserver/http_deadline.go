package mockserver

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// DefaultBodyReadTimeout is how long a client may take to send a request
// body, from the moment its handler is called, when Options leave it zero.
// A body this server takes is at most maxBodyBytes, which any client sends
// in far less.
const DefaultBodyReadTimeout = 10 * time.Second

// bodyReadTimeout is the deadline for a request body from the options.
func (o Options) bodyReadTimeout() time.Duration {
	if o.BodyReadTimeout > 0 {
		return o.BodyReadTimeout
	}
	return DefaultBodyReadTimeout
}

// limitBodyTime puts a read deadline on the connection for as long as the
// request's body is being sent. /login and /register read a body before
// any token is checked, so without it one client dribbling bodies could
// hold connections, and their handlers, for as long as it likes. The
// deadline goes once the body is read to its end: net/http then reads on
// in the background to see a hang-up, and a deadline there would cancel a
// handler that is still working. Requests without a body (GET, and with
// them every long-poll) get no deadline. A server that cannot set one
// (a recorder) is left as it was.
func (s *Server) limitBodyTime(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	conn := readDeadlinerOf(w)
	if conn == nil || conn.SetReadDeadline(time.Now().Add(s.bodyTimeout)) != nil {
		return
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, conn: conn}
}

// readDeadliner is what http.ResponseController looks for to set a read
// deadline; looked up here without the controller, so that a writer that
// has none (a recorder) costs no allocation.
type readDeadliner interface {
	SetReadDeadline(time.Time) error
}

func readDeadlinerOf(w http.ResponseWriter) readDeadliner {
	for {
		if d, ok := w.(readDeadliner); ok {
			return d
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// deadlineBody lifts the connection's read deadline at the end of the body.
type deadlineBody struct {
	io.ReadCloser
	conn readDeadliner
	once sync.Once
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(func() { b.conn.SetReadDeadline(time.Time{}) })
	}
	return n, err
}
