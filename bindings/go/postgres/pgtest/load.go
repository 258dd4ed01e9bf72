package pgtest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	hostpg "github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/corpus"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	sqlitestore "github.com/nakedhtmx/nakedhtmx/core/store/sqlite"
)

// LoadSQLite copies a SQLite database's tables (columns, keys, NOT NULL,
// foreign keys, indexes on foreign keys, rows) into the Postgres database
// dst, each declared type turned into the Postgres type a person porting
// it would choose: INTEGER as integer (bigint where a value needs it),
// NVARCHAR(n) as varchar(n), NUMERIC(p,s) as numeric(p,s), DATETIME as
// timestamp, REAL as double precision, BLOB as bytea, anything else as
// text. Views are not copied.
func LoadSQLite(t testing.TB, src, dst sqldb.DB) {
	t.Helper()
	if err := Load(src, dst, nil); err != nil {
		t.Fatal(err)
	}
}

// Load is LoadSQLite for a program (pgload): only the tables named, or
// every one when only is empty, and an error instead of a failed test.
func Load(src, dst sqldb.DB, only []string) error {
	d, err := sqlitestore.Reflect(src)
	if err != nil {
		return err
	}
	wanted := func(name string) bool { return len(only) == 0 || slices.Contains(only, name) }
	var fks []string
	for _, tb := range d.Tables {
		if tb.View || !wanted(tb.Name) {
			continue
		}
		var cols []string
		for _, c := range tb.Columns {
			col := sqldb.Ident(c.Name) + " " + pgType(src, tb, c)
			if c.NotNull {
				col += " NOT NULL"
			}
			cols = append(cols, col)
		}
		if len(tb.PK) > 0 {
			var pk []string
			for _, c := range tb.PK {
				pk = append(pk, sqldb.Ident(c.Name))
			}
			cols = append(cols, "PRIMARY KEY ("+strings.Join(pk, ", ")+")")
		}
		if err := dst.Script("CREATE TABLE " + sqldb.Ident(tb.Name) + " (" + strings.Join(cols, ", ") + ")"); err != nil {
			return fmt.Errorf("create %s: %w", tb.Name, err)
		}
		for _, fk := range tb.ForeignKeys {
			if !wanted(fk.Table) {
				continue // its table is not copied
			}
			from, to := idents(fk.From), idents(fk.To)
			fks = append(fks, "ALTER TABLE "+sqldb.Ident(tb.Name)+" ADD FOREIGN KEY ("+from+") REFERENCES "+sqldb.Ident(fk.Table)+" ("+to+")",
				"CREATE INDEX ON "+sqldb.Ident(tb.Name)+" ("+from+")")
		}
		if err := copyRows(src, dst, tb); err != nil {
			return err
		}
	}
	for _, s := range fks {
		if err := dst.Script(s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	// Identity-like keys go on from the rows copied.
	for _, tb := range d.Tables {
		if tb.View || !wanted(tb.Name) || len(tb.PK) != 1 || tb.PK[0].Kind != model.Integer {
			continue
		}
		k, table := sqldb.Ident(tb.PK[0].Name), sqldb.Ident(tb.Name)
		seq := sqldb.Ident(tb.Name + "_" + tb.PK[0].Name + "_seq")
		if err := dst.Script(fmt.Sprintf("CREATE SEQUENCE %[1]s OWNED BY %[2]s.%[3]s; ALTER TABLE %[2]s ALTER COLUMN %[3]s SET DEFAULT nextval(%[4]s); SELECT setval(%[4]s, (SELECT coalesce(max(%[3]s), 0) + 1 FROM %[2]s), false)",
			seq, table, k, sqldb.Literal(seq))); err != nil {
			return fmt.Errorf("the key sequence of %s: %w", tb.Name, err)
		}
	}
	return nil
}

var sizeRe = regexp.MustCompile(`\(\s*\d+(?:\s*,\s*\d+)?\s*\)`)

func pgType(src sqldb.DB, tb *model.Table, c *model.Column) string {
	declared := strings.ToUpper(c.Type)
	size := sizeRe.FindString(declared)
	switch {
	case c.Kind == model.Integer:
		rs, err := src.Query("SELECT max(abs(" + sqldb.Ident(c.Name) + ")) FROM " + sqldb.Ident(tb.Name))
		if err == nil && len(rs.Values) == 1 {
			if n, ok := sqldb.Int(rs.Values[0][0]); ok && n > 2147483647 {
				return "bigint"
			}
		}
		return "integer"
	case strings.Contains(declared, "CHAR") && size != "":
		return "varchar" + size
	case strings.HasPrefix(declared, "NUMERIC") || strings.HasPrefix(declared, "DECIMAL"):
		return "numeric" + size
	case c.Kind == model.Number:
		return "double precision"
	case c.Kind == model.DateTime:
		return "timestamp"
	case c.Kind == model.Date:
		return "date"
	case c.Kind == model.Boolean:
		return "boolean"
	case c.Kind == model.Blob:
		return "bytea"
	}
	return "text"
}

func idents(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = sqldb.Ident(n)
	}
	return strings.Join(out, ", ")
}

// copyRows inserts every row, 200 to a statement.
func copyRows(src, dst sqldb.DB, tb *model.Table) error {
	var names []string
	for _, c := range tb.Columns {
		names = append(names, sqldb.Ident(c.Name))
	}
	rs, err := src.Query("SELECT " + strings.Join(names, ", ") + " FROM " + sqldb.Ident(tb.Name))
	if err != nil {
		return err
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ")"
	for start := 0; start < len(rs.Values); start += 200 {
		end := min(start+200, len(rs.Values))
		var args []any
		var rows []string
		for _, r := range rs.Values[start:end] {
			rows = append(rows, row)
			args = append(args, r...)
		}
		sql := "INSERT INTO " + sqldb.Ident(tb.Name) + " (" + strings.Join(names, ", ") + ") VALUES " + strings.Join(rows, ", ")
		if _, err := dst.Exec(sql, args...); err != nil {
			return fmt.Errorf("copy %s: %w", tb.Name, err)
		}
	}
	return nil
}

// CorpusDB is a fresh database set up for a case of the corpus's Postgres
// leg: open.json's load copied in (Chinook: the test skips where
// ../shared/testdata/chinook.sqlite is absent), then schema.sql. Every Go
// runner of that leg, and the one that runs it on the JS hosts, starts here.
func CorpusDB(t testing.TB, c *corpus.Case) string {
	t.Helper()
	url := URL(t)
	dst, err := hostpg.Open(url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	switch c.Open.Load {
	case "":
	case "chinook":
		src, err := sqlite.Open(corpus.ChinookCopy(t))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		LoadSQLite(t, src, dst)
	default:
		t.Fatalf("%s: open.json: load %q is not a database the corpus knows", c.Name, c.Open.Load)
	}
	if c.Schema != "" {
		if err := dst.Script(c.Schema); err != nil {
			t.Fatalf("%s: schema.sql: %v", c.Name, err)
		}
	}
	return url
}
