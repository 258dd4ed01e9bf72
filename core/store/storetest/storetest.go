// Package storetest is the conformance suite every store passes (core/store):
// each store's folder runs Run with two connections to a fresh database of
// its kind and the suite's schema in its words. What it checks is what the
// core relies on, each as the core uses it: the catalog reflected into the
// model, versions that move for other connections' changes, write
// transactions, the project's objects installed and removed again, the
// change capture from any writer, search, plans, and the migration words.
package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/capture"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

// Harness is one store under test.
type Harness struct {
	Store store.Store
	// Open gives two connections to a fresh, empty database: the core's,
	// and another writer's (a shell, another process).
	Open func(t *testing.T) (db, other sqldb.DB)
	// Schema creates, in the store's words, the suite's tables:
	//
	//	teams  (id integer key, name text NOT NULL UNIQUE)
	//	people (id integer key, name text of at most 40 characters NOT NULL,
	//	        born date, score real CHECK (score >= 0) and <= 100,
	//	        active boolean, team_id integer referencing teams (id))
	//	pairs  (a integer, b text, note text, key (a, b))
	//	team_people, a view: people's id and name with their team's name
	//
	// and puts one team (1, 'Red') in.
	Schema string
}

// Run runs every check, each as a subtest on a fresh database.
func Run(t *testing.T, h Harness) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, h Harness, db, other sqldb.DB)
	}{
		{"reflect", reflect},
		{"versions", versions},
		{"install and uninstall", installUninstall},
		{"capture", captureAny},
		{"write lock", writeLock},
		{"search and plans", searchAndPlans},
		{"migration words", migrationWords},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, other := h.Open(t)
			if err := h.Store.Prepare(db); err != nil {
				t.Fatal(err)
			}
			if err := other.Script(h.Schema); err != nil {
				t.Fatalf("the suite's schema: %v", err)
			}
			c.fn(t, h, db, other)
		})
	}
}

