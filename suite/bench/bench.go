// Package bench measures what presence costs a homeserver: how long a
// presence change takes to reach every room-mate waiting in a /sync
// long-poll, how many of those deliveries go missing, reach strangers or
// come twice, how many /sync responses a change causes, and, for a server
// on this machine, the CPU and memory it spends.
//
// It drives the server only through the client API, as clients do: it
// provisions users through a suite.UserSource, lays them out in rooms,
// starts one /sync loop per user and changes presence with PUT status,
// each change tagged in status_msg so that every delivery can be traced to
// the change it carries. Latency is reported only for deliveries a watcher
// actually received.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/client"
)

// Config is one bench run: the server, the users and how they are laid
// out, and the load.
type Config struct {
	Target string     // base URL
	API    client.API // r0 or v3: the versions with /sync
	// Users provisions the users; nil registers fresh ones.
	Users suite.UserSource

	N            int // users, each a watcher
	RoomSize     int // members of each room (clamped to N)
	RoomsPerUser int // rooms each user joins

	Rate     float64       // presence changes per second
	Duration time.Duration // how long changes are made
	// Window is how long a change may take to reach a room-mate before it
	// counts as lost; the watchers keep polling this long after the last
	// change.
	Window time.Duration
	// PollTimeout is the timeout each /sync long-poll asks for.
	PollTimeout time.Duration
	// Timeout bounds every other request.
	Timeout time.Duration
	// Setup is how many provisioning requests run at once.
	Setup int
	// Settle is the least time to wait between the watchers starting and
	// the first change, for a server that works through what the setup
	// left it (joins, everyone coming online) in the background; the wait
	// goes on until no watcher has woken for 500 ms either way.
	Settle time.Duration

	// Probe reads the server's resources; nil measures none.
	Probe Probe
	// Progress, when not nil, receives a progress bar.
	Progress io.Writer
	// CPUProfile, when not nil, receives a CPU profile of the bench itself
	// over the measured span, from the first change to the window's end:
	// the load's side of a figure, without the set-up.
	CPUProfile io.Writer
}

