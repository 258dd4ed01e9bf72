package engine_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// offlineWrite makes a write on a copy opened for commands, as the offline
// service worker does: the copy's core turns it into a command, which is
// applied to the copy at once (seq: the copy's own count), and the request
// asked again answers as a direct write would. It returns the command, as
// the worker keeps it to send.
func offlineWrite(t *testing.T, local *engine.Engine, seq uint64, method, path, body string, headers ...string) (*protocol.Command, *protocol.Response) {
	t.Helper()
	res := do(t, local, method, path, body, headers...)
	if res.Command == nil {
		t.Fatalf("%s %s on the copy: %d %s, no command", method, path, res.Status, res.Body)
	}
	if r := local.Apply(res.Command, seq); r.Status >= 300 {
		t.Fatalf("applying %s on the copy: %+v", res.Command.ID, r)
	}
	h := map[string]string{"host": "localhost", "content-type": "application/json"}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	p, q, _ := strings.Cut(path, "?")
	again := local.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: method, Path: p, Query: q, Headers: h, Command: res.Command.ID}, Body: []byte(body)})
	return res.Command, again
}

// send is what the worker does once the server is back: POST the command.
func send(t *testing.T, server *engine.Engine, cmd *protocol.Command) (status int, answer map[string]any) {
	t.Helper()
	b, err := json.Marshal(cmd)
	if err != nil {
		t.Fatal(err)
	}
	res := do(t, server, "POST", "/api/replica/commands", string(b))
	if res.Status != 200 {
		t.Fatalf("POST /api/replica/commands: %d %s", res.Status, res.Body)
	}
	if err := json.Unmarshal(res.Body, &answer); err != nil {
		t.Fatal(err)
	}
	return int(answer["status"].(float64)), answer
}

