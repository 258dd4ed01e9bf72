package engine_test

import (
	"encoding/json"
	"github.com/nakedhtmx/nakedhtmx/core/store/storetest"
	"net/url"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/config"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
)

const structureSchema = `
CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, qty TEXT, note TEXT DEFAULT 'x' COLLATE NOCASE, CHECK (length(code) < 20));
CREATE INDEX parent_code ON parent (code);
CREATE UNIQUE INDEX parent_qty ON parent (qty);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id) ON DELETE CASCADE, label TEXT);
CREATE TABLE audit (n INTEGER);
CREATE TRIGGER parent_ins AFTER INSERT ON parent BEGIN INSERT INTO audit VALUES (new.id); END;
CREATE VIEW parent_codes AS SELECT id, code FROM parent;
INSERT INTO parent (id, code, qty) VALUES (1, 'a', '007'), (2, 'b', '12'), (5, 'c', NULL);
DELETE FROM parent WHERE id = 5;
INSERT INTO child VALUES (1, 1, 'one'), (2, 2, 'two');
DELETE FROM audit;
`

type editAnswer struct {
	DSID   string   `json:"dsid"`
	SQL    []string `json:"sql"`
	Losses []string `json:"losses"`
	Notes  []string `json:"notes"`
	Table  string   `json:"table"`
	Error  string   `json:"error"`
}

func edit(t *testing.T, e *engine.Engine, body string, headers ...string) (int, editAnswer) {
	t.Helper()
	r := do(t, e, "POST", "/api/structure", body, append([]string{"accept", "application/json"}, headers...)...)
	var a editAnswer
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	return r.Status, a
}

