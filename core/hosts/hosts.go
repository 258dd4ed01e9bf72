// Package hosts reads Host header values: which names a browser sends for an
// http(s) URL, and the loopback ones (DNS rebinding guard, CONTRACT "Browser
// safety"). It is shared by the engine, which refuses other hosts, and the
// command line, which checks --allowed-host before anything is opened.
package hosts

import "strings"

// Loopback are the names a browser uses for this machine; a page of
// another site can make its own name resolve to 127.0.0.1 (DNS rebinding),
// but it cannot make the browser send one of these as Host.
var Loopback = []string{"localhost", "127.0.0.1", "[::1]"}

// Split splits a Host header value into its name (lower-cased; an IPv6
// literal keeps its brackets) and port. ok is false for anything a browser
// would not send for an http(s) URL: empty, a list, spaces, an unbracketed
// IPv6 address, a port that is not 1 to 5 digits, a trailing dot.
func Split(h string) (name, port string, ok bool) {
	if h == "" || len(h) > 255 {
		return "", "", false
	}
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 2 {
			return "", "", false
		}
		name, rest := h[:end+1], h[end+1:]
		for _, r := range name[1:end] {
			if !(r == ':' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				return "", "", false
			}
		}
		if rest != "" {
			p, found := strings.CutPrefix(rest, ":")
			if !found || !validPort(p) {
				return "", "", false
			}
			port = p
		}
		return strings.ToLower(name), port, true
	}
	name = h
	if i := strings.IndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i+1:]
		if !validPort(port) {
			return "", "", false
		}
	}
	if name == "" || name[len(name)-1] == '.' || name[0] == '.' {
		return "", "", false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if !(b == '-' || b == '.' || b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z') {
			return "", "", false
		}
	}
	return strings.ToLower(name), port, true
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// Check says why an --allowed-host value (or the listen address)
// cannot be a Host name, or "" when it can.
func Check(h string) string {
	if _, _, ok := Split(h); !ok {
		return "not a host name (NAME, NAME:PORT, an IPv4 address or a bracketed IPv6 address, without a scheme or path)"
	}
	return ""
}
