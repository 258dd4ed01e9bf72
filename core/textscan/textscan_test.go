package textscan

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// Quoted and Word answer as the regexps they stand for.
func TestAsRegexps(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	one := regexp.MustCompile(`^'(?:[^']|'')*'`)
	plus := regexp.MustCompile(`^"(?:[^"]|"")+"`)
	word := regexp.MustCompile(`(?i)^\bvalue\b`)
	for n := 0; n < 100000; n++ {
		var b strings.Builder
		for j := r.Intn(10); j > 0; j-- {
			b.WriteByte("'\"ax vVALUE_"[r.Intn(12)])
		}
		s := b.String()
		for _, c := range []struct {
			re       *regexp.Regexp
			q        byte
			nonEmpty bool
		}{{one, '\'', false}, {plus, '"', true}} {
			end, ok := Quoted(s, 0, c.q, c.nonEmpty)
			m := c.re.FindStringIndex(s)
			if ok != (m != nil) || ok && end != m[1] {
				t.Fatalf("Quoted(%q, %q) = %d %v; the regexp %v", s, c.q, end, ok, m)
			}
		}
		for i := 0; i <= len(s); i++ {
			end, ok := Word(s, i, "value")
			m := word.FindStringIndex(s[i:])
			// \b at i looks at s[i-1] too: only compare where i is 0.
			if i == 0 && (ok != (m != nil) || ok && end != m[1]) {
				t.Fatalf("Word(%q) = %d %v; the regexp %v", s, end, ok, m)
			}
		}
	}
}
