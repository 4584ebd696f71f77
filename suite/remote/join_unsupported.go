//go:build !(goexperiment.jsonv2 || go1.27)

package remote

import "context"

// CanJoin reports whether this build can join rooms: mautrix's pdu package,
// which signs events and computes their IDs, needs encoding/json/v2, which
// Go 1.26 has only under GOEXPERIMENT=jsonv2. Without it the remote server
// still serves keys and receives transactions, but cannot join a room, so
// the federation requirements cannot run.
const CanJoin = false

// Join cannot join without the pdu package; see CanJoin.
func (s *Server) Join(context.Context, string, string) (string, string, error) {
	return "", "", ErrNoJoin
}

// Leave cannot leave without the pdu package; see CanJoin.
func (s *Server) Leave(context.Context, string, string) error { return ErrNoJoin }
