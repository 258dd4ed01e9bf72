package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

func viaEncoder(v any, html bool) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(v); err != nil {
		return nil
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

var stringCases = []string{"", "plain", `q"b\s/`, "<a href='x'>&amp;</a>", "\x00\x01\x08\x0c\x1f\x7f\n\r\t",
	"bad \xff\xfe end", "\xe2\x82", "\u2028\u2029", "🎉 עברית \u202e", "\ufffd"}

func checkString(t *testing.T, s string) {
	t.Helper()
	for _, html := range []bool{true, false} {
		if got, want := String(nil, s, html), viaEncoder(s, html); !bytes.Equal(got, want) {
			t.Fatalf("String(%q, html=%v) = %s, encoding/json %s", s, html, got, want)
		}
	}
}

func TestStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range stringCases {
		checkString(t, s)
	}
}

func FuzzString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(checkString)
}

func TestFloatMatchesEncodingJSON(t *testing.T) {
	for _, x := range []float64{0, math.Copysign(0, -1), 1, -1.5, 0.1, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 123456789e13,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 3.0e-9, 2.5e-10, 1.7976931348623157e308} {
		got, ok := Float(nil, x)
		if want := viaEncoder(x, true); !ok || !bytes.Equal(got, want) {
			t.Errorf("Float(%v) = %s, encoding/json %s", x, got, want)
		}
	}
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, ok := Float(nil, x); ok {
			t.Errorf("Float(%v) should refuse", x)
		}
	}
}
