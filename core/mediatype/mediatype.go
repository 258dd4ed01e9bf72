// Package mediatype reads a Content-Type or Content-Disposition value: the
// type in lower case and its parameters (RFC 2045 and 7231, with RFC 2231's
// charset-marked and continued values, as browsers and mail clients send a
// file's name).
//
// It answers as the standard library's mime.ParseMediaType does (held to it
// by a table test and a differential fuzz target), so what a request means
// does not change with the package that reads it. It exists because the
// mime package costs the wasm core about 27 KB gzipped (its type tables and
// file loading, which the core never uses), in a module with a 2 MiB budget.
package mediatype

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
)

var (
	// ErrInvalidParameter is a parameter that does not parse; the type is
	// answered with it.
	ErrInvalidParameter = errors.New("mediatype: invalid media parameter")
	errNoType           = errors.New("mediatype: no media type")
	errNoSlash          = errors.New("mediatype: expected slash after first token")
	errNoSubtype        = errors.New("mediatype: expected token after slash")
	errAfterSubtype     = errors.New("mediatype: unexpected content after media subtype")
	errDuplicate        = errors.New("mediatype: duplicate parameter name")
)

// Parse reads v: its type (lower case, spaces trimmed), and its parameters
// (names in lower case). A bad type is an error with nothing else; bad
// parameters answer the type and ErrInvalidParameter.
func Parse(v string) (string, map[string]string, error) {
	base, _, _ := strings.Cut(v, ";")
	typ := strings.TrimSpace(strings.ToLower(base))
	if err := checkType(typ); err != nil {
		return "", nil, err
	}
	params := map[string]string{}
	// Parameters whose names hold a '*' (RFC 2231), by the name before it.
	var starred map[string]map[string]string
	rest := v[len(base):]
	for {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			break
		}
		key, value, after, ok := param(rest)
		if !ok {
			if strings.TrimSpace(rest) == ";" {
				break // a trailing semicolon is allowed
			}
			return typ, nil, ErrInvalidParameter
		}
		into := params
		if name, _, star := strings.Cut(key, "*"); star {
			if starred == nil {
				starred = map[string]map[string]string{}
			}
			if into = starred[name]; into == nil {
				into = map[string]string{}
				starred[name] = into
			}
		}
		// The same name twice is allowed only with the same value.
		if old, dup := into[key]; dup && old != value {
			return "", nil, errDuplicate
		}
		into[key] = value
		rest = after
	}
	for name, parts := range starred {
		if value, ok := joinStarred(name, parts); ok {
			params[name] = value
		}
	}
	return typ, params, nil
}

// joinStarred is one RFC 2231 parameter from its parts: "name*" (one
// charset-marked value) or "name*0", "name*1*", ... (continuations, the
// first of which may be charset-marked). ok is false when there is none to
// make.
func joinStarred(name string, parts map[string]string) (string, bool) {
	if v, one := parts[name+"*"]; one {
		return decodeMarked(v)
	}
	var b strings.Builder
	found := false
	for n := 0; ; n++ {
		key := name + "*" + strconv.Itoa(n)
		if v, plain := parts[key]; plain {
			found = true
			b.WriteString(v)
			continue
		}
		v, marked := parts[key+"*"]
		if !marked {
			break
		}
		found = true
		if n == 0 {
			if d, ok := decodeMarked(v); ok {
				b.WriteString(d)
			}
		} else {
			d, _ := unescapePercent(v)
			b.WriteString(d)
		}
	}
	return b.String(), found
}

// decodeMarked reads charset'language'percent-encoded-text; only UTF-8 and
// US-ASCII are read (the language is not kept).
func decodeMarked(v string) (string, bool) {
	charset, v, ok := strings.Cut(v, "'")
	if !ok {
		return "", false
	}
	if _, v, ok = strings.Cut(v, "'"); !ok {
		return "", false
	}
	if c := strings.ToLower(charset); c != "utf-8" && c != "us-ascii" {
		return "", false
	}
	return unescapePercent(v)
}

// unescapePercent decodes %XX; a '%' without two hex digits fails it.
func unescapePercent(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			out = append(out, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, lo := unhex(s[i+1]), unhex(s[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		out = append(out, byte(hi<<4|lo))
		i += 2
	}
	return string(out), true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// checkType: a token, or a token, '/' and a token.
func checkType(s string) error {
	typ, rest := token(s)
	if typ == "" {
		return errNoType
	}
	if rest == "" {
		return nil
	}
	rest, ok := strings.CutPrefix(rest, "/")
	if !ok {
		return errNoSlash
	}
	sub, rest := token(rest)
	if sub == "" {
		return errNoSubtype
	}
	if rest != "" {
		return errAfterSubtype
	}
	return nil
}

// param reads "; name = value" from the start of v; ok is false when it is
// not one.
func param(v string) (key, value, rest string, ok bool) {
	rest = strings.TrimLeftFunc(v, unicode.IsSpace)
	if rest, ok = strings.CutPrefix(rest, ";"); !ok {
		return "", "", v, false
	}
	key, rest = token(strings.TrimLeftFunc(rest, unicode.IsSpace))
	if key == "" {
		return "", "", v, false
	}
	key = strings.ToLower(key)
	if rest, ok = strings.CutPrefix(strings.TrimLeftFunc(rest, unicode.IsSpace), "="); !ok {
		return "", "", v, false
	}
	rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
	value, after := paramValue(rest)
	if value == "" && after == rest {
		return "", "", v, false
	}
	return key, value, after, true
}

// paramValue reads a token or a quoted string. In a quoted string a
// backslash escapes only a special character: before anything else it is
// itself (a full Windows path, sent unescaped by old browsers). A quoted
// string that does not end, or holds a line break, reads as nothing.
func paramValue(v string) (value, rest string) {
	if v == "" || v[0] != '"' {
		return token(v)
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			return b.String(), v[i+1:]
		case c == '\\' && i+1 < len(v) && special(v[i+1]):
			b.WriteByte(v[i+1])
			i++
		case c == '\r' || c == '\n':
			return "", v
		default:
			b.WriteByte(c)
		}
	}
	return "", v
}

// token reads RFC 2045's token: printable ASCII but space and specials.
func token(v string) (tok, rest string) {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || special(c) {
			return v[:i], v[i:]
		}
	}
	return v, ""
}

// special is RFC 2045's tspecials.
func special(c byte) bool {
	return strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0
}
