package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/remote"
)

var (
	readmeVerdictCommand = regexp.MustCompile("`go run ./cmd/mxpresence test (--api (\\S+) --mock-fault \\S+)`")
	readmeVerdictLine    = regexp.MustCompile(`(?m)^VERDICT: .*$`)
	verdictCounts        = regexp.MustCompile(`^VERDICT: \w+ \((\w+) API\): (\d+) of (\d+) requirements met \((.*)\)`)
)

// The README's example verdict is the last line of the run it names, as
// that run prints it today; -update rewrites it from the run. Its counts
// must also add up to the catalogue: every requirement run, not run or not
// applicable, the not applicable ones exactly those of other versions.
func TestReadmeVerdictComesFromTheRunItNames(t *testing.T) {
	const path = "../../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	cmd := readmeVerdictCommand.FindStringSubmatch(readme)
	shown := readmeVerdictLine.FindString(readme)
	if cmd == nil || shown == "" {
		t.Fatalf("README shows no example command (%v) or verdict line (%q)", cmd, shown)
	}
	code, stdout, stderr := mxpresence(t, append([]string{"test", "--no-color"}, strings.Fields(cmd[1])...)...)
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	real := lines[len(lines)-1]
	if code != notConformant || !strings.HasPrefix(real, "VERDICT: FAIL") {
		t.Fatalf("mxpresence test %s: exit %d, last line %q\n%s", cmd[1], code, real, stderr)
	}
	if shown != real {
		if *update {
			if err := os.WriteFile(path, []byte(strings.Replace(readme, shown, real, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("README's verdict line rewritten: %s", real)
		} else {
			t.Errorf("README's verdict line is not what `mxpresence test %s` prints (go test ./cmd/mxpresence -run TestReadmeVerdict -update rewrites it):\n README: %s\n    run: %s", cmd[1], shown, real)
		}
	}

	m := verdictCounts.FindStringSubmatch(real)
	if m == nil || m[1] != cmd[2] {
		t.Fatalf("cannot read the counts of %q for API %s", real, cmd[2])
	}
	var met, ran int
	fmt.Sscan(m[2], &met)
	fmt.Sscan(m[3], &ran)
	notes := map[string]int{}
	for _, note := range strings.Split(m[4], ", ") {
		var n int
		var what string
		fmt.Sscanf(note, "%d", &n)
		what = strings.TrimSpace(strings.TrimPrefix(note, fmt.Sprint(n)))
		notes[what] = n
	}
	applicable := 0
	for _, r := range suite.Catalogue() {
		// Without a build that can join rooms the federation requirements
		// are not applicable either (docs/federation.md).
		if r.AppliesTo(cmd[2]) && (!r.Federation || remote.CanJoin) {
			applicable++
		}
	}
	if all := len(suite.Catalogue()); ran+notes["not run"]+notes["not applicable"] != all || notes["not applicable"] != all-applicable {
		t.Errorf("%q: %d run + %d not run + %d not applicable; the catalogue has %d requirements, %d of them for %s",
			real, ran, notes["not run"], notes["not applicable"], all, applicable, cmd[2])
	}
	if met+notes["failed"]+notes["SHOULD warnings"]+notes["known failures"] != ran {
		t.Errorf("%q: met, failed and warned do not add up to the %d run", real, ran)
	}
}
