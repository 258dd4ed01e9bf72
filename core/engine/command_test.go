package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const commandSchema = `
CREATE TABLE todos (id INTEGER PRIMARY KEY, title TEXT NOT NULL CHECK (length(title) <= 20), done BOOLEAN NOT NULL DEFAULT 0);
CREATE TABLE tags (name TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID;
INSERT INTO todos VALUES (1, 'Buy milk', 0);
`

// node is one engine in jetstream mode on a file of its own.
type node struct {
	e  *engine.Engine
	db *sqlite.DB
}

func newNode(t *testing.T, name string) *node { return newNodeWith(t, name, "") }

// newNodeWith opens a node whose server has this auth token ("" for none).
func newNodeWith(t *testing.T, name, token string) *node {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), name+".db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Script(commandSchema); err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(db, engine.Options{WriteMode: "jetstream", Node: name, AuthToken: token, Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	return &node{e: e, db: db}
}

func (n *node) dump(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{`SELECT * FROM todos ORDER BY id`, `SELECT * FROM tags ORDER BY name`} {
		rs, err := n.db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%v\n", rs.Values)
	}
	return b.String()
}

// stream is the log every node applies in order: what JetStream does for
// the hosts, here a slice.
type stream struct{ cmds []*protocol.Command }

// write sends a request to the origin node, which answers with a command;
// the command goes on the stream and every node applies the whole stream
// so far; then the origin is asked again and answers as a direct write.
func (s *stream) write(t *testing.T, origin *node, all []*node, method, path, body string) *protocol.Response {
	t.Helper()
	first := do(t, origin.e, method, path, body, "accept", "application/json")
	if first.Command == nil {
		return first // refused before it became a command
	}
	if first.Status != 202 {
		t.Fatalf("%s %s: a command answers 202 until applied, got %d", method, path, first.Status)
	}
	if out := origin.e.Outbox().Commands; len(out) == 0 || out[len(out)-1].ID != first.Command.ID {
		t.Fatalf("the command is not kept in the origin's outbox: %+v", out)
	}
	s.cmds = append(s.cmds, first.Command)
	seq := uint64(len(s.cmds))
	for _, n := range all {
		res := n.e.Apply(first.Command, seq)
		if res.ID != first.Command.ID || res.Seq != seq || res.Skipped {
			t.Fatalf("apply on a node: %+v", res)
		}
	}
	for _, n := range all {
		if got := n.e.Outbox().Applied; got != seq {
			t.Fatalf("the applied sequence is %d, want %d", got, seq)
		}
		for _, kept := range n.e.Outbox().Commands {
			if kept.ID == first.Command.ID {
				t.Fatalf("an applied command is still in an outbox")
			}
		}
	}
	p, q, _ := strings.Cut(path, "?")
	return origin.e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: method, Path: p, Query: q,
		Headers: map[string]string{"host": "localhost", "content-type": "application/json", "accept": "application/json"},
		Command: first.Command.ID}, Body: []byte(body)})
}

