// Command mxpresence is the Matrix presence API conformance kit: it checks a
// spec document's examples, serves the reference mock server and runs the
// conformance suite against a homeserver.
package main

import (
	"fmt"
	"io"
	"os"
)

// A command takes its arguments and streams and returns the exit status,
// so tests run it in-process exactly as the shell does.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"bench", "measure what presence costs a homeserver: delivery latency, losses, wake-ups, CPU", runBench},
		{"examples", "check every example in Swagger 2.0 and OpenAPI 3.1 documents against its schema", runExamples},
		{"serve", "run the reference mock homeserver", runServe},
		{"test", "run the conformance suite against a homeserver", runTest},
	}
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "mxpresence: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: mxpresence <command> [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'mxpresence <command> -h' for a command's flags.")
}
