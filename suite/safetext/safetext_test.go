package safetext

import "testing"

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain text\n\twith layout":                     "plain text\n\twith layout",
		"\x1b[2K\r\x1b[32mVERDICT: PASS\x1b[0m":         `\x1b[2K\x0d\x1b[32mVERDICT: PASS\x1b[0m`,
		"back\bspace and bell\a and DEL\x7f":            `back\x08space and bell\x07 and DEL\x7f`,
		"C1 CSI \u009b31m":                              `C1 CSI \u009b31m`,
		"bidi \u202eSSAP\u202c":                         `bidi \u202eSSAP\u202c`,
		"not UTF-8 \xff\xfe, but é and \uFFFD are fine": `not UTF-8 \xff\xfe, but é and ` + "\uFFFD" + ` are fine`,
	} {
		got := Escape(in)
		if got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
		if again := Escape(got); again != got {
			t.Errorf("escaping %q twice gave %q", in, again)
		}
	}
}
