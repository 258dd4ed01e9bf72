package protocol

import (
	"math"
	"reflect"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// binaryValues covers every kind of value, and the ones JSON cannot hold.
var binaryValues = []any{nil, int64(0), int64(math.MinInt64), int64(math.MaxInt64), int64(1 << 53), 0.0, math.Copysign(0, -1), -2.5, 1e21, 3.0,
	math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1), "", "plain", "quote \" back \\ slash", "ctl \x00\x01\x1f\x7f",
	"<b>&amp;</b>", "bad \xff\xfe", "\u2028\u2029", "🎉 עברית", []byte{}, []byte{0, 1, 2, 255}}

// A binary answer must decode to what the JSON answer of the same result
// decodes to, shared or not.
func TestBinaryAnswerMatchesJSON(t *testing.T) {
	results := []*SQLResult{
		{Changes: 3, LastInsertRowid: -7},
		{Columns: []string{}, Rows: [][]Value{}},
		{Columns: []string{"a", "b\"<é", "bad \xff"}, Changes: 1, LastInsertRowid: math.MaxInt64},
	}
	for _, v := range binaryValues {
		results = append(results, &SQLResult{Columns: []string{"v", "w"}, Rows: [][]Value{{{v}, {"x"}}, {{int64(1)}, {v}}}, Changes: 1, LastInsertRowid: 2})
	}
	for _, r := range results {
		j, err := AppendSQLResult(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		want, err := DecodeSQLResult(j)
		if err != nil {
			t.Fatal(err)
		}
		b, err := AppendSQLResultBinary(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != BinaryMessage {
			t.Fatalf("%#v: not binary: %q", r, b)
		}
		for _, decode := range []func([]byte) (SQLAnswer, error){DecodeSQLResult, DecodeSQLResultShared} {
			got, err := decode(append([]byte(nil), b...))
			if err != nil {
				t.Fatalf("%#v: %v", r, err)
			}
			if len(want.Rows) == 0 && len(got.Rows) == 0 {
				got.Rows, want.Rows = nil, nil // a JSON answer without rows omits them
			}
			if len(want.Columns) == 0 && len(got.Columns) == 0 {
				got.Columns, want.Columns = nil, nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%#v:\nbinary %#v\n  JSON %#v", r, got, want)
			}
		}
	}
	// An error has no binary form.
	e := &SQLResult{Error: "no such table: x", Code: "SQLITE_ERROR"}
	if b, _ := AppendSQLResultBinary(nil, e); b[0] != '{' {
		t.Errorf("an error answer in binary: %q", b)
	}
	if _, err := AppendSQLResultBinary(nil, &SQLResult{Columns: []string{"a"}, Rows: [][]Value{{}}}); err == nil {
		t.Error("a short row was written")
	}
}

func TestBinaryAnswerMalformed(t *testing.T) {
	good, _ := AppendSQLResultBinary(nil, &SQLResult{Columns: []string{"a", "b"}, Rows: [][]Value{{{int64(1)}, {"x"}}, {{2.5}, {[]byte{1}}}}})
	for n := 1; n < len(good); n++ {
		if _, err := DecodeSQLResult(good[:n]); err == nil {
			t.Errorf("a cut answer (%d of %d bytes) decoded", n, len(good))
		}
	}
	for _, b := range [][]byte{
		append(append([]byte(nil), good...), 0),                // trailing byte
		{BinaryMessage, 0, 0, 0, 0, 5, 0, 0, 0},                // rows without columns
		{BinaryMessage, 1, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255}, // more rows than bytes
		{BinaryMessage, 255, 255, 255, 255},                    // more columns than bytes
		{BinaryMessage, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9}, // an unknown tag
	} {
		if _, err := DecodeSQLResult(b); err == nil {
			t.Errorf("%v decoded", b)
		}
	}
}

// Whatever decodes must encode again to an answer that decodes the same.
func FuzzBinaryAnswer(f *testing.F) {
	for _, v := range binaryValues {
		b, _ := AppendSQLResultBinary(nil, &SQLResult{Columns: []string{"v"}, Rows: [][]Value{{{v}}}})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != BinaryMessage {
			return
		}
		a, err := DecodeSQLResult(b)
		if err != nil {
			return
		}
		shared, err := DecodeSQLResultShared(append([]byte(nil), b...))
		if err != nil || !reflect.DeepEqual(a, shared) {
			t.Fatalf("shared: %#v, %v; copied %#v", shared, err, a)
		}
		r := &SQLResult{Columns: a.Columns, Changes: a.Changes, LastInsertRowid: a.LastInsertRowid}
		for _, row := range a.Rows {
			r.Rows = append(r.Rows, Values(row))
		}
		again, err := AppendSQLResultBinary(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := DecodeSQLResult(again)
		if err != nil || !reflect.DeepEqual(a, b2) {
			t.Fatalf("%#v -> %#v (%v)", a, b2, err)
		}
	})
}

// A binary request reads back as the JSON request of the same statement does.
func TestBinaryRequestMatchesJSON(t *testing.T) {
	cases := [][]any{nil, {}, binaryValues, {"SELECT ?; -- é \xff"}}
	for _, params := range cases {
		for _, script := range []bool{false, true} {
			sql := "SELECT ? AS \"x\" -- ünï \xff"
			j, err := AppendSQLRequest(nil, sql, params, script)
			if err != nil {
				t.Fatal(err)
			}
			want, err := DecodeSQLRequest(j)
			if err != nil {
				t.Fatal(err)
			}
			b, err := AppendSQLRequestBinary(nil, sql, params, flagsOf(script, false))
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeSQLRequest(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%v, script %v:\nbinary %#v\n  JSON %#v", params, script, got, want)
			}
			for n := 1; n < len(b); n++ {
				if _, err := DecodeSQLRequest(b[:n]); err == nil {
					t.Fatalf("a cut request (%d of %d bytes) decoded", n, len(b))
				}
			}
		}
	}
	if _, err := AppendSQLRequestBinary(nil, "x", []any{struct{}{}}, 0); err == nil {
		t.Error("an unsupported value was written")
	}
}

// Whatever request decodes must encode again to one that decodes the same.
func FuzzBinaryRequest(f *testing.F) {
	for _, v := range binaryValues {
		b, _ := AppendSQLRequestBinary(nil, "SELECT ?", []any{v}, 0)
		f.Add(b)
	}
	chain, _ := AppendSQLRequestBinary(nil, "BEGIN", nil, FlagThen|FlagKeep)
	chain, _ = AppendSQLRequestBinary(chain, "SELECT ?", []any{int64(1)}, FlagRowsOnly)
	f.Add(chain)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != BinaryMessage {
			return
		}
		reqs, err := DecodeSQLRequests(b)
		if err != nil {
			return
		}
		// Written again, the message reads back the same.
		var again []byte
		for i, req := range reqs {
			f := flagsOf(req.Script, req.Unbounded)
			if req.RowsOnly {
				f |= FlagRowsOnly
			}
			if i < len(reqs)-1 {
				f |= FlagThen
				if req.Keep {
					f |= FlagKeep
				}
			}
			if again, err = AppendSQLRequestBinary(again, req.SQL, Unwrap(req.Params), f); err != nil {
				t.Fatal(err)
			}
		}
		reqs2, err := DecodeSQLRequests(again)
		if err != nil || !reflect.DeepEqual(reqs, reqs2) {
			t.Fatalf("%#v -> %#v (%v)", reqs, reqs2, err)
		}
		if one, err := DecodeSQLRequest(b); (err == nil) != (len(reqs) == 1) || err == nil && !reflect.DeepEqual(one, reqs[0]) {
			t.Fatalf("one request: %#v %v, of %d", one, err, len(reqs))
		}
	})
}

