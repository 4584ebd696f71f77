package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The m.presence event schema of each version, as facts: the documents the
// responses are validated against describe the events of /sync and of the
// event stream as events of any type, so the presence ones are checked
// here, against what the version's m.presence event schema requires.
//
// v1 (event-schemas/schema/v1/m.presence): event_id, type and content
// required; type is m.presence; content requires user_id and presence, a
// string of online, offline, unavailable, free_for_chat or hidden;
// last_active_ago is a number; avatar_url and displayname are strings.
//
// r0 and v3 (event-schemas/schema/m.presence, the same in r0.6.1 and v1.1):
// sender, type and content required; type is m.presence; content requires
// presence, one of online, offline, unavailable; last_active_ago is a
// number, currently_active a boolean, status_msg, avatar_url and
// displayname strings.

// checkPresenceEvents checks each m.presence event of a 200 response of
// an operation that carries events.
func checkPresenceEvents(api API, op Operation, body []byte) error {
	var events []json.RawMessage
	var where string
	switch op {
	case Sync:
		var r SyncResponse
		if json.Unmarshal(body, &r) != nil {
			return nil // the response schema has said what is wrong
		}
		events, where = r.Presence.Events, "/presence/events"
	case Events:
		var r EventsResponse
		if json.Unmarshal(body, &r) != nil {
			return nil
		}
		events, where = r.Chunk, "/chunk"
	case InitialSync:
		var r InitialSyncResponse
		if json.Unmarshal(body, &r) != nil {
			return nil
		}
		events, where = r.Presence, "/presence"
	default:
		return nil
	}
	var errs []error
	for i, raw := range events {
		if err := CheckPresenceEvent(api, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s/%d: %w", where, i, err))
		}
	}
	return errors.Join(errs...)
}

// CheckPresenceEvent checks one event against the version's m.presence
// event schema; an event of another type passes.
func CheckPresenceEvent(api API, raw json.RawMessage) error {
	var event map[string]json.RawMessage
	if err := json.Unmarshal(raw, &event); err != nil {
		return fmt.Errorf("an event that is not a JSON object")
	}
	var typ string
	if json.Unmarshal(event["type"], &typ) != nil || typ != "m.presence" {
		return nil
	}
	var problems []string
	need := func(fields map[string]json.RawMessage, at, name, kind string, required bool) {
		v, ok := fields[name]
		if !ok {
			if required {
				problems = append(problems, fmt.Sprintf("%s%s is required", at, name))
			}
			return
		}
		if !isJSONKind(v, kind) {
			problems = append(problems, fmt.Sprintf("%s%s: want a %s, got %s", at, name, kind, v))
		}
	}
	v1 := api.Name == "v1"
	if v1 {
		need(event, "", "event_id", "string", true)
	} else {
		need(event, "", "sender", "string", true)
	}
	need(event, "", "content", "object", true)
	var content map[string]json.RawMessage
	json.Unmarshal(event["content"], &content)
	if content != nil {
		states := []string{"online", "offline", "unavailable"}
		need(content, "content.", "presence", "string", true)
		if v1 {
			states = append(states, "free_for_chat", "hidden")
			need(content, "content.", "user_id", "string", true)
		} else {
			need(content, "content.", "currently_active", "boolean", false)
			need(content, "content.", "status_msg", "string", false)
		}
		need(content, "content.", "last_active_ago", "number", false)
		need(content, "content.", "avatar_url", "string", false)
		need(content, "content.", "displayname", "string", false)
		var presence string
		if json.Unmarshal(content["presence"], &presence) == nil && !slices.Contains(states, presence) {
			problems = append(problems, fmt.Sprintf("content.presence: %q is none of %v", presence, states))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("breaks the %s m.presence event schema: %s", api.Name, strings.Join(problems, "; "))
	}
	return nil
}

// isJSONKind reports whether a JSON value is of a JSON Schema type.
func isJSONKind(v json.RawMessage, kind string) bool {
	var x any
	if json.Unmarshal(v, &x) != nil {
		return false
	}
	switch kind {
	case "string":
		_, ok := x.(string)
		return ok
	case "object":
		_, ok := x.(map[string]any)
		return ok
	case "boolean":
		_, ok := x.(bool)
		return ok
	case "number":
		_, ok := x.(float64)
		return ok
	}
	return false
}
