package client

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mxpresence/mxpresence/schemas"
)

// UseOfficial returns the API with responses validated against the official
// documents of a spec checkout (mxpresence test --spec) instead of the
// embedded ones, wherever they describe the operation; an operation they do
// not describe is still validated against the embedded document, and the
// exchange names which. Instead, not as well: a --spec verdict then rests on
// the spec's own files alone, and the embedded documents, held to those
// files by go test, add only what is marked as mxpresence's own rule.
func (a API) UseOfficial(o *schemas.Official) (API, error) {
	if !slices.Contains(o.BasePaths(), a.Prefix) {
		return API{}, fmt.Errorf("the documents in %s are for %s, not %s (the %s API); pick the spec checkout of the version under test",
			o.Dir, strings.Join(o.BasePaths(), ", "), a.Prefix, a.Name)
	}
	a.Official = o
	return a, nil
}

// Schemas names the documents responses are validated against, for reports.
func (a API) Schemas() string {
	if a.Official != nil {
		return fmt.Sprintf("the spec's own documents in %s (--spec), the embedded %s documents only for operations they do not describe", a.Official.Dir, a.Name)
	}
	switch a.Name {
	case "v1":
		return "the embedded v1 documents (schemas/spec/v1): the spec's own presence.yaml (matrix-doc, 2015), byte for byte, and for /events and /initialSync a document written by mxpresence from the spec's facts (no official file of them is at hand to hold it to)"
	case "r0", "v3":
		held := map[string]string{"r0": "r0.6.1", "v3": "v1.19"}[a.Name]
		return fmt.Sprintf("the embedded %s documents (schemas/spec/%s), written by mxpresence from the spec's facts and held by go test to the official %s files; --spec DIR validates against a checkout's own", a.Name, a.Name, held)
	}
	return "the embedded " + a.Name + " documents"
}

// responseValidator is an operation of an embedded or an official document.
type responseValidator interface {
	ValidateResponse(status int, body []byte) error
}

// validatorFor picks what a response to op is validated against, and names
// the document.
func (a API) validatorFor(op Operation) (responseValidator, string) {
	embedded, doc := a.operationIn(op)
	if embedded == nil {
		return nil, ""
	}
	if a.Official != nil {
		if o := a.Official.Match(op.Method, op.Path); o != nil {
			return o, o.File
		}
		return embedded, doc + " (embedded: the --spec documents do not describe " + op.String() + ")"
	}
	return embedded, doc
}
