package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The calls through which clients receive presence: r0 and v3 clients from
// /sync, filtered or not; v1 clients from GET /initialSync and then the
// event stream, GET /events.

// SyncParams are the query parameters of GET /sync. The zero value is an
// initial sync that returns at once and marks the caller online.
type SyncParams struct {
	Since string
	// Timeout is how long a long-poll may wait; 0 sends none (the server
	// answers at once).
	Timeout time.Duration
	// Filter is a filter ID, or a filter as JSON text (inline).
	Filter string
	// SetPresence is sent when not empty; OmitSetPresence documents the
	// default, which marks the caller online.
	SetPresence string
}

// OmitSetPresence leaves set_presence out of a sync.
const OmitSetPresence = ""

func (p SyncParams) query() url.Values {
	q := url.Values{}
	if p.Since != "" {
		q.Set("since", p.Since)
	}
	if p.Timeout > 0 {
		q.Set("timeout", strconv.FormatInt(p.Timeout.Milliseconds(), 10))
	}
	if p.Filter != "" {
		q.Set("filter", p.Filter)
	}
	if p.SetPresence != "" {
		q.Set("set_presence", p.SetPresence)
	}
	return q
}

// Sync calls GET /sync. A long-poll is bounded by the client's request
// timeout whatever Timeout asks, so a server that never answers cannot
// hang a run.
func (s *Session) Sync(ctx context.Context, p SyncParams) *Exchange {
	return s.Do(ctx, Request{Operation: Sync, Path: "/sync", Query: p.query()})
}

// SyncResponse is what the suite reads of a 200 from /sync.
type SyncResponse struct {
	NextBatch string `json:"next_batch"`
	Rooms     struct {
		Join  map[string]json.RawMessage `json:"join"`
		Leave map[string]json.RawMessage `json:"leave"`
	} `json:"rooms"`
	Presence struct {
		Events []json.RawMessage `json:"events"`
	} `json:"presence"`
}

// SyncPresence is one m.presence event of a /sync response.
type SyncPresence struct {
	Type    string `json:"type"`
	Sender  string `json:"sender"`
	Content struct {
		Presence        string  `json:"presence"`
		StatusMsg       *string `json:"status_msg"`
		LastActiveAgo   *int64  `json:"last_active_ago"`
		CurrentlyActive *bool   `json:"currently_active"`
	} `json:"content"`
}

// DecodeSync decodes a 200 from /sync.
func DecodeSync(ex *Exchange) (SyncResponse, error) {
	var r SyncResponse
	if ex.Status() != http.StatusOK {
		return r, fmt.Errorf("status %d, not 200", ex.Status())
	}
	if err := ex.DecodeJSON(&r); err != nil {
		return r, err
	}
	if r.NextBatch == "" {
		return r, fmt.Errorf("no next_batch")
	}
	return r, nil
}

// PresenceEvents decodes the m.presence events of a /sync response, in
// the order it gives them; events of other types are left out.
func (r SyncResponse) PresenceEvents() ([]SyncPresence, error) {
	var out []SyncPresence
	for i, raw := range r.Presence.Events {
		var e SyncPresence
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("presence.events[%d]: %w", i, err)
		}
		if e.Type == "m.presence" {
			out = append(out, e)
		}
	}
	return out, nil
}

// Filter is the part of a filter that presence needs: the filter of the
// presence section.
type Filter struct {
	Presence *EventFilter `json:"presence,omitempty"`
}

// EventFilter filters one section of a sync.
type EventFilter struct {
	Limit      *int     `json:"limit,omitempty"`
	Types      []string `json:"types,omitempty"`
	NotTypes   []string `json:"not_types,omitempty"`
	Senders    []string `json:"senders,omitempty"`
	NotSenders []string `json:"not_senders,omitempty"`
}

// Inline is the filter as JSON text, for /sync?filter=.
func (f Filter) Inline() string {
	b, _ := json.Marshal(f) // a Filter always encodes
	return string(b)
}

