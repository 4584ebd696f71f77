// Package client is a typed HTTP client for the Matrix presence API that
// records every exchange, validates every response against the spec and can
// show any exchange exactly as it went over the wire.
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
	Name       string            // v1, r0 or v3
	Prefix     string            // e.g. /_matrix/client/api/v1
	TokenIn    TokenPlacement    // where requests carry the token
	Document   *schemas.Document // the spec that responses are validated against
	Accounts   Accounts
	Visibility Visibility
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
	api := API{Name: name, Prefix: doc.BasePath, Document: doc,
		TokenIn: TokenInHeader, Accounts: InteractiveAuth, Visibility: BySharedRoom}
	if name == "v1" {
		api.TokenIn, api.Accounts, api.Visibility = TokenInQuery, PasswordFlow, ByPresenceList
	}
	return api, nil
}

// V1 is the API of the seed document.
func V1() (API, error) { return ForVersion("v1") }

// Has reports whether the version has an operation.
func (a API) Has(op Operation) bool { return a.Document.Operation(op.Method, op.Path) != nil }

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
