package config

import "strconv"

// Addresses of trusted proxies, read by hand: net/netip's parsers added
// about 11 KB to core.wasm gzipped (measured) for what is a few comparisons
// (proxies_test.go holds net/netip as the judge).

// prefix is an address (IPv4 as IPv4-mapped IPv6) and how many of its
// leading bits a match must share.
type prefix struct {
	addr [16]byte
	bits int
}

// contains: a is in p, each of one family: an IPv4 address (mapped or
// not) is only ever in an IPv4 prefix (::/0 is every IPv6 address, not
// every address), as net/netip has it once addresses are unmapped.
func (p prefix) contains(a [16]byte) bool {
	if (isV4(p.addr) && p.bits >= 96) != isV4(a) {
		return false
	}
	for i := 0; i < p.bits; i++ {
		if (p.addr[i/8]^a[i/8])&(0x80>>(i%8)) != 0 {
			return false
		}
	}
	return true
}

// parsePrefix reads "ADDR" or "ADDR/BITS" (bits of the address as written:
// up to 32 for IPv4, 128 for IPv6).
func parsePrefix(s string) (prefix, bool) {
	addrText, bitsText, hasBits := cut(s, '/')
	a, v4, ok := parseAddr(addrText)
	if !ok {
		return prefix{}, false
	}
	width := 128
	if v4 {
		width = 32
	}
	bits := width
	if hasBits {
		n, err := strconv.Atoi(bitsText)
		if err != nil || n < 0 || n > width || bitsText != strconv.Itoa(n) {
			return prefix{}, false
		}
		bits = n
	}
	if v4 {
		bits += 96
	}
	return prefix{addr: a, bits: bits}, true
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// parseAddr reads a dotted IPv4 address or an IPv6 one (with "::" and an
// IPv4 tail; no zone), as 16 bytes, IPv4 mapped (::ffff:a.b.c.d).
func parseAddr(s string) (a [16]byte, v4, ok bool) {
	if b, ok := parseV4(s); ok {
		copy(a[:], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})
		copy(a[12:], b[:])
		return a, true, true
	}
	var groups []uint16
	gap := -1
	rest := s
	if len(rest) >= 2 && rest[:2] == "::" {
		gap, rest = 0, rest[2:]
	}
	for rest != "" {
		part, tail, more := cut(rest, ':')
		if b, ok := parseV4(part); ok && !more {
			groups = append(groups, uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3]))
			rest = ""
			break
		}
		if part == "" || len(part) > 4 {
			return a, false, false
		}
		n, err := strconv.ParseUint(part, 16, 16)
		if err != nil {
			return a, false, false
		}
		groups = append(groups, uint16(n))
		rest = tail
		if more && rest == "" {
			return a, false, false // a trailing single ':'
		}
		if more && len(rest) > 0 && rest[0] == ':' {
			if gap >= 0 {
				return a, false, false // a second "::"
			}
			gap, rest = len(groups), rest[1:]
		}
	}
	if gap < 0 && len(groups) != 8 || gap >= 0 && len(groups) > 7 {
		return a, false, false
	}
	out := make([]uint16, 0, 8)
	if gap < 0 {
		out = groups
	} else {
		out = append(out, groups[:gap]...)
		for len(out)+len(groups)-gap < 8 {
			out = append(out, 0)
		}
		out = append(out, groups[gap:]...)
	}
	for i, g := range out {
		a[2*i], a[2*i+1] = byte(g>>8), byte(g)
	}
	return a, false, true
}

func parseV4(s string) (b [4]byte, ok bool) {
	for i := 0; i < 4; i++ {
		part := s
		if i < 3 {
			var more bool
			part, s, more = cut(s, '.')
			if !more {
				return b, false
			}
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 || n > 255 || part != strconv.Itoa(n) {
			return b, false
		}
		b[i] = byte(n)
	}
	return b, true
}

var mapped = [12]byte{10: 0xff, 11: 0xff}

// isV4: a is an IPv4 address (IPv4-mapped IPv6).
func isV4(a [16]byte) bool { return [12]byte(a[:12]) == mapped }
