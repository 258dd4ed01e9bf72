package engine_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
)

const importSchema = `
	CREATE TABLE kinds (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
	INSERT INTO kinds VALUES (1, 'tool'), (2, 'toy');
	CREATE TABLE items (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		qty INTEGER NOT NULL DEFAULT 1 CHECK (qty >= 0),
		price REAL,
		kind INTEGER REFERENCES kinds(id),
		note TEXT
	);
	INSERT INTO items VALUES (1, 'old', 3, 1.5, 1, NULL);`

type importAnswer struct {
	Inserted, Updated, Skipped int
	Error                      string
	Errors                     []struct {
		Line    int
		Field   string
		Message string
	}
}

func importInto(t *testing.T, e *engine.Engine, ct, body, query string) (int, importAnswer) {
	t.Helper()
	path := "/api/tables/items/rows"
	if query != "" {
		path += "?" + query
	}
	r := do(t, e, "POST", path, body, "content-type", ct, "accept", "application/json")
	var a importAnswer
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	return r.Status, a
}

func itemsDump(t *testing.T, e *engine.Engine) string {
	t.Helper()
	return string(do(t, e, "GET", "/api/tables/items/rows?limit=1000&sort=id", "", "accept", "application/json").Body)
}

func TestImport(t *testing.T) {
	e, _, _ := liveDBWith(t, importSchema, engine.Options{})
	csv := "\uFEFFname,qty,price,kind,note\r\n" +
		"\"Saw, big\",2,9.5,1,\"said \"\"sharp\"\"\non two lines\"\r\n" +
		"Ball,,0.5,2,\"=HYPERLINK(\"\"x\"\")\"\r\n" +
		"Top,0,,,'=1+1\r\n"
	st, a := importInto(t, e, "text/csv", csv, "")
	if st != 201 || a.Inserted != 3 {
		t.Fatalf("csv: %d %+v", st, a)
	}
	got := itemsDump(t, e)
	for _, want := range []string{`"name":"Saw, big","qty":2,"price":9.5,"kind":1,"note":"said \"sharp\"\non two lines"`,
		`"name":"Ball","qty":1,"price":0.5,"kind":2,"note":"=HYPERLINK(\"x\")"`, `"name":"Top","qty":0,"price":null,"kind":null,"note":"=1+1"`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}

	before := itemsDump(t, e)
	for _, tc := range []struct {
		name, ct, body string
		line           int
		field, want    string
	}{
		{"bad values, by line and field", "text/csv", "name,qty,kind\na,1,1\nb,-1,1\nc,x,1\n", 3, "qty", ""},
		{"a reference to no row", "text/csv", "name,kind\na,9\n", 2, "kind", "no row of kinds"},
		{"an unknown column", "text/csv", "name,nope\na,1\n", 1, "nope", "no such column"},
		{"a column named twice", "text/csv", "name,name\na,b\n", 1, "name", "twice"},
		{"a short row", "text/csv", "name,qty\na,1\nb\n", 3, "", "cells"},
		{"a NUL byte", "text/csv", "name\na\x00b\n", 2, "name", "NUL"},
		{"invalid UTF-8", "text/csv", "name\nok\n\xff\n", 3, "", "UTF-8"},
		{"a bare quote", "text/csv", "name\na\"b\n", 2, "", "CSV"},
		{"too many columns", "text/csv", strings.Repeat("c,", 9999) + "c\n", 1, "", "columns"},
		{"only a header", "text/csv", "name\n", 2, "", "no rows"},
		{"an existing key", "text/csv", "id,name\n7,new\n1,dup\n", 3, "", ""},
		{"a required column missing", "application/x-ndjson", "{\"name\": \"a\"}\n{\"qty\": 2}\n", 2, "name", ""},
		{"a bad NDJSON line", "application/x-ndjson", "{\"name\": \"a\"}\n{oops\n", 2, "", ""},
	} {
		st, a := importInto(t, e, tc.ct, tc.body, "")
		if st != 422 || len(a.Errors) == 0 {
			t.Errorf("%s: %d %+v", tc.name, st, a)
			continue
		}
		got := a.Errors[0]
		if got.Line != tc.line || got.Field != tc.field || !strings.Contains(got.Message, tc.want) {
			t.Errorf("%s: first error %+v, want line %d field %q saying %q", tc.name, got, tc.line, tc.field, tc.want)
		}
	}
	if after := itemsDump(t, e); after != before {
		t.Fatalf("a refused import wrote:\n%s\n%s", before, after)
	}

	// NDJSON and a JSON array, with keys: skip, then update.
	if st, a := importInto(t, e, "application/x-ndjson", "{\"id\": 1, \"name\": \"again\"}\n{\"id\": 50, \"name\": \"fifty\"}\n", "conflict=skip"); st != 201 || a.Inserted != 1 || a.Skipped != 1 {
		t.Fatalf("skip: %d %+v", st, a)
	}
	if st, a := importInto(t, e, "application/x-ndjson", "{\"id\": 1, \"qty\": 9}\r\n{\"id\": 51, \"name\": \"fifty-one\"}", "conflict=update"); st != 201 || a.Inserted != 1 || a.Updated != 1 {
		t.Fatalf("update: %d %+v", st, a)
	}
	got = itemsDump(t, e)
	if !strings.Contains(got, `"id":1,"name":"old","qty":9`) || !strings.Contains(got, `"name":"fifty-one"`) || strings.Contains(got, "again") {
		t.Fatalf("after skip and update:\n%s", got)
	}
	if st, _ := importInto(t, e, "text/csv", "name\nx\n", "conflict=maybe"); st != 400 {
		t.Fatalf("a bad conflict mode: %d", st)
	}
	// The export reads back as it was.
	exp := do(t, e, "GET", "/api/tables/items/rows.csv", "")
	e2, _, _ := liveDBWith(t, strings.Replace(importSchema, "INSERT INTO items VALUES (1, 'old', 3, 1.5, 1, NULL);", "", 1), engine.Options{})
	if st, a := importInto(t, e2, "text/csv", string(exp.Body), ""); st != 201 {
		t.Fatalf("re-import of the export: %d %+v", st, a)
	}
	if a, b := itemsDump(t, e), itemsDump(t, e2); strings.ReplaceAll(a, e.DSID(), "") != strings.ReplaceAll(b, e2.DSID(), "") {
		t.Fatalf("the export did not read back:\n%s\n%s", a, b)
	}
}

