package suite

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/onsi/gomega"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
)

func statusPutRequirements(r registrar) {
	const endpoint = EndpointPutStatus

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-01", Level: Must, Endpoint: endpoint,
		Text:  "The server MUST accept each presence state the spec enumerates with 200 and a JSON object, and a GET MUST then report that state.",
		Basis: `presenceState.presence: enum, online, offline and unavailable (v1 adds free_for_chat); 200: "The new presence state was set."`,
	}, func(s *Spec) {
		alice := s.NewUser()
		for _, presence := range presenceStates(s.Client().API()) {
			setStatus(s, alice, presence)
			awaitStatus(s, alice, alice.UserID, "presence "+presence, func(st client.Status) bool { return st.Presence == presence })
		}
	})

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-02", Level: Must, Endpoint: endpoint,
		Text:  "A status_msg set with the presence MUST be reported back by GET exactly as sent.",
		Basis: `presenceState.status_msg: "The status message to attach to this state."; GET 200 status_msg: "The state message for this user if one was set."`,
	}, func(s *Spec) {
		alice := s.NewUser()
		const msg = "In a meeting until 3pm"
		setStatus(s, alice, "unavailable", msg)
		awaitStatus(s, alice, alice.UserID, fmt.Sprintf("status_msg %q", msg), func(st client.Status) bool {
			return st.StatusMsg != nil && *st.StatusMsg == msg
		})
	})

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-03", Level: Must, Endpoint: endpoint,
		Text:  "A status_msg MUST round-trip unchanged whatever Unicode it holds: accents, scripts written right to left, characters beyond the Basic Multilingual Plane and characters JSON must escape.",
		Basis: "status_msg is a JSON string; JSON strings are Unicode (RFC 8259).",
	}, func(s *Spec) {
		alice := s.NewUser()
		for _, msg := range []string{
			"Zoë is at the café, naïvely",
			"مرحبا بالعالم and 日本語のテキスト",
			"emoji 🚀🌍 and math 𝔸𝕓𝕔",
			"quotes \" backslash \\ slash / tab\t newline\n done",
		} {
			setStatus(s, alice, "online", msg)
			awaitStatus(s, alice, alice.UserID, fmt.Sprintf("status_msg %q", msg), func(st client.Status) bool {
				return st.StatusMsg != nil && *st.StatusMsg == msg
			})
		}
	})

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-04", Level: Must, Endpoint: endpoint,
		Text:  "Of two PUTs in a row, the second MUST win: GET reports its presence and status_msg.",
		Basis: `"This API sets the given user's presence state."`,
	}, func(s *Spec) {
		alice := s.NewUser()
		setStatus(s, alice, "online", "first")
		setStatus(s, alice, "unavailable", "second")
		awaitStatus(s, alice, alice.UserID, `presence unavailable with status_msg "second"`, func(st client.Status) bool {
			return st.Presence == "unavailable" && st.StatusMsg != nil && *st.StatusMsg == "second"
		})
	})

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-05", Level: Must, Endpoint: endpoint, Watches: true,
		Text:  "A request to set another user's presence MUST be refused with a 4xx status, and that user's presence MUST NOT change, not even a moment later (watched over --settle).",
		Basis: `"You cannot set the presence state of another user."`,
	}, func(s *Spec) {
		alice, mallory := s.NewUser(), s.NewUser()
		before := setStatusSettled(s, alice, "online", "mine")
		ex := mallory.SetStatus(s.Context(), alice.UserID, client.StatusUpdate{Presence: "offline", StatusMsg: ptr("hijacked")})
		s.Expect(ex).To(match.BeRejected())
		holdStatus(s, alice, alice.UserID, before)
	})

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-06", Level: Should, Endpoint: endpoint,
		Text:  "A request to set another user's presence SHOULD be refused with 403 M_FORBIDDEN.",
		Basis: "The Matrix error code for an authenticated user doing what they may not is M_FORBIDDEN, with 403.",
	}, func(s *Spec) {
		alice, mallory := s.NewUser(), s.NewUser()
		ex := mallory.SetStatus(s.Context(), alice.UserID, client.StatusUpdate{Presence: "offline"})
		s.Expect(ex).To(match.BeMatrixError(http.StatusForbidden, "M_FORBIDDEN"))
	})

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-07", Level: Must, Endpoint: endpoint, Watches: true,
		Text:  "A PUT without an access token MUST be refused with a 4xx status and change nothing (watched over --settle).",
		Basis: "The operation declares security: accessToken.",
	}, func(s *Spec) {
		alice := s.NewUser()
		before := setStatusSettled(s, alice, "online", "set by alice")
		ex := withoutToken(alice).SetStatus(s.Context(), alice.UserID, client.StatusUpdate{Presence: "offline", StatusMsg: ptr("anonymous")})
		s.Expect(ex).To(match.BeRejected())
		holdStatus(s, alice, alice.UserID, before)
	})

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-08", Level: Should, Endpoint: endpoint,
		Text:  "A PUT without an access token SHOULD be refused with 401 M_MISSING_TOKEN.",
		Basis: "The Matrix error code for a request that needs a token and has none is M_MISSING_TOKEN, with 401.",
	}, func(s *Spec) {
		alice := s.NewUser()
		ex := withoutToken(alice).SetStatus(s.Context(), alice.UserID, client.StatusUpdate{Presence: "offline"})
		s.Expect(ex).To(match.BeMatrixError(http.StatusUnauthorized, "M_MISSING_TOKEN"))
	})

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-09", Level: Must, Endpoint: endpoint, Watches: true,
		Text:  "A PUT with an access token the server never issued MUST be refused with a 4xx status and change nothing (watched over --settle).",
		Basis: "The operation declares security: accessToken.",
	}, func(s *Spec) {
		alice := s.NewUser()
		before := setStatusSettled(s, alice, "online", "set by alice")
		ex := withUnknownToken(alice).SetStatus(s.Context(), alice.UserID, client.StatusUpdate{Presence: "offline", StatusMsg: ptr("forged")})
		s.Expect(ex).To(match.BeRejected())
		holdStatus(s, alice, alice.UserID, before)
	})

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-10", Level: Should, Endpoint: endpoint,
		Text:  "A PUT with an unknown access token SHOULD be refused with 401 M_UNKNOWN_TOKEN.",
		Basis: "The Matrix error code for a token the server does not recognise is M_UNKNOWN_TOKEN, with 401.",
	}, func(s *Spec) {
		alice := s.NewUser()
		ex := withUnknownToken(alice).SetStatus(s.Context(), alice.UserID, client.StatusUpdate{Presence: "offline"})
		s.Expect(ex).To(match.BeMatrixError(http.StatusUnauthorized, "M_UNKNOWN_TOKEN"))
	})

	rejectsBadStatusBodies := func(id, text, basis string, faults ...bodyFault) {
		r.require(Requirement{ID: id, Level: Must, Endpoint: endpoint, Text: text, Basis: basis, Watches: true}, func(s *Spec) {
			alice := s.NewUser()
			before := setStatusSettled(s, alice, "online", "before")
			for _, bad := range badStatusBodies {
				if !slices.Contains(faults, bad.fault) {
					continue
				}
				ex := alice.Do(s.Context(), client.Request{Operation: client.PutStatus, UserID: alice.UserID, Body: []byte(bad.body)})
				s.Expect(ex).To(gomega.And(match.BeRejected(), match.HaveMatrixErrorBody()), "a body that is %s", bad.name)
			}
			holdStatus(s, alice, alice.UserID, before)
		})
	}
	rejectsBadStatusBodies("PRES-STATUS-PUT-11",
		"A body that is not JSON MUST be refused with a 4xx Matrix error and change nothing (watched over --settle).",
		"The operation consumes application/json.", notJSON)
	rejectsBadStatusBodies("PRES-STATUS-PUT-12",
		"A body that is JSON but not an object MUST be refused with a 4xx Matrix error and change nothing (watched over --settle).",
		"presenceState: type: object.", notObject)
	rejectsBadStatusBodies("PRES-STATUS-PUT-13",
		"A body without presence MUST be refused with a 4xx Matrix error and change nothing (watched over --settle).",
		`presenceState: required: ["presence"].`, missingField)
	rejectsBadStatusBodies("PRES-STATUS-PUT-14",
		"A presence outside the spec's states MUST be refused with a 4xx Matrix error and change nothing (watched over --settle).",
		"presenceState.presence: enum.", notInEnum)
	rejectsBadStatusBodies("PRES-STATUS-PUT-15",
		"A presence or status_msg of the wrong JSON type MUST be refused with a 4xx Matrix error and change nothing (watched over --settle).",
		"presenceState.presence and status_msg: type: string.", wrongType)

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-16", Level: Should, Endpoint: endpoint,
		Text:  "A refused body SHOULD get 400 with M_NOT_JSON when it is not JSON and M_BAD_JSON when it is JSON of the wrong shape.",
		Basis: "The Matrix error codes M_NOT_JSON and M_BAD_JSON, with 400.",
	}, func(s *Spec) {
		alice := s.NewUser()
		for _, bad := range badStatusBodies {
			ex := alice.Do(s.Context(), client.Request{Operation: client.PutStatus, UserID: alice.UserID, Body: []byte(bad.body)})
			s.Expect(ex).To(match.BeMatrixError(http.StatusBadRequest, bad.errcode), "a body that is %s", bad.name)
		}
	})

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-17", Level: Must, Waits: true, Endpoint: endpoint,
		Text:  "A PUT MUST count as activity: the last_active_ago a GET reports after it MUST be smaller than the one before it.",
		Basis: `"When setting the status, the activity time is updated to reflect that activity."`,
	}, func(s *Spec) {
		alice := s.NewUser()
		setStatusSettled(s, alice, "unavailable")
		s.Sleep(activityGap)
		before := statusOf(s, alice, alice.UserID)
		s.Expect(before.LastActiveAgo).NotTo(gomega.BeNil(), "GET reports no last_active_ago")
		setStatus(s, alice, "online")
		awaitStatus(s, alice, alice.UserID, "a last_active_ago smaller than before the PUT", func(st client.Status) bool {
			return st.LastActiveAgo != nil && *st.LastActiveAgo < *before.LastActiveAgo
		})
	})

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-19", Level: Must, Endpoint: endpoint, Versions: sinceR0, Watches: true,
		Text:  "free_for_chat, which r0.2.0 removed from the presence states, MUST be refused with a 4xx Matrix error and change nothing (watched over --settle).",
		Basis: "presenceState.presence: enum [online, offline, unavailable] since r0.2.0.",
	}, func(s *Spec) {
		alice := s.NewUser()
		before := setStatusSettled(s, alice, "online", "before")
		ex := alice.SetStatus(s.Context(), alice.UserID, client.StatusUpdate{Presence: "free_for_chat"})
		s.Expect(ex).To(gomega.And(match.BeRejected(), match.HaveMatrixErrorBody()))
		holdStatus(s, alice, alice.UserID, before)
	})

	r.require(Requirement{
		ID: "PRES-STATUS-PUT-18", Level: Should, Endpoint: endpoint,
		Text:  "A PUT without status_msg SHOULD clear the status message: the PUT states the whole presence state.",
		Basis: "The body is the updated presence state, and status_msg is part of it. Synapse clears it; Dendrite keeps it, so this is a SHOULD.",
	}, func(s *Spec) {
		alice := s.NewUser()
		setStatus(s, alice, "online", "going soon")
		setStatus(s, alice, "offline")
		awaitStatus(s, alice, alice.UserID, "no status_msg", func(st client.Status) bool {
			return st.Presence == "offline" && (st.StatusMsg == nil || *st.StatusMsg == "")
		})
	})
}

func ptr[T any](v T) *T { return &v }

// activityGap is long enough that last_active_ago, in milliseconds, moves
// measurably, and short enough to keep the run fast.
const activityGap = 300 * time.Millisecond
