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

// What the spec leaves open, and no requirement here fails: an initial
// sync may leave out room-mates who are offline; the caller's own presence
// may or may not come in their own sync; currently_active may be absent
// from events; a user's change may take several events in any order, as
// long as the last carries the latest state; delivery may lag up to
// --settle; tokens and filter IDs are opaque strings of any shape.

func syncRequirements(r registrar) {
	const endpoint = EndpointSync

	r.require(Requirement{
		ID: "PRES-SYNC-01", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  "After A sets their presence with a status_msg, the /sync of B, who shares a joined room with A, MUST deliver within --settle an m.presence event whose sender is A and whose content carries that presence and status_msg.",
		Basis: `Presence module: "Presence events are sent to interested parties where users share a room membership"; sync 200 presence: "The updates to the presence status of other users."`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{})
		setStatus(s, alice, "online", "delivered by sync")
		e := stream.await(alice.UserID, `online with status_msg "delivered by sync"`, isState("online", "delivered by sync"))
		s.Expect(e.Type).To(gomega.Equal("m.presence"))
	})

	r.require(Requirement{
		ID: "PRES-SYNC-02", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  "Every /sync response MUST match the version's sync response schema, and every m.presence event in it MUST match the version's m.presence event schema: sender, type m.presence and content with a presence the spec enumerates; last_active_ago a number, currently_active a boolean and status_msg a string when present.",
		Basis: "sync.yaml 200 schema (next_batch, rooms, presence: an event batch); event-schemas m.presence: required [sender, type, content], content required [presence], presence enum [online, offline, unavailable].",
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{})
		for _, st := range presenceStates(s.Client().API()) {
			setStatus(s, alice, st, "state "+st)
			stream.await(alice.UserID, st, isState(st, "state "+st))
		}
		// Every exchange was checked against both schemas as it came; say
		// so explicitly for the last one too.
		_, ex := stream.next(0)
		s.Expect(ex.SchemaErr).NotTo(gomega.HaveOccurred())
	})

	r.require(Requirement{
		ID: "PRES-SYNC-03", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  "An initial /sync MUST answer 200 with a next_batch string, and rooms.join MUST hold an entry for every room the caller has joined.",
		Basis: `sync.yaml 200: next_batch: "The batch token to supply in the since param of the next /sync request"; rooms.join: "The rooms that the user has joined".`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		shared := shareRoom(s, bob, alice)
		alone := shareRoom(s, bob)
		ex := bob.Sync(s.Context(), client.SyncParams{})
		s.Expect(ex).To(match.HaveStatus(http.StatusOK))
		resp, err := client.DecodeSync(ex)
		s.Expect(err).NotTo(gomega.HaveOccurred(), "%s", ex)
		for _, room := range []string{shared, alone} {
			s.Expect(resp.Rooms.Join).To(gomega.HaveKey(room), "rooms.join of an initial sync\n\n%s", ex)
		}
	})

	r.require(Requirement{
		ID: "PRES-SYNC-04", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  "An incremental /sync from a next_batch token MUST carry, within --settle, a presence change a room-mate made after that token was issued.",
		Basis: `sync.yaml since: "A point in time to continue a sync from"; the response is "the initial snapshot or delta" the client uses to update its state.`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{})
		setStatus(s, alice, "online", "first")
		stream.await(alice.UserID, `online "first"`, isState("online", "first"))
		setStatus(s, alice, "unavailable", "second")
		stream.await(alice.UserID, `unavailable "second"`, isState("unavailable", "second"))
	})

	r.require(Requirement{
		ID: "PRES-SYNC-05", Level: Should, Endpoint: endpoint, Versions: sinceR0, Watches: true,
		Text:  "An incremental /sync SHOULD NOT carry again a user's presence that has not changed since the token: once delivered, the same presence, status_msg and currently_active SHOULD NOT come back (watched over --settle).",
		Basis: `sync.yaml: an incremental sync is a delta from since; presence: "The updates to the presence status of other users." The currently_active mechanism exists to spare clients repeated updates.`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{})
		setStatus(s, alice, "online", "said once")
		seen := stream.await(alice.UserID, `online "said once"`, isState("online", "said once"))
		stream.holdNone(fmt.Sprintf("no repeat of %s", describeSync(seen)), func(e client.SyncPresence) bool {
			return e.Sender == alice.UserID && isState("online", "said once")(e) &&
				sameBool(e.Content.CurrentlyActive, seen.Content.CurrentlyActive)
		})
	})

	r.require(Requirement{
		ID: "PRES-SYNC-06", Level: Should, Endpoint: endpoint, Versions: sinceR0,
		Text:  "One /sync response SHOULD carry at most one m.presence event per user, whose last event SHOULD show their latest state: after three quick changes, a client SHOULD get the last one alone.",
		Basis: "presence is an event batch of updates; a client applies them in order, so only the latest state matters and older ones are noise.",
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{})
		setStatus(s, alice, "online", "one")
		setStatus(s, alice, "unavailable", "two")
		setStatus(s, alice, "online", "three")
		deadline := time.Now().Add(s.Settle())
		for {
			events, ex := stream.next(max(time.Until(deadline), 0))
			count := map[string]int{}
			for _, e := range events {
				count[e.Sender]++
				s.Expect(count[e.Sender]).To(gomega.Equal(1), "m.presence events of %s in one /sync response\n\n%s", e.Sender, ex)
			}
			if e, ok := stream.latest[alice.UserID]; ok && isState("online", "three")(e) {
				return
			}
			if time.Now().After(deadline) {
				s.failBehaviour("a room-mate's /sync to deliver their latest state within --settle", "an older state or none", fmt.Sprintf("Expected %s's /sync to deliver %s's latest state, online \"three\", within %s (--settle).\n\n%s", bob.UserID, alice.UserID, s.Settle(), ex))
			}
		}
	})

	r.require(Requirement{
		ID: "PRES-SYNC-07", Level: Must, Waits: true, Endpoint: endpoint, Versions: sinceR0,
		Text:  "A long-poll /sync (since a token, timeout=20000) that is waiting when a room-mate's presence changes MUST return early, within --settle of the change, carrying it.",
		Basis: `sync.yaml timeout: "The maximum time to wait, in milliseconds, before returning this request. If no events (or other data) become available before this time elapses..."`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		setStatusSettled(s, bob, "online")
		shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{})
		drainSync(stream)
		quiet := s.Client().Quiet().As(bob.UserID, bob.Token)
		longPollWakes(s, fmt.Sprintf("%s's presence changes", alice.UserID),
			func() { setStatus(s, alice, "unavailable", "wake up") },
			func(ctx context.Context, wait time.Duration) *client.Exchange {
				p := stream.params
				p.Timeout = wait
				return quiet.Sync(ctx, p)
			},
			func(ex *client.Exchange) bool {
				s.Expect(ex).To(match.HaveStatus(http.StatusOK))
				resp, err := client.DecodeSync(ex)
				s.Expect(err).NotTo(gomega.HaveOccurred(), "%s", ex)
				events, err := resp.PresenceEvents()
				s.Expect(err).NotTo(gomega.HaveOccurred(), "%s", ex)
				stream.params.Since = resp.NextBatch
				for _, e := range events {
					stream.latest[e.Sender] = e
				}
				e, ok := stream.latest[alice.UserID]
				return ok && isState("unavailable", "wake up")(e)
			})
	})

	setPresenceMarks := func(id, text, basis string, from, param, want string) {
		r.require(Requirement{ID: id, Level: Must, Endpoint: endpoint, Versions: sinceR0, Text: text, Basis: basis}, func(s *Spec) {
			alice := s.NewUser()
			setStatusSettled(s, alice, from)
			ex := alice.Sync(s.Context(), client.SyncParams{SetPresence: param})
			s.Expect(ex).To(match.HaveStatus(http.StatusOK))
			awaitStatus(s, alice, alice.UserID, "presence "+want, func(st client.Status) bool { return st.Presence == want })
		})
	}
	const setPresenceBasis = `sync.yaml set_presence: "If this parameter is omitted then the client is automatically marked as online when it uses this API. Otherwise if the parameter is set to \"offline\" then the client is not marked as being online when it uses this API. When set to \"unavailable\", the client is marked as being idle."`
	setPresenceMarks("PRES-SYNC-08",
		"/sync?set_presence=unavailable MUST mark an online caller unavailable, as GET status then shows within --settle.",
		setPresenceBasis, "online", "unavailable", "unavailable")

	r.require(Requirement{
		ID: "PRES-SYNC-09", Level: Must, Endpoint: endpoint, Versions: sinceR0, Watches: true,
		Text:  "/sync?set_presence=offline MUST NOT mark an offline caller online (GET status watched over --settle).",
		Basis: setPresenceBasis,
	}, func(s *Spec) {
		alice := s.NewUser()
		setStatusSettled(s, alice, "offline")
		ex := alice.Sync(s.Context(), client.SyncParams{SetPresence: "offline"})
		s.Expect(ex).To(match.HaveStatus(http.StatusOK))
		hold(s, fmt.Sprintf("%s not to be marked online", alice.UserID), func(time.Duration) string {
			ex := alice.GetStatus(s.Context(), alice.UserID)
			if st, err := client.DecodeStatus(ex); err != nil || st.Presence == "online" {
				return fmt.Sprintf("a read shows otherwise.\n\n%s", ex)
			}
			return ""
		})
	})

	setPresenceMarks("PRES-SYNC-10",
		"/sync with set_presence omitted MUST mark an offline caller online, as GET status then shows within --settle.",
		setPresenceBasis, "offline", client.OmitSetPresence, "online")

	r.require(Requirement{
		ID: "PRES-SYNC-11", Level: Should, Endpoint: endpoint, Versions: sinceR0, Watches: true,
		Text:  "/sync with a set_presence outside online, offline and unavailable SHOULD be refused with 400 and a Matrix error (M_INVALID_PARAM is the code for a bad parameter), and SHOULD change nothing: not the caller's presence, not a moment later (watched over --settle).",
		Basis: `sync.yaml set_presence: enum ["offline", "online", "unavailable"], and what each of the three does; the spec does not say what a server does with any other value, so refusing it is a careful server's practice.`,
	}, func(s *Spec) {
		alice := s.NewUser()
		before := setStatusSettled(s, alice, "unavailable", "before")
		for _, bad := range []string{"busy", "ONLINE", "free_for_chat"} {
			ex := alice.Sync(s.Context(), client.SyncParams{SetPresence: bad})
			s.Expect(ex).To(gomega.And(match.HaveStatus(http.StatusBadRequest), match.HaveMatrixErrorBody()), "set_presence=%s", bad)
		}
		holdStatus(s, alice, alice.UserID, before)
	})

	r.require(Requirement{
		ID: "PRES-SYNC-12", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  `An inline filter {"presence":{"not_types":["m.presence"]}} MUST remove every m.presence event from the /sync it is given to.`,
		Basis: `filter.yaml EventFilter not_types: "A list of event types to exclude"; sync.yaml filter: "a filter JSON object encoded as a string".`,
	}, func(s *Spec) {
		notTypes := client.Filter{Presence: &client.EventFilter{NotTypes: []string{"m.presence"}}}
		withFilter(s, func(bob *client.Session, _, _ *client.Session) string { return notTypes.Inline() },
			func(events []client.SyncPresence, alice, dave *client.Session, ex *client.Exchange) {
				s.Expect(events).To(gomega.BeEmpty(), "presence filter not_types [m.presence]: no m.presence event\n\n%s", ex)
			})
	})

	r.require(Requirement{
		ID: "PRES-SYNC-13", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  `A presence filter with "senders":[A] MUST let A's presence through and keep out everyone else's.`,
		Basis: `filter.yaml EventFilter senders: "A list of senders IDs to include."`,
	}, func(s *Spec) {
		withFilter(s, func(_ *client.Session, alice, _ *client.Session) string {
			return client.Filter{Presence: &client.EventFilter{Senders: []string{alice.UserID}}}.Inline()
		}, func(events []client.SyncPresence, alice, dave *client.Session, ex *client.Exchange) {
			s.Expect(senders(events)).To(gomega.ContainElement(alice.UserID), "presence filter senders: the named sender's presence\n\nnamed %s\n\n%s", alice.UserID, ex)
			s.Expect(senders(events)).NotTo(gomega.ContainElement(dave.UserID), "presence filter senders: no other sender's presence\n\nnamed only %s\n\n%s", alice.UserID, ex)
		})
	})

	r.require(Requirement{
		ID: "PRES-SYNC-14", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  `A presence filter with "not_senders":[A] MUST keep A's presence out and let the others' through.`,
		Basis: `filter.yaml EventFilter not_senders: "A list of sender IDs to exclude."`,
	}, func(s *Spec) {
		withFilter(s, func(_ *client.Session, alice, _ *client.Session) string {
			return client.Filter{Presence: &client.EventFilter{NotSenders: []string{alice.UserID}}}.Inline()
		}, func(events []client.SyncPresence, alice, dave *client.Session, ex *client.Exchange) {
			s.Expect(senders(events)).NotTo(gomega.ContainElement(alice.UserID), "presence filter not_senders: no excluded sender's presence\n\nexcluded %s\n\n%s", alice.UserID, ex)
			s.Expect(senders(events)).To(gomega.ContainElement(dave.UserID), "presence filter not_senders: the other senders' presence\n\nexcluded only %s\n\n%s", alice.UserID, ex)
		})
	})

	r.require(Requirement{
		ID: "PRES-SYNC-15", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  `A presence filter with "limit":1 MUST cap presence.events at one event, where two users' changes wait.`,
		Basis: `filter.yaml EventFilter limit: "The maximum number of events to return."`,
	}, func(s *Spec) {
		withFilter(s, func(*client.Session, *client.Session, *client.Session) string {
			return client.Filter{Presence: &client.EventFilter{Limit: ptr(1)}}.Inline()
		}, func(events []client.SyncPresence, _, _ *client.Session, ex *client.Exchange) {
			resp, err := client.DecodeSync(ex)
			s.Expect(err).NotTo(gomega.HaveOccurred())
			s.Expect(len(resp.Presence.Events)).To(gomega.BeNumerically("<=", 1), "presence filter limit 1: at most one event\n\n%s", ex)
		})
	})

	syncPrivacy(r)
}

