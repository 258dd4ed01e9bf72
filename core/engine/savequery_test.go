package engine_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// saver is an engine whose config the app may change, and the host's part:
// an answer's config is written (kept here) and applied before it counts.
type saver struct {
	t    *testing.T
	e    *engine.Engine
	opts engine.Options
	file string // the config file's text, as the host would hold it
}

func newSaver(t *testing.T, file string, opts engine.Options) *saver {
	t.Helper()
	cfg, err := engine.ParseConfig([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	opts.Config, opts.ConfigWritable, opts.ConfigText = cfg, true, []byte(file)
	e, _, _ := liveDBWith(t, `CREATE TABLE t (id INTEGER PRIMARY KEY, kind TEXT, n INTEGER);
		INSERT INTO t VALUES (1, 'a', 5), (2, 'b', 7), (3, 'a', 9);
		CREATE TABLE secrets (id INTEGER PRIMARY KEY, code TEXT);`, opts)
	return &saver{t: t, e: e, opts: opts, file: file}
}

// send is one request and, when its answer carries a config, the host
// writing and applying it.
func (s *saver) send(method, path, body string, headers ...string) *protocol.Response {
	s.t.Helper()
	r := do(s.t, s.e, method, path, body, headers...)
	if r.ConfigText != nil {
		cfg, err := engine.ParseConfig([]byte(*r.ConfigText))
		if err != nil {
			s.t.Fatalf("the core handed over a config it would refuse: %v\n%s", err, *r.ConfigText)
		}
		s.file = *r.ConfigText
		s.opts.Config, s.opts.ConfigText = cfg, []byte(s.file)
		s.e.SetOptions(s.opts)
	}
	return r
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

const formCT = "application/x-www-form-urlencoded"

func TestSaveQueryFromThePage(t *testing.T) {
	file := "{\n    \"title\": \"Shop\",\n    \"tables\": {\"secrets\": {\"hidden\": true}}\n}\n"
	s := newSaver(t, file, engine.Options{})
	if r := s.send("GET", "/sql", "", "accept", "text/html"); !strings.Contains(string(r.Body), `name="save-name"`) {
		t.Fatalf("the SQL page offers no save: %s", r.Body)
	}
	sql := "SELECT kind, sum(n) AS total FROM t WHERE n > :min GROUP BY kind"
	r := s.send("POST", "/sql/save", form("sql", sql, "min", "4", "save-name", "by-kind", "save-title", "By <kind>"), "content-type", formCT)
	if r.Status != 303 || r.Header("location") != "/q/by-kind" {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	if !strings.HasPrefix(s.file, "{\n    \"title\": \"Shop\",\n    \"tables\": {\"secrets\": {\"hidden\": true}},\n    \"queries\": {\n        \"by-kind\": {") {
		t.Fatalf("the file was not edited in place:\n%s", s.file)
	}
	if !strings.Contains(s.file, `"title": "By <kind>"`) || !strings.Contains(s.file, `"min": "4"`) || !strings.Contains(s.file, `n > :min`) {
		t.Fatalf("the saved query:\n%s", s.file)
	}
	page := s.send("GET", "/q/by-kind", "", "accept", "text/html")
	if page.Status != 200 || !strings.Contains(string(page.Body), "By &lt;kind&gt;") || !strings.Contains(string(page.Body), "Delete this query") {
		t.Fatalf("its page: %d %s", page.Status, page.Body)
	}
	api := s.send("GET", "/api/queries/by-kind", "", "accept", "application/json")
	if !strings.Contains(string(api.Body), `"rows":[["a",14],["b",7]]`) {
		t.Fatalf("its API: %s", api.Body)
	}

	// Refused, with what was typed kept and nothing written.
	before := s.file
	for _, tc := range []struct {
		name, body, want string
		status           int
	}{
		{"exists", form("sql", "SELECT 1", "save-name", "by-kind"), "exists already", 409},
		{"bad name", form("sql", "SELECT 1", "save-name", "../x"), "name is 1 to 64", 422},
		{"a write", form("sql", "DELETE FROM t", "save-name", "w"), "", 422},
		{"hidden table", form("sql", "SELECT code FROM secrets", "save-name", "h"), "no such table: secrets", 422},
		{"no such column", form("sql", "SELECT nope FROM t", "save-name", "c"), "nope", 422},
	} {
		r := s.send("POST", "/sql/save", tc.body, "content-type", formCT)
		if r.Status != tc.status || !strings.Contains(string(r.Body), tc.want) || r.ConfigText != nil {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
		if !strings.Contains(string(r.Body), `<textarea id="sql"`) {
			t.Errorf("%s: the page with what was typed is not shown again", tc.name)
		}
	}
	if s.file != before {
		t.Fatalf("a refused save wrote:\n%s", s.file)
	}

	// Replace keeps the chart the form does not show; delete takes it out.
	s.file = strings.Replace(s.file, `"title": "By <kind>",`, `"title": "By <kind>", "chart": {"type": "pie"},`, 1)
	cfg, err := engine.ParseConfig([]byte(s.file))
	if err != nil {
		t.Fatal(err)
	}
	s.opts.Config, s.opts.ConfigText = cfg, []byte(s.file)
	s.e.SetOptions(s.opts)
	r = s.send("POST", "/sql/save", form("sql", "SELECT kind, count(*) FROM t GROUP BY kind", "save-name", "by-kind", "save-replace", "1"), "content-type", formCT)
	if r.Status != 303 || !strings.Contains(s.file, `"type": "pie"`) || !strings.Contains(s.file, "count(*)") || strings.Contains(s.file, `"min"`) {
		t.Fatalf("replace: %d\n%s", r.Status, s.file)
	}
	r = s.send("POST", "/q/by-kind/delete", "", "content-type", formCT)
	if r.Status != 303 || s.file != "{\n    \"title\": \"Shop\",\n    \"tables\": {\"secrets\": {\"hidden\": true}},\n    \"queries\": {}\n}\n" {
		t.Fatalf("delete: %d\n%s", r.Status, s.file)
	}
}

func TestSaveQueryAPI(t *testing.T) {
	s := newSaver(t, "", engine.Options{})
	put := func(name, body string) *protocol.Response {
		return s.send("PUT", "/api/queries/"+name, body, "accept", "application/json")
	}
	if r := put("n", `{"sql": "SELECT count(*) AS n FROM t WHERE kind = :k", "params": {"k": "a"}, "chart": {"type": "bar"}}`); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if r := put("n", `{"sql": "SELECT count(*) AS n FROM t WHERE kind = :k", "params": {"k": "b"}}`); r.Status != 200 {
		t.Fatalf("replace: %d %s", r.Status, r.Body)
	}
	var got struct{ Rows [][]any }
	r := s.send("GET", "/api/queries/n", "")
	if err := json.Unmarshal(r.Body, &got); err != nil || len(got.Rows) != 1 || got.Rows[0][0] != float64(1) {
		t.Fatalf("run: %s", r.Body)
	}
	for _, bad := range []string{`{"sql": "SELECT 1", "owner": 1}`, `{"sql": "SELECT 1", "chart": {"type": "radar"}}`, `[1]`, `{"sql": "DROP TABLE t"}`} {
		if r := put("m", bad); r.Status < 400 || r.ConfigText != nil {
			t.Errorf("%s: %d %s", bad, r.Status, r.Body)
		}
	}
	// The host could not write it: nothing is said to be saved.
	r = do(t, s.e, "PUT", "/api/queries/m", `{"sql": "SELECT 1"}`)
	if r.ConfigText == nil {
		t.Fatal("no config to write")
	}
	again := s.e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "PUT", Path: "/api/queries/m",
		Headers:     map[string]string{"host": "localhost", "content-type": "application/json"},
		ConfigError: &protocol.ConfigError{Status: 409, Message: "the config file changed meanwhile"}}, Body: []byte(`{"sql": "SELECT 1"}`)})
	if again.Status != 409 || again.ConfigText != nil || !strings.Contains(string(again.Body), "nothing was saved") {
		t.Fatalf("asked again after a failed write: %d %s", again.Status, again.Body)
	}
	if r := s.send("DELETE", "/api/queries/n", ""); r.Status != 200 || strings.Contains(s.file, `"n"`) {
		t.Fatalf("delete: %d %s\n%s", r.Status, r.Body, s.file)
	}
	if r := s.send("DELETE", "/api/queries/n", ""); r.Status != 404 {
		t.Fatalf("delete again: %d", r.Status)
	}
}

// Who may change the config: the token's holder, never without a file to
// write, never when the config says no.
func TestSaveQueryPermission(t *testing.T) {
	const token = "a-token-of-sixteen-chars"
	s := newSaver(t, `{"sql": {"enabled": true}, "queries": {"open": {"sql": "SELECT 1", "public": true}}}`, engine.Options{AuthToken: token})
	for _, r := range []*protocol.Response{
		s.send("PUT", "/api/queries/x", `{"sql": "SELECT 1"}`),
		s.send("PUT", "/api/queries/open", `{"sql": "SELECT 2"}`),
		s.send("DELETE", "/api/queries/open", ""),
		s.send("POST", "/q/open/delete", "", "content-type", formCT),
	} {
		if r.Status != 401 && r.Status != 403 || r.ConfigText != nil {
			t.Errorf("without the token: %d %s", r.Status, r.Body)
		}
	}
	if r := s.send("PUT", "/api/queries/x", `{"sql": "SELECT 1", "public": true}`, "authorization", "Bearer "+token); r.Status != 201 {
		t.Fatalf("with the token: %d %s", r.Status, r.Body)
	}
	if r := s.send("GET", "/api/queries/x", ""); r.Status != 200 {
		t.Fatalf("the public query it saved: %d", r.Status)
	}

	off := newSaver(t, `{"sql": {"save": false}}`, engine.Options{})
	if r := off.send("PUT", "/api/queries/x", `{"sql": "SELECT 1"}`); r.Status != 403 || !strings.Contains(string(r.Body), "save") {
		t.Fatalf("save off: %d %s", r.Status, r.Body)
	}
	if r := off.send("GET", "/sql", "", "accept", "text/html"); strings.Contains(string(r.Body), "save-name") {
		t.Fatal("the SQL page offers a save that is off")
	}
	fixed := newSaver(t, `{}`, engine.Options{})
	fixed.opts.ConfigWritable = false
	fixed.e.SetOptions(fixed.opts)
	if r := fixed.send("PUT", "/api/queries/x", `{"sql": "SELECT 1"}`); r.Status != 403 || !strings.Contains(string(r.Body), "--config") {
		t.Fatalf("no file to write: %d %s", r.Status, r.Body)
	}
}

// A body of the wrong shape is refused in words of the API, not of Go.
func TestSaveQueryBadBody(t *testing.T) {
	s := newSaver(t, "{}", engine.Options{})
	r := s.send("PUT", "/api/queries/x", `{"sql": "SELECT 1", "params": {"a": 5}}`)
	if r.Status != 400 || !strings.Contains(string(r.Body), "params has the wrong type") || strings.Contains(string(r.Body), "Go struct") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}
