package engine_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
)

// File columns (config "file": true): the row holds a key, the files
// directory the bytes. Every write path stores, replaces and lets go of
// files so that the directory holds exactly the files some row names: an
// untouched save and GET-then-PATCH change nothing, an undone write
// leaves no file, a replaced or deleted value's file goes after COMMIT.
func TestFileColumns(t *testing.T) {
	cfg, err := engine.ParseConfig([]byte(`{"tables": {"docs": {"columns": {"doc": {"file": true}, "pic": {"file": true}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	e, racy, other := liveDBWith(t, `CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT NOT NULL, doc TEXT, pic TEXT)`, engine.Options{Config: cfg})
	dir := filepath.Join(t.TempDir(), "live.db-files")
	racy.SetFilesDir(dir)
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	keyRE := regexp.MustCompile(`^[0-9a-f]{32}-[0-9]+\.[a-z]+$`)
	files := func() []string {
		t.Helper()
		ents, _ := os.ReadDir(dir)
		var out []string
		for _, en := range ents {
			out = append(out, en.Name())
		}
		sort.Strings(out)
		return out
	}
	keys := func() []string {
		t.Helper()
		rs, err := other.Query(`SELECT doc FROM docs WHERE doc IS NOT NULL UNION ALL SELECT pic FROM docs WHERE pic IS NOT NULL ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range rs.Values {
			out = append(out, fmt.Sprint(v[0]))
		}
		return out
	}
	same := func(what string) {
		t.Helper()
		if f, k := files(), keys(); strings.Join(f, ",") != strings.Join(k, ",") {
			t.Fatalf("%s: the directory holds %v, the rows name %v", what, f, k)
		}
	}

	// Created through the JSON API: the row names a file with the bytes.
	r := do(t, e, "POST", "/api/tables/docs/rows", `{"title": "one", "doc": "`+b64(png)+`"}`)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	k := keys()
	if len(k) != 1 || !keyRE.MatchString(k[0]) || !strings.HasSuffix(k[0], fmt.Sprintf("-%d.png", len(png))) {
		t.Fatalf("the row's key: %v", k)
	}
	if b, err := os.ReadFile(filepath.Join(dir, k[0])); err != nil || string(b) != png {
		t.Fatalf("the file: %q %v", b, err)
	}
	same("after a create")
	want := fmt.Sprintf(`"doc":{"$blob":{"size":%d,"type":"image/png","url":"/api/tables/docs/rows/1/doc"}}`, len(png))
	if !strings.Contains(string(r.Body), want) || strings.Contains(string(r.Body), k[0]) {
		t.Fatalf("the answer: %s", r.Body)
	}
	got := do(t, e, "GET", "/api/tables/docs/rows/1/doc", "")
	if got.Status != 200 || string(got.Body) != png || got.Header("content-type") != "image/png" {
		t.Fatalf("the download: %d %q %q", got.Status, got.Header("content-type"), got.Body)
	}
	if list := string(do(t, e, "GET", "/t/docs", "", "accept", "text/html").Body); !strings.Contains(list, fmt.Sprintf(`href="/api/tables/docs/rows/1/doc">PNG image, %d bytes</a>`, len(png))) {
		t.Fatalf("the list's cell:\n%s", list)
	}
	// The history names the file as the list does: never its key, never bytes.
	if page := string(do(t, e, "GET", "/t/docs/r/1", "", "accept", "text/html").Body); !strings.Contains(page, `class="thumb"`) || !strings.Contains(page, `type="file"`) {
		t.Fatalf("the row page:\n%s", page)
	}
	if h := string(do(t, e, "GET", "/t/docs/r/1/history", "", "accept", "text/html").Body); strings.Contains(h, k[0]) || !strings.Contains(h, fmt.Sprintf("PNG image, %d bytes", len(png))) {
		t.Fatalf("the row's history:\n%s", h)
	}

	// GET then PATCH of the same row, and an untouched form: nothing changes.
	row := do(t, e, "GET", "/api/tables/docs/rows/1", "")
	body := string(row.Body)
	body = body[strings.Index(body, `"row":`)+6 : strings.Index(body, `,"version"`)]
	if r := do(t, e, "PATCH", "/api/tables/docs/rows/1", body); r.Status != 200 || strings.Join(keys(), ",") != strings.Join(k, ",") {
		t.Fatalf("GET then PATCH: %d %s; keys %v", r.Status, r.Body, keys())
	}
	post := func(path string, parts ...string) int {
		t.Helper()
		return postForm(t, e, path, parts...).Status
	}
	if st := post("/t/docs/r/1", part("_dsid", "-", e.DSID()), part("title", "-", "one"), part("doc", "", ""), part("pic", "", "")); st >= 400 || strings.Join(keys(), ",") != strings.Join(k, ",") {
		t.Fatalf("an untouched save: %d, keys %v", st, keys())
	}
	same("after untouched saves")

	// Replaced from the form: a new file, the old one gone.
	if st := post("/t/docs/r/1", part("_dsid", "-", e.DSID()), part("doc", "new.txt", "plain words")); st >= 400 {
		t.Fatalf("an upload: %d", st)
	}
	if k2 := keys(); len(k2) != 1 || k2[0] == k[0] || !strings.HasSuffix(k2[0], "-11.txt") {
		t.Fatalf("after the upload: %v", k2)
	}
	same("after a replacement")

	// Writes that fail leave no file: a stale version, a bad value, a
	// batch whose second write fails.
	ver := func() string {
		b := string(do(t, e, "GET", "/api/tables/docs/rows/1", "").Body)
		return b[strings.Index(b, `"version":"`)+11 : strings.LastIndex(b, `"`)]
	}
	if r := do(t, e, "PATCH", "/api/tables/docs/rows/1", `{"pic": "`+b64("GIF89a")+`", "_version": "stale"}`); r.Status != 409 {
		t.Fatalf("a stale write: %d %s", r.Status, r.Body)
	}
	if r := do(t, e, "POST", "/api/tables/docs/rows", `{"title": null, "pic": "`+b64("GIF89a")+`"}`); r.Status != 422 {
		t.Fatalf("a bad create: %d %s", r.Status, r.Body)
	}
	if r := do(t, e, "POST", "/api/batch", `{"operations": [{"op": "create", "table": "docs", "values": {"title": "b", "pic": "`+b64("GIF89a")+`"}},
		{"op": "update", "table": "docs", "key": 1, "values": {"pic": "`+b64("GIF87a")+`"}, "version": "stale"}]}`); r.Status != 409 {
		t.Fatalf("a failed batch: %d %s", r.Status, r.Body)
	}
	same("after failed writes")
	if r := do(t, e, "PATCH", "/api/tables/docs/rows/1", `{"pic": "`+b64("GIF89a")+`", "_version": "`+ver()+`"}`); r.Status != 200 {
		t.Fatalf("a second file: %d %s", r.Status, r.Body)
	}
	if r := do(t, e, "PATCH", "/api/tables/docs/rows/1", `{"doc": null}`); r.Status != 200 {
		t.Fatalf("emptied: %d %s", r.Status, r.Body)
	}
	same("after emptying one")
	if len(files()) != 1 {
		t.Fatalf("files: %v", files())
	}
	// A value that is no key is text, never a path.
	if err := other.Script(`INSERT INTO docs (id, title, doc) VALUES (7, 'planted', '../../../etc/passwd')`); err != nil {
		t.Fatal(err)
	}
	if r := do(t, e, "GET", "/api/tables/docs/rows/7/doc", ""); string(r.Body) != "../../../etc/passwd" {
		t.Fatalf("a planted path: %d %q", r.Status, r.Body)
	}
	if r := do(t, e, "DELETE", "/api/tables/docs/rows/7", ""); r.Status != 204 {
		t.Fatalf("delete planted: %d", r.Status)
	}
	// Deleted: its files go.
	if r := do(t, e, "DELETE", "/api/tables/docs/rows/1", ""); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if f := files(); len(f) != 0 {
		t.Fatalf("after the delete: %v", f)
	}
	// A file gone from the directory is a 404 naming it, not a 500.
	made := string(do(t, e, "POST", "/api/tables/docs/rows", `{"title": "gone", "doc": "`+b64("x")+`"}`).Body)
	id := made[strings.Index(made, `"pk":{"id":`)+11 : strings.LastIndex(made, "}}")]
	os.Remove(filepath.Join(dir, keys()[0]))
	if r := do(t, e, "GET", "/api/tables/docs/rows/"+id+"/doc", ""); r.Status != 404 || !strings.Contains(string(r.Body), "missing") {
		t.Fatalf("a missing file: %d %s", r.Status, r.Body)
	}
}

