package client_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/schemas"
	"github.com/mxpresence/mxpresence/suite/client"
)

// With the official documents, a response is validated against the file
// that describes its operation, and only an operation none describes falls
// back to the embedded document, which the exchange then names.
func TestOfficialDocumentsReplaceTheEmbeddedOnes(t *testing.T) {
	const tree = "../../../shared/spec/r0/r0.6.1"
	if _, err := os.Stat(tree); err != nil {
		t.Skipf("spec reference data not present at %s (../shared/spec beside the clone)", tree)
	}
	official, err := schemas.LoadOfficial(tree)
	if err != nil {
		t.Fatal(err)
	}
	r0, err := client.ForVersion("r0")
	if err != nil {
		t.Fatal(err)
	}
	api, err := r0.UseOfficial(official)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(api.Schemas(), official.Dir) {
		t.Errorf("Schemas() = %q, want it to name %s", api.Schemas(), official.Dir)
	}
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("since") == "bad" {
			w.WriteHeader(http.StatusBadRequest)
		}
		w.Write([]byte(`{"presence":"busy"}`))
	})
	c, _ := client.New(srv.URL, api, client.Options{})
	ctx := context.Background()

	busy := c.As("@a:b", "t").GetStatus(ctx, "@a:b")
	if busy.SchemaErr == nil || !strings.HasPrefix(busy.SchemaDoc, official.Dir) {
		t.Errorf("GET status: SchemaErr %v against %q, want a breach of the official presence.yaml", busy.SchemaErr, busy.SchemaDoc)
	}
	// The spec documents no 400 for /sync: with its own documents that is
	// a note, not a breach of mxpresence's own rule.
	bad := c.Do(ctx, client.Request{Operation: client.Sync, Query: map[string][]string{"since": {"bad"}}})
	if bad.SchemaErr != nil || bad.Undocumented == nil {
		t.Errorf("/sync 400: SchemaErr %v, Undocumented %v; want only the note", bad.SchemaErr, bad.Undocumented)
	}
	// r0.6.1's snapshot has no capabilities document: the embedded one
	// still judges it, and says so.
	caps := c.Do(ctx, client.Request{Operation: client.Operation{Method: "GET", Path: "/capabilities"}})
	if !strings.Contains(caps.SchemaDoc, "schemas/spec/r0/capabilities.yaml (embedded") {
		t.Errorf("capabilities validated against %q", caps.SchemaDoc)
	}
}
