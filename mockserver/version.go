package mockserver

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mxpresence/mxpresence/schemas"
)

// An apiVersion holds what differs between the API versions the server
// mounts side by side: where they live and which rules they follow. Only v1
// exists so far; later versions add a value, not a code path.
type apiVersion struct {
	name           string   // as the spec names it, e.g. "v1"
	prefix         []string // the base path's segments
	presenceStates []string // what PUT status accepts, in the spec's order
	presenceLists  bool     // the /presence/list endpoints exist
}

// initialPresence is what an account shows before its first PUT, in every
// version: a user nobody has heard from is offline.
const initialPresence = "offline"

// v1Facts reads the v1 facts from the seed once per process: the document
// is embedded and immutable, and loading it costs milliseconds that tests
// creating hundreds of servers should not pay each time.
var v1Facts = sync.OnceValues(func() (*apiVersion, error) {
	doc, err := schemas.LoadSeed()
	if err != nil {
		return nil, err
	}
	op := doc.Operation("PUT", "/presence/{userId}/status")
	if op == nil || op.Body == nil || op.Body.Source == nil {
		return nil, fmt.Errorf("the seed has no body schema for PUT /presence/{userId}/status")
	}
	prop, ok := op.Body.Source.Properties["presence"]
	if !ok || len(prop.Enum) == 0 {
		return nil, fmt.Errorf("the seed's PUT /presence/{userId}/status body gives no presence enum")
	}
	if strings.Trim(doc.BasePath, "/") == "" {
		return nil, fmt.Errorf("the seed gives no basePath")
	}
	v := &apiVersion{
		name:          "v1",
		prefix:        strings.Split(strings.Trim(doc.BasePath, "/"), "/"),
		presenceLists: true,
	}
	for _, e := range prop.Enum {
		state, ok := e.(string)
		if !ok || state == "" {
			return nil, fmt.Errorf("the seed's presence enum holds %v, which is not a state name", e)
		}
		v.presenceStates = append(v.presenceStates, state)
	}
	if !slices.Contains(v.presenceStates, initialPresence) {
		return nil, fmt.Errorf("the seed's presence enum %v lacks %q, the state of a new account", v.presenceStates, initialPresence)
	}
	return v, nil
})

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
