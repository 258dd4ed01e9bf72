package nakedhtmx

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// wasmPath is the core the tests run: the one `make build` produced.
var wasmPath = filepath.Join("..", "..", DefaultWasmPath)

// testCacheDir keeps compiled code between test runs: compiling the core takes
// seconds, instantiating a cached one tens of milliseconds.
var testCacheDir = filepath.Join(os.TempDir(), "nakedhtmx-test-wazero-cache")

var (
	wasmOnce  sync.Once
	wasmBytes []byte
)

// needWasm returns the core's bytes or skips: the wazero tests need a built
// core, and a missing one is a build step not done, not a host bug.
func needWasm(t testing.TB) []byte {
	t.Helper()
	wasmOnce.Do(func() { wasmBytes, _ = os.ReadFile(wasmPath) })
	if wasmBytes == nil {
		t.Skipf("%s is missing: build it with `make build` (or the go build line in bindings/PROTOCOL.md) to run the wazero host tests", DefaultWasmPath)
	}
	return wasmBytes
}

// newHost opens a host on a fresh database prepared with schema.
func newHost(t testing.TB, schema string, opts Options) *Host {
	t.Helper()
	opts.Wasm = needWasm(t)
	if opts.DB == "" {
		opts.DB = filepath.Join(t.TempDir(), "test.db")
	}
	if schema != "" {
		db, err := sqlite.Open(opts.DB)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Script(schema); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	if opts.CacheDir == "" {
		opts.CacheDir = testCacheDir
	}
	if opts.Log == nil {
		opts.Log = testWriter{t}
	}
	h, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// testWriter sends the core's log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func get(path string) *protocol.Request {
	return &protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: path,
		Headers: map[string]string{"host": "localhost", "accept": "application/json"}}}
}

const albums = `
CREATE TABLE Album (AlbumId INTEGER PRIMARY KEY, Title TEXT NOT NULL, Year INTEGER, Cover BLOB, Price REAL);
INSERT INTO Album VALUES (1, 'Let It Be', 1970, x'00ff', 9.5), (2, 'Ünïcødé ✓', NULL, NULL, 2.0);
`

