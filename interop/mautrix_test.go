package interop

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// testBudget bounds each test: whatever the mock does, the test stops
// itself by then.
const testBudget = 50 * time.Second

// presenceDeadline is how long a presence change may take to reach the
// other user's sync loop. The loop long-polls with a 30 s timeout, so
// arriving within it means the change woke the waiting request.
const presenceDeadline = 2 * time.Second

// newUser registers an account in one request, with m.login.dummy auth and
// no session as bots and scripts send it, then logs in with its password
// and returns a client holding the login's access token.
func newUser(ctx context.Context, t *testing.T, baseURL, localpart string) *mautrix.Client {
	t.Helper()
	cli, err := mautrix.NewClient(baseURL, "", "")
	if err != nil {
		t.Fatalf("mautrix.NewClient(%s): %v", baseURL, err)
	}
	password := localpart + "-password"
	reg, uia, err := cli.Register(ctx, &mautrix.ReqRegister[any]{
		Username: localpart,
		Password: password,
		Auth:     mautrix.BaseAuthData{Type: mautrix.AuthTypeDummy},
	})
	if err != nil {
		t.Fatalf("register %s with one-request m.login.dummy: %v (interactive auth answer: %+v)", localpart, err, uia)
	}
	if reg.UserID.Localpart() != localpart {
		t.Fatalf("register %s: user_id %q has another localpart", localpart, reg.UserID)
	}
	login, err := cli.Login(ctx, &mautrix.ReqLogin{
		Type:             mautrix.AuthTypePassword,
		Identifier:       mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart},
		Password:         password,
		StoreCredentials: true,
	})
	if err != nil {
		t.Fatalf("log in %s: %v", localpart, err)
	}
	if login.UserID != reg.UserID {
		t.Fatalf("log in %s: user_id %q, registered as %q", localpart, login.UserID, reg.UserID)
	}
	return cli
}

// TestMautrixSyncLoopReceivesPresence is what a bot does: two users share a
// room, one syncs, the other sets presence, and the first one's event
// handler sees it.
func TestMautrixSyncLoopReceivesPresence(t *testing.T) {
	p, after := presenceThroughSyncLoop(t)
	if p == nil {
		t.Fatalf("alice's presence did not reach bob's handler within %v", presenceDeadline)
	}
	if p.Presence != event.PresenceOnline {
		t.Errorf("bob's handler got alice's presence %q, want %q", p.Presence, event.PresenceOnline)
	}
	t.Logf("alice's presence reached bob's handler %v after she set it", after)
}

// TestMautrixSyncLoopMissesBrokenDelivery runs the same scenario against a
// mock with a delivery fault: the presence must not arrive within the same
// deadline, or the test above could not tell a broken server from a good one.
func TestMautrixSyncLoopMissesBrokenDelivery(t *testing.T) {
	for _, name := range []string{"sync-without-presence", "sync-long-poll-sleeps"} {
		t.Run(name, func(t *testing.T) {
			fault, ok := mockserver.LookupDeviation(name)
			if !ok {
				t.Fatalf("the mock has no fault %q", name)
			}
			if p, after := presenceThroughSyncLoop(t, fault); p != nil {
				t.Errorf("with fault %s, alice's presence still reached bob's handler (after %v)", name, after)
			}
		})
	}
}

// TestMautrixSyncLoopUnderEveryVariation runs the scenario under each of
// the mock's legitimate variations: a correct client copes with all of them,
// so the presence must still arrive.
func TestMautrixSyncLoopUnderEveryVariation(t *testing.T) {
	for _, v := range mockserver.Variations() {
		t.Run(v.Name, func(t *testing.T) {
			p, after := presenceThroughSyncLoop(t, v)
			if p == nil {
				t.Fatalf("under variation %s, alice's presence did not reach bob's handler within %v", v.Name, presenceDeadline)
			}
			t.Logf("delivered after %v", after)
		})
	}
}

