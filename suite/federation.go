package suite

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/onsi/gomega"

	"github.com/mxpresence/mxpresence/schemas"
	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/remote"
	"github.com/mxpresence/mxpresence/suite/report"
)

// Presence between servers (the server-server API, Matrix v1.19): the
// suite plays a remote homeserver whose users join the target's rooms over
// federation. PRES-FED-01 to 08 watch what the target sends it; 09 to 13
// what the target makes of what it sends.

const (
	fedSpecFile = "server-server-api.md (v1.19)"
	// maxEDUs and maxPDUs are the spec's limits on one transaction.
	maxEDUs, maxPDUs = 100, 50
	// floodBound is the most push items about one user, after a change has
	// arrived, that PRES-FED-07 allows over a settle window with no change:
	// one resend (a currently_active or last_active_ago refresh) and one
	// more. The spec gives no number; this is the suite's.
	floodBound = 2
)

// floodWindow is how long PRES-FED-07 watches: --settle, but at least a
// second, so that a short settle window (the self-test's 500 ms) does not
// let a slow storm through under the bound.
func floodWindow(settle time.Duration) time.Duration { return max(settle, time.Second) }

func fedRequire(r registrar, req Requirement, body func(*Spec)) {
	req.Endpoint, req.Federation = EndpointFederation, true
	r.require(req, body)
}

