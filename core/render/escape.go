package render

import (
	"strconv"
	"strings"
)

// The pages used to be html/template templates. They are written out by hand
// because html/template calls methods through reflection, which makes the Go
// linker keep every exported method of every reachable type: it was more than
// a quarter of core.wasm. The escaping below is html/template's, byte for
// byte, so pages did not change (TestEscapersMatchHTMLTemplate holds it to
// that): values in element text, in <title> and <textarea>, and in quoted
// attribute values all went through its one replacement table, and values
// that start a URL attribute (href, src, action) through its URL filter and
// normaliser first.

// writer builds a page. Every value goes through text, url or an integer
// method; only literals of the page itself go through raw.
type writer struct{ b []byte }

func newWriter(size int) *writer { return &writer{b: make([]byte, 0, size)} }

// raw is not inlined: the pages call it hundreds of times, and an inlined
// append at each call made them several times bigger in core.wasm.
//
//go:noinline
func (w *writer) raw(s string) { w.b = append(w.b, s...) }

// text escapes a value for element text, RCDATA (<title>, <textarea>) and
// quoted attribute values: html/template's htmlReplacementTable. Only ASCII
// bytes are replaced, so scanning bytes instead of runes gives the same
// output, invalid UTF-8 included (html/template passed it through).
//
// Not inlined, like raw: as a table lookup it became small enough to inline
// at its hundreds of call sites, which made core.wasm 240 KB bigger.
//
//go:noinline
func (w *writer) text(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		// A table, not a switch: in the wasm core this loop runs over every
		// byte of every page, and a lookup is one load instead of a chain
		// of comparisons.
		r := textEscapes[s[i]]
		if r == "" {
			continue
		}
		w.b = append(w.b, s[last:i]...)
		w.b = append(w.b, r...)
		last = i + 1
	}
	w.b = append(w.b, s[last:]...)
}

// textEscapes: html/template's htmlReplacementTable, by byte.
var textEscapes = [256]string{
	0:    "\uFFFD", // what an HTML parser makes of a NUL anyway
	'"':  "&#34;",
	'&':  "&amp;",
	'\'': "&#39;",
	'+':  "&#43;", // html/template's choice, kept so pages stay byte-identical
	'<':  "&lt;",
	'>':  "&gt;",
}

// unsafeURL replaces a URL whose scheme could run script (javascript:,
// data:, vbscript:, ...): html/template's filterFailsafe.
const unsafeURL = "#ZgotmplZ"

// url writes a value that starts a URL attribute (href, src, action), as
// html/template did: a scheme other than http, https or mailto is refused;
// every byte that is not a URL character is percent-encoded (lower-case hex,
// a valid %XX escape is kept); then & and + are escaped for the attribute.
func (w *writer) url(s string) {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") &&
		!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "mailto") {
		s = unsafeURL
	}
	const hex = "0123456789abcdef"
	last := 0 // runs of bytes kept as they are are copied at once
	for i := 0; i < len(s); i++ {
		c := s[i]
		if urlKept[c] || c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			continue
		}
		w.b = append(w.b, s[last:i]...)
		switch c {
		case '&':
			w.b = append(w.b, "&amp;"...)
		case '+':
			w.b = append(w.b, "&#43;"...)
		default:
			w.b = append(w.b, '%', hex[c>>4], hex[c&15])
		}
		last = i + 1
	}
	w.b = append(w.b, s[last:]...)
}

// urlKept: the bytes url writes as they are (urlByte's, by byte).
var urlKept = func() (t [256]bool) {
	for c := range 256 {
		t[c] = urlByte(byte(c))
	}
	return t
}()

// urlByte reports whether html/template's URL normaliser keeps c as it is:
// RFC 3986 unreserved characters and reserved ones but the quote and
// parentheses (other than & and +, which url escapes for the attribute).
func urlByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!#$*,/:;=?@[]", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func (w *writer) int(n int64) { w.b = strconv.AppendInt(w.b, n, 10) }
