package engine

import (
	"path/filepath"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	sqlitestore "github.com/nakedhtmx/nakedhtmx/core/store/sqlite"
)

func TestEncodeComponent(t *testing.T) {
	// Expected values are what JavaScript's encodeURIComponent returns.
	for in, want := range map[string]string{
		"abc": "abc", "a b": "a%20b", "a/b": "a%2Fb", "a,b": "a%2Cb", "-_.!~*'()": "-_.!~*'()",
		"<script>": "%3Cscript%3E", "🎉": "%F0%9F%8E%89", "שם": "%D7%A9%D7%9D", "a%b": "a%25b", `"q"`: "%22q%22",
		"?#&=+": "%3F%23%26%3D%2B",
	} {
		if got := EncodeComponent(in); got != want {
			t.Errorf("EncodeComponent(%q) = %q, want %q", in, got, want)
		}
		back, err := pathUnescape(EncodeComponent(in))
		if err != nil || back != in {
			t.Errorf("pathUnescape(EncodeComponent(%q)) = %q, %v", in, back, err)
		}
	}
	for _, bad := range []string{"%", "%2", "%zz"} {
		if _, err := pathUnescape(bad); err == nil {
			t.Errorf("pathUnescape(%q) accepted", bad)
		}
	}
}

func TestLikeEscape(t *testing.T) {
	if got := likeEscape(`50%_off\`); got != `50\%\_off\\` {
		t.Errorf("got %q", got)
	}
}

// A list answer's rows are written straight to JSON; they must read exactly
// as each row's answerObject() encodes, for every kind of value and name.
func TestAppendRowsJSONMatchesObjects(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "rows.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Script(`
		CREATE TABLE "we<ird ""t"" é" ("a""b" TEXT, "<script>" INTEGER, "r" REAL, "b" BLOB, "flag" BOOLEAN, "j" JSON, "n");
		INSERT INTO "we<ird ""t"" é" VALUES ('x</script>&', 1, 1.0, x'00ff', 1, '{"k":[1]}', NULL),
			('line\u2028 "q"', -9223372036854775808, 1e300, x'', 0, 'not json', 2.5), (NULL, NULL, NULL, NULL, NULL, NULL, 'é');
		CREATE TABLE keyed (id INTEGER PRIMARY KEY, "rowid" TEXT, v);
		INSERT INTO keyed VALUES (1, 'shadow', 3), (2, NULL, 'x');
		CREATE TABLE shadow ("rowid" TEXT, v);
		INSERT INTO shadow VALUES ('a', 1), ('b', 2);`); err != nil {
		t.Fatal(err)
	}
	d, err := sqlitestore.Reflect(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range d.Tables {
		rs, err := db.Query("SELECT " + selectList(tbl) + " FROM " + sqldb.Ident(tbl.Name))
		if err != nil {
			t.Fatal(err)
		}
		rows := readRows(tbl, rs)
		c := &ctx{e: &Engine{}}
		got, err := c.appendRowsJSON(nil, tbl, rows)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := c.appendRowObjects(nil, rows)
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", tbl.Name, got, want)
		}
	}
}
