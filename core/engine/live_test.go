package engine_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// liveDB opens an engine and a second, independent connection to the same
// file: the "outside writer" (the sqlite3 shell, another process).
func liveDB(t *testing.T, schema string) (*engine.Engine, *sqlite.DB, *sqlite.DB) {
	t.Helper()
	e, db, other := liveDBWith(t, schema, engine.Options{})
	return e, db.DB, other
}

// liveDBWith is liveDB with options, and the engine's connection wrapped in
// a racyDB, so a test can run something of its own before any query.
func liveDBWith(t *testing.T, schema string, opts engine.Options) (*engine.Engine, *racyDB, *sqlite.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "live.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Script(schema); err != nil {
		t.Fatal(err)
	}
	racy := &racyDB{DB: db}
	e, err := engine.Open(racy, opts)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return e, racy, other
}

func do(t *testing.T, e *engine.Engine, method, path, body string, headers ...string) *protocol.Response {
	t.Helper()
	h := map[string]string{"host": "localhost", "content-type": "application/json"}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	p, q, _ := strings.Cut(path, "?")
	return e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: method, Path: p, Query: q, Headers: h}, Body: []byte(body)})
}

type apiEvent struct {
	Seq      int64           `json:"seq"`
	Table    string          `json:"table"`
	Op       string          `json:"op"`
	PK       map[string]any  `json:"pk"`
	DSID     string          `json:"dsid"`
	Previous string          `json:"previous"`
	Changes  json.RawMessage `json:"changes"`
}

func events(t *testing.T, msgs []protocol.Message) (out []apiEvent) {
	t.Helper()
	for _, m := range msgs {
		if m.API == "" {
			continue
		}
		_, data, ok := strings.Cut(m.API, "\ndata: ")
		if !ok {
			t.Fatalf("message without data: %q", m.API)
		}
		var ev apiEvent
		if err := json.Unmarshal([]byte(strings.TrimSpace(data)), &ev); err != nil {
			t.Fatalf("event data %q: %v", data, err)
		}
		if ev.Seq != m.ID {
			t.Fatalf("event seq %d, message id %d", ev.Seq, m.ID)
		}
		out = append(out, ev)
	}
	return out
}

