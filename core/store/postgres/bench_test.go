package postgres_test

import (
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/corpus"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// The same requests as core/engine's benchmarks, on Chinook loaded into a
// real Postgres (a throw-away cluster on a Unix socket), so make bench puts
// the two stores side by side.

func chinookPG(b *testing.B) *engine.Engine {
	lite, err := sqlite.Open(corpus.ChinookCopy(b))
	if err != nil {
		b.Fatal(err)
	}
	defer lite.Close()
	pg := connect(b, pgtest.URL(b), "")
	pgtest.LoadSQLite(b, lite, pg)
	return pgEngine(b, pg, engine.Options{})
}

func benchPG(b *testing.B, method, path, query, body string, want int) {
	e := chinookPG(b)
	req := &protocol.Request{RequestHead: protocol.RequestHead{Method: method, Path: path, Query: query,
		Headers: map[string]string{"host": "localhost", "accept": "text/html", "content-type": "application/json"}}, Body: []byte(body)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if res := e.Handle(req); res.Status != want {
			b.Fatalf("status %d: %s", res.Status, res.Body)
		}
	}
}

func BenchmarkListPageHTML(b *testing.B) { benchPG(b, "GET", "/t/Track", "", "", 200) }
func BenchmarkListJSON(b *testing.B) {
	benchPG(b, "GET", "/api/tables/Track/rows", "limit=50", "", 200)
}
func BenchmarkRowPage(b *testing.B) { benchPG(b, "GET", "/t/Track/r/1000", "", "", 200) }
func BenchmarkRowJSON(b *testing.B) { benchPG(b, "GET", "/api/tables/Track/rows/1000", "", "", 200) }
func BenchmarkCreate(b *testing.B) {
	benchPG(b, "POST", "/api/tables/Genre/rows", "", `{"Name": "bench genre"}`, 201)
}
