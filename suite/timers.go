package suite

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/onsi/gomega"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
)

// Thresholds are the target's presence timers, as the run is told them:
// the spec gives the idle threshold only as an example ("e.g. 5 minutes")
// and names no offline one, so the suite cannot know them.
type Thresholds struct {
	// IdleAfter: an online user with no activity for this long is shown
	// unavailable.
	IdleAfter time.Duration
	// OfflineAfter: a user whose clients all stopped syncing this long ago
	// is shown offline.
	OfflineAfter time.Duration
}

// Default thresholds, what --idle-after and --offline-after assume:
// Synapse's IDLE_TIMER (5 minutes, the spec's example) and
// SYNC_ONLINE_TIMEOUT (30 seconds), in synapse/handlers/presence.py.
const (
	DefaultIdleAfter    = 5 * time.Minute
	DefaultOfflineAfter = 30 * time.Second
)

func (t Thresholds) report(timersTarget string) string {
	out := fmt.Sprintf("idle after %s (--idle-after), offline after %s (--offline-after)", t.IdleAfter, t.OfflineAfter)
	if timersTarget != "" {
		out += ", checked on " + timersTarget
	}
	return out
}

// specTimeout bounds a requirement: a timer requirement waits out the
// thresholds on top of what any requirement may take.
func (r *runner) specTimeout(req Requirement) time.Duration {
	if !req.Timers {
		return r.cfg.SpecTimeout
	}
	return r.cfg.SpecTimeout + 2*r.cfg.Thresholds.IdleAfter + r.cfg.Thresholds.OfflineAfter
}

// thresholds are the run's, for a spec.
func (s *Spec) thresholds() Thresholds { return s.run.cfg.Thresholds }

// A keeper keeps one session syncing in the background, one long-poll
// after another from the last token, with a set_presence, the way an open
// client stays connected. It asserts nothing on its goroutine: the spec
// reads what it saw once it stops it.
type keeper struct {
	sess *client.Session
	done chan struct{}
	stop context.CancelFunc

	mu        sync.Mutex
	responses int              // 200s received
	failed    *client.Exchange // the first that was not a 200
	lastEnd   time.Time        // when the last response came
}

// keepSyncing starts a keeper; its first sync is an initial one and
// returns at once, each later one waits up to wait. Stop it before the
// spec ends.
func keepSyncing(s *Spec, sess *client.Session, setPresence string, wait time.Duration) *keeper {
	ctx, cancel := context.WithCancel(s.Context())
	quiet := s.Client().Quiet().As(sess.UserID, sess.Token)
	k := &keeper{sess: quiet, done: make(chan struct{}), stop: cancel}
	wait = s.longPollWait(wait)
	go func() {
		defer close(k.done)
		params := client.SyncParams{SetPresence: setPresence}
		for ctx.Err() == nil {
			ex := quiet.Sync(ctx, params)
			if ctx.Err() != nil {
				return
			}
			resp, err := client.DecodeSync(ex)
			k.mu.Lock()
			if ex.Status() != http.StatusOK || err != nil || resp.NextBatch == "" {
				if k.failed == nil {
					k.failed = ex
				}
				k.mu.Unlock()
				return
			}
			k.responses++
			k.lastEnd = time.Now()
			k.mu.Unlock()
			params.Since, params.Timeout = resp.NextBatch, wait
			if wait == 0 {
				// Syncs that answer at once, a few a second: activity, not a flood.
				select {
				case <-ctx.Done():
				case <-time.After(keeperPause):
				}
			}
		}
	}()
	return k
}

// keeperPause spaces a keeper's syncs that do not wait.
const keeperPause = 100 * time.Millisecond

// started waits for the keeper's first response (the device is then
// connected), for at most the settle window.
func (k *keeper) started(s *Spec) {
	deadline := time.Now().Add(s.Settle() + s.run.cfg.Timeout)
	for time.Now().Before(deadline) {
		k.mu.Lock()
		n, failed := k.responses, k.failed
		k.mu.Unlock()
		if n > 0 || failed != nil {
			break
		}
		s.Sleep(10 * time.Millisecond)
	}
	k.check(s)
}

// close stops the keeper and waits for its goroutine, asserting nothing:
// for a defer, which may run while a failure unwinds.
func (k *keeper) close() {
	k.stop()
	<-k.done
}

// halt stops the keeper and waits for its goroutine; it returns how many
// responses came, and when the last did.
func (k *keeper) halt(s *Spec) (int, time.Time) {
	k.stop()
	<-k.done
	k.check(s)
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.responses, k.lastEnd
}

// check fails the spec when one of the keeper's syncs failed.
func (k *keeper) check(s *Spec) {
	k.mu.Lock()
	failed := k.failed
	k.mu.Unlock()
	if failed != nil {
		s.Client().Report(failed)
		s.Expect(failed).To(match.HaveStatus(http.StatusOK), "%s's client syncing in the background", k.sess.UserID)
	}
}

