// Package decimal is exact decimal numbers, as JSON spells them, compared
// without math/big: the validator's bounds and enums and the engine's
// "is this JSON number a whole int64" need only order, equality and
// whole-ness, and math/big cost the wasm core about 45 KB gzipped.
package decimal

import (
	"strconv"
	"strings"
)

// Dec is digits × 10^exp, negative when neg; digits has no leading or
// trailing zeros ("" is zero, never negative).
type Dec struct {
	neg    bool
	digits string
	exp    int
}

// maxExp bounds an exponent: past it a number's size is only its order,
// which every comparison here keeps (a JSON "1e999999999999" must not
// allocate or loop).
const maxExp = 1 << 30

// Parse reads a decimal number: an optional sign, digits with an optional
// fraction, an optional exponent. ok is false for anything else.
func Parse(s string) (d Dec, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		d.neg = s[i] == '-'
		i++
	}
	var b strings.Builder
	seen, frac := false, 0
	dot := false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			seen = true
			if b.Len() > 0 || c != '0' {
				b.WriteByte(c)
			}
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			goto exp
		}
	}
exp:
	if !seen {
		return Dec{}, false
	}
	e := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return Dec{}, false
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return Dec{}, false
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return Dec{}, false
			}
			if e < maxExp {
				e = e*10 + int(c-'0')
			}
		}
		if eneg {
			e = -e
		}
	}
	digits := b.String()
	// Leading zeros of a fraction were skipped above; each still moved
	// the point, which frac counts.
	trimmed := strings.TrimRight(digits, "0")
	d.digits = trimmed
	d.exp = e - frac + (len(digits) - len(trimmed))
	if d.digits == "" {
		d = Dec{}
	}
	return d, true
}

// FromInt is an integer.
func FromInt(n int64) Dec {
	d, _ := Parse(strconv.FormatInt(n, 10))
	return d
}

// FromFloat is the shortest decimal that prints f (what JSON carried).
func FromFloat(f float64) Dec {
	d, _ := Parse(strconv.FormatFloat(f, 'g', -1, 64))
	return d
}

// magnitude is the exponent of the leading digit plus one.
func (d Dec) magnitude() int { return len(d.digits) + d.exp }

// Cmp is -1, 0 or 1 as a is less than, equal to or more than b.
func Cmp(a, b Dec) int {
	switch {
	case a.digits == "" && b.digits == "":
		return 0
	case a.digits == "":
		if b.neg {
			return 1
		}
		return -1
	case b.digits == "":
		if a.neg {
			return -1
		}
		return 1
	case a.neg != b.neg:
		if a.neg {
			return -1
		}
		return 1
	}
	c := 0
	if ma, mb := a.magnitude(), b.magnitude(); ma != mb {
		c = 1
		if ma < mb {
			c = -1
		}
	} else {
		// Same magnitude: digit by digit; with no trailing zeros, the
		// longer of two equal prefixes is the larger.
		c = strings.Compare(a.digits, b.digits)
	}
	if a.neg {
		c = -c
	}
	return c
}

// IsInt says whether d is a whole number.
func (d Dec) IsInt() bool { return d.digits == "" || d.exp >= 0 }

// Int64 is d when it is a whole number an int64 holds.
func (d Dec) Int64() (int64, bool) {
	if !d.IsInt() || d.magnitude() > 19 {
		return 0, false
	}
	s := d.digits + strings.Repeat("0", max(d.exp, 0))
	if s == "" {
		return 0, true
	}
	if d.neg {
		s = "-" + s
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Float64 is the float64 nearest d.
func (d Dec) Float64() float64 {
	if d.digits == "" {
		return 0
	}
	s := d.digits + "e" + strconv.Itoa(d.exp)
	if d.neg {
		s = "-" + s
	}
	f, _ := strconv.ParseFloat(s, 64) // out of range: ±Inf, as a bound it compares so
	return f
}

// String writes d as a person would: fixed point, at most ten places
// (rounded half away from zero), no trailing zeros.
func (d Dec) String() string {
	if d.digits == "" {
		return "0"
	}
	digits, exp := d.digits, d.exp
	if exp < -10 {
		// Down to 10^-10: keep the digits at or above it, round on the next.
		keep := len(digits) + exp + 10
		if keep < 0 {
			return "0"
		}
		up := digits[keep] >= '5'
		digits, exp = digits[:keep], -10
		if up {
			digits = roundUp(digits) // may grow a digit: still digits × 10^-10
		}
		t := strings.TrimRight(digits, "0")
		exp += len(digits) - len(t)
		if digits = t; digits == "" {
			return "0"
		}
	}
	var s string
	if exp >= 0 {
		s = digits + strings.Repeat("0", exp)
	} else if n := len(digits) + exp; n > 0 {
		s = digits[:n] + "." + digits[n:]
	} else {
		s = "0." + strings.Repeat("0", -n) + digits
	}
	if d.neg {
		s = "-" + s
	}
	return s
}

// roundUp adds one to a string of digits ("" is 0).
func roundUp(digits string) string {
	b := []byte(digits)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b)
		}
		b[i] = '0'
	}
	return "1" + string(b)
}