func filterRequirements(r registrar) {
	const endpoint = EndpointFilter

	r.require(Requirement{
		ID: "PRES-SYNC-16", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  "POST /user/{userId}/filter MUST answer 200 with a filter_id; GET of that ID MUST return the filter as uploaded; and /sync?filter=<filter_id> MUST apply it as the same filter given inline does.",
		Basis: `filter.yaml POST 200: filter_id required; GET 200: "The filter definition"; sync.yaml filter: "The ID of a filter created using the filter API or a filter JSON object encoded as a string."`,
	}, func(s *Spec) {
		withFilter(s, func(bob, alice, _ *client.Session) string {
			f := client.Filter{Presence: &client.EventFilter{Senders: []string{alice.UserID}}}
			id := uploadFilter(s, bob, f)
			ex := bob.GetFilter(s.Context(), bob.UserID, id)
			s.Expect(ex).To(match.HaveStatus(http.StatusOK))
			var got client.Filter
			s.Expect(ex.DecodeJSON(&got)).To(gomega.Succeed())
			s.Expect(got.Presence).NotTo(gomega.BeNil(), "the filter read back has no presence section\n\n%s", ex)
			s.Expect(got.Presence.Senders).To(gomega.Equal([]string{alice.UserID}), "presence.senders of the filter read back\n\n%s", ex)
			return id
		}, func(events []client.SyncPresence, alice, dave *client.Session, ex *client.Exchange) {
			s.Expect(senders(events)).To(gomega.ContainElement(alice.UserID), "uploaded presence filter senders: the named sender's presence\n\nnamed %s\n\n%s", alice.UserID, ex)
			s.Expect(senders(events)).NotTo(gomega.ContainElement(dave.UserID), "uploaded presence filter senders: no other sender's presence\n\nnamed only %s\n\n%s", alice.UserID, ex)
		})
	})

	r.require(Requirement{
		ID: "PRES-SYNC-17", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  "GET /user/{userId}/filter/{filterId} MUST answer 404 with a Matrix error for an ID never issued, and MUST refuse with a 4xx a user reading another user's filter.",
		Basis: `filter.yaml GET 404: "Unknown filter."; POST userId: "The access token must be authorized to make requests for this user id."`,
	}, func(s *Spec) {
		bob, mallory := s.NewUser(), s.NewUser()
		id := uploadFilter(s, bob, client.Filter{Presence: &client.EventFilter{NotTypes: []string{"m.presence"}}})
		// Digits, and few of them, as servers that number their filters
		// parse an ID as an integer before looking it up.
		ex := bob.GetFilter(s.Context(), bob.UserID, fmt.Sprint(900000000+time.Now().UnixNano()%100000000))
		s.Expect(ex).To(gomega.And(match.HaveStatus(http.StatusNotFound), match.HaveMatrixErrorBody()), "a filter ID never issued")
		ex = mallory.GetFilter(s.Context(), bob.UserID, id)
		s.Expect(ex).To(match.BeRejected(), "%s reading %s's filter", mallory.UserID, bob.UserID)
	})

	r.require(Requirement{
		ID: "PRES-SYNC-21", Level: Must, Endpoint: endpoint, Versions: sinceR0, Watches: true,
		Text:  "A filter that is not JSON, not an object, or of the wrong shape MUST be refused with a 4xx and a Matrix error, uploaded or given inline to /sync, and MUST change none of the user's filters, not a moment later (watched over --settle).",
		Basis: `filter.yaml: the body is a Filter object (sync_filter.yaml); presence is an EventFilter whose limit is an integer and senders an array of strings. sync.yaml filter: "The ID of a filter created using the filter API or a filter JSON object encoded as a string": text that is neither cannot be honoured. Which errcode is PRES-SYNC-22's.`,
	}, func(s *Spec) {
		bob := s.NewUser()
		kept := client.Filter{Presence: &client.EventFilter{Senders: []string{bob.UserID}}}
		id := uploadFilter(s, bob, kept)
		refusedAsBadFilter := gomega.And(match.BeRejected(), match.HaveMatrixErrorBody())
		for _, bad := range badFilters {
			ex := bob.UploadFilter(s.Context(), bob.UserID, []byte(bad))
			s.Expect(ex).To(refusedAsBadFilter, "uploading the filter %s", bad)
			if bad[0] == '{' {
				ex = bob.Sync(s.Context(), client.SyncParams{Filter: bad})
				s.Expect(ex).To(refusedAsBadFilter, "/sync with the inline filter %s", bad)
			}
		}
		hold(s, fmt.Sprintf("%s's filter %s to stay as uploaded", bob.UserID, id), func(time.Duration) string {
			ex := bob.GetFilter(s.Context(), bob.UserID, id)
			var got client.Filter
			if ex.Status() != http.StatusOK || ex.DecodeJSON(&got) != nil || got.Presence == nil || !slices.Equal(got.Presence.Senders, kept.Presence.Senders) {
				return fmt.Sprintf("a read shows otherwise.\n\n%s", ex)
			}
			return ""
		})
	})
}

