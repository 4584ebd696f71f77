// Package interop drives the mock homeserver with real client libraries.
// Its tests are the whole of it; this package has no code of its own.
package interop
