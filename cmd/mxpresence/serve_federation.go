package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
)

// fedListener is the mock's federation API on a listener of its own, plain
// HTTP as a test homeserver's shared listener is; the peers' own servers
// are HTTPS (the mock does not verify their certificates).
type fedListener struct {
	ln  net.Listener
	srv *http.Server
}

// listenFederation starts serving mock's federation API on addr.
func listenFederation(addr string, mock *mockserver.Server, logger *slog.Logger) (*fedListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           mock.FederationHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go srv.Serve(ln)
	return &fedListener{ln: ln, srv: srv}, nil
}

// URL is where the federation API answers.
func (f *fedListener) URL() string { return "http://" + f.ln.Addr().String() }

// shutdown stops the listener; nil-safe, for a serve without federation.
func (f *fedListener) shutdown(ctx context.Context) error {
	if f == nil {
		return nil
	}
	return f.srv.Shutdown(ctx)
}