// awaitBy reads a stream until the last event of sender satisfies want,
// until deadline; false when the deadline passed first.
func (st *syncStream) awaitBy(deadline time.Time, sender string, want func(client.SyncPresence) bool) bool {
	for read := false; ; read = true {
		if e, ok := st.latest[sender]; ok && want(e) {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 && read {
			return false
		}
		st.next(max(left, 0))
	}
}

func presenceIs(state string) func(client.SyncPresence) bool {
	return func(e client.SyncPresence) bool { return e.Content.Presence == state }
}

func (st *syncStream) lastOf(sender string) string {
	if e, ok := st.latest[sender]; ok {
		return "the last shows " + describeSync(e)
	}
	return "no m.presence event of theirs came"
}

func timeRequirements(r registrar) {
	const endpoint = EndpointTime

	r.require(Requirement{
		ID: "PRES-TIME-01", Level: Must, Endpoint: endpoint, Versions: sinceR0, Timers: true, Waits: true,
		Text: "A user whose client stays connected (long-polling /sync with set_presence=online) but who does nothing else after setting themselves online MUST be shown unavailable to a room-mate within the idle threshold (--idle-after) and --settle of that last activity.",
		Basis: `Presence module: "The server will automatically set a user's presence to unavailable if their last active time was over a threshold value (e.g. 5 minutes)." ` +
			`"A pro-active event may be sending a message to a room or changing presence state to online": a client that stays connected changes nothing, and otherwise no connected user would ever go idle.`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{})
		open := keepSyncing(s, alice, "online", 20*time.Second)
		defer open.close()
		open.started(s)
		setStatus(s, alice, "online", "about to idle")
		active := time.Now()
		stream.await(alice.UserID, `online "about to idle"`, isState("online", "about to idle"))
		idle := s.thresholds().IdleAfter
		if !stream.awaitBy(active.Add(idle+s.Settle()), alice.UserID, presenceIs("unavailable")) {
			s.fail(fmt.Sprintf("Expected %s, connected but inactive since setting themselves online, to be shown unavailable to %s within %s (--idle-after) + %s (--settle); after %s, %s.",
				alice.UserID, bob.UserID, idle, s.Settle(), time.Since(active).Round(time.Millisecond), stream.lastOf(alice.UserID)))
		}
	})

	r.require(Requirement{
		ID: "PRES-TIME-02", Level: Must, Endpoint: endpoint, Versions: sinceR0, Timers: true, Waits: true,
		Text:  "Activity on any of a user's devices MUST bring an idle user back online: after the user went unavailable while one device stayed connected, a PUT online from a second device (another login) MUST show them online to a room-mate within --settle, and they MUST stay online for a quarter of the idle threshold, or --settle if shorter (the idle timer counts from that activity, whichever device it came from).",
		Basis: `Presence module: "Any activity that bumps the last active time on any of the user's clients will cause the server to automatically set their presence to online"; presence "is collated from both per-device (online, idle, last_active) and per-user (status) data".`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		other := s.NewDevice(alice)
		shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{})
		open := keepSyncing(s, alice, "online", 20*time.Second)
		defer open.close()
		open.started(s)
		setStatus(s, alice, "online", "two devices")
		active := time.Now()
		stream.await(alice.UserID, `online "two devices"`, isState("online", "two devices"))
		idle := s.thresholds().IdleAfter
		if !stream.awaitBy(active.Add(idle+s.Settle()), alice.UserID, presenceIs("unavailable")) {
			s.fail(fmt.Sprintf("Expected %s to go idle first (unavailable within %s + %s, as PRES-TIME-01 requires) so that activity on another device can bring them back; %s.",
				alice.UserID, idle, s.Settle(), stream.lastOf(alice.UserID)))
		}
		setStatus(s, other, "online", "back from the other device")
		stream.await(alice.UserID, `online "back from the other device"`, isState("online", "back from the other device"))
		// A server may idle sooner than it says; not at once, though.
		if hold := min(s.Settle(), idle/4); hold > 0 {
			holdFor(s, stream, hold, fmt.Sprintf("%s to stay online after activity on their other device", alice.UserID), func(e client.SyncPresence) bool {
				return e.Sender == alice.UserID && e.Content.Presence != "online"
			})
		}
	})

	r.require(Requirement{
		ID: "PRES-TIME-03", Level: Must, Endpoint: endpoint, Versions: sinceR0, Timers: true, Waits: true,
		Text:  "A user whose clients all stop syncing MUST be shown offline to a room-mate within the offline threshold (--offline-after) and --settle of their last sync.",
		Basis: `Presence module: offline: "The user is not connected to an event stream"; a server that keeps a user online once their clients are gone shows them online for ever.`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{SetPresence: "offline"})
		setStatus(s, alice, "online", "leaving soon")
		open := keepSyncing(s, alice, "online", s.Settle()/4)
		open.started(s)
		stream.await(alice.UserID, `online "leaving soon"`, isState("online", "leaving soon"))
		// Its last long-poll (a quarter of --settle at most) is cut off
		// here: the client is gone from now.
		open.halt(s)
		gone := time.Now()
		offline := s.thresholds().OfflineAfter
		if !stream.awaitBy(gone.Add(offline+s.Settle()), alice.UserID, presenceIs("offline")) {
			s.fail(fmt.Sprintf("Expected %s, whose one client stopped syncing, to be shown offline to %s within %s (--offline-after) + %s (--settle); after %s, %s.",
				alice.UserID, bob.UserID, offline, s.Settle(), time.Since(gone).Round(time.Millisecond), stream.lastOf(alice.UserID)))
		}
	})

	r.require(Requirement{
		ID: "PRES-TIME-04", Level: Must, Endpoint: endpoint, Versions: sinceR0, Waits: true,
		Text:  "last_active_ago in every m.presence event /sync delivers MUST match the time since the user's last activity within --settle: in the event a room-mate receives right after the user sets their presence, and in a room-mate's initial sync a while later, when it has grown by that while.",
		Basis: `Presence module: "the last active time must be up to date whenever the server gives a presence event to the client"; last_active_ago: "The length of time in milliseconds since an action was performed by this user."`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{})
		before := time.Now()
		setStatus(s, alice, "online", "how long ago")
		after := time.Now()
		e := stream.await(alice.UserID, `online "how long ago"`, isState("online", "how long ago"))
		checkAgo(s, e, before, after, after, time.Now())
		// The user does nothing for longer than the window, so that an
		// age stuck at its first value is out of it.
		s.Sleep(s.Settle() + 300*time.Millisecond)
		asked := time.Now()
		later := startSync(s, bob, client.SyncParams{})
		got := time.Now()
		e, ok := later.latest[alice.UserID]
		if !ok {
			later.await(alice.UserID, "present", func(client.SyncPresence) bool { return true })
			e, got = later.latest[alice.UserID], time.Now()
		}
		checkAgo(s, e, before, after, asked, got)
	})

	r.require(Requirement{
		ID: "PRES-TIME-05", Level: Must, Endpoint: endpoint, Versions: sinceR0, Watches: true,
		Text:  "Once a room-mate has received a user's presence as online with currently_active true, the user's further activity (their client syncing with set_presence=online, again and again) MUST NOT send that room-mate another m.presence event about them that is still online and currently_active true, over --settle.",
		Basis: `Presence module, of currently_active: "When true, the server will not send further updates to the last active time until an update is sent to the client with either a) currently_active set to false or b) a presence state other than online."`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{})
		setStatus(s, alice, "online", "busy typing")
		first := stream.await(alice.UserID, `online "busy typing"`, isState("online", "busy typing"))
		active := keepSyncing(s, alice, "online", 0) // a sync after a sync, each answered at once
		defer active.close()
		contract := first.Content.CurrentlyActive != nil && *first.Content.CurrentlyActive
		stream.holdNone(fmt.Sprintf("no further online, currently_active event of %s while they stay active (the first showed %s, currently_active %v)", alice.UserID, describeSync(first), contract),
			func(e client.SyncPresence) bool {
				if e.Sender != alice.UserID {
					return false
				}
				on := e.Content.CurrentlyActive != nil && *e.Content.CurrentlyActive
				bad := contract && e.Content.Presence == "online" && on
				// An event that is not online and currently_active ends
				// the promise; one that is starts it.
				contract = e.Content.Presence == "online" && on
				return bad
			})
		if n, _ := active.halt(s); n < 2 {
			s.fail(fmt.Sprintf("%s's client made %d syncs over the window, too few to count as activity.", alice.UserID, n))
		}
	})
}

