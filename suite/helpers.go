package suite

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/onsi/gomega"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
)

// setStatus sets a session's own presence and asserts it was accepted.
func setStatus(t T, u *client.Session, presence string, msg ...string) {
	update := client.StatusUpdate{Presence: presence}
	if len(msg) > 0 {
		update.StatusMsg = &msg[0]
	}
	ex := u.SetStatus(t.Context(), u.UserID, update)
	t.Expect(ex).To(match.HaveStatus(http.StatusOK), "setting %s's own presence to %q", u.UserID, presence)
}

// statusOf reads a user's status as viewer sees it, asserting a 200.
func statusOf(t T, viewer *client.Session, userID string) client.Status {
	ex := viewer.GetStatus(t.Context(), userID)
	t.Expect(ex).To(match.HaveStatus(http.StatusOK), "%s reading the status of %s", viewer.UserID, userID)
	st, err := client.DecodeStatus(ex)
	t.Expect(err).NotTo(gomega.HaveOccurred(), "decoding\n\n%s", ex)
	return st
}

// listOf reads a user's own presence list, asserting a 200.
func listOf(t T, u *client.Session) []client.PresenceEvent {
	ex := u.GetList(t.Context(), u.UserID)
	t.Expect(ex).To(match.HaveStatus(http.StatusOK), "%s reading their own presence list", u.UserID)
	events, err := client.DecodeList(ex)
	t.Expect(err).NotTo(gomega.HaveOccurred(), "decoding\n\n%s", ex)
	return events
}

// changeList changes a session's own list and asserts it was accepted.
func changeList(t T, u *client.Session, change client.ListChange) {
	ex := u.ChangeList(t.Context(), u.UserID, change)
	t.Expect(ex).To(match.HaveStatus(http.StatusOK), "%s changing their own presence list", u.UserID)
}

// letSee makes viewer one who may see target's presence, the way the API
// version grants it: on viewer's presence list (v1), or in a room both have
// joined (r0, v3).
func letSee(t T, viewer, target *client.Session) {
	api := viewer.Client().API()
	if api.Visibility == client.ByPresenceList {
		changeList(t, viewer, client.ListChange{Invite: []string{target.UserID}})
		return
	}
	roomID, ex, err := viewer.CreateRoom(t.Context(), target.UserID)
	t.Expect(err).NotTo(gomega.HaveOccurred(), "%s creating a room with %s\n\n%s", viewer.UserID, target.UserID, ex)
	ex, err = target.JoinRoom(t.Context(), roomID)
	t.Expect(err).NotTo(gomega.HaveOccurred(), "%s joining %s\n\n%s", target.UserID, roomID, ex)
}

// listedUsers lists the user IDs on a presence list, in order.
func listedUsers(events []client.PresenceEvent) []string {
	ids := make([]string, 0, len(events))
	for _, e := range events {
		ids = append(ids, e.Content.UserID)
	}
	return ids
}

// stateOf is the part of a status a write sets, for "unchanged" checks:
// last_active_ago moves on by itself.
type stateOf struct {
	Presence  string
	StatusMsg string
	HasMsg    bool
}

func (s stateOf) String() string {
	if !s.HasMsg {
		return "presence " + s.Presence
	}
	return fmt.Sprintf("presence %s with status_msg %q", s.Presence, s.StatusMsg)
}

func state(st client.Status) stateOf {
	s := stateOf{Presence: st.Presence}
	if st.StatusMsg != nil {
		s.StatusMsg, s.HasMsg = *st.StatusMsg, true
	}
	return s
}

