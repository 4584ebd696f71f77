package mockserver

import (
	"strings"
	"testing"
)

func TestUserIDGrammar(t *testing.T) {
	long := "@" + strings.Repeat("a", maxUserIDLength-len("@:localhost")) + ":localhost"
	tests := []struct {
		id        string
		valid     bool
		localpart string
		server    string
	}{
		{"@alice:localhost", true, "alice", "localhost"},
		{"@alice:example.com:8448", true, "alice", "example.com:8448"},
		{"@alice:1.2.3.4", true, "alice", "1.2.3.4"},
		{"@alice:1.2.3.4:5", true, "alice", "1.2.3.4:5"},
		{"@alice:[::1]", true, "alice", "[::1]"},
		{"@alice:[2001:db8::1]:8448", true, "alice", "[2001:db8::1]:8448"},
		{"@alice:[::ffff:1.2.3.4]", true, "alice", "[::ffff:1.2.3.4]"},
		{"@Alice!#$%&'*+,;<=>?@[]^`{|}~:EXAMPLE-1.com", true, "Alice!#$%&'*+,;<=>?@[]^`{|}~", "EXAMPLE-1.com"}, // historical localparts
		{"@a/b:localhost", true, "a/b", "localhost"},
		{"@@:x", true, "@", "x"},
		{long, true, long[1:strings.IndexByte(long, ':')], "localhost"},

		{"", false, "", ""},
		{"@", false, "", ""},
		{"alice:localhost", false, "", ""},
		{"#alice:localhost", false, "", ""},
		{"@:localhost", false, "", ""},
		{"@alice", false, "", ""},
		{"@alice:", false, "", ""},
		{"@al ice:localhost", false, "", ""},
		{"@al\x7fice:localhost", false, "", ""},
		{"@al\x00ice:localhost", false, "", ""},
		{"@alicé:localhost", false, "", ""},
		{"@alice:local_host", false, "", ""},
		{"@alice:local host", false, "", ""},
		{"@alice:localhost:", false, "", ""},
		{"@alice:localhost:123456", false, "", ""},
		{"@alice:localhost:12a", false, "", ""},
		{"@alice:localhost:8448:1", false, "", ""},
		{"@alice:[::1", false, "", ""},
		{"@alice:[]", false, "", ""},
		{"@alice:[:]", false, "", ""},
		{"@alice:[::g]", false, "", ""},
		{"@alice:[::1]x", false, "", ""},
		{"@alice:[" + strings.Repeat("1", 46) + "]", false, "", ""},
		{long[:1] + "a" + long[1:], false, "", ""}, // 256 bytes
	}
	for _, tt := range tests {
		lp, server, ok := splitUserID(tt.id)
		if ok != tt.valid || lp != tt.localpart || server != tt.server {
			t.Errorf("splitUserID(%q) = %q, %q, %v; want %q, %q, %v", tt.id, lp, server, ok, tt.localpart, tt.server, tt.valid)
		}
		if validUserID(tt.id) != tt.valid {
			t.Errorf("validUserID(%q) = %v, want %v", tt.id, !tt.valid, tt.valid)
		}
	}
}

func TestNewLocalpartGrammar(t *testing.T) {
	for _, lp := range []string{"alice", "a.b_c=d-e/f", "0", "x9"} {
		if !validNewLocalpart(lp) {
			t.Errorf("validNewLocalpart(%q) = false, want true", lp)
		}
	}
	for _, lp := range []string{"", "Alice", "al ice", "a:b", "a+b", "é", "a@b", "a!"} {
		if validNewLocalpart(lp) {
			t.Errorf("validNewLocalpart(%q) = true, want false", lp)
		}
	}
}
