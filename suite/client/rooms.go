package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// The room API, only as far as presence needs it: in r0 and v3, users see
// the presence of the users they share a room with.

// CreateRoom creates a private room with the session's user in it and the
// given users invited, and returns its ID.
func (s *Session) CreateRoom(ctx context.Context, invite ...string) (string, *Exchange, error) {
	if invite == nil {
		invite = []string{}
	}
	ex := s.Do(ctx, Request{Method: http.MethodPost, Path: "/createRoom",
		JSON: map[string]any{"preset": "private_chat", "invite": invite}})
	var room struct {
		RoomID string `json:"room_id"`
	}
	if ex.Status() != http.StatusOK || ex.DecodeJSON(&room) != nil || room.RoomID == "" {
		return "", ex, fmt.Errorf("create a room: status %d, no room_id", ex.Status())
	}
	return room.RoomID, ex, nil
}

// JoinRoom joins a room the session's user was invited to.
func (s *Session) JoinRoom(ctx context.Context, roomID string) (*Exchange, error) {
	ex := s.Do(ctx, Request{Method: http.MethodPost, Path: "/join/" + url.PathEscape(roomID), JSON: map[string]any{}})
	if ex.Status() != http.StatusOK {
		return ex, fmt.Errorf("join %s: status %d", roomID, ex.Status())
	}
	return ex, nil
}

// CreatePublicRoom creates a public room (preset public_chat: anyone may
// join, a user of another server too) with the session's user in it, and
// returns its ID.
func (s *Session) CreatePublicRoom(ctx context.Context) (string, *Exchange, error) {
	ex := s.Do(ctx, Request{Method: http.MethodPost, Path: "/createRoom",
		JSON: map[string]any{"preset": "public_chat"}})
	var room struct {
		RoomID string `json:"room_id"`
	}
	if ex.Status() != http.StatusOK || ex.DecodeJSON(&room) != nil || room.RoomID == "" {
		return "", ex, fmt.Errorf("create a public room: status %d, no room_id", ex.Status())
	}
	return room.RoomID, ex, nil
}

// JoinedMembers lists the users joined to a room, as the session's user
// sees them (GET /rooms/{roomId}/joined_members).
func (s *Session) JoinedMembers(ctx context.Context, roomID string) ([]string, *Exchange, error) {
	ex := s.Do(ctx, Request{Method: http.MethodGet, Path: "/rooms/" + url.PathEscape(roomID) + "/joined_members"})
	var body struct {
		Joined map[string]any `json:"joined"`
	}
	if ex.Status() != http.StatusOK || ex.DecodeJSON(&body) != nil {
		return nil, ex, fmt.Errorf("joined members of %s: status %d", roomID, ex.Status())
	}
	members := make([]string, 0, len(body.Joined))
	for id := range body.Joined {
		members = append(members, id)
	}
	return members, ex, nil
}
