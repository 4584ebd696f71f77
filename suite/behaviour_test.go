package suite

import (
	"testing"

	"github.com/onsi/gomega"
)

func TestStableNamesNoUserRoomOrMoment(t *testing.T) {
	cases := map[string]string{
		"the status of @mxp-ab12-3:localhost:8008 to show presence online":         "the status of {user} to show presence online",
		"a /sync of @a:hs delivered m.presence from @b:hs: online.\n\n--> GET ...": "a /sync of {user} delivered m.presence from {user}: online",
		"!room:hs joined after 1234ms, token 9876543":                              "{room} joined after N, token N",
		"limit 1 in status 404": "limit 1 in status 404",
	}
	for in, want := range cases {
		if got := stable(in); got != want {
			t.Errorf("stable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescribedRuleIsTheFormatWithoutItsArguments(t *testing.T) {
	cases := []struct {
		description []any
		want        string
	}{
		{[]any{"m.presence events through a filter that excludes them\n\n%s", "exchange"}, "m.presence events through a filter that excludes them"},
		{[]any{"%s reading the status of %s", "@a:hs", "@b:hs"}, "… reading the status of …"},
		{[]any{"%s", "exchange"}, ""},
		{nil, ""},
		{[]any{42}, ""},
	}
	for _, c := range cases {
		if got := describedRule(c.description); got != c.want {
			t.Errorf("describedRule(%v) = %q, want %q", c.description, got, c.want)
		}
	}
}

func TestMatcherMissNamesNoValue(t *testing.T) {
	cases := []struct {
		negated     bool
		want, found string
	}{
		{false, "empty", "not empty"},
		{true, "not empty", "empty"},
	}
	for _, c := range cases {
		want, found := matcherMiss(gomega.BeEmpty(), c.negated)
		if want != c.want || found != c.found {
			t.Errorf("negated %v: %q, %q; want %q, %q", c.negated, want, found, c.want, c.found)
		}
	}
	if _, found := matcherMiss(gomega.ContainElement("@a:hs"), true); found != "element present" {
		t.Errorf("found %q", found)
	}
}
