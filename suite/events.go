package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/onsi/gomega"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
)

// v1 clients learn presence from GET /initialSync and then the event
// stream, GET /events, for the users on their presence list.

func eventsRequirements(r registrar) {
	const endpoint = EndpointEvents

	r.require(Requirement{
		ID: "PRES-EVENTS-01", Level: Must, Endpoint: endpoint, Versions: v1Only,
		Text:  "After A sets their presence, GET /events of B, who has A on their presence list, from the end token of B's initial sync MUST deliver within --settle an m.presence event with an event_id, whose content.user_id is A and content.presence A's new state, matching the v1 m.presence event schema.",
		Basis: `v1 GET /events: "This will listen for new events and return them to the caller"; initialSync end: "This token should be used with the /events API to listen for new events"; m.presence: required [event_id, type, content], content required [presence, user_id].`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		changeList(s, bob, client.ListChange{Invite: []string{alice.UserID}})
		stream, _ := startEvents(s, bob)
		setStatus(s, alice, "unavailable", "from the stream")
		e := stream.await(alice.UserID, "unavailable", func(e client.PresenceEvent) bool { return e.Content.Presence == "unavailable" })
		s.Expect(e.EventID).NotTo(gomega.BeEmpty(), "the m.presence event has no event_id")
		s.Expect(e.Type).To(gomega.Equal("m.presence"))
	})

	r.require(Requirement{
		ID: "PRES-EVENTS-02", Level: Must, Endpoint: endpoint, Versions: v1Only,
		Text:  "GET /initialSync MUST answer 200 with an end token, a rooms array and a presence array that holds, within --settle, the current presence of each user on the caller's presence list.",
		Basis: `v1 initialSync 200: required ["end", "rooms", "presence"]; presence: "Contains a list of presence information for users the client is interested in."`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		setStatusSettled(s, alice, "unavailable")
		changeList(s, bob, client.ListChange{Invite: []string{alice.UserID}})
		ex := await(s, fmt.Sprintf("GET /initialSync of %s to list %s as unavailable", bob.UserID, alice.UserID),
			func() *client.Exchange { return bob.InitialSync(s.Context()) },
			func(ex *client.Exchange) bool {
				resp, err := client.DecodeInitialSync(ex)
				if err != nil {
					return false
				}
				events, err := client.V1PresenceEvents(resp.Presence)
				return err == nil && slices.ContainsFunc(events, func(e client.PresenceEvent) bool {
					return e.Content.UserID == alice.UserID && e.Content.Presence == "unavailable"
				})
			})
		var raw map[string]json.RawMessage
		s.Expect(ex.DecodeJSON(&raw)).To(gomega.Succeed())
		var rooms []json.RawMessage
		s.Expect(json.Unmarshal(raw["rooms"], &rooms)).To(gomega.Succeed(), "rooms is not an array\n\n%s", ex)
		s.Expect(rooms).NotTo(gomega.BeNil(), "rooms is not an array\n\n%s", ex)
	})

	r.require(Requirement{
		ID: "PRES-EVENTS-03", Level: Must, Endpoint: endpoint, Versions: v1Only, Watches: true,
		Text:  "GET /events from a token MUST yield only events after it: the change made after the token MUST come, no event delivered before (the same event_id) MUST come again, and no older state of the user after their latest (watched over --settle once all is delivered).",
		Basis: `v1 GET /events from: "The token to stream from"; "To resume polling the events stream, you pass in the new end token as the from parameter"; event_id: "The globally unique event identifier".`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		changeList(s, bob, client.ListChange{Invite: []string{alice.UserID}})
		stream, _ := startEvents(s, bob)
		delivered := map[string]bool{}
		stream.seen = func(events []client.PresenceEvent, ex *client.Exchange) {
			for _, e := range events {
				s.Expect(delivered).NotTo(gomega.HaveKey(e.EventID), "an event delivered before the token came again\n\n%s", ex)
				delivered[e.EventID] = true
			}
		}
		setStatus(s, alice, "online")
		stream.await(alice.UserID, "online", func(e client.PresenceEvent) bool { return e.Content.Presence == "online" })
		setStatus(s, alice, "unavailable")
		stream.await(alice.UserID, "unavailable", func(e client.PresenceEvent) bool { return e.Content.Presence == "unavailable" })
		stream.seen = nil
		hold(s, fmt.Sprintf("GET /events of %s to bring no event again, and no state of %s older than unavailable", bob.UserID, alice.UserID), func(left time.Duration) string {
			events, ex := stream.next(left)
			for _, e := range events {
				if delivered[e.EventID] {
					return fmt.Sprintf("the event %s came again.\n\n%s", e.EventID, ex)
				}
				delivered[e.EventID] = true
				if e.Content.UserID == alice.UserID && e.Content.Presence != "unavailable" {
					return fmt.Sprintf("an event shows %s %s after their latest change.\n\n%s", alice.UserID, e.Content.Presence, ex)
				}
			}
			return ""
		})
	})

	r.require(Requirement{
		ID: "PRES-EVENTS-04", Level: Must, Waits: true, Endpoint: endpoint, Versions: v1Only,
		Text:  "A GET /events (from a token, timeout=20000) that is waiting when a listed user's presence changes MUST return early, within --settle of the change, carrying it.",
		Basis: `v1 GET /events: "This will block until an event is received, or until the timeout is reached."`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		setStatusSettled(s, alice, "online")
		changeList(s, bob, client.ListChange{Invite: []string{alice.UserID}})
		stream, _ := startEvents(s, bob)
		for range 3 {
			if events, _ := stream.next(0); len(events) == 0 {
				break
			}
		}
		quiet := s.Client().Quiet().As(bob.UserID, bob.Token)
		longPollWakes(s, fmt.Sprintf("%s's presence changes", alice.UserID),
			func() { setStatus(s, alice, "unavailable") },
			func(ctx context.Context, wait time.Duration) *client.Exchange {
				return quiet.Events(ctx, stream.from, wait)
			},
			func(ex *client.Exchange) bool {
				s.Expect(ex).To(match.HaveStatus(http.StatusOK))
				resp, err := client.DecodeEvents(ex)
				s.Expect(err).NotTo(gomega.HaveOccurred(), "%s", ex)
				events, err := client.V1PresenceEvents(resp.Chunk)
				s.Expect(err).NotTo(gomega.HaveOccurred(), "%s", ex)
				stream.from = resp.End
				for _, e := range events {
					stream.latest[e.Content.UserID] = e
				}
				e, ok := stream.latest[alice.UserID]
				return ok && e.Content.Presence == "unavailable"
			})
	})

	r.require(Requirement{
		ID: "PRES-EVENTS-05", Level: Should, Endpoint: endpoint, Versions: v1Only,
		Text:  "GET /events from a token the server never issued SHOULD be refused with a 4xx Matrix error.",
		Basis: `v1 GET /events 400: "Bad pagination from parameter."`,
	}, func(s *Spec) {
		bob := s.NewUser()
		ex := bob.Events(s.Context(), neverIssued(), 0)
		s.Expect(ex).To(gomega.And(match.BeRejected(), match.HaveMatrixErrorBody()))
	})

	r.require(Requirement{
		ID: "PRES-EVENTS-06", Level: Should, Endpoint: endpoint, Versions: v1Only, Watches: true,
		Text:  "C, who does not have A on their presence list, SHOULD never receive A's presence from GET /events or GET /initialSync, while B, who has, does (watched over --settle).",
		Basis: `v1 initialSync presence: "presence information for users the client is interested in"; presence lists are how a v1 user says whom they follow.`,
	}, func(s *Spec) {
		alice, bob, carol := s.NewUser(), s.NewUser(), s.NewUser()
		changeList(s, bob, client.ListChange{Invite: []string{alice.UserID}})
		stranger, _ := startEvents(s, carol)
		friend, _ := startEvents(s, bob)
		setStatus(s, alice, "unavailable", "not for strangers")
		friend.await(alice.UserID, "unavailable", func(e client.PresenceEvent) bool { return e.Content.Presence == "unavailable" })
		stranger.holdNone(fmt.Sprintf("GET /events of %s to carry nothing of %s", carol.UserID, alice.UserID),
			func(e client.PresenceEvent) bool { return e.Content.UserID == alice.UserID })
		_, initial := startEvents(s, carol)
		events, err := client.V1PresenceEvents(initial.Presence)
		s.Expect(err).NotTo(gomega.HaveOccurred())
		s.Expect(listedUsers(events)).NotTo(gomega.ContainElement(alice.UserID), "GET /initialSync of %s lists %s, whom they do not follow", carol.UserID, alice.UserID)
	})
}
