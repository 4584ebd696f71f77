package mockserver

import (
	"sync"
	"time"
)

// Presence is kept per device and aggregated into the user's: the presence
// module says it "is collated from both per-device (online, idle,
// last_active) and per-user (status) data". Each device (each access
// token's device ID) remembers the state it last asked for (its
// set_presence, or its last PUT) and until when it counts as connected to
// an event stream. The user's presence, the one GET and /sync report, is
// still the one field it always was; what changes it is:
//
//   - a PUT, which sets it outright (the user said so) and is activity;
//   - a /sync that connects a device, or asks for another state than the
//     device asked for before: the user then shows the most present state
//     of their connected devices (online over unavailable), and a device
//     coming online is activity. A device that keeps syncing as it did is
//     not activity, so that a client left open goes idle;
//   - the idle timer: online with no activity for idleAfter becomes
//     unavailable;
//   - the offline timer: a device that has not synced for offlineAfter is
//     no longer connected; when a user's last connected device goes, they
//     are offline (the spec's "not connected to an event stream"). A user
//     who never synced keeps what they PUT: they never had a stream to lose.
//
// The timers run on the server's clock. They are applied lazily (a GET
// status applies what is due to the user it reads) and by one timer armed
// for the earliest deadline, which sweeps the users that are due and wakes
// the long-polls their changes are news to. With an injected clock, tests
// move the clock and call runTimers: nothing sleeps.

// Default thresholds: Synapse's (synapse/handlers/presence.py: IDLE_TIMER
// is 5 minutes, SYNC_ONLINE_TIMEOUT 30 seconds), which the spec's "e.g. 5
// minutes" matches.
const (
	DefaultIdleAfter    = 5 * time.Minute
	DefaultOfflineAfter = 30 * time.Second
)

// A device is one device's part in its user's presence, under the user's
// lock.
type device struct {
	want           string    // online or unavailable: what it last asked for
	connectedUntil time.Time // zero: never synced, or no longer connected
	lastActive     time.Time // its own last activity
	seq            uint64    // when want last changed, in the user's order
}

// presenceTimers holds the thresholds and the users whose timers are
// pending, with the one real timer armed for the earliest of them.
type presenceTimers struct {
	idleAfter, offlineAfter time.Duration

	mu    sync.Mutex
	due   map[*user]time.Time
	timer *time.Timer
	armed time.Time // the deadline timer is armed for; zero: not armed
}

// timerSeams are where deviations reach into the timers; zero in the
// reference.
type timerSeams struct {
	noIdle, noOffline bool
	// idleSince, when set, is the activity the idle timer counts from.
	idleSince func(u *user) time.Time
	// aggregate, when set, picks the user's state from their connected
	// devices.
	aggregate func(devices map[string]*device) string
	// lastSyncWins makes every sync set the user's presence to its own
	// set_presence, offline included.
	lastSyncWins bool
	// offlineMarks makes a device's first sync with set_presence=offline
	// mark the user offline.
	offlineMarks bool
	// busyCleared makes a sync clear the busy state (deviation_busy.go),
	// which it otherwise leaves.
	busyCleared bool
	// chatter makes every sync of an online user activity that takes a
	// new position in the stream.
	chatter bool
}

func (s *Server) initTimers(opts Options) {
	s.timers.idleAfter, s.timers.offlineAfter = opts.IdleAfter, opts.OfflineAfter
	if s.timers.idleAfter <= 0 {
		s.timers.idleAfter = DefaultIdleAfter
	}
	if s.timers.offlineAfter <= 0 {
		s.timers.offlineAfter = DefaultOfflineAfter
	}
	s.timers.due = map[*user]time.Time{}
}

// deviceID is the caller's device; "" for a call a deviation makes on a
// user's behalf, without a token.
func (c call) deviceID() string {
	if c.sess == nil {
		return ""
	}
	return c.sess.deviceID
}

// deviceLocked returns u's device id, made on first use; the caller holds
// u.mu.
func (u *user) deviceLocked(id string) *device {
	if u.devices == nil {
		u.devices = map[string]*device{}
	}
	d := u.devices[id]
	if d == nil {
		d = &device{}
		u.devices[id] = d
	}
	return d
}

// presenceRank orders states from least to most present.
func presenceRank(state string) int {
	switch state {
	case "online", "free_for_chat":
		return 3
	case "unavailable":
		return 2
	case "offline":
		return 1
	}
	return 0
}

