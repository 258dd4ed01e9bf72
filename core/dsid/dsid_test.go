package dsid

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		seq  int64
		hash string
		ok   bool
	}{
		{"1-abc", 1, "abc", true}, {"12-fe377313af4e6116", 12, "fe377313af4e6116", true},
		{"", 0, "", false}, {"x-abc", 0, "", false}, {"1-", 0, "", false}, {"-1-a", 0, "", false}, {"abc", 0, "", false},
	} {
		seq, hash, ok := Parse(tc.in)
		if seq != tc.seq || hash != tc.hash || ok != tc.ok {
			t.Errorf("Parse(%q) = %d %q %v", tc.in, seq, hash, ok)
		}
		if ok && Format(seq, hash) != tc.in {
			t.Errorf("Format(Parse(%q)) = %q", tc.in, Format(seq, hash))
		}
	}
}