func federationRequirements(r registrar) {
	// Outbound: what the target sends the remote server.
	fedRequire(r, Requirement{
		ID: "PRES-FED-01", Level: Must,
		Text: "When a local user who shares a room with a user of a remote server changes presence, the target MUST send that server an m.presence EDU within --settle, with the user's user_id, presence and status_msg.",
		Basis: fedSpecFile + ` "Presence": "The server API for presence is based entirely on exchange of the following EDUs"; ` +
			`m.presence.yaml: "An EDU representing presence updates for users of the sending homeserver", each push item "user_id", "presence", "status_msg".`,
	}, func(s *Spec) {
		local := s.fedUser()
		s.fedRoom(local)
		msg := uniqueMsg("fed-01")
		at := s.fedChange(local, "unavailable", msg, true)
		s.awaitPush(at, local.UserID, "unavailable", msg)
	})

	fedRequire(r, Requirement{
		ID: "PRES-FED-02", Level: Must, Watches: true,
		Text: "Every transaction the target sends MUST match the spec's transaction schema, and every m.presence EDU in it the m.presence schema (each push item with user_id, presence and last_active_ago).",
		Basis: `transaction.yaml: required: ['origin', 'origin_server_ts', 'pdus']; edu.yaml: required: ['edu_type', 'content']; ` +
			`m.presence.yaml: push items required: ['user_id', 'presence', 'last_active_ago'], presence enum ['offline', 'unavailable', 'online'].`,
	}, func(s *Spec) {
		at := s.fedTraffic("fed-02")
		s.checkTransactions(at, func(t *remote.Transaction) []string { return s.schemaProblems(t) })
	})

	fedRequire(r, Requirement{
		ID: "PRES-FED-03", Level: Must, Watches: true,
		Text:  "A transaction the target sends MUST NOT carry more than 100 EDUs or more than 50 PDUs.",
		Basis: fedSpecFile + ` "Transactions": "Transactions are limited in size; they can have at most 50 PDUs and 100 EDUs."`,
	}, func(s *Spec) {
		at := s.fedTraffic("fed-03")
		s.checkTransactions(at, func(t *remote.Transaction) []string {
			var out []string
			if n := len(t.Decoded.EDUs); n > maxEDUs {
				out = append(out, fmt.Sprintf("%d EDUs (at most %d)", n, maxEDUs))
				s.fedFinding(report.Signature{Pointer: "/edus", Rule: "at most 100 EDUs", Found: "more"})
			}
			if n := len(t.Decoded.PDUs); n > maxPDUs {
				out = append(out, fmt.Sprintf("%d PDUs (at most %d)", n, maxPDUs))
				s.fedFinding(report.Signature{Pointer: "/pdus", Rule: "at most 50 PDUs", Found: "more"})
			}
			return out
		})
	})

	fedRequire(r, Requirement{
		ID: "PRES-FED-04", Level: Should, Watches: true,
		Text: "An m.presence EDU the target sends SHOULD NOT have an empty push list.",
		Basis: `m.presence.yaml: push is "A list of presence updates that the receiving server is likely to be interested in"; ` +
			`an empty list updates nothing. The schema requires push but sets no minimum, so this is SHOULD.`,
	}, func(s *Spec) {
		at := s.fedTraffic("fed-04")
		s.checkTransactions(at, func(t *remote.Transaction) []string {
			var out []string
			for i, e := range t.Decoded.EDUs {
				if push, ok := e.Presence(); ok && len(push) == 0 {
					out = append(out, fmt.Sprintf("EDU %d is an m.presence EDU with an empty push list", i))
					s.fedFinding(report.Signature{Pointer: "/edus/*/content/push", Rule: "not empty", Found: "empty array"})
				}
			}
			return out
		})
	})

	fedRequire(r, Requirement{
		ID: "PRES-FED-05", Level: Must, Watches: true,
		Text: "Every transaction the target sends MUST carry an X-Matrix Authorization header that verifies against the keys the target publishes and names the remote server as its destination.",
		Basis: fedSpecFile + ` "Request Authentication": "Every HTTP request made by a homeserver is authenticated using public key digital signatures"; ` +
			`destination: "recipients should accept requests without this parameter, but MUST always send it."`,
	}, func(s *Spec) {
		at := s.fedTraffic("fed-05")
		name := s.remoteServer().srv.Name()
		s.checkTransactions(at, func(t *remote.Transaction) []string {
			var out []string
			if t.AuthErr != "" {
				out = append(out, "the X-Matrix header does not verify: "+t.AuthErr)
				s.fedFinding(report.Signature{Status: http.StatusUnauthorized, Pointer: "header Authorization", Rule: "X-Matrix verifies", Found: "not verified"})
			}
			if t.XMatrix.Destination != name {
				found := "other server"
				if t.XMatrix.Destination == "" {
					found = "absent"
				}
				out = append(out, fmt.Sprintf("the X-Matrix destination is %q, not %q", t.XMatrix.Destination, name))
				s.fedFinding(report.Signature{Pointer: "header Authorization destination", Rule: "the receiving server", Found: found})
			}
			return out
		})
	})

	fedRequire(r, Requirement{
		ID: "PRES-FED-06", Level: Should, Watches: true,
		Text:  "The target SHOULD NOT send the remote server the presence of a local user who shares no room with any of its users.",
		Basis: fedSpecFile + ` "Presence": "Servers should only send presence updates for users that the receiving server would be interested in. Such as the receiving server sharing a room with a given user."`,
	}, func(s *Spec) {
		// The stranger shares a room with another local user, so the
		// target has reason to spread the change, just not to this server;
		// the room-mate of the remote server changes too, so the window
		// sees traffic.
		stranger, mate := s.fedUser(), s.fedUser()
		shareRoom(s, stranger, mate)
		local := s.fedUser()
		s.fedRoom(local)
		from := time.Now()
		s.fedChange(stranger, "unavailable", uniqueMsg("fed-06 stranger"), false)
		s.fedChange(local, "unavailable", uniqueMsg("fed-06 member"), true)
		s.holdNoPush(from, fmt.Sprintf("no presence of %s, who shares no room with the remote server", stranger.UserID),
			func(p remote.PushItem) bool { return p.UserID == stranger.UserID })
		items, _ := s.remoteServer().srv.Between(s.remoteServer().started, time.Now(), func(p remote.PushItem) bool { return p.UserID == stranger.UserID })
		s.Expect(items).To(gomega.BeEmpty(), "push items about %s, who never shared a room with the remote server", stranger.UserID)
	})

	fedRequire(r, Requirement{
		ID: "PRES-FED-07", Level: Should, Watches: true,
		Text: fmt.Sprintf("The target SHOULD NOT flood the remote server: once a change has arrived, over --settle (at least a second) with no change it sends at most %d more push items about that user.", floodBound),
		Basis: fedSpecFile + ` "Presence": "Servers should only send presence updates for users that the receiving server would be interested in"; ` +
			`the spec gives no rate, so the bound (` + fmt.Sprint(floodBound) + ` items per settle window after the change: a refresh and one more) is the suite's, at SHOULD. ` +
			`Transactions per minute in the window are reported beside the verdict.`,
	}, func(s *Spec) {
		local := s.fedUser()
		s.fedRoom(local)
		msg := uniqueMsg("fed-07")
		at := s.fedChange(local, "unavailable", msg, true)
		_, txn := s.awaitPush(at, local.UserID, "unavailable", msg)
		from := txn.Arrived.Add(time.Millisecond)
		s.Sleep(floodWindow(s.Settle()))
		to := time.Now()
		f := s.remoteServer()
		f.mu.Lock()
		f.idle = append(f.idle, window{from, to})
		f.mu.Unlock()
		items, txns := f.srv.Between(from, to, func(p remote.PushItem) bool { return p.UserID == local.UserID })
		if len(items) > floodBound {
			s.fedFinding(report.Signature{Pointer: "/edus/*/content/push", Rule: fmt.Sprintf("at most %d items per user per quiet window", floodBound), Found: "more"})
			s.fail(fmt.Sprintf("Expected at most %d push items about %s over %s with no change after the change arrived; %d arrived in %d transactions, the first:\n\n%s",
				floodBound, local.UserID, to.Sub(from).Round(time.Millisecond), len(items), len(distinct(txns)), clipBody(txns[0].Body)))
		}
	})

	fedRequire(r, Requirement{
		ID: "PRES-FED-08", Level: Should, Watches: true,
		Text:  "After the remote server's only user in the room has left it, the local user's presence changes SHOULD NOT reach that server.",
		Basis: fedSpecFile + ` "Presence": "Servers should only send presence updates for users that the receiving server would be interested in. Such as the receiving server sharing a room with a given user."`,
	}, func(s *Spec) {
		local := s.fedUser()
		room, remoteUser := s.fedRoom(local)
		msg := uniqueMsg("fed-08 before")
		at := s.fedChange(local, "unavailable", msg, true)
		s.awaitPush(at, local.UserID, "unavailable", msg)
		if err := s.remoteServer().srv.Leave(s.fedCtx(), room, remoteUser); err != nil {
			s.fail(fmt.Sprintf("%s could not leave %s over federation (make_leave, send_leave): %v", remoteUser, room, err))
		}
		// The change comes once the target shows the leave to its own
		// client, so that what it sends after is not a leave still on its
		// way through the target. A target that serves no joined_members
		// (404, as the mock) cannot show it; the change comes at once.
		await(s, fmt.Sprintf("%s to be gone from the joined members of %s", remoteUser, room),
			func() *client.Exchange { _, ex, _ := local.JoinedMembers(s.ctx, room); return ex },
			func(ex *client.Exchange) bool {
				var body struct {
					Joined map[string]any `json:"joined"`
				}
				if ex.Status() == http.StatusNotFound {
					return true
				}
				if ex.Status() != http.StatusOK || ex.DecodeJSON(&body) != nil {
					return false
				}
				_, still := body.Joined[remoteUser]
				return !still
			})
		after := s.fedChange(local, "online", uniqueMsg("fed-08 after"), false)
		s.holdNoPush(after, fmt.Sprintf("no presence of %s after %s left their only shared room", local.UserID, remoteUser),
			func(p remote.PushItem) bool { return p.UserID == local.UserID })
	})

	// Inbound: what the target makes of what the remote server sends.
	fedRequire(r, Requirement{
		ID: "PRES-FED-09", Level: Must,
		Text: "A presence EDU from the remote server about one of its own users MUST reach the /sync of a local user who shares a room with that user within --settle, with the presence and status_msg sent.",
		Basis: fedSpecFile + ` "Presence": "The server API for presence is based entirely on exchange of the following EDUs"; client-server API, m.presence: ` +
			`a client receives the presence of the users it shares a room with.`,
	}, func(s *Spec) {
		local := s.fedUser()
		_, remoteUser := s.fedRoom(local)
		st := startSync(s, local, client.SyncParams{})
		msg := uniqueMsg("fed-09")
		resp := s.sendEDUs(remote.Signed, remote.PresenceEDU(pushItem(remoteUser, "unavailable", msg)))
		s.Expect(resp.Status).To(gomega.Equal(http.StatusOK), "the target's answer to a signed transaction: %s", resp.Body)
		st.await(remoteUser, fmt.Sprintf("unavailable with status_msg %q", msg), isState("unavailable", msg))
	})

	fedRequire(r, Requirement{
		ID: "PRES-FED-10", Level: Must, Watches: true,
		Text: "A push item in which the remote server speaks for a user of another server (here one of the target's own) MUST be ignored: neither that user's status nor a room-mate's /sync shows it, while the rest of the EDU is applied.",
		Basis: `m.presence.yaml: "An EDU representing presence updates for users of the sending homeserver"; ` + fedSpecFile +
			` "Request Authentication": requests are authenticated as coming from their origin server, which speaks for its own users only.`,
	}, func(s *Spec) {
		viewer, victim := s.fedUser(), s.fedUser()
		room, remoteUser := s.fedRoom(viewer)
		ex, err := victim.JoinRoom(s.ctx, room)
		s.Expect(err).NotTo(gomega.HaveOccurred(), "%s joining %s\n\n%s", victim.UserID, room, ex)
		own := uniqueMsg("fed-10 own")
		setStatus(s, victim, "online", own)
		st := startSync(s, viewer, client.SyncParams{})
		forged, genuine := uniqueMsg("fed-10 forged"), uniqueMsg("fed-10 genuine")
		from := time.Now()
		resp := s.sendEDUs(remote.Signed, remote.PresenceEDU(pushItem(victim.UserID, "unavailable", forged), pushItem(remoteUser, "unavailable", genuine)))
		s.Expect(resp.Status).To(gomega.Equal(http.StatusOK), "the target's answer to a signed transaction: %s", resp.Body)
		st.await(remoteUser, fmt.Sprintf("unavailable with status_msg %q (the genuine item beside the forged one)", genuine), isState("unavailable", genuine))
		forgedItem := func(e client.SyncPresence) bool {
			return e.Sender == victim.UserID && e.Content.StatusMsg != nil && *e.Content.StatusMsg == forged
		}
		if e, ok := st.latest[victim.UserID]; ok && forgedItem(e) {
			s.fail(fmt.Sprintf("%s's /sync shows the forged presence of %s: %s", viewer.UserID, victim.UserID, describeSync(e)))
		}
		hold(s, fmt.Sprintf("%s's /sync never to show the forged presence of %s", viewer.UserID, victim.UserID), func(left time.Duration) string {
			if time.Since(from) >= s.Settle() {
				return ""
			}
			events, ex := st.next(min(left, s.Settle()-time.Since(from)))
			for _, e := range events {
				if forgedItem(e) {
					return fmt.Sprintf("a /sync delivered %s.\n\n%s", describeSync(e), ex)
				}
			}
			return ""
		})
		got := statusOf(s, victim, victim.UserID)
		s.Expect(got.StatusMsg).NotTo(gomega.HaveValue(gomega.Equal(forged)), "%s's own status after the forged push", victim.UserID)
	})

	fedRequire(r, Requirement{
		ID: "PRES-FED-11", Level: Must, Watches: true,
		Text: "A transaction without an X-Matrix signature, or with one that does not verify, MUST be refused with 401, and its presence MUST NOT reach any local user.",
		Basis: fedSpecFile + ` "Request Authentication": "Every HTTP request made by a homeserver is authenticated using public key digital signatures"; ` +
			`transactions.yaml: security signedRequest; a request whose destination does not match "must deny the request with an HTTP status code 401 Unauthorized". ` +
			`The server-server API names no errcode for it, so none is required (the answer is logged).`,
	}, func(s *Spec) {
		local := s.fedUser()
		_, remoteUser := s.fedRoom(local)
		st := startSync(s, local, client.SyncParams{})
		from := time.Now()
		sent := map[string]remote.Signing{}
		for _, signing := range []remote.Signing{remote.Unsigned, remote.WrongKey} {
			msg := uniqueMsg("fed-11 " + strings.ReplaceAll(signing.String(), " ", "-"))
			sent[msg] = signing
			resp := s.sendEDUs(signing, remote.PresenceEDU(pushItem(remoteUser, "unavailable", msg)))
			s.Expect(resp.Status).To(gomega.Equal(http.StatusUnauthorized), "the target's answer to a transaction %s: %s", signing, resp.Body)
		}
		applied := func(e client.SyncPresence) (remote.Signing, bool) {
			if e.Sender != remoteUser || e.Content.StatusMsg == nil {
				return 0, false
			}
			signing, ok := sent[*e.Content.StatusMsg]
			return signing, ok
		}
		hold(s, fmt.Sprintf("%s's /sync never to show presence the refused transactions carried", local.UserID), func(left time.Duration) string {
			if time.Since(from) >= s.Settle() {
				return ""
			}
			events, ex := st.next(min(left, s.Settle()-time.Since(from)))
			for _, e := range events {
				if signing, ok := applied(e); ok {
					return fmt.Sprintf("a /sync delivered %s, from the transaction %s.\n\n%s", describeSync(e), signing, ex)
				}
			}
			return ""
		})
	})

	fedRequire(r, Requirement{
		ID: "PRES-FED-12", Level: Should,
		Text: "A malformed m.presence EDU (push not a list, a push item with a number for presence) SHOULD NOT stop the rest of the transaction being applied: a well-formed EDU after it reaches a local room-mate's /sync.",
		Basis: `transactions.yaml: the 200 response is "to use this response even in the event of one or more PDUs failing to be processed"; ` +
			`the spec says nothing of EDUs that fail, so applying the others is SHOULD.`,
	}, func(s *Spec) {
		local := s.fedUser()
		_, remoteUser := s.fedRoom(local)
		st := startSync(s, local, client.SyncParams{})
		msg := uniqueMsg("fed-12")
		resp := s.sendEDUs(remote.Signed,
			map[string]any{"edu_type": "m.presence", "content": map[string]any{"push": "not a list"}},
			remote.PresenceEDU(map[string]any{"user_id": remoteUser, "presence": 17}),
			remote.PresenceEDU(pushItem(remoteUser, "unavailable", msg)))
		s.Expect(resp.Status).To(gomega.Equal(http.StatusOK), "the target's answer to a signed transaction with malformed EDUs before a good one: %s", resp.Body)
		st.await(remoteUser, fmt.Sprintf("unavailable with status_msg %q (the well-formed EDU)", msg), isState("unavailable", msg))
	})

	fedRequire(r, Requirement{
		ID: "PRES-FED-13", Level: Should, Watches: true,
		Text: "The presence of a remote user who shares no room with a local user SHOULD NOT reach that local user's /sync.",
		Basis: fedSpecFile + ` "Presence": presence is for "users that the receiving server would be interested in. Such as the receiving server sharing a room with a given user"; ` +
			`client-server API: a client receives the presence of users it shares a room with.`,
	}, func(s *Spec) {
		local := s.fedUser()
		_, member := s.fedRoom(local)
		stranger := s.remoteUser()
		st := startSync(s, local, client.SyncParams{})
		from := time.Now()
		msg := uniqueMsg("fed-13 member")
		resp := s.sendEDUs(remote.Signed, remote.PresenceEDU(pushItem(stranger, "unavailable", uniqueMsg("fed-13 stranger")), pushItem(member, "unavailable", msg)))
		s.Expect(resp.Status).To(gomega.Equal(http.StatusOK), "the target's answer to a signed transaction: %s", resp.Body)
		st.await(member, fmt.Sprintf("unavailable with status_msg %q (the room-mate beside the stranger)", msg), isState("unavailable", msg))
		if e, ok := st.latest[stranger]; ok {
			s.fail(fmt.Sprintf("%s's /sync shows %s, who shares no room with them: %s", local.UserID, stranger, describeSync(e)))
		}
		hold(s, fmt.Sprintf("%s's /sync never to show %s, who shares no room with them", local.UserID, stranger), func(left time.Duration) string {
			if time.Since(from) >= s.Settle() {
				return ""
			}
			events, ex := st.next(min(left, s.Settle()-time.Since(from)))
			for _, e := range events {
				if e.Sender == stranger {
					return fmt.Sprintf("a /sync delivered %s.\n\n%s", describeSync(e), ex)
				}
			}
			return ""
		})
	})
}

