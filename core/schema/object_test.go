package schema

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

// marshalByReflection is how Object was written before AppendJSON: each key
// and value through json.Marshal. AppendJSON must give the same bytes.
func marshalByReflection(o *Object) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		v := o.vals[i]
		if inner, ok := v.(*Object); ok && inner != nil {
			vb, err := marshalByReflection(inner)
			if err != nil {
				return nil, err
			}
			b.Write(vb)
			continue
		}
		vb, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	var nilObj *Object
	inner := NewObject().Set("<k>", "v&").Set("n", nil)
	o := NewObject().
		Set("s", "a<b>&\"c\"\n\u2028 bad\xff").
		Set("i", 42).Set("i64", int64(math.MinInt64)).
		Set("f", 1.5).Set("fbig", 1e21).Set("fsmall", 3e-9).Set("fint", 3.0).
		Set("t", true).Set("nil", nil).Set("nilobj", nilObj).
		Set("obj", inner).
		Set("arr", []any{1, "x<", nil, inner, []any{}}).Set("nilarr", []any(nil)).
		Set("strs", []string{"a", "<b>"}).Set("nilstrs", []string(nil)).
		Set("map", map[string]any{"z": 1, "a": "<"}).
		Set("raw", json.RawMessage(`{"x": "<y>"}`)).
		Set("bytes", []byte{0, 1, 2}).
		Set("struct", struct {
			A string `json:"a"`
		}{"<"}).
		Set("ünï <code>", "key escaped")
	got, err := o.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := marshalByReflection(o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON:\n%s\nencoding/json:\n%s", got, want)
	}
	if _, err := NewObject().Set("nan", math.NaN()).AppendJSON(nil); err == nil {
		t.Error("NaN should be refused, as encoding/json refuses it")
	}
}

// Past indexAfter members the object adds a map index; both ways must
// agree on Set (replace keeps the place), Get and order.
func TestObjectSmallAndIndexed(t *testing.T) {
	for _, n := range []int{0, 1, indexAfter, indexAfter + 1, 100} {
		o := NewObject()
		for i := 0; i < n; i++ {
			o.Set(string(rune('a'+i%26))+strconv.Itoa(i), i)
		}
		for i := 0; i < n; i++ {
			k := string(rune('a'+i%26)) + strconv.Itoa(i)
			if v, ok := o.Get(k); !ok || v != i {
				t.Fatalf("n=%d: Get(%q) = %v, %v", n, k, v, ok)
			}
		}
		if n > 0 {
			o.Set("a0", "replaced")
			if v, _ := o.Get("a0"); v != "replaced" || o.Keys()[0] != "a0" || o.Len() != n {
				t.Fatalf("n=%d: replace moved or lost a member: %v %v", n, o.Keys(), v)
			}
		}
		if _, ok := o.Get("missing"); ok {
			t.Fatalf("n=%d: Get of a missing key", n)
		}
	}
}