func TestCommandsConverge(t *testing.T) {
	a, b, c := newNode(t, "a"), newNode(t, "b"), newNode(t, "c")
	all := []*node{a, b, c}
	var s stream

	res := s.write(t, a, all, "POST", "/api/tables/todos/rows", `{"title": "Walk the dog"}`)
	if res.Status != 201 || !strings.Contains(string(res.Body), `"title":"Walk the dog"`) || !strings.Contains(string(res.Body), `"pk":{"id":2}`) {
		t.Fatalf("create through the stream: %d %s", res.Status, res.Body)
	}
	var created struct{ Version string }
	json.Unmarshal(res.Body, &created)

	res = s.write(t, b, all, "POST", "/api/tables/tags/rows", `{"name": "home", "n": 1}`)
	if res.Status != 201 {
		t.Fatalf("create on another node: %d %s", res.Status, res.Body)
	}

	// Two edits based on the same version: the stream orders them, the
	// first wins on every node, the second is refused on every node.
	first := do(t, a.e, "PATCH", "/api/tables/todos/rows/2", fmt.Sprintf(`{"done": true, "_version": %q}`, created.Version))
	second := do(t, c.e, "PATCH", "/api/tables/todos/rows/2", fmt.Sprintf(`{"title": "Walk the cat", "_version": %q}`, created.Version))
	if first.Command == nil || second.Command == nil {
		t.Fatalf("both edits become commands: %d %s / %d %s", first.Status, first.Body, second.Status, second.Body)
	}
	s.cmds = append(s.cmds, first.Command, second.Command)
	for _, n := range all {
		r1 := n.e.Apply(first.Command, 3)
		r2 := n.e.Apply(second.Command, 4)
		if r1.Status != 200 || r2.Status != 409 {
			t.Fatalf("verdicts: %+v %+v, want 200 then 409 on every node", r1, r2)
		}
	}
	again := c.e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "PATCH", Path: "/api/tables/todos/rows/2",
		Headers: map[string]string{"host": "localhost", "content-type": "application/json"}, Command: second.Command.ID},
		Body: []byte(fmt.Sprintf(`{"title": "Walk the cat", "_version": %q}`, created.Version))})
	if again.Status != 409 || !strings.Contains(string(again.Body), `"done":true`) {
		t.Fatalf("the losing edit's origin answers 409 with the row as it is: %d %s", again.Status, again.Body)
	}

	// Redelivery: a sequence already applied is skipped, nothing changes.
	before := b.dump(t)
	if r := b.e.Apply(s.cmds[0], 1); !r.Skipped || r.Status != 201 {
		t.Fatalf("redelivered command: %+v", r)
	}
	if b.dump(t) != before {
		t.Fatal("a redelivered command changed the data")
	}

	res = s.write(t, c, all, "DELETE", "/api/tables/tags/rows/home", "")
	if res.Status != 204 {
		t.Fatalf("delete through the stream: %d %s", res.Status, res.Body)
	}

	// Refused at the origin, before it is a command: nothing on the stream.
	n := len(s.cmds)
	if res := s.write(t, a, all, "POST", "/api/tables/todos/rows", `{"title": "far too long a title for this"}`); res.Status != 422 {
		t.Fatalf("invalid write: %d %s", res.Status, res.Body)
	}
	if len(s.cmds) != n {
		t.Fatal("an invalid write became a command")
	}

	want := a.dump(t)
	for _, n := range all[1:] {
		if got := n.dump(t); got != want {
			t.Fatalf("nodes diverge:\n%s\n%s", want, got)
		}
		if n.e.DSID() != a.e.DSID() {
			t.Fatalf("DSIDs diverge: %s %s", n.e.DSID(), a.e.DSID())
		}
	}
	if !strings.Contains(want, "Walk the dog") || !strings.Contains(want, " 1]") {
		t.Fatalf("the data is not what the stream says:\n%s", want)
	}
}

// The HTML form in jetstream mode: the post becomes a command, and once
// applied the origin answers with the redirect a direct write gives; before
// it is applied, a page says the change is on its way.
func TestCommandFromForm(t *testing.T) {
	a := newNode(t, "a")
	h := map[string]string{"host": "localhost", "content-type": "application/x-www-form-urlencoded", "accept": "text/html"}
	req := func(cmd string) *protocol.Response {
		return a.e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/t/todos/new", Headers: h,
			Command: cmd}, Body: []byte("title=Post+a+letter&done=0")})
	}
	first := req("")
	if first.Command == nil || first.Command.Op != "insert" || first.Command.Values["title"] != "Post a letter" {
		t.Fatalf("form post: %d %+v", first.Status, first.Command)
	}
	if res := req(first.Command.ID); res.Status != 202 || !strings.Contains(string(res.Body), "on its way") {
		t.Fatalf("before it is applied: %d %s", res.Status, res.Body)
	}
	if r := a.e.Apply(first.Command, 1); r.Status != 201 {
		t.Fatalf("apply: %+v", r)
	}
	if res := req(first.Command.ID); res.Status != 303 || res.Header("location") != "/t/todos/r/2" {
		t.Fatalf("after it is applied: %d %v", res.Status, res.Headers)
	}
}

