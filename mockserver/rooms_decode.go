package mockserver

import (
	"fmt"
	"slices"
	"strings"
)

// The room bodies, decoded under the same conventions as the rest.

// newRoom is what the mock reads of a POST /createRoom body: whom to
// invite and who may join. Name, topic, initial state and the rest are
// ignored: the mock keeps no room state but membership.
type newRoom struct {
	invite     []string
	preset     string // empty when absent
	visibility string // empty when absent
}

// The presets and visibilities the spec defines.
var (
	roomPresets      = []string{"private_chat", "public_chat", "trusted_private_chat"}
	roomVisibilities = []string{"public", "private"}
)

func decodeNewRoom(body []byte) (newRoom, *apiError) {
	var nr newRoom
	obj, err := startObject(body)
	if err != nil {
		return nr, err
	}
	var invite, preset, visibility []byte
	if err := readFields(obj, "", field{"invite", &invite}, field{"preset", &preset}, field{"visibility", &visibility}); err != nil {
		return nr, err
	}
	if invite != nil {
		list, bad, ok := stringArray(invite)
		if !ok {
			if bad < 0 {
				return nr, wrongType("invite", "an array of user ID strings", invite)
			}
			return nr, badJSON(fmt.Sprintf("invite[%d]: must be a user ID string", bad))
		}
		nr.invite = list
	}
	for _, f := range []struct {
		name    string
		raw     []byte
		allowed []string
		into    *string
	}{{"preset", preset, roomPresets, &nr.preset}, {"visibility", visibility, roomVisibilities, &nr.visibility}} {
		value, present, err := stringField(f.name, f.raw)
		if err != nil {
			return nr, err
		}
		if present && !slices.Contains(f.allowed, value) {
			return nr, badJSON(fmt.Sprintf("%s: %s is not one of %s", f.name, quoteForMessage(value), strings.Join(f.allowed, ", ")))
		}
		*f.into = value
	}
	return nr, nil
}

// public reports whether anyone on the server may join: the public_chat
// preset, or, with no preset, a public room, which the spec gives that
// preset.
func (nr newRoom) public() bool {
	return nr.preset == "public_chat" || nr.preset == "" && nr.visibility == "public"
}

// checkOptionalObject checks a body that may be left out (join, leave):
// none at all is fine; anything else must be a JSON object, whose members
// the mock ignores (a reason, a third-party signature).
func checkOptionalObject(body []byte) *apiError {
	if len(body) == 0 {
		return nil
	}
	_, err := startObject(body)
	return err
}
