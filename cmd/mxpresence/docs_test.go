package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The commands the documentation shows are copied and pasted as they are,
// so each flag they give must be one the command has; and each flag of
// `mxpresence test` has a row in the suite's table of flags.

// definedFlags lists the flags a command's -h prints.
func definedFlags(t *testing.T, command string) map[string]bool {
	t.Helper()
	var stdout, stderr bytes.Buffer
	run([]string{command, "-h"}, &stdout, &stderr)
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`).FindAllStringSubmatch(stderr.String(), -1) {
		flags[m[1]] = true
	}
	if len(flags) == 0 {
		t.Fatalf("%s -h lists no flags:\n%s", command, stderr.String())
	}
	return flags
}

var (
	commandLine = regexp.MustCompile(`mxpresence(?:@\S+)? (test|serve|bench)\b`)
	flagUse     = regexp.MustCompile(`(?:^|\s)--([a-z][a-z-]*)`)
)

// shownCommands finds each `mxpresence test|serve` command in a file, with
// the lines it continues onto (a trailing backslash, or YAML's folded lines
// that start with a flag), and returns the command name and its text.
func shownCommands(text string) [][2]string {
	lines := strings.Split(text, "\n")
	var out [][2]string
	for i := 0; i < len(lines); i++ {
		m := commandLine.FindStringSubmatchIndex(lines[i])
		if m == nil {
			continue
		}
		name := lines[i][m[2]:m[3]]
		cmd := lines[i][m[1]:]
		for i+1 < len(lines) && (strings.HasSuffix(strings.TrimSpace(lines[i]), `\`) || strings.HasPrefix(strings.TrimSpace(lines[i+1]), "--")) {
			i++
			cmd += " " + lines[i]
		}
		// Prose after a command in the same line is not part of it.
		cmd, _, _ = strings.Cut(cmd, "`")
		cmd, _, _ = strings.Cut(cmd, "#")
		out = append(out, [2]string{name, cmd})
	}
	return out
}

func TestShownCommandsUseRealFlags(t *testing.T) {
	flags := map[string]map[string]bool{"test": definedFlags(t, "test"), "serve": definedFlags(t, "serve"), "bench": definedFlags(t, "bench")}
	shown := 0
	for _, path := range []string{"../../README.md", "../../CONTRIBUTING.md", "../../ci/github-actions.yml",
		"../../docs/suite.md", "../../docs/homeservers.md", "../../docs/mock-server.md", "../../docs/self-test.md",
		"../../docs/performance.md"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range shownCommands(string(data)) {
			shown++
			for _, m := range flagUse.FindAllStringSubmatch(c[1], -1) {
				if !flags[c[0]][m[1]] {
					t.Errorf("%s shows `mxpresence %s ... --%s`, a flag the command does not have:\n%s", path, c[0], m[1], c[1])
				}
			}
		}
	}
	if shown < 10 {
		t.Errorf("found %d commands in the documentation; the search is broken", shown)
	}
}

func TestEveryTestFlagIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/suite.md")
	if err != nil {
		t.Fatal(err)
	}
	for flag := range definedFlags(t, "test") {
		switch flag {
		case "shard", "format", "v": // internal to --procs; with --list; one letter, in its row with --no-color
			continue
		}
		if !strings.Contains(string(doc), "| `--"+flag) && !strings.Contains(string(doc), ", `--"+flag) {
			t.Errorf("docs/suite.md's table of flags has no row for --%s", flag)
		}
	}
}

func TestEveryBenchFlagIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/performance.md")
	if err != nil {
		t.Fatal(err)
	}
	for flag := range definedFlags(t, "bench") {
		if !strings.Contains(string(doc), "`--"+flag) {
			t.Errorf("docs/performance.md's table of bench flags has no row for --%s", flag)
		}
	}
}