func (c *Config) defaults() error {
	if c.N < 2 {
		return fmt.Errorf("--users %d: want at least 2", c.N)
	}
	if c.RoomSize < 2 {
		return fmt.Errorf("--room-size %d: want at least 2", c.RoomSize)
	}
	c.RoomSize = min(c.RoomSize, c.N)
	if c.RoomsPerUser < 1 {
		return fmt.Errorf("--rooms-per-user %d: want at least 1", c.RoomsPerUser)
	}
	if c.Rate <= 0 || c.Rate > 10000 {
		return fmt.Errorf("--rate %v: want changes per second, above 0 and at most 10000", c.Rate)
	}
	if c.Duration <= 0 {
		return fmt.Errorf("--duration %v: want a positive duration", c.Duration)
	}
	if c.Settle < 0 {
		return fmt.Errorf("--settle %v: want a duration, 0 or more", c.Settle)
	}
	if c.Window <= 0 {
		return fmt.Errorf("--window %v: want a positive duration", c.Window)
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = 30 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Setup <= 0 {
		c.Setup = 8
	}
	if c.Users == nil {
		c.Users = suite.NewRegistration()
	}
	return nil
}

// ErrCannotStart marks errors that stop a run before any load: bad
// settings, an unreachable server, users or rooms that cannot be made.
var ErrCannotStart = errors.New("the bench cannot start")

// Run runs one bench: provisioning, watchers, changes, the window after
// the last change, and the tally.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCannotStart, err)
	}
	// Set-up and the driver share a pool of connections; each watcher has
	// one of its own (below).
	transport := &http.Transport{
		MaxIdleConns:        cfg.Setup + 64,
		MaxIdleConnsPerHost: cfg.Setup + 64,
		IdleConnTimeout:     cfg.PollTimeout + time.Minute,
	}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport}
	setupClient, err := client.New(cfg.Target, cfg.API, client.Options{Timeout: cfg.Timeout, HTTP: hc, Retries429: 5})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCannotStart, err)
	}
	// Load requests are never retried: a 429 is counted, not hidden.
	loadOptions := client.Options{Timeout: cfg.PollTimeout + cfg.Timeout, HTTP: hc, Retries429: -1}
	loadClient, _ := client.New(cfg.Target, cfg.API, loadOptions)

	bar := newProgress(cfg.Progress)
	defer bar.done()
	started := time.Now()
	users, err := provision(ctx, cfg, setupClient, bar)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCannotStart, err)
	}
	rooms := layout(cfg.N, cfg.RoomSize, cfg.RoomsPerUser)
	if err := makeRooms(ctx, cfg, users, rooms, bar); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCannotStart, err)
	}
	mates := roomMates(cfg.N, rooms)
	setupTime := time.Since(started)

	tag := newTag()
	watchers := make([]*watcher, cfg.N)
	for i, s := range users {
		// A connection pool of its own, as each real client has: from one
		// shared pool, a burst of polls dials more connections than there
		// are watchers (a poll takes whichever connection frees first, and
		// the dial it started joins the pool), and the spares would cost
		// the server as idle connections what no real set of clients costs.
		own := &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: cfg.PollTimeout + time.Minute}
		defer own.CloseIdleConnections()
		opts := loadOptions
		opts.HTTP = &http.Client{Transport: own}
		c, _ := client.New(cfg.Target, cfg.API, opts)
		watchers[i] = &watcher{index: i, session: c.As(s.UserID, s.Token), tag: tag, pollTimeout: cfg.PollTimeout}
	}
	if err := startWatchers(ctx, cfg, watchers, users, setupClient, bar); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCannotStart, err)
	}
	watchCtx, stopWatching := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, w := range watchers {
		wg.Add(1)
		go func() { defer wg.Done(); w.loop(watchCtx) }()
	}
	settle(ctx, watchers, cfg.Settle)

	var before Usage
	if cfg.Probe != nil {
		before, _ = cfg.Probe.Sample()
	}
	self := ProcProbe{PID: os.Getpid()}
	selfBefore, selfErr := self.Sample()
	if cfg.CPUProfile != nil {
		if err := pprof.StartCPUProfile(cfg.CPUProfile); err != nil {
			stopWatching()
			wg.Wait()
			return nil, fmt.Errorf("%w: CPU profile: %v", ErrCannotStart, err)
		}
	}
	peak := startPeakWatch(cfg.Probe)
	load := loadAverage()
	measureFrom := time.Now()
	for _, w := range watchers {
		w.measureFrom.Store(measureFrom.UnixNano())
	}
	d := &driver{cfg: cfg, users: users, mates: mates, session: loadClient, tag: tag}
	d.run(ctx, bar)
	// The window after the last change, so that it may still arrive.
	wait := cfg.Window
	if n := len(d.changes); n > 0 {
		wait = time.Until(d.changes[n-1].sent.Add(cfg.Window))
	}
	if wait > 0 {
		bar.phase("window", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
	measureTo := time.Now()
	for _, w := range watchers {
		w.measureTo.Store(measureTo.UnixNano())
	}
	var after Usage
	if cfg.Probe != nil {
		after, _ = cfg.Probe.Sample()
	}
	selfAfter, selfErrAfter := self.Sample()
	if cfg.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	peakRSS := peak.stop()
	stopWatching()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}

	r := tally(cfg, d, watchers, mates)
	r.SetupSeconds = setupTime.Seconds()
	r.Settle = cfg.Settle.Seconds()
	r.LoadAverage = load
	r.Rooms = len(rooms)
	if selfErr == nil && selfErrAfter == nil && r.Accepted > 0 {
		r.BenchCPUMillisPerChange = 1000 * (selfAfter.CPU - selfBefore.CPU).Seconds() / float64(r.Accepted)
	}
	if cfg.Probe != nil && after.CPU > 0 {
		r.Resources = &Resources{
			CPUSeconds: (after.CPU - before.CPU).Seconds(),
			PeakRSSMB:  float64(max(peakRSS, after.RSS)) / (1 << 20),
		}
		if r.Accepted > 0 {
			r.Resources.CPUMillisPerChange = 1000 * r.Resources.CPUSeconds / float64(r.Accepted)
		}
	}
	return r, nil
}

