package engine_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

var hostileSeeds = []string{
	`<script>alert(1)</script>`, `a"b`, `it's`, `[x]`, "back`tick", `semi;colon; DROP TABLE x`, "line\nbreak",
	"🎉", "שם", "\u202ertl", `"><img src=x onerror=alert(1)>`, `a/b`, `a,b`, `%2F`, `~0~1`, ` `, `f.x`, `select`,
	`javascript:alert(1)`, `{{.}}`, `</textarea><script>x</script>`, "\t", `\`, `?q=1#h`,
}

// usableName reports names SQLite can hold as identifiers (no NUL, valid
// UTF-8) and that are not the project's own or SQLite's.
func usableName(s string) bool {
	return s != "" && utf8.ValidString(s) && !strings.ContainsRune(s, 0) && len(s) < 200 &&
		!strings.HasPrefix(strings.ToLower(s), "sqlite_") && !strings.HasPrefix(s, "_nakedhtmx_")
}

func get(t testing.TB, e *engine.Engine, path, query string) *protocol.Response {
	t.Helper()
	return e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: path, Query: query,
		Headers: map[string]string{"host": "localhost", "accept": "text/html"}}})
}

// FuzzNames creates a table and a column with a fuzzed name and a row holding
// a fuzzed value, then checks that every page and the API round-trip them:
// the quoting never breaks SQL, and nothing containing "<" reaches HTML raw.
func FuzzNames(f *testing.F) {
	for _, s := range hostileSeeds {
		f.Add(s, s, s)
	}
	db, err := sqlite.Open(filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	f.Fuzz(func(t *testing.T, table, column, value string) {
		if !usableName(table) || !usableName(column) || !utf8.ValidString(value) || reservedColumn(column) {
			t.Skip()
		}
		// Escaping turns every "<" of a name or value into "&lt;", so a page
		// must hold exactly as many tags as the same page rendered from names
		// with the "<" taken out.
		plain := func(s string) string { return strings.ReplaceAll(s, "<", "x") }
		if !usableName(plain(table)) || reservedColumn(plain(column)) {
			t.Skip()
		}
		got := renderAll(t, db, table, column, value)
		want := renderAll(t, db, plain(table), plain(column), plain(value))
		for name, body := range got {
			if g, w := bytes.Count(body, []byte("<")), bytes.Count(want[name], []byte("<")); g != w {
				t.Fatalf("%s page has %d '<', the same page without '<' in names has %d: something is unescaped", name, g, w)
			}
		}
	})
}

func reservedColumn(c string) bool {
	for _, r := range []string{"id", "rowid", "_rowid_", "oid"} {
		if strings.EqualFold(c, r) {
			return true
		}
	}
	return false
}

// renderAll makes a one-row table with the given names and returns its pages;
// it also checks that the API gives the value back exactly.
func renderAll(t *testing.T, db *sqlite.DB, table, column, value string) map[string][]byte {
	t.Helper()
	if err := db.Script("DROP TABLE IF EXISTS " + sqldb.Ident(table)); err != nil {
		t.Fatal(err)
	}
	if err := db.Script("CREATE TABLE " + sqldb.Ident(table) + " (id INTEGER PRIMARY KEY, " + sqldb.Ident(column) + " TEXT)"); err != nil {
		t.Fatalf("create with quoted names %q.%q: %v", table, column, err)
	}
	defer db.Script("DROP TABLE " + sqldb.Ident(table))
	if _, err := db.Exec("INSERT INTO "+sqldb.Ident(table)+" VALUES (1, ?)", value); err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(db, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tpath := "/t/" + engine.EncodeComponent(table)
	// A search must be one a person can type: no NUL, at most MaxSearch
	// characters (past those the answer is 400 or 413, by design).
	search := value
	if strings.IndexByte(search, 0) >= 0 || utf8.RuneCountInString(search) > engine.MaxSearch {
		search = strings.ReplaceAll(string([]rune(search)[:min(len([]rune(search)), engine.MaxSearch)]), "\x00", "")
	}
	pages := map[string]*protocol.Response{
		"list": get(t, e, tpath, "q="+engine.EncodeComponent(search)),
		"row":  get(t, e, tpath+"/r/1", ""), "new": get(t, e, tpath+"/new", ""),
	}
	out := map[string][]byte{}
	for name, res := range pages {
		if res.Status != 200 {
			t.Fatalf("%s page: status %d: %s", name, res.Status, res.Body)
		}
		out[name] = res.Body
	}
	res := get(t, e, "/api/tables/"+engine.EncodeComponent(table)+"/rows/1", "")
	var got struct {
		Row map[string]any `json:"row"`
	}
	if err := json.Unmarshal(res.Body, &got); err != nil || res.Status != 200 {
		t.Fatalf("API row: %d %s", res.Status, res.Body)
	}
	if got.Row[column] != value {
		t.Fatalf("API row[%q] = %#v, want %q", column, got.Row[column], value)
	}
	return out
}

// FuzzQuote checks the two quoting functions against SQLite itself: any
// string, as an identifier or a literal, comes back exactly as it went in.
func FuzzQuote(f *testing.F) {
	for _, s := range hostileSeeds {
		f.Add(s)
	}
	f.Add("\"\"\"")
	f.Add("'''")
	db, err := sqlite.Open(filepath.Join(f.TempDir(), "quote.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Skip() // SQLite's text ends at a NUL and must be UTF-8
		}
		rs, err := db.Query("SELECT " + sqldb.Literal(s))
		if err != nil {
			t.Fatalf("SELECT %s: %v", sqldb.Literal(s), err)
		}
		if got := sqldb.Text(rs.Values[0][0]); got != s {
			t.Fatalf("literal %q came back as %q", s, got)
		}
		if s == "" {
			return // an empty identifier is legal but names nothing
		}
		rs, err = db.Query("SELECT 1 AS " + sqldb.Ident(s))
		if err != nil {
			t.Fatalf("SELECT 1 AS %s: %v", sqldb.Ident(s), err)
		}
		if len(rs.Columns) != 1 || rs.Columns[0] != s {
			t.Fatalf("identifier %q came back as %q", s, rs.Columns)
		}
	})
}
