package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/mxpresence/mxpresence/schemas"
)

// Exit statuses of `mxpresence examples`.
const (
	examplesPassed     = 0
	examplesFailed     = 1
	documentUnloadable = 2 // also bad usage; it outranks a failed example
)

func runExamples(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("examples", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output format: text or json")
	formats := fs.Bool("formats", false, "assert `format` in OpenAPI 3.1 schemas (JSON Schema 2020-12 makes it an annotation)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mxpresence examples [--format text|json] [--formats] [FILE...]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Checks every example in each Swagger 2.0 or OpenAPI 3.1 document against its schema.")
		fmt.Fprintln(stderr, "With no FILE, checks the embedded seed (the v1 presence API).")
		fmt.Fprintln(stderr, "Exit status: 0 all pass, 1 an example fails, 2 a document cannot be loaded.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(err)
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "mxpresence examples: --format must be text or json, not %q\n", *format)
		return documentUnloadable
	}

	var reports []documentReport
	if len(files) == 0 {
		doc, err := schemas.LoadSeed()
		var examples []schemas.Example
		if err == nil {
			examples = doc.CheckExamples()
		}
		reports = append(reports, newDocumentReport("schemas/spec/"+schemas.SeedPath, examples, err, nil))
	}
	opts := schemas.ExampleOptions{AssertFormats: *formats}
	// Documents of one folder share definition files; an example written in
	// one is reported under the first document that reaches it, so a broken
	// error.yaml example is one failure, not one per document.
	reported := map[string]bool{}
	for _, f := range files {
		examples, err := schemas.CheckFileExamples(f, opts)
		reports = append(reports, newDocumentReport(f, examples, err, reported))
	}

	summary := summarise(reports)
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(examplesOutput{Documents: reports, Summary: summary}); err != nil {
			fmt.Fprintln(stderr, "mxpresence examples:", err)
			return documentUnloadable
		}
	} else {
		writeExamplesText(stdout, reports, summary)
	}
	switch {
	case summary.Unloadable > 0:
		return documentUnloadable
	case summary.Failed > 0:
		return examplesFailed
	}
	return examplesPassed
}

// usageError maps a flag error to an exit status: -h is a success.
func usageError(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// parseInterspersed lets flags come after positional arguments too
// (`mxpresence examples a.yaml --format json`), as users type them.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

type examplesOutput struct {
	Documents []documentReport `json:"documents"`
	Summary   examplesSummary  `json:"summary"`
}

type documentReport struct {
	File     string          `json:"file"`
	Error    string          `json:"error,omitempty"` // the document could not be loaded
	Examples []exampleReport `json:"examples"`
	// Shared counts the examples left out because an earlier document of
	// the same call reported them: they are written in a file both reach.
	Shared int `json:"shared,omitempty"`
}

type exampleReport struct {
	Operation string `json:"operation,omitempty"`
	Where     string `json:"where"`
	File      string `json:"file"` // the file that holds the example
	Pointer   string `json:"pointer"`
	// Schema is the schema it was checked against, as file#pointer.
	Schema     string              `json:"schema,omitempty"`
	Verdict    string              `json:"verdict"` // pass or fail
	Note       string              `json:"note,omitempty"`
	Error      string              `json:"error,omitempty"`
	Violations []schemas.Violation `json:"violations,omitempty"`
}

type examplesSummary struct {
	Documents  int `json:"documents"`
	Unloadable int `json:"unloadable"`
	Examples   int `json:"examples"`
	Passed     int `json:"passed"`
	Failed     int `json:"failed"`
}

// newDocumentReport reports a document's examples, leaving out those already
// in reported (by where each is written and what it is checked against),
// which it then holds too; a nil reported leaves out none.
func newDocumentReport(file string, examples []schemas.Example, loadErr error, reported map[string]bool) documentReport {
	r := documentReport{File: file, Examples: []exampleReport{}}
	if loadErr != nil {
		r.Error = loadErr.Error()
		return r
	}
	for _, ex := range examples {
		if reported != nil {
			key := filepath.Clean(ex.File) + "#" + ex.Pointer + " " + ex.Schema
			if reported[key] {
				r.Shared++
				continue
			}
			reported[key] = true
		}
		er := exampleReport{Operation: ex.Operation, Where: ex.Where, File: ex.File, Pointer: ex.Pointer, Schema: ex.Schema, Verdict: "pass", Note: ex.Note}
		if ex.Err != nil {
			er.Verdict = "fail"
			er.Error = ex.Err.Error()
			var verr *schemas.ValidationError
			if errors.As(ex.Err, &verr) {
				er.Violations = verr.Violations
			}
		}
		r.Examples = append(r.Examples, er)
	}
	return r
}

func summarise(reports []documentReport) examplesSummary {
	s := examplesSummary{Documents: len(reports)}
	for _, r := range reports {
		if r.Error != "" {
			s.Unloadable++
		}
		for _, ex := range r.Examples {
			s.Examples++
			if ex.Verdict == "pass" {
				s.Passed++
			} else {
				s.Failed++
			}
		}
	}
	return s
}

// writeExamplesText prints one aligned line per example (file, operation,
// where, verdict), each schema violation under its failure, then a summary.
func writeExamplesText(w io.Writer, reports []documentReport, s examplesSummary) {
	var fileW, opW, whereW int
	for _, r := range reports {
		fileW = max(fileW, len(r.File))
		for i, ex := range r.Examples {
			r.Examples[i].Where = whereInFile(r.File, ex)
			opW = max(opW, len(ex.Operation))
			whereW = max(whereW, len(r.Examples[i].Where))
		}
	}
	for _, r := range reports {
		if r.Error != "" {
			fmt.Fprintf(w, "%-*s  cannot be loaded: %s\n", fileW, r.File, r.Error)
			continue
		}
		for _, ex := range r.Examples {
			verdict := strings.ToUpper(ex.Verdict)
			if ex.Note != "" {
				verdict += " (" + ex.Note + ")"
			}
			fmt.Fprintf(w, "%-*s  %-*s  %-*s  %s\n", fileW, r.File, opW, ex.Operation, whereW, ex.Where, verdict)
			if ex.Verdict == "pass" {
				continue
			}
			at := ex.Pointer
			if ex.File != r.File {
				at = ex.File + "#" + ex.Pointer
			}
			fmt.Fprintf(w, "    at %s\n", at)
			if len(ex.Violations) == 0 {
				fmt.Fprintf(w, "    %s\n", ex.Error)
			}
			for _, v := range ex.Violations {
				fmt.Fprintf(w, "    %s\n", v)
			}
		}
	}
	fmt.Fprintf(w, "%s in %s: %d passed, %d failed", plural(s.Examples, "example"), plural(s.Documents, "document"), s.Passed, s.Failed)
	if s.Unloadable > 0 {
		fmt.Fprintf(w, ", %s could not be loaded", plural(s.Unloadable, "document"))
	}
	fmt.Fprintln(w)
}

// whereInFile adds to an example's where the file that holds it when that
// is not the document itself (OpenAPI 3.1 examples are reported where they
// are written), relative to the document's folder.
func whereInFile(document string, ex exampleReport) string {
	if ex.File == "" || ex.File == document {
		return ex.Where
	}
	rel, err := filepath.Rel(filepath.Dir(document), ex.File)
	if err != nil {
		rel = ex.File
	}
	return ex.Where + " in " + filepath.ToSlash(rel)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
