package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The delivery fuzz targets check /sync and the filter API against
// references built from the standard library: url.ParseQuery for the query,
// encoding/json with maps for filters, regular expressions for the *
// wildcard. No input may cause a panic, a 5xx, or a change on refusal.
// Seed corpora are in testdata/fuzz/<target>/.

// FuzzSyncQuery sends /sync with a fuzzed query. SINCE and FILTERID in the
// input stand for a token and a filter ID the server issued, so that the
// fuzzer reaches past the token and filter checks.
func FuzzSyncQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string) {
		h := newHarness(t)
		a, b := h.register("alice"), h.register("bob")
		roomID := h.createRoom(v3Prefix, a, b.UserID)
		mustOK(t, h.joinRoom(v3Prefix, b, roomID))
		h.putPresence(v3Prefix, b, `{"presence":"unavailable","status_msg":"before"}`)
		created := mustOK(t, h.as(a.AccessToken, "POST", filterPath(v3Prefix, a.UserID), `{"presence":{"limit":1}}`))
		var fid struct {
			FilterID string `json:"filter_id"`
		}
		json.Unmarshal(created.body, &fid)
		since := h.syncAs(v3Prefix, a, "set_presence=offline").NextBatch
		raw = strings.ReplaceAll(strings.ReplaceAll(raw, "SINCE", url.QueryEscape(since)), "FILTERID", fid.FilterID)
		if strings.Contains(raw, "access_token") {
			return // the token parameter has its own fuzz target
		}

		wantRefused := refSyncQueryRefused(raw, since, fid.FilterID)
		before := h.world()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		sep := "&"
		if raw == "" {
			sep = ""
		}
		req := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
		req.URL = &url.URL{Path: v3Prefix + "/sync", RawQuery: raw + sep + "access_token=" + url.QueryEscape(a.AccessToken)}
		req.RequestURI = req.URL.RequestURI()
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		status, body := rec.Code, rec.Body.Bytes()
		if status >= 500 {
			t.Fatalf("%d for %q: %s", status, raw, body)
		}
		if wantRefused != "" {
			if status != http.StatusBadRequest {
				t.Fatalf("%q: %d %s; the reference refuses it: %s", raw, status, body, wantRefused)
			}
			var e struct{ Errcode, Error string }
			if json.Unmarshal(body, &e) != nil || !strings.HasPrefix(e.Errcode, "M_") || e.Error == "" {
				t.Fatalf("%q: not a Matrix error: %s", raw, body)
			}
			h.unchanged("refused sync "+raw, before)
			return
		}
		if status != http.StatusOK {
			t.Fatalf("%q: %d %s; the reference accepts it", raw, status, body)
		}
		if len(body) == 0 && ctx.Err() != nil {
			return // still waiting when the client gave up
		}
		var s syncBody
		if err := json.Unmarshal(body, &s); err != nil || s.NextBatch == "" {
			t.Fatalf("%q: %v: %s", raw, err, body)
		}
		for _, e := range s.Presence.Events {
			if e.Sender != a.UserID && e.Sender != b.UserID {
				t.Fatalf("%q: presence of %s, who shares no room with alice", raw, e.Sender)
			}
		}
	})
}

// refSyncQueryRefused says why the reference refuses a query, or "".
func refSyncQueryRefused(raw, since, filterID string) string {
	q, _ := url.ParseQuery(raw)
	first := func(k string) (string, bool) {
		v, ok := q[k]
		if !ok {
			return "", false
		}
		return v[0], true
	}
	if v, ok := first("filter"); ok {
		if strings.HasPrefix(v, "{") {
			if _, why := refFilter([]byte(v)); why != "" {
				return "filter: " + why
			}
		} else if v != filterID {
			return "filter: unknown ID"
		}
	}
	if v, ok := first("since"); ok && !refTokenIssued(v, since) {
		return "since: not issued"
	}
	if v, ok := first("timeout"); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
			return "timeout: not a whole number of milliseconds"
		}
	}
	if v, ok := first("set_presence"); ok && !slices.Contains([]string{"offline", "online", "unavailable"}, v) {
		return "set_presence: not a state"
	}
	if v, ok := first("full_state"); ok && v != "true" && v != "false" {
		return "full_state: not a boolean"
	}
	return ""
}

