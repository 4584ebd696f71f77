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
	TokenInQuery  TokenPlacement = iota // ?access_token=, as v1 documents
	TokenInHeader                       // Authorization: Bearer
)

func (p TokenPlacement) String() string {
	if p == TokenInHeader {
		return "Authorization header"
	}
	return "access_token query parameter"
}

// API is everything that differs between versions of the presence API,
// in one value: no prefix or token placement is spelled out anywhere else.
type API struct {
	Name     string            // v1
	Prefix   string            // /_matrix/client/api/v1
	TokenIn  TokenPlacement    // where requests carry the token
	Document *schemas.Document // the spec that responses are validated against
}

// V1 is the API of the seed document.
func V1() (API, error) {
	doc, err := schemas.LoadSeed()
	if err != nil {
		return API{}, fmt.Errorf("load the v1 spec: %w", err)
	}
	return API{Name: "v1", Prefix: doc.BasePath, TokenIn: TokenInQuery, Document: doc}, nil
}

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
