package mockserver

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// jsonStrings are string literals that exercise every escape.
var jsonStrings = []string{
	`""`, `"plain"`, `"\"\\\/\b\f\n\r\t"`, `"\u0041\u00e9\u4e2d"`, `"é中😀"`,
	`"\ud83d\ude00"`,       // a surrogate pair
	`"\ud83d"`,             // a lone high surrogate
	`"\ude00"`,             // a lone low surrogate
	`"\ud83d\u0041"`,       // a high surrogate and not a low one
	`"\ud83d\ud83d\ude00"`, // a lone high, then a pair
	`"a\\u0041"`,           // an escaped backslash, not an escape
	`"\u2028\u2029\u0000\u001f"`,
}

func TestUnquoteMatchesEncodingJSON(t *testing.T) {
	for _, lit := range jsonStrings {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatalf("test literal %s: %v", lit, err)
		}
		if got := unquote([]byte(lit)); got != want {
			t.Errorf("unquote(%s) = %q, want %q", lit, got, want)
		}
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	inputs := []string{"", "plain", "quote\" backslash\\ slash/", "\x00\x01\b\f\n\r\t\x1f\x7f",
		"<html>&amp;", "é中😀", "\u2028\u2029", "bad \xff utf-8 \xc3", "\xed\xa0\x80"}
	for _, s := range inputs {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(appendString(nil, s)); got != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want.String())
		}
	}
}

func TestObjectReader(t *testing.T) {
	body := []byte(` { "a" : 1 , "b":[1,{"x":"]}"}], "c\"d":{"e":[[]]},"f":"}" ,"g":null,"h":true,"i":-1.5e3} `)
	if !isJSONText(body) {
		t.Fatal("test body is not JSON")
	}
	obj, ok := readObject(body)
	if !ok {
		t.Fatal("readObject: not an object")
	}
	var got []string
	for key, value, ok := obj.next(); ok; key, value, ok = obj.next() {
		got = append(got, unquote(key)+"="+string(value))
	}
	want := []string{`a=1`, `b=[1,{"x":"]}"}]`, `c"d={"e":[[]]}`, `f="}"`, `g=null`, `h=true`, `i=-1.5e3`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("members:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, _, ok := obj.next(); ok {
		t.Error("next after the end yielded a member")
	}
	for _, notObject := range []string{`[]`, `"x"`, `1`, `null`, ` true `} {
		if _, ok := readObject([]byte(notObject)); ok {
			t.Errorf("readObject(%s) = ok, want not an object", notObject)
		}
	}
	empty, _ := readObject([]byte(`{ }`))
	if _, _, ok := empty.next(); ok {
		t.Error("the empty object yielded a member")
	}
}

func TestKeyIs(t *testing.T) {
	for _, tt := range []struct {
		quoted, name string
		want         bool
	}{
		{`"presence"`, "presence", true},
		{`"pres\u0065nce"`, "presence", true},
		{`"PRESENCE"`, "presence", false}, // keys are case-sensitive, unlike encoding/json's struct matching
		{`"presence "`, "presence", false},
		{`""`, "", true},
	} {
		if got := keyIs([]byte(tt.quoted), tt.name); got != tt.want {
			t.Errorf("keyIs(%s, %q) = %v, want %v", tt.quoted, tt.name, got, tt.want)
		}
	}
}

func TestStringArray(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want []string
		bad  int
		ok   bool
	}{
		{`[]`, []string{}, 0, true},
		{`[ "a" , "b\u0041" ]`, []string{"a", "bA"}, 0, true},
		{`["a",1]`, nil, 1, false},
		{`[null]`, nil, 0, false},
		{`[["a"]]`, nil, 0, false},
		{`"a"`, nil, -1, false},
		{`{}`, nil, -1, false},
		{`null`, nil, -1, false},
	} {
		got, bad, ok := stringArray([]byte(tt.raw))
		if ok != tt.ok || bad != tt.bad || strings.Join(got, ",") != strings.Join(tt.want, ",") || (ok && got == nil) {
			t.Errorf("stringArray(%s) = %q, %d, %v; want %q, %d, %v", tt.raw, got, bad, ok, tt.want, tt.bad, tt.ok)
		}
	}
}

func TestIsJSONText(t *testing.T) {
	for _, tt := range []struct {
		body string
		want bool
	}{
		{`{}`, true}, {` {"a":"é"} `, true}, {`[]`, true}, {`"x"`, true},
		{``, false}, {` `, false}, {`{`, false}, {`{}{}`, false}, {`{"a":1,}`, false},
		{`{'a':1}`, false}, {"{\"a\":\"\xff\"}", false}, {`{"a":"` + "\x01" + `"}`, false},
	} {
		if got := isJSONText([]byte(tt.body)); got != tt.want {
			t.Errorf("isJSONText(%q) = %v, want %v", tt.body, got, tt.want)
		}
	}
}
