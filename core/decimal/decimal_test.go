package decimal

import (
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

// Every answer is held to math/big's, which this package replaces.
func TestAgainstBig(t *testing.T) {
	cases := []string{"0", "-0", "0.0", "1", "-1", "10", "100", "1e2", "1E+2", "1e-2", "0.01", "0.010", "00012.3400",
		"+5", "-0.5", "123456789012345678901234567890", "-9223372036854775808", "9223372036854775807",
		"9223372036854775808", "1.5e3", "2.0", "1e3", "1.0000000000000000001", "0.1", "0.30000000000000004",
		"5e-324", "1.7976931348623157e308", "0.00000000005", "0.00000000004999", "-0.00000000015", "9.99999999995",
		"123.45678901234567", "1e-11", "99.999999999951"}
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		cases = append(cases, strconv.FormatFloat(rnd.NormFloat64()*1e6, 'g', -1, 64),
			strconv.FormatInt(rnd.Int64N(1<<62)-1<<61, 10), strconv.FormatFloat(rnd.Float64(), 'e', rnd.IntN(20), 64))
	}
	rat := func(s string) *big.Rat {
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big: %s", s)
		}
		return r
	}
	for _, a := range cases {
		da, ok := Parse(a)
		if !ok {
			t.Fatalf("parse %q", a)
		}
		ra := rat(a)
		if da.IsInt() != ra.IsInt() {
			t.Errorf("%s IsInt %v", a, da.IsInt())
		}
		n, ok := da.Int64()
		if want := ra.IsInt() && ra.Num().IsInt64(); ok != want || ok && n != ra.Num().Int64() {
			t.Errorf("%s Int64 %d %v", a, n, ok)
		}
		if s, want := da.String(), ratString(ra); s != want {
			t.Errorf("%s String %s, want %s", a, s, want)
		}
		f, _ := ra.Float64()
		if da.Float64() != f {
			t.Errorf("%s Float64 %v, want %v", a, da.Float64(), f)
		}
		for _, b := range cases[:60] {
			if got, want := Cmp(da, must(b)), ra.Cmp(rat(b)); got != want {
				t.Errorf("Cmp(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
	for _, bad := range []string{"", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "0x10", "1/2", "Inf", "NaN", " 1", "1 ", "--1", "1e5.5"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	// A huge exponent is only an order.
	if Cmp(must("1e999999999999999"), must("9e999999999")) != 1 || Cmp(must("-1e-999999999999999"), must("0")) != -1 {
		t.Error("huge exponents")
	}
}

func must(s string) Dec {
	d, ok := Parse(s)
	if !ok {
		panic(s)
	}
	return d
}

// ratString is what the validator wrote with math/big.
func ratString(r *big.Rat) string {
	s := r.FloatString(10)
	for len(s) > 0 && s[len(s)-1] == '0' && containsDot(s) {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func containsDot(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return true
		}
	}
	return false
}