// await repeats read until ok says its exchange shows what is wanted, or
// the settle window closes: servers may apply a write a moment after
// acknowledging it. Every response read on the way is still checked against
// the schema, so a server that shows a malformed state while it settles
// fails all the same.
func await(s *Spec, what string, read func() *client.Exchange, ok func(*client.Exchange) bool) *client.Exchange {
	deadline := time.Now().Add(s.Settle())
	for {
		ex := read()
		if ok(ex) {
			return ex
		}
		if time.Now().After(deadline) {
			s.failBehaviour(what+" within --settle", "not shown", fmt.Sprintf("Expected %s within %s (--settle); the last read shows otherwise.\n\n%s", what, s.Settle(), ex), 2)
		}
		s.Sleep(settlePoll)
	}
}

// awaitStatus reads a status, as viewer sees it, until want holds.
func awaitStatus(s *Spec, viewer *client.Session, userID string, what string, want func(client.Status) bool) client.Status {
	var st client.Status
	await(s, fmt.Sprintf("the status of %s to show %s", userID, what),
		func() *client.Exchange { return viewer.GetStatus(s.Context(), userID) },
		func(ex *client.Exchange) bool {
			var err error
			st, err = client.DecodeStatus(ex)
			return err == nil && want(st)
		})
	return st
}

// awaitList reads a user's own presence list until want holds.
func awaitList(s *Spec, u *client.Session, what string, want func([]client.PresenceEvent) bool) []client.PresenceEvent {
	var events []client.PresenceEvent
	await(s, fmt.Sprintf("the presence list of %s to show %s", u.UserID, what),
		func() *client.Exchange { return u.GetList(s.Context(), u.UserID) },
		func(ex *client.Exchange) bool {
			var err error
			events, err = client.DecodeList(ex)
			return err == nil && want(events)
		})
	return events
}

// setStatusSettled sets a session's own presence and waits until a read
// shows it, so that what follows starts from a known state.
func setStatusSettled(s *Spec, u *client.Session, presence string, msg ...string) stateOf {
	setStatus(s, u, presence, msg...)
	want := stateOf{Presence: presence}
	if len(msg) > 0 {
		want.StatusMsg, want.HasMsg = msg[0], true
	}
	return state(awaitStatus(s, u, u.UserID, want.String(), func(st client.Status) bool {
		got := state(st)
		return got.Presence == want.Presence && (!want.HasMsg || got == want)
	}))
}

const settlePoll = 50 * time.Millisecond

// hold watches for the whole settle window that something keeps holding:
// check returns "" while it does, or what it saw instead. A refused write
// that a server queues and applies a moment later is a write all the same,
// so one read at once proves nothing. check gets the time left in the
// window, for reads that may wait (a long-poll); it is called again until
// the window has closed, the last time after it has.
func hold(s *Spec, what string, check func(left time.Duration) string) {
	deadline := time.Now().Add(s.Settle())
	for {
		left := max(time.Until(deadline), 0)
		if problem := check(left); problem != "" {
			s.failBehaviour(what+" over --settle", problem, fmt.Sprintf("Expected %s for the whole settle window (%s, --settle); %s", what, s.Settle(), problem), 2)
		}
		if left == 0 {
			return
		}
		s.Sleep(min(watchPoll, max(time.Until(deadline), time.Millisecond)))
	}
}

// watchPoll is how often hold reads a state that does not wait.
const watchPoll = 100 * time.Millisecond

// holdStatus watches that a user's status, as viewer reads it, stays want.
func holdStatus(s *Spec, viewer *client.Session, userID string, want stateOf) {
	hold(s, fmt.Sprintf("the status of %s to stay %s", userID, want), func(time.Duration) string {
		ex := viewer.GetStatus(s.Context(), userID)
		st, err := client.DecodeStatus(ex)
		switch {
		case err != nil:
			return fmt.Sprintf("a read failed: %v\n\n%s", err, ex)
		case state(st) != want:
			return fmt.Sprintf("a read shows %s.\n\n%s", state(st), ex)
		}
		return ""
	})
}

