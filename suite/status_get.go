package suite

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/onsi/gomega"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
)

func statusGetRequirements(r registrar) {
	const endpoint = EndpointGetStatus

	r.require(Requirement{
		ID: "PRES-STATUS-GET-01", Level: Must, Endpoint: endpoint,
		Text:  "A user reading their own status MUST get 200 with a body that matches the spec's schema and reports the presence they set.",
		Basis: "200: The presence state for this user (schema: presence, last_active_ago, status_msg).",
	}, func(s *Spec) {
		alice := s.NewUser()
		setStatus(s, alice, "unavailable")
		awaitStatus(s, alice, alice.UserID, "presence unavailable", func(st client.Status) bool { return st.Presence == "unavailable" })
	})

	r.require(Requirement{
		ID: "PRES-STATUS-GET-02", Level: Must, Endpoint: endpoint,
		Text:  "Reading the status of a user who does not exist MUST give 404.",
		Basis: `404: "There is no presence state for this user. This user may not exist..."`,
	}, func(s *Spec) {
		alice := s.NewUser()
		ex := alice.GetStatus(s.Context(), nobodyOn(serverOf(alice.UserID)))
		s.Expect(ex).To(match.HaveStatus(http.StatusNotFound))
	})

	r.require(Requirement{
		ID: "PRES-STATUS-GET-03", Level: Should, Endpoint: endpoint,
		Text:  "The 404 for a user who does not exist SHOULD carry the Matrix error M_NOT_FOUND.",
		Basis: "The seed gives the 404 no schema; the Matrix error code for a missing resource is M_NOT_FOUND.",
	}, func(s *Spec) {
		alice := s.NewUser()
		ex := alice.GetStatus(s.Context(), nobodyOn(serverOf(alice.UserID)))
		s.Expect(ex).To(match.BeMatrixError(http.StatusNotFound, "M_NOT_FOUND"))
	})

	r.require(Requirement{
		ID: "PRES-STATUS-GET-04", Level: Must, Endpoint: endpoint,
		Text:  "A user MUST be able to read, as it was set, the status of a user whose presence they may see: one on their presence list (v1), one they share a room with (r0, v3).",
		Basis: "v1 users follow presence through presence lists; from r0, presence is shared with the users one shares a room with.",
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		setStatus(s, bob, "online", "visible to friends")
		letSee(s, alice, bob)
		awaitStatus(s, alice, bob.UserID, "bob's presence online with his status_msg", func(st client.Status) bool {
			return st.Presence == "online" && st.StatusMsg != nil && *st.StatusMsg == "visible to friends"
		})
	})

	r.require(Requirement{
		ID: "PRES-STATUS-GET-05", Level: Should, Endpoint: endpoint,
		Text:  "A user SHOULD NOT learn the status_msg of a user who has not let them see their presence: the read is refused, or carries no status_msg.",
		Basis: `404: "...or isn't exposing presence information to you."`,
	}, func(s *Spec) {
		alice, stranger := s.NewUser(), s.NewUser()
		const secret = "only for my friends"
		setStatusSettled(s, alice, "online", secret)
		ex := stranger.GetStatus(s.Context(), alice.UserID)
		if ex.Status() != http.StatusOK {
			s.Expect(ex).To(match.BeRejected())
			return
		}
		st, err := client.DecodeStatus(ex)
		s.Expect(err).NotTo(gomega.HaveOccurred())
		if st.StatusMsg != nil && *st.StatusMsg == secret {
			s.failBehaviour("status_msg hidden from a user who shares nothing", "status_msg shown", fmt.Sprintf("A user who shares nothing with %s read their status_msg %q.\n\n%s", alice.UserID, secret, ex))
		}
	})

	r.require(Requirement{
		ID: "PRES-STATUS-GET-06", Level: Should, Endpoint: endpoint,
		Text:  "Reading the status of an existing user who hides it from the reader SHOULD get what the version documents for it: under v1 the same 404 M_NOT_FOUND as a user who does not exist, so existence does not leak; under r0 and v3 that 404, or 403 M_FORBIDDEN.",
		Basis: `v1 404: "...or isn't exposing presence information to you." r0 and v3 keep that 404 and add 403: "You are not allowed to see this user's presence status." (example errcode M_FORBIDDEN).`,
	}, func(s *Spec) {
		alice, stranger := s.NewUser(), s.NewUser()
		ex := stranger.GetStatus(s.Context(), alice.UserID)
		if s.Client().API().Name != "v1" && ex.Status() == http.StatusForbidden {
			s.Expect(ex).To(match.BeMatrixError(http.StatusForbidden, "M_FORBIDDEN"))
			return
		}
		s.Expect(ex).To(match.BeMatrixError(http.StatusNotFound, "M_NOT_FOUND"))
	})

	r.require(Requirement{
		ID: "PRES-STATUS-GET-07", Level: Must, Waits: true, Endpoint: endpoint, Slow: true,
		Text:  "With no activity, last_active_ago MUST grow with time: two reads a second apart MUST differ by about a second.",
		Basis: `last_active_ago: "The length of time in milliseconds since an action was performed by this user."`,
	}, func(s *Spec) {
		alice := s.NewUser()
		setStatus(s, alice, "online")
		first := statusOf(s, alice, alice.UserID)
		start := time.Now()
		s.Sleep(time.Second)
		second := statusOf(s, alice, alice.UserID)
		elapsed := time.Since(start).Milliseconds()
		s.Expect(first.LastActiveAgo).NotTo(gomega.BeNil(), "GET reports no last_active_ago")
		s.Expect(second.LastActiveAgo).NotTo(gomega.BeNil(), "GET reports no last_active_ago")
		grown := *second.LastActiveAgo - *first.LastActiveAgo
		s.Expect(grown).To(gomega.BeNumerically(">=", elapsed/2), "last_active_ago grew by %dms over %dms", grown, elapsed)
		s.Expect(grown).To(gomega.BeNumerically("<=", 2*elapsed+1000), "last_active_ago grew by %dms over %dms", grown, elapsed)
	})

	r.require(Requirement{
		ID: "PRES-STATUS-GET-08", Level: Must, Endpoint: endpoint,
		Text:  "last_active_ago, when reported, MUST be a non-negative integer no larger than the time since the user's last PUT.",
		Basis: "last_active_ago: type: integer, a length of time in milliseconds.",
	}, func(s *Spec) {
		alice := s.NewUser()
		for range 2 {
			start := time.Now()
			setStatus(s, alice, "online")
			st := awaitStatus(s, alice, alice.UserID, "presence online", func(st client.Status) bool { return st.Presence == "online" })
			if st.LastActiveAgo != nil {
				s.Expect(*st.LastActiveAgo).To(gomega.BeNumerically(">=", 0))
				s.Expect(*st.LastActiveAgo).To(gomega.BeNumerically("<=", time.Since(start).Milliseconds()+1000),
					"last_active_ago just after a PUT, which is activity")
			}
		}
	})

	r.require(Requirement{
		ID: "PRES-STATUS-GET-09", Level: Should, Endpoint: endpoint,
		Text:  "Reading a status without an access token SHOULD be refused with 401 M_MISSING_TOKEN: who may see a status depends on who asks.",
		Basis: "v1 declares no security for this operation; r0 and v3 require a token (PRES-STATUS-GET-10).",
	}, func(s *Spec) {
		alice := s.NewUser()
		ex := s.Anonymous().GetStatus(s.Context(), alice.UserID)
		s.Expect(ex).To(match.BeMatrixError(http.StatusUnauthorized, "M_MISSING_TOKEN"))
	})

	r.require(Requirement{
		ID: "PRES-STATUS-GET-10", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  "Reading a status without an access token MUST be refused with a 4xx status.",
		Basis: "From r0 the operation declares security: accessToken.",
	}, func(s *Spec) {
		alice := s.NewUser()
		setStatus(s, alice, "online", "members only")
		ex := s.Anonymous().GetStatus(s.Context(), alice.UserID)
		s.Expect(ex).To(match.BeRejected())
	})

	r.require(Requirement{
		ID: "PRES-STATUS-GET-11", Level: Should, Endpoint: endpoint, Versions: sinceR0,
		Text:  "currently_active, which a server may include or leave out, SHOULD be a boolean when present, and SHOULD NOT be true for a user whose presence is not online.",
		Basis: "200: currently_active: type: boolean. Presence module: \"the server may include a currently_active boolean field when the presence state is online\".",
	}, func(s *Spec) {
		alice := s.NewUser()
		for _, presence := range []string{"online", "unavailable", "offline"} {
			setStatus(s, alice, presence)
			ex := await(s, "presence "+presence, func() *client.Exchange { return alice.GetStatus(s.Context(), alice.UserID) },
				func(ex *client.Exchange) bool {
					st, err := client.DecodeStatus(ex)
					return err == nil && st.Presence == presence
				})
			var raw map[string]json.RawMessage
			s.Expect(ex.DecodeJSON(&raw)).To(gomega.Succeed())
			active, present := raw["currently_active"]
			if !present {
				continue
			}
			var isTrue bool
			s.Expect(json.Unmarshal(active, &isTrue)).To(gomega.Succeed(), "currently_active is not a boolean\n\n%s", ex)
			if presence != "online" {
				s.Expect(isTrue).To(gomega.BeFalse(), "currently_active true for a user who is %s\n\n%s", presence, ex)
			}
		}
	})

	r.require(Requirement{
		ID: "PRES-STATUS-GET-12", Level: Must, Endpoint: endpoint,
		Text:  "A user who has never set a presence MUST still read their own status as the schema describes it, with a presence the spec enumerates.",
		Basis: "200: the schema of the status; presence: enum. A new user is simply offline to everyone else.",
	}, func(s *Spec) {
		alice := s.NewUser()
		st := statusOf(s, alice, alice.UserID)
		s.Expect(presenceStates(s.Client().API())).To(gomega.ContainElement(st.Presence), "the presence of a user who never set one")
	})
}
