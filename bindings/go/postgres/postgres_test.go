package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Every value goes bound, untyped, and comes back as the core's value.
func TestValues(t *testing.T) {
	db, err := postgres.Open(pgtest.URL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Script(`CREATE TABLE v (id int PRIMARY KEY, b boolean, d date, ts timestamptz, n numeric(6,2), f float8, x bytea, t text, big numeric)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, int64(1), int64(1), "2024-01-02", "2024-01-02T03:04:05.5Z", "12.50", 1.5, []byte{0, 0xff}, "it's ? -- not a param", "12345678901234567890.12"); err != nil {
		t.Fatal(err)
	}
	rs, err := db.Query(`SELECT id, b, d, ts, n, f, x, t, '?' AS q, big FROM v WHERE id = ? AND b = ?`, int64(1), int64(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Values) != 1 {
		t.Fatalf("rows %v", rs.Values)
	}
	r := rs.Values[0]
	// numeric: a number where a float64 holds it exactly, its text where not.
	want := []any{int64(1), int64(1), "2024-01-02", "2024-01-02T03:04:05.5Z", 12.5, 1.5, []byte{0, 0xff}, "it's ? -- not a param", "?", "12345678901234567890.12"}
	for i := range want {
		if got := r[i]; !equal(got, want[i]) {
			t.Errorf("column %s: %#v, want %#v", rs.Columns[i], got, want[i])
		}
	}
	if _, err := db.Exec(`INSERT INTO v (id) VALUES (?)`, int64(1)); err == nil || err.(interface{ Error() string }) == nil {
		t.Fatal("a duplicate key went in")
	}
}

func equal(a, b any) bool {
	ab, ok1 := a.([]byte)
	bb, ok2 := b.([]byte)
	if ok1 || ok2 {
		return string(ab) == string(bb)
	}
	return a == b
}

func TestNumber(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT ?`:                              `SELECT $1`,
		`SELECT '?', "a?b", ? -- ?` + "\n":      `SELECT '?', "a?b", $1 -- ?` + "\n",
		`SELECT /* ? */ ?, $$ ? $$, $x$?$x$, ?`: `SELECT /* ? */ $1, $$ ? $$, $x$?$x$, $2`,
		`SELECT 'it''s ?', ?`:                   `SELECT 'it''s ?', $1`,
	} {
		if got, _ := postgres.Number(in); got != want {
			t.Errorf("Number(%q) = %q, want %q", in, got, want)
		}
	}
}

// A statement prepared before another session changed its table's types
// is prepared again, outside a transaction, and answers as new.
func TestPreparedAfterOutsideChange(t *testing.T) {
	url := pgtest.URL(t)
	db, err := postgres.Open(url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, err := postgres.Open(url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Script(`CREATE TABLE t (id int PRIMARY KEY, x int); INSERT INTO t VALUES (1, 2)`); err != nil {
		t.Fatal(err)
	}
	q := `SELECT * FROM t WHERE id = ?`
	if _, err := db.Query(q, int64(1)); err != nil {
		t.Fatal(err)
	}
	if err := other.Script(`ALTER TABLE t ALTER COLUMN x TYPE text`); err != nil {
		t.Fatal(err)
	}
	rs, err := db.Query(q, int64(1))
	if err != nil || rs.Values[0][1] != "2" {
		t.Fatalf("after the type changed: %v %v", rs, err)
	}
}

// TestShown: a --db value as printed keeps no password, wherever the URL
// holds it.
func TestShown(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://ann:s3cret@db.example:5432/app", "postgres://ann:xxxxx@db.example:5432/app"},
		{"postgresql://ann@db.example/app?sslmode=require&password=s3cret", "postgresql://ann@db.example/app?password=xxxxx&sslmode=require"},
		{"postgres:///app?host=/var/run/postgresql", "postgres:///app?host=/var/run/postgresql"},
		{"app.db", "app.db"},
		{"postgres://ann:s3cret@[bad", "a postgres:// URL that cannot be read"},
	} {
		if got := postgres.Shown(tc.in); got != tc.want || strings.Contains(got, "s3cret") {
			t.Errorf("Shown(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestWake: with a listening connection the ticks come from the notices
// (here the slow timer is an hour, so every tick after the first is one).
func TestWake(t *testing.T) {
	url := pgtest.URL(t)
	db, err := postgres.Open(url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ticks := make(chan struct{}, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := postgres.Wake(ctx, url, postgres.Pace{Fast: time.Hour, Slow: time.Hour}, func() { ticks <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	wait := func(what string) {
		t.Helper()
		select {
		case <-ticks:
		case <-time.After(5 * time.Second):
			t.Fatalf("no tick after %s", what)
		}
	}
	wait("listening began") // the catch-up tick once it listens
	for i := 0; i < 3; i++ {
		if err := db.Script(`NOTIFY "_nakedhtmx"`); err != nil {
			t.Fatal(err)
		}
		wait("a notice")
	}
	select {
	case <-ticks:
		t.Error("a tick without a notice")
	case <-time.After(200 * time.Millisecond):
	}
}

// Statements queued ahead go with the next one; reads in a batch answer in
// order; the server runs nothing after a failure, which is the next
// statement's (sqldb.Ahead, sqldb.Batcher).
func TestAheadAndBatch(t *testing.T) {
	db, err := postgres.Open(pgtest.URL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Script(`CREATE TABLE ab (id int PRIMARY KEY, v text)`); err != nil {
		t.Fatal(err)
	}
	db.Ahead("BEGIN", nil)
	db.Ahead("INSERT INTO ab VALUES (?, ?)", []any{int64(1), "one"})
	rs, err := db.Query("SELECT v FROM ab WHERE id = ?", int64(1))
	if err != nil || len(rs.Values) != 1 || rs.Values[0][0] != "one" {
		t.Fatalf("the read after the queued write, in its transaction: %v %v", rs, err)
	}
	if _, err := db.Exec("COMMIT"); err != nil {
		t.Fatal(err)
	}
	rss, err := db.QueryBatch([]sqldb.Stmt{{SQL: "SELECT count(*) FROM ab"}, {SQL: "SELECT v FROM ab WHERE id = ?", Args: []any{int64(1)}}, {SQL: "SELECT 3"}})
	if err != nil || len(rss) != 3 || rss[0].Values[0][0] != int64(1) || rss[1].Values[0][0] != "one" || rss[2].Values[0][0] != int64(3) {
		t.Fatalf("a batch of reads: %v %v", rss, err)
	}
	// A failure stops the batch: the duplicate key fails, the insert after
	// it never runs, and the next statement reports it.
	db.Ahead("INSERT INTO ab VALUES (?, ?)", []any{int64(1), "again"})
	db.Ahead("INSERT INTO ab VALUES (?, ?)", []any{int64(2), "two"})
	if _, err := db.Query("SELECT 1"); sqldb.Code(err) != "SQLITE_CONSTRAINT" {
		t.Fatalf("the queued failure: %v", err)
	}
	rs, err = db.Query("SELECT count(*) FROM ab")
	if err != nil || rs.Values[0][0] != int64(1) {
		t.Fatalf("what ran after the failure: %v %v", rs, err)
	}
	db.Ahead("INSERT INTO ab VALUES (?, ?)", []any{int64(3), "three"})
	db.DropAhead()
	if err := db.FlushAhead(); err != nil {
		t.Fatal(err)
	}
	db.Ahead("INSERT INTO ab VALUES (?, ?)", []any{int64(4), "four"})
	if err := db.Script("SELECT 1"); err != nil {
		t.Fatal(err)
	}
	rs, _ = db.Query("SELECT id FROM ab ORDER BY id")
	if len(rs.Values) != 2 || rs.Values[1][0] != int64(4) {
		t.Fatalf("dropped, then flushed before a script: %v", rs.Values)
	}
}
