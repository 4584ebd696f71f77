// Package mockserver is the reference mock homeserver for the Matrix
// Client-Server presence API: accounts (register, login, access tokens) and
// the four presence operations, held in memory and served by an
// http.Handler.
//
// It is strict where the spec is explicit and, where the spec is silent,
// makes the choice a careful homeserver makes; the README lists every such
// choice. Its facts (base path, presence states) come from the seed
// document through package schemas, so the spec lives in one place.
package mockserver
