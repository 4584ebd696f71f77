package suite

import (
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2"
)

// Level is how strongly a requirement binds, in RFC 2119 words.
type Level string

const (
	// Must: the seed or the Matrix spec requires it. A failure fails the run.
	Must Level = "MUST"
	// Should: what careful homeservers do where the spec leaves it open. A
	// failure is a warning, unless the run is strict.
	Should Level = "SHOULD"
)

// Endpoint groups requirements in the catalogue and the summary.
type Endpoint string

const (
	EndpointPutStatus Endpoint = "PUT /presence/{userId}/status"
	EndpointGetStatus Endpoint = "GET /presence/{userId}/status"
	EndpointPostList  Endpoint = "POST /presence/list/{userId}"
	EndpointGetList   Endpoint = "GET /presence/list/{userId}"
	EndpointGeneral   Endpoint = "every endpoint"
	// Where clients receive presence: /sync and its filters (r0, v3), the
	// event stream (v1).
	EndpointSync   Endpoint = "GET /sync"
	EndpointFilter Endpoint = "filters /user/{userId}/filter"
	EndpointEvents Endpoint = "GET /events, GET /initialSync"
	// Presence between servers: the suite plays a remote homeserver.
	EndpointFederation Endpoint = "federation (remote server)"
	// Presence over time (the idle and offline timers, last_active_ago,
	// currently_active) and across one user's devices.
	EndpointTime    Endpoint = "presence over time"
	EndpointDevices Endpoint = "presence across devices"
)

// Endpoints lists the endpoints in the order reports show them.
var Endpoints = []Endpoint{EndpointPutStatus, EndpointGetStatus, EndpointPostList, EndpointGetList,
	EndpointSync, EndpointFilter, EndpointEvents, EndpointTime, EndpointDevices, EndpointGeneral, EndpointFederation}

// Requirement is one checkable statement about a homeserver: one spec of
// the suite checks exactly one requirement.
type Requirement struct {
	ID       string // stable, e.g. PRES-STATUS-PUT-03; never reused
	Level    Level
	Endpoint Endpoint
	// Text states the requirement in RFC 2119 words.
	Text string
	// Basis is the spec text, or the reason, behind it.
	Basis string
	// Slow marks requirements that must wait for time to pass.
	Slow bool
	// Watches marks requirements that watch, over the whole settle window,
	// for something that must not happen. They run ahead, all at once.
	Watches bool
	// Waits marks requirements that spend most of their time waiting for
	// time to pass (a sleep, a long-poll left waiting); they run ahead too.
	Waits bool
	// Versions lists the API versions the requirement holds for; nil means
	// all of them.
	Versions []string
	// Federation marks requirements about presence between servers: they
	// run only when the suite plays a remote server (--federation).
	Federation bool
	// Timers marks requirements about the server's idle and offline
	// timers: they take minutes on a real server, so they run only when
	// the run asks (Config.Timers, --timers), with its thresholds.
	Timers bool
	// Feature names the unstable feature (in /versions unstable_features)
	// a requirement is about: it runs only against a server that
	// advertises it, and is reported not run elsewhere.
	Feature string
}

// Version sets for requirements that hold for some versions only.
var (
	// v1Only: presence lists, removed in r0.5.0.
	v1Only = []string{"v1"}
	// sinceR0: rules r0 introduced and v3 kept.
	sinceR0 = []string{"r0", "v3"}
)

// AppliesTo reports whether the requirement holds for an API version.
func (r Requirement) AppliesTo(version string) bool {
	return r.Versions == nil || slices.Contains(r.Versions, version)
}

// VersionsText names the versions the requirement holds for.
func (r Requirement) VersionsText() string {
	if r.Versions == nil {
		return "all"
	}
	return strings.Join(r.Versions, ", ")
}

// labels are ginkgo labels: endpoint (status, list, sync, events,
// general), method, level and slow, so `--label-filter 'list && MUST &&
// !slow'` works.
func (r Requirement) labels() ginkgo.Labels {
	labels := ginkgo.Labels{string(r.Level)}
	switch r.Endpoint {
	case EndpointPutStatus, EndpointGetStatus:
		labels = append(labels, "status")
	case EndpointPostList, EndpointGetList:
		labels = append(labels, "list")
	case EndpointSync, EndpointFilter:
		labels = append(labels, "sync")
	case EndpointEvents:
		labels = append(labels, "events")
	case EndpointFederation:
		labels = append(labels, "federation")
	case EndpointTime:
		labels = append(labels, "time")
	case EndpointDevices:
		labels = append(labels, "devices")
	default:
		labels = append(labels, "general")
	}
	if method, _, ok := strings.Cut(string(r.Endpoint), " "); ok && method == strings.ToUpper(method) {
		labels = append(labels, method)
	}
	if r.Slow {
		labels = append(labels, "slow")
	}
	if r.Timers {
		labels = append(labels, "timers")
	}
	return labels
}

func (r Requirement) String() string { return fmt.Sprintf("%s [%s] %s", r.ID, r.Level, r.Text) }
