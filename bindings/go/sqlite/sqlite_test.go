package sqlite

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestRoundTrip(t *testing.T) {
	db := openTemp(t)
	if err := db.Script("CREATE TABLE v (x ANY) STRICT"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   any
		want any // nil means "same as in"
	}{
		{"null", nil, nil},
		{"zero", int64(0), nil},
		{"max int64", int64(math.MaxInt64), nil},
		{"min int64", int64(math.MinInt64), nil},
		{"beyond JS safe integers", int64(1<<53 + 1), nil},
		{"go int", 7, int64(7)},
		{"float", 2.5, nil},
		{"integral float stays REAL", 2.0, nil},
		{"negative zero", math.Copysign(0, -1), nil},
		{"tiny float", 5e-324, nil},
		{"huge float", math.MaxFloat64, nil},
		{"empty text", "", nil},
		{"unicode", "héllo wörld ✓ 𝄞 日本", nil},
		{"text with NUL", "a\x00b\x00", nil},
		{"blob", []byte{0, 1, 2, 255}, nil},
		{"empty blob", []byte{}, nil},
		{"nil blob is an empty blob", []byte(nil), []byte{}},
		{"bool", true, int64(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if _, err := db.Exec("DELETE FROM v"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("INSERT INTO v VALUES (?)", tt.in); err != nil {
				t.Fatal(err)
			}
			rows, err := db.Query("SELECT x FROM v")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows.Values) != 1 {
				t.Fatalf("rows = %v", rows.Values)
			}
			got := rows.Values[0][0]
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %#v (%T), want %#v (%T)", got, got, want, want)
			}
			if f, ok := want.(float64); ok && math.Signbit(f) != math.Signbit(got.(float64)) {
				t.Fatalf("sign lost: %v", got)
			}

			if _, ok := tt.in.(int64); !ok && tt.want != nil && tt.in != nil {
				if _, isBlob := tt.in.([]byte); !isBlob {
					return // Go-only conveniences the core never sends over the wire
				}
			}
			// The same value through the protocol: a JSON request, a binary answer.
			req, _ := json.Marshal(protocol.SQLRequest{SQL: "SELECT ? AS x", Params: protocol.Values([]any{tt.in})})
			res, err := protocol.DecodeSQLResult(db.HandleSQL(req))
			if err != nil {
				t.Fatal(err)
			}
			if res.Error != "" {
				t.Fatal(res.Error)
			}
			got = res.Rows[0][0]
			if f, ok := want.(float64); ok && f == math.Trunc(f) && !math.IsInf(f, 0) {
				// PROTOCOL.md: an integral REAL keeps its fraction on the wire
				// and so reads back as a REAL.
				want = f
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("via HandleSQL: got %#v (%T), want %#v (%T)", got, got, want, want)
			}
		})
	}
}

func TestQueryColumnsAndEmpty(t *testing.T) {
	db := openTemp(t)
	rows, err := db.Query("SELECT 1 AS a, 'x' AS b WHERE 0")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows.Columns, []string{"a", "b"}) || len(rows.Values) != 0 || rows.Values == nil {
		t.Fatalf("got %#v", rows)
	}
}

func TestExecResult(t *testing.T) {
	db := openTemp(t)
	if err := db.Script("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT); CREATE TABLE u (b);"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		sql  string
		args []any
		want sqldb.Result
	}{
		{"INSERT INTO t (a) VALUES (?)", []any{"x"}, sqldb.Result{Changes: 1, LastInsertID: 1}},
		{"INSERT INTO t (id, a) VALUES (?, ?)", []any{int64(41), "y"}, sqldb.Result{Changes: 1, LastInsertID: 41}},
		{"UPDATE t SET a = a || '!'", nil, sqldb.Result{Changes: 2, LastInsertID: 41}},
		// DDL and no-op updates must not repeat the previous statement's count.
		{"CREATE TABLE w (c)", nil, sqldb.Result{Changes: 0, LastInsertID: 41}},
		{"UPDATE t SET a = 'z' WHERE id = 999", nil, sqldb.Result{Changes: 0, LastInsertID: 41}},
		{"DELETE FROM t", nil, sqldb.Result{Changes: 2, LastInsertID: 41}},
		{"SELECT 1", nil, sqldb.Result{}},
	}
	for _, s := range steps {
		got, err := db.Exec(s.sql, s.args...)
		if err != nil {
			t.Fatalf("%s: %v", s.sql, err)
		}
		if got != s.want {
			t.Errorf("%s: got %+v, want %+v", s.sql, got, s.want)
		}
	}
}