// badFilters are filters every server must refuse.
var badFilters = []string{
	`{"presence":`,
	`["m.presence"]`,
	`{"presence":{"limit":"ten"}}`,
	`{"presence":{"senders":"@someone:example.org"}}`,
	`{"presence":"none"}`,
}

func syncPrivacy(r registrar) {
	const endpoint = EndpointSync

	r.require(Requirement{
		ID: "PRES-SYNC-18", Level: Should, Endpoint: endpoint, Versions: sinceR0, Watches: true,
		Text:  "C, who shares no room with A, SHOULD never receive A's presence through /sync, incremental or initial, while B, who shares one, does (watched over --settle).",
		Basis: `Presence module: "Presence information is shared with all users who share a room with the target user."`,
	}, func(s *Spec) {
		alice, bob, carol := s.NewUser(), s.NewUser(), s.NewUser()
		shareRoom(s, bob, alice)
		stranger := startSync(s, carol, client.SyncParams{})
		friend := startSync(s, bob, client.SyncParams{})
		setStatus(s, alice, "online", "not for strangers")
		friend.await(alice.UserID, `online "not for strangers"`, isState("online", "not for strangers"))
		fromAlice := func(e client.SyncPresence) bool { return e.Sender == alice.UserID }
		stranger.holdNone(fmt.Sprintf("%s's /sync to carry nothing of %s", carol.UserID, alice.UserID), fromAlice)
		initial := startSync(s, carol, client.SyncParams{})
		s.Expect(initial.latest).NotTo(gomega.HaveKey(alice.UserID), "%s's initial sync carries the presence of %s, with whom they share no room", carol.UserID, alice.UserID)
	})

	r.require(Requirement{
		ID: "PRES-SYNC-19", Level: Should, Endpoint: endpoint, Versions: sinceR0, Watches: true,
		Text:  "After B leaves the only room B shares with A, B's /sync SHOULD no longer carry A's presence changes (watched over --settle).",
		Basis: `Presence module: "Presence events are sent to interested parties where users share a room membership."`,
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		room := shareRoom(s, bob, alice)
		stream := startSync(s, bob, client.SyncParams{})
		setStatus(s, alice, "online", "before leaving")
		stream.await(alice.UserID, `online "before leaving"`, isState("online", "before leaving"))
		ex, err := bob.LeaveRoom(s.Context(), room)
		s.Expect(err).NotTo(gomega.HaveOccurred(), "%s", ex)
		setStatus(s, alice, "unavailable", "after leaving")
		stream.holdNone(fmt.Sprintf("%s's /sync to carry no change %s made after %s left", bob.UserID, alice.UserID, bob.UserID),
			func(e client.SyncPresence) bool {
				return e.Sender == alice.UserID && isState("unavailable", "after leaving")(e)
			})
	})

	r.require(Requirement{
		ID: "PRES-SYNC-22", Level: Should, Endpoint: endpoint, Versions: sinceR0,
		Text:  "The refusal of a filter that is not JSON, or of the wrong shape, SHOULD be a 400 with one of the spec's codes for bad input: M_NOT_JSON, M_BAD_JSON or M_INVALID_PARAM, and not M_NOT_JSON for JSON of the wrong shape.",
		Basis: "The spec's common error codes: M_NOT_JSON \"Request did not contain valid JSON\", M_BAD_JSON \"Request contained valid JSON, but it was malformed in some way\", M_INVALID_PARAM \"A parameter that was specified has the wrong value\". filter.yaml documents no 400 at all, so the code is a careful server's practice.",
	}, func(s *Spec) {
		bob := s.NewUser()
		for _, bad := range badFilters {
			codes := []string{"M_BAD_JSON", "M_INVALID_PARAM"}
			if !json.Valid([]byte(bad)) {
				codes = []string{"M_NOT_JSON", "M_BAD_JSON", "M_INVALID_PARAM"}
			}
			refused := gomega.And(match.HaveStatus(http.StatusBadRequest), match.HaveErrcodeIn(codes...))
			ex := bob.UploadFilter(s.Context(), bob.UserID, []byte(bad))
			s.Expect(ex).To(refused, "uploading the filter %s", bad)
			if bad[0] == '{' {
				ex = bob.Sync(s.Context(), client.SyncParams{Filter: bad})
				s.Expect(ex).To(refused, "/sync with the inline filter %s", bad)
			}
		}
	})

	r.require(Requirement{
		ID: "PRES-SYNC-20", Level: Should, Endpoint: endpoint, Versions: sinceR0,
		Text:  "A /sync since a token the server never issued SHOULD be refused with a 4xx Matrix error, not answered 200 or 5xx.",
		Basis: `sync.yaml since: "This should be the next_batch token returned by an earlier call to this endpoint."`,
	}, func(s *Spec) {
		bob := s.NewUser()
		ex := bob.Sync(s.Context(), client.SyncParams{Since: neverIssued()})
		s.Expect(ex).To(gomega.And(match.BeRejected(), match.HaveMatrixErrorBody()))
	})
}

