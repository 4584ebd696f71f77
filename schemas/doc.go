// Package schemas holds the Matrix presence API as data and checks JSON
// against it. It has two jobs.
//
// The documents the mock server and the suite work from. The spec tree is
// embedded (Files): spec/v1 is the seed, the 2015 presence API in Swagger
// 2.0, byte for byte, with the files it $refs; spec/r0 (as of r0.6.1) and
// spec/v3 (as of Matrix v1.1) are Swagger 2.0 documents that mxpresence
// wrote itself from the facts of the spec: presence, and beside it sync,
// filter and the calls a client makes at start. They are not the spec's own
// files (those are OpenAPI 3.1 for v3), so a response checked against them
// is checked against mxpresence's reading of the spec. LoadVersion and
// LoadVersionDocument load them; Load and LoadFS load any Swagger 2.0 file.
// Loading resolves every $ref across files (a $ref with sibling keywords
// becomes an allOf, as the spec's authors mean it), compiles each schema
// once as JSON Schema draft 4 (gojsonschema) and indexes the operations by
// method and path template. Operation.ValidateResponse checks a body
// against the schema of its status and returns an *UndocumentedStatusError
// for a status the operation does not document; violations come back as a
// *ValidationError listing each, with its JSON pointer.
//
// The example checker. Document.CheckExamples checks a loaded document's
// examples; CheckFileExamples loads a Swagger 2.0 or an OpenAPI 3.1 file
// with every file its $refs reach and checks each example against the
// schema it illustrates: draft 4 for Swagger, JSON Schema 2020-12
// (santhosh-tekuri/jsonschema) for OpenAPI 3.1, with examples written as
// $refs inlined as the spec's build does.
//
// The mock server and the suite take their facts from here (paths,
// presence states, documented statuses and bodies), so each version's
// facts live in one place; neither imports the other.
package schemas
