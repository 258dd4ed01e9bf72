package readsql

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in, sql, err string
		params, bind []string
	}{
		{in: "SELECT 1", sql: "SELECT 1"},
		{in: "  select * from t;  -- done\n", sql: "  select * from t"},
		{in: "WITH x AS (SELECT 1) SELECT * FROM x", sql: "WITH x AS (SELECT 1) SELECT * FROM x"},
		{in: "VALUES (1), (2)", sql: "VALUES (1), (2)"},
		{in: "SELECT :a, :b, :a", sql: "SELECT ?, ?, ?", params: []string{"a", "b"}, bind: []string{"a", "b", "a"}},
		{in: "SELECT ':a', \":a\", [:a], `:a` -- :a\n/* :a */", sql: "SELECT ':a', \":a\", [:a], `:a` -- :a\n/* :a */"},
		{in: "SELECT x::int, a[1:2] FROM t WHERE y = :y", sql: "SELECT x::int, a[1:2] FROM t WHERE y = ?", params: []string{"y"}, bind: []string{"y"}},
		{in: "SELECT $$ ; DELETE $$", sql: "SELECT $$ ; DELETE $$"},
		{in: "SELECT 1; DELETE FROM t", err: "only one statement"},
		{in: "SELECT 1; ; ", sql: "SELECT 1"},
		{in: "SELECT 'a'';'; DROP TABLE t", err: "only one statement"},
		// Postgres's E'' string: a backslash escapes the quote, so the ; is outside it.
		{in: "SELECT E'\\''; COMMIT; DELETE FROM t; --'", err: "only one statement"},
		{in: "DELETE FROM t", err: "this one begins DELETE"},
		{in: "/* x */ PRAGMA writable_schema = 1", err: "this one begins PRAGMA"},
		{in: "ATTACH 'x' AS y", err: "this one begins ATTACH"},
		{in: "  -- nothing\n", err: "empty"},
		{in: "SELECT ?", err: "parameters are written :name"},
		{in: "SELECT @x", err: "parameters are written :name"},
		{in: "SELECT $1", err: "parameters are written :name"},
		{in: "SELECT 'open", err: "not closed"},
		{in: "SELECT /* open", err: "not closed"},
		{in: "SELECT \"open", err: "not closed"},
	}
	for _, c := range cases {
		st, err := Parse(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse(%q): error %v, want one with %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if st.SQL != c.sql {
			t.Errorf("Parse(%q).SQL = %q, want %q", c.in, st.SQL, c.sql)
		}
		if !reflect.DeepEqual(st.Params, c.params) || !reflect.DeepEqual(st.Bind, c.bind) {
			t.Errorf("Parse(%q): params %v bind %v, want %v %v", c.in, st.Params, st.Bind, c.params, c.bind)
		}
	}
}

func TestWordsAndArgs(t *testing.T) {
	st, err := Parse(`SELECT "Se""cret", count(*) FROM "us""ers" WHERE Age > :min AND note = :n`)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"se\"cret", "us\"ers", "age", "count"} {
		if !st.Uses(w) {
			t.Errorf("Uses(%q) = false; words %v", w, st.Words)
		}
	}
	if !reflect.DeepEqual(st.Calls, []string{"count"}) {
		t.Errorf("Calls = %v", st.Calls)
	}
	if got := st.Args(map[string]any{"min": int64(3)}); !reflect.DeepEqual(got, []any{int64(3), nil}) {
		t.Errorf("Args = %v (a missing parameter is NULL)", got)
	}
}
