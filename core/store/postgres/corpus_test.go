package postgres_test

import (
	"flag"
	"testing"

	hostpg "github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/core/corpus"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/store/postgres"
)

var update = flag.Bool("update", false, "rewrite the expected answers of the corpus's Postgres leg")

// TestCorpus runs the corpus's Postgres leg (testdata/corpus/postgres) with
// the native engine on a real Postgres, and writes its expected answers
// with -update: `go test ./core/store/postgres -run Corpus -update`. The
// wazero and JS hosts are held to them (bindings/go/postgres_test.go).
func TestCorpus(t *testing.T) {
	corpus.TestIn(t, corpus.PostgresDir(), func(t *testing.T, c *corpus.Case) corpus.HandleFunc {
		db, err := hostpg.Open(pgtest.CorpusDB(t, c), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		cfg, err := engine.ParseConfig(c.Config)
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.Open(db, engine.Options{Config: cfg, BasePath: c.Open.BasePath, Offline: c.Open.Offline, Store: postgres.New(""), Log: func(string, ...any) {}})
		if err != nil {
			t.Fatal(err)
		}
		return func(r *protocol.Request) (*protocol.Response, error) { return e.Handle(r), nil }
	}, corpus.Writer(*update))
}
