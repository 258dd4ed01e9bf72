package protocol

import (
	"encoding/json"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// viaJSON is the reference: encoding/json with Value's own methods.
func viaJSON(b []byte) (SQLAnswer, error) {
	var res SQLResult
	if err := json.Unmarshal(b, &res); err != nil {
		return SQLAnswer{}, err
	}
	return answerOf(&res), nil
}

// sameAsJSON fails unless a hand-written decoder read in as encoding/json
// did: the same error text, or the same value.
func sameAsJSON[T any](t *testing.T, in []byte, got T, gerr error, want T, werr error) {
	t.Helper()
	if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Fatalf("%q: error %v, encoding/json says %v", in, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", in, got, want)
	}
}

// matchesUnmarshal checks a hand decoder against json.Unmarshal into a T.
func matchesUnmarshal[T any](t *testing.T, in []byte, decode func([]byte) (T, error)) {
	t.Helper()
	var want T
	werr := json.Unmarshal(in, &want)
	got, gerr := decode(in)
	sameAsJSON(t, in, got, gerr, want, werr)
}

// seed adds each case to a fuzz target's corpus.
func seed(f *testing.F, cases []string) {
	for _, c := range cases {
		f.Add([]byte(c))
	}
}

func sameAnswer(t *testing.T, in []byte) {
	t.Helper()
	if len(in) > 0 && in[0] == BinaryMessage {
		return // not JSON: FuzzBinaryAnswer's
	}
	want, werr := viaJSON(in)
	got, gerr := DecodeSQLResult(in)
	sameAsJSON(t, in, got, gerr, want, werr)
	// The shared decoder reads the same answer out of a buffer it may keep.
	shared, serr := DecodeSQLResultShared(append([]byte(nil), in...))
	if (serr == nil) != (gerr == nil) || (werr == nil && !reflect.DeepEqual(shared, want)) {
		t.Fatalf("%q: shared decoder:\n got %#v, %v\nwant %#v, %v", in, shared, serr, want, werr)
	}
}

var sqlResultCases = []string{
	`{"changes":0,"lastInsertRowid":0}`,
	`{"columns":["a","b"],"rows":[[1,"x"],[null,2.5]],"changes":0,"lastInsertRowid":0}`,
	` { "columns" : [ "a" ] , "rows" : [ [ -0 ] , [ 1e3 ] , [ 1.0 ] , [ 9223372036854775807 ] , [ 9223372036854775808 ] , [ -9223372036854775808 ] ] , "changes" : 3 , "lastInsertRowid" : -1 } `,
	`{"columns":[],"rows":[],"changes":1,"lastInsertRowid":7}`,
	`{"columns":null,"rows":null,"changes":0,"lastInsertRowid":0}`,
	`{"rows":[null,[]],"changes":0,"lastInsertRowid":0}`,
	`{"rows":[["\u00e9\ud83c\udf89\ud800x\udc00\n\t\"\\\/\b\f\r\u0000"]],"changes":0,"lastInsertRowid":0}`,
	`{"rows":[["\ud800\u0041"]],"changes":0,"lastInsertRowid":0}`,
	"{\"rows\":[[\"bad \xff\xfe utf8 \xe2\x82\"]],\"changes\":0,\"lastInsertRowid\":0}",
	"{\"rows\":[[\"esc \\n then bad \xff\"]],\"changes\":0,\"lastInsertRowid\":0}",
	`{"rows":[[{"$blob":"AAEC/w=="},true,false]],"changes":0,"lastInsertRowid":0}`,
	`{"error":"no such table: x","code":"SQLITE_ERROR","changes":0,"lastInsertRowid":0}`,
	`{"error":null,"code":null,"changes":0,"lastInsertRowid":0}`,
	`{"changes":0,"lastInsertRowid":0,"extra":{"a":[1,2]}}`,
	`{"changes":1,"changes":2,"lastInsertRowid":0}`,
	`{"changes":1.5,"lastInsertRowid":0}`,
	`{"changes":null,"lastInsertRowid":0}`,
	`{"rows":[[01]],"changes":0,"lastInsertRowid":0}`,
	`{"rows":[[1.]],"changes":0,"lastInsertRowid":0}`,
	`{"rows":[[1e]],"changes":0,"lastInsertRowid":0}`,
	`{"rows":[[1e999]],"changes":0,"lastInsertRowid":0}`,
	`{"rows":[["unterminated]],"changes":0`,
	`{"rows":[["ctl` + "\x01" + `"]],"changes":0,"lastInsertRowid":0}`,
	`{"changes":0,"lastInsertRowid":0} trailing`,
	`{"changes":0,"lastInsertRowid":0,}`,
	`[]`,
	``,
}

func TestDecodeSQLResultMatchesEncodingJSON(t *testing.T) {
	for _, c := range sqlResultCases {
		sameAnswer(t, []byte(c))
	}
}

func FuzzDecodeSQLResult(f *testing.F) {
	seed(f, sqlResultCases)
	f.Fuzz(func(t *testing.T, b []byte) { sameAnswer(t, b) })
}

// The encoders must produce what encoding/json reads back as the same values.
func TestAppendSQLRoundTrip(t *testing.T) {
	values := []any{nil, int64(0), int64(math.MinInt64), int64(math.MaxInt64), 0.0, -2.5, 1e21, 3.0, math.NaN(), math.Inf(1),
		"", "plain", "quote \" back \\ slash", "ctl \x00\x01\x1f\x7f", "<b>&amp;</b>", "bad \xff\xfe", "\u2028\u2029", "🎉 עברית",
		[]byte{}, []byte{0, 1, 2, 255}}
	for _, v := range values {
		req, err := AppendSQLRequest(nil, "SELECT ?", []any{v}, false)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := json.Marshal(SQLRequest{SQL: "SELECT ?", Params: []Value{{v}}})
		var got, want SQLRequest
		if err := json.Unmarshal(req, &got); err != nil {
			t.Fatalf("%v: %s is not JSON: %v", v, req, err)
		}
		json.Unmarshal(ref, &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("request %#v: got %s, encoding/json %s", v, req, ref)
		}
		res := &SQLResult{Columns: []string{"c\"<"}, Rows: [][]Value{{{v}}, nil}, Changes: 2, LastInsertRowid: -3, Error: "e\n", Code: "C"}
		out, err := AppendSQLResult(nil, res)
		if err != nil {
			t.Fatal(err)
		}
		refRes, _ := json.Marshal(res)
		a, aerr := DecodeSQLResult(out)
		b, berr := viaJSON(refRes)
		if aerr != nil || berr != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("result %#v: %s -> %#v (%v); encoding/json %s -> %#v (%v)", v, out, a, aerr, refRes, b, berr)
		}
	}
	if _, err := AppendSQLRequest(nil, "x", []any{struct{}{}}, false); err == nil || !strings.Contains(err.Error(), "unsupported") {
		t.Errorf("an unsupported value: %v", err)
	}
	if b, _ := AppendSQLRequest(nil, "x", nil, true); string(b) != `{"sql":"x","script":true}` {
		t.Errorf("script: %s", b)
	}
}

