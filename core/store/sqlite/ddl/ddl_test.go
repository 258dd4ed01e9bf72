package ddl

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

type wantCol struct {
	Name, Type, Collate string
	Checks              []string
	Generated           bool
}

var parseTests = []struct {
	name   string
	sql    string
	table  string
	cols   []wantCol
	checks []string
	auto   bool
	norow  bool
	strict bool
}{
	{name: "simple", sql: `CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL, c)`, table: "t",
		cols: []wantCol{{Name: "a", Type: "INTEGER"}, {Name: "b", Type: "TEXT"}, {Name: "c"}}},
	{name: "lowercase if not exists schema", sql: `create table if not exists main."my table"(x int)`, table: "my table",
		cols: []wantCol{{Name: "x", Type: "int"}}},
	{name: "temporary", sql: `CREATE TEMPORARY TABLE "t"(x)`, table: "t", cols: []wantCol{{Name: "x"}}},
	{name: "four quotings", sql: "CREATE TABLE [t 1] (\"a\"\"b\" TEXT, [we[ird] INT, `x``y` REAL, 'q''s' BLOB, bare)", table: "t 1",
		cols: []wantCol{{Name: `a"b`, Type: "TEXT"}, {Name: "we[ird", Type: "INT"}, {Name: "x`y", Type: "REAL"}, {Name: "q's", Type: "BLOB"}, {Name: "bare"}}},
	{name: "hostile names", sql: "CREATE TABLE \"<script>alert(1)</script>\" (\"x y\" TEXT, \"<b>\" INT, \"🙂\" TEXT, 🚀 INT, \"a,b)\" TEXT, \"--c\" INT, \"/*d*/\" INT, [we\"ird] INT)",
		table: "<script>alert(1)</script>",
		cols: []wantCol{{Name: "x y", Type: "TEXT"}, {Name: "<b>", Type: "INT"}, {Name: "🙂", Type: "TEXT"}, {Name: "🚀", Type: "INT"},
			{Name: "a,b)", Type: "TEXT"}, {Name: "--c", Type: "INT"}, {Name: "/*d*/", Type: "INT"}, {Name: `we"ird`, Type: "INT"}}},
	{name: "keywords as names", sql: `CREATE TABLE "check"("check" TEXT CHECK ("check" IN ('a')), key TEXT, value INT, date DATE, [primary] INT, "constraint" INT, "unique" INT)`,
		table: "check",
		cols: []wantCol{{Name: "check", Type: "TEXT", Checks: []string{`"check" IN ('a')`}}, {Name: "key", Type: "TEXT"}, {Name: "value", Type: "INT"},
			{Name: "date", Type: "DATE"}, {Name: "primary", Type: "INT"}, {Name: "constraint", Type: "INT"}, {Name: "unique", Type: "INT"}}},
	{name: "comments everywhere", sql: "CREATE /* c */ TABLE -- x\n t /* ( */ ( -- a, b\n a /* CHECK (a > 1) */ INT, -- , c TEXT\n b TEXT /* ) */ ) -- STRICT",
		table: "t", cols: []wantCol{{Name: "a", Type: "INT"}, {Name: "b", Type: "TEXT"}}},
	{name: "types", sql: `CREATE TABLE t (a VARCHAR(20), b DECIMAL ( 10 , 2 ), c UNSIGNED BIG INT, d DOUBLE PRECISION, e INT(-5), f "my type", g NUMERIC(+3))`,
		table: "t", cols: []wantCol{{Name: "a", Type: "VARCHAR(20)"}, {Name: "b", Type: "DECIMAL ( 10 , 2 )"}, {Name: "c", Type: "UNSIGNED BIG INT"},
			{Name: "d", Type: "DOUBLE PRECISION"}, {Name: "e", Type: "INT(-5)"}, {Name: "f", Type: "my type"}, {Name: "g", Type: "NUMERIC(+3)"}}},
	{name: "primary key forms", sql: `CREATE TABLE t (id INTEGER CONSTRAINT pk PRIMARY KEY ASC ON CONFLICT REPLACE AUTOINCREMENT, b INT)`,
		table: "t", auto: true, cols: []wantCol{{Name: "id", Type: "INTEGER"}, {Name: "b", Type: "INT"}}},
	{name: "no autoincrement in text", sql: `CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT DEFAULT 'AUTOINCREMENT' CHECK (note <> 'AUTOINCREMENT'))`,
		table: "t", cols: []wantCol{{Name: "id", Type: "INTEGER"}, {Name: "note", Type: "TEXT", Checks: []string{`note <> 'AUTOINCREMENT'`}}}},
	{name: "table pk autoincrement", sql: `CREATE TABLE t (id INTEGER, PRIMARY KEY (id AUTOINCREMENT))`,
		table: "t", auto: true, cols: []wantCol{{Name: "id", Type: "INTEGER"}}},
	{name: "null not null unique", sql: `CREATE TABLE t (a INT NULL, b INT NOT NULL ON CONFLICT ABORT UNIQUE ON CONFLICT IGNORE, c INT NULL ON CONFLICT FAIL)`,
		table: "t", cols: []wantCol{{Name: "a", Type: "INT"}, {Name: "b", Type: "INT"}, {Name: "c", Type: "INT"}}},
	{name: "defaults", sql: `CREATE TABLE t (a INT DEFAULT -5, b TEXT DEFAULT 'x,y)', c REAL DEFAULT +1.5e3, d DEFAULT (datetime('now', ',)')), e DEFAULT NULL, f DEFAULT CURRENT_TIMESTAMP, g BLOB DEFAULT x'00FF', h DEFAULT TRUE, i DEFAULT 0x1F, j DEFAULT "dq")`,
		table: "t", cols: []wantCol{{Name: "a", Type: "INT"}, {Name: "b", Type: "TEXT"}, {Name: "c", Type: "REAL"}, {Name: "d"}, {Name: "e"},
			{Name: "f"}, {Name: "g", Type: "BLOB"}, {Name: "h"}, {Name: "i"}, {Name: "j"}}},
	{name: "collate", sql: `CREATE TABLE t (a TEXT COLLATE NOCASE, b TEXT COLLATE "rtrim" NOT NULL)`,
		table: "t", cols: []wantCol{{Name: "a", Type: "TEXT", Collate: "NOCASE"}, {Name: "b", Type: "TEXT", Collate: "rtrim"}}},
	{name: "references", sql: `CREATE TABLE t (a INT REFERENCES p(id) ON DELETE CASCADE ON UPDATE SET NULL MATCH SIMPLE DEFERRABLE INITIALLY DEFERRED NOT NULL, b INT REFERENCES "p q" ON DELETE SET DEFAULT ON UPDATE NO ACTION NOT DEFERRABLE INITIALLY IMMEDIATE DEFAULT 1, c INT REFERENCES p ON DELETE RESTRICT)`,
		table: "t", cols: []wantCol{{Name: "a", Type: "INT"}, {Name: "b", Type: "INT"}, {Name: "c", Type: "INT"}}},
	{name: "generated", sql: `CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a * 2) STORED, c AS (a || ')') VIRTUAL, d GENERATED ALWAYS AS (1), e TEXT AS (upper(b)))`,
		table: "t", cols: []wantCol{{Name: "a", Type: "INT"}, {Name: "b", Type: "INT", Generated: true}, {Name: "c", Generated: true},
			{Name: "d", Generated: true}, {Name: "e", Type: "TEXT", Generated: true}}},
	{name: "column checks", sql: `CREATE TABLE t (a INT CHECK (a > 0) CHECK(a < 10), b TEXT CONSTRAINT ck CHECK ( b IN ('x', 'y)') ))`,
		table: "t", cols: []wantCol{{Name: "a", Type: "INT", Checks: []string{"a > 0", "a < 10"}}, {Name: "b", Type: "TEXT", Checks: []string{"b IN ('x', 'y)')"}}}},
	{name: "table constraints", sql: `CREATE TABLE t (a INT, b INT, CONSTRAINT pk PRIMARY KEY (a, b DESC) ON CONFLICT ROLLBACK, UNIQUE (b COLLATE NOCASE), CONSTRAINT c1 CHECK (a < b), CHECK (b > 0) FOREIGN KEY (a, b) REFERENCES p (x, y) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, CONSTRAINT fk2 FOREIGN KEY (b) REFERENCES q)`,
		table: "t", cols: []wantCol{{Name: "a", Type: "INT"}, {Name: "b", Type: "INT"}}, checks: []string{"a < b", "b > 0"}},
	{name: "options", sql: `CREATE TABLE t (a TEXT PRIMARY KEY, b INT) WITHOUT ROWID, STRICT`,
		table: "t", norow: true, strict: true, cols: []wantCol{{Name: "a", Type: "TEXT"}, {Name: "b", Type: "INT"}}},
	{name: "options lowercase", sql: `CREATE TABLE t (a INTEGER) strict ;`,
		table: "t", strict: true, cols: []wantCol{{Name: "a", Type: "INTEGER"}}},
	{name: "check hidden in string", sql: `CREATE TABLE t (a TEXT DEFAULT 'CHECK (a > 5)', "b CHECK (b IN (1))" INT)`,
		table: "t", cols: []wantCol{{Name: "a", Type: "TEXT"}, {Name: "b CHECK (b IN (1))", Type: "INT"}}},
}

