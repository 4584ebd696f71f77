package mockserver

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDisplayNameBody sends a body to v3's PUT displayname as the owner
// and checks the answer, and what GET reads back, against a reference on
// encoding/json. A refused body changes nothing.
func FuzzDisplayNameBody(f *testing.F) {
	for _, seed := range []string{
		`{"displayname":"Alice"}`, `{"displayname":""}`, `{"displayname":null}`, `{"displayname":7}`,
		`{}`, `[]`, `nope`, ``, `{"displayname":"a","displayname":"b"}`, `{"avatar_url":"x","displayname":"\u00e9\ud83d\ude00"}`,
		`{"displayname":"` + strings.Repeat("é", 257) + `"}`, `{"displayname":"\ud800"}`, `{"displayname":"a\u0000b"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newHarness(t)
		a := h.register("alice")
		path := profilePath(v3Prefix, a.UserID) + "/displayname"
		wantStatus, wantCode, wantName := refDisplayNameBody(body)
		before := h.world()
		r := h.as(a.AccessToken, "PUT", path, string(body))
		if r.status != wantStatus || r.errcode() != wantCode {
			t.Fatalf("%s; reference says %d %q", r, wantStatus, wantCode)
		}
		if wantStatus != 200 {
			h.unchanged("a refused display name", before)
			return
		}
		got := h.request("GET", path, "", nil)
		if wantName == "" {
			expectError(t, got, 404, "M_NOT_FOUND")
			return
		}
		var read struct {
			DisplayName *string `json:"displayname"`
		}
		if err := json.Unmarshal(mustOK(t, got).body, &read); err != nil || read.DisplayName == nil || *read.DisplayName != wantName {
			t.Fatalf("set %q, read back %s", wantName, got.body)
		}
	})
}

// refDisplayNameBody is the answer to a display name body, and the name it
// sets ("" clears).
func refDisplayNameBody(body []byte) (status int, errcode, name string) {
	if len(body) > maxBodyBytes {
		return 413, "M_TOO_LARGE", ""
	}
	members, code := refRawMembers(body)
	if code != "" {
		return 400, code, ""
	}
	got, unique := pick(members, "displayname")
	if !unique {
		return 400, "M_BAD_JSON", ""
	}
	v, present := refValue(got, "displayname")
	if !present {
		return 400, "M_MISSING_PARAM", ""
	}
	s, isString := v.(string)
	switch {
	case !isString:
		return 400, "M_BAD_JSON", ""
	case utf8.RuneCountInString(s) > 256:
		return 400, "M_INVALID_PARAM", ""
	}
	return 200, "", s
}
