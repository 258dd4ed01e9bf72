package sqlite

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// The catalog's hand-written matchers answer as the regexps they replaced
// (regexp is not in the core), on chosen and random texts.
func TestMatchersAsRegexps(t *testing.T) {
	fts := regexp.MustCompile(`(?is)^\s*create\s+virtual\s+table.*\busing\s+fts5\b`)
	content := regexp.MustCompile(`(?is)\bcontent\s*=\s*('(?:[^']|'')*'|"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_]*)`)
	length := regexp.MustCompile(`(?i)^\s*(?:n?var)?char(?:acter)?\s*(?:varying\s*)?\(\s*(\d+)\s*\)|^\s*(?:varying|native)\s+character\s*\(\s*(\d+)\s*\)`)
	instead := regexp.MustCompile(`(?is)\bINSTEAD\s+OF\s+(INSERT|UPDATE|DELETE)\b`)
	begin := regexp.MustCompile(`(?i)\bBEGIN\b`)
	inputs := []string{
		`CREATE VIRTUAL TABLE f USING fts5(a, content='t', content_rowid='id')`, `create virtual table f using FTS5 (x)`,
		`CREATE VIRTUAL TABLE "x" USING fts4(a)`, `  CREATE  VIRTUAL	TABLE t USING fts5`, `CREATE TABLE t (usingfts5)`,
		`CREATE VIRTUAL TABLE f USING fts5(a, content="it""s")`, `... content = 'a''b' ...`, `content=x_1`, `xcontent=a`, `content='open`,
		`VARCHAR(20)`, ` nvarchar ( 5 )`, `CHARACTER VARYING(30)`, `varying character(4)`, `NATIVE CHARACTER (7)`, `nchar(5)`, `char(x)`,
		`CHARACTER(12) extra`, `varchar`, `text`, `VARCHAR(20`,
		`CREATE TRIGGER t INSTEAD OF UPDATE ON v BEGIN SELECT 1; END`, `CREATE TRIGGER "begin" instead of  delete ON v BEGIN END`,
		`CREATE TRIGGER t INSTEAD OF INSERTS ON v`, `xinstead of insert`, `BEGINx BEGIN`,
	}
	r := rand.New(rand.NewSource(4))
	words := []string{"create", "virtual", "table", "using", "fts5", "content", "=", "'", "\"", "a", "_", "(", ")", "5", " ", "\t", "\n",
		"var", "n", "char", "acter", "varying", "native", "instead", "of", "insert", "update", "delete", "begin", "x", "''"}
	for i := 0; i < 100000; i++ {
		var b strings.Builder
		for j := r.Intn(9); j > 0; j-- {
			b.WriteString(words[r.Intn(len(words))])
			if r.Intn(3) == 0 {
				b.WriteByte(' ')
			}
		}
		inputs = append(inputs, b.String())
	}
	for _, s := range inputs {
		if got, want := isFTS5(s), fts.MatchString(s); got != want {
			t.Errorf("isFTS5(%q) = %v, the regexp says %v", s, got, want)
		}
		got, ok := ftsContent(s)
		if m := content.FindStringSubmatch(s); (m != nil) != ok || ok && m[1] != got {
			t.Errorf("ftsContent(%q) = %q %v, the regexp %q", s, got, ok, m)
		}
		got, ok = maxLength(s)
		if m := length.FindStringSubmatch(s); (m != nil) != ok || ok && m[1]+m[2] != got {
			t.Errorf("maxLength(%q) = %q %v, the regexp %q", s, got, ok, m)
		}
		head := s
		if i := begin.FindStringIndex(s); i != nil {
			head = s[:i[0]]
		}
		if got := triggerHead(s); got != head {
			t.Errorf("triggerHead(%q) = %q, the regexp %q", s, got, head)
		}
		got, ok = insteadOf(head)
		if m := instead.FindStringSubmatch(head); (m != nil) != ok || ok && strings.ToLower(m[1]) != got {
			t.Errorf("insteadOf(%q) = %q %v, the regexp %q", head, got, ok, m)
		}
	}
}
