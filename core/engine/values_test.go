package engine

import "testing"

func TestEncodeComponent(t *testing.T) {
	// Expected values are what JavaScript's encodeURIComponent returns.
	for in, want := range map[string]string{
		"abc": "abc", "a b": "a%20b", "a/b": "a%2Fb", "a,b": "a%2Cb", "-_.!~*'()": "-_.!~*'()",
		"<script>": "%3Cscript%3E", "🎉": "%F0%9F%8E%89", "שם": "%D7%A9%D7%9D", "a%b": "a%25b", `"q"`: "%22q%22",
		"?#&=+": "%3F%23%26%3D%2B",
	} {
		if got := EncodeComponent(in); got != want {
			t.Errorf("EncodeComponent(%q) = %q, want %q", in, got, want)
		}
		back, err := pathUnescape(EncodeComponent(in))
		if err != nil || back != in {
			t.Errorf("pathUnescape(EncodeComponent(%q)) = %q, %v", in, back, err)
		}
	}
	for _, bad := range []string{"%", "%2", "%zz"} {
		if _, err := pathUnescape(bad); err == nil {
			t.Errorf("pathUnescape(%q) accepted", bad)
		}
	}
}

func TestFTSQuery(t *testing.T) {
	for in, want := range map[string]string{
		"hello": `"hello"*`, "a b": `"a" "b"*`, `x" OR 1`: `"x""" "OR" "1"*`, "NEAR(": `"NEAR("*`,
	} {
		if got := ftsQuery(in); got != want {
			t.Errorf("ftsQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLikeEscape(t *testing.T) {
	if got := likeEscape(`50%_off\`); got != `50\%\_off\\` {
		t.Errorf("got %q", got)
	}
}