func TestStructureRebuild(t *testing.T) {
	e, _, other := liveDBWith(t, structureSchema, engine.Options{})
	dsid0 := storetest.Values(t, other, `SELECT hash FROM _nakedhtmx_dsid ORDER BY seq DESC LIMIT 1`)
	retype := `{"op": "alterColumn", "table": "parent", "column": "qty", "def": {"name": "qty", "type": "INTEGER"}`
	// The preview: the rebuild's DDL, and what it would change ('007' and
	// '12' become the integers 7 and 12).
	st, a := edit(t, e, retype+`, "dryRun": true}`)
	if st != 200 || len(a.Losses) != 1 || !strings.Contains(a.Losses[0], "2 values of qty") || !strings.Contains(strings.Join(a.SQL, "\n"), `CREATE TABLE "parent" (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, "qty" INTEGER,`) ||
		strings.Contains(strings.Join(a.SQL, "\n"), "_nakedhtmx") || len(a.Notes) == 0 {
		t.Fatalf("preview: %d %+v", st, a)
	}
	// Unconfirmed: 409, nothing changed.
	if st, a := edit(t, e, retype+`}`); st != 409 || len(a.Losses) != 1 {
		t.Fatalf("unconfirmed: %d %+v", st, a)
	}
	if got := storetest.Values(t, other, `SELECT typeof(qty) FROM parent ORDER BY id`); got != `"text","text"` {
		t.Fatalf("an unconfirmed edit changed the table: %s", got)
	}
	if st, a := edit(t, e, retype+`, "confirm": true}`); st != 200 || a.DSID == dsid0 || a.Table != "parent" {
		t.Fatalf("confirmed: %d %+v", st, a)
	}
	// Every row, index, trigger, view, foreign key, CHECK, collation and the
	// AUTOINCREMENT counter kept; no child row lost to ON DELETE CASCADE.
	checks := map[string]string{
		`SELECT id, code, qty, typeof(qty) FROM parent ORDER BY id`: `1,"a",7,"integer",2,"b",12,"integer"`,
		`SELECT count(*) FROM child`:                                `2`,
		`SELECT name FROM sqlite_schema WHERE tbl_name = 'parent' AND type IN ('index', 'trigger') AND name NOT LIKE '\_nakedhtmx%' ESCAPE '\' ORDER BY name`: `"parent_code","parent_ins","parent_qty"`,
		`SELECT count(*) FROM parent_codes`:                                                                                         `2`,
		`SELECT seq FROM sqlite_sequence WHERE name = 'parent'`:                                                                     `5`,
		`SELECT "table" FROM pragma_foreign_key_list('child')`:                                                                      `"parent"`,
		`SELECT count(*) FROM sqlite_schema WHERE name = '_nakedhtmx_rebuild'`:                                                      `0`,
		`SELECT instr(sql, 'COLLATE') > 0 AND instr(sql, 'CHECK (length(code) < 20)') > 0 FROM sqlite_schema WHERE name = 'parent'`: `1`,
	}
	for q, want := range checks {
		if got := storetest.Values(t, other, q); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
	// The capture follows: a write through the app is logged, the
	// trigger fires, the key goes on from the counter.
	r := do(t, e, "POST", "/api/tables/parent/rows", `{"code": "d", "qty": 3}`, "accept", "application/json")
	if r.Status != 201 || !strings.Contains(string(r.Body), `"id":6`) {
		t.Fatalf("insert after the rebuild: %d %s", r.Status, r.Body)
	}
	if got := storetest.Values(t, other, `SELECT n FROM audit`); got != "6" {
		t.Errorf("the user's trigger: %s", got)
	}
	if got := storetest.Values(t, other, `SELECT count(*) FROM _nakedhtmx_changes WHERE tbl = 'parent' AND op = 'insert'`); got != "1" {
		t.Errorf("the capture after the rebuild: %s", got)
	}
	// Foreign keys are enforced again.
	r = do(t, e, "POST", "/api/tables/child/rows", `{"parent": 99, "label": "x"}`, "accept", "application/json")
	if r.Status < 400 {
		t.Fatalf("a dangling reference was taken after the rebuild: %d %s", r.Status, r.Body)
	}
	// NOT NULL on a column with NULLs: refused in SQLite's words, nothing changed.
	do(t, e, "PATCH", "/api/tables/parent/rows/1", `{"qty": null}`)
	if st, a := edit(t, e, `{"op": "alterColumn", "table": "parent", "column": "qty", "def": {"name": "qty", "type": "INTEGER", "notNull": true}, "confirm": true}`); st != 422 || !strings.Contains(a.Error, "NOT NULL") {
		t.Fatalf("NOT NULL over NULLs: %d %+v", st, a)
	}
	if got := storetest.Values(t, other, `SELECT count(*) FROM parent`); got != "3" {
		t.Fatalf("a refused edit lost rows: %s", got)
	}
}

func TestStructureEdits(t *testing.T) {
	e, _, other := liveDBWith(t, structureSchema, engine.Options{})
	steps := []struct {
		body   string
		status int
		check  string
		want   string
	}{
		// Rename a column: in place; the view and index follow.
		{`{"op": "alterColumn", "table": "parent", "column": "code", "def": {"name": "kode", "type": "TEXT", "notNull": true}}`, 200,
			`SELECT group_concat(name) FROM pragma_table_info('parent_codes')`, `"id,kode"`},
		// Rename and change at once: one at a time.
		{`{"op": "alterColumn", "table": "parent", "column": "kode", "def": {"name": "k2", "type": "INTEGER"}}`, 422, "", ""},
		// Add a column, with a default and a CHECK; one with UNIQUE (a rebuild).
		{`{"op": "addColumn", "table": "parent", "def": {"name": "price", "type": "REAL", "default": 1.5, "check": "price >= 0"}}`, 200,
			`SELECT group_concat(price) FROM parent`, `"1.5,1.5"`},
		{`{"op": "addColumn", "table": "parent", "def": {"name": "sku", "type": "TEXT", "unique": true}}`, 200,
			`SELECT count(*) FROM pragma_index_list('parent') WHERE origin = 'u'`, `1`},
		// Drop a column with values: a loss to confirm.
		{`{"op": "dropColumn", "table": "parent", "column": "note"}`, 409, `SELECT count(*) FROM pragma_table_info('parent') WHERE name = 'note'`, `1`},
		{`{"op": "dropColumn", "table": "parent", "column": "note", "confirm": true}`, 200, `SELECT count(*) FROM pragma_table_info('parent') WHERE name = 'note'`, `0`},
		// Indexes.
		{`{"op": "addIndex", "table": "child", "index": {"columns": ["label", "parent"]}}`, 200,
			`SELECT group_concat(name) FROM pragma_index_list('child')`, `"child_label_parent_idx"`},
		{`{"op": "dropIndex", "table": "child", "indexName": "child_label_parent_idx"}`, 200, `SELECT count(*) FROM pragma_index_list('child')`, `0`},
		{`{"op": "dropIndex", "table": "parent", "indexName": "sqlite_autoindex_parent_1"}`, 422, "", ""},
		// Rename the table: the child's foreign key follows it.
		{`{"op": "renameTable", "table": "parent", "to": "parents"}`, 200, `SELECT "table" FROM pragma_foreign_key_list('child')`, `"parents"`},
		{`{"op": "renameTable", "table": "child", "to": "audit"}`, 422, "", ""},
		// Dropping a table others point at is refused; a leaf is a loss to confirm.
		{`{"op": "dropTable", "table": "parents", "confirm": true}`, 422, `SELECT count(*) FROM parents`, `2`},
		{`{"op": "dropTable", "table": "child"}`, 409, `SELECT count(*) FROM child`, `2`},
		{`{"op": "dropTable", "table": "child", "confirm": true}`, 200, `SELECT count(*) FROM sqlite_schema WHERE name = 'child'`, `0`},
		// A new table, with hostile names.
		{`{"op": "createTable", "table": "we\"ird; DROP TABLE audit", "columns": [{"name": "id", "autoKey": true}, {"name": "a\"b", "type": "TEXT", "notNull": true, "default": "it's"}]}`, 200,
			`SELECT count(*) FROM sqlite_schema WHERE name IN ('audit', 'we"ird; DROP TABLE audit')`, `2`},
		// What may never reach the DDL.
		{`{"op": "addColumn", "table": "parents", "def": {"name": "x", "check": "1); DROP TABLE audit; --"}}`, 422, "", ""},
		{`{"op": "addColumn", "table": "parents", "def": {"name": "x", "type": "INT); DROP TABLE audit; --"}}`, 422, "", ""},
		{`{"op": "addColumn", "table": "parents", "def": {"name": "_nakedhtmx_x"}}`, 422, "", ""},
		{`{"op": "createTable", "table": "sqlite_x", "columns": [{"name": "a"}]}`, 422, "", ""},
		{`{"op": "addColumn", "table": "nope", "def": {"name": "x"}}`, 404, "", ""},
		{`{"op": "explode", "table": "parents"}`, 422, "", ""},
		{`{"op": "addColumn", "table": "parents", "def": {"name": "x"}, "extra": 1}`, 400, "", ""},
		{`{"op": "addColumn", "table": "parents", "def": {"name": "r", "type": "INTEGER", "references": {"table": "nope", "column": "id"}}}`, 422, "", ""},
		{`{"op": "addColumn", "table": "parents", "def": {"name": "r", "type": "INTEGER", "references": {"table": "audit", "column": "n", "onDelete": "DROP"}}}`, 422, "", ""},
	}
	for i, s := range steps {
		st, a := edit(t, e, s.body)
		if st != s.status {
			t.Fatalf("step %d %s: %d %+v", i, s.body, st, a)
		}
		if s.check != "" {
			if got := storetest.Values(t, other, s.check); got != s.want {
				t.Fatalf("step %d %s: %s gives %s, want %s", i, s.body, s.check, got, s.want)
			}
		}
	}
	if got := storetest.Values(t, other, `SELECT count(*) FROM audit`); got != "0" {
		t.Fatalf("audit: %s", got)
	}
}

func TestStructurePermissions(t *testing.T) {
	yes, no := true, false
	body := `{"op": "addColumn", "table": "parent", "def": {"name": "x"}}`
	for _, c := range []struct {
		name   string
		opts   engine.Options
		header []string
		status int
	}{
		{"a token, no config", engine.Options{AuthToken: "0123456789abcdef0123"}, []string{"authorization", "Bearer 0123456789abcdef0123"}, 403},
		{"a token, the config allows", engine.Options{AuthToken: "0123456789abcdef0123", Config: &config.Config{Schema: &config.Schema{Edit: &yes}}},
			[]string{"authorization", "Bearer 0123456789abcdef0123"}, 200},
		{"the config forbids", engine.Options{Config: &config.Config{Schema: &config.Schema{Edit: &no}}}, nil, 403},
		{"a read-only table", engine.Options{Config: &config.Config{Tables: map[string]*config.Table{"parent": {ReadOnly: true}}}}, nil, 403},
		{"a hidden column", engine.Options{Config: &config.Config{Tables: map[string]*config.Table{"parent": {Columns: map[string]*config.Column{"qty": {Hidden: true}}}}}}, nil, 403},
		{"a hidden table", engine.Options{Config: &config.Config{Tables: map[string]*config.Table{"parent": {Hidden: true}}}}, nil, 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, _, _ := liveDBWith(t, structureSchema, c.opts)
			if st, a := edit(t, e, body, c.header...); st != c.status {
				t.Fatalf("%d %+v", st, a)
			}
		})
	}
	// A cross-site form post is refused before anything is read.
	e, _, _ := liveDBWith(t, structureSchema, engine.Options{})
	r := do(t, e, "POST", "/structure", "op=dropTable&table=audit&apply=1", "content-type", formCT, "origin", "https://evil.example", "sec-fetch-site", "cross-site")
	if r.Status != 403 {
		t.Fatalf("cross-site: %d", r.Status)
	}
}

