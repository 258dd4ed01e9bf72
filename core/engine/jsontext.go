package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// jsonTextProblem finds what encoding/json would accept but change without a
// word: a \u escape of half a surrogate pair (decoded as U+FFFD, so the
// stored text would differ from what was sent) and a member name given twice
// in the top-level object (the first value would be dropped). Either is a
// 400: nothing the client sent may be lost silently. It expects text that
// already decoded without error: that first, whole-body Decode is what
// applies encoding/json's nesting limit to the body as a whole (decoding
// member by member here would reset it for each value), so the names are
// checked in a second pass over the tokens, which builds nothing.
func jsonTextProblem(body []byte) string {
	if p := loneSurrogate(body); p >= 0 {
		return fmt.Sprintf("the body has half a UTF-16 surrogate pair (\\u escape at byte %d), which is not text", p)
	}
	if name, ok := duplicateName(body); ok {
		return "the body names " + strconv.Quote(name) + " twice"
	}
	return ""
}

// loneSurrogate returns the offset of the first \uD800-\uDFFF escape that is
// not a high surrogate followed at once by a low one, or -1.
func loneSurrogate(b []byte) int {
	if !bytes.Contains(b, []byte(`\u`)) {
		return -1
	}
	inString := false
	for i := 0; i < len(b); i++ {
		switch {
		case !inString:
			inString = b[i] == '"'
		case b[i] == '"':
			inString = false
		case b[i] == '\\' && i+1 < len(b):
			if b[i+1] != 'u' {
				i++ // an escaped quote or backslash is one character
				continue
			}
			r, ok := hex4(b, i+2)
			if !ok {
				return i
			}
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return i
			case r >= 0xD800 && r <= 0xDBFF:
				lo, ok := hex4(b, i+8)
				if !ok || b[i+6] != '\\' || b[i+7] != 'u' || lo < 0xDC00 || lo > 0xDFFF {
					return i
				}
				i += 11
			default:
				i += 5
			}
		}
	}
	return -1
}

// hex4 reads four hex digits at b[at:].
func hex4(b []byte, at int) (rune, bool) {
	if at < 0 || at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 16)
	return rune(n), err == nil
}

// duplicateName reports a member name that appears twice in the top-level
// object (nested objects cannot reach a column, so only the top level counts).
func duplicateName(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", false
		}
		name, _ := t.(string)
		if seen[name] {
			return name, true
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
}
