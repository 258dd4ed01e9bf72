package postgres_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	hostpg "github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/store/postgres"
)

const appSchema = `
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE artist (id serial PRIMARY KEY, name text NOT NULL, born date, active boolean NOT NULL DEFAULT true);
CREATE TABLE album (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title varchar(80) NOT NULL,
  artist_id integer NOT NULL REFERENCES artist (id), price numeric(6,2) CHECK (price >= 0), m mood, released timestamptz);
INSERT INTO artist (name, born) VALUES ('AC/DC', '1973-11-01'), ('Accept', NULL);
INSERT INTO album (title, artist_id, price, m, released) VALUES ('For Those About To Rock', 1, 9.99, 'happy', '1981-11-23 10:00:00+00');
CREATE VIEW slow AS SELECT 1 AS s FROM pg_sleep(5);`

// connect opens a connection to url, closed when the test ends, and runs
// script on it first (when given).
func connect(t testing.TB, url, script string) *hostpg.DB {
	t.Helper()
	db, err := hostpg.Open(url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if script != "" {
		if err := db.Script(script); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// pgEngine opens the engine on db with the Postgres store (its log lines
// dropped unless opts says where they go).
func pgEngine(t testing.TB, db *hostpg.DB, opts engine.Options) *engine.Engine {
	t.Helper()
	opts.Store = postgres.New("")
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	e, err := engine.Open(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// pgApp is an engine over a fresh Postgres database with appSchema, and a
// second connection for writes from outside.
func pgApp(t *testing.T) (*engine.Engine, *hostpg.DB, *hostpg.DB) {
	t.Helper()
	url := pgtest.URL(t)
	other := connect(t, url, appSchema)
	db := connect(t, url, "")
	return pgEngine(t, db, engine.Options{}), db, other
}

func call(t *testing.T, e *engine.Engine, method, path, body string, headers ...string) *protocol.Response {
	t.Helper()
	h := map[string]string{"host": "localhost", "accept": "application/json", "content-type": "application/json"}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	p, q, _ := strings.Cut(path, "?")
	return e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: method, Path: p, Query: q, Headers: h}, Body: []byte(body)})
}

// The app on Postgres: pages and the JSON API read and write with the types
// a user expects, search reads any column, two editors of one row get one
// 409, outside writes and outside schema changes reach the app, and a
// statement past the time limit is one 503.
func TestEngineOnPostgres(t *testing.T) {
	e, db, other := pgApp(t)
	for _, path := range []string{"/", "/t/artist", "/t/album", "/t/album/r/1", "/t/album/new", "/t/artist?q=1973", "/t/artist?q=acc"} {
		if res := call(t, e, "GET", path, "", "accept", "text/html"); res.Status != 200 {
			t.Fatalf("%s: %d %s", path, res.Status, res.Body)
		}
	}
	res := call(t, e, "GET", "/api/tables/album/rows", "")
	if !strings.Contains(string(res.Body), `"price":9.99,"m":"happy","released":"1981-11-23T10:00:00Z"`) {
		t.Errorf("album rows: %s", res.Body)
	}
	res = call(t, e, "GET", "/t/artist?q=acc", "", "accept", "text/html")
	if !strings.Contains(string(res.Body), "Accept") || strings.Contains(string(res.Body), "AC/DC") {
		t.Errorf("a search for acc finds Accept only (any case): %.2000s", res.Body)
	}
	// The schema: an identity key is not asked for, an enum is an enum,
	// varchar(80) a maxLength, a CHECK a minimum, a boolean a boolean.
	var sch struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	json.Unmarshal(call(t, e, "GET", "/api/schema/album", "").Body, &sch)
	for _, want := range []string{`"enum":["happy","sad",null]`, `"maxLength":80`, `"minimum":0`} {
		if !strings.Contains(string(call(t, e, "GET", "/api/schema/album", "").Body), want) {
			t.Errorf("album's schema lacks %s", want)
		}
	}
	for _, r := range sch.Required {
		if r == "id" {
			t.Errorf("an identity key is required on create: %v", sch.Required)
		}
	}
	if !strings.Contains(string(call(t, e, "GET", "/api/schema/artist", "").Body), `"active":{"type":"boolean"`) {
		t.Errorf("artist.active is not a boolean: %s", call(t, e, "GET", "/api/schema/artist", "").Body)
	}
	// Writes.
	res = call(t, e, "POST", "/api/tables/artist/rows", `{"name":"Ada","born":"1815-12-10","active":false}`)
	if res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var created struct {
		Row     map[string]any `json:"row"`
		Version string         `json:"version"`
	}
	json.Unmarshal(res.Body, &created)
	if created.Row["active"] != false || created.Row["born"] != "1815-12-10" {
		t.Errorf("created row %v", created.Row)
	}
	id := "3"
	res = call(t, e, "POST", "/api/tables/album/rows", `{"title":"Notes","artist_id":3,"price":-1}`)
	if res.Status != 422 {
		t.Errorf("a price below the CHECK's minimum: %d %s", res.Status, res.Body)
	}
	ok := call(t, e, "PATCH", "/api/tables/artist/rows/"+id, `{"name":"Ada L"}`, "if-match", created.Version)
	stale := call(t, e, "PATCH", "/api/tables/artist/rows/"+id, `{"name":"Ada Lovelace"}`, "if-match", created.Version)
	if ok.Status != 200 || stale.Status != 409 {
		t.Errorf("two editors, one row: %d and %d, want 200 and 409 (%s)", ok.Status, stale.Status, stale.Body)
	}
	// An outside write reaches the live messages.
	e.Tick()
	if _, err := other.Exec(`UPDATE artist SET name = 'Accept!' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	var told bool
	for _, m := range e.Tick().Messages {
		told = told || strings.Contains(m.API, `"op":"update"`) && strings.Contains(m.API, `"pk":{"id":2}`)
	}
	if !told {
		t.Errorf("an outside update was not told")
	}
	// An outside schema change: a new DSID, the new column served.
	before := e.DSID()
	if err := other.Script(`ALTER TABLE artist ADD COLUMN country text`); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(call(t, e, "GET", "/api/schema/artist", "").Body), `"country"`) || e.DSID() == before {
		t.Errorf("after ALTER TABLE: DSID %s (was %s), schema %s", e.DSID(), before, call(t, e, "GET", "/api/schema/artist", "").Body)
	}
	// A statement past the time limit: 503, and the app goes on.
	db.Limit(300 * time.Millisecond)
	res = call(t, e, "GET", "/t/slow", "", "accept", "text/html")
	db.Limit(0)
	if res.Status != 503 || !strings.Contains(string(res.Body), "ran past the limit") {
		t.Errorf("a statement past the limit: %d %.300s", res.Status, res.Body)
	}
	if res := call(t, e, "GET", "/api/tables/artist/rows", ""); res.Status != 200 {
		t.Errorf("after the 503: %d %s", res.Status, res.Body)
	}
}

// A connection the server ends (a restart, an administrator's
// pg_terminate_backend): the request that finds it gone answers 503, the
// next ones are served on a new connection.
func TestEngineReconnects(t *testing.T) {
	e, _, other := pgApp(t)
	if res := call(t, e, "GET", "/api/tables/artist/rows", ""); res.Status != 200 {
		t.Fatal(res.Status)
	}
	if _, err := other.Query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	first := call(t, e, "GET", "/api/tables/artist/rows", "")
	if first.Status != 200 && first.Status != 503 {
		t.Errorf("the request that found the connection gone: %d %s", first.Status, first.Body)
	}
	for i := 0; i < 3; i++ {
		if res := call(t, e, "GET", "/api/tables/artist/rows", ""); res.Status != 200 {
			t.Errorf("after the server ended the connection: %d %s", res.Status, res.Body)
		}
	}
	if res := call(t, e, "POST", "/api/tables/artist/rows", `{"name":"After"}`); res.Status != 201 {
		t.Errorf("a write after reconnecting: %d %s", res.Status, res.Body)
	}
}

// A role that may only read gets a read-only app, with a clear message,
// never a crash: pages and the API read, writes are refused.
func TestEngineReadOnlyRole(t *testing.T) {
	url := pgtest.URL(t)
	connect(t, url, appSchema+`;
		DROP ROLE IF EXISTS nh_reader; CREATE ROLE nh_reader LOGIN;
		GRANT USAGE ON SCHEMA public TO nh_reader; GRANT SELECT ON ALL TABLES IN SCHEMA public TO nh_reader;`)
	db := connect(t, strings.Replace(url, "://postgres@", "://nh_reader@", 1), "")
	var logged []string
	e := pgEngine(t, db, engine.Options{Log: func(f string, a ...any) { logged = append(logged, f) }})
	if !strings.Contains(strings.Join(logged, "\n"), "read-only") {
		t.Errorf("no word of read-only at start: %q", logged)
	}
	for _, path := range []string{"/t/artist", "/api/tables/album/rows"} {
		if res := call(t, e, "GET", path, "", "accept", "text/html"); res.Status != 200 {
			t.Errorf("%s: %d %s", path, res.Status, res.Body)
		}
	}
	res := call(t, e, "POST", "/api/tables/artist/rows", `{"name":"No"}`)
	if res.Status < 400 || res.Status == 500 || !strings.Contains(strings.ToLower(string(res.Body)), "read-only") {
		t.Errorf("a write as a reader: %d %s", res.Status, res.Body)
	}
}

// Migrations on Postgres: an ordinary one runs and the app follows it;
// what reaches outside the database, runs code, changes who runs it or
// touches the project's own schema is refused by its words (Postgres has no
// authorizer callback), and nothing of it runs.
func TestMigrationsOnPostgres(t *testing.T) {
	db := connect(t, pgtest.URL(t), appSchema)
	const token = "a-postgres-migration-token-32chr"
	e := pgEngine(t, db, engine.Options{AuthToken: token})
	migrate := func(sql string) *protocol.Response {
		return call(t, e, "POST", "/api/migrations", sql, "content-type", "application/sql", "authorization", "Bearer "+token)
	}
	for _, sql := range []string{
		`COPY artist TO '/tmp/nh-leak.csv'`,
		`COPY artist FROM PROGRAM 'id'`,
		`CREATE TABLE leak AS SELECT pg_read_file('/etc/passwd') AS f`,
		`DO $$ BEGIN PERFORM 1; END $$`,
		`CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'`,
		`SET ROLE postgres`,
		`CREATE TABLE leak2 AS SELECT * FROM "_nakedhtmx"."_nakedhtmx_changes"`,
		`DELETE FROM _nakedhtmx_changes`,
		`CREATE EXTENSION dblink`,
		`ALTER SYSTEM SET fsync = off`,
		`CREATE TABLE t2 (x text DEFAULT E'\\'')`,
	} {
		if res := migrate(sql); res.Status != 403 {
			t.Errorf("%s: %d %s", sql, res.Status, res.Body)
		}
	}
	if rs, err := db.Query(`SELECT count(*) FROM pg_class WHERE relname IN ('leak', 'leak2', 't2')`); err != nil || rs.Values[0][0] != int64(0) {
		t.Errorf("a refused migration left something: %v %v", rs, err)
	}
	before := e.DSID()
	if res := migrate(`ALTER TABLE artist ADD COLUMN country text; CREATE INDEX artist_country ON artist (country)`); res.Status != 200 {
		t.Fatalf("an ordinary migration: %d %s", res.Status, res.Body)
	}
	if e.DSID() == before || !strings.Contains(string(call(t, e, "GET", "/api/schema/artist", "", "authorization", "Bearer "+token).Body), `"country"`) {
		t.Errorf("the app did not follow the migration: DSID %s (was %s), %s", e.DSID(), before, call(t, e, "GET", "/api/schema/artist", "", "authorization", "Bearer "+token).Body)
	}
	if res := migrate(`ALTER TABLE artist ADD COLUMN broken int; SELECT 1/0`); res.Status != 422 {
		t.Errorf("a migration that fails: %d %s", res.Status, res.Body)
	}
	if strings.Contains(string(call(t, e, "GET", "/api/schema/artist", "", "authorization", "Bearer "+token).Body), `"broken"`) {
		t.Errorf("a failed migration left half of itself")
	}
}

// Two servers on one Postgres database, one row, two editors at once with
// the same version: exactly one wins, the other gets 409; and a client of a
// server started afterwards resumes the event stream with Last-Event-ID,
// with no gap and no repeat.
func TestTwoServersOneRow(t *testing.T) {
	url := pgtest.URL(t)
	open := func() *engine.Engine { return pgEngine(t, connect(t, url, ""), engine.Options{}) }
	connect(t, url, appSchema)
	a, b := open(), open()
	var row struct {
		Version string `json:"version"`
	}
	json.Unmarshal(call(t, a, "GET", "/api/tables/artist/rows/1", "").Body, &row)
	for round := 0; round < 5; round++ {
		statuses := make(chan int, 2)
		for i, e := range []*engine.Engine{a, b} {
			go func() {
				// Values no one wrote before: a write of what is there already
				// changes nothing and keeps the version (both would pass).
				res := call(t, e, "PATCH", "/api/tables/artist/rows/1", fmt.Sprintf(`{"name":"editor %c, round %d"}`, 'A'+i, round), "if-match", row.Version)
				statuses <- res.Status
			}()
		}
		s1, s2 := <-statuses, <-statuses
		if !(s1 == 200 && s2 == 409 || s1 == 409 && s2 == 200) {
			t.Fatalf("round %d: two editors of one version got %d and %d, want one 200 and one 409", round, s1, s2)
		}
		json.Unmarshal(call(t, a, "GET", "/api/tables/artist/rows/1", "").Body, &row)
	}
	// Resume on a server started now: everything after event 2, once.
	c := open()
	res := call(t, c, "GET", "/api/events", "", "last-event-id", "2")
	body := string(res.Body)
	for _, want := range []string{"id: 3\nevent: change", "id: 4\nevent: change", "id: 5\nevent: change"} {
		if !strings.Contains(body, want) {
			t.Errorf("the resumed backlog lacks %q:\n%.1500s", want, body)
		}
	}
	if strings.Contains(body, "id: 2\n") || strings.Contains(body, "id: 1\n") {
		t.Errorf("the resumed backlog repeats what the client had:\n%.1500s", body)
	}
}

// What Postgres has and SQLite lacks, reflected as a user expects:
// comments as descriptions, a self-referencing and a composite foreign key,
// an automatically updatable view that takes writes by its id.
func TestPostgresReflection(t *testing.T) {
	db := connect(t, pgtest.URL(t), `
		CREATE TABLE emp (id serial PRIMARY KEY, name text NOT NULL, boss integer REFERENCES emp (id));
		COMMENT ON TABLE emp IS 'People who work here';
		COMMENT ON COLUMN emp.boss IS 'Whom they report to';
		INSERT INTO emp (name, boss) VALUES ('Ada', NULL), ('Grace', 1);
		CREATE TABLE line (order_id integer, n integer, item text, PRIMARY KEY (order_id, n));
		CREATE TABLE note (id serial PRIMARY KEY, order_id integer, n integer, body text, FOREIGN KEY (order_id, n) REFERENCES line);
		INSERT INTO line VALUES (7, 1, 'tea'); INSERT INTO note (order_id, n, body) VALUES (7, 1, 'hot');
		CREATE VIEW bosses AS SELECT id, name FROM emp WHERE boss IS NULL;`)
	e := pgEngine(t, db, engine.Options{})
	sch := string(call(t, e, "GET", "/api/schema/emp", "").Body)
	for _, want := range []string{`"description":"People who work here"`, `"description":"Whom they report to"`} {
		if !strings.Contains(sch, want) {
			t.Errorf("emp's schema lacks %s: %s", want, sch)
		}
	}
	// The self-reference shows its label; the composite key links the whole key.
	if page := string(call(t, e, "GET", "/t/emp/r/2", "", "accept", "text/html").Body); !strings.Contains(page, "Ada") {
		t.Errorf("Grace's boss is not shown by label: %.2000s", page)
	}
	if page := string(call(t, e, "GET", "/t/note", "", "accept", "text/html").Body); !strings.Contains(page, `/t/line/r/`) {
		t.Errorf("a note does not link its line by the whole key: %.3000s", page)
	}
	// The updatable view takes a write by id, through Postgres.
	res := call(t, e, "PATCH", "/api/tables/bosses/rows/1", `{"name":"Ada L"}`)
	if res.Status != 200 {
		t.Fatalf("a write through an updatable view: %d %s", res.Status, res.Body)
	}
	if rs, err := db.Query(`SELECT name FROM emp WHERE id = 1`); err != nil || rs.Values[0][0] != "Ada L" {
		t.Errorf("the write through the view: %v %v", rs, err)
	}
}

// TestKeyGivenByHand: a row given its identity key by hand (as the fixture
// loads do, or an API caller) moves the sequence past it, so the next row
// the database numbers does not collide, as SQLite's rowid does not.
func TestKeyGivenByHand(t *testing.T) {
	for _, decl := range []string{"integer GENERATED BY DEFAULT AS IDENTITY", "serial"} {
		db := connect(t, pgtest.URL(t), `CREATE TABLE n (id `+decl+` PRIMARY KEY, v text)`)
		e := pgEngine(t, db, engine.Options{})
		for i, body := range []string{`{"id":5,"v":"by hand"}`, `{"v":"numbered"}`, `{"id":7,"v":"by hand"}`, `{"v":"numbered"}`} {
			res := call(t, e, "POST", "/api/tables/n/rows", body)
			if res.Status != 201 {
				t.Fatalf("%s: create %d %s: %d %s", decl, i, body, res.Status, res.Body)
			}
		}
		rs, err := db.Query(`SELECT string_agg(id::text, ',' ORDER BY id) FROM n`)
		if err != nil || rs.Values[0][0] != "5,6,7,8" {
			t.Errorf("%s: keys %v %v, want 5,6,7,8", decl, rs, err)
		}
	}
}

// TestValuesOfAnotherType: a key, filter or cursor that cannot be of its
// column's type finds nothing, as on SQLite (404, an empty list), where
// Postgres itself refuses to compare it.
func TestValuesOfAnotherType(t *testing.T) {
	db := connect(t, pgtest.URL(t), `CREATE TABLE v (id integer PRIMARY KEY, day date, ok boolean, n smallint);
		INSERT INTO v VALUES (1, '2024-01-02', true, 3)`)
	e := pgEngine(t, db, engine.Options{})
	for _, tc := range []struct {
		path string
		want int
		body string
	}{
		{"/api/tables/v/rows/abc", 404, ""},
		{"/api/tables/v/rows/99999999999999999999", 404, ""},
		{"/api/tables/v/rows?f.day=not-a-date", 200, `"rows":[]`},
		{"/api/tables/v/rows?f.ok=maybe", 200, `"rows":[]`},
		{"/api/tables/v/rows?f.n=70000", 200, `"rows":[]`},
		{"/api/tables/v/rows?f.id=1.5", 200, `"rows":[]`},
		{"/api/tables/v/rows?f.day=2024-01-02", 200, `"id":1`},
	} {
		res := call(t, e, "GET", tc.path, "")
		if res.Status != tc.want || !strings.Contains(string(res.Body), tc.body) {
			t.Errorf("GET %s: %d %s, want %d with %s", tc.path, res.Status, res.Body, tc.want, tc.body)
		}
	}
	if page := call(t, e, "GET", "/t/v?f.n=abc", "", "accept", "text/html"); page.Status != 200 {
		t.Errorf("a page filtered by a value of another type: %d", page.Status)
	}
}

// TestIndexCountsOneUnreadable: the index page asks every table's count in
// one statement; a table the role may not read fails that statement, and
// the others are still counted (asked again one by one).
func TestIndexCountsOneUnreadable(t *testing.T) {
	url := pgtest.URL(t)
	connect(t, url, `CREATE TABLE open_one (id int PRIMARY KEY); INSERT INTO open_one VALUES (1), (2), (3);
		CREATE TABLE closed_one (id int PRIMARY KEY); INSERT INTO closed_one VALUES (1);
		DROP ROLE IF EXISTS nh_partial; CREATE ROLE nh_partial LOGIN;
		GRANT USAGE ON SCHEMA public TO nh_partial; GRANT SELECT ON open_one TO nh_partial;`)
	db := connect(t, strings.Replace(url, "://postgres@", "://nh_partial@", 1), "")
	e := pgEngine(t, db, engine.Options{})
	res := call(t, e, "GET", "/", "", "accept", "text/html")
	if res.Status != 200 {
		t.Fatalf("GET /: %d %s", res.Status, res.Body)
	}
	page := string(res.Body)
	i := strings.Index(page, `/t/open_one"`)
	if i < 0 || !strings.Contains(page[i:min(len(page), i+400)], ">3<") {
		t.Errorf("open_one's count of 3 is not on the index page: %.3000s", page)
	}
}

// TestSecondStartNoDDL: a database this version set up is not set up again
// at the next start: no DDL, so the DDL count (which every other server on
// the database watches) does not move.
func TestSecondStartNoDDL(t *testing.T) {
	db := connect(t, pgtest.URL(t), appSchema)
	pgEngine(t, db, engine.Options{})
	count := func() any {
		rs, err := db.Query(`SELECT n FROM "_nakedhtmx"."_nakedhtmx_ddl" WHERE id = 1`)
		if err != nil || len(rs.Values) != 1 {
			t.Fatalf("the DDL count: %v %v", rs, err)
		}
		return rs.Values[0][0]
	}
	before := count()
	pgEngine(t, db, engine.Options{})
	if after := count(); after != before {
		t.Errorf("a second start ran DDL: the count moved from %v to %v", before, after)
	}
}

// An import of many rows on Postgres: runs of rows in one INSERT each, every
// row's values filled into its log entry by one statement per run, and a
// refused row named by its line with nothing written.
func TestImportManyRowsOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	other := connect(t, url, `CREATE TABLE things (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE, qty integer DEFAULT 5)`)
	e := pgEngine(t, connect(t, url, ""), engine.Options{})
	var b strings.Builder
	b.WriteString("name,qty\n")
	for i := 0; i < 600; i++ {
		fmt.Fprintf(&b, "thing %d,%d\n", i, i%3)
	}
	if r := call(t, e, "POST", "/api/tables/things/rows", b.String(), "content-type", "text/csv"); r.Status != 201 || !strings.Contains(string(r.Body), `"inserted":600`) {
		t.Fatalf("the import: %d %s", r.Status, r.Body)
	}
	rs, err := other.Query(`SELECT count(*) FROM "_nakedhtmx"."_nakedhtmx_changes" WHERE tbl = 'things' AND new LIKE '{"id":%,"name":"thing %'`)
	if err != nil || fmt.Sprint(rs.Values) != "[[600]]" {
		t.Fatalf("the log's values of the imported rows: %v %v", rs, err)
	}
	b.Reset()
	b.WriteString("name\nnew 1\nnew 2\nthing 7\nnew 3\n")
	if r := call(t, e, "POST", "/api/tables/things/rows", b.String(), "content-type", "text/csv"); r.Status != 422 || !strings.Contains(string(r.Body), `"line":4`) {
		t.Fatalf("a refused row: %d %s", r.Status, r.Body)
	}
	if rs, err := other.Query(`SELECT count(*) FROM things`); err != nil || fmt.Sprint(rs.Values) != "[[600]]" {
		t.Fatalf("rows after a refused import: %v %v", rs, err)
	}
	// Keys given in the file move the identity past them, as a create's do:
	// the next row the database numbers does not collide.
	if r := call(t, e, "POST", "/api/tables/things/rows", "id,name\n5000,given\n5001,given too\n", "content-type", "text/csv"); r.Status != 201 {
		t.Fatalf("an import with keys: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "POST", "/api/tables/things/rows", `{"name": "numbered"}`); r.Status != 201 || !strings.Contains(string(r.Body), `"id":5002`) {
		t.Fatalf("a create after an import with keys: %d %s", r.Status, r.Body)
	}
}

// Sign-in sessions on Postgres are kept in the project's own schema: a
// second engine on the database knows them, and signing out ends them.
func TestSessionsOnPostgres(t *testing.T) {
	const token = "a-token-of-sixteen-chars"
	url := pgtest.URL(t)
	other := connect(t, url, `CREATE TABLE t (id integer PRIMARY KEY)`)
	e := pgEngine(t, connect(t, url, ""), engine.Options{AuthToken: token})
	second := pgEngine(t, connect(t, url, ""), engine.Options{AuthToken: token})
	in := call(t, e, "POST", "/signin", "token="+token, "content-type", "application/x-www-form-urlencoded", "accept", "text/html")
	jar, _, _ := strings.Cut(in.Header("set-cookie"), ";")
	if in.Status != 303 || jar == "" {
		t.Fatalf("sign-in: %d %v", in.Status, in.Headers)
	}
	page := func(e *engine.Engine) int {
		return call(t, e, "GET", "/t/t", "", "accept", "text/html", "cookie", jar).Status
	}
	if got := page(second); got != 200 {
		t.Fatalf("the session on a second engine: %d", got)
	}
	if rs, err := other.Query(`SELECT count(*) FROM "_nakedhtmx"."_nakedhtmx_sessions"`); err != nil || fmt.Sprint(rs.Values) != "[[1]]" {
		t.Fatalf("the sessions table: %v %v", rs, err)
	}
	call(t, second, "POST", "/signout", "", "accept", "text/html", "cookie", jar)
	if got := page(e); got != 401 {
		t.Fatalf("after signing out on the other engine: %d", got)
	}
}