// A shared answer's values point into its buffer and its slabs: they must
// read the same after the garbage collector ran and the decoder is gone.
func TestDecodeSQLResultSharedSurvivesGC(t *testing.T) {
	res := &SQLResult{Columns: []string{"i", "s", "f"}}
	for i := range 3000 {
		res.Rows = append(res.Rows, []Value{{int64(i*7919 - 1000)}, {strings.Repeat("x", i%40) + "é" + string(rune('a'+i%26))}, {float64(i) / 4}})
	}
	b, err := AppendSQLResult(nil, res)
	if err != nil {
		t.Fatal(err)
	}
	want, err := DecodeSQLResult(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSQLResultShared(append([]byte(nil), b...))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		runtime.GC()
		_ = make([]byte, 1<<20) // reuse freed memory, if anything was wrongly freed
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the shared answer changed after GC")
	}
	for i, r := range got.Rows {
		if r[0].(int64) != int64(i*7919-1000) {
			t.Fatalf("row %d: %v", i, r[0])
		}
	}
}

var valuesCases = []string{
	`[1]`, `[1001]`, `["a",2]`, `[-9223372036854775808]`, `[9223372036854775808]`, `[1.5, 1e3, -0]`,
	`["é\"\\",null]`, `[{"$blob":"AAE="}]`, `[true]`, `[]`, `null`, ` [ "x" , 3 ] `, `[1,]`, `[1] x`,
	`["\ud800"]`, `["\u00e9"]`, `{}`, ``,
}

func TestDecodeValuesMatchesEncodingJSON(t *testing.T) {
	for _, c := range valuesCases {
		sameValues(t, []byte(c))
	}
}

func FuzzDecodeValues(f *testing.F) {
	seed(f, valuesCases)
	f.Fuzz(sameValues)
}

func sameValues(t *testing.T, b []byte) {
	var vals []Value
	var want []any
	werr := json.Unmarshal(b, &vals)
	if werr == nil {
		want = Unwrap(vals)
	}
	got, gerr := DecodeValues(b)
	sameAsJSON(t, b, got, gerr, want, werr)
}
