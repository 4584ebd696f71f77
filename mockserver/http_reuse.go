package mockserver

import (
	"errors"
	"net"
	"sync"
	"time"
)

// A parked long-poll takes its connection from net/http (sync_park.go),
// and net/http has no way to take a connection back. It serves whatever
// its listener accepts, though, so a listener from ReuseConnections
// accepts, besides new connections, the connections of answered long-polls
// handed back to it: the client keeps its connection for its next poll,
// and neither end pays for a new TCP connection and the close of the old
// one, which is most of what answering a thousand long-polls costs the
// server otherwise.
//
// A handed-back connection is served as a new one: it has
// http.Server.ReadHeaderTimeout, not IdleTimeout, to send its next
// request; a client that waits longer finds it closed and reconnects, as
// it does after any idle timeout.

// ReuseConnections returns a listener that accepts what ln accepts and the
// connections of this server's answered long-polls that came through it.
// Serve the server's http.Server from it; closing it closes ln, and a
// long-poll answered after that closes its connection.
func (s *Server) ReuseConnections(ln net.Listener) net.Listener {
	return &reusingListener{Listener: ln, back: make(chan net.Conn, handBackQueue), closed: make(chan struct{})}
}

// handBackQueue is how many answered connections may wait for the
// listener's next Accept; one beyond it is closed.
const handBackQueue = 1024

type reusingListener struct {
	net.Listener
	back   chan net.Conn // answered long-polls' connections
	closed chan struct{}
	// mu orders handBack against Close, so that no connection is queued
	// after Close has emptied the queue.
	mu       sync.Mutex
	isClosed bool

	acceptOnce sync.Once
	accepted   chan acceptResult // from the goroutine that calls ln.Accept
}

type acceptResult struct {
	conn net.Conn
	err  error
}

// Accept returns the next new or handed-back connection. New connections
// come from one goroutine that waits in ln.Accept, so that a handed-back
// connection need not wait for a new one.
func (l *reusingListener) Accept() (net.Conn, error) {
	l.acceptOnce.Do(func() {
		l.accepted = make(chan acceptResult)
		go l.acceptNew()
	})
	select {
	case c := <-l.back:
		return c, nil
	case r := <-l.accepted:
		return r.conn, r.err
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *reusingListener) acceptNew() {
	for {
		c, err := l.Listener.Accept()
		var r acceptResult
		if err != nil {
			r.err = err
		} else {
			r.conn = &reusableConn{Conn: c, from: l}
		}
		select {
		case l.accepted <- r:
		case <-l.closed:
			if c != nil {
				c.Close()
			}
			return
		}
		// Serve decides whether an error ends it; a closed listener
		// ends this goroutine too.
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// Close closes ln and every handed-back connection not yet served.
func (l *reusingListener) Close() error {
	l.mu.Lock()
	if l.isClosed {
		l.mu.Unlock()
		return net.ErrClosed
	}
	l.isClosed = true
	close(l.closed)
	l.mu.Unlock()
	err := l.Listener.Close()
	for {
		select {
		case c := <-l.back:
			c.Close()
		default:
			return err
		}
	}
}

// handBack queues an answered connection for Accept; false once the
// listener is closed, or when handBackQueue connections already wait (the
// accept loop has fallen that far behind), and the caller closes the
// connection: its client reconnects, as it would after any close.
func (l *reusingListener) handBack(c *reusableConn) bool {
	// Deadlines set for the answer would cut the next request short.
	if c.SetDeadline(time.Time{}) != nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.isClosed {
		return false
	}
	select {
	case l.back <- c:
		return true
	default:
		return false
	}
}

// reusableConn marks a connection accepted by a reusingListener, so that
// a parked long-poll knows where to hand it back.
type reusableConn struct {
	net.Conn
	from *reusingListener
}
