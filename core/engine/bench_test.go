package engine_test

import (
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/corpus"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// chinook opens a private copy of ../shared/testdata/chinook.sqlite, or skips.
func chinook(b *testing.B) *engine.Engine {
	db, err := sqlite.Open(corpus.ChinookCopy(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	e, err := engine.Open(db, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func benchRequest(b *testing.B, method, path, query string) {
	e := chinook(b)
	req := &protocol.Request{RequestHead: protocol.RequestHead{Method: method, Path: path, Query: query,
		Headers: map[string]string{"host": "localhost", "accept": "text/html"}}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if res := e.Handle(req); res.Status != 200 {
			b.Fatalf("status %d: %s", res.Status, res.Body)
		}
	}
}

// The list page of 50 rows with foreign-key labels: the page every user sees first.
func BenchmarkListPageHTML(b *testing.B) { benchRequest(b, "GET", "/t/Track", "") }

// The same rows as JSON.
func BenchmarkListJSON(b *testing.B) { benchRequest(b, "GET", "/api/tables/Track/rows", "limit=50") }

// One row with its edit form (foreign-key selects included).
func BenchmarkRowPage(b *testing.B) { benchRequest(b, "GET", "/t/Track/r/1000", "") }

// One row as JSON: the API's single-row read.
func BenchmarkRowJSON(b *testing.B) { benchRequest(b, "GET", "/api/tables/Track/rows/1000", "") }

// A list sorted by a column without an index, paged deep.
func BenchmarkSortedList(b *testing.B) { benchRequest(b, "GET", "/t/Track", "sort=Name&desc=1") }

// A create through the JSON API (the row, its log entry, its values).
func BenchmarkCreate(b *testing.B) {
	e := chinook(b)
	req := &protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/tables/Genre/rows",
		Headers: map[string]string{"host": "localhost", "accept": "application/json", "content-type": "application/json"}},
		Body: []byte(`{"Name": "bench genre"}`)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if res := e.Handle(req); res.Status != 201 {
			b.Fatalf("status %d: %s", res.Status, res.Body)
		}
	}
}

// benchSignedIn is benchRequest for a signed-in user the config's rule
// holds ("with a rule"), or for a signed-in user no rule holds.
func benchSignedIn(b *testing.B, withRule bool, path, query string) {
	db, err := sqlite.Open(corpus.ChinookCopy(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	raw := `{}`
	if withRule {
		raw = `{"tables": {"Track": {"rules": {"list": "TrackId >= @user.id OR @user.role = 'editor'", "view": "TrackId >= @user.id"}}}}`
	}
	cfg, _ := engine.ParseConfig([]byte(raw))
	e, err := engine.Open(db, engine.Options{Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	h := map[string]string{"host": "localhost", "content-type": "application/json", "accept": "application/json"}
	if res := e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/users", Headers: h},
		Body: []byte(`{"email": "b@example.com", "password": "bench-password"}`)}); res.Status != 201 {
		b.Fatalf("add: %d %s", res.Status, res.Body)
	}
	res := e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/signin",
		Headers: map[string]string{"host": "localhost", "content-type": "application/x-www-form-urlencoded"}},
		Body: []byte("email=b%40example.com&password=bench-password")})
	cookie, _, _ := strings.Cut(header(res, "set-cookie"), ";")
	req := &protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: path, Query: query,
		Headers: map[string]string{"host": "localhost", "accept": "text/html", "cookie": cookie}}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if res := e.Handle(req); res.Status != 200 {
			b.Fatalf("status %d: %s", res.Status, res.Body)
		}
	}
}

// The list page and JSON list, signed in, without a rule and with one that
// lets every row through: what a session and a rule cost.
func BenchmarkListPageSignedIn(b *testing.B) { benchSignedIn(b, false, "/t/Track", "") }
func BenchmarkListPageWithRule(b *testing.B) { benchSignedIn(b, true, "/t/Track", "") }
func BenchmarkListJSONSignedIn(b *testing.B) {
	benchSignedIn(b, false, "/api/tables/Track/rows", "limit=50")
}
func BenchmarkListJSONWithRule(b *testing.B) {
	benchSignedIn(b, true, "/api/tables/Track/rows", "limit=50")
}
