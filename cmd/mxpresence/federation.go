package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/remote"
)

// federationConfig reads --federation: with --target, a URL turns the
// PRES-FED requirements on and off (or nothing) leaves them not
// applicable; with the bundled mock they are on unless off, and the mock
// federates on a listener of its own.
func (f *testFlags) federationConfig(cfg *suite.Config) error {
	switch {
	case f.federation == "off":
		cfg.FederationOff = "--federation off"
		return nil
	case f.federation == "" && f.target != "":
		return nil // not applicable, with the usual reason
	case f.federation == "":
		if !remote.CanJoin {
			// The bundled mock cannot check federation in this build; the
			// rest of the run can go on, and the report says why.
			cfg.FederationOff = remote.ErrNoJoin.Error()
		}
		return nil
	case f.target == "":
		return errors.New("--federation URL goes with --target; the bundled mock federates on its own (--federation off skips it)")
	}
	u, err := url.Parse(f.federation)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--federation %q: want the target's federation API as an http or https URL, or off", f.federation)
	}
	cfg.Federation = f.federation
	return nil
}

func describeFederation(fedURL string) string {
	if fedURL == "" {
		return ""
	}
	return ", federating at " + fedURL
}

// startBundledMock serves the mock on a free loopback port and, when
// federate, its federation API on a second one (plain HTTP, as a test
// Dendrite serves it); stop stops both.
func startBundledMock(opts mockserver.Options, federate bool) (clientURL, fedURL string, stop func(), err error) {
	if federate {
		opts.Federation = &mockserver.FederationOptions{}
	}
	mock := mockserver.New(opts)
	lnClient, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, fmt.Errorf("start the mock server: %w", err)
	}
	servers := []*http.Server{{Handler: mock, ReadHeaderTimeout: 10 * time.Second}}
	listeners := []net.Listener{mock.ReuseConnections(lnClient)}
	clientURL = "http://" + lnClient.Addr().String()
	if federate {
		lnFed, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			lnClient.Close()
			return "", "", nil, fmt.Errorf("start the mock server's federation listener: %w", err)
		}
		servers = append(servers, &http.Server{Handler: mock.FederationHandler(), ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, lnFed)
		fedURL = "http://" + lnFed.Addr().String()
	}
	for i, srv := range servers {
		go srv.Serve(listeners[i])
	}
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		mock.Shutdown(ctx)
		for _, srv := range servers {
			srv.Shutdown(ctx)
		}
	}
	return clientURL, fedURL, stop, nil
}