func TestParseCreateTable(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCreateTable(tt.sql)
			if err != nil {
				t.Fatalf("ParseCreateTable(%s): %v", tt.sql, err)
			}
			if got.Name != tt.table {
				t.Errorf("name = %q, want %q", got.Name, tt.table)
			}
			var cols []wantCol
			for _, c := range got.Columns {
				cols = append(cols, wantCol{Name: c.Name, Type: c.Type, Collate: c.Collate, Checks: c.Checks, Generated: c.Generated})
			}
			if !reflect.DeepEqual(cols, tt.cols) {
				t.Errorf("columns:\n got %+v\nwant %+v", cols, tt.cols)
			}
			if !reflect.DeepEqual(got.Checks, tt.checks) {
				t.Errorf("checks = %q, want %q", got.Checks, tt.checks)
			}
			if got.Autoincrement != tt.auto || got.WithoutRowid != tt.norow || got.Strict != tt.strict {
				t.Errorf("auto/norowid/strict = %v/%v/%v, want %v/%v/%v", got.Autoincrement, got.WithoutRowid, got.Strict, tt.auto, tt.norow, tt.strict)
			}
		})
	}
}

func TestParseExtras(t *testing.T) {
	got, err := ParseCreateTable(`CREATE TEMP TABLE "s"."t"(a INT PRIMARY KEY NOT NULL, b AS (1) STORED)`)
	if err != nil {
		t.Fatal(err)
	}
	if got.Schema != "s" || !got.Temp || !got.Columns[0].PrimaryKey || !got.Columns[0].NotNull || !got.Columns[1].Stored {
		t.Errorf("extras: %+v", got)
	}
}