// fedTraffic makes the target send the remote server something to check:
// a local user in a room with a remote user changes presence, and the
// change arrives (or --settle passes). It returns the time of the change.
func (s *Spec) fedTraffic(what string) time.Time {
	local := s.fedUser()
	s.fedRoom(local)
	msg := uniqueMsg(what)
	at := s.fedChange(local, "unavailable", msg, true)
	s.awaitPush(at, local.UserID, "unavailable", msg)
	return at
}

// checkTransactions waits out --settle from the change at, so that what the
// target sends late is seen too, then checks every transaction the remote
// server has received in the run.
func (s *Spec) checkTransactions(at time.Time, check func(*remote.Transaction) []string) {
	s.Sleep(time.Until(at.Add(s.Settle())))
	txns := s.remoteServer().srv.Transactions()
	var problems []string
	bad := 0
	for _, t := range txns {
		if p := check(t); len(p) > 0 {
			bad++
			if len(problems) < 5 {
				problems = append(problems, fmt.Sprintf("transaction %s: %s\n%s", t.TxnID, strings.Join(p, "; "), clipBody(t.Body)))
			}
		}
	}
	if bad > 0 {
		s.fail(fmt.Sprintf("%d of the %d transactions the remote server received break the rule; the first:\n\n%s", bad, len(txns), strings.Join(problems, "\n\n")))
	}
}