// In a cluster each node keeps its own files directory: a command's files
// are named from the command, so every node names them alike and the rows
// stay equal; a delete lets them go on every node.
func TestFileColumnCommandsConverge(t *testing.T) {
	cfg, err := engine.ParseConfig([]byte(`{"tables": {"docs": {"columns": {"doc": {"file": true}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*node
	var dirs []string
	for _, name := range []string{"a", "b"} {
		db, err := sqlite.Open(filepath.Join(t.TempDir(), name+".db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Script(`CREATE TABLE docs (id INTEGER PRIMARY KEY, doc TEXT)`); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), name+"-files")
		db.SetFilesDir(dir)
		e, err := engine.Open(db, engine.Options{WriteMode: "jetstream", Node: name, Config: cfg, Log: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		nodes, dirs = append(nodes, &node{e: e, db: db}), append(dirs, dir)
	}
	listing := func(dir string) string {
		ents, _ := os.ReadDir(dir)
		var out []string
		for _, en := range ents {
			b, _ := os.ReadFile(filepath.Join(dir, en.Name()))
			out = append(out, en.Name()+"="+string(b))
		}
		return strings.Join(out, ",")
	}
	var s stream
	if r := s.write(t, nodes[0], nodes, "POST", "/api/tables/docs/rows", `{"doc": "`+base64.StdEncoding.EncodeToString([]byte("GIF89a!"))+`"}`); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	a, b := listing(dirs[0]), listing(dirs[1])
	if a == "" || a != b || !strings.HasSuffix(a, ".gif=GIF89a!") {
		t.Fatalf("the nodes' files: %q and %q", a, b)
	}
	if da, db := nodes[0].dumpTable(t, "docs"), nodes[1].dumpTable(t, "docs"); da != db {
		t.Fatalf("the nodes' rows: %s and %s", da, db)
	}
	// A batch that fails on its second write: its first write's file and
	// its delete are undone with it, on every node.
	r := s.write(t, nodes[0], nodes, "POST", "/api/batch", `{"operations": [
		{"op": "create", "table": "docs", "values": {"doc": "`+base64.StdEncoding.EncodeToString([]byte("%PDF-1"))+`"}},
		{"op": "delete", "table": "docs", "key": 1},
		{"op": "update", "table": "docs", "key": 1, "values": {"doc": null}}]}`) // checked where it was made; gone when applied
	if r.Status < 400 {
		t.Fatalf("a failing batch: %d %s", r.Status, r.Body)
	}
	if a2, b2 := listing(dirs[0]), listing(dirs[1]); a2 != a || b2 != a {
		t.Fatalf("after a failed batch: %q and %q, want %q", a2, b2, a)
	}
	if r := s.write(t, nodes[1], nodes, "DELETE", "/api/tables/docs/rows/1", ""); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if a, b := listing(dirs[0]), listing(dirs[1]); a != "" || b != "" {
		t.Fatalf("after the delete: %q and %q", a, b)
	}
}

func (n *node) dumpTable(t *testing.T, table string) string {
	t.Helper()
	rs, err := n.db.Query(`SELECT * FROM ` + table + ` ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(rs.Values)
}
