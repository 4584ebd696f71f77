// Package safetext makes text that came from the server under test safe to
// print on a terminal or in a Markdown page: a server's error body or
// status message holding escape sequences could otherwise move the cursor,
// erase lines and paint a verdict of its own ("VERDICT: PASS" in green)
// over the suite's.
package safetext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape writes every control character but newline and tab as a Go
// escape: C0 and C1 controls (ESC, carriage return, backspace...), DEL,
// the Unicode bidirectional controls that reorder what a reader sees, and
// bytes that are not UTF-8. Text without them comes back unchanged, and
// escaping twice changes nothing more.
func Escape(s string) string {
	i := unsafeIndex(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafe(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafeIndex is the byte offset of the first rune Escape changes, or -1.
func unsafeIndex(s string) int {
	for i, r := range s {
		if unsafe(r) || r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return i
		}
	}
	return -1
}

func unsafe(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || 0x80 <= r && r <= 0x9f:
		return true
	case r == 0x061c || r == 0x200e || r == 0x200f || 0x202a <= r && r <= 0x202e || 0x2066 <= r && r <= 0x2069:
		return true
	}
	return false
}
