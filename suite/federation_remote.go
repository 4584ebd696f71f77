package suite

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onsi/gomega"

	"github.com/mxpresence/mxpresence/schemas"
	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
	"github.com/mxpresence/mxpresence/suite/remote"
	"github.com/mxpresence/mxpresence/suite/report"
)

// The federation requirements act through two parties: users of the
// target, made and driven over its client API (r0/v3, whatever --api the
// run tests: presence between servers follows shared rooms, which v1 does
// not have), and the suite's remote server, whose users join the target's
// rooms over federation and whose recordings say what the target sent.

// federation is a run's remote server, with what the run measured.
type federation struct {
	srv     *remote.Server
	schemas *schemas.Federation
	api     client.API // the client API the federation requirements use
	started time.Time

	mu      sync.Mutex
	changes []presenceChange // changes of users the remote server shares a room with
	idle    []window         // PRES-FED-07's quiet windows
}

type presenceChange struct {
	user string
	at   time.Time
}

type window struct{ from, to time.Time }

// startFederation starts the remote server against the target's federation
// API.
func startFederation(cfg Config) (*federation, error) {
	if !remote.CanJoin {
		return nil, fmt.Errorf("%w: --federation: %v", ErrTargetUnusable, remote.ErrNoJoin)
	}
	fedSchemas, err := schemas.LoadFederation()
	if err != nil {
		return nil, fmt.Errorf("federation schemas: %w", err)
	}
	api, err := client.ForVersion("v3")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	srv, err := remote.Start(ctx, remote.Options{Target: cfg.Federation, Timeout: cfg.Timeout})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTargetUnusable, err)
	}
	return &federation{srv: srv, schemas: fedSchemas, api: api, started: time.Now()}, nil
}

func (f *federation) close() { f.srv.Close() }

// figures sums up what the target sent, for the report.
func (f *federation) figures(settle time.Duration) *report.FederationFigures {
	txns := f.srv.Transactions()
	out := &report.FederationFigures{RemoteServer: f.srv.Name(), TargetServer: f.srv.TargetName(), Transactions: len(txns)}
	for _, t := range txns {
		out.LargestTransaction = max(out.LargestTransaction, len(t.Decoded.EDUs))
		for _, push := range t.PresenceEDUs() {
			out.PresenceEDUs++
			out.LargestPush = max(out.LargestPush, len(push))
		}
	}
	f.mu.Lock()
	changes, idle := slices.Clone(f.changes), slices.Clone(f.idle)
	f.mu.Unlock()
	total := 0
	for i, c := range changes {
		end := c.at.Add(settle)
		for _, later := range changes[i+1:] {
			if later.user == c.user && later.at.Before(end) {
				end = later.at
			}
		}
		items, _ := f.srv.Between(c.at, end, func(p remote.PushItem) bool { return p.UserID == c.user })
		n := len(items)
		if out.Changes == 0 || n < out.EDUsPerChangeMin {
			out.EDUsPerChangeMin = n
		}
		out.EDUsPerChangeMax = max(out.EDUsPerChangeMax, n)
		out.Changes++
		total += n
	}
	if out.Changes > 0 {
		out.EDUsPerChange = float64(total) / float64(out.Changes)
	}
	for _, w := range idle {
		out.IdleWindow += w.to.Sub(w.from)
		for _, t := range txns {
			if !t.Arrived.Before(w.from) && t.Arrived.Before(w.to) {
				out.IdleTransactions++
			}
		}
	}
	if out.IdleWindow > 0 {
		out.IdleTxnsPerMinute = float64(out.IdleTransactions) / out.IdleWindow.Minutes()
	}
	for _, o := range f.srv.Others() {
		if out.OtherRequests == nil {
			out.OtherRequests = map[string]int{}
		}
		out.OtherRequests[o.Method+" "+pathTemplate(o.Path)]++
	}
	return out
}

