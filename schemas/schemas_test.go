package schemas_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/schemas"
)

const fixtures = "../fixtures/examples/"

func mustLoadSeed(t testing.TB) *schemas.Document {
	t.Helper()
	doc, err := schemas.LoadSeed()
	if err != nil {
		t.Fatalf("LoadSeed: %v", err)
	}
	return doc
}

func TestSeedHasTheFourOperations(t *testing.T) {
	doc := mustLoadSeed(t)
	if doc.BasePath != "/_matrix/client/api/v1" {
		t.Errorf("BasePath = %q", doc.BasePath)
	}
	cases := []struct {
		method, path string
		body         string
		statuses     []int
		token        bool
	}{
		{"GET", "/presence/{userId}/status", "", []int{200, 404}, false},
		{"PUT", "/presence/{userId}/status", "presenceState", []int{200, 429}, true},
		{"GET", "/presence/list/{userId}", "", []int{200}, false},
		{"POST", "/presence/list/{userId}", "presence_diff", []int{200, 429}, true},
	}
	if len(doc.Operations) != len(cases) {
		t.Errorf("%d operations, want %d", len(doc.Operations), len(cases))
	}
	for _, c := range cases {
		op := doc.Operation(c.method, c.path)
		if op == nil {
			t.Errorf("no operation %s %s", c.method, c.path)
			continue
		}
		if op.BodyName != c.body || (op.Body != nil) != (c.body != "") {
			t.Errorf("%s: body %q (schema %v), want %q", op, op.BodyName, op.Body != nil, c.body)
		}
		if got := op.DocumentedStatuses(); !slices.Equal(got, c.statuses) {
			t.Errorf("%s: statuses %v, want %v", op, got, c.statuses)
		}
		if op.RequiresToken() != c.token {
			t.Errorf("%s: RequiresToken = %v, want %v", op, op.RequiresToken(), c.token)
		}
		if len(op.Parameters) == 0 || op.Parameters[0].Name != "userId" || op.Parameters[0].In != "path" {
			t.Errorf("%s: parameters %+v, want userId in path first", op, op.Parameters)
		}
	}
}

func TestResponseValidation(t *testing.T) {
	doc := mustLoadSeed(t)
	getStatus := doc.Operation("GET", "/presence/{userId}/status")
	getList := doc.Operation("GET", "/presence/list/{userId}")
	putStatus := doc.Operation("PUT", "/presence/{userId}/status")

	valid := []struct {
		op     *schemas.Operation
		status int
		body   string
	}{
		{getStatus, 200, `{"presence":"online","last_active_ago":12,"status_msg":null}`},
		{getStatus, 200, `{"presence":"free_for_chat","status_msg":"hi"}`},
		{getStatus, 404, `anything: the seed gives 404 no schema`},
		{getList, 200, `[]`},
		{getList, 200, `[{"type":"m.presence","content":{"user_id":"@a:b","presence":"online"}}]`},
		{putStatus, 200, `{}`},
		{putStatus, 429, `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":10}`},
	}
	for _, c := range valid {
		if err := c.op.ValidateResponse(c.status, []byte(c.body)); err != nil {
			t.Errorf("%s %d %s: %v", c.op, c.status, c.body, err)
		}
	}

	invalid := []struct {
		op      *schemas.Operation
		status  int
		body    string
		pointer string
		rule    string
	}{
		{getStatus, 200, `{"presence":"away"}`, "/presence", "enum"},
		{getStatus, 200, `{"presence":"online","last_active_ago":"12"}`, "/last_active_ago", "type"},
		{getStatus, 200, `{"presence":"online","last_active_ago":1.5}`, "/last_active_ago", "type"},
		{getStatus, 200, `{"presence":"online","status_msg":7}`, "/status_msg", "type"},
		{getStatus, 200, `[]`, "", "type"},
		{getList, 200, `[{"type":"m.presence","content":{}},{"type":5,"content":{}}]`, "/1/type", "type"},
		{getList, 200, `{}`, "", "type"},
		{putStatus, 429, `{"error":"slow down"}`, "/errcode", "required"},
	}
	for _, c := range invalid {
		err := c.op.ValidateResponse(c.status, []byte(c.body))
		var verr *schemas.ValidationError
		if !errors.As(err, &verr) {
			t.Errorf("%s %d %s: got %v, want a ValidationError", c.op, c.status, c.body, err)
			continue
		}
		if !hasViolation(verr, c.pointer, c.rule) {
			t.Errorf("%s %d %s: violations %v, want %q at %q", c.op, c.status, c.body, verr.Violations, c.rule, c.pointer)
		}
	}
}

