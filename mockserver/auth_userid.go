package mockserver

import "strings"

// Matrix user IDs are "@" localpart ":" server_name, at most 255 bytes.
//
// Two localpart grammars matter. IDs a client names (in a path or a list
// body) follow the historical one, which servers must still accept: any
// printable ASCII but ":". Localparts this server hands out follow the
// strict one: a-z, 0-9 and ._=-/ only.

const maxUserIDLength = 255

// splitUserID splits a user ID under the historical grammar. The localpart
// holds no ":", so the first ":" ends it; the rest is the server name, which
// may hold more (a port, an IPv6 literal).
func splitUserID(id string) (localpart, serverName string, ok bool) {
	if len(id) > maxUserIDLength || len(id) < 2 || id[0] != '@' {
		return "", "", false
	}
	localpart, serverName, found := strings.Cut(id[1:], ":")
	if !found || !validHistoricalLocalpart(localpart) || !validServerName(serverName) {
		return "", "", false
	}
	return localpart, serverName, true
}

func validUserID(id string) bool {
	_, _, ok := splitUserID(id)
	return ok
}

func validHistoricalLocalpart(localpart string) bool {
	if localpart == "" {
		return false
	}
	for i := 0; i < len(localpart); i++ {
		if c := localpart[i]; c < 0x21 || c > 0x7e || c == ':' {
			return false
		}
	}
	return true
}

func validNewLocalpart(localpart string) bool {
	if localpart == "" {
		return false
	}
	for i := 0; i < len(localpart); i++ {
		c := localpart[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("._=-/", c) >= 0) {
			return false
		}
	}
	return true
}

// validServerName follows the spec's grammar: a DNS name, an IPv4 address
// or a bracketed IPv6 literal, then an optional port of 1 to 5 digits. The
// grammar is deliberately loose (it does not range-check octets or ports),
// and so is this.
func validServerName(name string) bool {
	host, port := name, ""
	if strings.HasPrefix(name, "[") {
		end := strings.IndexByte(name, ']')
		if end < 0 {
			return false
		}
		host, port = name[:end+1], name[end+1:]
		if !validIPv6Literal(host[1:end]) {
			return false
		}
	} else {
		if i := strings.IndexByte(name, ':'); i >= 0 {
			host, port = name[:i], name[i:]
		}
		if !validDNSName(host) {
			return false // an IPv4 address is a DNS name as far as the grammar goes
		}
	}
	if port == "" {
		return true
	}
	digits := port[1:]
	if port[0] != ':' || len(digits) < 1 || len(digits) > 5 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

func validDNSName(host string) bool {
	if host == "" || len(host) > 255 {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func validIPv6Literal(addr string) bool {
	if len(addr) < 2 || len(addr) > 45 {
		return false
	}
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}
