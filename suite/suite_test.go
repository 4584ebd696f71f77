package suite_test

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/remote"
	"github.com/mxpresence/mxpresence/suite/report"
)

// versionEnv names the API version a child process of this test checks.
const versionEnv = "MXPRESENCE_SUITE_TEST_API"

// The reference mock meets every requirement of every version, MUST and
// SHOULD alike, and the run says so requirement by requirement; those of
// other versions are reported as not applicable. ginkgo runs one suite per
// process, so each version runs in a child process of this test binary;
// the broken variants run in processes of their own (cmd/mxpresence).
func TestReferenceMockMeetsEveryRequirement(t *testing.T) {
	if version := os.Getenv(versionEnv); version != "" {
		checkVersion(t, version)
		return
	}
	for _, version := range client.Versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestReferenceMockMeetsEveryRequirement$", "-test.v")
			cmd.Env = append(os.Environ(), versionEnv+"="+version)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("the %s run failed: %v\n%s", version, err, out)
			}
		})
	}
}

func checkVersion(t *testing.T, version string) {
	// The mock federates when the build can join rooms (GOEXPERIMENT=jsonv2),
	// and the federation requirements run against it.
	opts := mockserver.Options{}
	if remote.CanJoin {
		opts.Federation = &mockserver.FederationOptions{}
	}
	mock := mockserver.New(opts)
	srv := httptest.NewServer(mock)
	defer srv.Close()
	cfg := suite.Config{Target: srv.URL, Strict: true, NoColor: true, Settle: 500 * time.Millisecond}
	if remote.CanJoin {
		fed := httptest.NewServer(mock.FederationHandler())
		defer fed.Close()
		cfg.Federation = fed.URL
		// The mock sends its transactions to a server one after another,
		// as the spec asks; under the race detector ten requirements'
		// changes at once can take longer than half a second to arrive.
		cfg.Settle = 2 * time.Second
	}
	api, err := client.ForVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API = api
	result, err := suite.Run(cfg, t)
	if err != nil {
		t.Fatal(err)
	}
	catalogue := suite.Catalogue()
	if len(result.Entries) != len(catalogue) {
		t.Errorf("%d requirements reported, the catalogue has %d", len(result.Entries), len(catalogue))
	}
	applicable := 0
	for _, req := range catalogue {
		got, ok := result.Outcome(req.ID)
		if !ok {
			t.Errorf("%s: not reported", req.ID)
			continue
		}
		want := report.NotApplicable
		switch {
		case !req.AppliesTo(api.Name), req.Federation && !remote.CanJoin:
		case req.Timers:
			want = report.Skipped // no --timers: timers_test.go runs them
		case req.Feature != "":
			want = report.Skipped // the reference advertises no unstable feature
		default:
			want = report.Passed
			applicable++
		}
		if got != want {
			t.Errorf("%s: %s, want %s", req.ID, got, want)
		}
	}
	if applicable == 0 {
		t.Errorf("no requirement applies to %s", version)
	}
	if !result.Passed() {
		t.Errorf("verdict FAIL against the reference mock (%s)", version)
	}
}
