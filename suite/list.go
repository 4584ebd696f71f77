package suite

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/onsi/gomega"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
)

func listPostRequirements(r registrar) {
	const endpoint = EndpointPostList

	r.require(Requirement{
		ID: "PRES-LIST-POST-01", Level: Must, Endpoint: endpoint, Versions: v1Only,
		Text:  "Inviting a user MUST answer 200 with a JSON object and add one m.presence event to the inviter's list whose content.user_id is that user and whose content.presence is theirs.",
		Basis: `invite: "A list of user IDs to add to the list."; GET 200: "A list of presence events for this list."`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		setStatus(s, bob, "unavailable")
		changeList(s, alice, client.ListChange{Invite: []string{bob.UserID}})
		events := awaitList(s, alice, "bob, unavailable", func(events []client.PresenceEvent) bool {
			return slices.ContainsFunc(events, func(e client.PresenceEvent) bool {
				return e.Content.UserID == bob.UserID && e.Content.Presence == "unavailable"
			})
		})
		s.Expect(events).To(gomega.HaveLen(1))
		s.Expect(events[0].Type).To(gomega.Equal("m.presence"))
		s.Expect(events[0].Content.UserID).To(gomega.Equal(bob.UserID))
		s.Expect(events[0].Content.Presence).To(gomega.Equal("unavailable"))
	})

	r.require(Requirement{
		ID: "PRES-LIST-POST-02", Level: Must, Endpoint: endpoint, Versions: v1Only,
		Text:  "Dropping a user MUST remove them from the list, leaving the others.",
		Basis: `drop: "A list of user IDs to remove from the list."`,
	}, func(s *Spec) {
		alice, bob, carol := s.NewUser(), s.NewUser(), s.NewUser()
		changeList(s, alice, client.ListChange{Invite: []string{bob.UserID, carol.UserID}})
		awaitList(s, alice, "bob and carol", func(e []client.PresenceEvent) bool { return len(e) == 2 })
		changeList(s, alice, client.ListChange{Drop: []string{bob.UserID}})
		awaitList(s, alice, "carol alone", func(e []client.PresenceEvent) bool {
			return slices.Equal(listedUsers(e), []string{carol.UserID})
		})
	})

	r.require(Requirement{
		ID: "PRES-LIST-POST-03", Level: Must, Endpoint: endpoint, Versions: v1Only,
		Text:  "Inviting a user already on the list MUST NOT add them twice.",
		Basis: "The list holds users; a user is on it or not.",
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		changeList(s, alice, client.ListChange{Invite: []string{bob.UserID}})
		changeList(s, alice, client.ListChange{Invite: []string{bob.UserID}})
		events := awaitList(s, alice, "bob", func(e []client.PresenceEvent) bool { return len(e) > 0 })
		s.Expect(listedUsers(events)).To(gomega.Equal([]string{bob.UserID}))
	})

	r.require(Requirement{
		ID: "PRES-LIST-POST-04", Level: Must, Endpoint: endpoint, Versions: v1Only,
		Text:  "One request that both invites and drops MUST apply both.",
		Basis: "presence_diff: invite and drop are properties of one body.",
	}, func(s *Spec) {
		alice, bob, carol := s.NewUser(), s.NewUser(), s.NewUser()
		changeList(s, alice, client.ListChange{Invite: []string{bob.UserID}})
		changeList(s, alice, client.ListChange{Invite: []string{carol.UserID}, Drop: []string{bob.UserID}})
		awaitList(s, alice, "carol and not bob", func(e []client.PresenceEvent) bool {
			return slices.Equal(listedUsers(e), []string{carol.UserID})
		})
	})

	r.require(Requirement{
		ID: "PRES-LIST-POST-05", Level: Must, Endpoint: endpoint, Versions: v1Only, Watches: true,
		Text:  "A request to change another user's list MUST be refused with a 4xx status, and that list MUST NOT change, not even a moment later (watched over --settle).",
		Basis: "The operation declares security: accessToken; the list is its owner's.",
	}, func(s *Spec) {
		alice, bob, mallory := s.NewUser(), s.NewUser(), s.NewUser()
		changeList(s, alice, client.ListChange{Invite: []string{bob.UserID}})
		before := listedUsers(awaitList(s, alice, "bob", func(e []client.PresenceEvent) bool { return len(e) == 1 }))
		ex := mallory.ChangeList(s.Context(), alice.UserID, client.ListChange{Invite: []string{mallory.UserID}, Drop: []string{bob.UserID}})
		s.Expect(ex).To(match.BeRejected())
		holdList(s, alice, before)
	})

	r.require(Requirement{
		ID: "PRES-LIST-POST-06", Level: Should, Endpoint: endpoint, Versions: v1Only,
		Text:  "A request to change another user's list SHOULD be refused with 403 M_FORBIDDEN.",
		Basis: "The Matrix error code for an authenticated user doing what they may not is M_FORBIDDEN, with 403.",
	}, func(s *Spec) {
		alice, mallory := s.NewUser(), s.NewUser()
		ex := mallory.ChangeList(s.Context(), alice.UserID, client.ListChange{Invite: []string{mallory.UserID}})
		s.Expect(ex).To(match.BeMatrixError(http.StatusForbidden, "M_FORBIDDEN"))
	})

	r.require(Requirement{
		ID: "PRES-LIST-POST-07", Level: Must, Endpoint: endpoint, Versions: v1Only, Watches: true,
		Text:  "A change without an access token MUST be refused with a 4xx status and change nothing (watched over --settle).",
		Basis: "The operation declares security: accessToken.",
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		ex := withoutToken(alice).ChangeList(s.Context(), alice.UserID, client.ListChange{Invite: []string{bob.UserID}})
		s.Expect(ex).To(match.BeRejected())
		holdList(s, alice, nil)
	})

	r.require(Requirement{
		ID: "PRES-LIST-POST-08", Level: Should, Endpoint: endpoint, Versions: v1Only,
		Text:  "A change without an access token SHOULD be refused with 401 M_MISSING_TOKEN.",
		Basis: "The Matrix error code for a request that needs a token and has none is M_MISSING_TOKEN, with 401.",
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		ex := withoutToken(alice).ChangeList(s.Context(), alice.UserID, client.ListChange{Invite: []string{bob.UserID}})
		s.Expect(ex).To(match.BeMatrixError(http.StatusUnauthorized, "M_MISSING_TOKEN"))
	})

	r.require(Requirement{
		ID: "PRES-LIST-POST-09", Level: Must, Endpoint: endpoint, Versions: v1Only, Watches: true,
		Text:  "A body that is not JSON, not an object, or has invite or drop of the wrong type MUST be refused with a 4xx Matrix error and change nothing, not even its valid part (watched over --settle).",
		Basis: "presence_diff: type: object; invite and drop: arrays of strings.",
	}, func(s *Spec) {
		alice, bob, carol := s.NewUser(), s.NewUser(), s.NewUser()
		changeList(s, alice, client.ListChange{Invite: []string{carol.UserID}})
		before := listedUsers(awaitList(s, alice, "carol", func(e []client.PresenceEvent) bool { return len(e) == 1 }))
		for _, bad := range badListBodies {
			body := fmt.Sprintf(bad.body, bob.UserID)
			ex := alice.Do(s.Context(), client.Request{Operation: client.PostList, UserID: alice.UserID, Body: []byte(body)})
			s.Expect(ex).To(gomega.And(match.BeRejected(), match.HaveMatrixErrorBody()), "a body that is %s", bad.name)
		}
		holdList(s, alice, before)
	})

	r.require(Requirement{
		ID: "PRES-LIST-POST-10", Level: Should, Endpoint: endpoint, Versions: v1Only,
		Text:  "A refused list body SHOULD get 400 with M_NOT_JSON when it is not JSON and M_BAD_JSON when it is JSON of the wrong shape.",
		Basis: "The Matrix error codes M_NOT_JSON and M_BAD_JSON, with 400.",
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		for _, bad := range badListBodies {
			body := fmt.Sprintf(bad.body, bob.UserID)
			ex := alice.Do(s.Context(), client.Request{Operation: client.PostList, UserID: alice.UserID, Body: []byte(body)})
			s.Expect(ex).To(match.BeMatrixError(http.StatusBadRequest, bad.errcode), "a body that is %s", bad.name)
		}
	})

	r.require(Requirement{
		ID: "PRES-LIST-POST-11", Level: Should, Endpoint: endpoint, Versions: v1Only, Watches: true,
		Text:  "Inviting a string that is not a user ID SHOULD be refused with 400 M_INVALID_PARAM, and the rest of the request SHOULD NOT be applied (watched over --settle).",
		Basis: "invite holds user IDs; the Matrix error code for a malformed parameter is M_INVALID_PARAM.",
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		ex := alice.ChangeList(s.Context(), alice.UserID, client.ListChange{Invite: []string{bob.UserID, "not-a-user-id"}})
		s.Expect(ex).To(match.BeMatrixError(http.StatusBadRequest, "M_INVALID_PARAM"))
		holdList(s, alice, nil)
	})

	r.require(Requirement{
		ID: "PRES-LIST-POST-12", Level: Should, Endpoint: endpoint, Versions: v1Only, Watches: true,
		Text:  "Inviting a user who does not exist SHOULD be refused with 404 M_NOT_FOUND, and the rest of the request SHOULD NOT be applied (watched over --settle).",
		Basis: "There is no presence to follow for a user who does not exist.",
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		ex := alice.ChangeList(s.Context(), alice.UserID, client.ListChange{Invite: []string{bob.UserID, nobodyOn(serverOf(alice.UserID))}})
		s.Expect(ex).To(match.BeMatrixError(http.StatusNotFound, "M_NOT_FOUND"))
		holdList(s, alice, nil)
	})

	r.require(Requirement{
		ID: "PRES-LIST-POST-13", Level: Should, Endpoint: endpoint, Versions: v1Only,
		Text:  "Dropping a user who is not on the list SHOULD succeed and change nothing.",
		Basis: "After the request the user is not on the list, which is what was asked.",
	}, func(s *Spec) {
		alice, bob, carol := s.NewUser(), s.NewUser(), s.NewUser()
		changeList(s, alice, client.ListChange{Invite: []string{bob.UserID}})
		awaitList(s, alice, "bob", func(e []client.PresenceEvent) bool { return len(e) == 1 })
		changeList(s, alice, client.ListChange{Drop: []string{carol.UserID}})
		s.Expect(listedUsers(listOf(s, alice))).To(gomega.Equal([]string{bob.UserID}))
	})
}