func hasViolation(err *schemas.ValidationError, pointer, rule string) bool {
	return slices.ContainsFunc(err.Violations, func(v schemas.Violation) bool {
		return v.Pointer == pointer && v.Rule == rule
	})
}

func TestViolationNamesPointerRuleAndValue(t *testing.T) {
	op := mustLoadSeed(t).Operation("GET", "/presence/{userId}/status")
	err := op.ValidateResponse(200, []byte(`{"presence":"away"}`))
	want := `/presence: enum: presence must be one of the following: "online", "offline", "unavailable", "free_for_chat"; found "away"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v\nwant it to contain %s", err, want)
	}
	missing := mustLoadSeed(t).Operation("PUT", "/presence/{userId}/status").ValidateResponse(429, []byte(`{}`))
	if missing == nil || !strings.Contains(missing.Error(), `/errcode: required: property "errcode" is required; found absent`) {
		t.Errorf("error %v, want the missing property named", missing)
	}
}

func TestUndocumentedStatusIsNamed(t *testing.T) {
	op := mustLoadSeed(t).Operation("PUT", "/presence/{userId}/status")
	err := op.ValidateResponse(403, []byte(`{"errcode":"M_FORBIDDEN"}`))
	var undoc *schemas.UndocumentedStatusError
	if !errors.As(err, &undoc) || undoc.Status != 403 || !slices.Equal(undoc.Documented, []int{200, 429}) {
		t.Fatalf("got %v, want an UndocumentedStatusError for 403 listing [200 429]", err)
	}
	if !strings.Contains(err.Error(), "PUT /presence/{userId}/status does not document status 403 (Forbidden)") {
		t.Errorf("message %q does not name the operation and status", err)
	}
}

func TestInvalidJSONGivesPosition(t *testing.T) {
	op := mustLoadSeed(t).Operation("PUT", "/presence/{userId}/status")
	cases := []struct {
		body      string
		line, col int
	}{
		{"{\n  \"a\": 1,\n}", 3, 1},
		{`{"a": 1} trailing`, 1, 10},
		{``, 1, 1},
		{`{"a":`, 1, 6},
	}
	for _, c := range cases {
		err := op.ValidateResponse(200, []byte(c.body))
		var bad *schemas.InvalidJSONError
		if !errors.As(err, &bad) {
			t.Errorf("%q: got %v, want an InvalidJSONError", c.body, err)
			continue
		}
		if bad.Line != c.line || bad.Column != c.col {
			t.Errorf("%q: at line %d column %d, want %d:%d (%v)", c.body, bad.Line, bad.Column, c.line, c.col, err)
		}
	}
}

func TestSeedExamplesAllPass(t *testing.T) {
	examples := mustLoadSeed(t).CheckExamples()
	for _, ex := range examples {
		if !ex.Passed() {
			t.Errorf("%s %s: %v", ex.Operation, ex.Where, ex.Err)
		}
	}
	for _, want := range []struct{ op, where string }{
		{"PUT /presence/{userId}/status", `body "presenceState" schema example`},
		{"GET /presence/{userId}/status", "response 200 example (application/json)"},
		{"GET /presence/list/{userId}", "response 200 example (application/json)"},
		{"POST /presence/list/{userId}", `body "presence_diff" schema example`},
		{"GET /presence/{userId}/status", `path parameter "userId" x-example`},
	} {
		if !slices.ContainsFunc(examples, func(e schemas.Example) bool { return e.Operation == want.op && e.Where == want.where }) {
			t.Errorf("example %s %s was not checked", want.op, want.where)
		}
	}
}

// Each fixture under fixtures/examples fails for exactly one reason.
func TestFixturesFailForTheirFault(t *testing.T) {
	cases := []struct {
		file    string
		where   string // the failing example
		pointer string // inside the example value
		rule    string
	}{
		{"wrong-type.yaml", "response 200 example (application/json)", "/last_active_ago", "type"},
		{"missing-required.yaml", `body "presenceState" schema example`, "/presence", "required"},
		{"bad-enum.yaml", `body "presenceState" schema example`, "/presence", "enum"},
		{"bad-x-example.yaml", `query parameter "limit" x-example`, "", "type"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			doc, err := schemas.Load(fixtures + c.file)
			if err != nil {
				t.Fatal(err)
			}
			failed := failures(doc.CheckExamples())
			if len(failed) != 1 {
				t.Fatalf("%d failing examples, want 1: %v", len(failed), failed)
			}
			ex := failed[0]
			var verr *schemas.ValidationError
			if ex.Where != c.where || !errors.As(ex.Err, &verr) || !hasViolation(verr, c.pointer, c.rule) {
				t.Errorf("failure %q: %v\nwant %q with %q at %q", ex.Where, ex.Err, c.where, c.rule, c.pointer)
			}
		})
	}
}

func TestFixtureNotJSONGivesParseErrorAndPosition(t *testing.T) {
	doc, err := schemas.Load(fixtures + "not-json.yaml")
	if err != nil {
		t.Fatal(err)
	}
	failed := failures(doc.CheckExamples())
	if len(failed) != 1 {
		t.Fatalf("%d failing examples, want 1: %v", len(failed), failed)
	}
	var bad *schemas.InvalidJSONError
	if !errors.As(failed[0].Err, &bad) || bad.Line != 3 || bad.Column != 1 {
		t.Fatalf("got %v, want invalid JSON at line 3, column 1", failed[0].Err)
	}
	if !strings.Contains(bad.Error(), "invalid character '}'") {
		t.Errorf("%q does not give the parser's reason", bad)
	}
}

func TestFixtureRefsThatDoNotResolve(t *testing.T) {
	cases := []struct {
		file, pointer, reason string
	}{
		{"dangling-ref.yaml", "/paths/~1presence~1{userId}~1status/get/responses/404/schema/$ref",
			`$ref "#/definitions/Eror": ` + fixtures + `dangling-ref.yaml has nothing at #/definitions/Eror`},
		{"missing-file-ref.yaml", "/paths/~1presence~1{userId}~1status/put/responses/429/schema/$ref",
			`$ref "definitions/no-such-file.yaml": cannot load ` + fixtures + `definitions/no-such-file.yaml: file not found`},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			_, err := schemas.Load(fixtures + c.file)
			var lerr *schemas.LoadError
			if !errors.As(err, &lerr) {
				t.Fatalf("got %v, want a LoadError", err)
			}
			if lerr.File != fixtures+c.file || lerr.Pointer != c.pointer || lerr.Err.Error() != c.reason {
				t.Errorf("got  file %q pointer %q: %q\nwant file %q pointer %q: %q", lerr.File, lerr.Pointer, lerr.Err, fixtures+c.file, c.pointer, c.reason)
			}
		})
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	_, err := schemas.Load(fixtures + "no-such-document.yaml")
	if err == nil || err.Error() != fixtures+"no-such-document.yaml: file not found" {
		t.Errorf("got %v", err)
	}
	_, err = schemas.Load(fixtures + "crossref/schemas/security.yaml")
	if err == nil || !strings.Contains(err.Error(), "not a Swagger 2.0 document") {
		t.Errorf("got %v, want it refused as not Swagger 2.0", err)
	}
}

