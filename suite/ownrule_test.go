package suite

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/suite/client"
)

// A breach of a response the embedded documents add beyond the spec (a 400
// from /sync) is labelled as mxpresence's own rule, in the exchange, the
// failure message and the finding; a breach of the spec's schema is not.
func TestOwnRuleBreachesAreLabelledAsOwnRules(t *testing.T) {
	v3, err := client.ForVersion("v3")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("since") == "bad" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"no errcode"}`))
			return
		}
		w.Write([]byte(`{}`)) // breaks the spec's schema: next_batch is required
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, v3, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	own := c.Do(ctx, client.Request{Operation: client.Sync, Token: "t", Query: map[string][]string{"since": {"bad"}}})
	if own.SchemaErr == nil {
		t.Fatal("a 400 without errcode passed the embedded /sync 400 schema")
	}
	if label := own.SchemaLabel(); !strings.HasPrefix(label, "mxpresence's own rule") || strings.Contains(label, "the spec's schema in") {
		t.Errorf("own-rule breach labelled %q", label)
	}
	if shown := own.String(); !strings.Contains(shown, "breaks mxpresence's own rule") {
		t.Errorf("the exchange shows the breach as:\n%s", shown)
	}
	for _, sig := range schemaFindings(v3, own) {
		if !strings.HasPrefix(sig.Rule, ownRulePrefix) {
			t.Errorf("own-rule finding %v does not say it is mxpresence's own rule", sig)
		}
	}

	spec := c.Do(ctx, client.Request{Operation: client.Sync, Token: "t"})
	if spec.SchemaErr == nil {
		t.Fatal("a /sync 200 without next_batch passed")
	}
	if label := spec.SchemaLabel(); !strings.HasPrefix(label, "the spec's schema in schemas/spec/v3/sync.yaml") {
		t.Errorf("spec breach labelled %q", label)
	}
	for _, sig := range schemaFindings(v3, spec) {
		if strings.HasPrefix(sig.Rule, ownRulePrefix) {
			t.Errorf("spec finding %v is labelled as an own rule", sig)
		}
	}
}
