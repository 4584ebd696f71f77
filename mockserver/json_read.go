package mockserver

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// The bodies this server reads are small objects whose members are strings
// or arrays of strings. encoding/json would read them through reflection,
// match keys case-insensitively (so "PRESENCE" would set presence) and read
// null as "absent". This reader does none of that: json.Valid settles
// whether the text is JSON, and the reader then walks text it knows to be
// valid, slicing out raw member values without allocating.

// isJSONText reports whether body is exactly one JSON value in UTF-8.
// encoding/json tolerates invalid UTF-8 inside strings; RFC 8259 does not.
func isJSONText(body []byte) bool { return utf8.Valid(body) && json.Valid(body) }

// objectReader yields the members of a JSON object in document order. Its
// input must have passed isJSONText.
type objectReader struct {
	data []byte
	pos  int
	done bool
}

// readObject starts on body; ok is false when the value is not an object.
func readObject(body []byte) (r objectReader, ok bool) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return objectReader{}, false
	}
	return objectReader{data: body, pos: i + 1}, true
}

// next returns the next member: its key still quoted and escaped, and its
// value as raw JSON text.
func (r *objectReader) next() (key, value []byte, ok bool) {
	if r.done {
		return nil, nil, false
	}
	i := skipSpace(r.data, r.pos)
	if r.data[i] == ',' {
		i = skipSpace(r.data, i+1)
	}
	if r.data[i] == '}' {
		r.done = true
		return nil, nil, false
	}
	keyEnd := endOfString(r.data, i)
	key = r.data[i:keyEnd]
	i = skipSpace(r.data, keyEnd) // at ':'
	i = skipSpace(r.data, i+1)
	valueEnd := endOfValue(r.data, i)
	r.pos = valueEnd
	return key, r.data[i:valueEnd], true
}

// keyIs reports whether a quoted key names name. Escapes are honoured
// ("pres\u0065nce" is presence) without allocating in the common case.
func keyIs(quoted []byte, name string) bool {
	inner := quoted[1 : len(quoted)-1]
	for _, c := range inner {
		if c == '\\' {
			return unquote(quoted) == name
		}
	}
	return string(inner) == name
}

// stringValue decodes a raw value that must be a JSON string.
func stringValue(raw []byte) (string, bool) {
	if raw[0] != '"' {
		return "", false
	}
	return unquote(raw), true
}

// stringArray decodes a raw value that must be an array of strings. When it
// is not, bad is the index of the first element that is not a string, or -1
// when the value is not an array at all.
func stringArray(raw []byte) (list []string, bad int, ok bool) {
	if raw[0] != '[' {
		return nil, -1, false
	}
	list = []string{} // present but empty is not absent
	i := skipSpace(raw, 1)
	for n := 0; raw[i] != ']'; n++ {
		end := endOfValue(raw, i)
		s, isString := stringValue(raw[i:end])
		if !isString {
			return nil, n, false
		}
		list = append(list, s)
		i = skipSpace(raw, end)
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return list, 0, true
}

// jsonType names the type of a raw value for error messages.
func jsonType(raw []byte) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// endOfString returns the index just past the string starting at data[i].
func endOfString(data []byte, i int) int {
	for j := i + 1; ; j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
}

// endOfValue returns the index just past the value starting at data[i].
func endOfValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return endOfString(data, i)
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch data[j] {
			case '"':
				j = endOfString(data, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	}
	j := i
	for j < len(data) {
		switch data[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// unquote decodes a valid JSON string literal, quotes included. A lone
// surrogate escape becomes U+FFFD, as encoding/json does.
func unquote(quoted []byte) string {
	inner := quoted[1 : len(quoted)-1]
	first := -1
	for i, c := range inner {
		if c == '\\' {
			first = i
			break
		}
	}
	if first < 0 {
		return string(inner)
	}
	out := make([]byte, first, len(inner))
	copy(out, inner)
	for i := first; i < len(inner); {
		c := inner[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch esc := inner[i+1]; esc {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(inner[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(inner) && inner[i] == '\\' && inner[i+1] == 'u' {
					r2 = hex4(inner[i+2 : i+6])
				}
				if combined := utf16.DecodeRune(r, r2); combined != utf8.RuneError {
					r = combined
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, esc)
		}
		i += 2
	}
	return string(out)
}

func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
