package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
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
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mxpresence examples [--format text|json] [FILE...]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Checks every example in each Swagger 2.0 document against its schema.")
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
		reports = append(reports, newDocumentReport("schemas/spec/"+schemas.SeedPath, doc, err))
	}
	for _, f := range files {
		doc, err := schemas.Load(f)
		reports = append(reports, newDocumentReport(f, doc, err))
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
}

type exampleReport struct {
	Operation  string              `json:"operation,omitempty"`
	Where      string              `json:"where"`
	Pointer    string              `json:"pointer"`
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

func newDocumentReport(file string, doc *schemas.Document, loadErr error) documentReport {
	r := documentReport{File: file, Examples: []exampleReport{}}
	if loadErr != nil {
		r.Error = loadErr.Error()
		return r
	}
	for _, ex := range doc.CheckExamples() {
		er := exampleReport{Operation: ex.Operation, Where: ex.Where, Pointer: ex.Pointer, Verdict: "pass", Note: ex.Note}
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
		for _, ex := range r.Examples {
			opW = max(opW, len(ex.Operation))
			whereW = max(whereW, len(ex.Where))
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
			fmt.Fprintf(w, "    at %s\n", ex.Pointer)
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

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