func listGetRequirements(r registrar) {
	const endpoint = EndpointGetList

	r.require(Requirement{
		ID: "PRES-LIST-GET-01", Level: Must, Endpoint: endpoint, Versions: v1Only,
		Text:  "A new user's presence list MUST be an empty JSON array.",
		Basis: "200: type: array, one presence event per user on the list.",
	}, func(s *Spec) {
		alice := s.NewUser()
		s.Expect(listOf(s, alice)).To(gomega.BeEmpty())
	})

	r.require(Requirement{
		ID: "PRES-LIST-GET-02", Level: Must, Endpoint: endpoint, Versions: v1Only,
		Text:  "Every entry MUST be an m.presence event: type m.presence, and content with the user_id, a presence the spec enumerates and, when given, a non-negative integer last_active_ago.",
		Basis: "200 items: core event schema; the m.presence event schema requires content.user_id and content.presence.",
	}, func(s *Spec) {
		alice, bob, carol := s.NewUser(), s.NewUser(), s.NewUser()
		setStatus(s, bob, "online", "hello")
		changeList(s, alice, client.ListChange{Invite: []string{bob.UserID, carol.UserID}})
		events := awaitList(s, alice, "bob and carol", func(e []client.PresenceEvent) bool { return len(e) == 2 })
		s.Expect(listedUsers(events)).To(gomega.ConsistOf(bob.UserID, carol.UserID))
		for _, e := range events {
			s.Expect(e.Type).To(gomega.Equal("m.presence"))
			s.Expect(presenceStates(s.Client().API())).To(gomega.ContainElement(e.Content.Presence), "content.presence of %s", e.Content.UserID)
			if e.Content.LastActiveAgo != nil {
				s.Expect(*e.Content.LastActiveAgo).To(gomega.BeNumerically(">=", 0))
			}
		}
	})

	r.require(Requirement{
		ID: "PRES-LIST-GET-03", Level: Must, Endpoint: endpoint, Versions: v1Only,
		Text:  "The list MUST follow its users: after a listed user changes their presence, the list MUST report the new one.",
		Basis: `"Retrieve a list of presence events for every user on this list."`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		setStatus(s, bob, "online")
		changeList(s, alice, client.ListChange{Invite: []string{bob.UserID}})
		awaitList(s, alice, "bob online", func(e []client.PresenceEvent) bool { return len(e) == 1 && e[0].Content.Presence == "online" })
		setStatus(s, bob, "unavailable")
		awaitList(s, alice, "bob unavailable", func(e []client.PresenceEvent) bool {
			return len(e) == 1 && e[0].Content.Presence == "unavailable"
		})
	})

	r.require(Requirement{
		ID: "PRES-LIST-GET-04", Level: Should, Endpoint: endpoint, Versions: v1Only,
		Text:  "Reading another user's presence list SHOULD be refused with 403 M_FORBIDDEN: whom a user follows is theirs to know.",
		Basis: "The seed declares no security for this operation; a list reveals its owner's contacts.",
	}, func(s *Spec) {
		alice, bob, mallory := s.NewUser(), s.NewUser(), s.NewUser()
		changeList(s, alice, client.ListChange{Invite: []string{bob.UserID}})
		ex := mallory.GetList(s.Context(), alice.UserID)
		s.Expect(ex).To(match.BeMatrixError(http.StatusForbidden, "M_FORBIDDEN"))
	})
}
