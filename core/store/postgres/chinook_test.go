package postgres_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/corpus"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// chinookRequests are what a person does first with Chinook: every page
// kind, sorted, searched, filtered, paged, the JSON API, CSV, the schemas.
var chinookRequests = []struct{ path, accept string }{
	{"/", "text/html"},
	{"/t/Album", "text/html"},
	{"/t/Album?sort=Title&desc=1", "text/html"},
	{"/t/Track?q=love", "text/html"},
	{"/t/Track?f.GenreId=1&sort=Name", "text/html"},
	{"/t/Track/r/1", "text/html"},
	{"/t/Track/new", "text/html"},
	{"/t/Invoice/r/98", "text/html"},
	{"/t/Customer?sort=Country", "text/html"},
	{"/t/Track/options?q=bal", "text/html"},
	{"/api/tables/Track/rows?limit=7&sort=Milliseconds&desc=1", "application/json"},
	{"/api/tables/Invoice/rows?limit=5", "application/json"},
	{"/api/tables/InvoiceLine/rows?limit=5&f.InvoiceId=7", "application/json"},
	{"/api/tables/Employee/rows/3", "application/json"},
	{"/api/tables/Genre/rows.csv", "text/csv"},
	{"/api/schema/Track", "application/json"},
	{"/api/schema/Invoice", "application/json"},
}

var (
	dsidRe = regexp.MustCompile(`\b\d+-[0-9a-f]{16}\b`)
	// Chinook's DATETIME is text on SQLite ("2009-01-01 00:00:00") and a
	// timestamp on Postgres, which the JSON API writes in ISO 8601 with a T.
	datetimeRe = regexp.MustCompile(`(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})`)
	// A row's version is a hash of its values as served: with a date-time
	// among them it differs too.
	versionRe = regexp.MustCompile(`("version":"|name="_version" value=")[0-9a-f]{16}`)
)

// Chinook loaded into Postgres (converted from ../shared/testdata/
// chinook.sqlite, as a person porting it would) answers the JSON API and
// the pages exactly as on SQLite, but for what the types make differ: the
// DSID (Postgres's type names are other words) and a date-time's separator.
func TestChinookSameAsSQLite(t *testing.T) {
	path := corpus.ChinookCopy(t)
	lite, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg := connect(t, pgtest.URL(t), "")
	pgtest.LoadSQLite(t, lite, pg)
	el, err := engine.Open(lite, engine.Options{Log: func(string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	ep := pgEngine(t, pg, engine.Options{})
	norm := func(b []byte) []byte {
		b = dsidRe.ReplaceAll(b, []byte("DSID"))
		if datetimeRe.Match(b) {
			b = versionRe.ReplaceAll(b, []byte("${1}VERSION"))
		}
		return datetimeRe.ReplaceAll(b, []byte("$1T$2"))
	}
	for _, r := range chinookRequests {
		p, q, _ := strings.Cut(r.path, "?")
		req := func() *protocol.Request {
			return &protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: p, Query: q,
				Headers: map[string]string{"host": "localhost", "accept": r.accept}}}
		}
		a, err := corpus.Collect(func(x *protocol.Request) (*protocol.Response, error) { return el.Handle(x), nil }, req())
		if err != nil {
			t.Fatal(err)
		}
		b, err := corpus.Collect(func(x *protocol.Request) (*protocol.Response, error) { return ep.Handle(x), nil }, req())
		if err != nil {
			t.Fatal(err)
		}
		fa, fb := norm(corpus.Format(a)), norm(corpus.Format(b))
		if b.Status != 200 {
			t.Errorf("%s on Postgres: %d %.300s", r.path, b.Status, b.Body)
			continue
		}
		if !bytes.Equal(fa, fb) {
			t.Errorf("%s differs:\n%s", r.path, firstDiff(fa, fb))
		}
	}
}

// firstDiff shows where two answers part, with some context.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-120)
	return "SQLite:   " + string(a[from:min(len(a), i+160)]) + "\nPostgres: " + string(b[from:min(len(b), i+160)])
}
