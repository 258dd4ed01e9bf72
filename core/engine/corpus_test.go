package engine_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/corpus"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus/*/out from the native engine")

// TestCorpus runs the golden corpus on the engine linked natively. With
// -update it writes the expected answers every other host is held to.
func TestCorpus(t *testing.T) {
	cases, err := corpus.Load(corpus.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("the corpus is empty")
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			db, err := sqlite.Open(filepath.Join(t.TempDir(), "corpus.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Script(c.Schema); err != nil {
				t.Fatalf("schema.sql: %v", err)
			}
			cfg, err := engine.ParseConfig(c.Config)
			if err != nil {
				t.Fatal(err)
			}
			e, err := engine.Open(db, engine.Options{Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			answers, err := corpus.Run(c, func(r *protocol.Request) (*protocol.Response, error) { return e.Handle(r), nil })
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range answers {
				if bytes.HasPrefix(a, []byte("500\n")) {
					t.Errorf("request %d answered 500: a crash is never a golden answer:\n%s", i, a)
				}
			}
			if *update {
				os.RemoveAll(filepath.Join(c.Dir, "out"))
				os.MkdirAll(filepath.Join(c.Dir, "out"), 0o755)
				for i, a := range answers {
					if err := os.WriteFile(c.OutPath(i), a, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			for i, a := range answers {
				want, err := os.ReadFile(c.OutPath(i))
				if err != nil {
					t.Fatalf("request %d: %v (run go test ./core/engine -run Corpus -update)", i, err)
				}
				if !bytes.Equal(want, a) {
					r := c.Requests[i]
					t.Errorf("request %d (%s %s?%s): %s", i, r.Method, r.Path, r.Query, corpus.Diff(want, a))
				}
			}
		})
	}
}
