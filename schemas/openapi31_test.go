package schemas_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/schemas"
)

const openapi31 = fixtures + "openapi31/"

// sharedSpec is the spec reference data beside the clone (../shared/spec
// from the repository root), present in CI and on the project's machines.
const sharedSpec = "../../shared/spec"

func checkFile(t testing.TB, file string, opts schemas.ExampleOptions) []schemas.Example {
	t.Helper()
	examples, err := schemas.CheckFileExamples(file, opts)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return examples
}

// Each OpenAPI 3.1 fixture fails for exactly one reason, reported in the
// file and at the pointer where the example is written.
func TestOpenAPI31FixturesFailForTheirFault(t *testing.T) {
	cases := []struct {
		file     string
		where    string // the failing example's file, relative to the fixture folder
		pointer  string // of the example there
		instance string // pointer inside the example value
		rule     string
	}{
		{"wrong-type-named-example.yaml", "wrong-type-named-example.yaml",
			"/paths/~1presence~1{userId}~1status/get/responses/200/content/application~1json/examples/idle/value", "/last_active_ago", "type"},
		{"shared-components-example.yaml", "shared-components-example.yaml",
			"/components/examples/Away/value", "/presence", "enum"},
		{"parameter-example.yaml", "parameter-example.yaml",
			"/paths/~1sync/get/parameters/1/example", "", "type"},
		{"unevaluated-properties.yaml", "unevaluated-properties.yaml",
			"/paths/~1presence~1{userId}~1status/put/requestBody/content/application~1json/example", "/mood", "unevaluatedProperties"},
		{"nested-schema-example.yaml", "nested-schema-example.yaml",
			"/paths/~1presence~1{userId}~1status/get/responses/200/content/application~1json/schema/properties/last_active_ago/example", "", "minimum"},
		{"definition-example.yaml", "definitions/event.yaml", "/example", "/content", "required"},
		{"example-ref-wrong-value.yaml", "example-ref-wrong-value.yaml",
			"/paths/~1events/get/responses/200/content/application~1json/examples/response/value", "/events/0/content/presence", "enum"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			examples := checkFile(t, openapi31+c.file, schemas.ExampleOptions{})
			failed := failures(examples)
			if len(failed) != 1 {
				t.Fatalf("%d failing examples, want 1: %v", len(failed), failed)
			}
			ex := failed[0]
			var verr *schemas.ValidationError
			if ex.File != openapi31+c.where || ex.Pointer != c.pointer || !errors.As(ex.Err, &verr) || !hasViolation(verr, c.instance, c.rule) {
				t.Errorf("failure at %s#%s: %v\nwant at %s#%s, %q at %q", ex.File, ex.Pointer, ex.Err, openapi31+c.where, c.pointer, c.rule, c.instance)
			}
		})
	}
}

// A components/examples entry two operations use against one schema is
// one (example, schema) pair: checked and reported once.
func TestOpenAPI31SharedExampleIsReportedOnce(t *testing.T) {
	examples := checkFile(t, openapi31+"shared-components-example.yaml", schemas.ExampleOptions{})
	if len(examples) != 1 {
		t.Fatalf("%d examples reported, want the one shared example once: %+v", len(examples), examples)
	}
	if ex := examples[0]; ex.Operation != "" || ex.Schema != openapi31+"shared-components-example.yaml#/components/schemas/PresenceState" {
		t.Errorf("reported for operation %q against %q; want no operation (it is written in components) and the shared schema", ex.Operation, ex.Schema)
	}
}

func TestOpenAPI31ViolationNamesPointerRuleAndValue(t *testing.T) {
	failed := failures(checkFile(t, openapi31+"unevaluated-properties.yaml", schemas.ExampleOptions{}))
	want := `/mood: unevaluatedProperties: not allowed here: the schema at unevaluatedProperties is false; found "hungry"`
	if len(failed) != 1 || !strings.Contains(failed[0].Err.Error(), want) {
		t.Errorf("got %v\nwant it to contain %s", failed, want)
	}
}

