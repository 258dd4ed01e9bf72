// Package jsonw appends JSON text the way encoding/json writes it, without
// reflection. The core's answers and the SQL messages of the protocol are
// written on every request, and inside the wasm core encoding/json's
// reflection (and its re-compacting of every MarshalJSON result) was the
// biggest single cost. Golden files compare bytes, so the output must be
// encoding/json's exactly; the tests check that.
package jsonw

import (
	"math"
	"strconv"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// plain[c] is true for the ASCII bytes a JSON string holds as they are;
// plainHTML also excludes <, > and &. One load per byte instead of a chain
// of comparisons: this loop writes every string of every answer.
var plain, plainHTML [utf8.RuneSelf]bool

func init() {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		plain[c] = c != '"' && c != '\\'
		plainHTML[c] = plain[c] && c != '<' && c != '>' && c != '&'
	}
}

// String appends s as a JSON string, as encoding/json does: control
// characters escaped (\b \f \n \r \t or \u00XX), invalid UTF-8 replaced by
// \ufffd, U+2028 and U+2029 escaped, and, when html is set (json.Marshal's
// default), <, > and & as \u003c, \u003e and \u0026.
func String(dst []byte, s string, html bool) []byte {
	dst = append(dst, '"')
	safe := &plain
	if html {
		safe = &plainHTML
	}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Float appends f as encoding/json writes a float64; ok is false for NaN and
// the infinities, which JSON cannot hold (encoding/json refuses them).
func Float(dst []byte, f float64) (_ []byte, ok bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as encoding/json (and ES6) write it
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}
