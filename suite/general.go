package suite

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
)

func generalRequirements(r registrar) {
	const endpoint = EndpointGeneral

	r.require(Requirement{
		ID: "PRES-GEN-01", Level: Must, Endpoint: endpoint,
		Text:  "Every error response of the presence endpoints MUST be a Matrix error object: a JSON object with a string errcode.",
		Basis: "The Matrix standard error response; definitions/error.yaml requires errcode.",
	}, func(s *Spec) {
		for _, ex := range errorExchanges(s) {
			s.Expect(ex).To(match.HaveMatrixErrorBody())
		}
	})

	r.require(Requirement{
		ID: "PRES-GEN-02", Level: Must, Endpoint: endpoint,
		Text:  "Every successful response of the presence endpoints MUST be served as application/json.",
		Basis: "produces: application/json.",
	}, func(s *Spec) {
		for _, ex := range successExchanges(s) {
			s.Expect(ex).To(gomega.And(match.HaveStatus(http.StatusOK), match.HaveJSONContentType()))
		}
	})

	r.require(Requirement{
		ID: "PRES-GEN-03", Level: Must, Endpoint: endpoint,
		Text:  "Every error response of the presence endpoints MUST be served as application/json.",
		Basis: "produces: application/json; the standard error response is JSON.",
	}, func(s *Spec) {
		for _, ex := range errorExchanges(s) {
			s.Expect(ex).To(match.HaveJSONContentType())
		}
	})

	r.require(Requirement{
		ID: "PRES-GEN-04", Level: Should, Endpoint: endpoint,
		Text:  "A request to an unknown endpoint under the API prefix SHOULD get 404 M_UNRECOGNIZED.",
		Basis: "The Matrix error code for a request the server does not understand is M_UNRECOGNIZED.",
	}, func(s *Spec) {
		alice := s.NewUser()
		ex := alice.Do(s.Context(), client.Request{Method: http.MethodGet, Path: "/presence/" + alice.UserID + "/no-such-endpoint"})
		s.Expect(ex).To(match.BeMatrixError(http.StatusNotFound, "M_UNRECOGNIZED"))
	})

	r.require(Requirement{
		ID: "PRES-GEN-05", Level: Should, Endpoint: endpoint,
		Text:  "A method a presence endpoint does not support SHOULD get 405 M_UNRECOGNIZED.",
		Basis: "M_UNRECOGNIZED with 405 is how later Matrix versions answer a known endpoint called with the wrong method.",
	}, func(s *Spec) {
		alice := s.NewUser()
		ex := alice.Do(s.Context(), client.Request{Operation: client.PutStatus, UserID: alice.UserID, Method: http.MethodDelete})
		s.Expect(ex).To(match.BeMatrixError(http.StatusMethodNotAllowed, "M_UNRECOGNIZED"))
	})

	r.require(Requirement{
		ID: "PRES-GEN-06", Level: Must, Endpoint: endpoint,
		Text:  "A user ID in a path MUST be understood when it is fully percent-encoded (@ as %40, : as %3A), as clients encode path segments.",
		Basis: "{userId} is a path parameter; RFC 3986 makes an encoded character equivalent to the character.",
	}, func(s *Spec) {
		alice, bob := s.NewUser(), s.NewUser()
		encoded := encodeAll(alice.UserID)
		ex := alice.Do(s.Context(), client.Request{Operation: client.PutStatus, Path: "/presence/" + encoded + "/status",
			JSON: client.StatusUpdate{Presence: "unavailable", StatusMsg: ptr("encoded")}})
		s.Expect(ex).To(match.HaveStatus(http.StatusOK))
		lists := s.Client().API().Has(client.PostList)
		if lists {
			ex = alice.Do(s.Context(), client.Request{Operation: client.PostList, Path: "/presence/list/" + encoded,
				JSON: client.ListChange{Invite: []string{bob.UserID}}})
			s.Expect(ex).To(match.HaveStatus(http.StatusOK))
		}

		st := awaitStatus(s, alice, alice.UserID, `presence unavailable with status_msg "encoded"`, func(st client.Status) bool {
			return st.Presence == "unavailable" && st.StatusMsg != nil && *st.StatusMsg == "encoded"
		})
		ex = alice.Do(s.Context(), client.Request{Operation: client.GetStatus, Path: "/presence/" + encoded + "/status"})
		s.Expect(ex).To(match.HaveStatus(http.StatusOK))
		viaEncoded, err := client.DecodeStatus(ex)
		s.Expect(err).NotTo(gomega.HaveOccurred())
		s.Expect(state(viaEncoded)).To(gomega.Equal(state(st)))
		if !lists {
			return
		}
		ex = alice.Do(s.Context(), client.Request{Operation: client.GetList, Path: "/presence/list/" + encoded})
		events, err := client.DecodeList(ex)
		s.Expect(err).NotTo(gomega.HaveOccurred(), "%s", ex)
		s.Expect(listedUsers(events)).To(gomega.Equal([]string{bob.UserID}))
	})

	r.require(Requirement{
		ID: "PRES-GEN-07", Level: Should, Endpoint: endpoint,
		Text:  "A CORS preflight (OPTIONS) on a presence endpoint SHOULD get 200 with Access-Control-Allow-Origin *, the endpoint's methods, and the Authorization and Content-Type headers allowed.",
		Basis: "Matrix servers serve browser clients from any origin and answer their preflight requests.",
	}, func(s *Spec) {
		alice := s.NewUser()
		for _, op := range []client.Operation{client.PutStatus, client.PostList} {
			if !s.Client().API().Has(op) {
				continue
			}
			ex := s.Anonymous().Do(s.Context(), client.Request{Operation: op, UserID: alice.UserID, Method: http.MethodOptions,
				Header: http.Header{
					"Origin":                         {"https://client.example"},
					"Access-Control-Request-Method":  {op.Method},
					"Access-Control-Request-Headers": {"authorization, content-type"},
				}})
			s.Expect(ex).To(match.HaveStatus(http.StatusOK))
			s.Expect(ex).To(match.HaveHeader("Access-Control-Allow-Origin", "*"))
			s.Expect(ex).To(match.HaveHeaderListing("Access-Control-Allow-Methods", op.Method, http.MethodGet))
			s.Expect(ex).To(match.HaveHeaderListing("Access-Control-Allow-Headers", "Authorization", "Content-Type"))
		}
	})

	r.require(Requirement{
		ID: "PRES-GEN-08", Level: Should, Endpoint: endpoint,
		Text:  "Every response, success or error, SHOULD carry Access-Control-Allow-Origin *, so browser clients can read it.",
		Basis: "Matrix servers serve browser clients from any origin.",
	}, func(s *Spec) {
		for _, ex := range append(successExchanges(s), errorExchanges(s)...) {
			s.Expect(ex).To(match.HaveHeader("Access-Control-Allow-Origin", "*"))
		}
	})

	r.require(Requirement{
		ID: "PRES-GEN-09", Level: Should, Endpoint: endpoint,
		Text:  "A rate-limited request SHOULD get 429 with the Matrix error M_LIMIT_EXCEEDED and retry_after_ms, a non-negative integer.",
		Basis: "429: definitions/error.yaml; the Matrix rate-limit error carries retry_after_ms.",
	}, func(s *Spec) {
		alice := s.NewUser()
		limited := provokeRateLimit(s, alice)
		if limited == nil {
			ginkgo.Skip(fmt.Sprintf("no 429 in %d quick PUTs: the server does not rate-limit them, so there is nothing to check", rateLimitProbe))
		}
		if limited.SchemaErr != nil {
			s.run.findings.add(s.req.ID, schemaFindings(s.client.API(), limited)...)
			s.fail(fmt.Sprintf("The 429 breaks %s for it:\n%v\n\n%s", limited.SchemaLabel(), limited.SchemaErr, limited))
		}
		s.Expect(limited).To(match.BeMatrixError(http.StatusTooManyRequests, "M_LIMIT_EXCEEDED"))
		m, err := limited.MatrixError()
		s.Expect(err).NotTo(gomega.HaveOccurred())
		s.Expect(m.RetryAfterMS).NotTo(gomega.BeNil(), "no retry_after_ms\n\n%s", limited)
		s.Expect(*m.RetryAfterMS).To(gomega.BeNumerically(">=", 0))
	})

	r.require(Requirement{
		ID: "PRES-GEN-10", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  "An access token MUST be accepted in an Authorization: Bearer header.",
		Basis: "Since r0.4.0 clients may send the token in the Authorization header or the query, and servers must accept both.",
	}, func(s *Spec) {
		tokenPlacementWorks(s, client.TokenInHeader)
	})

	r.require(Requirement{
		ID: "PRES-GEN-11", Level: Must, Endpoint: endpoint, Versions: sinceR0,
		Text:  "An access token MUST be accepted in the access_token query parameter.",
		Basis: "Since r0.4.0 clients may send the token in the Authorization header or the query, and servers must accept both.",
	}, func(s *Spec) {
		tokenPlacementWorks(s, client.TokenInQuery)
	})
}

