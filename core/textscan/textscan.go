// Package textscan holds the few text matchers the stores' catalog code
// needs, written by hand: regexp (with regexp/syntax and the unicode tables
// it pulls in) is not linked into core.wasm, for its size, whose budget is
// 2 MiB gzipped. Each user of these keeps the regexp it replaced in its
// tests, as the judge of a random and a chosen corpus, so the behaviour is
// the regexp's to the letter (ASCII word boundaries, Go's \s, leftmost
// first).
package textscan

// IsWord is regexp's \w: an ASCII letter, digit or _.
func IsWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// IsSpace is regexp's \s: tab, newline, form feed, carriage return, space.
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// Boundary is regexp's \b at i: a word character on one side only.
func Boundary(s string, i int) bool {
	before := i > 0 && IsWord(s[i-1])
	after := i < len(s) && IsWord(s[i])
	return before != after
}

// Spaces is the end of a run of \s from i (\s*).
func Spaces(s string, i int) int {
	for i < len(s) && IsSpace(s[i]) {
		i++
	}
	return i
}

// Lit reports whether lit is at i (ASCII case-insensitively when fold),
// and where it ends.
func Lit(s string, i int, lit string, fold bool) (int, bool) {
	if i < 0 || len(s)-i < len(lit) {
		return i, false
	}
	for k := 0; k < len(lit); k++ {
		a, b := s[i+k], lit[k]
		if a != b && !(fold && lower(a) == lower(b)) {
			return i, false
		}
	}
	return i + len(lit), true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Word reports whether the word w (ASCII case-insensitively) stands at i
// between boundaries (\bw\b), and where it ends.
func Word(s string, i int, w string) (int, bool) {
	if !Boundary(s, i) {
		return i, false
	}
	j, ok := Lit(s, i, w, true)
	if !ok || !Boundary(s, j) {
		return i, false
	}
	return j, true
}

// Ident is the end of [A-Za-z_][A-Za-z0-9_]* at i, or i when none starts there.
func Ident(s string, i int) int {
	if i >= len(s) || !(IsWord(s[i]) && !(s[i] >= '0' && s[i] <= '9')) {
		return i
	}
	for i++; i < len(s) && IsWord(s[i]); i++ {
	}
	return i
}

// Quoted is the end of a quoted run at i as regexp reads q(?:[^q]|qq)*q
// (with + for nonEmpty): the quote that closes it, or, when none does, the
// first quote of the last doubled pair (where the regexp backs off to);
// ok false when there is no such run.
func Quoted(s string, i int, q byte, nonEmpty bool) (int, bool) {
	if i >= len(s) || s[i] != q {
		return i, false
	}
	min := i + 1 // the earliest closing quote the pattern allows
	if nonEmpty {
		min = i + 2
	}
	last := -1 // the first quote of the last doubled pair
	for j := i + 1; j < len(s); {
		switch {
		case s[j] != q:
			j++
		case j+1 < len(s) && s[j+1] == q:
			last = j
			j += 2
		default:
			if j >= min {
				return j + 1, true
			}
			if last >= min {
				return last + 1, true
			}
			return i, false
		}
	}
	if last >= min {
		return last + 1, true
	}
	return i, false
}

// Digits is the end of a run of ASCII digits at i (at least one: ok).
func Digits(s string, i int) (int, bool) {
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return j, j > i
}
