package mockserver

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mxpresence/mxpresence/schemas"
)

// An apiVersion holds what differs between the API versions the server
// mounts side by side: where they live and which rules they follow. What a
// version's document states (base path, presence states, which operations
// exist, what GET status reports) is read from the document; what it leaves
// to the spec's prose (how clients register, who sees whose presence) is in
// versionRules. Versions differ by value, not by code path.
type apiVersion struct {
	name            string   // as the spec names it, e.g. "v1"
	prefix          []string // the base path's segments
	presenceStates  []string // what PUT status accepts, in the spec's order
	presenceLists   bool     // the /presence/list endpoints exist
	currentlyActive bool     // GET status reports currently_active
	visibility      visibility
	registration    registration
}

// visibility is who may read a user's status, besides the user.
type visibility int

const (
	// visibleByList: the users on the viewer's presence list (v1).
	visibleByList visibility = iota
	// visibleBySharedRoom: the users the viewer shares a joined room with
	// (r0 and v3, where presence lists are gone).
	visibleBySharedRoom
)

// registration is how POST /register works.
type registration int

const (
	// registerInOneStep: m.login.password with user and password (v1).
	registerInOneStep registration = iota
	// registerInteractive: user-interactive auth, m.login.dummy (r0, v3).
	registerInteractive
)

// versionRules are the rules each version's document does not state: they
// come from the spec's prose for that version.
var versionRules = map[string]struct {
	visibility   visibility
	registration registration
}{
	"v1": {visibleByList, registerInOneStep},
	"r0": {visibleBySharedRoom, registerInteractive},
	"v3": {visibleBySharedRoom, registerInteractive},
}

// hasRooms reports whether the version mounts the minimal room API: it
// exists for visibility, so only where rooms decide visibility.
func (v *apiVersion) hasRooms() bool { return v.visibility == visibleBySharedRoom }

// initialPresence is what an account shows before its first PUT, in every
// version: a user nobody has heard from is offline.
const initialPresence = "offline"

// apiVersions reads every version's facts from its embedded document once
// per process, oldest first: the documents are embedded and immutable, and
// loading them costs milliseconds that tests creating hundreds of servers
// should not pay each time.
var apiVersions = sync.OnceValues(func() ([]*apiVersion, error) {
	var vs []*apiVersion
	for _, name := range schemas.Versions {
		v, err := versionFacts(name)
		if err != nil {
			return nil, fmt.Errorf("API version %s: %w", name, err)
		}
		vs = append(vs, v)
	}
	return vs, nil
})

// v1Facts returns the v1 facts, read from the seed.
func v1Facts() (*apiVersion, error) {
	vs, err := apiVersions()
	if err != nil {
		return nil, err
	}
	return vs[0], nil
}

func versionFacts(name string) (*apiVersion, error) {
	rules, ok := versionRules[name]
	if !ok {
		return nil, fmt.Errorf("the mock has no rules for it")
	}
	doc, err := schemas.LoadVersion(name)
	if err != nil {
		return nil, err
	}
	put := doc.Operation("PUT", "/presence/{userId}/status")
	if put == nil || put.Body == nil || put.Body.Source == nil {
		return nil, fmt.Errorf("the document has no body schema for PUT /presence/{userId}/status")
	}
	prop, ok := put.Body.Source.Properties["presence"]
	if !ok || len(prop.Enum) == 0 {
		return nil, fmt.Errorf("the document's PUT /presence/{userId}/status body gives no presence enum")
	}
	if strings.Trim(doc.BasePath, "/") == "" {
		return nil, fmt.Errorf("the document gives no basePath")
	}
	get := doc.Operation("GET", "/presence/{userId}/status")
	if get == nil || get.Responses[200] == nil || get.Responses[200].Schema == nil {
		return nil, fmt.Errorf("the document has no 200 schema for GET /presence/{userId}/status")
	}
	_, currentlyActive := get.Responses[200].Schema.Source.Properties["currently_active"]
	v := &apiVersion{
		name:   name,
		prefix: strings.Split(strings.Trim(doc.BasePath, "/"), "/"),
		// The list endpoints exist where the document has them; r0.5.0
		// removed them.
		presenceLists:   doc.Operation("GET", "/presence/list/{userId}") != nil && doc.Operation("POST", "/presence/list/{userId}") != nil,
		currentlyActive: currentlyActive,
		visibility:      rules.visibility,
		registration:    rules.registration,
	}
	if v.visibility == visibleByList && !v.presenceLists {
		return nil, fmt.Errorf("visibility by presence list, but the document has no presence lists")
	}
	for _, e := range prop.Enum {
		state, ok := e.(string)
		if !ok || state == "" {
			return nil, fmt.Errorf("the presence enum holds %v, which is not a state name", e)
		}
		v.presenceStates = append(v.presenceStates, state)
	}
	if !slices.Contains(v.presenceStates, initialPresence) {
		return nil, fmt.Errorf("the presence enum %v lacks %q, the state of a new account", v.presenceStates, initialPresence)
	}
	if !slices.Contains(v.presenceStates, foreignPresence) {
		return nil, fmt.Errorf("the presence enum %v lacks %q, which states other versions have are reported as", v.presenceStates, foreignPresence)
	}
	return v, nil
}

// foreignPresence is how a version reports a state that only another
// version has: free_for_chat, set through v1 and read through r0, is a
// form of online.
const foreignPresence = "online"

// reportedState is the state as this version reports it.
func (v *apiVersion) reportedState(state string) string {
	if _, ok := v.presenceState(state); ok {
		return state
	}
	return foreignPresence
}

// presenceState returns the version's own copy of state, so that stored
// state shares no memory with a request body.
func (v *apiVersion) presenceState(state string) (string, bool) {
	for _, s := range v.presenceStates {
		if s == state {
			return s, true
		}
	}
	return "", false
}

// APIVersion names one API version the server serves and where.
type APIVersion struct {
	Name     string // as the spec names it: v1, r0, v3
	BasePath string // e.g. /_matrix/client/r0
}

// APIVersions lists the versions the server serves, oldest first.
func (s *Server) APIVersions() []APIVersion {
	var out []APIVersion
	for _, m := range s.mounts {
		if m.api != nil {
			out = append(out, APIVersion{Name: m.api.name, BasePath: "/" + strings.Join(m.api.prefix, "/")})
		}
	}
	return out
}