// Bulk edits in the scale-out mode: the selected rows' writes, each checked
// where they were made, travel as one batch command every node applies in
// one transaction; a refused row is named on the page and nothing is sent.
func TestBulkCommands(t *testing.T) {
	a, b := newNode(t, "a"), newNode(t, "b")
	nodes := []*node{a, b}
	var s stream
	s.write(t, a, nodes, "POST", "/api/tables/todos/rows", `{"title": "Walk the dog"}`)
	h := map[string]string{"host": "localhost", "content-type": "application/x-www-form-urlencoded", "accept": "text/html"}
	bulk := func(form, cmd string) *protocol.Response {
		return a.e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/t/todos/bulk", Headers: h,
			Command: cmd}, Body: []byte(form + "&_dsid=" + a.e.DSID())})
	}
	if page := string(do(t, a.e, "GET", "/t/todos", "", "accept", "text/html").Body); !strings.Contains(page, `action="/t/todos/bulk"`) {
		t.Fatalf("no bulk form in the scale-out mode:\n%s", page)
	}
	run := func(form string) *protocol.Response {
		t.Helper()
		first := bulk(form, "")
		if first.Command == nil || first.Command.Op != "batch" || len(first.Command.Ops) != 2 {
			t.Fatalf("a bulk change: %d %+v %s", first.Status, first.Command, first.Body)
		}
		s.cmds = append(s.cmds, first.Command)
		for _, n := range nodes {
			if r := n.e.Apply(first.Command, uint64(len(s.cmds))); r.Status >= 300 {
				t.Fatalf("apply: %+v", r)
			}
		}
		return bulk(form, first.Command.ID)
	}
	if r := run("action=set&column=done&value=1&k=1&k=2&back=/t/todos"); r.Status != 303 {
		t.Fatalf("bulk set, asked again: %d %s", r.Status, r.Body)
	}
	if da, db := a.dump(t), b.dump(t); da != db || !strings.Contains(da, "[[1 Buy milk 1] [2 Walk the dog 1]]") {
		t.Fatalf("after bulk set: %s / %s", da, db)
	}
	if r := bulk("action=set&column=title&value=a+title+far+longer+than+twenty&k=1&k=2", ""); r.Command != nil || r.Status != 422 ||
		!strings.Contains(string(r.Body), "Nothing was changed") {
		t.Fatalf("a refused bulk set: %d %+v %s", r.Status, r.Command, r.Body)
	}
	if r := run("action=delete&confirm=1&k=1&k=2&back=/t/todos"); r.Status != 303 {
		t.Fatalf("bulk delete, asked again: %d %s", r.Status, r.Body)
	}
	if da, db := a.dump(t), b.dump(t); da != db || !strings.HasPrefix(da, "[]") {
		t.Fatalf("after bulk delete: %s / %s", da, db)
	}
}