// A large import in parts: each part checked and kept (its errors by the
// file's lines), then one transaction writes every row, or none.
func TestStagedImport(t *testing.T) {
	e, _, db := liveDBWith(t, importSchema, engine.Options{})
	call := func(method, path, body, ct string) (int, map[string]any) {
		r := do(t, e, method, path, body, "content-type", ct, "accept", "application/json")
		var a map[string]any
		json.Unmarshal(r.Body, &a)
		return r.Status, a
	}
	count := func() string {
		rs, _ := db.Query(`SELECT count(*) FROM items`)
		return fmt.Sprint(rs.Values[0][0])
	}
	before := count()
	start := func(conflict string) string {
		st, a := call("POST", "/api/tables/items/imports", `{"format": "csv", "conflict": "`+conflict+`"}`, "application/json")
		if st != 201 {
			t.Fatalf("start: %d %v", st, a)
		}
		return a["id"].(string)
	}
	id := start("fail")
	// Three parts, each with the header; the file's lines go on from part to part.
	var part strings.Builder
	line := 2
	for p := 0; p < 3; p++ {
		part.Reset()
		part.WriteString("name,qty,price\n")
		for i := 0; i < 500; i++ {
			fmt.Fprintf(&part, "\"Part %d, row %d\",%d,1.5\n", p, i, i)
		}
		st, a := call("POST", fmt.Sprintf("/api/tables/items/imports/%s?line=%d", id, line), part.String(), "text/csv")
		if st != 200 || a["staged"] != float64(500*(p+1)) {
			t.Fatalf("part %d: %d %v", p, st, a)
		}
		line += 500
	}
	if count() != before {
		t.Fatalf("rows were written before the commit")
	}
	// A bad part: refused by the file's line, the others kept.
	st, a := call("POST", fmt.Sprintf("/api/tables/items/imports/%s?line=%d", id, line), "name,qty\nok,1\nbad,-1\n", "text/csv")
	if st != 422 || !strings.Contains(fmt.Sprint(a["errors"]), fmt.Sprintf("line:%d", line+1)) {
		t.Fatalf("a bad part: %d %v", st, a)
	}
	st, a = call("POST", "/api/tables/items/imports/"+id+"/commit", "", "application/json")
	if st != 201 || a["inserted"] != float64(1500) {
		t.Fatalf("commit: %d %v", st, a)
	}
	rs, _ := db.Query(`SELECT count(*), min(name), sum(qty) FROM items WHERE name LIKE 'Part %'`)
	if fmt.Sprint(rs.Values[0]) != "[1500 Part 0, row 0 374250]" {
		t.Fatalf("the rows: %v", rs.Values[0])
	}
	// Kept rows are gone with the commit; the import is unknown after it.
	if st, _ := call("POST", "/api/tables/items/imports/"+id+"/commit", "", "application/json"); st != 404 {
		t.Fatalf("a second commit: %d", st)
	}
	// A commit the database refuses (a key that exists): nothing written.
	id = start("fail")
	call("POST", "/api/tables/items/imports/"+id+"?line=2", "id,name\n900001,new\n1,taken\n", "text/csv")
	after := count()
	if st, a := call("POST", "/api/tables/items/imports/"+id+"/commit", "", "application/json"); st != 422 || !strings.Contains(fmt.Sprint(a["errors"]), "line:3") {
		t.Fatalf("a refused commit: %d %v", st, a)
	}
	if count() != after {
		t.Fatalf("a refused commit wrote rows")
	}
	// Abandoned: dropped; a schema change in between: refused.
	id = start("skip")
	if st, _ := call("DELETE", "/api/tables/items/imports/"+id, "", "application/json"); st != 204 {
		t.Fatalf("abandon: %d", st)
	}
	id = start("fail")
	db.Exec(`ALTER TABLE items ADD COLUMN extra TEXT`)
	if st, _ := call("POST", "/api/tables/items/imports/"+id+"?line=2", "name\nx\n", "text/csv"); st != 409 {
		t.Fatalf("a part after a schema change: %d", st)
	}
	if st, _ := call("POST", "/api/tables/items/imports", `{"format": "json"}`, "application/json"); st != 400 {
		t.Fatalf("a JSON array staged: %d", st)
	}
}

