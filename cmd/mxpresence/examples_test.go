package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

const fixtureDir = "../../fixtures/examples/"

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExamplesSeedPasses(t *testing.T) {
	code, out, _ := runCLI(t, "examples")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	for _, line := range []string{
		`PUT /presence/{userId}/status  body "presenceState" schema example`,
		`GET /presence/{userId}/status  response 200 example (application/json)`,
		`GET /presence/list/{userId}    response 200 example (application/json)`,
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q\n%s", line, out)
		}
	}
	if !strings.HasSuffix(out, "10 examples in 1 document: 10 passed, 0 failed\n") {
		t.Errorf("summary line missing or wrong:\n%s", out)
	}
}

func TestExamplesExitStatus(t *testing.T) {
	cases := []struct {
		name  string
		files []string
		code  int
	}{
		{"all pass", []string{"crossref/api/presence.yaml"}, 0},
		{"an example fails", []string{"crossref/api/presence.yaml", "bad-enum.yaml"}, 1},
		{"a document cannot be loaded", []string{"bad-enum.yaml", "dangling-ref.yaml"}, 2},
		{"a file that does not exist", []string{"no-such-file.yaml"}, 2},
		// One call reads both formats, with one report and one exit status.
		{"all pass, both formats", []string{"crossref/api/presence.yaml", "openapi31/pass/api/presence.yaml", "openapi31/pass/api/filter.json", "example-ref.yaml", "file-download.yaml"}, 0},
		{"an OpenAPI 3.1 example fails", []string{"crossref/api/presence.yaml", "openapi31/parameter-example.yaml"}, 1},
		{"a Swagger 2.0 example fails", []string{"openapi31/pass/api/presence.yaml", "example-ref-wrong-value.yaml"}, 1},
		{"a $ref inside an example dangles", []string{"openapi31/wrong-type-named-example.yaml", "openapi31/example-ref-dangling.yaml"}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"examples"}
			for _, f := range c.files {
				args = append(args, fixtureDir+f)
			}
			if code, out, errOut := runCLI(t, args...); code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", code, c.code, out, errOut)
			}
		})
	}
}

func TestExamplesTextShowsEveryViolationUnderItsFailure(t *testing.T) {
	_, out, _ := runCLI(t, "examples", fixtureDir+"wrong-type.yaml", fixtureDir+"missing-file-ref.yaml")
	want := []string{
		"response 200 example (application/json)  FAIL\n" +
			"    at /paths/~1presence~1{userId}~1status/get/responses/200/examples/application~1json\n" +
			`    /last_active_ago: type: Invalid type. Expected: integer, given: string; found "soon"` + "\n",
		`missing-file-ref.yaml  cannot be loaded: ` + fixtureDir + `missing-file-ref.yaml#/paths/~1presence~1{userId}~1status/put/responses/429/schema/$ref: $ref "definitions/no-such-file.yaml": cannot load ` + fixtureDir + "definitions/no-such-file.yaml: file not found\n",
		"1 example in 2 documents: 0 passed, 1 failed, 1 document could not be loaded\n",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks:\n%s\ngot:\n%s", w, out)
		}
	}
}

func TestExamplesJSON(t *testing.T) {
	code, out, _ := runCLI(t, "examples", fixtureDir+"bad-enum.yaml", "--format", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var got examplesOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if got.Summary != (examplesSummary{Documents: 1, Examples: 1, Failed: 1}) {
		t.Errorf("summary %+v", got.Summary)
	}
	var failed []exampleReport
	for _, ex := range got.Documents[0].Examples {
		if ex.Verdict == "fail" {
			failed = append(failed, ex)
		}
	}
	if len(failed) != 1 || len(failed[0].Violations) != 1 {
		t.Fatalf("failures %+v, want one with one violation", failed)
	}
	v := failed[0].Violations[0]
	if v.Pointer != "/presence" || v.Rule != "enum" || v.Value != "away" {
		t.Errorf("violation %+v, want enum at /presence with value away", v)
	}
}

func TestExamplesRejectsUnknownFormat(t *testing.T) {
	if code, _, errOut := runCLI(t, "examples", "--format", "yaml"); code != 2 || !strings.Contains(errOut, "--format must be text or json") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

const openapi31Dir = fixtureDir + "openapi31/"

// An example written in a definition file is reported there, in both formats.
func TestExamplesReportTheFileThatHoldsTheExample(t *testing.T) {
	doc := openapi31Dir + "definition-example.yaml"
	_, out, _ := runCLI(t, "examples", doc)
	want := "response 200 schema example in definitions/event.yaml  FAIL\n" +
		"    at " + openapi31Dir + "definitions/event.yaml#/example\n" +
		`    /content: required: property "content" is required; found absent` + "\n"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks:\n%s\ngot:\n%s", want, out)
	}

	code, out, _ := runCLI(t, "examples", "--format", "json", doc)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var got examplesOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if len(got.Documents) != 1 || len(got.Documents[0].Examples) != 1 {
		t.Fatalf("documents %+v, want one with one example", got.Documents)
	}
	ex := got.Documents[0].Examples[0]
	if ex.File != openapi31Dir+"definitions/event.yaml" || ex.Pointer != "/example" || ex.Schema != openapi31Dir+"definitions/event.yaml#" {
		t.Errorf("example %+v, want it at definitions/event.yaml#/example against that file's schema", ex)
	}
	if len(ex.Violations) != 1 || ex.Violations[0].Pointer != "/content" || ex.Violations[0].Rule != "required" || !ex.Violations[0].Missing {
		t.Errorf("violations %+v, want content required", ex.Violations)
	}
}

func TestExamplesFormatsFlag(t *testing.T) {
	file := openapi31Dir + "format-annotation.yaml"
	if code, out, _ := runCLI(t, "examples", file); code != 0 {
		t.Errorf("without --formats: exit %d, want 0\n%s", code, out)
	}
	code, out, _ := runCLI(t, "examples", file, "--formats")
	if code != 1 || !strings.Contains(out, "/avatar_url: format: ") {
		t.Errorf("with --formats: exit %d, want 1 and a format violation\n%s", code, out)
	}
}

// Documents of one call that reach one definition file report its examples
// once, under the first of them.
func TestExamplesSharedDefinitionReportedOnce(t *testing.T) {
	doc := openapi31Dir + "definition-example.yaml"
	code, out, _ := runCLI(t, "examples", "--format", "json", doc, doc)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var got examplesOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if got.Summary != (examplesSummary{Documents: 2, Examples: 1, Failed: 1}) {
		t.Errorf("summary %+v, want the one failure once", got.Summary)
	}
	if len(got.Documents) != 2 || len(got.Documents[1].Examples) != 0 || got.Documents[1].Shared != 1 {
		t.Errorf("second document %+v, want its one example counted as shared", got.Documents[1])
	}
}
