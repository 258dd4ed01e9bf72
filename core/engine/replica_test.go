package engine_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	hostpg "github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/corpus"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	pgstore "github.com/nakedhtmx/nakedhtmx/core/store/postgres"
)

// replicaOf makes a copy of what the server engine lets a caller see, as a
// page's host would (issue 19): GET /api/replica, a fresh SQLite opened
// from it, and every table's rows paged across.
func replicaOf(t *testing.T, server *engine.Engine, pageSize int) *engine.Engine {
	t.Helper()
	return replicaFrom(t, func(path string) *protocol.Response { return do(t, server, "GET", path, "") }, pageSize)
}

// replicaFrom is replicaOf through get, which asks the server as one caller.
func replicaFrom(t *testing.T, get func(path string) *protocol.Response, pageSize int) *engine.Engine {
	t.Helper()
	return replicaMode(t, get, pageSize, "")
}

// replicaMode is replicaFrom with the copy's write mode: "jetstream" takes
// writes as commands, as the offline service worker opens a copy.
func replicaMode(t *testing.T, get func(path string) *protocol.Response, pageSize int, mode string) *engine.Engine {
	t.Helper()
	res := get("/api/replica")
	if res.Status != 200 {
		t.Fatalf("GET /api/replica: %d %s", res.Status, res.Body)
	}
	rep, cfg, err := engine.ParseReplica(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "replica.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	local, err := engine.Open(db, engine.Options{Config: cfg, Replica: rep, Log: func(string, ...any) {}, WriteMode: mode})
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range rep.Model.Tables {
		after := ""
		for pages := 0; ; pages++ {
			q := fmt.Sprintf("limit=%d", pageSize)
			if after != "" {
				q += "&after=" + url.QueryEscape(after)
			}
			path := "/api/replica/tables/" + engine.EncodeComponent(tbl.Name) + "/rows?" + q
			page := get(path)
			if page.Status != 200 {
				t.Fatalf("GET %s: %d %s", path, page.Status, page.Body)
			}
			stored := do(t, local, "POST", "/api/replica/tables/"+engine.EncodeComponent(tbl.Name)+"/rows", string(page.Body))
			if stored.Status != 200 {
				t.Fatalf("POST %s rows: %d %s", tbl.Name, stored.Status, stored.Body)
			}
			var p struct {
				Next *string `json:"next"`
			}
			if err := json.Unmarshal(page.Body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Next == nil {
				break
			}
			after = *p.Next
			if pages > 10000 {
				t.Fatal("the pages never end")
			}
		}
	}
	return local
}

// sameAnswers: the copy answers every read the server answers, byte for
// byte: lists (sorted too), rows, forms, the API and the schemas.
func sameAnswers(t *testing.T, server, local *engine.Engine, extra ...string) {
	t.Helper()
	sameAnswersAs(t, func(method, path, accept string) *protocol.Response {
		return do(t, server, method, path, "", "accept", accept)
	}, local, extra...)
}

// sameAnswersAs is sameAnswers with the server asked as one caller.
func sameAnswersAs(t *testing.T, ask func(method, path, accept string) *protocol.Response, local *engine.Engine, extra ...string) {
	t.Helper()
	server := ask
	paths := []string{"/", "/api/schema"}
	res := ask("GET", "/api/replica", "application/json")
	rep, _, err := engine.ParseReplica(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range rep.Model.Tables {
		n := engine.EncodeComponent(tbl.Name)
		paths = append(paths, "/t/"+n, "/api/tables/"+n+"/rows", "/api/tables/"+n+"/rows?limit=3", "/api/schema/"+n,
			"/api/tables/"+n+"/rows.csv")
		if !tbl.View {
			paths = append(paths, "/t/"+n+"/new")
		}
		for _, c := range tbl.Columns {
			paths = append(paths, "/t/"+n+"?sort="+url.QueryEscape(c.Name)+"&desc=1")
		}
		// The first rows' own pages, by the links the list gives.
		list := ask("GET", "/api/tables/"+n+"/rows?limit=3", "application/json")
		var l struct {
			Rows []map[string]any `json:"rows"`
		}
		json.Unmarshal(list.Body, &l)
		for _, r := range l.Rows {
			key := ""
			switch {
			case tbl.UsesRowKey():
				key = fmt.Sprint(r["rowid"])
			case len(tbl.PK) == 1:
				key = engine.EncodeComponent(fmt.Sprint(r[tbl.PK[0].Name]))
			default:
				continue
			}
			paths = append(paths, "/t/"+n+"/r/"+key, "/api/tables/"+n+"/rows/"+key)
		}
	}
	paths = append(paths, extra...)
	for _, p := range paths {
		for _, accept := range []string{"text/html", "application/json"} {
			a := server("GET", p, accept)
			b := do(t, local, "GET", p, "", "accept", accept)
			if a.Status != b.Status || string(a.Body) != string(b.Body) || fmt.Sprint(a.Headers) != fmt.Sprint(b.Headers) {
				t.Errorf("GET %s (%s): the copy answers otherwise:\nserver %d %.2000s\ncopy   %d %.2000s", p, accept, a.Status, firstDiff(a.Body, b.Body), b.Status, firstDiff(b.Body, a.Body))
			}
		}
	}
}

// firstDiff is s from a little before where it first differs from o.
func firstDiff(s, o []byte) string {
	i := 0
	for i < len(s) && i < len(o) && s[i] == o[i] {
		i++
	}
	from := max(0, i-120)
	return string(s[from:min(len(s), i+200)])
}

// TestReplicaAnswersAsTheServer: a copy of the hidden fixture (a hidden
// table, a hidden column, a reference into the hidden table) answers as the
// server, and its payload and rows hold nothing hidden.
func TestReplicaAnswersAsTheServer(t *testing.T) {
	cfg, err := engine.ParseConfig([]byte(hiddenConfig))
	if err != nil {
		t.Fatal(err)
	}
	server, _, raw := liveDBWith(t, hiddenFixture, engine.Options{Config: cfg})
	local := replicaOf(t, server, 1)
	// Changes to what is hidden, by another connection: the changes a
	// copy catches up from name none of them.
	if err := raw.Script(`INSERT INTO secrets VALUES (3, 'HIDDENTABLEVALUE'); UPDATE people SET hush_label = 'HIDDENCOLVALUE!' WHERE id = 1;
		INSERT INTO people (id, hush_label, nick) VALUES (2, 'HIDDENCOLVALUE', 'Bo')`); err != nil {
		t.Fatal(err)
	}
	if _, status := catchUp(t, func(p string) *protocol.Response { return do(t, server, "GET", p, "") }, local, 0); status != 200 {
		t.Fatalf("catch up: %d", status)
	}
	sameAnswers(t, server, local, "/t/people?q=Ann", "/api/tables/pets/rows?f.owner=1")
	for _, p := range []string{"/api/replica", "/api/replica/tables/people/rows", "/api/replica/tables/pets/rows", "/api/replica/changes?after=0"} {
		body := string(do(t, server, "GET", p, "").Body)
		for _, l := range hiddenLeaks {
			if strings.Contains(body, l) {
				t.Errorf("GET %s shows %q: %s", p, l, body)
			}
		}
	}
	if r := do(t, server, "GET", "/api/replica/tables/secrets/rows", ""); r.Status != 404 {
		t.Errorf("a hidden table's rows: %d %s", r.Status, r.Body)
	}
	if r := do(t, server, "POST", "/api/replica/tables/people/rows", `{"columns":["id"],"rows":[[9]]}`); r.Status != 404 {
		t.Errorf("a server took a copy's rows: %d %s", r.Status, r.Body)
	}
}

// TestReplicaCorpus: a copy of every database of the golden corpus answers
// as the server does.
func TestReplicaCorpus(t *testing.T) {
	cases, err := corpus.Load(corpus.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Open.BasePath != "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			cfg, err := engine.ParseConfig(c.Config)
			if err != nil {
				t.Fatal(err)
			}
			server, _, _ := liveDBWith(t, c.Schema, engine.Options{Config: cfg, Log: func(string, ...any) {}})
			sameAnswers(t, server, replicaOf(t, server, 2))
		})
	}
	t.Run("chinook", func(t *testing.T) {
		db, err := sqlite.Open(corpus.ChinookCopy(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		server, err := engine.Open(db, engine.Options{Log: func(string, ...any) {}, Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		sameAnswers(t, server, replicaOf(t, server, 1000), "/t/Track?q=love", "/t/Track?f.GenreId=2", "/api/tables/Track/rows?limit=1000")
	})
}

// TestReplicaValues: every SQL type comes across as it was, where the JSON
// API would blur it (a REAL 3.0, bytes, infinities, 64-bit integers).
func TestReplicaValues(t *testing.T) {
	server, _, _ := liveDBWith(t, `CREATE TABLE v (id INTEGER PRIMARY KEY, x);
		INSERT INTO v VALUES (1, 3.0), (2, 3), (3, x'00ff10'), (4, 9e999), (5, -9e999), (6, 9223372036854775807),
		(7, 'text "quoted" <b>'), (8, NULL), (9, 0.1), (10, -0.0), (11, 1e300)`, engine.Options{})
	local := replicaOf(t, server, 4)
	sameAnswers(t, server, local)
	var types []string
	for _, e := range []*engine.Engine{server, local} {
		r := e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: "/api/sql",
			Query: "sql=" + url.QueryEscape("SELECT group_concat(typeof(x)) FROM v"), Headers: map[string]string{"host": "localhost"}}})
		types = append(types, string(r.Body))
	}
	if types[0] != types[1] || !strings.Contains(types[0], "real,integer,blob,real,real,integer,text,null") {
		t.Errorf("types: server %s, copy %s", types[0], types[1])
	}
}

// TestReplicaHoldsOnlyWhatTheCallerSees: each caller's copy holds the rows
// its row rules let it list, and nothing of the project's own tables.
func TestReplicaHoldsOnlyWhatTheCallerSees(t *testing.T) {
	e, alice, bob, root, _ := peopleEngine(t)
	for i, s := range []*session{alice, alice, bob, root} {
		if res := s.do("POST", "/api/tables/notes/rows", fmt.Sprintf(`{"body": "note %d"}`, i)); res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
	}
	for _, c := range []struct {
		who   *session
		notes string
	}{{alice, "[1 2]"}, {bob, "[1 2 3 4]"}, {root, "[1 2 3 4]"}} {
		get := func(path string) *protocol.Response { return c.who.do("GET", path, "") }
		local := replicaFrom(t, get, 1)
		// Signed in, the pages say who, and offer what that person's rules let.
		sameAnswersAs(t, func(method, path, accept string) *protocol.Response {
			return c.who.do(method, path, "", "accept", accept)
		}, local, "/t/notes/r/1", "/t/notes/r/3")
		// What only the server does, the copy refuses, writes above all.
		for _, w := range [][2]string{{"POST", "/api/tables/notes/rows"}, {"PATCH", "/api/tables/notes/rows/1"},
			{"DELETE", "/api/tables/notes/rows/1"}, {"POST", "/t/notes/new"}, {"GET", "/users"}, {"GET", "/rules"},
			{"POST", "/api/migrations"}, {"GET", "/t/notes/structure"}, {"POST", "/api/batch"}} {
			if r := do(t, local, w[0], w[1], `{"body": "offline"}`); r.Status != 503 {
				t.Errorf("%s %s on a copy: %d %s", w[0], w[1], r.Status, r.Body)
			}
		}
		if got := rowIDs(t, do(t, local, "GET", "/api/tables/notes/rows", "")); fmt.Sprint(got) != c.notes {
			t.Errorf("the copy's notes after refused writes: %v", got)
		}
		if got := rowIDs(t, do(t, local, "GET", "/api/tables/notes/rows", "")); fmt.Sprint(got) != c.notes {
			t.Errorf("the copy's notes: %v, want %s", got, c.notes)
		}
		payload := string(get("/api/replica").Body)
		for _, leak := range []string{"_nakedhtmx", "password"} {
			if strings.Contains(payload, leak) {
				t.Errorf("the copy's model shows %q: %s", leak, payload)
			}
		}
		if c.who != root {
			if rows := string(get("/api/replica/tables/secrets/rows").Body); strings.Contains(rows, "TOPSECRET") {
				t.Errorf("secrets: %s", rows)
			}
		}
	}
	// Signed out: no copy at all.
	if res := do(t, e, "GET", "/api/replica", ""); res.Status != 401 {
		t.Errorf("a copy for no one: %d %s", res.Status, res.Body)
	}
}

// TestReplicaLoadRefuses: a copy stores a page whole or not at all, and
// refuses what is no page of its rows.
func TestReplicaLoadRefuses(t *testing.T) {
	server, _, _ := liveDBWith(t, `CREATE TABLE v (id INTEGER PRIMARY KEY, x TEXT); INSERT INTO v VALUES (1, 'one')`, engine.Options{})
	local := replicaOf(t, server, 10)
	dsid := server.DSID()
	for _, c := range []struct {
		body   string
		status int
	}{
		{`not json`, 400},
		{`{"dsid":"` + dsid + `","columns":["id","x"],"rows":[[2,"two"],[3]]}`, 400},
		{`{"dsid":"` + dsid + `","columns":["id","nope"],"rows":[[2,"two"]]}`, 400},
		{`{"dsid":"` + dsid + `","columns":["id","x"],"rows":[[2,"two"],[3,{"$evil":1}]]}`, 400},
		{`{"dsid":"` + dsid + `","columns":["id","x"],"rows":[[2,"two"],[3,{"$blob":"!!"}]]}`, 400},
		{`{"dsid":"0-0","columns":["id","x"],"rows":[[2,"two"]]}`, 409},
		{`{"dsid":"` + dsid + `","columns":["id","x"],"rows":[[2,[1]]]}`, 400},
	} {
		if res := do(t, local, "POST", "/api/replica/tables/v/rows", c.body); res.Status != c.status {
			t.Errorf("%s: %d %s, want %d", c.body, res.Status, res.Body, c.status)
		}
	}
	// Nothing of the refused pages was kept.
	if got := rowIDs(t, do(t, local, "GET", "/api/tables/v/rows", "")); fmt.Sprint(got) != "[1]" {
		t.Errorf("the copy holds %v", got)
	}
	if res := do(t, local, "GET", "/api/replica", ""); res.Status != 404 {
		t.Errorf("a copy's copy: %d", res.Status)
	}
	if res := do(t, local, "GET", "/api/replica/tables/v/rows?sort=x", ""); res.Status != 404 {
		t.Errorf("a copy's rows: %d", res.Status)
	}
	if res := do(t, server, "GET", "/api/replica/tables/v/rows?sort=x", ""); res.Status != 400 {
		t.Errorf("sorted rows of a copy: %d", res.Status)
	}
}

// TestReplicaOfPostgres: a copy of a Postgres database is a SQLite one,
// opened from the server's model: it answers the server's reads.
func TestReplicaOfPostgres(t *testing.T) {
	server := hiddenEnginePostgres(t)
	local := replicaOf(t, server, 1)
	sameAnswers(t, server, local)
}

// TestReplicaPostgresCorpus: copies of the corpus's Postgres databases
// (Chinook among them) answer as their servers.
func TestReplicaPostgresCorpus(t *testing.T) {
	cases, err := corpus.Load(corpus.PostgresDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			db, err := hostpg.Open(pgtest.CorpusDB(t, c), "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			cfg, err := engine.ParseConfig(c.Config)
			if err != nil {
				t.Fatal(err)
			}
			server, err := engine.Open(db, engine.Options{Config: cfg, Store: pgstore.New(""), Log: func(string, ...any) {}})
			if err != nil {
				t.Fatal(err)
			}
			sameAnswers(t, server, replicaOf(t, server, 500))
		})
	}
}

// catchUp brings a copy current to the server as one caller sees it, as a
// page's host does: pages of GET /api/replica/changes, each POSTed to the
// copy, then every view read again whole. It answers the copy's new seq,
// or the status that stopped it (409: the schema moved, 410: the log no
// longer reaches back).
func catchUp(t *testing.T, get func(path string) *protocol.Response, local *engine.Engine, seq int64) (int64, int) {
	t.Helper()
	views := false
	for pages := 0; pages < 1000; pages++ {
		page := get("/api/replica/changes?after=" + fmt.Sprint(seq))
		if page.Status != 200 {
			return seq, page.Status
		}
		res := do(t, local, "POST", "/api/replica/changes", string(page.Body))
		if res.Status != 200 {
			return seq, res.Status
		}
		var p struct {
			Seq   int64 `json:"seq"`
			More  bool  `json:"more"`
			Views bool  `json:"views"`
		}
		if err := json.Unmarshal(page.Body, &p); err != nil {
			t.Fatal(err)
		}
		seq, views = p.Seq, views || p.Views
		if !p.More {
			break
		}
	}
	if views {
		rep, _, err := engine.ParseReplica(get("/api/replica").Body)
		if err != nil {
			t.Fatal(err)
		}
		for _, tbl := range rep.Model.Tables {
			if !tbl.View {
				continue
			}
			path := "/api/replica/tables/" + engine.EncodeComponent(tbl.Name) + "/rows"
			page := get(path + "?limit=1000")
			if res := do(t, local, "POST", path+"?replace=1", string(page.Body)); res.Status != 200 {
				t.Fatalf("view %s: %d %s", tbl.Name, res.Status, res.Body)
			}
		}
	}
	return seq, 200
}

// TestReplicaCatchesUp: after writes on the server (through it, and by
// another connection, as the sqlite3 shell would), a copy that catches up
// answers as the server again; a copy whose server's schema moved, or
// whose log no longer reaches back, is told to copy again.
func TestReplicaCatchesUp(t *testing.T) {
	server, _, raw := liveDBWith(t, `CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT, n REAL);
		INSERT INTO a VALUES (1, 'one', 1.0), (2, 'two', 2.5), (3, 'three', NULL);
		CREATE TABLE b (name TEXT, qty INTEGER);
		INSERT INTO b VALUES ('x', 1), ('y', 2);
		CREATE TABLE c (region TEXT NOT NULL, year INTEGER NOT NULL, total REAL, PRIMARY KEY (region, year));
		INSERT INTO c VALUES ('north', 2024, 3.0);
		CREATE VIEW big AS SELECT name, n FROM a WHERE n > 1`, engine.Options{Log: func(string, ...any) {}})
	get := func(path string) *protocol.Response { return do(t, server, "GET", path, "") }
	res := get("/api/replica")
	rep, _, err := engine.ParseReplica(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	seq := rep.Seq
	local := replicaOf(t, server, 2)
	sameAnswers(t, server, local) // and the copy keeps counts and labels until its data moves
	for _, w := range []struct{ method, path, body string }{
		{"POST", "/api/tables/a/rows", `{"id": 4, "name": "four", "n": 4.0}`},
		{"PATCH", "/api/tables/a/rows/2", `{"name": "TWO"}`},
		{"PATCH", "/api/tables/a/rows/1", `{"id": 100}`},
		{"DELETE", "/api/tables/a/rows/3", ``},
		{"POST", "/api/tables/b/rows", `{"name": "z", "qty": 3}`},
		{"DELETE", "/api/tables/b/rows/1", ``},
		{"PATCH", "/api/tables/c/rows/north,2024", `{"total": 4.5}`},
	} {
		if r := do(t, server, w.method, w.path, w.body); r.Status >= 300 {
			t.Fatalf("%s %s: %d %s", w.method, w.path, r.Status, r.Body)
		}
	}
	// Another connection's writes reach the log by its triggers.
	if err := raw.Script(`INSERT INTO a VALUES (5, 'five', 5.0); UPDATE b SET qty = 20 WHERE name = 'y'; DELETE FROM c`); err != nil {
		t.Fatal(err)
	}
	newSeq, status := catchUp(t, get, local, seq)
	if status != 200 || newSeq <= seq {
		t.Fatalf("catching up: %d, seq %d -> %d", status, seq, newSeq)
	}
	sameAnswers(t, server, local)
	// Caught up, it stays so: nothing to do, and its pages resume after the server's newest change.
	if again, status := catchUp(t, get, local, newSeq); status != 200 || again != newSeq {
		t.Errorf("catching up again: %d, %d", status, again)
	}
	// The log cannot reach back before its start or beyond its end.
	for _, after := range []string{"-1", "x"} {
		if r := get("/api/replica/changes?after=" + after); r.Status != 400 {
			t.Errorf("after=%s: %d", after, r.Status)
		}
	}
	if r := get("/api/replica/changes?after=" + fmt.Sprint(newSeq+100)); r.Status != 410 {
		t.Errorf("after the log's end: %d %s", r.Status, r.Body)
	}
	// The schema moves: the copy is told to copy again.
	if err := raw.Script(`ALTER TABLE a ADD COLUMN note TEXT; INSERT INTO a (id, name) VALUES (6, 'six')`); err != nil {
		t.Fatal(err)
	}
	if _, status := catchUp(t, get, local, newSeq); status != 409 {
		t.Errorf("after ALTER TABLE: %d", status)
	}
	// A page that is not one: refused whole.
	dsid := local.DSID()
	for _, bad := range []string{`{}`, `{"dsid":"` + dsid + `","seq":1,"changes":[{"table":"nope","key":[1],"row":null}]}`,
		`{"dsid":"` + dsid + `","seq":1,"changes":[{"table":"a","key":[1,2],"row":null}]}`,
		`{"dsid":"` + dsid + `","seq":1,"changes":[{"table":"a","key":[7],"row":[7]}]}`,
		`{"dsid":"` + dsid + `","seq":1,"changes":[{"table":"big","key":[7],"row":null}]}`} {
		if r := do(t, local, "POST", "/api/replica/changes", bad); r.Status != 400 {
			t.Errorf("%s: %d %s", bad, r.Status, r.Body)
		}
	}
}

// TestReplicaCatchUpFollowsRules: a row that leaves a caller's rules (a
// note given to someone else) leaves that caller's copy when it catches up.
func TestReplicaCatchUpFollowsRules(t *testing.T) {
	_, alice, bob, root, ids := peopleEngine(t)
	for _, s := range []*session{alice, alice, bob} {
		if res := s.do("POST", "/api/tables/notes/rows", `{"body": "mine"}`); res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
	}
	get := func(path string) *protocol.Response { return alice.do("GET", path, "") }
	rep, _, err := engine.ParseReplica(get("/api/replica").Body)
	if err != nil {
		t.Fatal(err)
	}
	seq := rep.Seq
	local := replicaFrom(t, get, 10)
	if got := rowIDs(t, do(t, local, "GET", "/api/tables/notes/rows", "")); fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("alice's copy: %v", got)
	}
	bobID := ids["bjørn@exämple.com"]
	if r := root.do("PATCH", "/api/tables/notes/rows/2", fmt.Sprintf(`{"owner": %d}`, bobID)); r.Status != 200 {
		t.Fatalf("give note 2 to bob: %d %s", r.Status, r.Body)
	}
	if r := bob.do("PATCH", "/api/tables/notes/rows/3", `{"body": "bob's, changed"}`); r.Status != 200 {
		t.Fatalf("bob's edit: %d %s", r.Status, r.Body)
	}
	if _, status := catchUp(t, get, local, seq); status != 200 {
		t.Fatalf("catch up: %d", status)
	}
	if got := rowIDs(t, do(t, local, "GET", "/api/tables/notes/rows", "")); fmt.Sprint(got) != "[1]" {
		t.Errorf("alice's copy after note 2 went to bob: %v", got)
	}
	changes := string(get("/api/replica/changes?after=" + fmt.Sprint(seq)).Body)
	if strings.Contains(changes, "changed") {
		t.Errorf("alice's changes show bob's note: %s", changes)
	}
}

// TestReplicaViewOverHiddenTable: a view reads a table the config hides;
// a change there (by another connection) reaches the copy's view, though
// the change itself is never shown to it.
func TestReplicaViewOverHiddenTable(t *testing.T) {
	cfg, err := engine.ParseConfig([]byte(`{"tables": {"s": {"hidden": true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	server, _, raw := liveDBWith(t, `CREATE TABLE s (id INTEGER PRIMARY KEY, n INTEGER);
		INSERT INTO s VALUES (1, 10);
		CREATE VIEW total AS SELECT count(*) AS rows_in_s, sum(n) AS n FROM s`, engine.Options{Config: cfg, Log: func(string, ...any) {}})
	get := func(path string) *protocol.Response { return do(t, server, "GET", path, "") }
	rep, _, err := engine.ParseReplica(get("/api/replica").Body)
	if err != nil {
		t.Fatal(err)
	}
	local := replicaOf(t, server, 1)
	if err := raw.Script(`INSERT INTO s VALUES (2, 32)`); err != nil {
		t.Fatal(err)
	}
	if _, status := catchUp(t, get, local, rep.Seq); status != 200 {
		t.Fatalf("catch up: %d", status)
	}
	sameAnswers(t, server, local, "/t/total", "/api/tables/total/rows")
	if body := string(get("/api/tables/total/rows").Body); !strings.Contains(body, "42") {
		t.Fatalf("the server's view: %s", body)
	}
	if body := string(get("/api/replica/changes?after=" + fmt.Sprint(rep.Seq)).Body); strings.Contains(body, `"s"`) {
		t.Errorf("the changes name the hidden table: %s", body)
	}
}

// TestReplicaSuggestionsFollowRows: which facets a list suggests depends on
// its rows (found once per schema version: a server started again finds
// them anew); a copy caught up suggests what its server suggests now.
func TestReplicaSuggestionsFollowRows(t *testing.T) {
	opts := engine.Options{Log: func(string, ...any) {}}
	first, db, raw := liveDBWith(t, `CREATE TABLE x (id INTEGER PRIMARY KEY, kind TEXT);
		INSERT INTO x VALUES (1, 'a'), (2, 'a'), (3, 'a')`, opts)
	rep, _, err := engine.ParseReplica(do(t, first, "GET", "/api/replica", "").Body)
	if err != nil {
		t.Fatal(err)
	}
	local := replicaOf(t, first, 10)
	if err := raw.Script(`INSERT INTO x VALUES (4, 'b')`); err != nil {
		t.Fatal(err)
	}
	server, err := engine.Open(db, opts) // started again
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *protocol.Response { return do(t, server, "GET", path, "") }
	if before, after := string(do(t, first, "GET", "/t/x", "").Body), string(get("/t/x").Body); strings.Contains(before, "facet=kind") || !strings.Contains(after, "facet=kind") {
		t.Fatalf("the server's suggestions did not move with its rows (the test's premise)")
	}
	if _, status := catchUp(t, get, local, rep.Seq); status != 200 {
		t.Fatalf("catch up: %d", status)
	}
	sameAnswers(t, server, local, "/t/x")
}
