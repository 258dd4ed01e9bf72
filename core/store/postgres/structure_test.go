package postgres_test

import (
	"github.com/nakedhtmx/nakedhtmx/core/store/storetest"
	"strings"
	"testing"
)

// Schema edits on Postgres: ALTER in place, a type change that would
// round values is a loss to confirm, and every step is the app's and the
// capture's as on SQLite.
func TestStructureEdits(t *testing.T) {
	e, _, other := pgApp(t)
	steps := []struct {
		body   string
		status int
		check  string
		want   string
	}{
		{`{"op": "alterColumn", "table": "album", "column": "price", "def": {"name": "price", "type": "integer"}}`, 409,
			`SELECT price::text FROM album`, `"9.99"`},
		{`{"op": "alterColumn", "table": "album", "column": "price", "def": {"name": "price", "type": "numeric(8,3)", "check": "price >= 0"}}`, 200,
			`SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'album'::regclass AND attname = 'price'`, `"numeric(8,3)"`},
		{`{"op": "alterColumn", "table": "album", "column": "price", "def": {"name": "cost", "type": "numeric(8,3)", "notNull": true, "default": 1, "check": "cost >= 0"}}`, 200,
			`SELECT attnotnull FROM pg_attribute WHERE attrelid = 'album'::regclass AND attname = 'cost'`, `1`},
		{`{"op": "addColumn", "table": "artist", "def": {"name": "country", "type": "varchar(4)", "default": "it's", "check": "length(country) <= 4"}}`, 200,
			`SELECT string_agg(country, ',') FROM artist`, `"it's,it's"`},
		{`{"op": "alterColumn", "table": "album", "column": "artist_id", "def": {"name": "artist_id", "type": "integer", "notNull": true, "references": {"table": "artist", "column": "id", "onDelete": "CASCADE"}}}`, 200,
			`SELECT confdeltype FROM pg_constraint WHERE conrelid = 'album'::regclass AND contype = 'f'`, `"c"`},
		{`{"op": "addIndex", "table": "album", "index": {"columns": ["title"], "unique": true}}`, 200,
			`SELECT indexname FROM pg_indexes WHERE tablename = 'album' AND indexname = 'album_title_idx'`, `"album_title_idx"`},
		{`{"op": "dropIndex", "table": "album", "indexName": "album_title_idx"}`, 200, `SELECT count(*) FROM pg_indexes WHERE indexname = 'album_title_idx'`, `0`},
		{`{"op": "dropIndex", "table": "album", "indexName": "album_pkey"}`, 422, "", ""},
		{`{"op": "dropColumn", "table": "artist", "column": "born"}`, 409, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'artist' AND column_name = 'born'`, `1`},
		{`{"op": "dropColumn", "table": "artist", "column": "born", "confirm": true}`, 200, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'artist' AND column_name = 'born'`, `0`},
		{`{"op": "dropTable", "table": "artist", "confirm": true}`, 422, `SELECT count(*) FROM artist`, `2`},
		{`{"op": "renameTable", "table": "album", "to": "records"}`, 200, `SELECT count(*) FROM records`, `1`},
		{`{"op": "createTable", "table": "we\"ird", "columns": [{"name": "id", "autoKey": true}, {"name": "a\"b", "notNull": true, "default": "x"}]}`, 200,
			`SELECT count(*) FROM "we""ird"`, `0`},
		{`{"op": "addColumn", "table": "records", "def": {"name": "x", "check": "$$ || 1"}}`, 422, "", ""},
	}
	for i, s := range steps {
		r := call(t, e, "POST", "/api/structure", s.body)
		if r.Status != s.status {
			t.Fatalf("step %d %s: %d %s", i, s.body, r.Status, r.Body)
		}
		if s.check != "" {
			if got := storetest.Values(t, other, s.check); got != s.want {
				t.Fatalf("step %d %s: %s gives %s, want %s", i, s.body, s.check, got, s.want)
			}
		}
	}
	// The app follows: the renamed table's list, a write to the new table.
	if r := call(t, e, "GET", "/api/tables/records/rows", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"cost":9.99`) {
		t.Fatalf("records: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "POST", "/api/tables/we%22ird/rows", `{}`); r.Status != 201 || !strings.Contains(string(r.Body), `"a\"b":"x"`) {
		t.Fatalf("a row of the new table: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "GET", "/t/records/structure", "", "accept", "text/html"); r.Status != 200 || !strings.Contains(string(r.Body), "cost &gt;= (0)") && !strings.Contains(string(r.Body), "cost &gt;= 0") {
		t.Fatalf("the structure page: %d %s", r.Status, r.Body)
	}
}