func TestErrorCodes(t *testing.T) {
	db := openTemp(t)
	if err := db.Script("CREATE TABLE t (a INTEGER UNIQUE NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, sql string
		args      []any
		code, msg string
	}{
		{"unique", "INSERT INTO t VALUES (?)", []any{int64(1)}, "SQLITE_CONSTRAINT", "UNIQUE constraint failed: t.a"},
		{"not null", "INSERT INTO t VALUES (NULL)", nil, "SQLITE_CONSTRAINT", "NOT NULL constraint failed: t.a"},
		{"no table", "SELECT * FROM nope", nil, "SQLITE_ERROR", "no such table: nope"},
		{"syntax", "SELEC 1", nil, "SQLITE_ERROR", `near "SELEC": syntax error`},
		{"parameter count", "SELECT ?", nil, "SQLITE_RANGE", "statement takes 1 parameters, got 0"},
		{"two statements", "SELECT 1; SELECT 2", nil, "SQLITE_MISUSE", "more than one statement (use a script): SELECT 1; SELECT 2"},
		{"unbindable", "SELECT ?", []any{struct{}{}}, "SQLITE_MISMATCH", "cannot bind a struct {} as parameter 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Exec(tt.sql, tt.args...)
			e, ok := err.(*sqldb.Error)
			if !ok {
				t.Fatalf("got %T %v", err, err)
			}
			if e.Code != tt.code || e.Message != tt.msg {
				t.Fatalf("got %s %q, want %s %q", e.Code, e.Message, tt.code, tt.msg)
			}
			req, _ := json.Marshal(protocol.SQLRequest{SQL: tt.sql, Params: protocol.Values(tt.args)})
			if tt.name == "unbindable" {
				return // not expressible in JSON
			}
			res, _ := protocol.DecodeSQLResult(db.HandleSQL(req))
			if res.Code != tt.code || res.Error != tt.msg {
				t.Fatalf("via HandleSQL: got %s %q", res.Code, res.Error)
			}
		})
	}
	// A trailing semicolon and whitespace are one statement, not two.
	if _, err := db.Query("SELECT 1; \n"); err != nil {
		t.Fatal(err)
	}
}

func TestBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Script("CREATE TABLE t (a)"); err != nil {
		t.Fatal(err)
	}
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Script("BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer other.Script("ROLLBACK")

	// Five seconds is the production timeout; the test only needs to see the
	// code, so it waits less.
	if err := db.conn.BusyTimeout(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = db.Exec("INSERT INTO t VALUES (1)")
	if got := sqldb.Code(err); got != "SQLITE_BUSY" {
		t.Fatalf("got %v (%s)", err, got)
	}
	if err.Error() != "database is locked" {
		t.Errorf("message %q", err.Error())
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("gave up after %v, before the busy timeout", d)
	}
	// WAL: readers are not blocked by the other connection's write lock.
	if _, err := db.Query("SELECT * FROM t"); err != nil {
		t.Fatalf("read during a write lock: %v", err)
	}
	req, _ := json.Marshal(protocol.SQLRequest{SQL: "INSERT INTO t VALUES (2)"})
	res, _ := protocol.DecodeSQLResult(db.HandleSQL(req))
	if res.Code != "SQLITE_BUSY" {
		t.Fatalf("via HandleSQL: %+v", res)
	}
}

// The journal mode is the core's to switch (core/engine/install.go), so
// opening leaves it as the file had it.
func TestOpenSetsBusyTimeoutAndKeepsTheJournalMode(t *testing.T) {
	db := openTemp(t)
	for sql, want := range map[string]any{
		"PRAGMA journal_mode": "delete",
		"PRAGMA busy_timeout": int64(5000),
		"PRAGMA synchronous":  int64(1),
	} {
		rows, err := db.Query(sql)
		if err != nil {
			t.Fatal(err)
		}
		if got := rows.Values[0][0]; got != want {
			t.Errorf("%s = %v, want %v", sql, got, want)
		}
	}
}

func TestOpenFailures(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	content := bytes.Repeat([]byte("this is not a database "), 200)
	if err := os.WriteFile(garbage, content, 0o644); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "unreadable.db")
	if db, err := Open(unreadable); err != nil {
		t.Fatal(err)
	} else {
		db.Close()
	}
	os.Chmod(unreadable, 0)

	tests := []struct {
		name, path, want string
		skip             bool
	}{
		{"directory", dir, "is a directory", false},
		{"garbage", garbage, "file is not a database", false},
		{"missing parent", filepath.Join(dir, "no", "such", "x.db"), "unable to open database file", false},
		// root reads any file whatever its mode.
		{"unreadable", unreadable, "unable to open database file", os.Geteuid() == 0},
		{"empty name", "", "no database file given", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip {
				t.Skip("running as root: file modes do not stop reads")
			}
			db, err := Open(tt.path)
			if err == nil {
				db.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q, want one line containing %q", err, tt.want)
			}
		})
	}
	// Nothing was written to the garbage file, not even a WAL.
	if b, _ := os.ReadFile(garbage); !bytes.Equal(b, content) {
		t.Error("garbage file changed")
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(garbage + suffix); err == nil {
			t.Errorf("%s created", suffix)
		}
	}
}

