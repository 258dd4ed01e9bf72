// Command nakedhtmx-wasm is the command line of the native host, run on the
// wasm core (dist/core.wasm) under wazero instead of the linked engine. It is
// how the wazero host is exercised end to end (tests/http runs it as the
// "wasm" host) and how its start-up cost is measured.
//
//	go run ./bindings/go/cmd/nakedhtmx-wasm --wasm dist/core.wasm --db app.db
package main

import (
	"context"
	"flag"

	nakedhtmx "github.com/nakedhtmx/nakedhtmx/bindings/go"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/browserset"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/cli"
)

func main() {
	var wasm string
	p := &cli.Program{
		Name: "nakedhtmx-wasm",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&wasm, "wasm", nakedhtmx.DefaultWasmPath, "")
		},
		ExtraHelp: "  --wasm PATH         the core module (default " + nakedhtmx.DefaultWasmPath + "; the browser set beside it is served)\n",
		// The browser set make build leaves beside the core.wasm it built.
		BrowserSet: func() (*browserset.Set, error) { return browserset.Beside(wasm) },
		Open: func(ctx context.Context, o cli.OpenOptions) (cli.Backend, error) {
			return nakedhtmx.New(ctx, nakedhtmx.Options{
				PGSchema: o.PGSchema,
				WasmPath: wasm,
				DB:       o.DB,
				Config:   o.Config,
				// The CLI writes back what the core saves into the config.
				ConfigWritable: o.ConfigWritable,
				AuthToken:      o.AuthToken,
				Log:            o.Log,
				Write:          o.Write,
				Node:           o.Node,
				// The listen address and every --allowed-host.
				AllowedHosts:    o.AllowedHosts,
				KeepJournalMode: o.KeepJournalMode,
				FilesDir:        o.FilesDir,
				BrowserSet:      o.BrowserSet,
			})
		},
		Uninstall: func(ctx context.Context, db, pgSchema string) ([]string, string, error) {
			return nakedhtmx.Uninstall(ctx, nakedhtmx.Options{WasmPath: wasm, DB: db, PGSchema: pgSchema})
		},
	}
	p.Main()
}
