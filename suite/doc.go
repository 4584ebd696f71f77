// Package suite is the conformance suite for the Matrix presence API and
// its delivery (/sync and filters in r0 and v3, the event stream in v1),
// run against any homeserver over HTTP.
//
// Each requirement (Requirement; Catalogue lists them, suite/CATALOGUE.md
// prints them) has a stable ID, an RFC 2119 level, the API versions it
// holds for, a text and the spec passage behind it, and is one ginkgo
// spec. Run runs them once per process: it first provisions a user
// (Preflight), so a misconfigured target stops with one error, then hands
// the specs to ginkgo, filtered by focus, skip, labels and shard. Users
// come from a UserSource: open registration, shared-secret registration or
// a pool of pre-made accounts. Requirements that watch for something that
// must not happen wait out the whole settle window, so their bodies start
// together ahead of their specs, which replay the outcome. A SHOULD, or a
// requirement the skip file expects to fail, fails softly: it is reported
// and fails nothing unless the run is strict.
//
// Every response is validated against the API version's schemas (package
// schemas, through the client); a breach fails the requirement that met
// it, after that requirement's own checks. Violations (schema breaches and
// failed exchange matchers) are reduced to signatures that name no user,
// token or time, and counted once each as the run's findings, which stay
// the same from run to run where the failing requirements may not.
//
// The subpackages have one job each: client (a typed HTTP client that
// records and can show every exchange, secrets redacted), match (the
// matchers that judge exchanges), report (the result and its text, JUnit,
// JSON and Markdown forms) and safetext (escaping what the server sent
// before it is printed).
package suite