func TestLiveOwnAndOutsideWrites(t *testing.T) {
	e, _, other := liveDB(t, `CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)`)
	if got := e.Tick().Messages; len(got) != 0 {
		t.Fatalf("an idle tick gave %d messages", len(got))
	}
	// Own write: announced by the very next tick, with exact values.
	if res := do(t, e, "POST", "/api/tables/pets/rows", `{"name": "Rex", "age": 3}`); res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	evs := events(t, e.Tick().Messages)
	if len(evs) != 1 || evs[0].Op != "insert" || evs[0].Table != "pets" || evs[0].PK["id"] != float64(1) || evs[0].DSID != e.DSID() {
		t.Fatalf("own insert events: %+v", evs)
	}
	// Outside writes: the sqlite3 shell, another process.
	if err := other.Script(`UPDATE pets SET age = 4 WHERE id = 1; INSERT INTO pets (name) VALUES ('Tom'); DELETE FROM pets WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	msgs := e.Tick().Messages
	evs = events(t, msgs)
	var ops []string
	for _, ev := range evs {
		ops = append(ops, ev.Op)
	}
	if strings.Join(ops, ",") != "update,insert,delete" {
		t.Fatalf("outside ops: %v", ops)
	}
	if !strings.Contains(msgs[0].Page, `"values":{"id":"1","name":"Rex","age":"4"}`) {
		t.Errorf("page message of the update lacks the row's values: %s", msgs[0].Page)
	}
	if !strings.Contains(msgs[0].Page, `\u003ctr id=\"row-1\"\u003e`) {
		t.Errorf("page message of the update lacks the list row: %s", msgs[0].Page)
	}
	// Resume: a client that saw the first event gets the rest, in order, no gap.
	res := do(t, e, "GET", "/api/events", "", "last-event-id", "1")
	if res.Subscribe == nil || res.Subscribe.Format != "api" {
		t.Fatalf("events answer is not a subscription: %+v", res.ResponseHead)
	}
	body := string(res.Body)
	for _, want := range []string{"id: 2\nevent: change", "id: 3\nevent: change", "id: 4\nevent: change"} {
		if !strings.Contains(body, want) {
			t.Errorf("resume backlog lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "id: 1\n") {
		t.Errorf("resume backlog repeats the event the client had:\n%s", body)
	}
	// History keeps old and new values.
	row := do(t, e, "GET", "/t/pets/r/1", "", "accept", "text/html")
	if !strings.Contains(string(row.Body), "nh-live") {
		t.Errorf("row page is not live")
	}
}

func TestLiveSchemaChange(t *testing.T) {
	e, _, other := liveDB(t, `CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)`)
	before := e.DSID()
	if err := other.Script(`ALTER TABLE pets RENAME COLUMN name TO nickname; ALTER TABLE pets ADD COLUMN color TEXT`); err != nil {
		t.Fatal(err)
	}
	evs := events(t, e.Tick().Messages)
	if len(evs) != 1 || evs[0].Previous != before || evs[0].DSID == before || evs[0].DSID != e.DSID() {
		t.Fatalf("schema events: %+v (before %s, now %s)", evs, before, e.DSID())
	}
	want := `[{"kind":"column-renamed","table":"pets","from":"name","column":"nickname"},{"kind":"column-added","table":"pets","column":"color"}]`
	if string(evs[0].Changes) != want {
		t.Errorf("changes = %s\nwant      %s", evs[0].Changes, want)
	}
	// The triggers follow the new columns, and DROP COLUMN is never blocked by them.
	if err := other.Script(`ALTER TABLE pets DROP COLUMN color; INSERT INTO pets (nickname) VALUES ('Kit')`); err != nil {
		t.Fatalf("an outside DROP COLUMN or insert failed: %v", err)
	}
	// The insert is logged when it happens; the schema change when a tick
	// notices it: both arrive, in log order.
	evs = events(t, e.Tick().Messages)
	var kinds []string
	for _, ev := range evs {
		if ev.Changes != nil {
			kinds = append(kinds, "schema:"+string(ev.Changes))
		} else {
			kinds = append(kinds, ev.Op)
		}
	}
	if len(evs) != 2 || !strings.Contains(strings.Join(kinds, " "), `schema:[{"kind":"column-dropped","table":"pets","column":"color"}]`) ||
		!strings.Contains(strings.Join(kinds, " "), "insert") {
		t.Fatalf("after drop column: %v", kinds)
	}
}

func TestStaleWritesAreRemapped(t *testing.T) {
	e, db, other := liveDB(t, `CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, color TEXT, age INTEGER)`)
	old := e.DSID()
	if err := other.Script(`ALTER TABLE pets RENAME COLUMN name TO nickname; ALTER TABLE pets DROP COLUMN color`); err != nil {
		t.Fatal(err)
	}
	// A JSON write against the old schema: the renamed column carries its
	// value, the dropped column's value is kept aside and reported.
	res := do(t, e, "POST", "/api/tables/pets/rows", `{"_dsid": "`+old+`", "name": "Rex", "color": "brown", "age": 3}`)
	if res.Status != 201 {
		t.Fatalf("stale create: %d %s", res.Status, res.Body)
	}
	var got struct {
		Row      map[string]any `json:"row"`
		Remapped struct {
			From     string            `json:"from"`
			To       string            `json:"to"`
			Renamed  map[string]string `json:"renamed"`
			Orphaned map[string]any    `json:"orphaned"`
		} `json:"remapped"`
	}
	if err := json.Unmarshal(res.Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Row["nickname"] != "Rex" || got.Remapped.From != old || got.Remapped.To != e.DSID() ||
		got.Remapped.Renamed["name"] != "nickname" || got.Remapped.Orphaned["color"] != "brown" {
		t.Fatalf("remapped create: %s", res.Body)
	}
	rows, err := db.Query(`SELECT tbl, key, dsid, col, value FROM _nakedhtmx_orphans`)
	if err != nil || len(rows.Values) != 1 {
		t.Fatalf("orphans: %v %v", rows, err)
	}
	if r := rows.Values[0]; r[0] != "pets" || r[1] != `{"id":1}` || r[2] != old || r[3] != "color" || r[4] != `"brown"` {
		t.Errorf("orphan row = %v", r)
	}
	// An HTML form from before the change: the typed value lands in the renamed field.
	res = do(t, e, "POST", "/t/pets/r/1", "_dsid="+old+"&name=Rexie&color=black&age=4",
		"content-type", "application/x-www-form-urlencoded", "accept", "text/html", "hx-request", "true")
	if res.Status != 200 || !strings.Contains(string(res.Body), `value="Rexie"`) || !strings.Contains(string(res.Body), "kept aside") {
		t.Fatalf("stale form: %d %s", res.Status, res.Body)
	}
	// A value the new schema cannot take is a 422 that still reports the mapping.
	res = do(t, e, "PATCH", "/api/tables/pets/rows/1", `{"_dsid": "`+old+`", "name": null}`)
	if res.Status != 422 || !strings.Contains(string(res.Body), `"remapped"`) || !strings.Contains(string(res.Body), `"/nickname"`) {
		t.Fatalf("stale invalid patch: %d %s", res.Status, res.Body)
	}
}

func TestHistoryAndAsOf(t *testing.T) {
	e, _, other := liveDB(t, `CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)`)
	do(t, e, "POST", "/api/tables/pets/rows", `{"name": "Rex", "age": 3}`)
	e.Tick()
	do(t, e, "PATCH", "/api/tables/pets/rows/1", `{"age": 4}`)
	e.Tick()
	other.Script(`UPDATE pets SET name = 'Rexy' WHERE id = 1`)
	e.Tick()
	h := string(do(t, e, "GET", "/t/pets/r/1/history", "", "accept", "text/html").Body)
	for _, want := range []string{"<del>3</del> → <ins>4</ins>", "<del>Rex</del> → <ins>Rexy</ins>", "?asof=1", "<b>insert</b>"} {
		if !strings.Contains(h, want) {
			t.Errorf("history lacks %q:\n%s", want, h)
		}
	}
	asof := do(t, e, "GET", "/t/pets/r/1?asof=2", "", "accept", "text/html")
	if asof.Status != 200 || !strings.Contains(string(asof.Body), `value="4"`) || !strings.Contains(string(asof.Body), `value="Rex"`) ||
		!strings.Contains(string(asof.Body), "nothing here can be saved") {
		t.Errorf("as of change 2: %d\n%s", asof.Status, asof.Body)
	}
	changes := do(t, e, "GET", "/t/pets/changes", "", "accept", "text/html")
	if changes.Status != 200 || strings.Count(string(changes.Body), "<li><div class=\"when\">") != 3 {
		t.Errorf("recent changes: %d\n%s", changes.Status, changes.Body)
	}
}

func TestLiveEveryDDL(t *testing.T) {
	e, _, other := liveDB(t, `CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)`)
	step := func(sql, want string) {
		t.Helper()
		if err := other.Script(sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		var got []string
		for _, ev := range events(t, e.Tick().Messages) {
			if ev.Changes != nil {
				got = append(got, string(ev.Changes))
			} else {
				got = append(got, ev.Table+":"+ev.Op)
			}
		}
		if strings.Join(got, " ") != want {
			t.Errorf("after %s:\n got  %s\n want %s", sql, strings.Join(got, " "), want)
		}
	}
	step(`ALTER TABLE pets RENAME TO animals; INSERT INTO animals (name) VALUES ('Rex')`,
		`animals:insert [{"kind":"table-renamed","table":"animals","from":"pets"}]`)
	step(`INSERT INTO animals (name) VALUES ('Tom')`, `animals:insert`)
	step(`CREATE TABLE toys (id INTEGER PRIMARY KEY, label TEXT)`, `[{"kind":"table-added","table":"toys"}]`)
	step(`CREATE TABLE animals_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age REAL);
		INSERT INTO animals_new SELECT * FROM animals; DROP TABLE animals; ALTER TABLE animals_new RENAME TO animals`,
		`[{"kind":"column-retyped","table":"animals","column":"age","was":["integer","null"],"is":["number","null"]}]`)
	step(`UPDATE animals SET age = 2.5 WHERE id = 1`, `animals:update`)
	step(`DROP TABLE toys`, `[{"kind":"table-dropped","table":"toys"}]`)
}

// racyDB runs hook before each query: a way to commit another connection's
// DDL in the middle of the engine's reflection.
type racyDB struct {
	*sqlite.DB
	hook func(sql string)
}

func (r *racyDB) Query(sql string, args ...any) (*sqldb.Rows, error) {
	if r.hook != nil {
		r.hook(sql)
	}
	return r.DB.Query(sql, args...)
}

// A panic in the middle of a write (here: a connection's hook, before the
// INSERT) is a 500 for that request, its transaction is undone, and the
// next write begins as usual.
func TestPanicInsideAWrite(t *testing.T) {
	e, racy, other := liveDBWith(t, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`, engine.Options{})
	armed := true
	racy.hook = func(sql string) {
		if armed && strings.HasPrefix(sql, `INSERT INTO "t"`) {
			armed = false
			panic("a connection's bug")
		}
	}
	if res := do(t, e, "POST", "/api/tables/t/rows", `{"v": "trapped"}`, "accept", "application/json"); res.Status != 500 {
		t.Fatalf("the write that panicked: %d %s", res.Status, res.Body)
	}
	if res := do(t, e, "POST", "/api/tables/t/rows", `{"v": "after"}`, "accept", "application/json"); res.Status != 201 {
		t.Fatalf("the write after it: %d %s", res.Status, res.Body)
	}
	rows, err := other.Query(`SELECT v FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows.Values) != 1 || rows.Values[0][0] != "after" {
		t.Fatalf("rows: %v, want [[after]]", rows.Values)
	}
}

// DDL that another connection commits while the engine reflects, or between
// the reflection and storing its DSID, is neither lost nor undone: the
// reflection is retried until the schema version holds still, so the column
// added meanwhile shows up, is announced, and no event announces it dropped
// again (a stale schema stored as the newest DSID would).
func TestSchemaChangeDuringReflection(t *testing.T) {
	for _, tc := range []struct{ name, when string }{
		{"mid-reflection", "pragma_foreign_key_list"},
		{"before the DSID is stored", `FROM "_nakedhtmx_dsid" ORDER BY seq DESC`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, racy, other := liveDBWith(t, `CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)`, engine.Options{})
			if err := other.Script(`ALTER TABLE t ADD COLUMN y TEXT`); err != nil {
				t.Fatal(err)
			}
			racy.hook = func(sql string) {
				if strings.Contains(sql, tc.when) {
					racy.hook = nil
					if err := other.Script(`ALTER TABLE t ADD COLUMN z TEXT`); err != nil {
						t.Error(err)
					}
				}
			}
			var changes []string
			for range 3 {
				for _, ev := range events(t, e.Tick().Messages) {
					changes = append(changes, string(ev.Changes))
				}
			}
			if racy.hook != nil {
				t.Fatal("the hook never ran: the test no longer injects anything")
			}
			res := do(t, e, "GET", "/api/schema/t", "")
			if !strings.Contains(string(res.Body), `"z"`) {
				t.Fatalf("the column added meanwhile is missing:\n%s", res.Body)
			}
			all := strings.Join(changes, " ")
			if !strings.Contains(all, `"column":"y"`) || !strings.Contains(all, `"column":"z"`) {
				t.Fatalf("schema events do not announce y and z: %s", all)
			}
			if strings.Contains(all, "column-dropped") {
				t.Fatalf("a stale schema was stored and announced: %s", all)
			}
		})
	}
}

// DDL that commits after a tick's schema check but before it reads
// data_version: that tick finds nothing in the log, and the next tick logs
// the schema event itself (a write of its own, which does not move
// data_version). The event must still go out on that tick, not wait for
// some later outside write.
func TestSchemaEventAfterDataVersionRace(t *testing.T) {
	e, racy, other := liveDBWith(t, `CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)`, engine.Options{})
	racy.hook = func(sql string) {
		if sql == "PRAGMA data_version" {
			racy.hook = nil
			if err := other.Script(`ALTER TABLE t ADD COLUMN z TEXT`); err != nil {
				t.Error(err)
			}
		}
	}
	if got := events(t, e.Tick().Messages); len(got) != 0 {
		t.Fatalf("first tick: %+v", got)
	}
	if racy.hook != nil {
		t.Fatal("the hook never ran: the test no longer injects anything")
	}
	got := events(t, e.Tick().Messages)
	if len(got) != 1 || !strings.Contains(string(got[0].Changes), `"column":"z"`) {
		t.Fatalf("second tick: want the schema event for z, got %+v", got)
	}
}

// Schema events do not name what the config hides: DDL on a hidden table or
// a hidden column moves the DSID, but its changes are left out of the event
// (and hidden tables send no change events at all).
func TestEventsHideHiddenTablesAndColumns(t *testing.T) {
	cfg, err := engine.ParseConfig([]byte(`{"tables": {"vault": {"hidden": true},
		"pub": {"columns": {"secret_note": {"hidden": true}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	e, _, other := liveDBWith(t, `CREATE TABLE pub (id INTEGER PRIMARY KEY, a TEXT, secret_note TEXT);
		CREATE TABLE vault (id INTEGER PRIMARY KEY, code TEXT)`, engine.Options{Config: cfg})
	if err := other.Script(`INSERT INTO vault VALUES (1, 'x'); INSERT INTO pub VALUES (1, 'y', 'z');
		ALTER TABLE vault ADD COLUMN pin TEXT; ALTER TABLE pub RENAME COLUMN secret_note TO secret_memo;
		ALTER TABLE pub ADD COLUMN b TEXT`); err != nil {
		t.Fatal(err)
	}
	var all []string
	for range 3 {
		for _, m := range e.Tick().Messages {
			all = append(all, m.API, m.Page)
		}
	}
	text := strings.Join(all, "\n")
	for _, leak := range []string{"vault", "pin", "secret_note"} {
		if strings.Contains(text, leak) {
			t.Errorf("an event names %q:\n%s", leak, text)
		}
	}
	if !strings.Contains(text, `"column":"b"`) || !strings.Contains(text, `"table":"pub","op":"insert"`) {
		t.Errorf("the visible changes are missing:\n%s", text)
	}
}

// A tick renders only the formats asked for; one asking for none still moves
// past what it read, so nothing comes twice.
func TestTickForFormats(t *testing.T) {
	e, _, other := liveDB(t, `CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`)
	e.Tick()
	write := func(name string) {
		t.Helper()
		if err := other.Script(`INSERT INTO pets (name) VALUES ('` + name + `')`); err != nil {
			t.Fatal(err)
		}
	}
	write("Rex")
	if m := e.TickFor(0).Messages; len(m) != 1 || m[0].Table != "pets" || m[0].API != "" || m[0].Page != "" {
		t.Fatalf("no formats: %+v", m)
	}
	if m := e.Tick().Messages; len(m) != 0 {
		t.Fatalf("read twice: %+v", m)
	}
	write("Tom")
	m := e.TickFor(protocol.FormatAPI).Messages
	if len(m) != 1 || !strings.Contains(m[0].API, "event: change") || m[0].Page != "" {
		t.Fatalf("api only: %+v", m)
	}
	write("Kit")
	all := e.Tick().Messages
	write("Max")
	page := e.TickFor(protocol.FormatPage).Messages
	if len(all) != 1 || len(page) != 1 || page[0].API != "" || !strings.Contains(page[0].Page, "event: nh-change") ||
		!strings.Contains(all[0].Page, "event: nh-change") || !strings.Contains(all[0].API, "event: change") {
		t.Fatalf("page only: %+v; every format: %+v", page, all)
	}
}

// With nobody listening (a tick for no formats), a tick after this engine's
// own writes moves past them by the log's counter instead of reading them
// back; a page then starts its stream after them, exactly as after a full
// tick. Anything else since the last tick (an outside write, a schema event)
// makes it read the log: the outside row's values are filled in.
func TestQuietTickSkipsOwnWrites(t *testing.T) {
	e, racy, other := liveDBWith(t, `CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`, engine.Options{})
	e.Tick()
	readsLog := 0
	racy.hook = func(sql string) {
		if strings.Contains(sql, `FROM "_nakedhtmx_changes" WHERE seq > ?`) {
			readsLog++
		}
	}
	liveAfter := func() string {
		t.Helper()
		body := string(get(t, e, "/t/pets", "").Body)
		i := strings.Index(body, "/live?after=")
		if i < 0 {
			t.Fatalf("no live URL in the page")
		}
		return body[i+len("/live?after=") : i+len("/live?after=")+strings.IndexByte(body[i+len("/live?after="):], '"')]
	}
	for _, name := range []string{"Rex", "Tom"} {
		if res := do(t, e, "POST", "/api/tables/pets/rows", `{"name": "`+name+`"}`); res.Status != 201 {
			t.Fatalf("POST: %d %s", res.Status, res.Body)
		}
		if m := e.TickFor(0).Messages; len(m) != 0 {
			t.Fatalf("a quiet tick rendered %+v", m)
		}
	}
	if readsLog != 0 {
		t.Errorf("quiet ticks after own writes read the log %d times", readsLog)
	}
	if got := liveAfter(); got != "2" {
		t.Errorf("after two own writes and quiet ticks the page's stream starts after %s, want 2", got)
	}
	if m := e.Tick().Messages; len(m) != 0 {
		t.Fatalf("a full tick after quiet ones: %+v (would come twice)", m)
	}
	// An outside write with an own one: the quiet tick reads the log.
	if err := other.Script(`INSERT INTO pets (name) VALUES ('Kit')`); err != nil {
		t.Fatal(err)
	}
	if res := do(t, e, "POST", "/api/tables/pets/rows", `{"name": "Max"}`); res.Status != 201 {
		t.Fatalf("POST: %d %s", res.Status, res.Body)
	}
	e.TickFor(0)
	if readsLog != 1 {
		t.Errorf("with an outside write the quiet tick read the log %d times, want 1", readsLog)
	}
	rs, err := other.Query(`SELECT new FROM "_nakedhtmx_changes" WHERE key = '[3]'`)
	if err != nil || len(rs.Values) != 1 || !strings.Contains(sqldb.Text(rs.Values[0][0]), `"Kit"`) {
		t.Errorf("the outside write's values were not filled: %v %v", rs, err)
	}
	if got := liveAfter(); got != "4" {
		t.Errorf("the page's stream starts after %s, want 4", got)
	}
}

// A host may send the schema version it read just before the call
// (protocol.RequestHead.SchemaVersion): the core then does not ask for it,
// a schema changed meanwhile is still reflected (its checks ask SQLite), and
// the hint never outlives its request.
func TestSchemaVersionFromTheHost(t *testing.T) {
	e, racy, other := liveDBWith(t, `CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT); INSERT INTO t VALUES (1, 'x');`, engine.Options{})
	asked := 0
	racy.hook = func(sql string) {
		if sql == "PRAGMA schema_version" {
			asked++
		}
	}
	version := func() int64 {
		t.Helper()
		rs, err := other.Query("PRAGMA schema_version")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := sqldb.Int(rs.Values[0][0])
		return v
	}
	read := func(hint *int64) string {
		t.Helper()
		asked = 0
		res := e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: "/api/tables/t/rows/1",
			Headers: map[string]string{"host": "localhost"}, SchemaVersion: hint}})
		if res.Status != 200 {
			t.Fatalf("GET: %d %s", res.Status, res.Body)
		}
		return string(res.Body)
	}
	read(nil)
	if asked != 1 {
		t.Errorf("without a hint the core asked for the schema version %d times, want 1", asked)
	}
	v := version()
	read(&v)
	if asked != 0 {
		t.Errorf("with the host's version the core still asked %d times", asked)
	}
	if err := other.Script(`ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'new'`); err != nil {
		t.Fatal(err)
	}
	v = version()
	if body := read(&v); !strings.Contains(body, `"b":"new"`) {
		t.Errorf("after ALTER TABLE with the new version as hint: %s", body)
	}
	if asked == 0 {
		t.Errorf("the reflection did not check the version itself")
	}
	read(nil)
	if asked != 1 {
		t.Errorf("the next request without a hint asked %d times, want 1 (a hint outlived its request?)", asked)
	}
}

// Another connection renames a table and writes to it between a tick's
// schema check and its read of the log: the write, logged under the old
// name, is told under the new one (on the next tick, which reflects first),
// never under a name the schema no longer has.
func TestRenameAndWriteBetweenSchemaCheckAndLogRead(t *testing.T) {
	e, racy, other := liveDBWith(t, `CREATE TABLE old_name (id INTEGER PRIMARY KEY, v TEXT)`, engine.Options{})
	e.Tick()
	racy.hook = func(sql string) {
		if strings.Contains(sql, `FROM "_nakedhtmx_changes" WHERE seq > ?`) {
			racy.hook = nil
			if err := other.Script(`ALTER TABLE old_name RENAME TO new_name; INSERT INTO new_name (id, v) VALUES (2, 'right after')`); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := other.Script(`INSERT INTO old_name (id, v) VALUES (1, 'before')`); err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := 0; i < 3; i++ {
		for _, ev := range events(t, e.Tick().Messages) {
			got = append(got, ev.Op+" "+ev.Table)
		}
	}
	// The first tick read the log after the rename: it tells nothing, and the
	// next tells both writes under the name the table has now, then the rename.
	if want := "[insert new_name insert new_name  ]"; fmt.Sprint(got) != want {
		t.Errorf("events %v, want %s", got, want)
	}
}

// An outside write of more rows than a tick turns into messages leaves the
// tick's position behind the log's head for a while. A page shows the rows
// as it read them, so its stream starts after the head at that moment,
// however many ticks ran since: the table page and the SQL page alike, so
// the same page comes back whenever it is asked for.
func TestPageStreamStartsAfterWhatItRead(t *testing.T) {
	e, _, other := liveDBWith(t, `CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`, engine.Options{})
	e.Tick()
	if err := other.Script(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) INSERT INTO pets (name) SELECT 'p' || i FROM n`); err != nil {
		t.Fatal(err)
	}
	after := func(path, query string) string {
		t.Helper()
		body := string(get(t, e, path, query).Body)
		i := strings.Index(body, "/live?after=")
		if i < 0 {
			t.Fatalf("no live URL in %s", path)
		}
		rest := body[i+len("/live?after="):]
		return rest[:strings.IndexByte(rest, '"')]
	}
	for ticks := 0; ticks < 4; ticks++ {
		if got := after("/t/pets", ""); got != "1200" {
			t.Errorf("after %d ticks the table page's stream starts after %s, want 1200", ticks, got)
		}
		if got := after("/sql", "sql=SELECT+count(*)+FROM+pets"); got != "1200" {
			t.Errorf("after %d ticks the SQL page's stream starts after %s, want 1200", ticks, got)
		}
		e.Tick()
	}
}
