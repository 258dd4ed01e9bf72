package model_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/config"
	"github.com/nakedhtmx/nakedhtmx/core/corpus"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	storesqlite "github.com/nakedhtmx/nakedhtmx/core/store/sqlite"
)

// TestWireRoundTrip: every database of the golden corpus (and Chinook),
// whole and as its config lets callers see it, comes back from its wire
// form as it went.
func TestWireRoundTrip(t *testing.T) {
	cases, err := corpus.Load(corpus.Dir())
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string]struct{ sql, cfg string }{}
	for _, c := range cases {
		schemas[c.Name] = struct{ sql, cfg string }{c.Schema, string(c.Config)}
	}
	if len(schemas) < 10 {
		t.Fatalf("only %d corpus cases", len(schemas))
	}
	roundTrip := func(t *testing.T, d *model.Database) {
		t.Helper()
		b, err := model.EncodeWire(d)
		if err != nil {
			t.Fatal(err)
		}
		back, err := model.DecodeWire(b)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := model.EncodeWire(back); string(again) != string(b) {
			t.Errorf("the model changed on its way:\n%s\n%s", b, again)
		}
		if !reflect.DeepEqual(normal(d), normal(back)) {
			again, _ := model.EncodeWire(back)
			t.Errorf("the model changed on its way:\n%s\n%s", b, again)
		}
	}
	for name, s := range schemas {
		t.Run(name, func(t *testing.T) {
			db, err := sqlite.Open(filepath.Join(t.TempDir(), "w.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Script(s.sql); err != nil {
				t.Fatal(err)
			}
			d, err := storesqlite.Reflect(db)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, d)
			cfg, err := config.Parse([]byte(orEmpty(s.cfg)))
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, d.Visible(func(n string) bool { return model.IsInternal(n) || cfg.Table(n).Hidden },
				func(tb, c string) bool { return cfg.Table(tb).Column(c).Hidden }))
		})
	}
	t.Run("chinook", func(t *testing.T) {
		db, err := sqlite.Open(corpus.ChinookCopy(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		d, err := storesqlite.Reflect(db)
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, d)
	})
}

// normal is d with its empty lists as nil: a store's reflection makes some
// empty and some nil, which no caller tells apart.
func normal(d *model.Database) *model.Database {
	for _, t := range d.Tables {
		if len(t.PK) == 0 {
			t.PK = nil
		}
		if len(t.ViewWrites) == 0 {
			t.ViewWrites = nil
		}
		if len(t.ForeignKeys) == 0 {
			t.ForeignKeys = nil
		}
		for _, c := range t.Columns {
			if len(c.Check.Enum) == 0 {
				c.Check.Enum = nil
			}
		}
	}
	return d
}

func orEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "null"
	}
	return s
}

// TestWireRefuses: a payload no model holds is refused, not half-read.
func TestWireRefuses(t *testing.T) {
	for _, bad := range []string{
		`{"tables":[{"name":"a","columns":[{"name":"x","kind":"integer"}],"pk":["y"]}]}`,
		`{"tables":[{"name":"a","columns":[{"name":"x","kind":"integer"},{"name":"x","kind":"string"}]}]}`,
		`{"tables":[{"name":"a","columns":[]},{"name":"a","columns":[]}]}`,
		`{"tables":[{"name":"a","columns":[{"name":"x","kind":"integer","references":{"table":"b","column":"y","key":3}}]}]}`,
		`{"tables":[{"name":"a","columns":[{"name":"x","kind":"integer","check":{"minimum":{"i":"1.5"}}}]}]}`,
		`{"tables":[{"name":"a","columns":[{"name":"x","kind":"integer","check":{"minimum":{"i":"1","f":2}}}]}]}`,
		`{"tables":[{"name":"a","autoKey":"nope","columns":[{"name":"x","kind":"integer"}]}]}`,
		`[1]`,
	} {
		if _, err := model.DecodeWire([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// TestWireForReader: a reader's model keeps that a column has a default,
// not the SQL of one that is no constant.
func TestWireForReader(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Script(`CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT DEFAULT (strftime('%Y', 'now')), n INTEGER DEFAULT 7)`); err != nil {
		t.Fatal(err)
	}
	d, err := storesqlite.Reflect(db)
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := model.EncodeWire(d)
	reader, err := model.EncodeWireForReader(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(whole), "strftime") || strings.Contains(string(reader), "strftime") {
		t.Errorf("whole %s\nreader %s", whole, reader)
	}
	back, err := model.DecodeWire(reader)
	if err != nil {
		t.Fatal(err)
	}
	if c := back.Tables[0].Column("at"); c.Default == nil || c.Default.Literal {
		t.Errorf("the default went: %+v", c.Default)
	}
	if c := back.Tables[0].Column("n"); c.Default == nil || c.Default.SQL != "7" || c.Default.Value != int64(7) {
		t.Errorf("a constant default: %+v", c.Default)
	}
}