// The passing fixtures use every site; each must be checked, and pass.
func TestOpenAPI31EverySiteIsChecked(t *testing.T) {
	pass := openapi31 + "pass/"
	examples := append(checkFile(t, pass+"api/presence.yaml", schemas.ExampleOptions{}),
		checkFile(t, pass+"api/filter.json", schemas.ExampleOptions{})...)
	for _, ex := range examples {
		if !ex.Passed() {
			t.Errorf("%s#%s: %v", ex.File, ex.Pointer, ex.Err)
		}
	}
	const status = "/paths/~1presence~1{userId}~1status"
	sites := []struct{ file, pointer string }{
		{"api/presence.yaml", "/components/parameters/userId/example"},                                       // a path-level parameter, by $ref
		{"api/presence.yaml", status + "/get/parameters/0/examples/small/value"},                             // named parameter examples
		{"api/presence.yaml", status + "/get/parameters/1/content/application~1json/example"},                // parameter content
		{"api/presence.yaml", status + "/get/responses/200/headers/X-RateLimit-Remaining/example"},           // a header
		{"api/presence.yaml", "/components/headers/Version/examples/current/value"},                          // a header by $ref
		{"api/presence.yaml", status + "/get/responses/200/content/application~1json/examples/online/value"}, // a named example
		{"api/presence.yaml", "/components/examples/Unavailable/value"},                                      // components/examples
		{"api/presence.yaml", "/components/requestBodies/SetPresence/content/application~1json/examples/tagged/value"},
		{"api/presence.yaml", "/components/responses/Forbidden/content/application~1json/example"},
		{"api/presence.yaml", status + "/put/responses/200/content/application~1json/example"}, // an empty {}
		{"api/presence.yaml", "/paths/~1presence~1{userId}~1events/get/responses/200/content/application~1json/example"},
		{"api/presence.yaml", "/components/schemas/PresenceState/properties/presence/examples/1"}, // a 2020-12 examples array
		{"api/presence.yaml", "/components/schemas/PresenceState/properties/tags/example"},        // prefixItems
		{"api/presence.yaml", "/components/schemas/PresenceState/$defs/Millis/example"},           // $defs
		{"definitions/error.json", "/example"},                                                    // a definition file's own example
		{"definitions/error.json", "/properties/errcode/example"},
		{"definitions/rate_limited.yaml", "/example"}, // $ref with siblings
		{"definitions/rate_limited.yaml", "/properties/retry_after_ms/example"},
		{"definitions/presence_event.yaml", "/example"}, // an example written by $ref
		{"api/filter.json", "/paths/~1user~1{userId}~1filter/post/requestBody/content/application~1json/examples/lazy/value"},
		{"definitions/filter.json", "/examples/1"}, // an empty {}
		{"definitions/filter.json", "/properties/limit/examples/0"},
	}
	for _, s := range sites {
		file := filepath.Clean(filepath.Join(pass, s.file))
		n := 0
		for _, ex := range examples {
			if filepath.Clean(ex.File) == file && ex.Pointer == s.pointer {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s#%s checked %d times, want once", s.file, s.pointer, n)
		}
	}
	png := slices.IndexFunc(examples, func(ex schemas.Example) bool { return strings.HasSuffix(ex.Pointer, "image~1png/example") })
	if png < 0 || examples[png].Note != "not checked: not a JSON media type" {
		t.Errorf("the image/png example is not noted as unchecked")
	}
}

// The $ref inside an example is what makes it pass: the same file, with the
// value the reference stands for changed, fails (see example-ref-wrong-value).
func TestExampleRefsAreInlinedWithSiblingsLaidOver(t *testing.T) {
	examples := checkFile(t, openapi31+"pass/api/presence.yaml", schemas.ExampleOptions{})
	i := slices.IndexFunc(examples, func(ex schemas.Example) bool {
		return ex.Pointer == "/paths/~1presence~1{userId}~1events/get/responses/200/content/application~1json/example"
	})
	if i < 0 || !examples[i].Passed() {
		t.Fatalf("the example written by $ref was not checked, or failed: %+v", examples)
	}
	events := examples[i].Value.(map[string]any)["events"].([]any)
	if ref := events[1].(map[string]any)["$ref"]; ref != "../examples/presence_event.yaml" {
		t.Errorf("Value should be the example as written, with its $ref; got %v", events[1])
	}
}

func TestExampleRefsThatDangleCannotBeLoaded(t *testing.T) {
	cases := []struct{ file, pointer, reason string }{
		{openapi31 + "example-ref-dangling.yaml",
			"/paths/~1events/get/responses/200/content/application~1json/examples/response/value/events/0/$ref",
			`$ref "examples/no-such-event.yaml": cannot load ` + openapi31 + `examples/no-such-event.yaml: file not found`},
		{fixtures + "example-ref-dangling.yaml",
			"/paths/~1presence~1{userId}~1status/put/parameters/1/schema/example/$ref",
			`$ref "example-refs/no-such-example.yaml": cannot load ` + fixtures + `example-refs/no-such-example.yaml: file not found`},
	}
	for _, c := range cases {
		t.Run(filepath.Base(filepath.Dir(c.file))+"/"+filepath.Base(c.file), func(t *testing.T) {
			_, err := schemas.CheckFileExamples(c.file, schemas.ExampleOptions{})
			var lerr *schemas.LoadError
			if !errors.As(err, &lerr) {
				t.Fatalf("got %v, want a LoadError", err)
			}
			if lerr.File != c.file || lerr.Pointer != c.pointer || lerr.Err.Error() != c.reason {
				t.Errorf("got  %s#%s: %v\nwant %s#%s: %s", lerr.File, lerr.Pointer, lerr.Err, c.file, c.pointer, c.reason)
			}
		})
	}
}

func TestFormatIsAnAnnotationUnlessAsserted(t *testing.T) {
	file := openapi31 + "format-annotation.yaml"
	if failed := failures(checkFile(t, file, schemas.ExampleOptions{})); len(failed) != 0 {
		t.Errorf("format asserted by default: %v", failed)
	}
	failed := failures(checkFile(t, file, schemas.ExampleOptions{AssertFormats: true}))
	var verr *schemas.ValidationError
	if len(failed) != 1 || !errors.As(failed[0].Err, &verr) || !hasViolation(verr, "/avatar_url", "format") {
		t.Errorf("with AssertFormats: %v, want one format failure at /avatar_url", failed)
	}
}

func TestSwaggerExampleRefsAndFileDownloads(t *testing.T) {
	for _, file := range []string{"example-ref.yaml", "file-download.yaml"} {
		examples := checkFile(t, fixtures+file, schemas.ExampleOptions{})
		if len(examples) == 0 {
			t.Errorf("%s: no examples checked", file)
		}
		for _, ex := range examples {
			if !ex.Passed() {
				t.Errorf("%s: %s: %v", file, ex.Where, ex.Err)
			}
		}
	}
	failed := failures(checkFile(t, fixtures+"example-ref-wrong-value.yaml", schemas.ExampleOptions{}))
	var verr *schemas.ValidationError
	if len(failed) != 1 || !errors.As(failed[0].Err, &verr) || !hasViolation(verr, "/events/0/content/presence", "enum") {
		t.Errorf("example-ref-wrong-value.yaml: %v, want one enum failure at /events/0/content/presence", failed)
	}
	doc, err := schemas.Load(fixtures + "file-download.yaml")
	if err != nil {
		t.Fatal(err)
	}
	download := doc.Operation("GET", "/download/{serverName}/{mediaId}").Responses[200]
	if !download.File || download.Schema != nil {
		t.Errorf("a type: file response: File %v, Schema %v; want a file with no JSON schema", download.File, download.Schema)
	}
	for _, ex := range doc.CheckExamples() {
		if ex.Pointer == "/paths/~1download~1{serverName}~1{mediaId}/get/responses/200/examples/application~1octet-stream" && ex.Note == "" {
			t.Errorf("the download's example should be noted as not checked")
		}
	}
}

func TestUnknownDocumentsAreRefused(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct{ content, reason string }{
		"openapi30.yaml": {"openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n", "an OpenAPI 3.0.3 document; mxpresence reads Swagger 2.0 and OpenAPI 3.1"},
		"neither.yaml":   {"info: {title: t}\n", `not an API document: neither "swagger: 2.0" nor "openapi: 3.1.x"`},
		"a-number.yaml":  {"openapi: 3.1\ninfo: {title: t, version: '1'}\n", `"openapi" must be a version string such as "3.1.0", not 3.1`},
	} {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		var lerr *schemas.LoadError
		if _, err := schemas.CheckFileExamples(file, schemas.ExampleOptions{}); !errors.As(err, &lerr) || lerr.File != file || lerr.Err.Error() != c.reason {
			t.Errorf("%s: got %v, want a LoadError naming the file: %s", name, err, c.reason)
		}
	}
}

// sharedSpecDir returns a folder of the spec reference data, skipping the
// test when the data is not beside the clone.
func sharedSpecDir(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(sharedSpec, dir)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("spec reference data not present at %s (../shared/spec beside the clone); the fixtures cover every behaviour", path)
	}
	return path
}