// pathTemplate drops the IDs from a federation path, so requests count by
// kind: /_matrix/federation/v1/user/devices/@a:b becomes .../user/devices/{id}.
func pathTemplate(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.ContainsAny(p, "@!$:") {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

// remoteServer is the run's remote server; a requirement that needs one
// runs only when there is one.
func (s *Spec) remoteServer() *federation {
	if s.run.fed == nil {
		s.fail("this requirement needs the suite's remote server (--federation URL)")
	}
	return s.run.fed
}

// fedCtx is the spec's context, logging the remote server's requests to
// the spec's output.
func (s *Spec) fedCtx() context.Context { return remote.WithLog(s.ctx, s.log) }

// fedUser provisions a user of the target and returns a session on the
// client API the federation requirements use.
func (s *Spec) fedUser() *client.Session {
	f := s.remoteServer()
	c, err := client.New(s.run.cfg.Target, f.api, client.Options{
		Timeout: s.run.cfg.Timeout, HTTP: s.run.http, Log: s.log, OnSchemaViolation: s.schemaViolation,
	})
	if err != nil {
		s.fail(err.Error())
	}
	u, err := s.run.users.NewUser(s.ctx, c)
	if err != nil {
		s.fail(fmt.Sprintf("Cannot provision a user for the spec: %v", err))
	}
	return u
}

// remoteUser makes a fresh user ID of the remote server.
func (s *Spec) remoteUser() string {
	return s.remoteServer().srv.UserID("fed-" + strings.ToLower(rand.Text()[:10]))
}

// fedRoom makes a public room of local's, that a fresh user of the remote
// server joins over federation; it returns the room and the remote user.
func (s *Spec) fedRoom(local *client.Session) (roomID, remoteUser string) {
	roomID, ex, err := local.CreatePublicRoom(s.ctx)
	s.Expect(err).NotTo(gomega.HaveOccurred(), "%s creating a public room\n\n%s", local.UserID, ex)
	remoteUser = s.remoteUser()
	s.joinRemote(roomID, remoteUser)
	return roomID, remoteUser
}

// joinRemote makes a user of the remote server join a room of the target.
func (s *Spec) joinRemote(roomID, remoteUser string) {
	eventID, version, err := s.remoteServer().srv.Join(s.fedCtx(), roomID, remoteUser)
	if err != nil {
		s.fail(fmt.Sprintf("%s could not join %s over federation (make_join, send_join): %v", remoteUser, roomID, err))
	}
	fmt.Fprintf(s.log, "%s joined %s over federation: event %s, room version %s\n", remoteUser, roomID, eventID, version)
}

// fedChange sets u's presence over the client API and notes the change
// for the figures when counted (u shares a room with the remote server).
func (s *Spec) fedChange(u *client.Session, presence, msg string, counted bool) time.Time {
	at := time.Now()
	update := client.StatusUpdate{Presence: presence, StatusMsg: &msg}
	ex := u.SetStatus(s.ctx, u.UserID, update)
	s.Expect(ex).To(match.HaveStatus(http.StatusOK), "setting %s's own presence to %q", u.UserID, presence)
	if counted {
		f := s.run.fed
		f.mu.Lock()
		f.changes = append(f.changes, presenceChange{u.UserID, at})
		f.mu.Unlock()
	}
	return at
}

// awaitPush waits, up to --settle from since, for the remote server to
// receive a push item about userID showing presence and msg.
func (s *Spec) awaitPush(since time.Time, userID, presence, msg string) (remote.PushItem, *remote.Transaction) {
	srv := s.remoteServer().srv
	item, txn, ok := srv.Await(s.ctx, since, since.Add(s.Settle()), func(p remote.PushItem) bool {
		return p.UserID == userID && p.Presence == presence && p.StatusMsg != nil && *p.StatusMsg == msg
	})
	if !ok {
		seen, _ := srv.Between(since, time.Now(), func(p remote.PushItem) bool { return p.UserID == userID })
		s.fail(fmt.Sprintf("Expected the remote server %s to receive an m.presence EDU about %s showing %s with status_msg %q within %s (--settle) of the change; it received %s.",
			srv.Name(), userID, presence, msg, s.Settle(), describePushes(seen, srv.Transactions(), since)), 1)
	}
	fmt.Fprintf(s.log, "remote server received, in transaction %s at +%s: %s\n", txn.TxnID, txn.Arrived.Sub(since).Round(time.Millisecond), describePush(item))
	return item, txn
}

func describePush(p remote.PushItem) string {
	msg := "no status_msg"
	if p.StatusMsg != nil {
		msg = fmt.Sprintf("status_msg %q", *p.StatusMsg)
	}
	return fmt.Sprintf("%s: %s, %s", p.UserID, p.Presence, msg)
}

func describePushes(items []remote.PushItem, all []*remote.Transaction, since time.Time) string {
	n := 0
	for _, t := range all {
		if !t.Arrived.Before(since) {
			n++
		}
	}
	if len(items) == 0 {
		return fmt.Sprintf("no push item about that user (%d transactions in all since the change)", n)
	}
	var parts []string
	for _, p := range items {
		parts = append(parts, describePush(p))
	}
	return fmt.Sprintf("only %s (%d transactions in all since the change)", strings.Join(parts, "; "), n)
}

// holdNoPush watches until --settle has passed since from that the remote
// server receives no push item bad picks.
func (s *Spec) holdNoPush(from time.Time, what string, bad func(remote.PushItem) bool) {
	srv := s.remoteServer().srv
	deadline := from.Add(s.Settle())
	item, txn, found := srv.Await(s.ctx, from, deadline, bad)
	if found {
		s.fail(fmt.Sprintf("Expected %s for the whole settle window (%s, --settle); the remote server %s received, %s after, in transaction %s: %s\n\n%s",
			what, s.Settle(), srv.Name(), txn.Arrived.Sub(from).Round(time.Millisecond), txn.TxnID, describePush(item), clipBody(txn.Body)), 1)
	}
	s.Sleep(time.Until(deadline))
}

func clipBody(b []byte) string {
	const keep = 4096
	if len(b) > keep {
		return string(b[:keep]) + "..."
	}
	return string(b)
}

// sendEDUs sends a transaction of EDUs from the remote server to the
// target, signed as asked, and returns the target's answer.
func (s *Spec) sendEDUs(signing remote.Signing, edus ...any) remote.Response {
	srv := s.remoteServer().srv
	resp, err := srv.SendTransaction(s.fedCtx(), "mxp-"+strings.ToLower(rand.Text()), edus, signing)
	if err != nil {
		s.fail(fmt.Sprintf("sending a transaction (%s) to the target: %v", signing, err))
	}
	return resp
}

// pushItem is a push item the remote server sends about one of its users.
func pushItem(userID, presence, msg string) map[string]any {
	return map[string]any{"user_id": userID, "presence": presence, "status_msg": msg, "last_active_ago": 0, "currently_active": presence == "online"}
}

// uniqueMsg is a status message no other spec uses.
func uniqueMsg(what string) string { return what + " " + strings.ToLower(rand.Text()[:8]) }
