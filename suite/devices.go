package suite

import (
	"fmt"
	"net/http"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
)

// One user, two devices (two logins), both syncing at once with different
// set_presence values: what homeservers have broken when several clients
// are connected (a /sync loop between the devices, presence that
// flickers).

// twoDevices is what a room-mate and the two devices saw over the settle
// window.
type twoDevices struct {
	alice, bob        *client.Session
	first, second     *keeper
	firstN, secondN   int // responses each device got over the window
	events            int // m.presence events about alice bob received over the window
	window            time.Duration
	latest            client.SyncPresence
	sawLatest         bool
	firstAs, secondAs string
}

// watchTwoDevices has alice's first device sync with set_presence=first
// and, once it is connected, a second device with second, each
// long-polling; bob, a room-mate, follows his /sync. Over the settle
// window it counts the responses each device gets and the events about
// alice bob gets.
func watchTwoDevices(s *Spec, first, second string) twoDevices {
	alice, bob := s.NewUser(), s.NewUser()
	other := s.NewDevice(alice)
	shareRoom(s, bob, alice)
	stream := startSync(s, bob, client.SyncParams{SetPresence: "offline"})
	wait := s.Settle()
	d := twoDevices{alice: alice, bob: bob, window: s.Settle(), firstAs: first, secondAs: second}
	d.first = keepSyncing(s, alice, first, wait)
	d.first.started(s)
	d.second = keepSyncing(s, other, second, wait)
	d.second.started(s)
	// Responses are counted from here: connecting cost each device one.
	from1, from2 := d.first.count(), d.second.count()
	deadline := time.Now().Add(s.Settle())
	for {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		events, _ := stream.next(left)
		for _, e := range events {
			if e.Sender == alice.UserID {
				d.events++
			}
		}
	}
	n1, _ := d.first.halt(s)
	n2, _ := d.second.halt(s)
	d.firstN, d.secondN = n1-from1, n2-from2
	d.latest, d.sawLatest = stream.latest[alice.UserID]
	return d
}

func (k *keeper) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.responses
}

// Bounds over the settle window: each device long-polls for the whole
// window, so a server that waits as asked answers each about once; a few
// more are news (the other device connecting). A loop answers hundreds.
const (
	maxResponsesPerDevice = 6
	maxEventsToRoomMate   = 4
)