// holdList watches that a user's own presence list stays want.
func holdList(s *Spec, u *client.Session, want []string) {
	hold(s, fmt.Sprintf("the presence list of %s to stay %v", u.UserID, want), func(time.Duration) string {
		ex := u.GetList(s.Context(), u.UserID)
		events, err := client.DecodeList(ex)
		switch {
		case err != nil:
			return fmt.Sprintf("a read failed: %v\n\n%s", err, ex)
		case !slices.Equal(listedUsers(events), want):
			return fmt.Sprintf("a read lists %v.\n\n%s", listedUsers(events), ex)
		}
		return ""
	})
}

// presenceStates are the states the spec lets a client set.
func presenceStates(api client.API) []string {
	op := api.Document.Operation(client.PutStatus.Method, client.PutStatus.Path)
	prop := op.Body.Source.Properties["presence"]
	states := make([]string, 0, len(prop.Enum))
	for _, v := range prop.Enum {
		states = append(states, fmt.Sprint(v))
	}
	return states
}

// serverOf is the server name part of a user ID.
func serverOf(userID string) string {
	_, server, _ := strings.Cut(userID, ":")
	return server
}

// nobodyOn is a user ID on the server that no account has.
func nobodyOn(server string) string {
	return "@mxp-nobody-" + strings.ToLower(rand.Text()[:10]) + ":" + server
}

// withoutToken is a session acting as u but sending no token.
func withoutToken(u *client.Session) *client.Session {
	return u.Client().As(u.UserID, "")
}

// withUnknownToken is a session acting as u with a token no server issued.
func withUnknownToken(u *client.Session) *client.Session {
	return u.Client().As(u.UserID, "mxp_not_a_token_"+strings.ToLower(rand.Text()))
}

// badBody is a request body that a strict server refuses.
type badBody struct {
	name    string
	fault   bodyFault
	body    string // for list bodies, %[1]s is a user who may be invited
	errcode string // what a careful server answers (with 400)
}

type bodyFault int

const (
	notJSON      bodyFault = iota // the text does not parse
	notObject                     // JSON, but not an object
	missingField                  // a required field is absent
	notInEnum                     // a value outside the enumeration
	wrongType                     // a field of the wrong JSON type
)

// badStatusBodies are the bodies PUT status must refuse.
var badStatusBodies = []badBody{
	{"not JSON", notJSON, `{"presence": "online"`, "M_NOT_JSON"},
	{"form-encoded", notJSON, `presence=online`, "M_NOT_JSON"},
	{"a JSON array", notObject, `["online"]`, "M_BAD_JSON"},
	{"a JSON string", notObject, `"online"`, "M_BAD_JSON"},
	{"missing presence", missingField, `{"status_msg": "here"}`, "M_BAD_JSON"},
	{"an unknown presence", notInEnum, `{"presence": "away"}`, "M_BAD_JSON"},
	{"presence a number", wrongType, `{"presence": 1}`, "M_BAD_JSON"},
	{"presence null", wrongType, `{"presence": null}`, "M_BAD_JSON"},
	{"status_msg a number", wrongType, `{"presence": "online", "status_msg": 42}`, "M_BAD_JSON"},
	{"status_msg an object", wrongType, `{"presence": "online", "status_msg": {"text": "hi"}}`, "M_BAD_JSON"},
}

// badListBodies are the bodies POST list must refuse. Most also invite a
// real user, so a server that applies part of a refused body is caught.
var badListBodies = []badBody{
	{"not JSON", notJSON, `{"invite": ["%[1]s"]`, "M_NOT_JSON"},
	{"a JSON array", notObject, `["%[1]s"]`, "M_BAD_JSON"},
	{"invite not an array", wrongType, `{"invite": "%[1]s"}`, "M_BAD_JSON"},
	{"invite holding a number", wrongType, `{"invite": ["%[1]s", 7]}`, "M_BAD_JSON"},
	{"drop an object", wrongType, `{"invite": ["%[1]s"], "drop": {"user": "%[1]s"}}`, "M_BAD_JSON"},
}