// mostPresent is the reference aggregation: the most present state any
// connected device asks for; "" when none is connected.
func mostPresent(devices map[string]*device) string {
	best := ""
	for _, d := range devices {
		if !d.connectedUntil.IsZero() && presenceRank(d.want) > presenceRank(best) {
			best = d.want
		}
	}
	return best
}

func (s *Server) aggregateLocked(u *user) string {
	if s.timerSeams.aggregate != nil {
		return s.timerSeams.aggregate(u.devices)
	}
	return mostPresent(u.devices)
}

// putStatusLocked applies a PUT from a device: the state is the user's at
// once, and the device's, and it is activity. The caller holds u.mu.
func (s *Server) putStatusLocked(u *user, deviceID string, update presenceUpdate, now time.Time) {
	u.presence = update.presence
	u.statusMsg, u.hasStatusMsg = update.statusMsg, update.hasStatusMsg
	u.lastActive = now
	if deviceID != "" {
		d := u.deviceLocked(deviceID)
		if d.want != update.presence {
			u.deviceSeq++
			d.seq = u.deviceSeq
		}
		d.want = update.presence
		d.lastActive = now
	}
	s.presenceChangedLocked(u, now)
}

// syncedLocked applies a /sync's set_presence from a device that may stay
// connected up to wait: omitted or online asks for online, unavailable
// for unavailable, offline for nothing (the device is not marked, and
// does not count as connected). It reports whether the user's presence
// changed. The caller holds u.mu.
func (s *Server) syncedLocked(u *user, deviceID, setPresence string, wait time.Duration, now time.Time) bool {
	want := "online"
	switch setPresence {
	case "offline":
		if s.timerSeams.offlineMarks {
			d := u.deviceLocked(deviceID)
			if d.want != "offline" {
				d.want = "offline"
				return s.setPresenceLocked(u, "offline", now)
			}
		}
		return false
	case "unavailable":
		want = "unavailable"
	}
	if s.timerSeams.lastSyncWins {
		if setPresence == "offline" {
			want = "offline"
		}
		return s.setPresenceLocked(u, want, now)
	}
	if u.presence == busyFeature && !s.timerSeams.busyCleared {
		// Busy is the user's own word: a client syncing does not undo it.
		d := u.deviceLocked(deviceID)
		d.want, d.connectedUntil = want, now.Add(wait+s.timers.offlineAfter)
		return false
	}
	d := u.deviceLocked(deviceID)
	fresh := d.connectedUntil.IsZero() || d.want != want
	if d.want != want {
		u.deviceSeq++
		d.seq = u.deviceSeq
	}
	d.want = want
	d.connectedUntil = now.Add(wait + s.timers.offlineAfter)
	if !fresh && s.timerSeams.chatter && want == "online" && u.presence == "online" {
		u.lastActive, d.lastActive = now, now
		s.presenceChangedLocked(u, now)
		return true
	}
	if !fresh && (u.presence != "offline" || s.timerSeams.offlineMarks) {
		return false // keeping on as before is not activity
	}
	if want == "online" {
		u.lastActive, d.lastActive = now, now
	}
	target := s.aggregateLocked(u)
	if target == "online" && s.idleDue(u, now) {
		target = "unavailable"
	}
	// free_for_chat, set through v1, is a form of online already.
	if target == "" || target == u.presence || (target == "online" && u.presence == "free_for_chat") {
		return false
	}
	u.presence = target
	s.presenceChangedLocked(u, now)
	return true
}

// setPresenceLocked sets u's presence, a change when it differs.
func (s *Server) setPresenceLocked(u *user, state string, now time.Time) bool {
	if u.presence == state {
		return false
	}
	u.presence = state
	s.presenceChangedLocked(u, now)
	return true
}

// syncAnswered marks the end of a device's sync: the device stays
// connected for offlineAfter from now, however long it asked to wait.
func (s *Server) syncAnswered(u *user, deviceID string, now time.Time) {
	u.mu.Lock()
	if d := u.devices[deviceID]; d != nil && !d.connectedUntil.IsZero() {
		d.connectedUntil = now.Add(s.timers.offlineAfter)
	}
	u.mu.Unlock()
	s.scheduleTimers(u)
}

// idleDue reports whether u, online, has had no activity for idleAfter.
func (s *Server) idleDue(u *user, now time.Time) bool {
	if s.timerSeams.noIdle {
		return false
	}
	return !now.Before(s.idleSinceLocked(u).Add(s.timers.idleAfter))
}

func (s *Server) idleSinceLocked(u *user) time.Time {
	if s.timerSeams.idleSince != nil {
		return s.timerSeams.idleSince(u)
	}
	return u.lastActive
}

