package mockserver

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The timers run on the injected clock: each test moves the clock and runs
// the timers that are due, as the server's own timer would, and nothing
// sleeps.

const (
	testIdle    = 5 * time.Minute
	testOffline = 30 * time.Second
)

func newTimerHarness(t *testing.T) *harness {
	return newHarness(t, func(o *Options) { o.IdleAfter, o.OfflineAfter = testIdle, testOffline })
}

// tick moves the clock on and runs the timers due by then.
func (h *harness) tick(d time.Duration) {
	h.clock.Advance(d)
	h.srv.runTimers()
}

// roomPair is alice and bob in one room, on v3.
func (h *harness) roomPair() (a, b Account) {
	a, b = h.register("alice"), h.register("bob")
	roomID := h.createRoom(v3Prefix, a, b.UserID)
	mustOK(h.t, h.joinRoom(v3Prefix, b, roomID))
	return a, b
}

// devicesOf describes a user's devices from the store, for "unchanged"
// checks: what each asked for, until when it is connected, its activity.
func (h *harness) devicesOf(acct Account) string {
	u := h.srv.userByID(acct.UserID)
	u.mu.Lock()
	defer u.mu.Unlock()
	var lines []string
	for id, d := range u.devices {
		lines = append(lines, fmt.Sprintf("%s want=%s until=%d active=%d seq=%d", id, d.want, d.connectedUntil.UnixMilli(), d.lastActive.UnixMilli(), d.seq))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + fmt.Sprintf("\npresence=%s active=%d", u.presence, u.lastActive.UnixMilli())
}

// keepSyncing has acct's device sync once every step for d of fake time,
// running the timers as the clock moves.
func (h *harness) keepSyncing(acct Account, setPresence string, d, step time.Duration) {
	for spent := time.Duration(0); spent < d; spent += step {
		h.syncAs(v3Prefix, acct, q("set_presence", setPresence))
		h.tick(step)
	}
}

func TestIdleTimerShowsAConnectedButInactiveUserUnavailable(t *testing.T) {
	h := newTimerHarness(t)
	a, b := h.roomPair()
	h.syncAs(v3Prefix, a, q("set_presence", "online"))
	h.putPresence(v3Prefix, a, `{"presence":"online","status_msg":"here"}`)
	since := h.syncAs(v3Prefix, b, q("set_presence", "offline")).NextBatch

	// Syncing on, as an open client does, is not activity.
	h.keepSyncing(a, "online", testIdle-20*time.Second, 20*time.Second)
	if got := h.presenceOf(a); got != "online" {
		t.Fatalf("presence %s before the idle threshold; want online", got)
	}
	h.keepSyncing(a, "online", 40*time.Second, 20*time.Second)
	if got := h.presenceOf(a); got != "unavailable" {
		t.Fatalf("presence %s after the idle threshold; want unavailable", got)
	}
	e := h.syncAs(v3Prefix, b, q("since", since, "set_presence", "offline")).eventFrom(a.UserID)
	if e == nil || e.Content.Presence != "unavailable" || e.Content.CurrentlyActive == nil || *e.Content.CurrentlyActive {
		t.Fatalf("bob's sync after alice idled: %+v; want unavailable, currently_active false", e)
	}
	if ago := *e.Content.LastActiveAgo; ago < testIdle.Milliseconds() {
		t.Errorf("last_active_ago %d after the idle threshold; want at least %d", ago, testIdle.Milliseconds())
	}
	if e.Content.StatusMsg == nil || *e.Content.StatusMsg != "here" {
		t.Errorf("going idle changed status_msg: %+v", e.Content.StatusMsg)
	}
}

func TestActivityOnAnotherDeviceBringsTheUserBackAndRestartsTheIdleTimer(t *testing.T) {
	h := newTimerHarness(t)
	a, _ := h.roomPair()
	other := h.login(v3Prefix, a, "PHONE")
	h.putPresence(v3Prefix, a, `{"presence":"online"}`)
	h.keepSyncing(a, "online", testIdle+20*time.Second, 20*time.Second)
	if got := h.presenceOf(a); got != "unavailable" {
		t.Fatalf("presence %s after the idle threshold; want unavailable", got)
	}
	mustOK(t, h.as(other.AccessToken, "PUT", statusPathIn(v3Prefix, a.UserID), `{"presence":"online"}`))
	if got := h.presenceOf(a); got != "online" {
		t.Fatalf("presence %s after a PUT from the other device; want online", got)
	}
	h.keepSyncing(a, "online", testIdle-20*time.Second, 20*time.Second)
	if got := h.presenceOf(a); got != "online" {
		t.Fatalf("presence %s less than the idle threshold after the other device's activity; want online", got)
	}
	h.keepSyncing(a, "online", 40*time.Second, 20*time.Second)
	if got := h.presenceOf(a); got != "unavailable" {
		t.Fatalf("presence %s after the idle threshold; want unavailable", got)
	}
}

func TestAUserWhoseDevicesAllStopSyncingGoesOffline(t *testing.T) {
	h := newTimerHarness(t)
	a, b := h.roomPair()
	h.putPresence(v3Prefix, a, `{"presence":"online"}`)
	h.syncAs(v3Prefix, a, "")
	since := h.syncAs(v3Prefix, b, q("set_presence", "offline")).NextBatch
	h.tick(testOffline - time.Second)
	if got := h.presenceOf(a); got != "online" {
		t.Fatalf("presence %s before the offline threshold; want online", got)
	}
	h.tick(time.Second)
	if got := h.presenceOf(a); got != "offline" {
		t.Fatalf("presence %s at the offline threshold; want offline", got)
	}
	if e := h.syncAs(v3Prefix, b, q("since", since, "set_presence", "offline")).eventFrom(a.UserID); e == nil || e.Content.Presence != "offline" {
		t.Fatalf("bob's sync after alice's client stopped: %+v; want offline", e)
	}
	// Syncing again is coming back: online, and activity.
	h.syncAs(v3Prefix, a, "")
	if got := h.presenceOf(a); got != "online" {
		t.Fatalf("presence %s after syncing again; want online", got)
	}
}

func TestAUserWhoNeverSyncedKeepsWhatTheyPutUntilIdle(t *testing.T) {
	h := newTimerHarness(t)
	a, _ := h.roomPair()
	h.putPresence(v3Prefix, a, `{"presence":"online"}`)
	h.tick(testOffline + time.Minute)
	if got := h.presenceOf(a); got != "online" {
		t.Fatalf("presence %s; a user with no stream to lose keeps what they set", got)
	}
	h.tick(testIdle)
	if got := h.presenceOf(a); got != "unavailable" {
		t.Fatalf("presence %s after the idle threshold; want unavailable", got)
	}
}

func TestTwoDevicesShowTheMostPresentStateAndDropOutOneByOne(t *testing.T) {
	h := newTimerHarness(t)
	a, b := h.roomPair()
	phone := h.login(v3Prefix, a, "PHONE")
	phoneAcct := Account{UserID: a.UserID, AccessToken: phone.AccessToken}
	h.syncAs(v3Prefix, a, q("set_presence", "online"))
	h.syncAs(v3Prefix, phoneAcct, q("set_presence", "unavailable"))
	if got := h.presenceOf(a); got != "online" {
		t.Fatalf("presence %s with one device online and one unavailable; want online", got)
	}
	since := h.syncAs(v3Prefix, b, q("set_presence", "offline")).NextBatch
	// Both keep syncing as they did: nothing changes, nothing is news.
	for range 5 {
		h.syncAs(v3Prefix, a, q("set_presence", "online"))
		h.syncAs(v3Prefix, phoneAcct, q("set_presence", "unavailable"))
		h.tick(time.Second)
	}
	if events := h.syncAs(v3Prefix, b, q("since", since, "set_presence", "offline")).Presence.Events; len(events) != 0 {
		t.Fatalf("two devices syncing as before sent bob %+v; want nothing", events)
	}
	// The online device stops; the unavailable one goes on.
	h.keepSyncing(phoneAcct, "unavailable", testOffline+2*time.Second, time.Second)
	if got := h.presenceOf(a); got != "unavailable" {
		t.Fatalf("presence %s once the online device stopped; want unavailable", got)
	}
	h.tick(testOffline)
	if got := h.presenceOf(a); got != "offline" {
		t.Fatalf("presence %s once both devices stopped; want offline", got)
	}
}

func TestSetPresenceOfflineNeitherMarksNorConnects(t *testing.T) {
	h := newTimerHarness(t)
	a, _ := h.roomPair()
	h.putPresence(v3Prefix, a, `{"presence":"unavailable"}`)
	before := h.devicesOf(a)
	h.syncAs(v3Prefix, a, q("set_presence", "offline"))
	if after := h.devicesOf(a); after != before {
		t.Fatalf("a sync with set_presence=offline changed the devices:\n%s\n→\n%s", before, after)
	}
}

func TestKeepingOnSyncingIsNotActivityAndSendsNothing(t *testing.T) {
	h := newTimerHarness(t)
	a, b := h.roomPair()
	h.syncAs(v3Prefix, a, "")
	h.putPresence(v3Prefix, a, `{"presence":"online"}`)
	active := h.srv.userByID(a.UserID).state().lastActive
	since := h.syncAs(v3Prefix, b, q("set_presence", "offline")).NextBatch
	h.keepSyncing(a, "online", time.Minute, 10*time.Second)
	if got := h.srv.userByID(a.UserID).state().lastActive; !got.Equal(active) {
		t.Errorf("syncing on moved the last activity from %s to %s", active, got)
	}
	if events := h.syncAs(v3Prefix, b, q("since", since, "set_presence", "offline")).Presence.Events; len(events) != 0 {
		t.Errorf("alice syncing on sent bob %+v; currently_active promises nothing", events)
	}
}

func TestATimerChangeWakesAWaitingLongPoll(t *testing.T) {
	h := newTimerHarness(t)
	a, b := h.roomPair()
	h.putPresence(v3Prefix, a, `{"presence":"online"}`)
	since := h.syncAs(v3Prefix, b, q("set_presence", "offline")).NextBatch
	answered := make(chan syncBody, 1)
	go func() {
		answered <- h.syncAs(v3Prefix, b, q("since", since, "timeout", "60000", "set_presence", "offline"))
	}()
	for h.srv.stream.waiting.Load() == 0 {
		runtime.Gosched() // until the long-poll waits
	}
	h.tick(testIdle)
	e := (<-answered).eventFrom(a.UserID)
	if e == nil || e.Content.Presence != "unavailable" {
		t.Fatalf("the long-poll answered %+v; want alice unavailable", e)
	}
}

func TestRefusedRequestsChangeNoDeviceOrTimer(t *testing.T) {
	h := newTimerHarness(t)
	a, b := h.roomPair()
	h.syncAs(v3Prefix, a, "")
	h.putPresence(v3Prefix, a, `{"presence":"online"}`)
	h.tick(time.Second)
	before, world := h.devicesOf(a), h.world()
	h.srv.timers.mu.Lock()
	due := h.srv.timers.due[h.srv.userByID(a.UserID)]
	h.srv.timers.mu.Unlock()
	for _, c := range []struct {
		name, token, method, path, body string
		status                          int
		errcode                         string
	}{
		{"bad set_presence", a.AccessToken, "GET", v3Prefix + "/sync?set_presence=busy", "", 400, "M_INVALID_PARAM"},
		{"bad since", a.AccessToken, "GET", v3Prefix + "/sync?since=nope", "", 400, "M_INVALID_PARAM"},
		{"bad timeout", a.AccessToken, "GET", v3Prefix + "/sync?timeout=-1", "", 400, "M_INVALID_PARAM"},
		{"another's status", b.AccessToken, "PUT", statusPathIn(v3Prefix, a.UserID), `{"presence":"unavailable"}`, 403, "M_FORBIDDEN"},
		{"bad body", a.AccessToken, "PUT", statusPathIn(v3Prefix, a.UserID), `{"presence":"away"}`, 400, "M_BAD_JSON"},
		{"unknown token", "nope", "GET", v3Prefix + "/sync", "", 401, "M_UNKNOWN_TOKEN"},
	} {
		expectError(t, h.as(c.token, c.method, c.path, c.body), c.status, c.errcode)
		if after := h.devicesOf(a); after != before {
			t.Errorf("%s changed alice's devices:\n%s\n→\n%s", c.name, before, after)
		}
		h.unchanged(c.name, world)
		h.srv.timers.mu.Lock()
		if got := h.srv.timers.due[h.srv.userByID(a.UserID)]; !got.Equal(due) {
			t.Errorf("%s moved alice's next timer from %s to %s", c.name, due, got)
		}
		h.srv.timers.mu.Unlock()
	}
}
