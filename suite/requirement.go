package suite

import (
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2"

	"github.com/mxpresence/mxpresence/suite/client"
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
)

// Endpoints lists the endpoints in the order reports show them.
var Endpoints = []Endpoint{EndpointPutStatus, EndpointGetStatus, EndpointPostList, EndpointGetList, EndpointGeneral}

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
}

// labels are ginkgo labels: endpoint (status, list, general), method,
// level and slow, so `--label-filter 'list && MUST && !slow'` works.
func (r Requirement) labels() ginkgo.Labels {
	labels := ginkgo.Labels{string(r.Level)}
	switch r.Endpoint {
	case EndpointPutStatus, EndpointGetStatus:
		labels = append(labels, "status")
	case EndpointPostList, EndpointGetList:
		labels = append(labels, "list")
	default:
		labels = append(labels, "general")
	}
	if method, _, ok := strings.Cut(string(r.Endpoint), " "); ok && method == strings.ToUpper(method) {
		labels = append(labels, method)
	}
	if r.Slow {
		labels = append(labels, "slow")
	}
	return labels
}

func (r Requirement) String() string { return fmt.Sprintf("%s [%s] %s", r.ID, r.Level, r.Text) }

// operationOf maps an endpoint to its API operation.
func operationOf(e Endpoint) (client.Operation, bool) {
	for _, op := range []client.Operation{client.PutStatus, client.GetStatus, client.PostList, client.GetList} {
		if op.String() == string(e) {
			return op, true
		}
	}
	return client.Operation{}, false
}