func TestHostAnswersSchema(t *testing.T) {
	h := newHost(t, albums, Options{})
	if h.DSID() == "" {
		t.Fatal("no DSID after open")
	}
	res, err := h.Handle(get("/api/schema"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || !strings.HasPrefix(res.Header("content-type"), "application/json") {
		t.Fatalf("status %d, content-type %q: %s", res.Status, res.Header("content-type"), res.Body)
	}
	var doc struct {
		DSID   string                     `json:"dsid"`
		Tables map[string]json.RawMessage `json:"tables"`
	}
	if err := json.Unmarshal(res.Body, &doc); err != nil {
		t.Fatalf("%v: %s", err, res.Body)
	}
	if doc.DSID != h.DSID() || doc.Tables["Album"] == nil {
		t.Fatalf("got dsid %q (host says %q), tables %v", doc.DSID, h.DSID(), doc.Tables)
	}
}

// Values cross the wasm boundary twice (sql import, response frame): check a
// few that break naive encodings.
func TestHostValueRoundTrip(t *testing.T) {
	// A NUL inside text is refused by the API (two JS drivers cut text there)
	// but may be in a file already: it must still cross the boundary intact.
	h := newHost(t, `CREATE TABLE v (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB);
		INSERT INTO v (id, s) VALUES (2, 'nul' || char(0) || ' inside');`, Options{})
	body := `{"id": 1, "i": 9007199254740993, "r": 0.1, "s": "✓ and 𝄞 and \\u0000", "b": "AAEC/w=="}`
	res, err := h.Handle(&protocol.Request{
		RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/tables/v/rows",
			Headers: map[string]string{"host": "localhost", "content-type": "application/json", "accept": "application/json"}},
		Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 201 {
		t.Fatalf("POST: %d %s", res.Status, res.Body)
	}
	res, err = h.Handle(get("/api/tables/v/rows/1"))
	if err != nil || res.Status != 200 {
		t.Fatalf("GET: %v %d %s", err, res.Status, res.Body)
	}
	var got struct {
		Row map[string]json.RawMessage `json:"row"`
	}
	if err := json.Unmarshal(res.Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"i": "9007199254740993", "r": "0.1", "s": `"✓ and 𝄞 and \\u0000"`,
		"b": `{"$blob":{"size":4,"type":"application/octet-stream","url":"/api/tables/v/rows/1/b"}}`}
	for col, w := range want {
		if string(got.Row[col]) != w {
			t.Errorf("%s = %s, want %s", col, got.Row[col], w)
		}
	}
	// The bytes themselves, at the value's URL.
	if res, err = h.Handle(get("/api/tables/v/rows/1/b")); err != nil || string(res.Body) != "\x00\x01\x02\xff" {
		t.Errorf("the bytes: %v %q", err, res.Body)
	}
	res, err = h.Handle(get("/api/tables/v/rows/2"))
	if err != nil || res.Status != 200 || !strings.Contains(string(res.Body), `"s":"nul\u0000 inside"`) {
		t.Errorf("a NUL already in the file: %v %d %s", err, res.Status, res.Body)
	}
}

func TestHostServeHTTP(t *testing.T) {
	h := newHost(t, albums, Options{BasePath: "/admin", MaxBody: 1 << 10})
	srv := httptest.NewServer(h)
	defer srv.Close()

	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		contains                        string
	}{
		{"home page", "GET", "/admin/", "", "", 200, `href="/admin/`},
		{"schema", "GET", "/admin/api/schema/Album", "", "", 200, `"x-dsid"`},
		{"escaped table name", "GET", "/admin/api/schema/%41lbum", "", "", 200, `"title":"Album"`},
		{"unknown table", "GET", "/admin/api/schema/Nope", "", "", 404, `"error"`},
		{"outside base path", "GET", "/elsewhere", "", "", 404, ""},
		{"body over the cap", "POST", "/admin/api/tables/Album/rows", "application/json",
			`{"Title":"` + strings.Repeat("x", 2<<10) + `"}`, 413, `"error"`},
		{"CSV streams", "GET", "/admin/api/tables/Album/rows.csv", "", "", 200, "Let It Be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			req.Header.Set("Accept", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status || !bytes.Contains(b, []byte(tt.contains)) {
				t.Fatalf("status %d, body %.300s", res.StatusCode, b)
			}
		})
	}
}

// A large CSV export arrives in continuation parts; the HTTP body must hold
// every row exactly once.
func TestHostContinuations(t *testing.T) {
	h := newHost(t, `CREATE TABLE n (id INTEGER PRIMARY KEY, v TEXT);
		WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 5000)
		INSERT INTO n SELECT x, 'row ' || x FROM c;`, Options{})
	res, err := h.Handle(get("/api/tables/n/rows.csv"))
	if err != nil {
		t.Fatal(err)
	}
	parts := 1
	body := append([]byte(nil), res.Body...)
	for token := res.Continue; token != ""; parts++ {
		req := get("/api/tables/n/rows.csv")
		req.Continue = token
		part, err := h.Handle(req)
		if err != nil {
			t.Fatal(err)
		}
		if part.Status != 0 || len(part.Headers) != 0 {
			t.Fatalf("continuation carries a head: %+v", part.ResponseHead)
		}
		body = append(body, part.Body...)
		token = part.Continue
	}
	lines := strings.Split(strings.TrimRight(string(body), "\r\n"), "\n")
	if len(lines) != 5001 {
		t.Fatalf("%d lines in %d parts", len(lines), parts)
	}
	if !strings.Contains(lines[5000], "row 5000") {
		t.Fatalf("last line %q", lines[5000])
	}
	t.Logf("%d rows in %d parts", len(lines)-1, parts)
}

