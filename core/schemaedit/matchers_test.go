package schemaedit

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// typeName answers as the regexp it replaced (regexp is not in the core).
func TestTypeNameAsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(?: ?\( ?[0-9]{1,9} ?(?:, ?-?[0-9]{1,9} ?)?\))?(?: [A-Za-z][A-Za-z0-9_]*(?: ?\( ?[0-9]{1,9} ?(?:, ?-?[0-9]{1,9} ?)?\))?){0,3}(?:\[\])?$`)
	inputs := []string{"", "INT", "VARCHAR(20)", "NUMERIC(10,2)", "NUMERIC( 10 , -2 )", "numeric (10,2)", "timestamp(3) with time zone",
		"double precision", "a b c d", "a b c d e", "text[]", "text[][]", "INT); DROP", "INT ", " INT", "INT(1234567890)", "INT(123456789)",
		"INT(5", "a_1 b2", "1a", "a  b", "a (5) b (6)", "a(5)(6)", "a -1", "a(1,)", "a(,1)", "a[", "a[]x"}
	r := rand.New(rand.NewSource(2))
	alphabet := "aZ_09 (),-[]x;"
	for i := 0; i < 50000; i++ {
		var b strings.Builder
		b.WriteByte("aZx"[r.Intn(3)])
		for j := r.Intn(16); j > 0; j-- {
			b.WriteByte(alphabet[r.Intn(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	for _, s := range inputs {
		if got, want := typeName(s), re.MatchString(s); got != want {
			t.Errorf("typeName(%q) = %v, the regexp says %v", s, got, want)
		}
	}
}