// The import page in the scale-out mode: the checked rows travel as one
// batch command; asked again once it is applied, the page goes to the
// list, or names the line the database refused, with nothing imported.
func TestImportPageCommands(t *testing.T) {
	a, b := newNode(t, "a"), newNode(t, "b")
	nodes := []*node{a, b}
	h := map[string]string{"host": "localhost", "content-type": "application/x-www-form-urlencoded", "accept": "text/html"}
	conflict := "fail"
	post := func(text, cmd string) *protocol.Response {
		return a.e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/t/todos/import", Headers: h,
			Command: cmd}, Body: []byte("format=csv&conflict=" + conflict + "&text=" + url.QueryEscape(text))})
	}
	if page := string(do(t, a.e, "GET", "/t/todos", "", "accept", "text/html").Body); !strings.Contains(page, `href="/t/todos/import"`) {
		t.Fatalf("no import in the scale-out mode:\n%s", page)
	}
	seq := uint64(0)
	run := func(text string) *protocol.Response {
		t.Helper()
		first := post(text, "")
		if first.Command == nil || first.Command.Op != "batch" {
			t.Fatalf("an import: %d %+v %s", first.Status, first.Command, first.Body)
		}
		seq++
		for _, n := range nodes {
			n.e.Apply(first.Command, seq)
		}
		return post(text, first.Command.ID)
	}
	if r := run("title,done\nWater plants,0\nPay rent,1\n"); r.Status != 303 || r.Header("location") != "/t/todos" {
		t.Fatalf("asked again: %d %v %s", r.Status, r.Headers, r.Body)
	}
	if da, db := a.dump(t), b.dump(t); da != db || !strings.Contains(da, "[2 Water plants 0] [3 Pay rent 1]") {
		t.Fatalf("after the import: %s / %s", da, db)
	}
	// Two rows with one key: each checks where it is made, the second is
	// refused where it is applied.
	r := run("id,title\n7,Seven\n7,Seven again\n")
	if r.Status < 400 || !strings.Contains(string(r.Body), "line 3") {
		t.Fatalf("a refused import: %d %s", r.Status, r.Body)
	}
	if da, db := a.dump(t), b.dump(t); da != db || strings.Contains(da, "Seven") {
		t.Fatalf("after a refused import: %s / %s", da, db)
	}
	// Rows that exist by the time each node applies the import are updated
	// (conflict=update) or left alone (skip) there, alike on every node.
	conflict = "update"
	if r := run("id,title,done\n2,Water the plants,1\n9,Nine,0\n"); r.Status != 303 {
		t.Fatalf("an import that updates: %d %s", r.Status, r.Body)
	}
	conflict = "skip"
	if r := run("id,title,done\n2,Not this,0\n10,Ten,0\n"); r.Status != 303 {
		t.Fatalf("an import that skips: %d %s", r.Status, r.Body)
	}
	if da, db := a.dump(t), b.dump(t); da != db || !strings.Contains(da, "[2 Water the plants 1]") || !strings.Contains(da, "[9 Nine 0] [10 Ten 0]") {
		t.Fatalf("after update and skip: %s / %s", da, db)
	}
	// The API's answer counts what each row did.
	first := do(t, a.e, "POST", "/api/tables/todos/rows?conflict=update", "id,title\n2,Water plants\n11,Eleven\n", "content-type", "text/csv", "accept", "application/json")
	if first.Command == nil {
		t.Fatalf("an API import: %d %s", first.Status, first.Body)
	}
	seq++
	for _, n := range nodes {
		n.e.Apply(first.Command, seq)
	}
	again := a.e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/tables/todos/rows", Query: "conflict=update",
		Headers: map[string]string{"host": "localhost", "content-type": "text/csv", "accept": "application/json"}, Command: first.Command.ID},
		Body: []byte("id,title\n2,Water plants\n11,Eleven\n")})
	if again.Status != 201 || !strings.Contains(string(again.Body), `"inserted":1`) || !strings.Contains(string(again.Body), `"updated":1`) {
		t.Fatalf("the API import's answer: %d %s", again.Status, again.Body)
	}
}

// A write too large for one command on the stream (NATS takes 1 MiB) is a
// 413 where it was made, never a command that waits in the outbox for ever.
func TestCommandTooLarge(t *testing.T) {
	a := newNode(t, "a")
	big := strings.Repeat("x", 950<<10)
	r := do(t, a.e, "POST", "/api/tables/tags/rows", `{"name": "`+big+`"}`, "accept", "application/json")
	if r.Status != 413 || r.Command != nil || !strings.Contains(string(r.Body), "too large for one command") {
		t.Fatalf("a large write: %d %+v %.200s", r.Status, r.Command, r.Body)
	}
	if out := a.e.Outbox().Commands; len(out) != 0 {
		t.Fatalf("the outbox holds %d commands", len(out))
	}
}

