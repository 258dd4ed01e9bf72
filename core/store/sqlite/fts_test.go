package sqlite

import "testing"

// A search box's text never reaches FTS5 as syntax.
func TestFTSQuery(t *testing.T) {
	for in, want := range map[string]string{
		"hello": `"hello"*`, "a b": `"a" "b"*`, `x" OR 1`: `"x""" "OR" "1"*`, "NEAR(": `"NEAR("*`,
	} {
		if got := ftsQuery(in); got != want {
			t.Errorf("ftsQuery(%q) = %q, want %q", in, got, want)
		}
	}
}
