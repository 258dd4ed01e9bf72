// Command pgload copies a SQLite file's tables into a Postgres database as
// pgtest.LoadSQLite does for the Go tests: what `make bench` uses to give
// the hosts on Postgres the same data as those on SQLite.
//
//	go run ./bindings/go/postgres/pgtest/pgload --from FILE --to URL [--table NAME]...
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
)

type names []string

func (n *names) String() string     { return strings.Join(*n, ",") }
func (n *names) Set(s string) error { *n = append(*n, s); return nil }

func main() {
	from := flag.String("from", "", "the SQLite file to read")
	to := flag.String("to", "", "the postgres:// URL of an empty database")
	var tables names
	flag.Var(&tables, "table", "a table to copy (repeat; default: every table)")
	flag.Parse()
	if *from == "" || *to == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: pgload --from FILE --to URL [--table NAME]...")
		os.Exit(2)
	}
	src, err := sqlite.Open(*from)
	if err != nil {
		fail(err)
	}
	defer src.Close()
	dst, err := postgres.Open(*to, "public")
	if err != nil {
		fail(err)
	}
	defer dst.Close()
	if err := pgtest.Load(src, dst, tables); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pgload:", err)
	os.Exit(1)
}