// The crossref fixture is laid out as the Matrix spec trees are; what the
// spec authors meant must survive loading.
func TestCrossFolderRefsAndTheirIntent(t *testing.T) {
	doc, err := schemas.Load(fixtures + "crossref/api/presence.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if doc.BasePath != "/_matrix/client/r0" {
		t.Errorf("BasePath = %q, want the placeholder filled with r0", doc.BasePath)
	}
	if scheme, ok := doc.Swagger.SecurityDefinitions["accessToken"]; !ok || scheme.In != "query" || scheme.Name != "access_token" {
		t.Errorf("securityDefinitions given as a $ref were not inlined: %+v", doc.Swagger.SecurityDefinitions)
	}
	op := doc.Operation("PUT", "/presence/{userId}/status")
	// rate_limited.yaml is error.json plus retry_after_ms: both requirements hold.
	if err := op.ValidateResponse(429, []byte(`{"errcode":"M_LIMIT_EXCEEDED"}`)); err == nil || !strings.Contains(err.Error(), "/retry_after_ms: required") {
		t.Errorf("sibling keywords of the $ref were dropped: %v", err)
	}
	if err := op.ValidateResponse(429, []byte(`{"retry_after_ms":1}`)); err == nil || !strings.Contains(err.Error(), "/errcode: required") {
		t.Errorf("the $ref target was dropped: %v", err)
	}
	for _, ex := range doc.CheckExamples() {
		if !ex.Passed() {
			t.Errorf("%s %s: %v", ex.Operation, ex.Where, ex.Err)
		}
	}
}