func TestStructurePages(t *testing.T) {
	e, _, other := liveDBWith(t, structureSchema, engine.Options{})
	page := string(do(t, e, "GET", "/t/parent/structure", "", "accept", "text/html").Body)
	for _, want := range []string{`<th scope="row">qty</th>`, `name="op" value="alterColumn"`, `parent_code (code)`, `parent_ins`, `CHECK (length(code) &lt; 20)`, `name="op" value="dropTable"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("the structure page lacks %s:\n%s", want, page)
		}
	}
	if list := string(do(t, e, "GET", "/t/parent", "", "accept", "text/html").Body); !strings.Contains(list, `href="/t/parent/structure"`) {
		t.Fatalf("the list links no structure page")
	}
	post := func(v url.Values) (int, string, string) {
		r := do(t, e, "POST", "/structure", v.Encode(), "content-type", formCT, "accept", "text/html")
		return r.Status, r.Header("location"), string(r.Body)
	}
	// A new table: a preview, then applied.
	v := url.Values{"op": {"createTable"}, "table": {"tasks"}, "autokey": {"1"}, "autokeyname": {"id"},
		"c0.name": {"title"}, "c0.type": {"TEXT"}, "c0.notnull": {"1"}, "c1.name": {"done"}, "c1.type": {"BOOLEAN"}, "c1.default": {"0"}, "c2.name": {""}}
	st, _, body := post(v)
	if st != 200 || !strings.Contains(body, `CREATE TABLE &#34;tasks&#34;`) || !strings.Contains(body, `name="apply" value="1"`) {
		t.Fatalf("preview: %d %s", st, body)
	}
	if n := storetest.Values(t, other, `SELECT count(*) FROM sqlite_schema WHERE name = 'tasks'`); n != "0" {
		t.Fatalf("the preview made the table")
	}
	v.Set("apply", "1")
	if st, loc, body := post(v); st != 303 || loc != "/t/tasks/structure" {
		t.Fatalf("apply: %d %s %s", st, loc, body)
	}
	if got := storetest.Values(t, other, `SELECT sql FROM sqlite_schema WHERE name = 'tasks'`); !strings.Contains(got, `\"done\" BOOLEAN DEFAULT FALSE`) || !strings.Contains(got, `\"id\" INTEGER PRIMARY KEY`) {
		t.Fatalf("the new table: %s", got)
	}
	// A drop with rows asks to confirm the loss.
	st, _, body = post(url.Values{"op": {"dropTable"}, "table": {"audit"}})
	if st != 200 || strings.Contains(body, "loses data") {
		t.Fatalf("an empty table's drop: %d %s", st, body)
	}
	st, _, body = post(url.Values{"op": {"dropColumn"}, "table": {"parent"}, "column": {"note"}})
	if st != 200 || !strings.Contains(body, "2 values of note will be deleted") || !strings.Contains(body, `name="confirm" value="1" required`) {
		t.Fatalf("a lossy drop's preview: %d %s", st, body)
	}
	if st, _, body := post(url.Values{"op": {"dropColumn"}, "table": {"parent"}, "column": {"note"}, "apply": {"1"}}); st != 200 || !strings.Contains(body, "loses data") {
		t.Fatalf("an unconfirmed apply: %d %s", st, body)
	}
	if st, loc, _ := post(url.Values{"op": {"dropColumn"}, "table": {"parent"}, "column": {"note"}, "apply": {"1"}, "confirm": {"1"}}); st != 303 || loc != "/t/parent/structure" {
		t.Fatalf("a confirmed apply: %d %s", st, loc)
	}
	// A refusal is a page that says why.
	if st, _, body := post(url.Values{"op": {"addColumn"}, "table": {"parent"}, "name": {"x"}, "type": {"INT); DROP"}}); st != 422 || !strings.Contains(body, "is not a type name") {
		t.Fatalf("a bad type: %d %s", st, body)
	}
}