func exec(t *testing.T, db sqldb.DB, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// reflect: the model of the suite's schema, every fact the core uses.
func reflect(t *testing.T, h Harness, db, _ sqldb.DB) {
	d, err := h.Store.Reflect(db)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range d.Tables {
		names = append(names, tb.Name)
	}
	if want := []string{"pairs", "people", "team_people", "teams"}; !slices.Equal(names, want) {
		t.Fatalf("tables %v, want %v (sorted, none of the store's or the project's own)", names, want)
	}
	people := d.Table("people")
	var kinds []string
	for _, c := range people.Columns {
		kinds = append(kinds, c.Name+":"+string(c.Kind))
	}
	if want := "id:integer name:string born:date score:number active:boolean team_id:integer"; strings.Join(kinds, " ") != want {
		t.Errorf("people's columns %s, want %s", strings.Join(kinds, " "), want)
	}
	if len(people.PK) != 1 || people.PK[0].Name != "id" {
		t.Errorf("people's key %v, want [id]", people.PK)
	}
	name := people.Column("name")
	if !name.NotNull || name.MaxLength == nil || *name.MaxLength != 40 {
		t.Errorf("people.name: not null %v, max length %v; want true, 40", name.NotNull, name.MaxLength)
	}
	if c := people.Column("born"); c.NotNull || !c.Nullable() {
		t.Errorf("people.born is nullable")
	}
	score := people.Column("score").Check
	if fmt.Sprint(score.Minimum) != "0" || fmt.Sprint(score.Maximum) != "100" {
		t.Errorf("people.score's CHECK: minimum %v, maximum %v; want 0, 100", score.Minimum, score.Maximum)
	}
	if r := people.Column("team_id").References; r == nil || r.Table != "teams" || r.Column != "id" {
		t.Errorf("people.team_id references %+v, want teams.id", r)
	}
	if !d.Table("teams").Column("name").Unique {
		t.Errorf("teams.name is UNIQUE")
	}
	pairs := d.Table("pairs")
	if len(pairs.PK) != 2 || pairs.PK[0].Name != "a" || pairs.PK[1].Name != "b" {
		t.Errorf("pairs' key %v, want [a b]", pairs.PK)
	}
	if v := d.Table("team_people"); !v.View || len(v.Columns) != 3 {
		t.Errorf("team_people: view %v with %d columns, want a view of 3", v.View, len(v.Columns))
	}
	if d.Table("teams").View {
		t.Errorf("teams is a table")
	}
}

// versions: the schema version moves for another connection's DDL, the data
// version for another connection's commit.
func versions(t *testing.T, h Harness, db, other sqldb.DB) {
	if _, err := h.Store.Install(db, store.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if d, err := h.Store.Reflect(db); err != nil {
		t.Fatal(err)
	} else if _, err := h.Store.SyncCapture(db, d); err != nil {
		t.Fatal(err)
	}
	s0, err := h.Store.SchemaVersion(db)
	if err != nil {
		t.Fatal(err)
	}
	d0, err := h.Store.DataVersion(db)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, other, `INSERT INTO teams (id, name) VALUES (2, 'Blue')`)
	if d1, _ := h.Store.DataVersion(db); d1 == d0 {
		t.Errorf("the data version did not move for another connection's insert")
	}
	if s1, _ := h.Store.SchemaVersion(db); s1 != s0 {
		t.Errorf("the schema version moved for an insert: %d -> %d", s0, s1)
	}
	exec(t, other, `ALTER TABLE teams ADD COLUMN motto TEXT`)
	s2, _ := h.Store.SchemaVersion(db)
	if s2 == s0 {
		t.Errorf("the schema version did not move for another connection's ALTER TABLE")
	}
	d, _ := h.Store.Reflect(db)
	if d.SchemaVersion != s2 {
		t.Errorf("the reflection's schema version %d, want %d", d.SchemaVersion, s2)
	}
	if d.Table("teams").Column("motto") == nil {
		t.Errorf("the new column is not reflected")
	}
}

// installUninstall: the project's objects come and go, the user's stay.
func installUninstall(t *testing.T, h Harness, db, other sqldb.DB) {
	r, err := h.Store.Install(db, store.InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.First || !r.Writable || r.Message == "" {
		t.Errorf("a first install: %+v, want first, writable, with a message", r)
	}
	if r, err := h.Store.Install(db, store.InstallOptions{}); err != nil || r.First || !r.Writable || r.Message != "" {
		t.Errorf("a second install: %+v, %v; want not first, writable, silent", r, err)
	}
	d, _ := h.Store.Reflect(db)
	if _, err := h.Store.SyncCapture(db, d); err != nil {
		t.Fatal(err)
	}
	d2, _ := h.Store.Reflect(db)
	if len(d2.Tables) != len(d.Tables) {
		t.Errorf("the project's objects show among the user's tables: %d tables, then %d", len(d.Tables), len(d2.Tables))
	}
	rep, err := h.Store.Uninstall(db)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Removed) == 0 {
		t.Errorf("uninstall removed nothing")
	}
	for _, n := range rep.Removed {
		if !strings.HasPrefix(n, model.Prefix) && !strings.Contains(n, model.Prefix) {
			t.Errorf("uninstall removed %q, not one of the project's own", n)
		}
	}
	// The user's rows are untouched, and writes no longer reach a log.
	rs, err := other.Query(`SELECT name FROM teams WHERE id = 1`)
	if err != nil || len(rs.Values) != 1 || sqldb.Text(rs.Values[0][0]) != "Red" {
		t.Errorf("the user's row after uninstall: %v, %v", rs, err)
	}
	exec(t, other, `INSERT INTO teams (id, name) VALUES (3, 'Green')`)
	if r, err := h.Store.Install(db, store.InstallOptions{}); err != nil || !r.First {
		t.Errorf("an install after uninstall is a first one again: %+v, %v", r, err)
	}
}

// captureAny: every write of every connection reaches the log with its
// table, operation and key (a JSON array), in order; a changed key names the
// old one; syncing again changes nothing.
func captureAny(t *testing.T, h Harness, db, other sqldb.DB) {
	if _, err := h.Store.Install(db, store.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	d, _ := h.Store.Reflect(db)
	if changed, err := h.Store.SyncCapture(db, d); err != nil || !changed {
		t.Fatalf("the first sync: changed %v, %v", changed, err)
	}
	if changed, err := h.Store.SyncCapture(db, d); err != nil || changed {
		t.Errorf("a second sync changed %v, %v; want nothing", changed, err)
	}
	_, before, err := capture.Bounds(db, h.Store.LogFloor)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, other, `INSERT INTO people (id, name, team_id) VALUES (7, 'Ada', 1)`)
	exec(t, other, `UPDATE people SET name = 'Ada L' WHERE id = 7`)
	exec(t, other, `UPDATE people SET id = 8 WHERE id = 7`)
	exec(t, other, `INSERT INTO pairs (a, b, note) VALUES (1, 'x', 'n')`)
	exec(t, db, `DELETE FROM pairs WHERE a = 1 AND b = 'x'`)
	got, err := capture.After(db, before, 100)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range got {
		line := e.Table + " " + e.Op + " " + compact(e.Key)
		if e.OldKey != "" {
			line += " from " + compact(e.OldKey)
		}
		lines = append(lines, line)
		if e.At == "" || e.Seq <= before {
			t.Errorf("entry %+v: no time or an old seq", e)
		}
	}
	want := []string{`people insert [7]`, `people update [7]`, `people update [8] from [7]`, `pairs insert [1,"x"]`, `pairs delete [1,"x"]`}
	if !slices.Equal(lines, want) {
		t.Errorf("the log:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	seq, ok, err := capture.Sequence(db, h.Store.LogFloor)
	if err != nil || !ok || seq != got[len(got)-1].Seq {
		t.Errorf("the sequence %d %v %v, want the last entry's %d", seq, ok, err, got[len(got)-1].Seq)
	}
	// A renamed column: the triggers still capture (SyncCapture again).
	exec(t, other, `ALTER TABLE people RENAME COLUMN name TO full_name`)
	d, _ = h.Store.Reflect(db)
	if _, err := h.Store.SyncCapture(db, d); err != nil {
		t.Fatal(err)
	}
	exec(t, other, `UPDATE people SET full_name = 'Ada Lovelace' WHERE id = 8`)
	last, _ := capture.After(db, seq, 10)
	if len(last) != 1 || last[0].Op != "update" || compact(last[0].Key) != "[8]" {
		t.Errorf("after a rename: %+v", last)
	}
}

func compact(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// writeLock: a write begun with BeginWrite holds the lock; TryBeginWrite on
// another connection then fails at once, and succeeds once it is released.
func writeLock(t *testing.T, h Harness, db, other sqldb.DB) {
	if err := h.Store.BeginWrite(other); err != nil {
		t.Fatal(err)
	}
	exec(t, other, `INSERT INTO teams (id, name) VALUES (5, 'Held')`)
	if err := h.Store.TryBeginWrite(db); err == nil {
		db.Exec("ROLLBACK")
		t.Errorf("TryBeginWrite went through while another connection held the write lock")
	}
	exec(t, other, "COMMIT")
	if err := h.Store.TryBeginWrite(db); err != nil {
		t.Fatalf("TryBeginWrite with no one holding the lock: %v", err)
	}
	exec(t, db, `INSERT INTO teams (id, name) VALUES (6, 'Mine')`)
	exec(t, db, "COMMIT")
}

// searchAndPlans: the search operator ignores ASCII case; a filter no index
// serves is a scan, a lookup by key is not.
func searchAndPlans(t *testing.T, h Harness, db, _ sqldb.DB) {
	rs, err := db.Query(`SELECT name FROM teams WHERE `+h.Store.Search(`"name"`), "%re\\%%")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Values) != 0 {
		t.Errorf("an escaped %% matched literally nothing: got %v", rs.Values)
	}
	rs, err = db.Query(`SELECT name FROM teams WHERE `+h.Store.Search(`"name"`), "%rE%")
	if err != nil || len(rs.Values) != 1 {
		t.Errorf("a search in another case: %v, %v", rs, err)
	}
	// Any column, searched as its text.
	rs, err = db.Query(`SELECT id FROM teams WHERE `+h.Store.Search(`"id"`), "%1%")
	if err != nil || len(rs.Values) != 1 {
		t.Errorf("a search in another case: %v, %v", rs, err)
	}
	scan, err := h.Store.PlanScans(db, `SELECT id FROM people WHERE "name" = ? ORDER BY id LIMIT 1`, []any{"x"}, true)
	if !h.Store.Windowed() {
		return // PlanScans is never asked
	}
	if err != nil || !scan {
		t.Errorf("a filter on a column without an index: scan %v, %v", scan, err)
	}
	scan, err = h.Store.PlanScans(db, `SELECT id FROM people WHERE id = ? ORDER BY id LIMIT 1`, []any{int64(1)}, true)
	if err != nil || scan {
		t.Errorf("a lookup by key: scan %v, %v", scan, err)
	}
}

// migrationWords: the project's own objects and what the config hides are
// refused by the words alone; an ordinary change is not.
func migrationWords(t *testing.T, h Harness, _, _ sqldb.DB) {
	hidden := func(n string) bool { return strings.EqualFold(n, "secrets") }
	none := func(string) bool { return false }
	r := store.Rules{HiddenTable: hidden, HiddenColumn: none, Guarded: none}
	for _, sql := range []string{
		`DROP TABLE "_nakedhtmx_changes"`,
		`DELETE FROM _nakedhtmx_dsid`,
		`CREATE VIEW v AS SELECT * FROM secrets`,
	} {
		if h.Store.MigrationRefusal(sql, r) == "" {
			t.Errorf("refused by its words: %s", sql)
		}
	}
	if why := h.Store.MigrationRefusal(`ALTER TABLE people ADD COLUMN nick TEXT`, r); why != "" {
		t.Errorf("an ordinary migration was refused: %s", why)
	}
}

// Values is what sql reads from db, every value as JSON, joined by commas
// in row order: one string a test compares whole.
func Values(t testing.TB, db sqldb.DB, sql string) string {
	t.Helper()
	r, err := db.Query(sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var out []string
	for _, row := range r.Values {
		for _, v := range row {
			b, _ := json.Marshal(v)
			out = append(out, string(b))
		}
	}
	return strings.Join(out, ",")
}