func TestHostConcurrentRequests(t *testing.T) {
	h := newHost(t, albums, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				res, err := h.Handle(get("/api/tables/Album/rows"))
				if err != nil {
					errs <- err
					return
				}
				if res.Status != 200 {
					errs <- errors.New(string(res.Body))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestHostReinstantiatesAfterTrap(t *testing.T) {
	h := newHost(t, albums, Options{Config: json.RawMessage(`{}`)})
	dsid := h.DSID()
	// A trap leaves the module unusable (PROTOCOL.md); simulate one.
	h.mu.Lock()
	h.trapped(context.Background(), "nh_handle", errors.New("simulated trap"))
	h.mu.Unlock()
	if h.inst != nil {
		t.Fatal("instance kept after a trap")
	}
	res, err := h.Handle(get("/api/schema"))
	if err != nil || res.Status != 200 {
		t.Fatalf("after re-instantiation: %v %v", err, res)
	}
	if h.DSID() != dsid {
		t.Fatalf("DSID changed from %s to %s", dsid, h.DSID())
	}
}

// trapOnInsert is a store with a bug: it runs an INSERT into Album, then
// panics in the `sql` import, which traps the core in the middle of a write.
type trapOnInsert struct {
	store
	armed bool
}

func (s *trapOnInsert) HandleSQL(in []byte) []byte {
	out := s.store.HandleSQL(in)
	if req, err := protocol.DecodeSQLRequest(in); s.armed && err == nil && strings.HasPrefix(req.SQL, `INSERT INTO "Album"`) {
		s.armed = false
		panic("a store adapter's bug")
	}
	return out
}

// A trap in the middle of a write undoes that write, and the next write
// begins as usual.
func TestHostTrapInsideAWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trapwrite.db")
	h := newHost(t, albums, Options{DB: path})
	faulty := &trapOnInsert{store: h.db}
	h.mu.Lock()
	h.db = faulty
	h.mu.Unlock()
	post := func(title string) (*protocol.Response, error) {
		return h.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/tables/Album/rows",
			Headers: map[string]string{"host": "localhost", "accept": "application/json", "content-type": "application/json"}},
			Body: []byte(`{"Title": "` + title + `"}`)})
	}
	faulty.armed = true
	if _, err := post("trapped"); err == nil {
		t.Fatal("no trap")
	}
	res, err := post("after")
	if err != nil || res.Status != 201 {
		t.Fatalf("the write after the trap: %v %v", err, res)
	}
	outside, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer outside.Close()
	rows, err := outside.Query(`SELECT Title FROM Album WHERE AlbumId > 2 ORDER BY AlbumId`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows.Values {
		got = append(got, fmt.Sprint(r[0]))
	}
	if !slices.Equal(got, []string{"after"}) {
		t.Fatalf("rows after the trap: %v, want [after]", got)
	}
}

// A change made while no instance runs (between a trap and the next call)
// still reaches the streams: the fresh core goes on from the last message
// the host delivered, not from the log's end.
func TestHostTrapMissesNoChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trap.db")
	h := newHost(t, albums, Options{DB: path})
	outside, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer outside.Close()
	ids := func() []int64 {
		t.Helper()
		res, err := h.Tick()
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, m := range res.Messages {
			out = append(out, m.ID)
		}
		return out
	}
	if err := outside.Script(`UPDATE Album SET Title = 'first' WHERE AlbumId = 1`); err != nil {
		t.Fatal(err)
	}
	if got := ids(); !slices.Equal(got, []int64{1}) {
		t.Fatalf("before the trap: %v", got)
	}
	h.mu.Lock()
	h.trapped(context.Background(), "nh_tick", errors.New("simulated trap"))
	h.mu.Unlock()
	if err := outside.Script(`UPDATE Album SET Title = 'while down' WHERE AlbumId = 1;
		DELETE FROM Album WHERE AlbumId = 2`); err != nil {
		t.Fatal(err)
	}
	if got := ids(); !slices.Equal(got, []int64{2, 3}) {
		t.Fatalf("the changes made while the core was down: %v, want [2 3]", got)
	}
}

