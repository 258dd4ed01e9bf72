package engine_test

import (
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