// checkAgo checks an event's last_active_ago against the user's last
// activity, which happened between before and after: the server made the
// event between asked and got, so the age it shows must lie between
// asked-after and got-before, give or take --settle.
func checkAgo(s *Spec, e client.SyncPresence, before, after, asked, got time.Time) {
	s.Expect(e.Content.LastActiveAgo).NotTo(gomega.BeNil(), "last_active_ago in %s", describeSync(e))
	ago := time.Duration(*e.Content.LastActiveAgo) * time.Millisecond
	lo, hi := asked.Sub(after), got.Sub(before)
	s.Expect(ago).To(gomega.BeNumerically(">=", lo-s.Settle()),
		"last_active_ago of %s (%s): the activity was at least %s before the request; --settle %s", e.Sender, ago, lo.Round(time.Millisecond), s.Settle())
	s.Expect(ago).To(gomega.BeNumerically("<=", hi+s.Settle()),
		"last_active_ago of %s (%s): the activity was at most %s before the answer; --settle %s", e.Sender, ago, hi.Round(time.Millisecond), s.Settle())
}

// holdFor watches a stream for d, failing at an event bad picks.
func holdFor(s *Spec, st *syncStream, d time.Duration, what string, bad func(client.SyncPresence) bool) {
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		events, ex := st.next(left)
		for _, e := range events {
			if bad(e) {
				s.fail(fmt.Sprintf("Expected %s for %s; a /sync of %s delivered %s.\n\n%s", what, d, st.viewer.UserID, describeSync(e), ex))
			}
		}
	}
}