// tokenPlacementWorks sets and reads a status with the token in one place.
func tokenPlacementWorks(s *Spec, where client.TokenPlacement) {
	alice := s.NewUser()
	ex := alice.Do(s.Context(), client.Request{Operation: client.PutStatus, UserID: alice.UserID, TokenIn: where,
		JSON: client.StatusUpdate{Presence: "unavailable"}})
	s.Expect(ex).To(match.HaveStatus(http.StatusOK), "setting presence with the token in the %s", where)
	await(s, "presence unavailable, read with the token in the "+where.String(),
		func() *client.Exchange {
			return alice.Do(s.Context(), client.Request{Operation: client.GetStatus, UserID: alice.UserID, TokenIn: where})
		},
		func(ex *client.Exchange) bool {
			st, err := client.DecodeStatus(ex)
			return err == nil && st.Presence == "unavailable"
		})
}

// rateLimitProbe is how many requests PRES-GEN-09 sends to meet a limit,
// from rateLimitWorkers goroutines at once, so that a slow machine still
// outpaces a limit a normal client never reaches.
const (
	rateLimitProbe   = 300
	rateLimitWorkers = 8
)

// provokeRateLimit sends quick PUTs as u until one is rate-limited, and
// returns that exchange, or nil when none was.
func provokeRateLimit(s *Spec, u *client.Session) *client.Exchange {
	probe := s.Client().Quiet().As(u.UserID, u.Token)
	states := presenceStates(s.Client().API())
	ctx, stop := context.WithCancel(s.Context())
	defer stop()
	var (
		sent    atomic.Int64
		once    sync.Once
		limited *client.Exchange
		wg      sync.WaitGroup
	)
	for range rateLimitWorkers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := sent.Add(1)
				if i > rateLimitProbe {
					return
				}
				ex := probe.Do(ctx, client.Request{Operation: client.PutStatus, UserID: u.UserID, NoRetry: true,
					JSON: client.StatusUpdate{Presence: states[int(i)%len(states)]}})
				if ex.Status() == http.StatusTooManyRequests {
					once.Do(func() { limited = ex; stop() })
				}
			}
		})
	}
	wg.Wait()
	return limited
}