func flagsOf(script, unbounded bool) byte {
	var f byte
	if script {
		f |= FlagScript
	}
	if unbounded {
		f |= FlagUnbounded
	}
	return f
}

// The unbounded flag reads back in both encodings.
func TestUnboundedFlag(t *testing.T) {
	b, err := AppendSQLRequestBinary(nil, "SELECT * FROM v", nil, FlagUnbounded)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSQLRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	want, err := DecodeSQLRequest([]byte(`{"sql": "SELECT * FROM v", "unbounded": true}`))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Unbounded || got.Script || !reflect.DeepEqual(got, want) {
		t.Errorf("binary %#v, JSON %#v", got, want)
	}
}

// Several requests in one message (FlagThen): each decodes as it would alone,
// in order; a message cut short, or with the last request still flagged
// FlagThen, is malformed; DecodeSQLRequest refuses a message of several.
func TestChainedRequests(t *testing.T) {
	var b []byte
	var err error
	steps := []struct {
		sql    string
		params []any
		flags  byte
	}{{"BEGIN IMMEDIATE", nil, 0}, {"PRAGMA schema_version", nil, FlagRowsOnly}, {"UPDATE t SET a = ?", []any{int64(1), "x"}, FlagUnbounded}}
	for i, s := range steps {
		f := s.flags
		if i < len(steps)-1 {
			f |= FlagThen
		}
		if b, err = AppendSQLRequestBinary(b, s.sql, s.params, f); err != nil {
			t.Fatal(err)
		}
	}
	reqs, err := DecodeSQLRequests(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 3 || reqs[0].SQL != "BEGIN IMMEDIATE" || !reqs[1].RowsOnly || reqs[0].RowsOnly ||
		!reqs[2].Unbounded || !reflect.DeepEqual(Unwrap(reqs[2].Params), []any{int64(1), "x"}) {
		t.Fatalf("decoded %#v", reqs)
	}
	if _, err := DecodeSQLRequest(b); err == nil {
		t.Error("one request read from a message of three")
	}
	for n := 1; n < len(b); n++ {
		if _, err := DecodeSQLRequests(b[:n]); err == nil {
			t.Fatalf("cut at %d: no error", n)
		}
	}
	last, _ := AppendSQLRequestBinary(nil, "SELECT 1", nil, FlagThen)
	if _, err := DecodeSQLRequests(last); err == nil {
		t.Error("a message ending in FlagThen was read")
	}
}

// conn answers statements from a script, recording what ran.
type conn struct {
	ran  []string
	fail string
}

func (c *conn) Caller(string, sqldb.Guard) error { return nil }
func (c *conn) Script(sql string) error          { c.ran = append(c.ran, sql); return nil }
func (c *conn) Statement(sql string, _ []any) (sqldb.Result, *sqldb.Rows, error) {
	c.ran = append(c.ran, sql)
	if sql == c.fail {
		return sqldb.Result{}, nil, &sqldb.Error{Code: "SQLITE_CONSTRAINT", Message: "no: " + sql}
	}
	return sqldb.Result{Changes: int64(len(c.ran))}, &sqldb.Rows{Columns: []string{"n"}, Values: [][]any{{int64(len(c.ran))}}}, nil
}

// A Go host runs a message's requests in order and answers the last one's
// result, or the first failure, after which nothing more runs.
func TestHandleSQLChain(t *testing.T) {
	msg := func(sqls ...string) []byte {
		var b []byte
		for i, s := range sqls {
			f := byte(FlagThen)
			if i == len(sqls)-1 {
				f = 0
			}
			b, _ = AppendSQLRequestBinary(b, s, nil, f)
		}
		return b
	}
	c := &conn{}
	res, err := DecodeSQLResult(HandleSQL(msg("A", "B", "C"), c))
	if err != nil || res.Error != "" || !reflect.DeepEqual(c.ran, []string{"A", "B", "C"}) || res.Rows[0][0] != int64(3) {
		t.Fatalf("all ran: %v %+v %v", err, res, c.ran)
	}
	c = &conn{fail: "B"}
	res, err = DecodeSQLResult(HandleSQL(msg("A", "B", "C"), c))
	if err != nil || res.Code != "SQLITE_CONSTRAINT" || res.Error != "no: B" || !reflect.DeepEqual(c.ran, []string{"A", "B"}) {
		t.Fatalf("stopped at B: %v %+v %v", err, res, c.ran)
	}
}
