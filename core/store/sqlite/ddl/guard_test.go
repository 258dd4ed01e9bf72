package ddl

import "testing"

func TestRefusal(t *testing.T) {
	hidden := func(n string) bool { return n == "secrets" }
	for _, c := range []struct {
		sql string
		ok  bool
	}{
		{"ALTER TABLE items ADD COLUMN note TEXT", true},
		{"CREATE TABLE t (id INTEGER PRIMARY KEY, 'attach' TEXT)", true}, // a quoted name that spells a keyword is a name
		{"CREATE TABLE t (a TEXT DEFAULT 'ATTACH DATABASE x')", true},    // a string that spells one is not
		{"CREATE TRIGGER tr AFTER INSERT ON items BEGIN UPDATE items SET qty = 1; END", true},
		{"ATTACH DATABASE '/etc/passwd' AS x", false},
		{"attach '/tmp/x.db' as y", false},
		{"/* */ DETACH x", false},
		{"VACUUM INTO '/tmp/copy.db'", false},
		{"PRAGMA writable_schema = 1", false},
		{"SELECT load_extension('x')", false},
		{"DELETE FROM _nakedhtmx_changes", false},
		{`DROP TABLE "_nakedhtmx_dsid"`, false},
		{"DROP TABLE [_NAKEDHTMX_META]", false},
		{"UPDATE sqlite_schema SET sql = ''", false},
		{"CREATE VIEW v AS SELECT * FROM secrets", false},
		{`CREATE VIEW v AS SELECT * FROM "secrets"`, false},
		{"CREATE VIEW v AS SELECT * FROM 'secrets'", false}, // SQLite reads that string as a table name
		{"CREATE TABLE t (a TEXT DEFAULT 'unterminated", false},
		{"CREATE VIEW v AS SELECT secret FROM people", false}, // a hidden column's name in a view
		{"CREATE TRIGGER tr AFTER INSERT ON items BEGIN UPDATE items SET qty = (SELECT \"secret\" FROM people); END", false},
		{"CREATE TABLE copy AS SELECT secret FROM people", true}, // left to the store's authorizer
		{"ALTER TABLE people RENAME COLUMN secret TO open", false},
		{"ALTER TABLE people RENAME TO others", false},
		{"ALTER TABLE items RENAME COLUMN qty TO quantity", true},
		{"ALTER TABLE people ADD COLUMN age INTEGER", true},
	} {
		why := Refusal(c.sql, Rules{HiddenTable: hidden, HiddenColumn: func(n string) bool { return n == "secret" }, Guarded: func(n string) bool { return n == "people" }})
		if (why == "") != c.ok {
			t.Errorf("%q: %q", c.sql, why)
		}
	}
}