func TestMigrations(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Script(commandSchema); err != nil {
		t.Fatal(err)
	}
	open := func(token string) *engine.Engine {
		e, err := engine.Open(db, engine.Options{AuthToken: token})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	migrate := func(e *engine.Engine, ct, sql string) *protocol.Response {
		return e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/migrations",
			Headers: map[string]string{"host": "localhost", "content-type": ct, "authorization": "Bearer s3cret"}},
			Body: []byte(sql)})
	}
	if res := migrate(open(""), "application/sql", "ALTER TABLE todos ADD COLUMN x TEXT"); res.Status != 403 {
		t.Fatalf("without an auth token: %d %s", res.Status, res.Body)
	}
	e := open("s3cret")
	before := e.DSID()
	for _, tc := range []struct {
		ct, sql string
		status  int
	}{
		{"application/json", `ALTER TABLE todos ADD COLUMN x TEXT`, 415},
		{"application/sql", "  ", 400},
		{"application/sql", "ALTER TABLE todos ADD COLUMN x TEXT; ALTER TABLE nope ADD COLUMN y", 422},
	} {
		if res := migrate(e, tc.ct, tc.sql); res.Status != tc.status {
			t.Fatalf("%q: %d %s, want %d", tc.sql, res.Status, res.Body, tc.status)
		}
	}
	if e.DSID() != before || strings.Contains(string(do(t, e, "GET", "/api/schema/todos", "", "authorization", "Bearer s3cret").Body), `"x"`) {
		t.Fatal("a failed migration left part of itself behind")
	}
	res := migrate(e, "text/plain; charset=utf-8", "ALTER TABLE todos ADD COLUMN prio INTEGER; CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
	if res.Status != 200 || strings.Contains(string(res.Body), before) {
		t.Fatalf("migration: %d %s (DSID before %s)", res.Status, res.Body, before)
	}
	if s := do(t, e, "GET", "/api/schema", "", "authorization", "Bearer s3cret"); !strings.Contains(string(s.Body), `"prio"`) || !strings.Contains(string(s.Body), `"notes"`) {
		t.Fatalf("the schema after the migration: %s", s.Body)
	}
}

// A migration through the stream: every node changes its schema at the same
// point among the writes and reaches the same DSID.
func TestMigrationCommandsConverge(t *testing.T) {
	a, b := newNodeWith(t, "a", "tok"), newNodeWith(t, "b", "tok")
	nodes := []*node{a, b}
	req := func(cmd string) *protocol.Request {
		return &protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/migrations", Command: cmd,
			Headers: map[string]string{"host": "localhost", "content-type": "application/sql", "authorization": "Bearer tok"}},
			Body: []byte("ALTER TABLE todos ADD COLUMN prio INTEGER NOT NULL DEFAULT 3")}
	}
	first := a.e.Handle(req(""))
	if first.Status != 202 || first.Command == nil || first.Command.Op != "migrate" {
		t.Fatalf("a migration in jetstream mode: %d %s", first.Status, first.Body)
	}
	for _, n := range nodes {
		if r := n.e.Apply(first.Command, 1); r.Status != 200 {
			t.Fatalf("apply: %+v", r)
		}
	}
	again := a.e.Handle(req(first.Command.ID))
	if again.Status != 200 || !strings.Contains(string(again.Body), a.e.DSID()) {
		t.Fatalf("asked again: %d %s", again.Status, again.Body)
	}
	do(t, b.e, "GET", "/api/schema", "", "authorization", "Bearer tok") // b reflects on its next request
	if a.e.DSID() != b.e.DSID() || !strings.HasPrefix(a.e.DSID(), "2-") {
		t.Fatalf("DSIDs after the migration: %s %s", a.e.DSID(), b.e.DSID())
	}
	if got := a.dump(t); got != b.dump(t) || !strings.Contains(got, "3]") {
		t.Fatalf("data after the migration:\n%s\n%s", got, b.dump(t))
	}
}

