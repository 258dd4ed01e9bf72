package plugin

import (
	"context"
	"testing"
)

// The cost of one plugin call on the Go hosts: the example validator's
// check_email on a small row, in Go and in AssemblyScript (make bench
// reports it beside the JS hosts', bench/plugins.ts).
func BenchmarkCallGo(b *testing.B) {
	benchCall(b, build(b, "../../../examples/plugins/go"), Grants{WASI: true}, "check_email")
}

func BenchmarkCallAssemblyScript(b *testing.B) {
	benchCall(b, buildAS(b, "examples/plugins/assemblyscript/email.ts"), Grants{}, "check_email")
}

// benchRow is the row every host's benchmark checks.
const benchRow = `{"row": {"id": 7, "name": "Ann", "email": "ann@example.com"}}`

func benchCall(b *testing.B, wasm []byte, g Grants, function string) {
	ctx := context.Background()
	p, err := Load(ctx, "bench", wasm, Limits{}, g)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(ctx)
	in := []byte(benchRow)
	for b.Loop() {
		if _, err := p.Call(ctx, function, in); err != nil {
			b.Fatal(err)
		}
	}
}

// The ABI's own cost: a call that hands its input back (a Go plugin).
func BenchmarkCallEcho(b *testing.B) {
	benchCall(b, build(b, "./testdata/hostile"), Grants{WASI: true}, "echo")
}
