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
// (HTTP/2 streams, recorders) is left as it was.
func (s *Server) limitBodyTime(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(s.bodyTimeout)); err != nil {
		return
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
}

// deadlineBody lifts the connection's read deadline at the end of the body.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	once sync.Once
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(func() { b.rc.SetReadDeadline(time.Time{}) })
	}
	return n, err
}
