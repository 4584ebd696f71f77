// Package schemas is the Matrix presence API as code: it loads a Swagger 2.0
// document, resolves every $ref, compiles each operation's JSON schemas once
// and validates request bodies, response bodies and the document's own
// examples against them.
//
// For spec authors it also checks the examples of today's spec documents,
// OpenAPI 3.1 with JSON Schema 2020-12 (CheckFileExamples; the files named
// openapi31*.go), beside Swagger 2.0 in draft 4.
//
// The mock server and the conformance suite both take their facts from here
// (paths, presence states, which status codes an operation documents and what
// their bodies look like), so the spec lives in one place.
package schemas