func TestHostSetConfig(t *testing.T) {
	h := newHost(t, albums, Options{})
	label := func() string {
		res, err := h.Handle(get("/api/schema"))
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Body)
	}
	before := label()
	if err := h.SetConfig(json.RawMessage(`{"tables": {"Album": {"columns": {"Title": {"label": "Album title"}}}}}`)); err != nil {
		t.Fatal(err)
	}
	after := label()
	if before == after || !strings.Contains(after, "Album title") {
		t.Fatalf("config not applied:\n%s", after)
	}
	if err := h.SetConfig(json.RawMessage(`{"tables": 5}`)); err == nil {
		t.Fatal("a malformed config was accepted")
	}
	if label() != after {
		t.Fatal("a rejected config changed the answers")
	}
	if err := h.SetConfig(nil); err != nil {
		t.Fatal(err)
	}
	if label() != before {
		t.Fatal("removing the config did not restore the defaults")
	}
}

func TestHostTick(t *testing.T) {
	h := newHost(t, albums, Options{})
	if res, err := h.Tick(); err != nil || len(res.Messages) != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	res, err := h.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/tables/Album/rows",
		Headers: map[string]string{"host": "localhost", "content-type": "application/json", "accept": "application/json"}},
		Body: []byte(`{"Title": "Abbey Road"}`)})
	if err != nil || res.Status != 201 {
		t.Fatalf("POST: %v %+v", err, res)
	}
	tick, err := h.Tick()
	if err != nil || len(tick.Messages) != 1 {
		t.Fatalf("%+v %v", tick, err)
	}
	m := tick.Messages[0]
	if m.ID <= 0 || m.Table != "Album" || !strings.Contains(m.API, "event: change") || !strings.Contains(m.Page, "event: nh-change") {
		t.Fatalf("message %+v", m)
	}
}

// sseReader reads an event stream line by line on its own goroutine.
type sseReader struct {
	lines chan string
	err   chan error
}

func readSSE(body io.Reader) *sseReader {
	r := &sseReader{lines: make(chan string, 1024), err: make(chan error, 1)}
	go func() {
		br := bufio.NewReader(body)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				r.err <- err
				close(r.lines)
				return
			}
			r.lines <- strings.TrimSuffix(line, "\n")
		}
	}()
	return r
}

// event returns the data of the next event called name.
func (r *sseReader) event(t *testing.T, name string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	seen := false
	for {
		select {
		case line, ok := <-r.lines:
			if !ok {
				t.Fatalf("the stream ended: %v", <-r.err)
			}
			if line == "event: "+name {
				seen = true
			} else if seen && strings.HasPrefix(line, "data: ") {
				return strings.TrimPrefix(line, "data: ")
			}
		case <-timeout:
			t.Fatalf("no %s event within 10 s", name)
		}
	}
}