// provision makes N users, cfg.Setup at a time, and refuses a source that
// hands out the same user twice: a watcher per user is the point.
func provision(ctx context.Context, cfg Config, c *client.Client, bar *progress) ([]*client.Session, error) {
	users := make([]*client.Session, cfg.N)
	bar.phase("users", 0)
	err := parallel(ctx, cfg.N, cfg.Setup, func(i int) error {
		s, err := cfg.Users.NewUser(ctx, c.Quiet())
		if err != nil {
			return fmt.Errorf("provision user %d of %d: %w", i+1, cfg.N, err)
		}
		users[i] = s
		bar.step(i+1, cfg.N)
		return nil
	})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u.UserID] {
			return nil, fmt.Errorf("the user source handed out %s twice; the bench needs %d distinct users", u.UserID, cfg.N)
		}
		seen[u.UserID] = true
	}
	return users, nil
}

// layout puts N users in rooms of size k, each user in r rooms: for each
// of the r rounds a shuffled order of all users is cut into rooms of k (a
// remainder too small to be a room joins the room before it). The shuffle
// is seeded, so a layout is the same on every run.
func layout(n, k, r int) [][]int {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(k*1000+r)))
	var rooms [][]int
	for round := range r {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		if round > 0 {
			rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		var these [][]int
		for start := 0; start < n; start += k {
			these = append(these, order[start:min(start+k, n)])
		}
		if last := len(these) - 1; last > 0 && len(these[last]) < 2 {
			these[last-1] = append(these[last-1], these[last]...)
			these = these[:last]
		}
		rooms = append(rooms, these...)
	}
	return rooms
}

// roomMates lists, for each user, the users sharing at least one room
// with them: who must see their presence, and everyone else must not.
func roomMates(n int, rooms [][]int) []map[int]bool {
	mates := make([]map[int]bool, n)
	for i := range mates {
		mates[i] = map[int]bool{}
	}
	for _, room := range rooms {
		for _, a := range room {
			for _, b := range room {
				if a != b {
					mates[a][b] = true
				}
			}
		}
	}
	return mates
}

// makeRooms creates each room by its first member, inviting the others,
// who then join.
func makeRooms(ctx context.Context, cfg Config, users []*client.Session, rooms [][]int, bar *progress) error {
	bar.phase("rooms", 0)
	ids := make([]string, len(rooms))
	err := parallel(ctx, len(rooms), cfg.Setup, func(i int) error {
		var invite []string
		for _, m := range rooms[i][1:] {
			invite = append(invite, users[m].UserID)
		}
		id, ex, err := quiet(users[rooms[i][0]]).CreateRoom(ctx, invite...)
		if err != nil {
			return fmt.Errorf("room %d: %w\n\n%s", i+1, err, ex)
		}
		ids[i] = id
		bar.step(i+1, len(rooms))
		return nil
	})
	if err != nil {
		return err
	}
	type join struct{ room, user int }
	var joins []join
	for i, room := range rooms {
		for _, m := range room[1:] {
			joins = append(joins, join{i, m})
		}
	}
	bar.phase("joins", 0)
	return parallel(ctx, len(joins), cfg.Setup, func(i int) error {
		j := joins[i]
		if ex, err := quiet(users[j.user]).JoinRoom(ctx, ids[j.room]); err != nil {
			return fmt.Errorf("%s: %w\n\n%s", users[j.user].UserID, err, ex)
		}
		bar.step(i+1, len(joins))
		return nil
	})
}

func quiet(s *client.Session) *client.Session { return s.Client().Quiet().As(s.UserID, s.Token) }

// parallel runs fn(0..n-1), at most workers at once, and returns the first
// error; the rest are not started after it.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// settle waits at least least, then until every watcher is in its first
// long-poll and the wake-ups of everyone coming online have died down
// (500 ms with none), for at most ten seconds more, so that the
// measurement starts from quiet.
func settle(ctx context.Context, watchers []*watcher, least time.Duration) {
	pause(ctx, least)
	deadline := time.Now().Add(10 * time.Second)
	last, quietSince := int64(-1), time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var total int64
		for _, w := range watchers {
			total += w.responses.Load()
		}
		if total != last {
			last, quietSince = total, time.Now()
		} else if time.Since(quietSince) >= 500*time.Millisecond {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
