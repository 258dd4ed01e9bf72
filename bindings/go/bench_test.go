package nakedhtmx

import (
	"context"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/corpus"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// The same requests as core/engine's benchmarks (native Go), through the
// wasm core under wazero: their ratio is the cost of running the core as
// WebAssembly in Go. bench/core.ts measures the same on Deno, Bun and Node.

func chinookHost(b *testing.B) *Host {
	h, err := New(context.Background(), Options{Wasm: needWasm(b), DB: corpus.ChinookCopy(b), CacheDir: testCacheDir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}

func benchWasm(b *testing.B, path, query string) {
	benchWasmRequest(b, &protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: path, Query: query,
		Headers: map[string]string{"host": "localhost", "accept": "text/html"}}}, 200)
}

func benchWasmRequest(b *testing.B, req *protocol.Request, status int) {
	h := chinookHost(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := h.Handle(req)
		if err != nil {
			b.Fatal(err)
		}
		if res.Status != status {
			b.Fatalf("status %d: %s", res.Status, res.Body)
		}
	}
}

func BenchmarkListPageHTML(b *testing.B) { benchWasm(b, "/t/Track", "") }
func BenchmarkListJSON(b *testing.B)     { benchWasm(b, "/api/tables/Track/rows", "limit=50") }
func BenchmarkRowPage(b *testing.B)      { benchWasm(b, "/t/Track/r/1000", "") }
func BenchmarkRowJSON(b *testing.B)      { benchWasm(b, "/api/tables/Track/rows/1000", "") }

func BenchmarkCreate(b *testing.B) {
	benchWasmRequest(b, &protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/tables/Genre/rows",
		Headers: map[string]string{"host": "localhost", "accept": "application/json", "content-type": "application/json"}},
		Body: []byte(`{"Name": "bench genre"}`)}, 201)
}
