package schemas

import "fmt"

// FederationPath is the embedded document of the server-server
// transactions, as far as presence needs them, inside Files.
const FederationPath = "federation/transactions.yaml"

// Federation is what the suite checks a target's transactions against:
// the transaction (the body of PUT /send/{txnId}) and the m.presence EDU.
type Federation struct {
	Document    *Document
	Transaction *Schema
	Presence    *Schema
}

// LoadFederation loads the embedded federation document and compiles its
// transaction and m.presence EDU schemas.
func LoadFederation() (*Federation, error) {
	doc, err := load(Files(), "/"+FederationPath, "schemas/spec/"+FederationPath)
	if err != nil {
		return nil, err
	}
	op := doc.Operation("PUT", "/send/{txnId}")
	if op == nil || op.Body == nil {
		return nil, fmt.Errorf("%s: no body schema for PUT /send/{txnId}", FederationPath)
	}
	def, ok := doc.Swagger.Definitions["m.presence"]
	if !ok {
		return nil, fmt.Errorf("%s: no m.presence definition", FederationPath)
	}
	presence, err := compileSchema(&def, "/definitions/m.presence")
	if err != nil {
		return nil, err
	}
	return &Federation{Document: doc, Transaction: op.Body, Presence: presence}, nil
}
