package engine

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// The hand-written matchers that replaced regexps in the core (regexp is
// not linked into core.wasm, for its size) answer as those regexps did, on
// chosen and random strings.
func TestMatchersAsRegexps(t *testing.T) {
	name := regexp.MustCompile(`^[\p{L}\p{N}_][\p{L}\p{N}_.-]{0,63}$`)
	unsafe := regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	date := regexp.MustCompile(`^[0-9]{4}(-[0-9]{2}(-[0-9]{2}([T ][0-9:.]+Z?)?)?)?$`)
	oldFile := func(s, fallback string) string {
		if s := strings.Trim(unsafe.ReplaceAllString(s, "_"), "_."); s != "" {
			return s
		}
		return fallback
	}
	inputs := []string{"", "a", "_", ".a", "-a", "a.b-c_d", "Ünïcode", "٣٤", "a b", "a/b", "\xff", "a\xffb", "\uFFFD",
		strings.Repeat("x", 64), strings.Repeat("x", 65), strings.Repeat("é", 64), strings.Repeat("é", 65),
		"2024", "2024-03", "2024-03-05", "2024-03-05T10:00", "2024-03-05 10:00:00.5Z", "2024-03-05TZ", "2024-3-05", "20245",
		"2024-03-05T", "2024-03-05T10ZZ", "2024-03T10", "..__..", "a..b", "  x  ", "名前", "x\ny"}
	r := rand.New(rand.NewSource(1))
	alphabet := []rune("aZ09._- /:TZ\xffé٣名\n-")
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for j := r.Intn(12); j > 0; j-- {
			b.WriteRune(alphabet[r.Intn(len(alphabet))])
		}
		inputs = append(inputs, b.String(), "2024-0"+b.String(), "2024-03-05T"+b.String())
	}
	for _, s := range inputs {
		if got, want := queryName(s), name.MatchString(s); got != want {
			t.Errorf("queryName(%q) = %v, the regexp says %v", s, got, want)
		}
		if got, want := safeFileName(s, "f"), oldFile(s, "f"); got != want {
			t.Errorf("safeFileName(%q) = %q, the regexp gives %q", s, got, want)
		}
		if got, want := isoDate(s), date.MatchString(s); got != want {
			t.Errorf("isoDate(%q) = %v, the regexp says %v", s, got, want)
		}
	}
}
