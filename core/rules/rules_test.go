package rules_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/rules"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

var notes = []rules.Column{{Name: "id", Kind: rules.Number}, {Name: "owner", Kind: rules.Number},
	{Name: "status", Kind: rules.Text}, {Name: "owner email", Kind: rules.Text}, {Name: "done", Kind: rules.Bool},
	{Name: "score", Kind: rules.Number}, {Name: "pic", Kind: rules.Bytes}, {Name: "owner_text", Kind: rules.Text}}

var dialect = rules.Dialect{Ident: sqldb.Ident, Like: func(e string) string { return e + ` LIKE ? ESCAPE '\'` }}

func mustRule(t *testing.T, text string) *rules.Rule {
	t.Helper()
	r, err := rules.Parse(text)
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	c, err := r.Check(notes)
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return c
}

func TestBind(t *testing.T) {
	u := rules.User{ID: 7, Email: "o'hara%_@x.com", Role: "editor"}
	for _, tc := range []struct {
		rule, sql string
		args      []any
	}{
		{"owner = @user.id", `"owner" = ?`, []any{int64(7)}},
		{"@user.id = owner", `"owner" = ?`, []any{int64(7)}},
		{"5 < score", `"score" > ?`, []any{int64(5)}},
		{`"owner email" = @user.email`, `"owner email" = ?`, []any{"o'hara%_@x.com"}},
		{"owner_text = @user.id", `"owner_text" = ?`, []any{"7"}},
		{"status LIKE 'dr%'", `("status" LIKE ? ESCAPE '\')`, []any{"dr%"}},
		{`"owner email" NOT LIKE @user.email`, `NOT ("owner email" LIKE ? ESCAPE '\')`, []any{`o'hara\%\_@x.com`}},
		{"status IN ('a', 'b''c') AND done = true", `("status" IN (?, ?) AND "done" = ?)`, []any{"a", "b'c", int64(1)}},
		{"status NOT IN ('x')", `"status" NOT IN (?)`, []any{"x"}},
		{"owner = @user.id OR @user.role = 'editor'", `1 = 1`, nil},
		{"owner = @user.id OR @user.role = 'admin'", `("owner" = ? OR 1 = 0)`, []any{int64(7)}},
		{"@user.role = 'editor' AND (status IS NULL OR status != 'x')", `(1 = 1 AND ("status" IS NULL OR "status" <> ?))`, []any{"x"}},
		{"false", `1 = 0`, nil},
		{"TRUE", `1 = 1`, nil},
		{"NOT (owner = 1)", `NOT COALESCE(("owner" = ?), 1 = 0)`, []any{int64(1)}},
		{"score >= -1.5e2 and score <> owner", `("score" >= ? AND "score" <> "owner")`, []any{-150.0}},
		{`"owner email" like "status"`, `("owner email" LIKE "status")`, nil},
	} {
		sql, args := mustRule(t, tc.rule).Bind(u, dialect)
		if sql != tc.sql || !reflect.DeepEqual(args, tc.args) {
			t.Errorf("%s:\n got %s %#v\nwant %s %#v", tc.rule, sql, args, tc.sql, tc.args)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct{ rule, err string }{
		{"", "expected a column"},
		{"owner =", "expected a column"},
		{"owner = 1 1", "unexpected"},
		{"owner = @user.name", "unknown value"},
		{"owner == 1", "expected a column"},
		{"owner ! 1", "'!' must be followed"},
		{"status = 'open", "not closed"},
		{`"" = 1`, "empty column name"},
		{"(owner = 1", "not closed"},
		{"owner IN ()", "expected a column"},
		{"owner IN 1", "list in parentheses"},
		{"status IS 'x'", "IS must be followed"},
		{"nosuch = 1", `unknown column "nosuch"`},
		{"owner = 'x'", "not alike"},
		{"status = 5", "not alike"},
		{"owner = @user.email", "not alike"},
		{"owner LIKE 'x'", "does not hold text"},
		{"status LIKE @user.id", "@user.id is a number"},
		{"pic = 'x'", "bytes"},
		{"1 IS NULL", "asks about a column"},
		{"owner = 1; DROP TABLE notes", "unexpected"},
		{strings.Repeat("(", 100) + "owner = 1" + strings.Repeat(")", 100), "nests too deeply"},
		{strings.Repeat("NOT ", 100) + "owner = 1", "nests too deeply"},
		{strings.Repeat("x", rules.MaxLen+1), "at most"},
		{"owner = 1e999", "not a number"},
	} {
		r, err := rules.Parse(tc.rule)
		if err == nil {
			_, err = r.Check(notes)
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: got %v, want %q", tc.rule, err, tc.err)
		}
	}
}

// TestEvalAgreesWithSQL: for many rules, users and rows, Eval says of each
// row what the bound SQL on a real SQLite says.
func TestEvalAgreesWithSQL(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Script(`CREATE TABLE notes (id INTEGER PRIMARY KEY, owner INTEGER, status TEXT, "owner email" TEXT, done BOOLEAN, score REAL, pic BLOB, owner_text TEXT)`); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	statuses := []any{nil, "draft", "Draft", "done", "o'hara%_@x.com", "O'HARA%_@X.COM", "é", "É", "dr_ft", ""}
	emails := []any{nil, "a@x.com", "o'hara%_@x.com", "ohara12@x.com", "A@X.COM"}
	var rows [][]any
	for i := 1; i <= 300; i++ {
		row := []any{int64(i), pick(rnd, []any{nil, int64(1), int64(2), int64(7)}), pick(rnd, statuses), pick(rnd, emails),
			pick(rnd, []any{nil, int64(0), int64(1)}), pick(rnd, []any{nil, int64(-3), 2.5, int64(10), 150.0}), nil,
			pick(rnd, []any{nil, "7", "07", "1"})}
		rows = append(rows, row)
		if _, err := db.Exec(`INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	users := []rules.User{{ID: 7, Email: "o'hara%_@x.com", Role: "editor"}, {ID: 1, Email: "a@x.com", Role: "user"}, {ID: 2, Email: "A@X.COM", Role: ""}}
	for _, text := range []string{
		"owner = @user.id", "owner != @user.id", "NOT owner = @user.id", "owner_text = @user.id",
		"owner = @user.id OR @user.role = 'editor'", "status LIKE 'dr%'", "status LIKE 'dr_ft'", `status LIKE 'dr\_ft'`,
		"status LIKE '%'", "status like 'é'", `"owner email" LIKE @user.email`, `"owner email" = @user.email`,
		"status IN ('draft', 'done') AND score > 1", "status NOT IN ('draft', 'done')", "NOT (status IN ('draft'))",
		"done = true", "done = false OR done IS NULL", "score >= 2.5 AND score < 150", "score <= owner",
		"status IS NOT NULL AND NOT (score > 5 OR owner = 2)", "NOT (status = 'draft' AND owner = @user.id)",
		`"owner email" LIKE status`, "status < 'e'", "false", "true", "@user.role IN ('user', 'x') AND owner = 1",
	} {
		for _, u := range users {
			r := mustRule(t, text)
			cond, args := r.Bind(u, dialect)
			rs, err := db.Query("SELECT id FROM notes WHERE "+cond+" ORDER BY id", args...)
			if err != nil {
				t.Fatalf("%s: %s: %v", text, cond, err)
			}
			var fromSQL, fromEval []int64
			for _, v := range rs.Values {
				fromSQL = append(fromSQL, v[0].(int64))
			}
			cols := []string{"id", "owner", "status", "owner email", "done", "score", "pic", "owner_text"}
			for _, row := range rows {
				if r.Eval(u, dialect, func(c string) any { return row[indexOf(cols, c)] }) {
					fromEval = append(fromEval, row[0].(int64))
				}
			}
			if fmt.Sprint(fromSQL) != fmt.Sprint(fromEval) {
				t.Errorf("%s for %v:\n sql  %v\n eval %v", text, u, fromSQL, fromEval)
			}
		}
	}
}

func pick(r *rand.Rand, vs []any) any { return vs[r.IntN(len(vs))] }

func indexOf(cols []string, c string) int {
	for i, n := range cols {
		if n == c {
			return i
		}
	}
	panic(c)
}

func TestLikeIsLinear(t *testing.T) {
	r := mustRule(t, "status LIKE '"+strings.Repeat("%a", 50)+"%b'")
	s := strings.Repeat("a", 5000)
	if r.Eval(rules.User{}, dialect, func(string) any { return s }) {
		t.Fatal("matched")
	}
}

func TestColumns(t *testing.T) {
	got := mustRule(t, `owner = @user.id OR (status IN ('a') AND "owner email" LIKE status) OR owner > 3`).Columns()
	if fmt.Sprint(got) != "[owner status owner email]" {
		t.Fatal(got)
	}
}