// Every OpenAPI 3.1 client-server file of Matrix v1.19 loads, and all its
// examples pass (checked by hand: see docs/examples.md); that includes the
// sites the spec's own checker skips.
func TestSharedSpecV119(t *testing.T) {
	dir := sharedSpecDir(t, "v3/v1.19/data/api/client-server")
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) == 0 {
		t.Fatalf("no documents in %s", dir)
	}
	total := 0
	for _, file := range files {
		examples := checkFile(t, file, schemas.ExampleOptions{})
		total += len(examples)
		for _, ex := range examples {
			if !ex.Passed() {
				t.Errorf("%s#%s: %v", ex.File, ex.Pointer, ex.Err)
			}
		}
	}
	if total < 200 {
		t.Errorf("%d examples in %d documents; fewer than the 200 there are", total, len(files))
	}
	presence := checkFile(t, filepath.Join(dir, "presence.yaml"), schemas.ExampleOptions{})
	for _, want := range []struct{ file, pointer string }{
		{"presence.yaml", "/paths/~1presence~1{userId}~1status/put/responses/200/content/application~1json/examples/response/value"}, // {}
		{"presence.yaml", "/paths/~1presence~1{userId}~1status/put/requestBody/content/application~1json/schema/example"},
		{"definitions/errors/rate_limited.yaml", "/allOf/1/properties/retry_after_ms/example"}, // nested, in a referenced file
	} {
		if !slices.ContainsFunc(presence, func(ex schemas.Example) bool {
			return filepath.Clean(ex.File) == filepath.Join(dir, want.file) && ex.Pointer == want.pointer
		}) {
			t.Errorf("presence.yaml: %s#%s was not checked", want.file, want.pointer)
		}
	}
}

