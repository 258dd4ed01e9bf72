package schema

import (
	"bytes"
	"encoding/json"
	"math"
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
		v := o.vals[k]
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