func failures(examples []schemas.Example) []schemas.Example {
	var out []schemas.Example
	for _, ex := range examples {
		if !ex.Passed() {
			out = append(out, ex)
		}
	}
	return out
}

func TestEmbeddedVersions(t *testing.T) {
	for _, v := range schemas.Versions {
		doc, err := schemas.LoadVersion(v)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if !strings.HasSuffix(doc.BasePath, "/"+v) {
			t.Errorf("%s: base path %q", v, doc.BasePath)
		}
		if doc.Operation("PUT", "/presence/{userId}/status") == nil || doc.Operation("GET", "/presence/{userId}/status") == nil {
			t.Errorf("%s: status operations missing", v)
		}
		hasLists := doc.Operation("GET", "/presence/list/{userId}") != nil
		if hasLists != (v == "v1") {
			t.Errorf("%s: presence lists present = %v", v, hasLists)
		}
		for _, ex := range doc.CheckExamples() {
			if !ex.Passed() {
				t.Errorf("%s %s %s: %v", v, ex.Operation, ex.Where, ex.Err)
			}
		}
	}
	if _, err := schemas.LoadVersion("v2"); err == nil {
		t.Error("loaded a version that does not exist")
	}
	// r0 and v3 dropped free_for_chat and document 403 for a hidden user.
	r0, _ := schemas.LoadVersion("r0")
	get := r0.Operation("GET", "/presence/{userId}/status")
	if err := get.ValidateResponse(200, []byte(`{"presence":"free_for_chat"}`)); err == nil {
		t.Error("r0 accepts free_for_chat")
	}
	if err := get.ValidateResponse(200, []byte(`{"presence":"online","currently_active":"yes"}`)); err == nil {
		t.Error("r0 accepts a currently_active that is not a boolean")
	}
	if !get.RequiresToken() || get.Responses[403] == nil {
		t.Error("r0 GET status should require a token and document 403")
	}
}

func TestVersionDocumentsLoad(t *testing.T) {
	for _, version := range schemas.Versions {
		names, err := schemas.VersionDocuments(version)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(names, "presence") {
			t.Errorf("%s: documents %v lack presence", version, names)
		}
		for _, name := range names {
			doc, err := schemas.LoadVersionDocument(version, name)
			if err != nil {
				t.Errorf("%s/%s: %v", version, name, err)
				continue
			}
			for _, ex := range doc.CheckExamples() {
				if !ex.Passed() {
					t.Errorf("%s/%s: example at %s fails: %v", version, name, ex.Pointer, ex.Err)
				}
			}
		}
	}
	if _, err := schemas.LoadVersionDocument("v3", "no-such-document"); err == nil {
		t.Error("an unknown document name loaded")
	}
}
