package nakedhtmx

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/corpus"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	pgstore "github.com/nakedhtmx/nakedhtmx/core/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The same core.wasm serves Postgres under wazero: on Chinook loaded into a
// real Postgres, every answer is byte for byte the native engine's on the
// same database (the DSID included: the same store, the same schema).
func TestPostgresUnderWazero(t *testing.T) {
	wasm := needWasm(t)
	lite, err := sqlite.Open(corpus.ChinookCopy(t))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	url := pgtest.URL(t)
	pg, err := postgres.Open(url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	pgtest.LoadSQLite(t, lite, pg)
	native, err := engine.Open(pg, engine.Options{Store: pgstore.New(""), Log: func(string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(t.Context(), Options{Wasm: wasm, DB: url, CacheDir: testCacheDir, Log: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	version := regexp.MustCompile(`("version":"|name="_version" value=")[0-9a-f]{16}`)
	for _, path := range []string{"/", "/t/Album?sort=Title", "/t/Track?q=love", "/t/Track/r/1", "/t/Invoice/r/98",
		"/api/tables/Track/rows?limit=7&sort=Milliseconds&desc=1", "/api/tables/Genre/rows.csv", "/api/schema/Invoice"} {
		p, q, _ := strings.Cut(path, "?")
		req := func() *protocol.Request {
			return &protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: p, Query: q,
				Headers: map[string]string{"host": "localhost", "accept": "text/html"}}}
		}
		a, err := corpus.Collect(func(r *protocol.Request) (*protocol.Response, error) { return native.Handle(r), nil }, req())
		if err != nil {
			t.Fatal(err)
		}
		b, err := corpus.Collect(h.Handle, req())
		if err != nil {
			t.Fatal(err)
		}
		fa, fb := corpus.Format(a), corpus.Format(b)
		if b.Status != 200 || !bytes.Equal(version.ReplaceAll(fa, nil), version.ReplaceAll(fb, nil)) {
			t.Errorf("%s: wazero on Postgres (%d) differs from the native engine:\n%.600s\n---\n%.600s", path, b.Status, fb, fa)
		}
	}
	// A write through the wasm core lands in Postgres and in its log.
	w, err := h.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/tables/Genre/rows",
		Headers: map[string]string{"host": "localhost", "accept": "application/json", "content-type": "application/json"}}, Body: []byte(`{"Name":"Wazero"}`)})
	if err != nil || w.Status != 201 {
		t.Fatalf("a write: %v %d %s", err, w.Status, w.Body)
	}
	rs, err := pg.Query(`SELECT count(*) FROM "_nakedhtmx_changes" WHERE tbl = 'Genre' AND op = 'insert' AND new IS NOT NULL`)
	if err != nil || rs.Values[0][0] != int64(1) {
		t.Errorf("the write's log entry: %v %v", rs, err)
	}
}
