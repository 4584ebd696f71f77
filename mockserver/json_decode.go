package mockserver

import (
	"fmt"
	"strings"
)

// The request bodies, decoded. Matrix convention: members a body does not
// define are ignored; a member given twice is refused, since RFC 8259
// leaves its meaning open and two servers may read it two ways.

// presenceUpdate is the body of PUT /presence/{userId}/status.
type presenceUpdate struct {
	presence     string // the API version's own copy of the state name
	statusMsg    string
	hasStatusMsg bool
}

func decodePresenceUpdate(body []byte, api *apiVersion) (presenceUpdate, *apiError) {
	var up presenceUpdate
	obj, err := startObject(body)
	if err != nil {
		return up, err
	}
	var sawPresence bool
	for key, value, ok := obj.next(); ok; key, value, ok = obj.next() {
		switch {
		case keyIs(key, "presence"):
			if sawPresence {
				return up, duplicate("presence")
			}
			sawPresence = true
			given, isString := stringValue(value)
			if !isString {
				return up, wrongType("presence", "a string", value)
			}
			state, known := api.presenceState(given)
			if !known {
				return up, badJSON(fmt.Sprintf("presence: %s is not one of %s",
					quoteForMessage(given), strings.Join(api.presenceStates, ", ")))
			}
			up.presence = state
		case keyIs(key, "status_msg"):
			if up.hasStatusMsg {
				return up, duplicate("status_msg")
			}
			msg, isString := stringValue(value)
			if !isString {
				return up, wrongType("status_msg", "a string", value)
			}
			up.statusMsg, up.hasStatusMsg = msg, true
		}
	}
	if !sawPresence {
		return up, badJSON("presence: missing; it is required")
	}
	return up, nil
}

// listDiff is the body of POST /presence/list/{userId}.
type listDiff struct {
	invite, drop []string
}

func decodeListDiff(body []byte) (listDiff, *apiError) {
	var diff listDiff
	obj, err := startObject(body)
	if err != nil {
		return diff, err
	}
	var sawInvite, sawDrop bool
	for key, value, ok := obj.next(); ok; key, value, ok = obj.next() {
		var field string
		var into *[]string
		switch {
		case keyIs(key, "invite"):
			if sawInvite {
				return diff, duplicate("invite")
			}
			sawInvite, field, into = true, "invite", &diff.invite
		case keyIs(key, "drop"):
			if sawDrop {
				return diff, duplicate("drop")
			}
			sawDrop, field, into = true, "drop", &diff.drop
		default:
			continue
		}
		list, bad, ok := stringArray(value)
		if !ok {
			if bad < 0 {
				return diff, wrongType(field, "an array of user ID strings", value)
			}
			return diff, badJSON(fmt.Sprintf("%s[%d]: must be a user ID string", field, bad))
		}
		*into = list
	}
	return diff, nil
}

// credentials is the body of POST /register and POST /login. Each field is
// kept raw: which of them must be what depends on the login type, which is
// judged first.
type credentials struct {
	loginType, user, password []byte // raw JSON values; nil when absent
}

func decodeCredentials(body []byte) (credentials, *apiError) {
	var c credentials
	obj, err := startObject(body)
	if err != nil {
		return c, err
	}
	for key, value, ok := obj.next(); ok; key, value, ok = obj.next() {
		var name string
		var into *[]byte
		switch {
		case keyIs(key, "type"):
			name, into = "type", &c.loginType
		case keyIs(key, "user"):
			name, into = "user", &c.user
		case keyIs(key, "password"):
			name, into = "password", &c.password
		default:
			continue
		}
		if *into != nil {
			return c, duplicate(name)
		}
		*into = value
	}
	return c, nil
}

// isPasswordLogin reports whether the body asks for m.login.password, the
// only login type v1 defines.
func (c credentials) isPasswordLogin() bool {
	if c.loginType == nil {
		return false
	}
	t, ok := stringValue(c.loginType)
	return ok && t == "m.login.password"
}

// stringField decodes one of the string fields; present is false when absent.
func stringField(name string, raw []byte) (value string, present bool, err *apiError) {
	if raw == nil {
		return "", false, nil
	}
	s, ok := stringValue(raw)
	if !ok {
		return "", true, wrongType(name, "a string", raw)
	}
	return s, true, nil
}

func startObject(body []byte) (objectReader, *apiError) {
	if !isJSONText(body) {
		return objectReader{}, errNotJSON
	}
	obj, ok := readObject(body)
	if !ok {
		return objectReader{}, errNotObject
	}
	return obj, nil
}

func wrongType(field, want string, value []byte) *apiError {
	return badJSON(fmt.Sprintf("%s: must be %s, not %s", field, want, jsonType(value)))
}

func duplicate(field string) *apiError {
	return badJSON(field + ": given more than once")
}

// quoteForMessage quotes client text for an error message, cut short so a
// 64 KiB value does not come back as a 64 KiB error.
func quoteForMessage(s string) string {
	const limit = 64
	if len(s) > limit {
		cut := limit
		for cut > 0 && s[cut]&0xc0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		return fmt.Sprintf("%q...", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}
