package suite

import (
	"net/http"
	"time"

	"github.com/onsi/gomega"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
)

// Rules the coverage table (COVERAGE.md) showed unchecked: the token every
// delivery endpoint declares, whose filter a user may upload, and how a
// presence filter's fields combine.

// refusedUnauthenticated asks for what a request without a token, or with
// one never issued, must get: a 4xx Matrix error.
var refusedUnauthenticated = gomega.And(match.BeRejected(), match.HaveMatrixErrorBody())

func moreSyncRequirements(r registrar) {
	const endpoint = EndpointSync

	r.require(Requirement{
		ID: "PRES-SYNC-23", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  "A /sync without an access token, or with one the server never issued, MUST be refused with a 4xx Matrix error, carrying no sync response.",
		Basis: "sync.yaml GET /sync: security: accessToken (r0.6.1 and v1.19); what /sync returns is the caller's own rooms and presence, so without a caller there is nothing to return.",
	}, func(s *Spec) {
		bob := s.NewUser()
		for _, who := range []*client.Session{withoutToken(bob), withUnknownToken(bob)} {
			ex := who.Sync(s.Context(), client.SyncParams{})
			s.Expect(ex).To(refusedUnauthenticated, "/sync with no valid access token")
		}
	})

	r.require(Requirement{
		ID: "PRES-SYNC-24", Level: Should, Endpoint: endpoint, Versions: sinceR0,
		Text:  "A /sync without an access token SHOULD get 401 M_MISSING_TOKEN, and one with a token never issued 401 M_UNKNOWN_TOKEN.",
		Basis: "The spec's common error codes: M_MISSING_TOKEN \"No access token was specified for the request\", M_UNKNOWN_TOKEN \"The access token specified was not recognised\"; both come with 401.",
	}, func(s *Spec) {
		bob := s.NewUser()
		ex := withoutToken(bob).Sync(s.Context(), client.SyncParams{})
		s.Expect(ex).To(match.BeMatrixError(http.StatusUnauthorized, "M_MISSING_TOKEN"), "/sync without an access token")
		ex = withUnknownToken(bob).Sync(s.Context(), client.SyncParams{})
		s.Expect(ex).To(match.BeMatrixError(http.StatusUnauthorized, "M_UNKNOWN_TOKEN"), "/sync with an unknown access token")
	})

	r.require(Requirement{
		ID: "PRES-SYNC-27", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  `A presence filter MUST remove every m.presence event when its "types" does not name m.presence (["m.room.message"]), when a "not_types" wildcard matches it (["m.*"]), and when not_types names it though types names it too (not_types wins).`,
		Basis: `event_filter.yaml types: "A list of event types to include. If this list is absent then all event types are included. A '*' can be used as a wildcard to match any sequence of characters."; not_types: "A matching type will be excluded even if it is listed in the 'types' filter."`,
	}, func(s *Spec) {
		filters := []client.EventFilter{
			{Types: []string{"m.room.message"}},
			{NotTypes: []string{"m.*"}},
			{Types: []string{"m.presence"}, NotTypes: []string{"m.presence"}},
		}
		withFilters(s, len(filters), func(i int, _, _ *client.Session) string {
			return client.Filter{Presence: &filters[i]}.Inline()
		}, func(i int, events []client.SyncPresence, _, _ *client.Session, ex *client.Exchange) {
			s.Expect(events).To(gomega.BeEmpty(), "presence filter types and not_types: no m.presence event\n\nfilter %d of 3\n\n%s", i+1, ex)
		})
	})

	r.require(Requirement{
		ID: "PRES-SYNC-28", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  `A presence filter that lists A in both "senders" and "not_senders" MUST keep A's presence out: not_senders wins.`,
		Basis: `event_filter.yaml not_senders: "A matching sender will be excluded even if it is listed in the 'senders' filter."`,
	}, func(s *Spec) {
		withFilter(s, func(_ *client.Session, alice, dave *client.Session) string {
			return client.Filter{Presence: &client.EventFilter{Senders: []string{alice.UserID, dave.UserID}, NotSenders: []string{alice.UserID}}}.Inline()
		}, func(events []client.SyncPresence, alice, dave *client.Session, ex *client.Exchange) {
			s.Expect(senders(events)).NotTo(gomega.ContainElement(alice.UserID), "presence filter not_senders over senders: no excluded sender's presence\n\nexcluded %s\n\n%s", alice.UserID, ex)
			s.Expect(senders(events)).To(gomega.ContainElement(dave.UserID), "presence filter senders: the named sender's presence\n\nnamed %s\n\n%s", dave.UserID, ex)
		})
	})
}

