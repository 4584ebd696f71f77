// Package client is a typed HTTP client for the Matrix presence API, and
// for the calls around it a test needs (registration, rooms, /sync,
// filters, the v1 event stream), that records every exchange, validates
// every response against the spec and can show any exchange exactly as it
// went over the wire.
package client

import (
	"fmt"

	"github.com/mxpresence/mxpresence/schemas"
)

// TokenPlacement says where a request carries its access token.
type TokenPlacement int

const (
	// TokenDefault, in a Request, means wherever the API puts it.
	TokenDefault  TokenPlacement = iota
	TokenInQuery                 // ?access_token=, as v1 documents
	TokenInHeader                // Authorization: Bearer, as r0 and v3 prefer
)

func (p TokenPlacement) String() string {
	switch p {
	case TokenInHeader:
		return "Authorization header"
	case TokenInQuery:
		return "access_token query parameter"
	}
	return "default placement"
}

// Accounts is how a version registers users and logs them in.
type Accounts int

const (
	// PasswordFlow: v1's POST /register and /login with
	// {"type": "m.login.password", "user", "password"}.
	PasswordFlow Accounts = iota
	// InteractiveAuth: r0 and v3's user-interactive POST /register, passing
	// the m.login.dummy stage, and /login with an m.id.user identifier.
	InteractiveAuth
)

// Visibility is how one user comes to see another's presence.
type Visibility int

const (
	// ByPresenceList: v1 users see the users on their presence list.
	ByPresenceList Visibility = iota
	// BySharedRoom: r0 and v3 users see the users they share a room with.
	BySharedRoom
)

// API is everything that differs between versions of the presence API,
// in one value: no prefix, token placement or registration flow is spelled
// out anywhere else.
type API struct {
	Name     string            // v1, r0 or v3
	Prefix   string            // e.g. /_matrix/client/api/v1
	TokenIn  TokenPlacement    // where requests carry the token
	Document *schemas.Document // the presence document
	// Documents are every document the version embeds, the presence one
	// first: /sync, filters, the event stream... Responses are validated
	// against whichever documents their operation.
	Documents  []*schemas.Document
	Accounts   Accounts
	Visibility Visibility
	// Official, when set, are the spec's own documents (see UseOfficial).
	Official *schemas.Official
}

// Versions are the API versions the suite can test, oldest first.
var Versions = []string{"v1", "r0", "v3"}

// ForVersion returns the API of a version: v1 (the seed), r0 (as of
// r0.6.1) or v3 (as of Matrix v1.1).
func ForVersion(name string) (API, error) {
	doc, err := schemas.LoadVersion(name)
	if err != nil {
		return API{}, err
	}
	api := API{Name: name, Prefix: doc.BasePath, Document: doc, Documents: []*schemas.Document{doc},
		TokenIn: TokenInHeader, Accounts: InteractiveAuth, Visibility: BySharedRoom}
	names, err := schemas.VersionDocuments(name)
	if err != nil {
		return API{}, err
	}
	for _, other := range names {
		if other == "presence" {
			continue
		}
		d, err := schemas.LoadVersionDocument(name, other)
		if err != nil {
			return API{}, err
		}
		api.Documents = append(api.Documents, d)
	}
	if name == "v1" {
		api.TokenIn, api.Accounts, api.Visibility = TokenInQuery, PasswordFlow, ByPresenceList
	}
	return api, nil
}

// V1 is the API of the seed document.
func V1() (API, error) { return ForVersion("v1") }

// Has reports whether the version documents an operation.
func (a API) Has(op Operation) bool { return a.operation(op) != nil }

// operation finds an operation in whichever of the version's documents
// describes it.
func (a API) operation(op Operation) *schemas.Operation {
	o, _ := a.operationIn(op)
	return o
}

// operationIn is operation that also names the document.
func (a API) operationIn(op Operation) (*schemas.Operation, string) {
	for _, d := range a.Documents {
		if o := d.Operation(op.Method, op.Path); o != nil {
			return o, d.Name
		}
	}
	if len(a.Documents) == 0 && a.Document != nil {
		if o := a.Document.Operation(op.Method, op.Path); o != nil {
			return o, a.Document.Name
		}
	}
	return nil, ""
}

func (a API) String() string { return fmt.Sprintf("%s (%s)", a.Name, a.Prefix) }

// Operation names one operation of the API by method and path template.
type Operation struct {
	Method string
	Path   string // template, relative to the API prefix
}

func (o Operation) String() string { return o.Method + " " + o.Path }

// The operations of the presence API.
var (
	PutStatus = Operation{"PUT", "/presence/{userId}/status"}
	GetStatus = Operation{"GET", "/presence/{userId}/status"}
	PostList  = Operation{"POST", "/presence/list/{userId}"}
	GetList   = Operation{"GET", "/presence/list/{userId}"}
)

// The operations through which clients receive presence: /sync and its
// filters (r0, v3), the event stream and initial sync (v1).
var (
	Sync        = Operation{"GET", "/sync"}
	PostFilter  = Operation{"POST", "/user/{userId}/filter"}
	GetFilter   = Operation{"GET", "/user/{userId}/filter/{filterId}"}
	Events      = Operation{"GET", "/events"}
	InitialSync = Operation{"GET", "/initialSync"}
	LeaveRoom   = Operation{"POST", "/rooms/{roomId}/leave"}
)
