package engine_test

import (
	"flag"
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
	corpus.Test(t, func(t *testing.T, c *corpus.Case) corpus.HandleFunc {
		db, err := sqlite.Open(filepath.Join(t.TempDir(), "corpus.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Script(c.Schema); err != nil {
			t.Fatalf("schema.sql: %v", err)
		}
		cfg, err := engine.ParseConfig(c.Config)
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.Open(db, engine.Options{Config: cfg, BasePath: c.Open.BasePath, Offline: c.Open.Offline})
		if err != nil {
			t.Fatal(err)
		}
		return func(r *protocol.Request) (*protocol.Response, error) { return e.Handle(r), nil }
	}, corpus.Writer(*update))
}