func moreFilterRequirements(r registrar) {
	const endpoint = EndpointFilter

	r.require(Requirement{
		ID: "PRES-SYNC-25", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  "Uploading or reading a filter without an access token, or with one the server never issued, MUST be refused with a 4xx Matrix error: the upload gives no filter_id and the read does not return the filter.",
		Basis: "filter.yaml POST /user/{userId}/filter and GET /user/{userId}/filter/{filterId}: security: accessToken (r0.6.1 and v1.19).",
	}, func(s *Spec) {
		bob := s.NewUser()
		id := uploadFilter(s, bob, client.Filter{Presence: &client.EventFilter{NotTypes: []string{"m.presence"}}})
		for _, who := range []*client.Session{withoutToken(bob), withUnknownToken(bob)} {
			ex := who.UploadFilter(s.Context(), bob.UserID, client.Filter{Presence: &client.EventFilter{Limit: ptr(2)}})
			s.Expect(ex).To(refusedUnauthenticated, "uploading a filter with no valid access token")
			ex = who.GetFilter(s.Context(), bob.UserID, id)
			s.Expect(ex).To(refusedUnauthenticated, "reading a filter with no valid access token")
		}
	})

	r.require(Requirement{
		ID: "PRES-SYNC-26", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  "Uploading a filter for another user's ID MUST be refused with a 4xx Matrix error, giving no filter_id.",
		Basis: `filter.yaml POST userId: "The ID of the user uploading the filter. The access token must be authorized to make requests for this user id."`,
	}, func(s *Spec) {
		bob, mallory := s.NewUser(), s.NewUser()
		ex := mallory.UploadFilter(s.Context(), bob.UserID, client.Filter{Presence: &client.EventFilter{Limit: ptr(2)}})
		s.Expect(ex).To(gomega.And(match.BeRejected(), match.HaveMatrixErrorBody()), "uploading a filter for another user")
	})
}

func moreEventsRequirements(r registrar) {
	const endpoint = EndpointEvents

	r.require(Requirement{
		ID: "PRES-EVENTS-07", Level: Must, Endpoint: endpoint, Versions: v1Only,
		Text:  "GET /events and GET /initialSync without an access token, or with one the server never issued, MUST be refused with a 4xx Matrix error.",
		Basis: "v1 sync.yaml GET /events and GET /initialSync: security: accessToken; both return the caller's own stream.",
	}, func(s *Spec) {
		bob := s.NewUser()
		for _, who := range []*client.Session{withoutToken(bob), withUnknownToken(bob)} {
			ex := who.InitialSync(s.Context())
			s.Expect(ex).To(refusedUnauthenticated, "GET /initialSync with no valid access token")
			ex = who.Events(s.Context(), "", 0)
			s.Expect(ex).To(refusedUnauthenticated, "GET /events with no valid access token")
		}
	})
}

// withFilters is withFilter for several filters over the same changes:
// one /sync from the same token per filter.
func withFilters(s *Spec, n int, filterOf func(i int, alice, dave *client.Session) string, check func(i int, events []client.SyncPresence, alice, dave *client.Session, ex *client.Exchange)) {
	alice, bob, dave := s.NewUser(), s.NewUser(), s.NewUser()
	shareRoom(s, bob, alice, dave)
	stream := startSync(s, bob, client.SyncParams{})
	since := stream.params.Since
	setStatus(s, alice, "online", "from alice")
	setStatus(s, dave, "unavailable", "from dave")
	stream.await(alice.UserID, `online "from alice"`, isState("online", "from alice"))
	stream.await(dave.UserID, `unavailable "from dave"`, isState("unavailable", "from dave"))
	for i := range n {
		filter := filterOf(i, alice, dave)
		ex := bob.Sync(s.Context(), client.SyncParams{Since: since, Filter: filter})
		s.Expect(ex).To(match.HaveStatus(http.StatusOK), "/sync with filter %s", filter)
		resp, err := client.DecodeSync(ex)
		s.Expect(err).NotTo(gomega.HaveOccurred(), "%s", ex)
		events, err := resp.PresenceEvents()
		s.Expect(err).NotTo(gomega.HaveOccurred(), "%s", ex)
		check(i, events, alice, dave, ex)
	}
}

func lastSyncRequirements(r registrar) {
	r.require(Requirement{
		ID: "PRES-SYNC-29", Level: Must, Endpoint: EndpointFilter, Versions: sinceR0,
		Text:  "A filter_id MUST NOT start with {, which is how /sync tells an inline filter from an ID.",
		Basis: `filter.yaml POST 200 filter_id: "Cannot start with a { as this character is used to determine if the filter provided is inline JSON or a previously declared filter by homeservers on some APIs."`,
	}, func(s *Spec) {
		bob := s.NewUser()
		id := uploadFilter(s, bob, client.Filter{Presence: &client.EventFilter{Limit: ptr(3)}})
		s.Expect(id).NotTo(gomega.HavePrefix("{"), "filter_id not starting with {")
	})

	r.require(Requirement{
		ID: "PRES-SYNC-30", Level: Must, Endpoint: EndpointSync, Versions: sinceR0, Waits: true,
		Text:  "An incremental /sync with nothing new MUST answer 200 at once when it gives no timeout, and within its timeout when it gives one (timeout=1000), not hold the request longer.",
		Basis: `sync.yaml timeout: "If no events (or other data) become available before this time elapses, the server will return a response with empty fields. By default, this is 0, so the server will return immediately even if the response is empty."`,
	}, func(s *Spec) {
		bob := s.NewUser()
		stream := startSync(s, bob, client.SyncParams{})
		drainSync(stream)
		for _, wait := range []time.Duration{0, time.Second} {
			p := stream.params
			p.Timeout = wait
			start := time.Now()
			ex := bob.Sync(s.Context(), p)
			s.Expect(ex).To(match.HaveStatus(http.StatusOK), "an incremental /sync with nothing new, timeout %s", wait)
			s.Expect(time.Since(start)).To(gomega.BeNumerically("<", wait+s.Settle()+time.Second),
				"an incremental /sync answering within its timeout\n\ntimeout %s, answered after %s\n\n%s", wait, time.Since(start), ex)
		}
	})
}
