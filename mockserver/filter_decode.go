package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Filters are nested JSON that is read once per upload or per sync, not on
// the hot path, so they are decoded with encoding/json. Members a filter
// does not define are ignored, as Matrix bodies go; every member it does
// define must have its type, and the values the spec bounds are checked.
// Member names match exactly: encoding/json alone would also take
// "Presence" for "presence", which JSON and Matrix do not.

// syncFilter is a Filter (sync_filter.yaml). The mock applies presence and
// checks the rest for shape only: it has no events to filter there.
type syncFilter struct {
	EventFields stringList
	EventFormat *string
	Presence    *eventFilter
	AccountData *eventFilter
	Room        *roomFilter
}

// eventFilter is an EventFilter (event_filter.yaml).
type eventFilter struct {
	Limit      *int
	NotSenders stringList
	NotTypes   stringList
	Senders    stringList
	Types      stringList
	// present records which lists were given: an empty list filters
	// everything out, an absent one nothing.
	present filterLists
}

type filterLists struct{ senders, types bool }

type roomFilter struct {
	NotRooms     stringList
	Rooms        stringList
	IncludeLeave *bool
	Ephemeral    *roomEventFilter
	State        *roomEventFilter
	Timeline     *roomEventFilter
	AccountData  *roomEventFilter
}

// roomEventFilter is a RoomEventFilter: an EventFilter with room and
// lazy-loading members.
type roomEventFilter struct {
	eventFilter
	NotRooms                stringList
	Rooms                   stringList
	ContainsURL             *bool
	LazyLoadMembers         *bool
	IncludeRedundantMembers *bool
}

func (f *syncFilter) UnmarshalJSON(data []byte) error {
	_, err := decodeMembers(data, map[string]any{
		"event_fields": &f.EventFields, "event_format": &f.EventFormat,
		"presence": &f.Presence, "account_data": &f.AccountData, "room": &f.Room,
	})
	return err
}

func (f *eventFilter) UnmarshalJSON(data []byte) error {
	members, err := decodeMembers(data, f.fields())
	f.present = filterLists{senders: given(members["senders"]), types: given(members["types"])}
	return err
}

func (f *eventFilter) fields() map[string]any {
	return map[string]any{
		"limit": &f.Limit, "not_senders": &f.NotSenders, "not_types": &f.NotTypes,
		"senders": &f.Senders, "types": &f.Types,
	}
}

func (f *roomFilter) UnmarshalJSON(data []byte) error {
	_, err := decodeMembers(data, map[string]any{
		"not_rooms": &f.NotRooms, "rooms": &f.Rooms, "include_leave": &f.IncludeLeave,
		"ephemeral": &f.Ephemeral, "state": &f.State, "timeline": &f.Timeline, "account_data": &f.AccountData,
	})
	return err
}

func (f *roomEventFilter) UnmarshalJSON(data []byte) error {
	fields := f.eventFilter.fields()
	fields["not_rooms"], fields["rooms"] = &f.NotRooms, &f.Rooms
	fields["contains_url"], fields["lazy_load_members"], fields["include_redundant_members"] = &f.ContainsURL, &f.LazyLoadMembers, &f.IncludeRedundantMembers
	members, err := decodeMembers(data, fields)
	f.present = filterLists{senders: given(members["senders"]), types: given(members["types"])}
	return err
}

// stringList is a list of strings that may not hold null.
type stringList []string

func (l *stringList) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var items []*string
	if err := json.Unmarshal(data, &items); err != nil {
		return err
	}
	out := make([]string, len(items))
	for i, item := range items {
		if item == nil {
			return &memberError{path: strconv.Itoa(i), problem: "must be a string, not null"}
		}
		out[i] = *item
	}
	*l = out
	return nil
}

// A memberError says where in a filter a value is wrong.
type memberError struct {
	path    string
	problem string
}

func (e *memberError) Error() string { return e.path + ": " + e.problem }

// decodeMembers decodes an object's members into the fields named exactly
// so, in name order so that the first error is always the same one, and
// returns the members as given.
func decodeMembers(data []byte, fields map[string]any) (map[string]json.RawMessage, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return nil, &memberError{problem: "must be an object, not a JSON " + te.Value}
		}
		return nil, err
	}
	if members == nil { // null: the member is absent
		return nil, nil
	}
	for _, name := range slices.Sorted(maps.Keys(members)) {
		target, ok := fields[name]
		if !ok {
			continue
		}
		err := json.Unmarshal(members[name], target)
		if me, ok := errors.AsType[*memberError](err); ok {
			return members, &memberError{path: strings.TrimSuffix(name+"."+me.path, "."), problem: me.problem}
		}
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return members, &memberError{path: name, problem: "must be " + jsonKind(te.Type.Kind().String()) + ", not a JSON " + te.Value}
		}
		if err != nil {
			return members, &memberError{path: name, problem: err.Error()}
		}
	}
	return members, nil
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
	if err := f.UnmarshalJSON(data); err != nil {
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
		for name, rf := range map[string]*roomEventFilter{"room.ephemeral": f.Room.Ephemeral, "room.state": f.Room.State, "room.timeline": f.Room.Timeline, "room.account_data": f.Room.AccountData} {
			if rf != nil {
				limits = append(limits, struct {
					name string
					f    *eventFilter
				}{name, &rf.eventFilter})
			}
		}
	}
	for _, l := range limits {
		// r0.6.1 and v1.1 set no lower bound; later releases ask for more
		// than 0, but a client of these may send 0 for "none".
		if l.f != nil && l.f.Limit != nil && *l.f.Limit < 0 {
			return nil, errorf(http.StatusBadRequest, "M_INVALID_PARAM", fmt.Sprintf("%s: %s.limit must not be negative", where, l.name))
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
	case kind == "struct", kind == "ptr", kind == "map":
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