// schemaProblems validates a transaction and its m.presence EDUs, and
// leaves a finding per violation.
func (s *Spec) schemaProblems(t *remote.Transaction) []string {
	f := s.remoteServer()
	var out []string
	report := func(where string, err error) {
		var invalid *schemas.ValidationError
		if !errors.As(err, &invalid) {
			out = append(out, where+": "+err.Error())
			s.fedFinding(fedSignature("", "JSON", "not JSON"))
			return
		}
		for _, v := range invalid.Violations {
			if echoed(v, invalid.Violations) {
				continue
			}
			out = append(out, where+": "+v.String())
			s.fedFinding(fedSignature(where+v.Pointer, v.Rule, kindOf(v)))
		}
	}
	if err := f.schemas.Transaction.Validate(t.Body); err != nil {
		report("", err)
	}
	for _, e := range t.Decoded.EDUs {
		if e.Type != "m.presence" {
			continue
		}
		raw, _ := json.Marshal(e)
		if err := f.schemas.Presence.Validate(raw); err != nil {
			report("/edus/*", err)
		}
	}
	return out
}

// fedReceived is the operation findings about what the target sent name.
const fedReceived = "PUT /_matrix/federation/v1/send/{txnId} (received)"

func fedSignature(pointer, rule, found string) report.Signature {
	return report.Signature{Pointer: pointer, Rule: rule, Found: found}
}

// fedFinding leaves a finding about a transaction the target sent.
func (s *Spec) fedFinding(sig report.Signature) {
	// The status is the remote server's answer to the transaction: 200,
	// or 401 when its signature did not verify.
	sig.Operation = fedReceived
	if sig.Status == 0 {
		sig.Status = http.StatusOK
	}
	sig.Pointer = anyIndex(sig.Pointer)
	s.run.findings.add(s.req.ID, sig)
}

func distinct(txns []*remote.Transaction) []*remote.Transaction {
	var out []*remote.Transaction
	seen := map[*remote.Transaction]bool{}
	for _, t := range txns {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
