// Package mockserver is the reference mock homeserver for the Matrix
// Client-Server presence API. A Server is an http.Handler, safe for
// concurrent use, holding everything in memory for as long as it lives;
// Options set its server name, clock, rate limit, access log,
// registration and the deviations below. `mxpresence serve` and the
// bundled target of `mxpresence test` serve it; it imports neither the
// suite nor the command.
//
// It serves the API as v1, r0 and v3 at once, each under its own prefix
// with its own rules, over one store: accounts (registration in one step
// or through user-interactive auth, login, access tokens, logout), the
// presence status operations, v1's presence lists, and for r0 and v3 the
// least of the room API their visibility rule needs (create, join, leave,
// joined rooms) and the calls a client makes at start (capabilities,
// whoami, push rules, profile, username availability).
// /_matrix/client/versions, CORS preflights on any path and shared-secret
// admin registration (/_synapse/admin/v1/register) round it off. Each
// version's facts (base path, presence states, operations) come from its
// embedded document through package schemas.
//
// Presence reaches clients as m.presence events: through /sync and filters
// (uploaded or inline) in r0 and v3, and through the event stream
// (/initialSync, /events) in v1, over one stream of positions. A long-poll
// that has to wait is parked: its connection is taken over (hijacked), it
// keeps no goroutine while it waits, and one watcher wakes every parked
// poll when a change comes, so thousands can wait; Shutdown answers them.
//
// It is strict where the spec is explicit and, where the spec is silent,
// makes the choice a careful homeserver makes; docs/mock-server.md and
// docs/modern-clients.md list every such choice. Every request is checked
// in a fixed order (route, method, token, rate limit, path parameters,
// then the handler's permission, body size and body) and bad input gets a
// Matrix error that changes nothing. Request bodies are bounded in size
// and in the time a client may take to send them (BodyReadTimeout);
// tokens are stored as hashes, and the access log redacts them.
//
// Deviations (Faults and Variations, chosen through Options.Deviations)
// wrap the reference handlers as middleware: a fault is a defect the
// conformance suite must catch, a variation a choice the spec leaves open
// that the suite must pass. docs/self-test.md lists them.
package mockserver