// presenceThroughSyncLoop sets up alice and bob in a shared room, starts
// bob's sync loop, and once its first sync is in, has alice set her
// presence. It returns what bob's presence handler got for her and how long
// after she set it, or nil if nothing came within presenceDeadline.
func presenceThroughSyncLoop(t *testing.T, deviations ...mockserver.Deviation) (*event.PresenceEventContent, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testBudget)
	defer cancel()
	baseURL, calls := startMock(t, deviations...)

	alice := newUser(ctx, t, baseURL, "alice")
	bob := newUser(ctx, t, baseURL, "bob")
	room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "interop", Invite: []id.UserID{bob.UserID}})
	if err != nil {
		t.Fatalf("alice creates a room: %v", err)
	}
	if _, err := bob.JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
		t.Fatalf("bob joins %s: %v", room.RoomID, err)
	}

	// The status message is unique to this change, so the event that
	// carries it cannot be a leftover from the initial sync.
	const status = "testing the sync loop"
	firstSync := make(chan struct{})
	seen := make(chan *event.PresenceEventContent, 1)
	syncer := bob.Syncer.(*mautrix.DefaultSyncer)
	syncer.OnSync(func(context.Context, *mautrix.RespSync, string) bool {
		select {
		case <-firstSync:
		default:
			close(firstSync)
		}
		return true
	})
	syncer.OnEventType(event.EphemeralEventPresence, func(_ context.Context, evt *event.Event) {
		if evt.Sender != alice.UserID {
			return
		}
		if p := evt.Content.AsPresence(); p.StatusMessage == status {
			select {
			case seen <- p:
			default: // the first is enough
			}
		}
	})
	syncCtx, stopSync := context.WithCancel(ctx)
	var syncErr error
	syncDone := make(chan struct{}) // closed when the loop has returned syncErr
	go func() {
		defer close(syncDone)
		syncErr = bob.SyncWithContext(syncCtx)
	}()
	defer func() {
		stopSync()
		<-syncDone
		if syncErr != nil && !errors.Is(syncErr, context.Canceled) {
			t.Errorf("bob's sync loop ended with: %v", syncErr)
		}
	}()

	select {
	case <-firstSync:
	case <-syncDone:
		t.Fatalf("bob's sync loop stopped before its first sync: %v\nfailed requests: %v", syncErr, calls.failed())
	case <-ctx.Done():
		t.Fatalf("bob's first sync did not finish within %v; failed requests: %v", testBudget, calls.failed())
	}

	setAt := time.Now()
	if err := alice.SetPresence(ctx, mautrix.ReqPresence{Presence: event.PresenceOnline, StatusMsg: status}); err != nil {
		t.Fatalf("alice sets her presence: %v", err)
	}
	select {
	case p := <-seen:
		return p, time.Since(setAt)
	case <-syncDone:
		t.Fatalf("bob's sync loop stopped: %v\nfailed requests: %v", syncErr, calls.failed())
	case <-time.After(presenceDeadline):
	}
	return nil, 0
}

// TestMautrixStartUpCalls covers the calls a client makes around its sync
// loop: who am I, what may I do, and the filter it uploads before syncing.
func TestMautrixStartUpCalls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testBudget)
	defer cancel()
	baseURL, _ := startMock(t)
	carol := newUser(ctx, t, baseURL, "carol")

	who, err := carol.Whoami(ctx)
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}
	if who.UserID != carol.UserID || who.DeviceID != carol.DeviceID {
		t.Errorf("whoami = %s on device %q, want %s on device %q", who.UserID, who.DeviceID, carol.UserID, carol.DeviceID)
	}

	caps, err := carol.Capabilities(ctx)
	if err != nil {
		t.Fatalf("capabilities: %v", err)
	}
	// A capability left out means "yes" for a password change; the mock
	// has none, so the SDK must read a "no" from the answer.
	if caps.ChangePassword.IsEnabled() {
		t.Errorf("capabilities: mautrix reads m.change_password as enabled (%+v); the mock cannot change passwords", caps.ChangePassword)
	}

	filter := &mautrix.Filter{Presence: &mautrix.FilterPart{Senders: []id.UserID{carol.UserID}, Limit: 5}}
	created, err := carol.CreateFilter(ctx, filter)
	if err != nil {
		t.Fatalf("upload a filter: %v", err)
	}
	if created.FilterID == "" {
		t.Fatal("upload a filter: empty filter_id")
	}
	// mautrix has no call to read a filter back, so ask through its
	// generic request, as an app would.
	var back mautrix.Filter
	u := carol.BuildClientURL("v3", "user", carol.UserID, "filter", created.FilterID)
	if _, err := carol.MakeRequest(ctx, http.MethodGet, u, nil, &back); err != nil {
		t.Fatalf("read filter %s back: %v", created.FilterID, err)
	}
	if back.Presence == nil || len(back.Presence.Senders) != 1 || back.Presence.Senders[0] != carol.UserID || back.Presence.Limit != 5 {
		t.Errorf("filter %s read back as %+v, want the presence part uploaded: %+v", created.FilterID, back.Presence, filter.Presence)
	}
}

// TestMautrixAccountCalls covers the account calls an app makes beside
// syncing: is a name free, which rooms am I in, and log out.
func TestMautrixAccountCalls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testBudget)
	defer cancel()
	baseURL, _ := startMock(t)
	dave := newUser(ctx, t, baseURL, "dave")

	if _, err := dave.RegisterAvailable(ctx, "erin"); err != nil {
		t.Errorf("register/available for a free name: %v", err)
	}
	if _, err := dave.RegisterAvailable(ctx, "dave"); !errors.Is(err, mautrix.MUserInUse) {
		t.Errorf("register/available for a taken name: got %v, want M_USER_IN_USE", err)
	}

	room, err := dave.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "interop"})
	if err != nil {
		t.Fatalf("create a room: %v", err)
	}
	joined, err := dave.JoinedRooms(ctx)
	if err != nil {
		t.Fatalf("joined_rooms: %v", err)
	}
	if len(joined.JoinedRooms) != 1 || joined.JoinedRooms[0] != room.RoomID {
		t.Errorf("joined_rooms = %v, want [%s]", joined.JoinedRooms, room.RoomID)
	}

	if _, err := dave.Logout(ctx); err != nil {
		t.Fatalf("log out: %v", err)
	}
	if _, err := dave.Whoami(ctx); !errors.Is(err, mautrix.MUnknownToken) {
		t.Errorf("whoami after logout: got %v, want M_UNKNOWN_TOKEN", err)
	}
}