// Live through ServeHTTP: the embedder's handler keeps event streams open,
// announces its own writes and those of another connection, and ends the
// streams on shutdown.
func TestHostLive(t *testing.T) {
	file := filepath.Join(t.TempDir(), "live.db")
	h := newHost(t, albums, Options{BasePath: "/admin", DB: file})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.RegisterOnShutdown(h.EndStreams)
	srv.Start()
	defer srv.Close()

	open := func(path string) *sseReader {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
			b, _ := io.ReadAll(res.Body)
			t.Fatalf("%s: %d %s %s", path, res.StatusCode, res.Header.Get("Content-Type"), b)
		}
		return readSSE(res.Body)
	}
	api := open("/admin/api/events")
	page := open("/admin/t/Album/live")

	// Its own write: announced by the tick right after the POST.
	res, err := http.Post(srv.URL+"/admin/api/tables/Album/rows", "application/json", strings.NewReader(`{"Title": "Abbey Road"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("POST: %d", res.StatusCode)
	}
	var ev struct {
		Table, Op string
		PK        map[string]any
	}
	if err := json.Unmarshal([]byte(api.event(t, "change")), &ev); err != nil || ev.Table != "Album" || ev.Op != "insert" {
		t.Fatalf("change %+v %v", ev, err)
	}
	if data := page.event(t, "nh-change"); !strings.Contains(data, "Abbey Road") {
		t.Fatalf("nh-change %s", data)
	}

	// Another connection's write: found by the timer's ticks.
	other, err := sqlite.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Script(`UPDATE Album SET Title = 'Let It Be (remaster)' WHERE AlbumId = 1`); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(api.event(t, "change")), &ev); err != nil || ev.Op != "update" || ev.PK["AlbumId"] != float64(1) {
		t.Fatalf("change %+v %v", ev, err)
	}
	if data := page.event(t, "nh-change"); !strings.Contains(data, "remaster") {
		t.Fatalf("nh-change %s", data)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	for _, r := range []*sseReader{api, page} {
		for range r.lines {
		}
		if err := <-r.err; err != io.EOF {
			t.Fatalf("stream ended with %v", err)
		}
	}
}

func TestNewFailures(t *testing.T) {
	needWasm(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("garbage!"), 512), 0o644)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"missing wasm", Options{WasmPath: filepath.Join(dir, "none.wasm"), DB: filepath.Join(dir, "a.db")}, "make build"},
		{"not a core", Options{Wasm: []byte("\x00asm\x01\x00\x00\x00"), DB: filepath.Join(dir, "b.db")}, "no nh_"},
		{"not wasm", Options{Wasm: []byte("hello"), DB: filepath.Join(dir, "c.db")}, "core module"},
		{"garbage database", Options{Wasm: needWasm(t), DB: garbage}, "file is not a database"},
		{"directory database", Options{Wasm: needWasm(t), DB: dir}, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.CacheDir = testCacheDir
			h, err := New(context.Background(), tt.opts)
			if err == nil {
				h.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want %q", err, tt.want)
			}
		})
	}
}

func TestHostClosed(t *testing.T) {
	h := newHost(t, "", Options{})
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(get("/")); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
}

// jetstream write mode through the wasm core: a write answers with its
// command, nh_apply runs it, and asking again gives the direct write's answer.
func TestHostCommands(t *testing.T) {
	h := newHost(t, albums, Options{Write: "jetstream", Node: "n1"})
	post := func(cmd string) *protocol.Response {
		t.Helper()
		res, err := h.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/tables/Album/rows",
			Headers: map[string]string{"host": "localhost", "accept": "application/json", "content-type": "application/json"}, Command: cmd},
			Body: []byte(`{"Title": "Abbey Road"}`)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := post("")
	if first.Status != 202 || first.Command == nil || first.Command.Node != "n1" || first.Command.Op != "insert" {
		t.Fatalf("POST in jetstream mode: %d %+v %s", first.Status, first.Command, first.Body)
	}
	if res := post(first.Command.ID); res.Status != 202 {
		t.Fatalf("asked before it is applied: %d %s", res.Status, res.Body)
	}
	r, err := h.Apply(first.Command, 1)
	if err != nil || r.Status != 201 || r.ID != first.Command.ID {
		t.Fatalf("apply: %+v %v", r, err)
	}
	if r, err := h.Apply(first.Command, 1); err != nil || !r.Skipped {
		t.Fatalf("apply again: %+v %v", r, err)
	}
	if res := post(first.Command.ID); res.Status != 201 || !strings.Contains(string(res.Body), `"Title":"Abbey Road"`) {
		t.Fatalf("asked after it is applied: %d %s", res.Status, res.Body)
	}
}