// The schemas GET /api/commands publishes describe the commands the node
// really makes: each one validates, and a command with something wrong in it
// does not.
func TestCommandSchemasDescribeCommands(t *testing.T) {
	a := newNodeWith(t, "a", "")
	res := do(t, a.e, "GET", "/api/commands", "")
	if res.Status != 200 {
		t.Fatalf("GET /api/commands: %d %s", res.Status, res.Body)
	}
	var doc struct {
		Tables map[string]map[string]struct {
			Subject string
			Schema  json.RawMessage
		}
		Migrate struct{ Subject string }
	}
	if err := json.Unmarshal(res.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tables["todos"]["update"].Subject != "nakedhtmx.cmd.todos.update" || doc.Migrate.Subject != "nakedhtmx.cmd.~.migrate" {
		t.Fatalf("subjects: %s", res.Body)
	}
	validator := func(table, op string) *jsonschema.Schema {
		t.Helper()
		raw := doc.Tables[table][op].Schema
		parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("cmd.json", parsed); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile("cmd.json")
		if err != nil {
			t.Fatalf("%s %s: %v", table, op, err)
		}
		return s
	}
	asJSON := func(cmd any) any {
		b, _ := json.Marshal(cmd)
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		return v
	}
	made := func(method, path, body string) *protocol.Command {
		t.Helper()
		r := do(t, a.e, method, path, body)
		if r.Command == nil {
			t.Fatalf("%s %s: no command: %d %s", method, path, r.Status, r.Body)
		}
		return r.Command
	}
	cmds := map[string]*protocol.Command{
		"insert": made("POST", "/api/tables/todos/rows", `{"title": "Validate me", "done": true}`),
		"update": made("PATCH", "/api/tables/todos/rows/1", `{"title": "Renamed"}`),
		"delete": made("DELETE", "/api/tables/todos/rows/1", ""),
	}
	for op, cmd := range cmds {
		if err := validator("todos", op).Validate(asJSON(cmd)); err != nil {
			t.Errorf("the %s command does not fit its schema: %v\n%+v", op, err, cmd)
		}
	}
	bad := *cmds["insert"]
	bad.Values = map[string]any{"title": "x", "colour": "red"}
	if validator("todos", "insert").Validate(asJSON(bad)) == nil {
		t.Error("a command with an unknown column validates")
	}
	bad = *cmds["update"]
	bad.Op = "delete"
	if validator("todos", "update").Validate(asJSON(bad)) == nil {
		t.Error("a command with another op validates")
	}
}

// A pending write is followed to its end: GET /api/commands/ID and the page
// /commands/ID say pending, then applied (with a link to the row) or
// refused (with why).
func TestCommandStatus(t *testing.T) {
	a := newNode(t, "a")
	status := func(id string, html bool) *protocol.Response {
		h := map[string]string{"host": "localhost", "accept": "application/json"}
		path := "/api/commands/" + id
		if html {
			h["accept"], path = "text/html", "/commands/"+id
		}
		return a.e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: path, Headers: h}})
	}
	cur := do(t, a.e, "GET", "/api/tables/todos/rows/1", "")
	var row struct{ Version string }
	json.Unmarshal(cur.Body, &row)
	first := do(t, a.e, "PATCH", "/api/tables/todos/rows/1", fmt.Sprintf(`{"done": true, "_version": %q}`, row.Version)).Command
	second := do(t, a.e, "PATCH", "/api/tables/todos/rows/1", fmt.Sprintf(`{"title": "Other", "_version": %q}`, row.Version)).Command
	if first == nil || second == nil {
		t.Fatal("no commands")
	}
	if r := status(first.ID, false); r.Status != 200 || !strings.Contains(string(r.Body), `"state":"pending"`) {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}
	if r := status(first.ID, true); !strings.Contains(string(r.Body), `hx-trigger="every 1s"`) || !strings.Contains(string(r.Body), "on its way") {
		t.Fatalf("the pending page does not follow its command: %s", r.Body)
	}
	a.e.Apply(first, 1)
	a.e.Apply(second, 2)
	if r := status(first.ID, false); !strings.Contains(string(r.Body), `"state":"applied"`) {
		t.Fatalf("applied: %s", r.Body)
	}
	if r := status(first.ID, true); !strings.Contains(string(r.Body), "was applied") || !strings.Contains(string(r.Body), `href="/t/todos/r/1"`) || strings.Contains(string(r.Body), "every 1s") {
		t.Fatalf("the applied page: %s", r.Body)
	}
	if r := status(second.ID, false); !strings.Contains(string(r.Body), `"state":"rejected"`) || !strings.Contains(string(r.Body), "changed by someone else") {
		t.Fatalf("rejected: %s", r.Body)
	}
	if r := status(second.ID, true); !strings.Contains(string(r.Body), "was refused: the row was changed by someone else") {
		t.Fatalf("the refused page: %s", r.Body)
	}
	if r := status("nope", false); r.Status != 404 {
		t.Fatalf("unknown command: %d", r.Status)
	}
}

