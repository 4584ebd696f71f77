// Package mockserver is the reference mock homeserver for the Matrix
// Client-Server presence API: accounts (register, login, access tokens) and
// the presence operations, held in memory and served by an http.Handler.
// It serves the API as v1, r0 and v3 at once, each under its own prefix
// with its own rules, over one store; for r0 and v3 it adds the least of
// the room API that their visibility rule needs, and the calls a client
// makes at start (capabilities, whoami, push rules, profile, joined rooms,
// logout, username availability). /_matrix/client/versions, CORS
// preflights on any path and shared-secret admin registration round it off.
//
// It is strict where the spec is explicit and, where the spec is silent,
// makes the choice a careful homeserver makes; docs/mock-server.md and
// docs/modern-clients.md list every such choice. Presence reaches clients
// as m.presence events: through /sync and filters (uploaded or inline) in
// r0 and v3, through the event stream (/initialSync, /events) in v1, over
// one stream of positions whose changes wake every waiting long-poll at
// once. Each version's facts (base path, presence states, which operations
// exist) come from its embedded document through package schemas, so the
// spec lives in one place.
package mockserver