// successExchanges makes one successful request of each operation.
func successExchanges(s *Spec) []*client.Exchange {
	alice, bob := s.NewUser(), s.NewUser()
	exchanges := []*client.Exchange{
		alice.SetStatus(s.Context(), alice.UserID, client.StatusUpdate{Presence: "online"}),
		alice.GetStatus(s.Context(), alice.UserID),
	}
	if s.Client().API().Has(client.PostList) {
		exchanges = append(exchanges,
			alice.ChangeList(s.Context(), alice.UserID, client.ListChange{Invite: []string{bob.UserID}}),
			alice.GetList(s.Context(), alice.UserID))
	}
	return exchanges
}

// errorExchanges makes requests that every server must refuse, one of
// each kind of error, and asserts each was refused. Only refusals a MUST
// requires are made, so that a server's fault elsewhere (a 200 for a user
// who does not exist, say) fails its own requirement, not these.
func errorExchanges(s *Spec) []*client.Exchange {
	alice, mallory := s.NewUser(), s.NewUser()
	ctx := s.Context()
	exchanges := []*client.Exchange{
		withoutToken(alice).SetStatus(ctx, alice.UserID, client.StatusUpdate{Presence: "online"}),
		withUnknownToken(alice).SetStatus(ctx, alice.UserID, client.StatusUpdate{Presence: "online"}),
		mallory.SetStatus(ctx, alice.UserID, client.StatusUpdate{Presence: "online"}),
		alice.Do(ctx, client.Request{Operation: client.PutStatus, UserID: alice.UserID, Body: []byte(`{"presence":`)}),
		alice.Do(ctx, client.Request{Operation: client.PutStatus, UserID: alice.UserID, Body: []byte(`{"presence":"away"}`)}),
	}
	if s.Client().API().Has(client.PostList) {
		exchanges = append(exchanges,
			mallory.ChangeList(ctx, alice.UserID, client.ListChange{Invite: []string{mallory.UserID}}),
			alice.Do(ctx, client.Request{Operation: client.PostList, UserID: alice.UserID, Body: []byte(`{"invite":"@x:y"}`)}))
	}
	for _, ex := range exchanges {
		s.Expect(ex).To(match.BeRejected())
	}
	return exchanges
}

// encodeAll percent-encodes every byte outside RFC 3986's unreserved set,
// as JavaScript's encodeURIComponent does.
func encodeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
