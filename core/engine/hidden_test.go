package engine_test

import (
	"strings"
	"testing"

	hostpg "github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	pgstore "github.com/nakedhtmx/nakedhtmx/core/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// hiddenConfig hides a table and a column that would otherwise be its
// table's label, and makes a column read-only; hiddenFixture is the data.
const (
	hiddenConfig  = `{"tables": {"secrets": {"hidden": true}, "people": {"columns": {"hush_label": {"hidden": true}, "note": {"readOnly": true}}}}, "queries": {"walk": {"sql": "SELECT * FROM people"}, "walk2": {"sql": "SELECT p.nick, s.id FROM people p, secrets s"}}}`
	hiddenFixture = `
		CREATE TABLE secrets (id INTEGER PRIMARY KEY, code TEXT);
		INSERT INTO secrets VALUES (1, 'HIDDENTABLEVALUE'), (2, 'HIDDENTABLEVALUE');
		CREATE TABLE people (id INTEGER PRIMARY KEY, hush_label TEXT NOT NULL DEFAULT 'HIDDENDEFAULT', nick TEXT, secret_id INTEGER REFERENCES secrets(id), note TEXT);
		INSERT INTO people VALUES (1, 'HIDDENCOLVALUE', 'Ann', 1, 'hello');
		CREATE TABLE pets (id INTEGER PRIMARY KEY, owner INTEGER REFERENCES people(id), pet TEXT);
		INSERT INTO pets VALUES (1, 1, 'Rex');
		CREATE VIRTUAL TABLE people_fts USING fts5(hush_label, nick, content='people', content_rowid='id');
		INSERT INTO people_fts (rowid, hush_label, nick) VALUES (1, 'HIDDENCOLVALUE', 'Ann');`
)

// hiddenLeaks are what no answer may hold: hidden values and names.
var hiddenLeaks = []string{"HIDDENCOLVALUE", "HIDDENTABLEVALUE", "HIDDENDEFAULT", "secrets", "hush_label", "people_fts"}

// hiddenEngine is an engine over hiddenFixture with hiddenConfig.
func hiddenEngine(t *testing.T) *engine.Engine {
	t.Helper()
	cfg, err := engine.ParseConfig([]byte(hiddenConfig))
	if err != nil {
		t.Fatal(err)
	}
	e, _, _ := liveDBWith(t, hiddenFixture, engine.Options{Config: cfg})
	return e
}

// hiddenEnginePostgres is hiddenEngine on Postgres: the same tables and
// rows (Postgres has no FTS5 index), in a fresh database of a throw-away
// cluster.
func hiddenEnginePostgres(t *testing.T) *engine.Engine {
	t.Helper()
	cfg, err := engine.ParseConfig([]byte(hiddenConfig))
	if err != nil {
		t.Fatal(err)
	}
	db, err := hostpg.Open(pgtest.URL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fixture := hiddenFixture[:strings.Index(hiddenFixture, "CREATE VIRTUAL TABLE")]
	if err := db.Script(fixture); err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(db, engine.Options{Config: cfg, Store: pgstore.New(""), Log: func(string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// What the config hides shows on no path: a hidden table, and a hidden
// column that would otherwise be its table's label, through every route
// (pages, the API, CSV, history, "view as of", the change list, the event
// backlogs, command schemas, searches, filters and errors).
func TestHiddenNeverShows(t *testing.T) {
	e := hiddenEngine(t)
	if r := do(t, e, "PATCH", "/api/tables/people/rows/1", `{"nick": "Anna"}`); r.Status != 200 {
		t.Fatalf("PATCH: %d %s", r.Status, r.Body)
	}
	leaks := hiddenLeaks
	check := func(what string, status int, body string, headers [][2]string) {
		t.Helper()
		if status >= 500 {
			t.Errorf("%s: %d %s", what, status, body)
		}
		all := body
		for _, h := range headers {
			all += "\n" + h[0] + ": " + h[1]
		}
		for _, l := range leaks {
			if strings.Contains(all, l) {
				t.Errorf("%s shows %q:\n%.600s", what, l, all)
			}
		}
	}
	for _, path := range []string{
		"/", "/t/people", "/t/people?sort=nick&desc=1", "/t/people/r/1", "/t/people/r/1/history", "/t/people/r/1?asof=1",
		"/t/people/r/1?asof=2", "/t/people/r/1?asof=3", "/t/people/changes", "/t/people/new", "/t/people/options?q=A",
		"/t/pets", "/t/pets/r/1", "/t/pets/new", "/t/pets/options?q=R", "/t/people/r/1/delete",
		"/api/schema", "/api/schema/people", "/api/schema/pets", "/api/tables/people/rows", "/api/tables/people/rows/1",
		"/api/tables/people/rows.csv", "/api/tables/pets/rows", "/api/tables/pets/rows.csv", "/api/commands",
		"/api/events?after=0", "/api/events?table=people&after=0", "/t/people/live?after=0",
		"/t/people?q=Ann", "/api/tables/people/rows?q=Ann",
	} {
		for _, accept := range []string{"text/html", "application/json"} {
			r := do(t, e, "GET", path, "", "accept", accept)
			check("GET "+path+" ("+accept+")", r.Status, string(r.Body), r.Headers)
		}
	}
	// A hidden table or column is answered exactly as one that does not
	// exist (the caller's own words echoed back, nothing more).
	for _, p := range [][2]string{
		{"/t/secrets", "/t/nosuchtable"}, {"/api/tables/secrets/rows", "/api/tables/nosuchtable/rows"},
		{"/api/schema/secrets", "/api/schema/nosuchtable"}, {"/t/secrets/r/1", "/t/nosuchtable/r/1"},
		{"/api/tables/people/rows?f.hush_label=HIDDENCOLVALUE", "/api/tables/people/rows?f.nosuchcolumn=HIDDENCOLVALUE"},
		{"/api/tables/people/rows?sort=hush_label", "/api/tables/people/rows?sort=nosuchcolumn"},
		{"/api/tables/people/rows?null=hush_label", "/api/tables/people/rows?null=nosuchcolumn"},
	} {
		for _, accept := range []string{"text/html", "application/json"} {
			a, b := do(t, e, "GET", p[0], "", "accept", accept), do(t, e, "GET", p[1], "", "accept", accept)
			if a.Status != b.Status {
				t.Errorf("%s: %d, %s: %d", p[0], a.Status, p[1], b.Status)
			}
			strip := func(s, _ string) string {
				for _, n := range []string{"secrets", "hush_label", "nosuchtable", "nosuchcolumn"} {
					s = strings.ReplaceAll(s, n, "X")
				}
				return s
			}
			if strip(string(a.Body), p[0]) != strip(string(b.Body), p[1]) {
				t.Errorf("%s answers unlike %s:\n%.300s\n%.300s", p[0], p[1], a.Body, b.Body)
			}
		}
	}
	// A search for the hidden value finds nothing (no oracle); one for a
	// shown value does.
	if r := do(t, e, "GET", "/api/tables/people/rows?q=HIDDENCOLVALUE", ""); !strings.Contains(string(r.Body), `"rows":[]`) {
		t.Errorf("a search for a hidden value: %s", r.Body)
	}
	if r := do(t, e, "GET", "/api/tables/people/rows?q=Anna", ""); !strings.Contains(string(r.Body), `"nick":"Anna"`) {
		t.Errorf("a search for a shown value: %s", r.Body)
	}
	// Writes: a hidden column is unknown, a read-only one refused, and one
	// that refers to a hidden table is refused alike whether its key exists.
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/tables/people/rows", `{"hush_label": "x"}`, 422},
		{"PATCH", "/api/tables/people/rows/1", `{"note": "changed"}`, 422},
		{"PATCH", "/api/tables/people/rows/1", `{"note": "hello"}`, 200}, // its value unchanged: no write
		{"POST", "/api/tables/secrets/rows", `{"code": "x"}`, 404},
	} {
		r := do(t, e, c.method, c.path, c.body)
		if r.Status != c.want {
			t.Errorf("%s %s %s: %d, want %d: %s", c.method, c.path, c.body, r.Status, c.want, r.Body)
		}
		if !strings.Contains(c.body, "hush_label") && !strings.Contains(c.path, "secrets") {
			check(c.method+" "+c.path, r.Status, string(r.Body), r.Headers)
		}
	}
	exists := do(t, e, "PATCH", "/api/tables/people/rows/1", `{"secret_id": 2}`) // no such key either way: the same answer
	absent := do(t, e, "PATCH", "/api/tables/people/rows/1", `{"secret_id": 999}`)
	if exists.Status != 422 || string(exists.Body) != string(absent.Body) {
		t.Errorf("a reference to a hidden table is an oracle: %d %s / %d %s", exists.Status, exists.Body, absent.Status, absent.Body)
	}
	// A database error naming a hidden column is told without its name.
	if r := do(t, e, "POST", "/api/tables/people/rows", `{"nick": "Bo"}`); r.Status != 201 {
		t.Errorf("create without the hidden column (its default fills it): %d %s", r.Status, r.Body)
	}
}