var parseErrors = []string{
	`CREATE TABLE t AS SELECT 1 AS a`,
	`create table "t" as select * from u`,
	`CREATE VIEW v AS SELECT 1`,
	`CREATE VIRTUAL TABLE v USING fts5(a)`,
	`CREATE INDEX i ON t(a)`,
	``,
	`CREATE TABLE t`,
	`CREATE TABLE t (`,
	`CREATE TABLE t ()`,
	`CREATE TABLE t (a INT CHECK (a > 0)`,
	`CREATE TABLE t (a "unterminated)`,
	`CREATE TABLE t (a [unterminated)`,
	`CREATE TABLE t (a TEXT DEFAULT 'x)`,
	`CREATE TABLE t (a INT) WITHOUT`,
	`CREATE TABLE t (a INT) BOGUS`,
	`CREATE TABLE t (a INT) extra (`,
	`CREATE TABLE t (a INT PRIMARY)`,
	`CREATE TABLE t (a INT, PRIMARY KEY)`,
	`CREATE TABLE t (a INT REFERENCES)`,
	`CREATE TABLE t (a INT DEFAULT)`,
	`CREATE TABLE t (a INT DEFAULT -)`,
}

func TestParseErrors(t *testing.T) {
	for _, sql := range parseErrors {
		if got, err := ParseCreateTable(sql); err == nil {
			t.Errorf("ParseCreateTable(%q) = %+v, want an error", sql, got)
		}
	}
}

func ip(n int) *int { return &n }

