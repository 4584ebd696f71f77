package federation

import (
	"encoding/json"
	"fmt"
	"github.com/mxpresence/mxpresence/mockserver/federation/fedtest"
	"slices"
	"testing"
	"time"
)

type pushItem struct {
	UserID          string  `json:"user_id"`
	Presence        string  `json:"presence"`
	StatusMsg       *string `json:"status_msg"`
	LastActiveAgo   *int64  `json:"last_active_ago"`
	CurrentlyActive *bool   `json:"currently_active"`
}

// items decodes every m.presence push item of the transactions, checking
// the EDUs' form as it goes.
func items(t *testing.T, txns []fedtest.Txn) []pushItem {
	t.Helper()
	var out []pushItem
	for _, txn := range txns {
		for _, raw := range txn.Body.EDUs {
			var edu struct {
				Type    string `json:"edu_type"`
				Content struct {
					Push []pushItem `json:"push"`
				} `json:"content"`
			}
			if err := json.Unmarshal(raw, &edu); err != nil || edu.Type != "m.presence" || len(edu.Content.Push) == 0 {
				t.Fatalf("not an m.presence EDU with a push: %s", raw)
			}
			out = append(out, edu.Content.Push...)
		}
	}
	return out
}

func strp(s string) *string { return &s }

// TestOutboundGoesSignedToTheServersInTheRoomsOnly: who receives what.
// Alice shares a room with the first peer's user, Bob with the second's,
// Carol with nobody remote; each change goes to its room's server only,
// in a transaction whose X-Matrix header the library verifies against the
// mock's published key, naming the peer as destination.
func TestOutboundGoesSignedToTheServersInTheRoomsOnly(t *testing.T) {
	home := newFakeHome("localhost")
	f := newMock(t, home, Tweaks{})
	p1 := fedtest.NewPeer(t, f.Handler())
	p2 := fedtest.NewPeer(t, f.Handler())
	alice, bob, carol := "@alice:localhost", "@bob:localhost", "@carol:localhost"
	home.addRoom("!a:localhost", alice, true, "@r1:"+p1.Name)
	home.addRoom("!b:localhost", bob, true, "@r2:"+p2.Name)
	home.addRoom("!c:localhost", carol, true)
	home.setPresence(Presence{UserID: alice, Presence: "online", StatusMsg: strp("lunch"), LastActiveAgo: 3, CurrentlyActive: new(bool)})
	home.setPresence(Presence{UserID: bob, Presence: "unavailable", LastActiveAgo: 9})
	home.setPresence(Presence{UserID: carol, Presence: "online", LastActiveAgo: 1})
	f.LocalChanged(alice)
	f.LocalChanged(bob)
	f.LocalChanged(carol)
	p1.WaitFor(1, 5*time.Second)
	p2.WaitFor(1, 5*time.Second)
	time.Sleep(100 * time.Millisecond) // anything more would have come by now
	got1, got2 := p1.Received(), p2.Received()
	if len(got1) != 1 || len(got2) != 1 {
		t.Fatalf("transactions: %d to the first peer, %d to the second; want one each", len(got1), len(got2))
	}
	for i, c := range []struct {
		p    *fedtest.Peer
		txn  fedtest.Txn
		user string
	}{{p1, got1[0], alice}, {p2, got2[0], bob}} {
		if c.txn.AuthErr != "" {
			t.Fatalf("peer %d: the X-Matrix header does not verify: %s", i+1, c.txn.AuthErr)
		}
		if c.txn.Origin != "localhost" || c.txn.Destination != c.p.Name || c.txn.Body.Origin != "localhost" {
			t.Fatalf("peer %d: origin %q destination %q body origin %q", i+1, c.txn.Origin, c.txn.Destination, c.txn.Body.Origin)
		}
		its := items(t, []fedtest.Txn{c.txn})
		if len(its) != 1 || its[0].UserID != c.user {
			t.Fatalf("peer %d got %+v, want %s alone", i+1, its, c.user)
		}
	}
	a := items(t, got1)[0]
	if a.Presence != "online" || a.StatusMsg == nil || *a.StatusMsg != "lunch" || a.LastActiveAgo == nil || *a.LastActiveAgo != 3 || a.CurrentlyActive == nil || *a.CurrentlyActive {
		t.Fatalf("alice's item: %+v", a)
	}
	b := items(t, got2)[0]
	if b.Presence != "unavailable" || b.StatusMsg != nil || b.LastActiveAgo == nil || *b.LastActiveAgo != 9 {
		t.Fatalf("bob's item: %+v", b)
	}
	if st := f.Stats(); st.Transactions != 2 || st.Failures != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestOutboundBatches: changes inside the batch delay go in one
// transaction, one EDU, each user once with the latest state.
func TestOutboundBatches(t *testing.T) {
	home := newFakeHome("localhost")
	f, err := New(home, Config{ServerName: "localhost", BatchDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := fedtest.NewPeer(t, f.Handler())
	var users []string
	for i := range 5 {
		users = append(users, fmt.Sprintf("@u%d:localhost", i))
	}
	home.addRoom("!r:localhost", users[0], true, append(users[1:], "@remote:"+p.Name)...)
	for _, u := range users {
		home.setPresence(Presence{UserID: u, Presence: "offline", LastActiveAgo: 1})
		f.LocalChanged(u)
	}
	for _, u := range users { // a second change of each, inside the window
		home.setPresence(Presence{UserID: u, Presence: "online", LastActiveAgo: 2})
		f.LocalChanged(u)
	}
	p.WaitFor(1, 5*time.Second)
	time.Sleep(150 * time.Millisecond)
	got := p.Received()
	if len(got) != 1 || len(got[0].Body.EDUs) != 1 {
		t.Fatalf("%d transactions (first with %d EDUs), want one with one EDU", len(got), len(got[0].Body.EDUs))
	}
	its := items(t, got)
	var ids []string
	for _, it := range its {
		ids = append(ids, it.UserID)
		if it.Presence != "online" {
			t.Fatalf("%s sent as %s, not its latest state", it.UserID, it.Presence)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, users) {
		t.Fatalf("users sent %v, want %v", ids, users)
	}
}

// TestOutboundNeverMoreThan100EDUs: 250 users, one EDU each, go in
// transactions of at most 100 EDUs, every user once.
func TestOutboundNeverMoreThan100EDUs(t *testing.T) {
	home := newFakeHome("localhost")
	// A long batch delay, so that all 250 changes make one batch even
	// under the race detector.
	f, err := New(home, Config{ServerName: "localhost", BatchDelay: 300 * time.Millisecond, Tweaks: Tweaks{OneUserPerEDU: true}})
	if err != nil {
		t.Fatal(err)
	}
	p := fedtest.NewPeer(t, f.Handler())
	var users []string
	for i := range 250 {
		users = append(users, fmt.Sprintf("@u%03d:localhost", i))
	}
	home.addRoom("!r:localhost", users[0], true, append(users[1:], "@remote:"+p.Name)...)
	for _, u := range users {
		home.setPresence(Presence{UserID: u, Presence: "online", LastActiveAgo: 1})
		f.LocalChanged(u)
	}
	p.WaitFor(3, 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	got := p.Received()
	var sizes []int
	for _, txn := range got {
		sizes = append(sizes, len(txn.Body.EDUs))
		if len(txn.Body.EDUs) > 100 {
			t.Fatalf("a transaction of %d EDUs", len(txn.Body.EDUs))
		}
	}
	if !slices.Equal(sizes, []int{100, 100, 50}) {
		t.Fatalf("transaction sizes %v, want [100 100 50]", sizes)
	}
	seen := map[string]int{}
	for _, it := range items(t, got) {
		seen[it.UserID]++
	}
	if len(seen) != 250 {
		t.Fatalf("%d users sent, want 250", len(seen))
	}
	for u, n := range seen {
		if n != 1 {
			t.Fatalf("%s sent %d times", u, n)
		}
	}
}

// TestOutboundStopsAfterTheLastRemoteLeaves: the destinations are read at
// each flush, so a leave stops the sending.
func TestOutboundStopsAfterTheLastRemoteLeaves(t *testing.T) {
	home := newFakeHome("localhost")
	f := newMock(t, home, Tweaks{})
	p := fedtest.NewPeer(t, f.Handler())
	alice, remote := "@alice:localhost", "@r:"+p.Name
	home.addRoom("!r:localhost", alice, true, remote)
	home.setPresence(Presence{UserID: alice, Presence: "online", LastActiveAgo: 1})
	f.LocalChanged(alice)
	if got := p.WaitFor(1, 5*time.Second); len(got) != 1 {
		t.Fatal("nothing sent while in the room")
	}
	home.Leave("!r:localhost", remote)
	home.setPresence(Presence{UserID: alice, Presence: "offline", LastActiveAgo: 1})
	f.LocalChanged(alice)
	time.Sleep(200 * time.Millisecond)
	if got := p.Received(); len(got) != 1 {
		t.Fatalf("%d transactions; the one after the leave should not have gone", len(got))
	}
}

// TestOutboundFailureIsCounted: a destination that does not answer costs
// a counted failure, and the sender goes on.
func TestOutboundFailureIsCounted(t *testing.T) {
	home := newFakeHome("localhost")
	f := newMock(t, home, Tweaks{})
	alice := "@alice:localhost"
	home.addRoom("!r:localhost", alice, true, "@r:127.0.0.1:1")
	home.setPresence(Presence{UserID: alice, Presence: "online", LastActiveAgo: 1})
	f.LocalChanged(alice)
	deadline := time.Now().Add(5 * time.Second)
	for f.Stats().Failures == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := f.Stats(); st.Failures != 1 || st.Transactions != 0 {
		t.Fatalf("stats %+v, want one failure", st)
	}
}