// Batches and imports in the scale-out mode: one command of many writes,
// applied by every node in one transaction, all of them or none.
func TestBatchCommands(t *testing.T) {
	a, b := newNode(t, "a"), newNode(t, "b")
	all := []*node{a, b}
	var s stream
	res := s.write(t, a, all, "POST", "/api/batch", `{"operations": [{"op": "create", "table": "todos", "values": {"title": "One"}},
		{"op": "create", "table": "tags", "values": {"name": "x", "n": 1}}, {"op": "update", "table": "todos", "key": 1, "values": {"done": true}}]}`)
	if res.Status != 200 || strings.Count(string(res.Body), `"status":`) != 3 || !strings.Contains(string(res.Body), `"title":"One"`) {
		t.Fatalf("a batch through the stream: %d %s", res.Status, res.Body)
	}
	if a.dump(t) != b.dump(t) || !strings.Contains(a.dump(t), "One") {
		t.Fatalf("the nodes differ after a batch:\n%s\n%s", a.dump(t), b.dump(t))
	}
	before := a.dump(t)
	// A batch whose second write is stale: nothing of it, on any node.
	res = s.write(t, b, all, "POST", "/api/batch", `{"operations": [{"op": "create", "table": "todos", "values": {"title": "Two"}},
		{"op": "update", "table": "todos", "key": 1, "values": {"title": "Stale"}, "version": "0123456789abcdef"}]}`)
	if res.Status != 409 || !strings.Contains(string(res.Body), `"index":1`) {
		t.Fatalf("a stale batch: %d %s", res.Status, res.Body)
	}
	if a.dump(t) != before || b.dump(t) != before {
		t.Fatalf("a refused batch wrote:\n%s\n%s", a.dump(t), b.dump(t))
	}
	// An import: checked where it was sent, applied everywhere as one batch.
	first := do(t, a.e, "POST", "/api/tables/todos/rows", "title,done\nThree,1\nFour,0\n", "content-type", "text/csv", "accept", "application/json")
	if first.Status != 202 || first.Command == nil {
		t.Fatalf("an import in the scale-out mode: %d %s", first.Status, first.Body)
	}
	s.cmds = append(s.cmds, first.Command)
	for _, n := range all {
		if r := n.e.Apply(first.Command, uint64(len(s.cmds))); r.Status != 200 {
			t.Fatalf("apply the import: %+v", r)
		}
	}
	again := a.e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/tables/todos/rows",
		Headers: map[string]string{"host": "localhost", "content-type": "text/csv", "accept": "application/json"}, Command: first.Command.ID},
		Body: []byte("title,done\nThree,1\nFour,0\n")})
	if again.Status != 201 || !strings.Contains(string(again.Body), `"inserted":2`) {
		t.Fatalf("the import's answer: %d %s", again.Status, again.Body)
	}
	if a.dump(t) != b.dump(t) || !strings.Contains(a.dump(t), "Four") {
		t.Fatalf("the nodes differ after an import:\n%s\n%s", a.dump(t), b.dump(t))
	}
	if r := do(t, a.e, "POST", "/api/tables/todos/rows?conflict=skip", "title\nFive\n", "content-type", "text/csv"); r.Command == nil || r.Command.Ops[0].Conflict != "skip" {
		t.Fatalf("conflict=skip in the scale-out mode: %d %s", r.Status, r.Body)
	}
}
