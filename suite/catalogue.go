package suite

import (
	"fmt"
	"io"
	"strings"
)

// WriteCatalogueMarkdown writes the catalogue of requirements as the
// Markdown checked in as suite/CATALOGUE.md. It is generated from the code
// that checks them, so the two cannot drift apart unnoticed (a test
// compares them).
func WriteCatalogueMarkdown(w io.Writer) error {
	reqs := Catalogue()
	var b strings.Builder
	b.WriteString("# Requirements catalogue\n\n")
	b.WriteString("Generated from the suite's code by `go test ./suite -run TestCatalogueIsCurrent -update`; do not edit.\n")
	b.WriteString("`mxpresence test --list` prints the same.\n\n")
	fmt.Fprintf(&b, "%d requirements: %d MUST, %d SHOULD. A run reports a requirement that does not hold for its API version as not applicable, and the federation requirements as not applicable unless the suite plays a remote server (`--federation`). ", len(reqs), count(reqs, Must), count(reqs, Should))
	b.WriteString("Labels for `--label-filter`: the level (`MUST`, `SHOULD`), ")
	b.WriteString("the endpoint (`status`, `list`, `sync`, `events`, `general`, `federation`), the method (`GET`, `PUT`, `POST`), `slow`, and `time`, `devices` and `timers` for presence over time and across devices.\n")
	for _, endpoint := range Endpoints {
		fmt.Fprintf(&b, "\n## %s\n\n", endpoint)
		b.WriteString("| ID | level | versions | requirement | basis |\n|---|---|---|---|---|\n")
		for _, r := range reqs {
			if r.Endpoint != endpoint {
				continue
			}
			level := string(r.Level)
			if r.Slow {
				level += " (slow)"
			}
			if r.Timers {
				level += " (--timers)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.ID, level, r.VersionsText(), cell(r.Text), cell(r.Basis))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCatalogueText writes the catalogue for a terminal: one requirement
// per paragraph.
func WriteCatalogueText(w io.Writer) error {
	for _, r := range Catalogue() {
		slow := ""
		if r.Slow {
			slow = ", slow"
		}
		if r.Timers {
			slow += ", only with --timers"
		}
		if _, err := fmt.Fprintf(w, "%s  %s  %s%s  (versions: %s)\n    %s\n    basis: %s\n\n", r.ID, r.Level, r.Endpoint, slow, r.VersionsText(), r.Text, r.Basis); err != nil {
			return err
		}
	}
	return nil
}

func count(reqs []Requirement, level Level) int {
	n := 0
	for _, r := range reqs {
		if r.Level == level {
			n++
		}
	}
	return n
}

// cell escapes text for a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
