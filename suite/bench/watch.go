package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mxpresence/mxpresence/suite/client"
)

// tag marks the status_msg of each change the driver makes, so that a
// delivery names the change it carries; the run ID keeps runs against one
// long-lived server apart.
type tag struct{ prefix string }

func newTag() *tag { return &tag{prefix: "mxpb " + strings.ToLower(rand.Text()[:8]) + " "} }

func (t *tag) msg(seq int) string { return t.prefix + strconv.Itoa(seq) }

// parse returns the sequence number of one of this run's changes.
func (t *tag) parse(msg *string) (int, bool) {
	if msg == nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(*msg, t.prefix)
	if !ok {
		return 0, false
	}
	seq, err := strconv.Atoi(rest)
	return seq, err == nil && seq >= 0
}

// presenceFilter asks /sync for presence alone: no room timeline or state,
// no account data. Servers that ignore a part of it only send more.
const presenceFilter = `{"presence":{"types":["m.presence"]},"account_data":{"not_types":["*"]},"room":{"rooms":[],"timeline":{"limit":0},"state":{"not_types":["*"]},"ephemeral":{"not_types":["*"]},"account_data":{"not_types":["*"]}}}`

// watcher is one user's /sync loop. Only its own goroutine writes the
// fields below the atomics; the tally reads them after it has stopped.
type watcher struct {
	index       int
	session     *client.Session
	tag         *tag
	pollTimeout time.Duration
	filter      string // a filter ID, or the filter inline
	since       string

	measureFrom, measureTo atomic.Int64 // UnixNano; 0 until set
	responses              atomic.Int64 // every 200, for settling

	seen        []sighting
	wakeups     int // 200s inside the measured span
	empty       int // of which carried no presence event at all
	rateLimited int
	errors      int
	otherStatus int
	lastProblem string
	inPoll      bool // a long-poll was in flight when the run stopped it
}

// sighting is one tagged event a watcher received.
type sighting struct {
	seq int
	at  time.Time
}

// startWatchers gives each user a filter and an initial sync, cfg.Setup at
// a time, so that each loop starts from a position of its own.
func startWatchers(ctx context.Context, cfg Config, ws []*watcher, users []*client.Session, setup *client.Client, bar *progress) error {
	bar.phase("initial syncs", 0)
	return parallel(ctx, len(ws), cfg.Setup, func(i int) error {
		w := ws[i]
		s := setup.Quiet().As(users[i].UserID, users[i].Token)
		w.filter = presenceFilter
		if ex := s.UploadFilter(ctx, s.UserID, []byte(presenceFilter)); ex.Status() == http.StatusOK {
			if id, err := client.DecodeFilterID(ex); err == nil {
				w.filter = id
			}
		}
		ex := s.Do(ctx, client.Request{Method: http.MethodGet, Path: "/sync", Query: url.Values{"filter": {w.filter}}})
		r, err := client.DecodeSync(ex)
		if err != nil {
			return fmt.Errorf("initial /sync of %s: %v\n\n%s", s.UserID, err, ex)
		}
		w.since = r.NextBatch
		bar.step(i+1, len(ws))
		return nil
	})
}

// loop long-polls /sync until ctx ends. A failed poll is counted and
// retried after a pause; it never ends the loop, so that every watcher is
// accounted for at the end.
func (w *watcher) loop(ctx context.Context) {
	timeout := strconv.FormatInt(w.pollTimeout.Milliseconds(), 10)
	for ctx.Err() == nil {
		q := url.Values{"since": {w.since}, "timeout": {timeout}, "filter": {w.filter}}
		// No Operation: the hot path is not validated against the schema
		// (the suite does that), so the bench's own CPU stays small.
		ex := w.session.Do(ctx, client.Request{Method: http.MethodGet, Path: "/sync", Query: q, NoRetry: true})
		at := time.Now()
		if ctx.Err() != nil {
			w.inPoll = true
			return
		}
		switch ex.Status() {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			w.rateLimited++
			pause(ctx, 100*time.Millisecond)
			continue
		case 0:
			w.errors++
			w.lastProblem = fmt.Sprint(ex.Err)
			pause(ctx, 100*time.Millisecond)
			continue
		default:
			w.otherStatus++
			w.lastProblem = fmt.Sprintf("status %d", ex.Status())
			pause(ctx, 100*time.Millisecond)
			continue
		}
		r, err := client.DecodeSync(ex)
		if err != nil {
			w.otherStatus++
			w.lastProblem = err.Error()
			pause(ctx, 100*time.Millisecond)
			continue
		}
		w.since = r.NextBatch
		w.responses.Add(1)
		events, _ := r.PresenceEvents()
		from, to := w.measureFrom.Load(), w.measureTo.Load()
		if from != 0 && at.UnixNano() >= from && (to == 0 || at.UnixNano() <= to) {
			w.wakeups++
			if len(events) == 0 {
				w.empty++
			}
		}
		for _, e := range events {
			if seq, ok := w.tag.parse(e.Content.StatusMsg); ok {
				w.seen = append(w.seen, sighting{seq, at})
			}
		}
	}
}

func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
