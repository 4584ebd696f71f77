package client

import (
	"context"
	"fmt"
	"net/http"
)

// Session is a user with an access token, or nobody when Token is empty.
type Session struct {
	c      *Client
	UserID string
	Token  string
}

// As returns a session acting with the given credentials.
func (c *Client) As(userID, token string) *Session {
	return &Session{c: c, UserID: userID, Token: token}
}

// Anonymous returns a session that sends no access token.
func (c *Client) Anonymous() *Session { return &Session{c: c} }

// Client is the client the session talks through.
func (s *Session) Client() *Client { return s.c }

// StatusUpdate is the body of PUT /presence/{userId}/status.
type StatusUpdate struct {
	Presence  string  `json:"presence"`
	StatusMsg *string `json:"status_msg,omitempty"`
}

// Status is the body of a 200 from GET /presence/{userId}/status.
type Status struct {
	Presence        string  `json:"presence"`
	LastActiveAgo   *int64  `json:"last_active_ago"`
	StatusMsg       *string `json:"status_msg"`
	CurrentlyActive *bool   `json:"currently_active"` // r0 onwards
}

// ListChange is the body of POST /presence/list/{userId}.
type ListChange struct {
	Invite []string `json:"invite,omitempty"`
	Drop   []string `json:"drop,omitempty"`
}

// PresenceEvent is a v1 m.presence event: an entry of GET
// /presence/list/{userId}, of the event stream or of initial sync.
type PresenceEvent struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
	Content struct {
		UserID        string  `json:"user_id"`
		Presence      string  `json:"presence"`
		LastActiveAgo *int64  `json:"last_active_ago"`
		StatusMsg     *string `json:"status_msg"`
	} `json:"content"`
}

// SetStatus sets the presence of userID (normally the session's own).
func (s *Session) SetStatus(ctx context.Context, userID string, update StatusUpdate) *Exchange {
	return s.Do(ctx, Request{Operation: PutStatus, UserID: userID, JSON: update})
}

// GetStatus reads the presence of userID.
func (s *Session) GetStatus(ctx context.Context, userID string) *Exchange {
	return s.Do(ctx, Request{Operation: GetStatus, UserID: userID})
}

// ChangeList invites users to, and drops them from, userID's presence list.
func (s *Session) ChangeList(ctx context.Context, userID string, change ListChange) *Exchange {
	return s.Do(ctx, Request{Operation: PostList, UserID: userID, JSON: change})
}

// GetList reads userID's presence list.
func (s *Session) GetList(ctx context.Context, userID string) *Exchange {
	return s.Do(ctx, Request{Operation: GetList, UserID: userID})
}

// Do sends any request with the session's token.
func (s *Session) Do(ctx context.Context, r Request) *Exchange {
	r.Token = s.Token
	return s.c.Do(ctx, r)
}

// DecodeStatus decodes a 200 from GET status.
func DecodeStatus(ex *Exchange) (Status, error) {
	var st Status
	if ex.Status() != http.StatusOK {
		return st, fmt.Errorf("status %d, not 200", ex.Status())
	}
	return st, ex.DecodeJSON(&st)
}

// DecodeList decodes a 200 from GET list.
func DecodeList(ex *Exchange) ([]PresenceEvent, error) {
	var events []PresenceEvent
	if ex.Status() != http.StatusOK {
		return nil, fmt.Errorf("status %d, not 200", ex.Status())
	}
	return events, ex.DecodeJSON(&events)
}
