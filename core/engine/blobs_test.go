package engine_test

import (
	"encoding/json"
	"fmt"
	"github.com/nakedhtmx/nakedhtmx/core/config"
	"strconv"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// A value's bytes download with a type sniffed from them; only pictures are
// shown inline, and nothing served this way can run as the app.
func TestValueDownload(t *testing.T) {
	cfg, err := engine.ParseConfig([]byte(`{"tables": {"files": {"columns": {"secret": {"hidden": true}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	e, _, other := liveDBWith(t, `CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB, note TEXT, secret TEXT);
		INSERT INTO files VALUES
			(1, x'89504e470d0a1a0a0000000d49484452', 'a png', 's'),
			(2, CAST('<html><script>alert(1)</script></html>' AS BLOB), 'a page', 's'),
			(3, CAST('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>' AS BLOB), NULL, 's'),
			(4, x'00ff00', '<b>x</b>', 's');`, engine.Options{Config: cfg})
	for _, tc := range []struct {
		path, status, ctype, disposition string
	}{
		{"/api/tables/files/rows/1/data", "200", "image/png", "inline"},
		{"/api/tables/files/rows/2/data", "200", "text/plain; charset=utf-8", "attachment"},
		{"/api/tables/files/rows/3/data", "200", "text/plain; charset=utf-8", "attachment"},
		{"/api/tables/files/rows/4/data", "200", "application/octet-stream", "attachment"},
		{"/api/tables/files/rows/4/note", "200", "text/plain; charset=utf-8", "attachment"},
		{"/api/tables/files/rows/3/note", "404", "", ""},
		{"/api/tables/files/rows/9/data", "404", "", ""},
		{"/api/tables/files/rows/1/nope", "404", "", ""},
	} {
		r := do(t, e, "GET", tc.path, "")
		got := strings.Fields(r.Header("content-disposition") + " x")[0]
		if strconv.Itoa(r.Status) != tc.status || tc.ctype != "" && (r.Header("content-type") != tc.ctype || !strings.HasPrefix(got, tc.disposition)) {
			t.Errorf("%s: %d %q %q", tc.path, r.Status, r.Header("content-type"), r.Header("content-disposition"))
		}
		if r.Status == 200 && (!strings.Contains(r.Header("content-security-policy"), "sandbox") || r.Header("x-content-type-options") != "nosniff") {
			t.Errorf("%s: headers %v", tc.path, r.Headers)
		}
	}
	hidden := do(t, e, "GET", "/api/tables/files/rows/1/secret", "")
	nothing := do(t, e, "GET", "/api/tables/files/rows/1/nosuchcolumn", "")
	if hidden.Status != 404 || strings.ReplaceAll(string(hidden.Body), "secret", "X") != strings.ReplaceAll(string(nothing.Body), "nosuchcolumn", "X") {
		t.Fatalf("a hidden column: %d %s", hidden.Status, hidden.Body)
	}
	list := string(do(t, e, "GET", "/t/files", "", "accept", "text/html").Body)
	if !strings.Contains(list, `href="/api/tables/files/rows/1/data">PNG image, 16 bytes</a>`) {
		t.Fatalf("the list's bytes cell:\n%s", list)
	}
	if err := other.Script(`UPDATE files SET data = x'89504e470d0a1a0a0000000d4948445201' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	e.Tick() // the outside write's values go into the log
	if h := string(do(t, e, "GET", "/t/files/r/1/history", "", "accept", "text/html").Body); !strings.Contains(h, "PNG image, 17 bytes") || strings.Contains(h, "iVBORw0KGgo") {
		t.Fatalf("the history inlines bytes:\n%s", h)
	}
	page := string(do(t, e, "GET", "/t/files/r/1", "", "accept", "text/html").Body)
	if !strings.Contains(page, `<img class="thumb" alt="" src="/api/tables/files/rows/1/data">`) || strings.Contains(string(do(t, e, "GET", "/t/files/r/2", "", "accept", "text/html").Body), `class="thumb"`) {
		t.Fatalf("the row page's thumbnail:\n%s", page)
	}
}

// A form uploads a BLOB column's bytes; an empty file input (a browser
// sends one when nothing was chosen) leaves them as they are.
func TestUpload(t *testing.T) {
	e, _, db := liveDBWith(t, `CREATE TABLE pics (id INTEGER PRIMARY KEY, title TEXT, img BLOB);
		INSERT INTO pics VALUES (1, 'one', x'89504e470d0a1a0a01');`, engine.Options{})
	post := func(path string, parts ...string) int {
		r := postForm(t, e, path, parts...)
		if r.Status >= 400 {
			t.Logf("%s", r.Body)
		}
		return r.Status
	}
	img := func(id string) string {
		rs, err := db.Query("SELECT hex(img) FROM pics WHERE id = " + id)
		if err != nil || len(rs.Values) == 0 {
			t.Fatal(err)
		}
		return fmt.Sprint(rs.Values[0][0])
	}
	page := string(do(t, e, "GET", "/t/pics/r/1", "", "accept", "text/html").Body)
	if !strings.Contains(page, `enctype="multipart/form-data"`) || !strings.Contains(page, `type="file"`) {
		t.Fatalf("the form takes no file:\n%s", page)
	}
	dsid := e.DSID()
	// Untouched: the empty file input, as a browser sends it.
	if st := post("/t/pics/r/1", part("_dsid", "-", dsid), part("title", "-", "one"), part("img", "", "")); st != 303 && st != 200 {
		t.Fatalf("untouched save: %d", st)
	}
	if got := img("1"); got != "89504E470D0A1A0A01" {
		t.Fatalf("an untouched save changed the bytes: %s", got)
	}
	// Text posted for the bytes (no browser does) is not taken as them.
	post("/t/pics/r/1", part("_dsid", "-", dsid), part("img", "-", "AAAA"))
	if got := img("1"); got != "89504E470D0A1A0A01" {
		t.Fatalf("text replaced the bytes: %s", got)
	}
	// A chosen file replaces them, byte for byte (NUL and high bytes too).
	if st := post("/t/pics/r/1", part("_dsid", "-", dsid), part("img", "new.bin", "\x00\xff\x01ok")); st >= 400 {
		t.Fatalf("upload: %d", st)
	}
	if got := img("1"); got != "00FF016F6B" {
		t.Fatalf("after the upload: %s", got)
	}
	// A new row with a file.
	if st := post("/t/pics/new", part("_dsid", "-", dsid), part("title", "-", "two"), part("img", "a.gif", "GIF89a..")); st >= 400 {
		t.Fatalf("create with a file: %d", st)
	}
	if got := img("2"); got != "474946383961"+"2E2E" {
		t.Fatalf("the new row's bytes: %s", got)
	}
}

// A file over the config's limit is the field's error: nothing written,
// what was typed kept.
func TestUploadLimit(t *testing.T) {
	e, _, db := liveDBWith(t, `CREATE TABLE pics (id INTEGER PRIMARY KEY, title TEXT, img BLOB);
		INSERT INTO pics VALUES (1, 'one', x'01');`, engine.Options{Config: &config.Config{Limits: &config.Limits{FileBytes: 4}}})
	const b = "----nhLimit"
	body := "--" + b + "\r\nContent-Disposition: form-data; name=\"_dsid\"\r\n\r\n" + e.DSID() + "\r\n" +
		"--" + b + "\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\ntyped title\r\n" +
		"--" + b + "\r\nContent-Disposition: form-data; name=\"img\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n12345\r\n" +
		"--" + b + "--\r\n"
	for _, path := range []string{"/t/pics/r/1", "/t/pics/new"} {
		r := do(t, e, "POST", path, body, "content-type", "multipart/form-data; boundary="+b, "accept", "text/html")
		if r.Status != 422 || !strings.Contains(string(r.Body), "at most 4 may be uploaded") || !strings.Contains(string(r.Body), `value="typed title"`) {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	rs, err := db.Query("SELECT count(*), hex(img), title FROM pics")
	if err != nil || fmt.Sprint(rs.Values[0]) != "[1 01 one]" {
		t.Fatalf("a refused upload wrote: %v %v", rs, err)
	}
}

// The JSON API never inlines bytes (CONTRACT, "BLOB columns"): a row and a
// list carry {"$blob": {"size", "type", "url"}}, the url answers the bytes,
// and a body that sends the object back as it came changes nothing (the
// value's quote() stays), whereas bytes are written as base64 and any other
// {"$blob": ...} is the field's clear error, with nothing written.
func TestBlobRefs(t *testing.T) {
	e, _, other := liveDBWith(t, `CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB, note TEXT, loose);
		INSERT INTO files VALUES (1, x'89504e470d0a1a0a0000000d49484452', 'a png', x'0102'), (2, x'00ff', 'bytes', 'text');`, engine.Options{})
	stored := func() string {
		t.Helper()
		rs, err := other.Query(`SELECT group_concat(quote(data) || quote(note) || quote(loose), ',') FROM files`)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rs.Values)
	}
	row := do(t, e, "GET", "/api/tables/files/rows/1", "")
	want := `"data":{"$blob":{"size":16,"type":"image/png","url":"/api/tables/files/rows/1/data"}}`
	if !strings.Contains(string(row.Body), want) || !strings.Contains(string(row.Body), `"loose":{"$blob":{"size":2,"type":"application/octet-stream","url":"/api/tables/files/rows/1/loose"}}`) {
		t.Fatalf("the row: %s", row.Body)
	}
	if list := do(t, e, "GET", "/api/tables/files/rows", ""); !strings.Contains(string(list.Body), want) {
		t.Fatalf("the list: %s", list.Body)
	}
	if got := do(t, e, "GET", "/api/tables/files/rows/1/data", ""); got.Status != 200 || len(got.Body) != 16 {
		t.Fatalf("the url: %d %q", got.Status, got.Body)
	}
	before := stored()
	var body struct {
		Row     map[string]any `json:"row"`
		Version string         `json:"version"`
	}
	if err := json.Unmarshal(row.Body, &body); err != nil {
		t.Fatal(err)
	}
	back, _ := json.Marshal(body.Row)
	if r := do(t, e, "PATCH", "/api/tables/files/rows/1", string(back)); r.Status != 200 || stored() != before {
		t.Fatalf("GET then PATCH of the same body: %d %s; %s -> %s", r.Status, r.Body, before, stored())
	}
	// The version tells two values of one size and type apart.
	if r := do(t, e, "PATCH", "/api/tables/files/rows/2", `{"data": "AP4="}`); r.Status != 200 {
		t.Fatalf("bytes as base64: %d %s", r.Status, r.Body)
	}
	after := stored()
	if !strings.Contains(after, "X'00FE'") {
		t.Fatalf("base64 written: %s", after)
	}
	for _, tc := range []struct{ method, path, body string }{
		{"PATCH", "/api/tables/files/rows/2", `{"data": {"$blob": {"size": 16, "type": "image/png", "url": "/api/tables/files/rows/1/data"}}}`},
		{"POST", "/api/tables/files/rows", `{"data": {"$blob": {"size": 2, "type": "application/octet-stream", "url": "/api/tables/files/rows/2/data"}}}`},
	} {
		r := do(t, e, tc.method, tc.path, tc.body)
		if r.Status != 422 || !strings.Contains(string(r.Body), `"path":"/data"`) || !strings.Contains(string(r.Body), "base64") || stored() != after {
			t.Errorf("%s %s with another value's $blob: %d %s", tc.method, tc.path, r.Status, r.Body)
		}
	}
	v1 := do(t, e, "GET", "/api/tables/files/rows/2", "")
	if r := do(t, e, "PATCH", "/api/tables/files/rows/2", `{"data": "AP0="}`); r.Status != 200 {
		t.Fatal(r.Status)
	}
	v2 := do(t, e, "GET", "/api/tables/files/rows/2", "")
	var a, b struct{ Version string }
	json.Unmarshal(v1.Body, &a)
	json.Unmarshal(v2.Body, &b)
	if a.Version == b.Version {
		t.Errorf("two values of one size and type share the version %s", a.Version)
	}
}

// formBoundary is the boundary of postForm's bodies.
const formBoundary = "----nhUpload"

// part is one field of a multipart form: a plain one when filename is "-",
// else a file input's (filename "" is the empty input a browser sends).
func part(name, filename, data string) string {
	if filename == "-" {
		return "--" + formBoundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + data + "\r\n"
	}
	return "--" + formBoundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + "\r\n"
}

// postForm posts the parts as a browser's multipart form.
func postForm(t *testing.T, e *engine.Engine, path string, parts ...string) *protocol.Response {
	t.Helper()
	return do(t, e, "POST", path, strings.Join(parts, "")+"--"+formBoundary+"--\r\n", "content-type", "multipart/form-data; boundary="+formBoundary, "accept", "text/html")
}