// TestOfflineWrites: writes made on a copy while its server is away (a
// form's edit, a create through the API, a delete) reach the server as the
// caller's own writes, once each however often they are sent; a row
// changed on the server meanwhile is a 409 with the row as it is now, never
// overwritten; a write made against an older schema is remapped; what the
// caller may not do stays refused.
func TestOfflineWrites(t *testing.T) {
	cfg, err := engine.ParseConfig([]byte(hiddenConfig))
	if err != nil {
		t.Fatal(err)
	}
	server, _, raw := liveDBWith(t, `CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, n REAL);
		INSERT INTO notes VALUES (1, 'one', 1.5), (2, 'two', 2.5), (3, 'three', NULL);`+hiddenFixture,
		engine.Options{Config: cfg, Log: func(string, ...any) {}})
	local := replicaMode(t, func(p string) *protocol.Response { return do(t, server, "GET", p, "") }, 100, "jetstream")

	// A form edit on the copy: the copy shows it at once.
	form := do(t, local, "GET", "/t/notes/r/1/edit", "")
	version := between(string(do(t, local, "GET", "/api/tables/notes/rows/1", "").Body), `"version":"`, `"`)
	edit, res := offlineWrite(t, local, 1, "POST", "/t/notes/r/1", "title=one+offline&n=1.5&_version="+version+"&_dsid="+local.DSID(),
		"content-type", "application/x-www-form-urlencoded", "origin", "http://localhost")
	if res.Status >= 400 {
		t.Fatalf("the copy's answer to the edit: %d %s (form %d)", res.Status, res.Body, form.Status)
	}
	if !strings.Contains(string(do(t, local, "GET", "/t/notes/r/1", "").Body), "one offline") {
		t.Error("the copy does not show its own edit")
	}
	create, _ := offlineWrite(t, local, 2, "POST", "/api/tables/notes/rows", `{"title": "made offline", "n": 4.25}`, "origin", "http://localhost")
	del, _ := offlineWrite(t, local, 3, "DELETE", "/api/tables/notes/rows/3", "", "origin", "http://localhost")

	for _, c := range []*protocol.Command{edit, create, del} {
		if status, a := send(t, server, c); status >= 300 {
			t.Fatalf("%s %s: %d %v", c.Op, c.ID, status, a)
		}
	}
	rows := string(do(t, server, "GET", "/api/tables/notes/rows", "").Body)
	for _, want := range []string{"one offline", "made offline", "4.25"} {
		if !strings.Contains(rows, want) {
			t.Errorf("the server's rows lack %q: %s", want, rows)
		}
	}
	if strings.Contains(rows, "three") {
		t.Errorf("the delete did not reach the server: %s", rows)
	}
	// Sent again (the answer never reached the copy): the same result, made once.
	before := rows
	for _, c := range []*protocol.Command{edit, create, del} {
		status, a := send(t, server, c)
		if a["replayed"] != true || status >= 300 {
			t.Errorf("%s sent again: %d %v", c.Op, status, a)
		}
	}
	if after := string(do(t, server, "GET", "/api/tables/notes/rows", "").Body); after != before {
		t.Errorf("sending again changed the rows:\n%s\n%s", before, after)
	}

	// A conflict: the server's row changed after the copy's was read.
	v2 := between(string(do(t, local, "GET", "/api/tables/notes/rows/2", "").Body), `"version":"`, `"`)
	mine, _ := offlineWrite(t, local, 4, "PATCH", "/api/tables/notes/rows/2", `{"title": "mine", "_version": "`+v2+`"}`, "origin", "http://localhost")
	if err := raw.Script(`UPDATE notes SET title = 'theirs' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	status, a := send(t, server, mine)
	cur, _ := a["current"].(map[string]any)
	if status != 409 || cur == nil || cur["title"] != "theirs" {
		t.Errorf("a conflict: %d %v", status, a)
	}
	if body := string(do(t, server, "GET", "/api/tables/notes/rows/2", "").Body); !strings.Contains(body, "theirs") {
		t.Errorf("the server's row was overwritten: %s", body)
	}
	// Keep mine: sent again (a new command) against the version it has now.
	keep := *mine
	keep.ID, keep.Version = "0123456789abcdef0123456789abcdef", a["version"].(string)
	if want := between(string(do(t, server, "GET", "/api/tables/notes/rows/2", "").Body), `"version":"`, `"`); keep.Version != want {
		t.Errorf("the conflict's version %q, the row's %q", keep.Version, want)
	}
	if status, a := send(t, server, &keep); status != 200 {
		t.Errorf("keeping mine: %d %v", status, a)
	}

	// Made against an older schema: remapped (a renamed column keeps its value).
	stale, _ := offlineWrite(t, local, 5, "POST", "/api/tables/notes/rows", `{"title": "before the rename", "n": 7}`, "origin", "http://localhost")
	if err := raw.Script(`ALTER TABLE notes RENAME COLUMN title TO heading`); err != nil {
		t.Fatal(err)
	}
	status, a = send(t, server, stale)
	row, _ := a["row"].(map[string]any)
	if status != 201 || row == nil || row["heading"] != "before the rename" || a["remapped"] == nil {
		t.Errorf("a write made before a rename: %d %v", status, a)
	}

	// Refused: a hidden column, a hidden table, a view, malformed commands.
	for _, bad := range []struct {
		body string
		want int // the route's status; 0: 200 with a failed write
	}{
		{`{"id":"11111111111111111111111111111111","dsid":"` + server.DSID() + `","table":"people","op":"update","key":"1","values":{"hush_label":"x"}}`, 0},
		{`{"id":"22222222222222222222222222222222","dsid":"` + server.DSID() + `","table":"secrets","op":"insert","values":{"id":9}}`, 404},
		{`{"id":"not-an-id","table":"notes","op":"insert","values":{}}`, 400},
		{`{"id":"33333333333333333333333333333333","table":"notes","op":"migrate","sql":"DROP TABLE notes"}`, 400},
		{`{"id":"44444444444444444444444444444444","table":"notes","op":"insert","values":[1]}`, 400},
		{`{"id":"55555555555555555555555555555555","op":"batch","ops":[{"table":"notes","op":"insert","values":{"heading":"a"}},{"table":"secrets","op":"delete","key":"1"}]}`, 404},
	} {
		res := do(t, server, "POST", "/api/replica/commands", bad.body)
		if bad.want != 0 {
			if res.Status != bad.want {
				t.Errorf("%s: %d %s", bad.body, res.Status, res.Body)
			}
			continue
		}
		var a map[string]any
		json.Unmarshal(res.Body, &a)
		if res.Status != 200 || a["status"].(float64) < 400 {
			t.Errorf("%s: %d %s", bad.body, res.Status, res.Body)
		}
	}
	if body := string(do(t, server, "GET", "/api/tables/notes/rows", "").Body); strings.Contains(body, `"a"`) {
		t.Errorf("a refused batch wrote: %s", body)
	}
	// A copy takes no commands of its own, and a copy not opened for
	// commands takes no writes.
	if r := do(t, local, "POST", "/api/replica/commands", `{}`); r.Status != 503 {
		t.Errorf("a copy took a command: %d", r.Status)
	}
}

// between is the text of s after open up to close.
func between(s, open, close string) string {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, close)
	return v
}

// TestOfflineWritesThroughTheStream: under --write jetstream a copy's
// write becomes the stream's command under the copy's own id; once applied
// (here by Apply, as every node applies the stream) the route asked again
// answers its result, and the command sent again later is answered from
// that result, written once. A write made against an older schema is
// remapped before it becomes the command, so every node applies it.
func TestOfflineWritesThroughTheStream(t *testing.T) {
	server, _, raw := liveDBWith(t, `CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, n REAL);
		INSERT INTO notes VALUES (1, 'one', 1.5), (2, 'two', 2.5);`, engine.Options{Log: func(string, ...any) {}, WriteMode: "jetstream", Node: "a"})
	local := replicaMode(t, func(p string) *protocol.Response { return do(t, server, "GET", p, "") }, 100, "jetstream")
	v1 := between(string(do(t, local, "GET", "/api/tables/notes/rows/1", "").Body), `"version":"`, `"`)
	edit, _ := offlineWrite(t, local, 1, "PATCH", "/api/tables/notes/rows/1", `{"title": "one offline", "_version": "`+v1+`"}`, "origin", "http://localhost")
	create, _ := offlineWrite(t, local, 2, "POST", "/api/tables/notes/rows", `{"title": "made offline"}`, "origin", "http://localhost")
	if err := raw.Script(`ALTER TABLE notes ADD COLUMN c TEXT`); err != nil {
		t.Fatal(err)
	}
	var seq uint64
	through := func(c *protocol.Command) map[string]any {
		b, _ := json.Marshal(c)
		res := do(t, server, "POST", "/api/replica/commands", string(b))
		if res.Command != nil {
			if res.Command.ID != c.ID {
				t.Fatalf("the stream's command has id %s, the copy's %s", res.Command.ID, c.ID)
			}
			seq++
			if r := server.Apply(res.Command, seq); r.Status >= 300 {
				t.Fatalf("applying %s: %+v", c.ID, r)
			}
			again := server.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/replica/commands",
				Headers: map[string]string{"host": "localhost", "content-type": "application/json"}, Command: c.ID}, Body: b})
			res = again
		}
		var a map[string]any
		if res.Status != 200 || json.Unmarshal(res.Body, &a) != nil {
			t.Fatalf("%s: %d %s", c.ID, res.Status, res.Body)
		}
		return a
	}
	for _, c := range []*protocol.Command{edit, create} {
		if a := through(c); a["status"].(float64) >= 300 || a["replayed"] == true {
			t.Errorf("%s: %v", c.Op, a)
		}
	}
	rows := string(do(t, server, "GET", "/api/tables/notes/rows", "").Body)
	if !strings.Contains(rows, "one offline") || !strings.Contains(rows, "made offline") {
		t.Fatalf("the server's rows: %s", rows)
	}
	applied := seq
	for _, c := range []*protocol.Command{edit, create} {
		if a := through(c); a["replayed"] != true {
			t.Errorf("%s sent again: %v", c.Op, a)
		}
	}
	if seq != applied || string(do(t, server, "GET", "/api/tables/notes/rows", "").Body) != rows {
		t.Errorf("sending again made new commands or writes")
	}
	// Refused where it is checked: 409 at once, nothing goes on the stream.
	v2 := between(string(do(t, local, "GET", "/api/tables/notes/rows/2", "").Body), `"version":"`, `"`)
	mine, _ := offlineWrite(t, local, 3, "PATCH", "/api/tables/notes/rows/2", `{"title": "mine", "_version": "`+v2+`"}`, "origin", "http://localhost")
	if err := raw.Script(`UPDATE notes SET title = 'theirs' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	if a := through(mine); a["status"].(float64) != 409 || seq != applied {
		t.Errorf("a conflict under jetstream: %v (seq %d)", a, seq)
	}
}