var checkTests = []struct {
	expr string
	want map[string]Constraints
}{
	{`status IN ('draft', 'published', 'it''s')`, map[string]Constraints{"status": {Enum: []any{"draft", "published", "it's"}}}},
	{`"st a" IN (1, -2, 3.5, 0x10, +4)`, map[string]Constraints{"st a": {Enum: []any{int64(1), int64(-2), 3.5, int64(16), int64(4)}}}},
	{`[we]ird] IN ('a')`, map[string]Constraints{}}, // [we] then garbage: not a column reference
	{`[x y] IN ('a')`, map[string]Constraints{"x y": {Enum: []any{"a"}}}},
	{"`a``b` = 'v'", map[string]Constraints{"a`b": {Enum: []any{"v"}}}},
	{`c = 5`, map[string]Constraints{"c": {Enum: []any{int64(5)}}}},
	{`5 == c`, map[string]Constraints{"c": {Enum: []any{int64(5)}}}},
	{`c >= 0`, map[string]Constraints{"c": {Minimum: int64(0)}}},
	{`c > -1.5`, map[string]Constraints{"c": {ExclusiveMinimum: -1.5}}},
	{`c <= 100`, map[string]Constraints{"c": {Maximum: int64(100)}}},
	{`c < 1e3`, map[string]Constraints{"c": {ExclusiveMaximum: 1000.0}}},
	{`0 <= c`, map[string]Constraints{"c": {Minimum: int64(0)}}},
	{`10 > c`, map[string]Constraints{"c": {ExclusiveMaximum: int64(10)}}},
	{`c BETWEEN -5 AND 5`, map[string]Constraints{"c": {Minimum: int64(-5), Maximum: int64(5)}}},
	{`c >= 0 AND c <= 10 AND c >= 5 AND c <= 20`, map[string]Constraints{"c": {Minimum: int64(5), Maximum: int64(10)}}},
	{`c > 3 AND c >= 5`, map[string]Constraints{"c": {Minimum: int64(5)}}},
	{`c >= 3 AND c > 3`, map[string]Constraints{"c": {ExclusiveMinimum: int64(3)}}},
	{`c < 3 AND c <= 2.5`, map[string]Constraints{"c": {Maximum: 2.5}}},
	{`length(name) <= 50`, map[string]Constraints{"name": {MaxLength: ip(50)}}},
	{`LENGTH("name") < 50`, map[string]Constraints{"name": {MaxLength: ip(49)}}},
	{`length(name) >= 1`, map[string]Constraints{"name": {MinLength: ip(1)}}},
	{`length(name) > 0`, map[string]Constraints{"name": {MinLength: ip(1)}}},
	{`50 >= length(name)`, map[string]Constraints{"name": {MaxLength: ip(50)}}},
	{`length(name) BETWEEN 2 AND 8`, map[string]Constraints{"name": {MinLength: ip(2), MaxLength: ip(8)}}},
	{`length(code) = 3`, map[string]Constraints{"code": {MinLength: ip(3), MaxLength: ip(3)}}},
	{`length(a) <= 10 AND length(a) <= 5 AND length(a) >= 1`, map[string]Constraints{"a": {MinLength: ip(1), MaxLength: ip(5)}}},
	{`(a > 0) AND ((b IN ('x', 'y')))`, map[string]Constraints{"a": {ExclusiveMinimum: int64(0)}, "b": {Enum: []any{"x", "y"}}}},
	{`(a) >= (1)`, map[string]Constraints{"a": {Minimum: int64(1)}}},
	{`a BETWEEN 1 AND 5 AND b = 'q'`, map[string]Constraints{"a": {Minimum: int64(1), Maximum: int64(5)}, "b": {Enum: []any{"q"}}}},
	{`a > 0 OR b > 0`, map[string]Constraints{}},
	{`a > 0 AND b > 0 OR c > 0`, map[string]Constraints{}},
	{`NOT a > 0`, map[string]Constraints{}},
	{`a NOT IN ('x')`, map[string]Constraints{}},
	{`a NOT BETWEEN 1 AND 2`, map[string]Constraints{}},
	{`a IN ('x', NULL)`, map[string]Constraints{}},
	{`a IN (SELECT x FROM t)`, map[string]Constraints{}},
	{`a IN ('x', b)`, map[string]Constraints{}},
	{`a + 1 > 0`, map[string]Constraints{}},
	{`a > 0 + 1`, map[string]Constraints{}},
	{`abs(a) < 5`, map[string]Constraints{}},
	{`length(trim(a)) > 0`, map[string]Constraints{}},
	{`a GLOB '[0-9]*' AND b > 1`, map[string]Constraints{"b": {ExclusiveMinimum: int64(1)}}},
	{`a LIKE 'x%' AND typeof(b) = 'integer'`, map[string]Constraints{}},
	{`a COLLATE NOCASE IN ('x')`, map[string]Constraints{}},
	{`a IN ('x') COLLATE NOCASE`, map[string]Constraints{}},
	{`a > 'm'`, map[string]Constraints{}},
	{`a = NULL`, map[string]Constraints{}},
	{`a = b`, map[string]Constraints{}},
	{`a = "b"`, map[string]Constraints{}},
	{`a IS 5`, map[string]Constraints{}},
	{`a != 5 AND a <> 6`, map[string]Constraints{}},
	{`CASE WHEN a AND b > 5 THEN 1 END AND c < 2`, map[string]Constraints{"c": {ExclusiveMaximum: int64(2)}}},
	{`a IS NULL OR a IN ('x', 'y')`, map[string]Constraints{"a": {Enum: []any{"x", "y"}}}},
	{`a IN ('x') OR a ISNULL`, map[string]Constraints{"a": {Enum: []any{"x"}}}},
	{`(a IS NULL OR (a >= 0 AND b > 0)) AND c = 1`, map[string]Constraints{"a": {Minimum: int64(0)}, "c": {Enum: []any{int64(1)}}}},
	{`b IS NULL OR a > 0`, map[string]Constraints{}},
	{`a IS NULL OR a > 0 OR a < -5`, map[string]Constraints{}},
	{`a IS NOT NULL OR a > 0`, map[string]Constraints{}},
	{`a > 0 -- AND b > 0`, map[string]Constraints{"a": {ExclusiveMinimum: int64(0)}}},
	{`a > 0 /* AND b > 0 */ AND c < 1`, map[string]Constraints{"a": {ExclusiveMinimum: int64(0)}, "c": {ExclusiveMaximum: int64(1)}}},
	{`a = 'b > 0 AND c IN (1)'`, map[string]Constraints{"a": {Enum: []any{"b > 0 AND c IN (1)"}}}},
	{`t.a >= 1`, map[string]Constraints{"a": {Minimum: int64(1)}}},
	{`A >= 1 AND a <= 2`, map[string]Constraints{"A": {Minimum: int64(1), Maximum: int64(2)}}},
	{`a IN ('x', 'y') AND a IN ('y', 'z')`, map[string]Constraints{"a": {Enum: []any{"y"}}}},
	{`a >= -9223372036854775808 AND a <= 9223372036854775807`, map[string]Constraints{"a": {Minimum: int64(-9223372036854775808), Maximum: int64(9223372036854775807)}}},
	{`a < 99999999999999999999`, map[string]Constraints{"a": {ExclusiveMaximum: 1e20}}},
	{`a < 1e999`, map[string]Constraints{}},
	{`a >= 1_000`, map[string]Constraints{"a": {Minimum: int64(1000)}}},
	{`a = x'00'`, map[string]Constraints{}},
	{`a IN ()`, map[string]Constraints{}},
	{`"check" IN ('a') AND key > 0 AND "🙂" < 3`, map[string]Constraints{"check": {Enum: []any{"a"}}, "key": {ExclusiveMinimum: int64(0)}, "🙂": {ExclusiveMaximum: int64(3)}}},
	{`a > 'unterminated`, map[string]Constraints{}},
	{`length(a) <= -1 AND length(b) >= 2.5`, map[string]Constraints{}},
	{``, map[string]Constraints{}},
	{`)))(((`, map[string]Constraints{}},
}

func TestAnalyzeCheck(t *testing.T) {
	for _, tt := range checkTests {
		got := AnalyzeCheck(tt.expr)
		// Entries whose constraints are all empty are allowed; drop them.
		for k, v := range got {
			if reflect.DeepEqual(v, Constraints{}) {
				delete(got, k)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("AnalyzeCheck(%s):\n got %s\nwant %s", tt.expr, show(got), show(tt.want))
		}
	}
}

func show(m map[string]Constraints) string {
	var b strings.Builder
	for k, c := range m {
		fmt.Fprintf(&b, "%q: {enum=%#v min=%#v xmin=%#v max=%#v xmax=%#v", k, c.Enum, c.Minimum, c.ExclusiveMinimum, c.Maximum, c.ExclusiveMaximum)
		if c.MinLength != nil {
			fmt.Fprintf(&b, " minLength=%d", *c.MinLength)
		}
		if c.MaxLength != nil {
			fmt.Fprintf(&b, " maxLength=%d", *c.MaxLength)
		}
		b.WriteString("} ")
	}
	return b.String()
}