// nextDeadlineLocked is u's earliest pending timer; zero when none.
func (s *Server) nextDeadlineLocked(u *user) time.Time {
	var next time.Time
	earlier := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if !s.timerSeams.noIdle && (u.presence == "online" || u.presence == "free_for_chat") {
		earlier(s.idleSinceLocked(u).Add(s.timers.idleAfter))
	}
	if !s.timerSeams.noOffline {
		for _, d := range u.devices {
			if !d.connectedUntil.IsZero() {
				earlier(d.connectedUntil)
			}
		}
	}
	return next
}

// expireLocked applies u's timers that are due at now: devices that
// stopped syncing drop out (the user going offline when the last one
// does), and an online user with no recent activity goes idle. It reports
// whether u's presence changed. The caller holds u.mu.
func (s *Server) expireLocked(u *user, now time.Time) bool {
	dropped := false
	if !s.timerSeams.noOffline {
		for _, d := range u.devices {
			if !d.connectedUntil.IsZero() && !now.Before(d.connectedUntil) {
				d.connectedUntil = time.Time{}
				dropped = true
			}
		}
	}
	target := u.presence
	if dropped {
		target = s.aggregateLocked(u)
		if target == "" {
			target = "offline"
		}
		if target == "online" && u.presence == "free_for_chat" {
			target = u.presence
		}
		if presenceRank(target) > presenceRank(u.presence) {
			target = u.presence // losing a device never makes a user more present
		}
	}
	if (target == "online" || target == "free_for_chat") && s.idleDue(u, now) {
		target = "unavailable"
	}
	if target == u.presence {
		return false
	}
	u.presence = target
	s.presenceChangedLocked(u, now)
	return true
}

// applyDueTimers applies what is due for u now, before a read of u: the
// read then shows what the timers say even between sweeps.
func (s *Server) applyDueTimers(u *user) {
	now := s.clock()
	u.mu.Lock()
	next := s.nextDeadlineLocked(u)
	if next.IsZero() || now.Before(next) {
		u.mu.Unlock()
		return
	}
	changed := s.expireLocked(u, now)
	u.mu.Unlock()
	if changed {
		s.presenceWake()
	}
	s.scheduleTimers(u)
}

// deviceSynced applies a /sync's set_presence from the caller's device
// and arms its timers.
func (s *Server) deviceSynced(u *user, deviceID, setPresence string, wait time.Duration) {
	now := s.clock()
	u.mu.Lock()
	changed := s.syncedLocked(u, deviceID, setPresence, wait, now)
	u.mu.Unlock()
	if changed {
		s.presenceWake()
	}
	s.scheduleTimers(u)
}

// scheduleTimers records u's next deadline and arms the timer if it is
// the earliest.
func (s *Server) scheduleTimers(u *user) {
	u.mu.Lock()
	next := s.nextDeadlineLocked(u)
	u.mu.Unlock()
	t := &s.timers
	t.mu.Lock()
	defer t.mu.Unlock()
	if next.IsZero() {
		delete(t.due, u)
		return
	}
	t.due[u] = next
	if t.armed.IsZero() || next.Before(t.armed) {
		s.armLocked(next)
	}
}

// armLocked arms the one real timer for a deadline on the server's clock.
// The caller holds timers.mu.
func (s *Server) armLocked(deadline time.Time) {
	t := &s.timers
	wait := max(deadline.Sub(s.clock()), time.Millisecond)
	t.armed = deadline
	if t.timer == nil {
		t.timer = time.AfterFunc(wait, s.runTimers)
		return
	}
	t.timer.Reset(wait)
}

// runTimers applies every timer due on the server's clock, and arms the
// timer for the next. Tests with an injected clock call it after moving
// the clock.
func (s *Server) runTimers() {
	now := s.clock()
	t := &s.timers
	t.mu.Lock()
	var due []*user
	for u, at := range t.due {
		if !now.Before(at) {
			due = append(due, u)
			delete(t.due, u)
		}
	}
	t.armed = time.Time{}
	t.mu.Unlock()
	changed := false
	for _, u := range due {
		u.mu.Lock()
		changed = s.expireLocked(u, now) || changed
		u.mu.Unlock()
		s.scheduleTimers(u)
	}
	if changed {
		s.presenceWake()
	}
	// Whatever was armed meanwhile, the earliest deadline left decides:
	// a user scheduled while this ran may have armed a later one.
	t.mu.Lock()
	defer t.mu.Unlock()
	var next time.Time
	for _, at := range t.due {
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	if !next.IsZero() && (t.armed.IsZero() || next.Before(t.armed)) {
		s.armLocked(next)
	}
}
