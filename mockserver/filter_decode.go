package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// Filters are nested JSON that is read once per upload or per sync, not on
// the hot path, so they are decoded with encoding/json. Members a filter
// does not define are ignored, as Matrix bodies go; every member it does
// define must have its type, and the values the spec bounds are checked.

// syncFilter is a Filter (sync_filter.yaml). The mock applies presence and
// checks the rest for shape only: it has no events to filter there.
type syncFilter struct {
	EventFields []string     `json:"event_fields"`
	EventFormat *string      `json:"event_format"`
	Presence    *eventFilter `json:"presence"`
	AccountData *eventFilter `json:"account_data"`
	Room        *roomFilter  `json:"room"`
}

// eventFilter is an EventFilter (event_filter.yaml).
type eventFilter struct {
	Limit      *int     `json:"limit"`
	NotSenders []string `json:"not_senders"`
	NotTypes   []string `json:"not_types"`
	Senders    []string `json:"senders"`
	Types      []string `json:"types"`
	// present records which lists were given: an empty list filters
	// everything out, an absent one nothing.
	present filterLists
}

type filterLists struct{ senders, types bool }

type roomFilter struct {
	NotRooms     []string         `json:"not_rooms"`
	Rooms        []string         `json:"rooms"`
	IncludeLeave *bool            `json:"include_leave"`
	Ephemeral    *roomEventFilter `json:"ephemeral"`
	State        *roomEventFilter `json:"state"`
	Timeline     *roomEventFilter `json:"timeline"`
	AccountData  *roomEventFilter `json:"account_data"`
}

// roomEventFilter is a RoomEventFilter: an EventFilter's members, spelled
// out rather than embedded so that eventFilter's UnmarshalJSON does not
// take over, with room and lazy-loading members.
type roomEventFilter struct {
	Limit                   *int     `json:"limit"`
	NotSenders              []string `json:"not_senders"`
	NotTypes                []string `json:"not_types"`
	Senders                 []string `json:"senders"`
	Types                   []string `json:"types"`
	NotRooms                []string `json:"not_rooms"`
	Rooms                   []string `json:"rooms"`
	ContainsURL             *bool    `json:"contains_url"`
	LazyLoadMembers         *bool    `json:"lazy_load_members"`
	IncludeRedundantMembers *bool    `json:"include_redundant_members"`
}

// UnmarshalJSON notes which lists the object gives, beside decoding them.
func (f *eventFilter) UnmarshalJSON(data []byte) error {
	type plain eventFilter // without this method
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	var members map[string]json.RawMessage
	json.Unmarshal(data, &members) // an object: the decode above said so
	*f = eventFilter(p)
	f.present = filterLists{
		senders: given(members["senders"]),
		types:   given(members["types"]),
	}
	return nil
}

// given tells a member that is there from one that is absent or null.
func given(raw json.RawMessage) bool { return raw != nil && string(raw) != "null" }

// decodeFilter decodes a filter, uploaded or inline, answering M_NOT_JSON
// for text that is not JSON, M_BAD_JSON for JSON of the wrong shape and
// M_INVALID_PARAM for a value out of bounds.
func decodeFilter(data []byte, where string) (*syncFilter, *apiError) {
	if !utf8.Valid(data) || !json.Valid(data) {
		return nil, errorf(http.StatusBadRequest, "M_NOT_JSON", where+" is not JSON text in UTF-8")
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, badJSON(where + " must be a JSON object")
	}
	var f syncFilter
	if err := json.Unmarshal(data, &f); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return nil, badJSON(fmt.Sprintf("%s: %s must be %s, not a JSON %s", where, te.Field, jsonKind(te.Type.Kind().String()), te.Value))
		}
		return nil, badJSON(where + ": " + err.Error())
	}
	if f.EventFormat != nil && *f.EventFormat != "client" && *f.EventFormat != "federation" {
		return nil, errorf(http.StatusBadRequest, "M_INVALID_PARAM", where+`: event_format must be "client" or "federation"`)
	}
	limits := []struct {
		name string
		f    *eventFilter
	}{{"presence", f.Presence}, {"account_data", f.AccountData}}
	if f.Room != nil {
		for _, rf := range []struct {
			name string
			f    *roomEventFilter
		}{{"room.ephemeral", f.Room.Ephemeral}, {"room.state", f.Room.State}, {"room.timeline", f.Room.Timeline}, {"room.account_data", f.Room.AccountData}} {
			if rf.f != nil {
				limits = append(limits, struct {
					name string
					f    *eventFilter
				}{rf.name, &eventFilter{Limit: rf.f.Limit}})
			}
		}
	}
	for _, l := range limits {
		if l.f != nil && l.f.Limit != nil && *l.f.Limit < 1 {
			return nil, errorf(http.StatusBadRequest, "M_INVALID_PARAM", fmt.Sprintf("%s: %s.limit must be an integer greater than 0", where, l.name))
		}
	}
	return &f, nil
}

// jsonKind names a Go kind as JSON does.
func jsonKind(kind string) string {
	switch {
	case kind == "slice":
		return "an array"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case strings.HasPrefix(kind, "int"):
		return "an integer"
	case kind == "struct", kind == "ptr":
		return "an object"
	}
	return "of another type"
}

// passes reports whether the presence filter lets an event from sender
// through. Every event here has type m.presence.
func (f *eventFilter) passes(sender string) bool {
	if f == nil {
		return true
	}
	const eventType = "m.presence"
	for _, p := range f.NotTypes {
		if globMatch(p, eventType) {
			return false
		}
	}
	if f.present.types && !slices.ContainsFunc(f.Types, func(p string) bool { return globMatch(p, eventType) }) {
		return false
	}
	for _, ns := range f.NotSenders {
		if ns == sender {
			return false
		}
	}
	if f.present.senders && !slices.Contains(f.Senders, sender) {
		return false
	}
	return true
}

// globMatch matches an event type against a pattern in which * stands for
// any run of characters, and every other character for itself.
func globMatch(pattern, s string) bool {
	star := strings.IndexByte(pattern, '*')
	if star < 0 {
		return pattern == s
	}
	prefix := pattern[:star]
	if !strings.HasPrefix(s, prefix) {
		return false
	}
	s = s[len(prefix):]
	rest := pattern[star+1:]
	// The last * may absorb anything; each earlier one the least it must.
	for {
		next := strings.IndexByte(rest, '*')
		if next < 0 {
			return strings.HasSuffix(s, rest)
		}
		lit := rest[:next]
		i := strings.Index(s, lit)
		if i < 0 {
			return false
		}
		s = s[i+len(lit):]
		rest = rest[next+1:]
	}
}
