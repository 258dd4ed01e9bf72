package nakedhtmx

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/browserset"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/core/corpus"
)

// TestCorpus runs the golden corpus (testdata/corpus) through the .wasm under
// wazero. It only compares: the native runner in core/engine writes the
// expected answers, and this host must reproduce them byte for byte.
func TestCorpus(t *testing.T) {
	needWasm(t)
	corpus.Test(t, func(t *testing.T, c *corpus.Case) corpus.HandleFunc {
		return newHost(t, c.Schema, Options{Config: c.Config, BasePath: c.Open.BasePath, BrowserSet: corpusSet(t, c)}).Handle
	}, corpus.Compare)
}

// TestCorpusPostgres runs the corpus's Postgres leg (testdata/corpus/postgres)
// through the .wasm under wazero on a real Postgres: every answer byte for
// byte what the native engine wrote (core/store/postgres, -update).
func TestCorpusPostgres(t *testing.T) {
	needWasm(t)
	corpus.TestIn(t, corpus.PostgresDir(), func(t *testing.T, c *corpus.Case) corpus.HandleFunc {
		return newHost(t, "", Options{DB: pgtest.CorpusDB(t, c), Config: c.Config, BasePath: c.Open.BasePath,
			BrowserSet: corpusSet(t, c)}).Handle
	}, corpus.Compare)
}

// corpusSet is the browser set a case's host serves: for open.json's
// "offline", the one make build left beside core.wasm.
func corpusSet(t *testing.T, c *corpus.Case) *browserset.Set {
	if !c.Open.Offline {
		return nil
	}
	set, err := browserset.Beside(wasmPath)
	if err != nil || set == nil {
		t.Fatalf("the browser set beside %s: %v (make build makes it)", wasmPath, err)
	}
	return set
}

// TestCorpusPostgresOnJSHosts runs the same leg on Node, Deno and Bun
// (bindings/ts/test/corpus.ts --postgres): each case on a database of its
// own, set up here as for the Go runners, named to the runner by URL.
func TestCorpusPostgresOnJSHosts(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	bin := filepath.Join(root, "node_modules", ".bin")
	cases, err := corpus.Load(corpus.PostgresDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range []struct {
		name string
		args []string
	}{
		{"node", []string{"--experimental-strip-types", "--disable-warning=ExperimentalWarning", "bindings/ts/test/corpus.ts", "--postgres"}},
		{"deno", []string{"run", "-A", "bindings/ts/test/corpus.ts", "--postgres"}},
		{"bun", []string{"bindings/ts/test/corpus.ts", "--postgres"}},
	} {
		t.Run(rt.name, func(t *testing.T) {
			exe := filepath.Join(bin, rt.name)
			if _, err := os.Stat(exe); err != nil {
				t.Skipf("%s is not installed (npm ci)", exe)
			}
			urls := map[string]string{}
			for _, c := range cases {
				t.Run(c.Name, func(t *testing.T) { urls[c.Name] = pgtest.CorpusDB(t, c) }) // a case whose load is absent skips
			}
			if len(urls) == 0 {
				t.Skip("no case of the Postgres leg could be set up")
			}
			named, _ := json.Marshal(urls)
			cmd := exec.Command(exe, rt.args...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "NAKEDHTMX_CORPUS_PG="+string(named), "NO_COLOR=1")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the corpus on Postgres under %s: %v\n%s", rt.name, err, out)
			}
			if !strings.Contains(string(out), " 0 failed") {
				t.Errorf("no summary line from the runner:\n%s", out)
			}
		})
	}
}