func deviceRequirements(r registrar) {
	const endpoint = EndpointDevices

	r.require(Requirement{
		ID: "PRES-DEVICE-01", Level: Should, Endpoint: endpoint, Versions: sinceR0, Waits: true,
		Text:  "When one device of a user syncs with set_presence=online and another, connected after it, with set_presence=unavailable, the user's presence SHOULD be the most present of the two, online, as a room-mate sees it at the end of the settle window.",
		Basis: `Presence module: presence "is collated from both per-device (online, idle, last_active) and per-user (status) data, aggregated by the user's homeserver"; the spec gives no rule, and Synapse and Dendrite take the most present state of the devices (Dendrite's requestpool.go: "online will always get priority").`,
	}, func(s *Spec) {
		d := watchTwoDevices(s, "online", "unavailable")
		if !d.sawLatest || d.latest.Content.Presence != "online" {
			shown := "no m.presence event of theirs"
			if d.sawLatest {
				shown = describeSync(d.latest)
			}
			s.fail(fmt.Sprintf("Expected %s, online on one device and unavailable on another, to be shown online to %s; the last event shows %s.", d.alice.UserID, d.bob.UserID, shown))
		}
	})

	r.require(Requirement{
		ID: "PRES-DEVICE-02", Level: Must, Endpoint: endpoint, Versions: sinceR0, Watches: true,
		Text:  "While one device of a user syncs with set_presence=online, another device of theirs syncing with set_presence=offline MUST NOT show them offline: a room-mate MUST receive no offline m.presence event about them over --settle.",
		Basis: `sync set_presence: "if the parameter is set to \"offline\" then the client is not marked as being online when it uses this API": it says nothing of the user's other clients, one of which marks them online.`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		other := s.NewDevice(alice)
		shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{SetPresence: "offline"})
		online := keepSyncing(s, alice, "online", s.Settle())
		defer online.close()
		online.started(s)
		stream.await(alice.UserID, "online", presenceIs("online"))
		quiet := keepSyncing(s, other, "offline", s.Settle())
		defer quiet.close()
		quiet.started(s)
		stream.holdNone(fmt.Sprintf("no offline event of %s while one of their devices syncs online", alice.UserID), func(e client.SyncPresence) bool {
			return e.Sender == alice.UserID && e.Content.Presence == "offline"
		})
	})

	r.require(Requirement{
		ID: "PRES-DEVICE-03", Level: Must, Endpoint: endpoint, Versions: sinceR0, Watches: true,
		Text:  fmt.Sprintf("When two devices of a user long-poll /sync at once, one with set_presence=online and one with unavailable, neither long-poll may spin: each MUST wait out its timeout unless something it may see changes, so each device gets at most %d responses over --settle (each asks to wait the whole window).", maxResponsesPerDevice),
		Basis: `sync.yaml timeout: "The maximum time to wait, in milliseconds, before returning this request" when no events become available; two clients of one user that keep waking each other with their set_presence are a loop, not news.`,
	}, func(s *Spec) {
		d := watchTwoDevices(s, "online", "unavailable")
		for _, dev := range []struct {
			as string
			n  int
		}{{d.firstAs, d.firstN}, {d.secondAs, d.secondN}} {
			if dev.n > maxResponsesPerDevice {
				s.fail(fmt.Sprintf("Expected each device of %s to get at most %d /sync responses over %s, each asking to wait %s; the device syncing with set_presence=%s got %d (the other %d and %d in all): the long-polls spin.",
					d.alice.UserID, maxResponsesPerDevice, d.window, d.window, dev.as, dev.n, d.firstN, d.secondN))
			}
		}
	})

	r.require(Requirement{
		ID: "PRES-DEVICE-04", Level: Must, Endpoint: endpoint, Versions: sinceR0, Watches: true,
		Text:  fmt.Sprintf("While two devices of a user sync at once, one with set_presence=online and one with unavailable, a room-mate MUST receive a bounded number of m.presence events about them, at most %d over --settle, not a stream of flips.", maxEventsToRoomMate),
		Basis: `Presence module: presence is "aggregated by the user's homeserver": one user's presence, not a copy per client; and the currently_active mechanism exists to spare clients needless updates.`,
	}, func(s *Spec) {
		d := watchTwoDevices(s, "online", "unavailable")
		if d.events > maxEventsToRoomMate {
			s.fail(fmt.Sprintf("Expected %s to receive at most %d m.presence events about %s over %s while their two devices sync; got %d.",
				d.bob.UserID, maxEventsToRoomMate, d.alice.UserID, d.window, d.events))
		}
	})

	r.require(Requirement{
		ID: "PRES-DEVICE-05", Level: Should, Endpoint: endpoint, Versions: sinceR0, Feature: busyPresence,
		Text:  "Where the server advertises " + busyPresence + " in /versions unstable_features, a user SHOULD be able to set that presence with a status_msg and read it back, and their own client's /sync (set_presence omitted) SHOULD NOT clear it.",
		Basis: `Not in the spec: MSC3026 adds a busy state, behind the unstable feature ` + busyPresence + `. The spec's set_presence marks "the client" online when it syncs; a state the user chose is theirs until they choose another.`,
	}, func(s *Spec) {
		if !advertises(s, busyPresence) {
			ginkgo.Skip("the server does not advertise " + busyPresence + " in /versions unstable_features")
		}
		alice := s.NewUser()
		// Busy is no state of the spec's schemas, so these exchanges are
		// judged here rather than against them.
		quiet := s.Client().Quiet().As(alice.UserID, alice.Token)
		msg := "in a meeting"
		ex := quiet.SetStatus(s.Context(), alice.UserID, client.StatusUpdate{Presence: busyPresence, StatusMsg: &msg})
		s.Expect(ex).To(match.HaveStatus(http.StatusOK), "setting presence %s", busyPresence)
		readBusy := func(when string) {
			ex := quiet.GetStatus(s.Context(), alice.UserID)
			s.Expect(ex).To(match.HaveStatus(http.StatusOK), "reading %s's status %s", alice.UserID, when)
			st, err := client.DecodeStatus(ex)
			s.Expect(err).NotTo(gomega.HaveOccurred(), "%s", ex)
			s.Expect(st.Presence).To(gomega.Equal(busyPresence), "%s's presence %s\n\n%s", alice.UserID, when, ex)
			s.Expect(st.StatusMsg).To(gomega.HaveValue(gomega.Equal(msg)), "%s's status_msg %s\n\n%s", alice.UserID, when, ex)
		}
		readBusy("after setting it busy")
		for _, p := range []client.SyncParams{{}, {Timeout: 0}} {
			ex := quiet.Sync(s.Context(), p)
			s.Expect(ex).To(match.HaveStatus(http.StatusOK), "%s syncing", alice.UserID)
		}
		readBusy("after two of their own syncs, set_presence omitted")
	})
}

// busyPresence is MSC3026's busy state: the unstable feature that
// advertises it, and the presence value.
const busyPresence = "org.matrix.msc3026.busy"

// advertises reports whether the server lists an unstable feature as on
// in /versions.
func advertises(s *Spec, feature string) bool {
	ex := s.Client().Do(s.Context(), client.Request{Method: http.MethodGet, Path: "/_matrix/client/versions", Absolute: true})
	s.Expect(ex).To(match.HaveStatus(http.StatusOK), "reading /versions")
	var body struct {
		Unstable map[string]bool `json:"unstable_features"`
	}
	s.Expect(ex.DecodeJSON(&body)).To(gomega.Succeed(), "decoding /versions\n\n%s", ex)
	return body.Unstable[feature]
}