// withFilter sets up the filter requirements: B shares a room with A and
// D, both of whom change their presence after B's initial sync; once B's
// unfiltered /sync has carried both changes, a /sync from the same token
// with the filter filterOf gives (an inline JSON or a filter ID) must show
// what check says.
func withFilter(s *Spec, filterOf func(bob, alice, dave *client.Session) string, check func(events []client.SyncPresence, alice, dave *client.Session, ex *client.Exchange)) {
	alice, bob, dave := s.NewUser(), s.NewUser(), s.NewUser()
	shareRoom(s, bob, alice, dave)
	filter := filterOf(bob, alice, dave)
	stream := startSync(s, bob, client.SyncParams{})
	since := stream.params.Since
	setStatus(s, alice, "online", "from alice")
	setStatus(s, dave, "unavailable", "from dave")
	stream.await(alice.UserID, `online "from alice"`, isState("online", "from alice"))
	stream.await(dave.UserID, `unavailable "from dave"`, isState("unavailable", "from dave"))
	ex := bob.Sync(s.Context(), client.SyncParams{Since: since, Filter: filter})
	s.Expect(ex).To(match.HaveStatus(http.StatusOK), "/sync with filter %s", filter)
	resp, err := client.DecodeSync(ex)
	s.Expect(err).NotTo(gomega.HaveOccurred(), "%s", ex)
	events, err := resp.PresenceEvents()
	s.Expect(err).NotTo(gomega.HaveOccurred(), "%s", ex)
	check(events, alice, dave, ex)
}

// uploadFilter uploads a filter and returns its ID.
func uploadFilter(s *Spec, u *client.Session, f client.Filter) string {
	ex := u.UploadFilter(s.Context(), u.UserID, f)
	id, err := client.DecodeFilterID(ex)
	s.Expect(err).NotTo(gomega.HaveOccurred(), "%s uploading a filter\n\n%s", u.UserID, ex)
	return id
}

func senders(events []client.SyncPresence) []string {
	var ids []string
	for _, e := range events {
		ids = append(ids, e.Sender)
	}
	return ids
}

func sameBool(a, b *bool) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// drainSync reads a stream at once until a read brings no presence, at
// most a few times, so that a long-poll after it waits for news.
func drainSync(st *syncStream) {
	for range 3 {
		if events, _ := st.next(0); len(events) == 0 {
			return
		}
	}
}