// refTokenIssued: the tokens issued so far are the one given and every
// earlier position, spelled as the server spells them.
func refTokenIssued(tok, issued string) bool {
	m := regexp.MustCompile(`^s([0-9]+)_([a-z0-9]+)$`).FindStringSubmatch(issued)
	got := regexp.MustCompile(`^s(0|[1-9][0-9]*)_([a-z0-9]+)$`).FindStringSubmatch(tok)
	if m == nil || got == nil || got[2] != m[2] {
		return false
	}
	max, _ := strconv.ParseUint(m[1], 10, 64)
	pos, err := strconv.ParseUint(got[1], 10, 64)
	return err == nil && pos <= max
}

// refFilter decodes a filter with maps alone and checks the members the
// spec types; it returns the presence filter, or why it is refused.
func refFilter(data []byte) (map[string]any, string) {
	if !utf8.Valid(data) || !json.Valid(data) {
		return nil, "M_NOT_JSON"
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top any
	dec.Decode(&top)
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, "M_BAD_JSON"
	}
	isStrings := func(v any) bool {
		if v == nil {
			return true
		}
		list, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range list {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	isBool := func(v any) bool { _, ok := v.(bool); return v == nil || ok }
	// checkEventFilter returns the errcode for a bad (room) event filter.
	checkEventFilter := func(v any, room bool) string {
		if v == nil {
			return ""
		}
		m, ok := v.(map[string]any)
		if !ok {
			return "M_BAD_JSON"
		}
		lists := []string{"types", "not_types", "senders", "not_senders"}
		if room {
			lists = append(lists, "rooms", "not_rooms")
			for _, k := range []string{"contains_url", "lazy_load_members", "include_redundant_members"} {
				if !isBool(m[k]) {
					return "M_BAD_JSON"
				}
			}
		}
		for _, k := range lists {
			if !isStrings(m[k]) {
				return "M_BAD_JSON"
			}
		}
		if l, ok := m["limit"]; ok && l != nil {
			n, isNum := l.(json.Number)
			i, err := strconv.ParseInt(string(n), 10, 0)
			if !isNum || err != nil {
				return "M_BAD_JSON"
			}
			if i < 0 {
				return "M_INVALID_PARAM"
			}
		}
		return ""
	}
	// encoding/json reports the first type error but keeps going, and
	// bounds come after types: gather both, types first.
	var typeErr, boundErr bool
	note := func(code string) {
		switch code {
		case "M_BAD_JSON":
			typeErr = true
		case "M_INVALID_PARAM":
			boundErr = true
		}
	}
	if !isStrings(obj["event_fields"]) {
		typeErr = true
	}
	format, isString := obj["event_format"].(string)
	if obj["event_format"] != nil && !isString {
		typeErr = true
	}
	note(checkEventFilter(obj["presence"], false))
	note(checkEventFilter(obj["account_data"], false))
	if room := obj["room"]; room != nil {
		rm, ok := room.(map[string]any)
		if !ok {
			typeErr = true
		} else {
			if !isStrings(rm["rooms"]) || !isStrings(rm["not_rooms"]) || !isBool(rm["include_leave"]) {
				typeErr = true
			}
			for _, k := range []string{"ephemeral", "state", "timeline", "account_data"} {
				note(checkEventFilter(rm[k], true))
			}
		}
	}
	switch {
	case typeErr:
		return nil, "M_BAD_JSON"
	case isString && format != "client" && format != "federation", boundErr:
		return nil, "M_INVALID_PARAM"
	}
	p, _ := obj["presence"].(map[string]any)
	return p, ""
}

// refPresenceFilter applies a presence filter decoded by refFilter to
// events from senders, in stream order.
func refPresenceFilter(p map[string]any, senders []string) []string {
	strs := func(k string) ([]string, bool) {
		v, ok := p[k]
		if !ok || v == nil {
			return nil, false
		}
		var out []string
		for _, e := range v.([]any) {
			out = append(out, e.(string))
		}
		return out, true
	}
	matches := func(pattern string) bool {
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$"
		return regexp.MustCompile("(?s)" + re).MatchString("m.presence")
	}
	var out []string
	for _, s := range senders {
		keep := true
		if types, ok := strs("types"); ok && !slices.ContainsFunc(types, matches) {
			keep = false
		}
		if notTypes, _ := strs("not_types"); slices.ContainsFunc(notTypes, matches) {
			keep = false
		}
		if list, ok := strs("senders"); ok && !slices.Contains(list, s) {
			keep = false
		}
		if list, _ := strs("not_senders"); slices.Contains(list, s) {
			keep = false
		}
		if keep {
			out = append(out, s)
		}
	}
	if l, ok := p["limit"].(json.Number); ok {
		if n, _ := strconv.Atoi(string(l)); len(out) > n {
			out = out[len(out)-n:]
		}
	}
	return out
}

// FuzzFilterBody uploads a fuzzed filter, reads it back, and syncs with it
// by ID and inline; each step must agree with the map-based reference.
func FuzzFilterBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxBodyBytes {
			return
		}
		h := newHarness(t)
		a, b, c := h.register("alice"), h.register("bob"), h.register("carol")
		roomID := h.createRoom(v3Prefix, a, b.UserID, c.UserID)
		mustOK(t, h.joinRoom(v3Prefix, b, roomID))
		mustOK(t, h.joinRoom(v3Prefix, c, roomID))
		for _, u := range []Account{c, b, a} { // stream order: carol, bob, alice
			h.putPresence(v3Prefix, u, `{"presence":"online"}`)
		}
		presence, why := refFilter(body)
		filters := h.storedFilters()
		r := h.as(a.AccessToken, "POST", filterPath(v3Prefix, a.UserID), string(body))
		if why != "" {
			expectError(t, r, http.StatusBadRequest, why)
			if h.storedFilters() != filters {
				t.Fatal("a refused upload stored a filter")
			}
			if len(body) > 0 && body[0] == '{' {
				expectError(t, h.as(a.AccessToken, "GET", v3Prefix+"/sync?"+q("filter", string(body), "set_presence", "offline"), ""), http.StatusBadRequest, why)
			}
			return
		}
		if r.status != http.StatusOK {
			t.Fatalf("the reference accepts it, the server says %s", r)
		}
		var created struct {
			FilterID string `json:"filter_id"`
		}
		if json.Unmarshal(r.body, &created) != nil || created.FilterID == "" || strings.HasPrefix(created.FilterID, "{") {
			t.Fatalf("upload answer: %s", r.body)
		}
		back := mustOK(t, h.as(a.AccessToken, "GET", filterPath(v3Prefix, a.UserID)+"/"+created.FilterID, ""))
		if !reflect.DeepEqual(decodeJSON(t, back.body), decodeJSON(t, body)) {
			t.Fatalf("read back %s, uploaded %s", back.body, body)
		}
		want := refPresenceFilter(presence, []string{c.UserID, b.UserID, a.UserID})
		byID := h.syncAs(v3Prefix, a, q("filter", created.FilterID, "set_presence", "offline"))
		if got := byID.senders(); !slices.Equal(got, want) {
			t.Fatalf("sync by ID: %v, reference %v", got, want)
		}
		if body[0] == '{' {
			inline := h.syncAs(v3Prefix, a, q("filter", string(body), "set_presence", "offline"))
			if got := inline.senders(); !slices.Equal(got, want) {
				t.Fatalf("sync inline: %v, reference %v", got, want)
			}
		}
	})
}