// Matrix v1.1's sync.yaml writes its events by $ref; it passes.
func TestSharedSpecV11Sync(t *testing.T) {
	dir := sharedSpecDir(t, "v3/v1.1/data/api/client-server")
	examples := checkFile(t, filepath.Join(dir, "sync.yaml"), schemas.ExampleOptions{})
	if len(examples) == 0 {
		t.Fatal("no examples checked")
	}
	for _, ex := range examples {
		if !ex.Passed() {
			t.Errorf("%s: %v", ex.Where, ex.Err)
		}
	}
}

// Faults the fixtures do not show, written to a temporary folder.
func TestOpenAPI31Faults(t *testing.T) {
	const head = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n        '200':\n          description: d\n          content:\n            application/json:\n"
	cases := []struct {
		name    string
		doc     string
		files   map[string]string // beside doc.yaml
		loadErr string            // the LoadError's message and pointer, or
		fails   string            // the only failing example's error
	}{
		{
			name:    "an example that refers back to itself",
			doc:     head + "              schema: {type: object}\n              example: {$ref: a.yaml}\n",
			files:   map[string]string{"a.yaml": "{$ref: b.yaml}\n", "b.yaml": "{$ref: a.yaml}\n"},
			loadErr: `#/$ref: $ref "a.yaml": the example refers back to itself`,
		},
		{
			name:    "keys beside a $ref to something that is no object",
			doc:     head + "              schema: {type: object}\n              example: {$ref: a.yaml, type: m.presence}\n",
			files:   map[string]string{"a.yaml": "[1, 2]\n"},
			loadErr: `#/paths/~1x/get/responses/200/content/application~1json/example/$ref: $ref "a.yaml": keys beside it need an object to lay them over, and it names an array`,
		},
		{
			name:    "aliases of aliases that would expand to a billion values",
			doc:     billionLaughs,
			loadErr: "doc.yaml: parse: more than 1000000 values once its aliases are expanded",
		},
		{
			name:  "a schema that is not valid 2020-12",
			doc:   head + "              schema: {type: 5}\n              example: {}\n",
			fails: "invalid schema",
		},
		{
			name:  "a schema's examples that is not an array",
			doc:   head + "              schema: {type: object, examples: {a: 1}}\n",
			fails: "a schema's examples must be an array in JSON Schema 2020-12; found an object",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.files == nil {
				c.files = map[string]string{}
			}
			c.files["doc.yaml"] = c.doc
			for name, content := range c.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			examples, err := schemas.CheckFileExamples(filepath.Join(dir, "doc.yaml"), schemas.ExampleOptions{})
			if c.loadErr != "" {
				if err == nil || !strings.HasSuffix(err.Error(), c.loadErr) {
					t.Errorf("got %v, want a load error ending %s", err, c.loadErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			failed := failures(examples)
			if len(failed) != 1 || !strings.Contains(failed[0].Err.Error(), c.fails) {
				t.Errorf("failures %v, want one saying %q", failed, c.fails)
			}
		})
	}
}

const billionLaughs = `openapi: 3.1.0
a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
`