// UploadFilter calls POST /user/{userId}/filter with the filter as the
// body; a []byte is sent as it is.
func (s *Session) UploadFilter(ctx context.Context, userID string, filter any) *Exchange {
	r := Request{Operation: PostFilter, UserID: userID, JSON: filter}
	if raw, ok := filter.([]byte); ok {
		r.JSON, r.Body = nil, raw
	}
	return s.Do(ctx, r)
}

// DecodeFilterID reads the filter_id of a 200 from POST filter.
func DecodeFilterID(ex *Exchange) (string, error) {
	var body struct {
		FilterID string `json:"filter_id"`
	}
	if ex.Status() != http.StatusOK {
		return "", fmt.Errorf("status %d, not 200", ex.Status())
	}
	if err := ex.DecodeJSON(&body); err != nil {
		return "", err
	}
	if body.FilterID == "" {
		return "", fmt.Errorf("no filter_id")
	}
	return body.FilterID, nil
}

// GetFilter calls GET /user/{userId}/filter/{filterId}.
func (s *Session) GetFilter(ctx context.Context, userID, filterID string) *Exchange {
	return s.Do(ctx, Request{Operation: GetFilter,
		Path: "/user/" + url.PathEscape(userID) + "/filter/" + url.PathEscape(filterID)})
}

// LeaveRoom leaves a room.
func (s *Session) LeaveRoom(ctx context.Context, roomID string) (*Exchange, error) {
	ex := s.Do(ctx, Request{Operation: LeaveRoom, Path: "/rooms/" + url.PathEscape(roomID) + "/leave", JSON: map[string]any{}})
	if ex.Status() != http.StatusOK {
		return ex, fmt.Errorf("leave %s: status %d", roomID, ex.Status())
	}
	return ex, nil
}

// Events calls v1's GET /events from a token; a timeout of 0 sends none.
func (s *Session) Events(ctx context.Context, from string, timeout time.Duration) *Exchange {
	q := url.Values{}
	if from != "" {
		q.Set("from", from)
	}
	if timeout > 0 {
		q.Set("timeout", strconv.FormatInt(timeout.Milliseconds(), 10))
	}
	return s.Do(ctx, Request{Operation: Events, Path: "/events", Query: q})
}

// EventsResponse is a 200 from GET /events.
type EventsResponse struct {
	Start string            `json:"start"`
	End   string            `json:"end"`
	Chunk []json.RawMessage `json:"chunk"`
}

// DecodeEvents decodes a 200 from GET /events.
func DecodeEvents(ex *Exchange) (EventsResponse, error) {
	return decodeStreamPage(ex, func(r EventsResponse) string { return r.End })
}

// decodeStreamPage decodes a 200 from one of v1's stream calls, which is of
// no use without the end token to read on from.
func decodeStreamPage[T any](ex *Exchange, end func(T) string) (T, error) {
	var r T
	if ex.Status() != http.StatusOK {
		return r, fmt.Errorf("status %d, not 200", ex.Status())
	}
	if err := ex.DecodeJSON(&r); err != nil {
		return r, err
	}
	if end(r) == "" {
		return r, fmt.Errorf("no end token")
	}
	return r, nil
}

// InitialSync calls v1's GET /initialSync.
func (s *Session) InitialSync(ctx context.Context) *Exchange {
	return s.Do(ctx, Request{Operation: InitialSync, Path: "/initialSync"})
}

// InitialSyncResponse is a 200 from GET /initialSync.
type InitialSyncResponse struct {
	End      string            `json:"end"`
	Presence []json.RawMessage `json:"presence"`
	Rooms    []json.RawMessage `json:"rooms"`
}

// DecodeInitialSync decodes a 200 from GET /initialSync.
func DecodeInitialSync(ex *Exchange) (InitialSyncResponse, error) {
	return decodeStreamPage(ex, func(r InitialSyncResponse) string { return r.End })
}

// V1PresenceEvents decodes the m.presence events among v1 events (the
// chunk of /events, or the presence of /initialSync).
func V1PresenceEvents(raws []json.RawMessage) ([]PresenceEvent, error) {
	var out []PresenceEvent
	for i, raw := range raws {
		var e PresenceEvent
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		if e.Type == "m.presence" {
			out = append(out, e)
		}
	}
	return out, nil
}
