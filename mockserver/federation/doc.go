// Package federation is the mock homeserver's side of the Matrix
// Server-Server API, as far as presence needs it: a signing key and the key
// server, X-Matrix authentication of every inbound request against keys
// fetched from its origin (and cached), PUT /send for m.presence EDUs, the
// joins and leaves that let a remote user into a local room (room version
// 10 only), and an outbound sender that batches the local users' presence
// changes into signed transactions to every server that shares a room with
// them.
//
// The package knows nothing of accounts or /sync: it reaches the
// homeserver through Home, which the mock implements. All protocol
// cryptography (canonical JSON, ed25519, X-Matrix, event hashes, signatures
// and IDs) is maunium.net/go/mautrix's; docs/federation-library.md says why
// that library. Event hashing (mautrix federation/pdu) needs encoding/json/v2,
// so the joins are built only with GOEXPERIMENT=jsonv2 (or Go 1.27); without
// it they answer 404 M_UNRECOGNIZED saying so, and the rest works.
package federation