// TestOfflineWritesArePeoples: a copy's command is the caller's own write,
// whatever it says of who made it (the rules and defaults of the caller
// apply), and its result is answered again to that caller only.
func TestOfflineWritesArePeoples(t *testing.T) {
	e, alice, bob, _, ids := peopleEngine(t)
	cmd := `{"id":"abcdefabcdefabcdefabcdefabcdef01","dsid":"` + e.DSID() + `","table":"notes","op":"insert","values":{"body":"made offline by alice"},` +
		`"by":{"id":1,"email":"root@example.com","role":"admin"}}`
	res := alice.do("POST", "/api/replica/commands", cmd)
	var a struct {
		Status int            `json:"status"`
		Row    map[string]any `json:"row"`
	}
	if res.Status != 200 || json.Unmarshal(res.Body, &a) != nil || a.Status != 201 {
		t.Fatalf("alice's command: %d %s", res.Status, res.Body)
	}
	if a.Row["owner"] != float64(ids[`o'hara%_"x@example.com`]) {
		t.Errorf("the row is not alice's: %v", a.Row)
	}
	if r := bob.do("POST", "/api/replica/commands", cmd); r.Status != 403 || strings.Contains(string(r.Body), "made offline by alice") {
		t.Errorf("bob was answered alice's command: %d %s", r.Status, r.Body)
	}
	if r := alice.do("POST", "/api/replica/commands", cmd); r.Status != 200 || !strings.Contains(string(r.Body), `"replayed":true`) {
		t.Errorf("alice sending again: %d %s", r.Status, r.Body)
	}
	// Bob may not update alice's note: the rule refuses it.
	key := fmt.Sprint(a.Row["id"])
	r := bob.do("POST", "/api/replica/commands", `{"id":"abcdefabcdefabcdefabcdefabcdef02","dsid":"`+e.DSID()+`","table":"notes","op":"update","key":"`+key+`","values":{"body":"bob was here"}}`)
	var b struct {
		Status int `json:"status"`
	}
	json.Unmarshal(r.Body, &b)
	if refused := r.Status == 403 || r.Status == 404 || (r.Status == 200 && b.Status >= 400); !refused {
		t.Errorf("bob's update of alice's note: %d %s", r.Status, r.Body)
	}
	if body := string(alice.do("GET", "/api/tables/notes/rows/"+key, "").Body); strings.Contains(body, "bob was here") {
		t.Errorf("bob's command wrote alice's note: %s", body)
	}
}
