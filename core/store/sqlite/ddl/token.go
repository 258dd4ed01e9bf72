package ddl

import "strings"

// tokKind classifies a token the way SQLite's tokenizer (sqlite3GetToken) does,
// coarsely: keywords and bare identifiers are both tWord.
type tokKind int

const (
	tEOF     tokKind = iota
	tWord            // bare identifier or keyword
	tQuoted          // "x", [x] or `x`
	tString          // 'x'
	tNumber          // 12, 1.5e3, .5, 0x1F, 1_000
	tBlob            // x'00ff'
	tVar             // ?1, :a, @a, $a, #a
	tOp              // punctuation and operators; text holds the operator
	tIllegal         // unterminated quote, stray character
)

type token struct {
	kind       tokKind
	text       string // the source text of the token
	start, end int    // byte offsets into the source
}

// is reports whether t is the bare keyword kw (ASCII case-insensitive).
func (t token) is(kw string) bool {
	return t.kind == tWord && strings.EqualFold(t.text, kw)
}

// isOp reports whether t is the operator op.
func (t token) isOp(op string) bool { return t.kind == tOp && t.text == op }

// isName reports whether t can stand for a name (SQLite's nm / ids: ID or STRING).
func (t token) isName() bool {
	return t.kind == tWord || t.kind == tQuoted || t.kind == tString
}

// name returns the unquoted name a token stands for.
func (t token) name() string {
	switch t.kind {
	case tQuoted, tString:
		return dequote(t.text)
	}
	return t.text
}

// dequote removes SQLite quoting: double quotes, backquotes and single quotes
// (each escaped by doubling it) and [brackets] (which have no escape).
// Like sqlite3Dequote it stops at the first unescaped closing quote.
func dequote(s string) string {
	if s == "" {
		return s
	}
	q := s[0]
	switch q {
	case '[':
		q = ']'
	case '"', '\'', '`':
	default:
		return s
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] == q {
			if q != ']' && i+1 < len(s) && s[i+1] == q {
				b.WriteByte(q)
				i++
				continue
			}
			break
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// isIDStart and isIDChar follow SQLite: letters, '_', any byte >= 0x80; digits and
// '$' may follow.
func isIDStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}
func isIDChar(c byte) bool { return isIDStart(c) || isDigit(c) || c == '$' }

// lex splits src into tokens, dropping whitespace and comments, and appends a tEOF.
func lex(src string) []token {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		kind := tOp
		switch {
		case isSpace(c):
			i++
			continue
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				i = len(src)
			} else {
				i += 2 + end + 2
			}
			continue
		case (c == 'x' || c == 'X') && i+1 < len(src) && src[i+1] == '\'':
			kind = tBlob
			j := i + 2
			for j < len(src) && isHex(src[j]) {
				j++
			}
			if j < len(src) && src[j] == '\'' && (j-i-2)%2 == 0 {
				i = j + 1
			} else {
				for j < len(src) && src[j] != '\'' {
					j++
				}
				if j < len(src) {
					j++
				}
				i = j
				kind = tIllegal
			}
		case isIDStart(c):
			kind = tWord
			for i < len(src) && isIDChar(src[i]) {
				i++
			}
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			kind = tNumber
			i = scanNumber(src, i)
			if i < len(src) && isIDChar(src[i]) {
				for i < len(src) && isIDChar(src[i]) {
					i++
				}
				kind = tIllegal
			}
		case c == '"' || c == '\'' || c == '`':
			kind = tQuoted
			if c == '\'' {
				kind = tString
			}
			j := i + 1
			for {
				if j >= len(src) {
					kind = tIllegal
					break
				}
				if src[j] == c {
					if j+1 < len(src) && src[j+1] == c {
						j += 2
						continue
					}
					j++
					break
				}
				j++
			}
			i = j
		case c == '[':
			kind = tQuoted
			end := strings.IndexByte(src[i:], ']')
			if end < 0 {
				i = len(src)
				kind = tIllegal
			} else {
				i += end + 1
			}
		case c == '?':
			kind = tVar
			i++
			for i < len(src) && isDigit(src[i]) {
				i++
			}
		case c == ':' || c == '@' || c == '$' || c == '#':
			kind = tVar
			i++
			for i < len(src) && isIDChar(src[i]) {
				i++
			}
			if i == start+1 {
				kind = tIllegal
			}
		default:
			i += opLen(src[i:])
			if i == start {
				i++
				kind = tIllegal
			}
		}
		toks = append(toks, token{kind: kind, text: src[start:i], start: start, end: i})
	}
	return append(toks, token{kind: tEOF, start: len(src), end: len(src)})
}

// scanNumber returns the end of the numeric literal starting at i.
func scanNumber(src string, i int) int {
	if src[i] == '0' && i+2 < len(src) && (src[i+1] == 'x' || src[i+1] == 'X') && isHex(src[i+2]) {
		i += 2
		for i < len(src) && (isHex(src[i]) || src[i] == '_') {
			i++
		}
		return i
	}
	digits := func() {
		for i < len(src) && (isDigit(src[i]) || src[i] == '_') {
			i++
		}
	}
	digits()
	if i < len(src) && src[i] == '.' {
		i++
		digits()
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			i = j
			digits()
		}
	}
	return i
}

// opLen returns the length of the operator at the start of s, 0 if none.
func opLen(s string) int {
	for _, op := range []string{"->>", "->", "||", "<=", ">=", "<>", "<<", ">>", "==", "!="} {
		if strings.HasPrefix(s, op) {
			return len(op)
		}
	}
	if strings.ContainsRune("(),;+-*/%=<>|&~.", rune(s[0])) {
		return 1
	}
	return 0
}