// A table whose columns the config hides shows no DDL, no trigger and no
// index naming a hidden column on its structure page.
func TestStructureHides(t *testing.T) {
	e, _, _ := liveDBWith(t, structureSchema, engine.Options{Config: &config.Config{Tables: map[string]*config.Table{
		"parent": {Columns: map[string]*config.Column{"qty": {Hidden: true}}}}}})
	page := string(do(t, e, "GET", "/t/parent/structure", "", "accept", "text/html").Body)
	if !strings.Contains(page, "parent_code (code)") {
		t.Fatalf("a visible index is missing:\n%s", page)
	}
	for _, hidden := range []string{"qty", "parent_ins", "CREATE TABLE", `value="alterColumn"`} {
		if strings.Contains(page, hidden) {
			t.Errorf("the structure page shows %q:\n%s", hidden, page)
		}
	}
}

// A new table from a file: its columns read with inferred types (a key
// from an id column, '007' kept as text), offered, then made and filled;
// rows that do not fit the columns as changed leave no table behind.
func TestTableFromFile(t *testing.T) {
	e, _, other := liveDBWith(t, `CREATE TABLE seed (id INTEGER PRIMARY KEY);`, engine.Options{})
	const b = "----nhFile"
	csvText := "id,name,price,code,born,active\r\n1,Ann,2.5,007,2001-02-03,true\r\n2,\"Bob, Jr\",3,010,,false\r\n"
	multipart := func(fields ...string) string {
		var s strings.Builder
		for i := 0; i+1 < len(fields); i += 2 {
			if fields[i] == "file" {
				s.WriteString("--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\nContent-Type: text/csv\r\n\r\n" + fields[i+1] + "\r\n")
				continue
			}
			s.WriteString("--" + b + "\r\nContent-Disposition: form-data; name=\"" + fields[i] + "\"\r\n\r\n" + fields[i+1] + "\r\n")
		}
		return s.String() + "--" + b + "--\r\n"
	}
	post := func(body string, ct string) (int, string, string) {
		r := do(t, e, "POST", "/structure/new", body, "content-type", ct, "accept", "text/html")
		return r.Status, r.Header("location"), string(r.Body)
	}
	st, _, page := post(multipart("file", csvText), "multipart/form-data; boundary="+b)
	for _, want := range []string{`name="table" required value="people"`, `name="c0.name" aria-label="column name" value="id"`, `value="INTEGER"`,
		`name="c2.type" list="types" aria-label="type" value="REAL"`, `name="c3.type" list="types" aria-label="type" value="TEXT"`,
		`name="c4.type" list="types" aria-label="type" value="DATE"`, `name="c5.type" list="types" aria-label="type" value="BOOLEAN"`,
		`name="c0.pk" value="1" aria-label="primary key" checked`, `<td>Bob, Jr</td>`} {
		if st != 200 || !strings.Contains(page, want) {
			t.Fatalf("the columns offered lack %s: %d\n%s", want, st, page)
		}
	}
	if strings.Contains(page, `name="autokey" value="1" checked`) {
		t.Fatalf("an id column of unique integers is the key; no other is numbered")
	}
	form := url.Values{"create": {"1"}, "format": {"csv"}, "text": {csvText}, "op": {"createTable"}, "table": {"people"},
		"c0.name": {"id"}, "c0.type": {"INTEGER"}, "c0.pk": {"1"}, "c1.name": {"full name"}, "c1.type": {"TEXT"}, "c1.notnull": {"1"},
		"c2.name": {"price"}, "c2.type": {"REAL"}, "c3.name": {"code"}, "c3.type": {"TEXT"}, "c4.name": {"born"}, "c4.type": {"DATE"},
		"c5.name": {"active"}, "c5.type": {"BOOLEAN"}}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("c3.type", "INTEGER")
	bad.Set("c3.name", "code")
	bad.Set("c1.type", "INTEGER")
	if st, _, page := post(bad.Encode(), formCT); st != 422 || !strings.Contains(page, "the table was not made") {
		t.Fatalf("rows that do not fit: %d %s", st, page)
	}
	if got := storetest.Values(t, other, `SELECT count(*) FROM sqlite_schema WHERE name = 'people'`); got != "0" {
		t.Fatalf("a refused import left its table behind")
	}
	if st, loc, page := post(form.Encode(), formCT); st != 303 || loc != "/t/people" {
		t.Fatalf("create and import: %d %s %s", st, loc, page)
	}
	if got := storetest.Values(t, other, `SELECT id, "full name", price, code, typeof(code), born, active FROM people ORDER BY id`); got != `1,"Ann",2.5,"007","text","2001-02-03",1,2,"Bob, Jr",3,"010","text",null,0` {
		t.Fatalf("the new table's rows: %s", got)
	}
}
