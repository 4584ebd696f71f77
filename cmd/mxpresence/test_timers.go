package main

import (
	"cmp"
	"fmt"
	"io"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
	"github.com/mxpresence/mxpresence/suite"
)

// The bundled mock's thresholds under --timers: short, so that its timer
// requirements take seconds, and on an instance of their own, so that
// users of the other requirements do not go idle or offline under them.
const (
	bundledIdleAfter    = 2 * time.Second
	bundledOfflineAfter = time.Second
)

// startTimersMock starts the mock the timer requirements run against,
// with the same deviations as the main one, and returns its URL and the
// thresholds the suite is told; stop stops it.
func startTimersMock(f *testFlags, deviations []mockserver.Deviation, stderr io.Writer) (url string, th suite.Thresholds, stop func(), err error) {
	th = suite.Thresholds{IdleAfter: cmp.Or(f.idleAfter, bundledIdleAfter), OfflineAfter: cmp.Or(f.offlineAfter, bundledOfflineAfter)}
	url, _, stop, err = startBundledMock(mockserver.Options{Deviations: deviations, IdleAfter: th.IdleAfter, OfflineAfter: th.OfflineAfter}, false)
	if err != nil {
		return "", th, nil, err
	}
	fmt.Fprintf(stderr, "mxpresence test: --timers; the timer requirements run on a second bundled mock at %s, idle after %s, offline after %s\n", url, th.IdleAfter, th.OfflineAfter)
	return url, th, stop, nil
}
