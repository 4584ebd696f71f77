package schemas_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/schemas"
)

// fidelityTrees are the official checkouts the embedded documents are held
// to: r0 to the last r0 release, v3 to the newest tagged release.
var fidelityTrees = []struct{ version, dir string }{
	{"r0", "r0/r0.6.1"},
	{"v3", "v3/v1.19"},
}

// The embedded r0 and v3 documents say what the official files say: the
// same statuses, and in every response the same types, enums, required keys
// and described properties, as deep as the official schema goes. What the
// embedded documents add is marked as mxpresence's own rule.
func TestEmbeddedDocumentsMatchTheSpec(t *testing.T) {
	for _, tree := range fidelityTrees {
		t.Run(tree.version, func(t *testing.T) {
			dir := sharedSpecDir(t, tree.dir)
			rep, err := schemas.Fidelity(tree.version, dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range rep.Drifts {
				t.Errorf("%s differs from %s: %s", tree.version, rep.Official, d)
			}
			if len(rep.Compared) == 0 {
				t.Fatalf("no operation of the embedded %s documents was compared with %s", tree.version, rep.Official)
			}
			for _, op := range []string{"GET /sync", "GET /presence/{userId}/status", "PUT /presence/{userId}/status", "POST /user/{userId}/filter"} {
				if !contains(rep.Compared, op) {
					t.Errorf("%s was not compared; compared %v", op, rep.Compared)
				}
			}
			// The r0 snapshot holds only the presence, sync and filter files;
			// the calls around them stay unchecked, and are listed.
			t.Logf("%s: %d operations compared with %s; no official file for %v", tree.version, len(rep.Compared), rep.Official, rep.Unchecked)
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A change to an official file is seen: each mutation, made to a copy of
// the checkout, must show up as the drift it causes.
func TestFidelitySeesAMutatedSpec(t *testing.T) {
	cases := []struct {
		name, version, tree, file string
		from, to                  string
		want                      string // in a drift's text
		looser                    bool
	}{
		{
			name: "a required key dropped from an event", version: "v3", tree: "v3/v1.19",
			file: "data/api/client-server/definitions/client_event_without_room_id.yaml",
			from: "  - origin_server_ts\n", to: "",
			want: `"origin_server_ts" is required; the spec does not require it`,
		},
		{
			name: "a presence state added to the enum", version: "v3", tree: "v3/v1.19",
			file: "data/api/client-server/presence.yaml",
			from: "                      - unavailable\n", to: "                      - unavailable\n                      - busy\n",
			want: `the spec allows "busy" too`,
		},
		{
			name: "a new required key in the sync answer", version: "v3", tree: "v3/v1.19",
			file: "data/api/client-server/sync.yaml",
			from: "                required:\n                  - next_batch", to: "                required:\n                  - next_batch\n                  - presence",
			want: `the spec requires "presence"`, looser: true,
		},
		{
			name: "a presence state added to the request body's enum", version: "v3", tree: "v3/v1.19",
			file: "data/api/client-server/presence.yaml",
			from: "                    - unavailable\n", to: "                    - unavailable\n                    - busy\n",
			want: `PUT /presence/{userId}/status request body /presence: stricter: the spec allows "busy" too`,
		},
		{
			name: "a type changed", version: "r0", tree: "r0/r0.6.1",
			file: "api/client-server/presence.yaml",
			from: "currently_active:\n                type: boolean", to: "currently_active:\n                type: string",
			want: "currently_active",
		},
		{
			name: "a status documented for /sync", version: "r0", tree: "r0/r0.6.1",
			file: "api/client-server/sync.yaml",
			from: "      responses:\n        200:", to: "      responses:\n        401:\n          description: Mutated.\n        200:",
			want: "documents status 401", looser: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := sharedSpecDir(t, c.tree)
			dir := copyTree(t, src)
			file := filepath.Join(dir, filepath.FromSlash(c.file))
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), c.from) {
				t.Fatalf("%s no longer holds %q; update the mutation", c.file, c.from)
			}
			mutated := strings.Replace(string(data), c.from, c.to, 1)
			if err := os.WriteFile(file, []byte(mutated), 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err := schemas.Fidelity(c.version, dir)
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, d := range rep.Drifts {
				if strings.Contains(d.String(), c.want) && d.Looser == c.looser {
					found = true
				}
			}
			if !found {
				t.Errorf("mutating %s (%q -> %q) was not reported as %q (looser %v); drifts: %v", c.file, c.from, c.to, c.want, c.looser, rep.Drifts)
			}
		})
	}
}

// copyTree copies a checkout into a temporary folder, following the
// relative layout its $refs need.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// LoadOfficial reads both layouts and validates by operation and status,
// naming the official file in a breach.
func TestLoadOfficial(t *testing.T) {
	for _, tree := range fidelityTrees {
		t.Run(tree.version, func(t *testing.T) {
			dir := sharedSpecDir(t, tree.dir)
			off, err := schemas.LoadOfficial(dir)
			if err != nil {
				t.Fatal(err)
			}
			want := "/_matrix/client/" + tree.version
			if !contains(off.BasePaths(), want) {
				t.Errorf("base paths %v, want %s among them", off.BasePaths(), want)
			}
			op := off.Operation("GET", "/presence/{userId}/status")
			if op == nil {
				t.Fatal("GET /presence/{userId}/status not found")
			}
			if err := op.ValidateResponse(200, []byte(`{"presence":"online"}`)); err != nil {
				t.Errorf("a valid body: %v", err)
			}
			err = op.ValidateResponse(200, []byte(`{"presence":"busy"}`))
			var invalid *schemas.ValidationError
			if !errors.As(err, &invalid) || !strings.Contains(invalid.Schema, "presence.yaml#") {
				t.Errorf("busy: got %v, want a ValidationError naming presence.yaml", err)
			}
			var undoc *schemas.UndocumentedStatusError
			if err := op.ValidateResponse(418, nil); !errors.As(err, &undoc) {
				t.Errorf("418: got %v, want an UndocumentedStatusError", err)
			}
			if got := off.Match("GET", "/sync"); got == nil {
				t.Error("GET /sync not found")
			}
			sync := off.Match("GET", "/sync")
			if err := sync.ValidateResponse(200, []byte(`{"next_batch":"s1","rooms":{"join":{"!r:x":{"timeline":{"events":[{"type":"m.room.message","content":{}}]}}}}}`)); err == nil {
				t.Error("a timeline event without event_id, sender or origin_server_ts passed the official schema")
			}
		})
	}
}

func TestLoadOfficialRefusesAFolderWithoutDocuments(t *testing.T) {
	if _, err := schemas.LoadOfficial(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no data/api/client-server") {
		t.Errorf("got %v, want an error naming the folders looked for", err)
	}
}

// The suite validates from many goroutines at once (run with -race).
func TestOfficialValidatesConcurrently(t *testing.T) {
	off, err := schemas.LoadOfficial(sharedSpecDir(t, "v3/v1.19"))
	if err != nil {
		t.Fatal(err)
	}
	op := off.Operation("GET", "/sync")
	done := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			done <- op.ValidateResponse(200, []byte(`{"next_batch":"s1"}`))
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