// The core relies on SQLite's JSON functions and FTS5; make sure the SQLite
// build the Go hosts link has them.
func TestExtensionsAvailable(t *testing.T) {
	db := openTemp(t)
	rows, err := db.Query(`SELECT json_extract('{"a":[1,2]}', '$.a[1]'), json_object('k', 1)`)
	if err != nil {
		t.Fatal(err)
	}
	if got := rows.Values[0]; got[0] != int64(2) || got[1] != `{"k":1}` {
		t.Fatalf("json: %v", got)
	}
	if err := db.Script(`CREATE VIRTUAL TABLE f USING fts5(body); INSERT INTO f VALUES ('hello world'), ('other');`); err != nil {
		t.Fatal(err)
	}
	rows, err = db.Query(`SELECT body FROM f WHERE f MATCH ?`, "hello")
	if err != nil || len(rows.Values) != 1 {
		t.Fatalf("fts5: %v %v", rows, err)
	}
}

func TestStatementCacheEviction(t *testing.T) {
	db := openTemp(t)
	for i := range stmtCacheSize + 10 {
		if _, err := db.Query("SELECT ?+"+strings.Repeat("0+", i)+"0", int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if db.lru.Len() != stmtCacheSize || len(db.cache) != stmtCacheSize {
		t.Fatalf("cache holds %d/%d statements", db.lru.Len(), len(db.cache))
	}
	// A cached statement sees schema changes (SQLite re-prepares it).
	db.Script("CREATE TABLE s (a); INSERT INTO s VALUES (1)")
	if _, err := db.Query("SELECT * FROM s"); err != nil {
		t.Fatal(err)
	}
	db.Script("ALTER TABLE s ADD COLUMN b DEFAULT 2")
	rows, err := db.Query("SELECT * FROM s")
	if err != nil || len(rows.Columns) != 2 {
		t.Fatalf("%v %v", rows, err)
	}
}

func TestScriptViaHandleSQL(t *testing.T) {
	db := openTemp(t)
	res, _ := protocol.DecodeSQLResult(db.HandleSQL([]byte(`{"sql":"CREATE TABLE a (x); CREATE TABLE b (y); INSERT INTO a VALUES (1)","script":true}`)))
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	out := db.HandleSQL([]byte(`{"sql":"SELECT x, 9007199254740993 AS big, NULL AS n FROM a"}`))
	want := []byte{protocol.BinaryMessage, 3, 0, 0, 0, 1, 0, 0, 0, 'x', 3, 0, 0, 0, 'b', 'i', 'g', 1, 0, 0, 0, 'n',
		1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0x20, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // changes, lastInsertRowid
	if string(out) != string(want) {
		t.Fatalf("got  %v\nwant %v", out, want)
	}
	out = db.HandleSQL([]byte(`not json`))
	if !bytes.Contains(out, []byte(`"code":"SQLITE_ERROR"`)) {
		t.Fatalf("got %s", out)
	}
}

func TestClosed(t *testing.T) {
	db := openTemp(t)
	db.Close()
	if _, err := db.Query("SELECT 1"); sqldb.Code(err) != "SQLITE_MISUSE" {
		t.Fatalf("got %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
