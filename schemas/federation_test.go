package schemas

import (
	"errors"
	"testing"
)

func TestFederationSchemasHoldTheSpecsFacts(t *testing.T) {
	fed, err := LoadFederation()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body string
		schema     *Schema
		wantRule   string // "" for valid
	}{
		{"transaction", `{"origin":"a","origin_server_ts":1,"pdus":[],"edus":[{"edu_type":"m.typing","content":{}}]}`, fed.Transaction, ""},
		{"transaction without edus", `{"origin":"a","origin_server_ts":1,"pdus":[]}`, fed.Transaction, ""},
		{"transaction without pdus", `{"origin":"a","origin_server_ts":1}`, fed.Transaction, "required"},
		{"edu without content", `{"origin":"a","origin_server_ts":1,"pdus":[],"edus":[{"edu_type":"m.presence"}]}`, fed.Transaction, "required"},
		{"presence", `{"edu_type":"m.presence","content":{"push":[{"user_id":"@a:b","presence":"online","last_active_ago":5}]}}`, fed.Presence, ""},
		{"presence without last_active_ago", `{"edu_type":"m.presence","content":{"push":[{"user_id":"@a:b","presence":"online"}]}}`, fed.Presence, "required"},
		{"presence outside the enum", `{"edu_type":"m.presence","content":{"push":[{"user_id":"@a:b","presence":"away","last_active_ago":5}]}}`, fed.Presence, "enum"},
		{"presence without push", `{"edu_type":"m.presence","content":{}}`, fed.Presence, "required"},
		{"empty push is schema-valid", `{"edu_type":"m.presence","content":{"push":[]}}`, fed.Presence, ""},
	} {
		err := tc.schema.Validate([]byte(tc.body))
		var invalid *ValidationError
		switch {
		case tc.wantRule == "" && err != nil:
			t.Errorf("%s: want valid, got %v", tc.name, err)
		case tc.wantRule != "" && !errors.As(err, &invalid):
			t.Errorf("%s: want a %s violation, got %v", tc.name, tc.wantRule, err)
		case tc.wantRule != "":
			found := false
			for _, v := range invalid.Violations {
				found = found || v.Rule == tc.wantRule
			}
			if !found {
				t.Errorf("%s: want a %s violation, got %v", tc.name, tc.wantRule, err)
			}
		}
	}
}