// An import that adds rows writes runs of rows in one statement each: every
// row is logged with its values (the history shows them), rows that set
// different columns are each written as sent, and a row the database
// refuses in the middle of a run is named by its line, with nothing written.
func TestImportManyRows(t *testing.T) {
	e, _, other := liveDBWith(t, `CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, qty INTEGER DEFAULT 5)`, engine.Options{})
	count := func() string {
		rs, err := other.Query(`SELECT count(*), count(DISTINCT name), sum(qty) FROM things`)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rs.Values[0])
	}
	var b strings.Builder
	b.WriteString("name,qty\n")
	for i := 0; i < 700; i++ {
		fmt.Fprintf(&b, "thing %d,%d\n", i, i%3)
	}
	if r := do(t, e, "POST", "/api/tables/things/rows", b.String(), "content-type", "text/csv"); r.Status != 201 || !strings.Contains(string(r.Body), `"inserted":700`) {
		t.Fatalf("the import: %d %s", r.Status, r.Body)
	}
	if got := count(); got != "[700 700 699]" {
		t.Fatalf("after the import: %s", got)
	}
	rs, err := other.Query(`SELECT count(*) FROM "_nakedhtmx_changes" WHERE tbl = 'things' AND new LIKE '{"id":%,"name":"thing %'`)
	if err != nil || fmt.Sprint(rs.Values) != "[[700]]" {
		t.Fatalf("the log's values of the imported rows: %v %v", rs, err)
	}
	// NDJSON rows that set different columns: each as sent (qty's default where left out).
	if r := do(t, e, "POST", "/api/tables/things/rows", "{\"name\": \"a\"}\n{\"name\": \"b\", \"qty\": 1}\n{\"name\": \"c\"}\n", "content-type", "application/x-ndjson"); r.Status != 201 {
		t.Fatalf("NDJSON: %d %s", r.Status, r.Body)
	}
	if got := count(); got != "[703 703 710]" {
		t.Fatalf("after NDJSON: %s", got)
	}
	// A name that exists, on line 401 of a run: refused by its line, nothing written.
	b.Reset()
	b.WriteString("name\n")
	for i := 0; i < 600; i++ {
		name := fmt.Sprintf("new %d", i)
		if i == 399 {
			name = "thing 5"
		}
		b.WriteString(name + "\n")
	}
	r := do(t, e, "POST", "/api/tables/things/rows", b.String(), "content-type", "text/csv")
	if r.Status != 422 || !strings.Contains(string(r.Body), `"line":401`) {
		t.Fatalf("a refused row: %d %s", r.Status, r.Body)
	}
	if got := count(); got != "[703 703 710]" {
		t.Fatalf("after a refused import: %s", got)
	}
}
