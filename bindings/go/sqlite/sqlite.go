// Package sqlite is the Go hosts' SQLite connection: sqldb.DB over
// github.com/ncruces/go-sqlite3 (pure Go, no cgo), opened the way
// bindings/PROTOCOL.md asks every host to (busy timeout 5 s, synchronous=NORMAL,
// one connection; the core switches the file to WAL). The native host hands it
// to core/engine directly; the wazero host answers the core's `sql` import
// with [DB.HandleSQL].
package sqlite

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"
	"github.com/ncruces/go-sqlite3/ext/rtree"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/filedir"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// BusyTimeout is how long a statement waits for another connection's lock
// before it fails with SQLITE_BUSY (PROTOCOL.md: 5 s on every host).
const BusyTimeout = 5 * time.Second

// stmtCacheSize bounds the prepared-statement cache. The core generates a
// small, fixed set of statements per table, so this holds the working set of
// a database with dozens of tables while keeping memory bounded when a schema
// churns.
const stmtCacheSize = 256

// DB is one SQLite connection. It is safe for concurrent use (calls are
// serialized), although hosts already call it from one thread at a time.
type DB struct {
	// Dir keeps file columns' files (sqldb.Files; SetFilesDir).
	filedir.Dir
	mu   sync.Mutex
	conn *sqlite3.Conn
	path string
	// readOnly: opened read-only because the file may not be written.
	readOnly bool
	cache    map[string]*list.Element // SQL text -> element holding *cached
	lru      *list.List               // front = most recently used
	// limit, when set (Limit), is how long each statement may run before
	// SQLite's progress handler stops it with SQLITE_INTERRUPT.
	limit time.Duration
}

// Limit makes every statement from now on stop after d (0: no limit), with
// SQLITE_INTERRUPT: a host sets the core's limit around each request
// (PROTOCOL.md, "Time limit") and clears it for its own calls.
func (db *DB) Limit(d time.Duration) {
	db.mu.Lock()
	db.limit = d
	db.mu.Unlock()
}

// deadline is a context that is done once its time has passed. The
// progress handler asks only Err(), every few thousand VM steps; a timer
// per statement (context.WithTimeout) would cost more than the check.
type deadline struct {
	context.Context
	at time.Time
}

func (d deadline) Err() error {
	if time.Now().After(d.at) {
		return context.DeadlineExceeded
	}
	return nil
}

// timed starts the time limit for one statement; the returned func ends it.
func (db *DB) timed() func() {
	if db.limit <= 0 {
		return func() {}
	}
	db.conn.SetInterrupt(deadline{context.Background(), time.Now().Add(db.limit)})
	return func() { db.conn.SetInterrupt(context.Background()) }
}

type cached struct {
	sql  string
	stmt *sqlite3.Stmt
}

// Open opens (creating when missing) the database file at path and checks
// that it is readable, so a directory, a garbage file or an
// unreadable file fails here, at start, with a message naming the problem,
// and nothing is written to it.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("no database file given")
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("database %s: is a directory", path)
	}
	// No OPEN_URI: the path is a file name, never a "file:" URI with options.
	conn, err := sqlite3.OpenFlags(path, sqlite3.OPEN_READWRITE|sqlite3.OPEN_CREATE)
	readOnly := false
	if err != nil {
		// A file we may read but not write (permissions, chattr +i, a
		// read-only mount) is served read-only, as SQLite's own unix VFS
		// (node:sqlite, bun:sqlite) falls back by itself: pages and the API
		// read, writes answer that the database is read-only.
		if _, statErr := os.Stat(path); statErr == nil {
			if ro, roErr := sqlite3.OpenFlags(path, sqlite3.OPEN_READONLY); roErr == nil {
				conn, err, readOnly = ro, nil, true
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, convert(err))
	}
	db := &DB{conn: conn, path: path, readOnly: readOnly, cache: map[string]*list.Element{}, lru: list.New()}
	if err := db.init(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return db, nil
}

func (db *DB) init() error {
	if err := db.conn.BusyTimeout(BusyTimeout); err != nil {
		return convert(err)
	}
	// Reading the schema first is what makes a garbage file fail (SQLITE_NOTADB)
	// before anything, even the WAL switch, writes to it.
	if err := db.conn.Exec("PRAGMA schema_version"); err != nil {
		return convert(err)
	}
	// node:sqlite and bun:sqlite have FTS5 and R*Tree built in, go-sqlite3
	// ships them as extensions: without them a user database holding such a
	// virtual table could not even be reflected on the Go hosts.
	if err := fts5.Register(db.conn); err != nil {
		return fmt.Errorf("fts5: %w", convert(err))
	}
	if err := rtree.Register(db.conn); err != nil {
		return fmt.Errorf("rtree: %w", convert(err))
	}
	// The journal mode is the core's to switch (core/engine/install.go): it
	// records the mode it found first, so uninstall can put it back.
	// The same durability on every host (see setUpConnection in
	// bindings/ts/src/sqlite.ts): WAL with synchronous=NORMAL.
	if err := db.conn.Exec("PRAGMA synchronous=NORMAL"); err != nil && !db.readOnly {
		return convert(err)
	}
	return nil
}

// Path is the file the connection was opened on.
func (db *DB) Path() string { return db.path }

// Close finalizes the cached statements and closes the connection.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return nil
	}
	for e := db.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*cached).stmt.Close()
	}
	db.cache, db.lru = map[string]*list.Element{}, list.New()
	err := db.conn.Close()
	db.conn = nil
	return convert(err)
}

var errClosed = &sqldb.Error{Code: "SQLITE_MISUSE", Message: "database is closed"}

// Query runs one statement and returns all its rows.
func (db *DB) Query(sql string, args ...any) (*sqldb.Rows, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return nil, errClosed
	}
	return db.query(sql, args)
}

// Exec runs one statement, discarding any rows, and reports its changes.
func (db *DB) Exec(sql string, args ...any) (sqldb.Result, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return sqldb.Result{}, errClosed
	}
	res, _, err := db.run(sql, args, false)
	return res, err
}

// Script runs several statements without parameters (sqlite3_exec).
func (db *DB) Script(sql string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return errClosed
	}
	defer db.timed()()
	return db.diagnose(convert(db.conn.Exec(sql)))
}

// Caller runs SQL a caller sent (PROTOCOL.md, "Caller SQL"): a script in a
// transaction of its own, every statement of it held to g by SQLite's
// authorizer and to the time limit by its progress handler; all of it or
// none.
func (db *DB) Caller(sql string, g sqldb.Guard) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return errClosed
	}
	return db.caller(sql, g)
}

func (db *DB) caller(sql string, g sqldb.Guard) (err error) {
	if err := db.conn.Exec("BEGIN IMMEDIATE"); err != nil {
		return convert(err)
	}
	defer func() {
		if err != nil || g.Dry {
			db.conn.Exec("ROLLBACK") // an interrupted write may have rolled back already
		} else if err = convert(db.conn.Exec("COMMIT")); err != nil {
			db.conn.Exec("ROLLBACK")
		}
	}()
	before, err := db.viewsAndTriggers()
	if err != nil {
		return err
	}
	var why string
	probing := false
	authorize := func(action sqlite3.AuthorizerActionCode, a3, a4, _, inner string) sqlite3.AuthorizerReturnCode {
		if probing && inner == "" {
			return sqlite3.AUTH_OK // a probe's own statement: only what it sets off counts
		}
		if no := g.Authorize(int(action), a3, a4, inner); no != "" {
			why = no
			return sqlite3.AUTH_DENY
		}
		return sqlite3.AUTH_OK
	}
	if err := db.conn.SetAuthorizer(authorize); err != nil {
		return convert(err)
	}
	done := db.timed()
	err = db.diagnose(convert(db.conn.Exec(sql)))
	done()
	// Cached statements were prepared without the authorizer and stay so;
	// none is prepared while it is set.
	db.conn.SetAuthorizer(nil)
	if err == nil {
		var probes []string
		if probes, err = db.probes(before); err == nil && len(probes) > 0 {
			probing = true
			db.conn.SetAuthorizer(authorize)
			for _, p := range probes {
				if stmt, _, perr := db.conn.Prepare(p); perr == nil {
					stmt.Close()
				}
				if why != "" {
					break
				}
			}
			db.conn.SetAuthorizer(nil)
		}
	}
	if why != "" {
		// The authorizer's reason, not SQLite's "not authorized": refused
		// while running, or by a probe (which compiled but set off a denial).
		err = &sqldb.Error{Code: "SQLITE_AUTH", Message: why}
	}
	return err
}

// viewsAndTriggersSQL lists every view and trigger: type, name, table, SQL.
const viewsAndTriggersSQL = "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema WHERE type IN ('view', 'trigger') ORDER BY name"

// viewsAndTriggers is every view's and trigger's SQL, by type and name.
func (db *DB) viewsAndTriggers() (map[string]string, error) {
	rows, err := db.query(viewsAndTriggersSQL, nil)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rows.Values))
	for _, r := range rows.Values {
		out[r[0].(string)+" "+r[1].(string)] = r[3].(string)
	}
	return out, nil
}

// probes are statements that, compiled, set off every view and trigger the
// caller's SQL created or changed (PROTOCOL.md, "Caller SQL"): a view or a
// trigger is compiled only when used, later, on this connection with no
// authorizer, so it is compiled now, under it.
func (db *DB) probes(before map[string]string) ([]string, error) {
	rows, err := db.query(viewsAndTriggersSQL, nil)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rows.Values {
		typ, name, table, text := r[0].(string), r[1].(string), r[2].(string), r[3].(string)
		if old, ok := before[typ+" "+name]; ok && old == text {
			continue
		}
		if typ == "view" {
			out = append(out, "SELECT * FROM "+sqldb.Ident(name))
			continue
		}
		cols, err := db.query("SELECT name FROM pragma_table_info(?)", []any{table})
		if err != nil {
			return nil, err
		}
		t := sqldb.Ident(table)
		out = append(out, "INSERT INTO "+t+" DEFAULT VALUES", "DELETE FROM "+t)
		if len(cols.Values) > 0 {
			set := make([]string, len(cols.Values))
			for i, c := range cols.Values {
				q := sqldb.Ident(c[0].(string))
				set[i] = q + " = " + q
			}
			out = append(out, "UPDATE "+t+" SET "+strings.Join(set, ", "))
		}
	}
	return out, nil
}

func (db *DB) query(sql string, args []any) (*sqldb.Rows, error) {
	_, rows, err := db.run(sql, args, true)
	return rows, err
}

// run executes one cached statement to completion. It always resets the
// statement before returning: a statement left mid-step would keep a read
// transaction open and block WAL checkpoints and other writers.
func (db *DB) run(sql string, args []any, wantRows bool) (sqldb.Result, *sqldb.Rows, error) {
	defer db.timed()()
	stmt, err := db.prepare(sql)
	if err != nil {
		return sqldb.Result{}, nil, err
	}
	defer stmt.ClearBindings()
	defer stmt.Reset()
	if n := stmt.BindCount(); n != len(args) {
		return sqldb.Result{}, nil, &sqldb.Error{Code: "SQLITE_RANGE",
			Message: fmt.Sprintf("statement takes %d parameters, got %d", n, len(args))}
	}
	for i, a := range args {
		if err := bind(stmt, i+1, a); err != nil {
			return sqldb.Result{}, nil, err
		}
	}
	before := db.conn.TotalChanges()
	var rows *sqldb.Rows
	if wantRows {
		rows = &sqldb.Rows{Values: [][]any{}}
	}
	for stmt.Step() {
		if rows != nil {
			rows.Values = append(rows.Values, row(stmt))
		}
	}
	if err := stmt.Err(); err != nil {
		return sqldb.Result{}, nil, db.diagnose(convert(err))
	}
	if rows != nil {
		// Names are read after stepping: a cached "SELECT *" is re-prepared
		// by its first step when the schema changed, and only then has its
		// new columns.
		n := stmt.ColumnCount()
		rows.Columns = make([]string, n)
		for i := range n {
			rows.Columns[i] = stmt.ColumnName(i)
		}
	}
	// sqlite3_changes keeps the count of the last INSERT, UPDATE or DELETE,
	// even after a DDL or a SELECT; the total-changes delta tells whether this
	// statement was one, so other statements report 0 instead of a stale count.
	var res sqldb.Result
	if db.conn.TotalChanges() != before {
		res.Changes = db.conn.Changes()
	}
	if !stmt.ReadOnly() {
		res.LastInsertID = db.conn.LastInsertRowID()
	}
	return res, rows, nil
}

// prepare returns the cached statement for sql, compiling it on a miss.
func (db *DB) prepare(sql string) (*sqlite3.Stmt, error) {
	if e, ok := db.cache[sql]; ok {
		db.lru.MoveToFront(e)
		return e.Value.(*cached).stmt, nil
	}
	stmt, tail, err := db.conn.PrepareFlags(sql, sqlite3.PREPARE_PERSISTENT)
	if err != nil {
		return nil, convert(err)
	}
	if stmt == nil {
		return nil, &sqldb.Error{Code: "SQLITE_MISUSE", Message: "no SQL statement in: " + sql}
	}
	// The other hosts' prepare() would silently ignore the rest; refusing it
	// finds the core's mistake on the first run instead of losing a statement.
	if strings.TrimLeft(tail, " \t\r\n;") != "" {
		stmt.Close()
		return nil, &sqldb.Error{Code: "SQLITE_MISUSE",
			Message: "more than one statement (use a script): " + sql}
	}
	db.cache[sql] = db.lru.PushFront(&cached{sql: sql, stmt: stmt})
	for db.lru.Len() > stmtCacheSize {
		old := db.lru.Remove(db.lru.Back()).(*cached)
		delete(db.cache, old.sql)
		old.stmt.Close()
	}
	return stmt, nil
}

func bind(stmt *sqlite3.Stmt, i int, v any) error {
	var err error
	switch x := v.(type) {
	case nil:
		err = stmt.BindNull(i)
	case int64:
		err = stmt.BindInt64(i, x)
	case int:
		err = stmt.BindInt64(i, int64(x))
	case float64:
		err = stmt.BindFloat(i, x)
	case string:
		err = stmt.BindText(i, x)
	case []byte:
		if x == nil {
			x = []byte{} // a nil slice is still a (zero-length) BLOB, never NULL
		}
		err = stmt.BindBlob(i, x)
	case bool:
		err = stmt.BindBool(i, x)
	default:
		return &sqldb.Error{Code: "SQLITE_MISMATCH", Message: fmt.Sprintf("cannot bind a %T as parameter %d", v, i)}
	}
	return convert(err)
}

func row(stmt *sqlite3.Stmt) []any {
	out := make([]any, stmt.ColumnCount())
	for i := range out {
		switch stmt.ColumnType(i) {
		case sqlite3.INTEGER:
			out[i] = stmt.ColumnInt64(i)
		case sqlite3.FLOAT:
			out[i] = stmt.ColumnFloat(i)
		case sqlite3.TEXT:
			out[i] = stmt.ColumnText(i)
		case sqlite3.BLOB:
			// ColumnBlob appends to its buffer: a non-nil empty one keeps a
			// zero-length BLOB distinct from NULL.
			out[i] = stmt.ColumnBlob(i, []byte{})
		default:
			out[i] = nil
		}
	}
	return out
}

// HandleSQL is the body of the wazero host's `sql` import (protocol.HandleSQL).
func (db *DB) HandleSQL(in []byte) []byte { return protocol.HandleSQL(in, db) }

// Statement runs one statement: what it did, and its rows (protocol.Connection).
func (db *DB) Statement(sql string, args []any) (sqldb.Result, *sqldb.Rows, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return sqldb.Result{}, nil, errClosed
	}
	return db.run(sql, args, true)
}

// Read runs a caller's read-only statement (PROTOCOL.md, "Caller reads"):
// compiled under SQLite's authorizer (sqldb.Read.AuthorizeRead) and refused
// unless SQLite says it writes nothing, stopped past r.LimitMs, and at most
// r.MaxRows+1 rows read. It is never cached: a caller's text is one-off.
func (db *DB) Read(sql string, args []any, r sqldb.Read) (*sqldb.Rows, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return nil, errClosed
	}
	var why string
	err := db.conn.SetAuthorizer(func(action sqlite3.AuthorizerActionCode, a3, a4, _, inner string) sqlite3.AuthorizerReturnCode {
		if no := r.AuthorizeRead(int(action), a3, a4, inner); no != "" {
			why = no
			return sqlite3.AUTH_DENY
		}
		return sqlite3.AUTH_OK
	})
	if err != nil {
		return nil, convert(err)
	}
	stmt, tail, err := db.conn.Prepare(sql)
	db.conn.SetAuthorizer(nil)
	switch {
	case err != nil && why != "":
		return nil, &sqldb.Error{Code: "SQLITE_AUTH", Message: why}
	case err != nil:
		return nil, convert(err)
	case stmt == nil:
		return nil, &sqldb.Error{Code: "SQLITE_MISUSE", Message: "no SQL statement"}
	}
	defer stmt.Close()
	if strings.TrimLeft(tail, " \t\r\n;") != "" || !stmt.ReadOnly() {
		return nil, &sqldb.Error{Code: "SQLITE_AUTH", Message: "only a read may run here: one SELECT, WITH or VALUES statement"}
	}
	for i, a := range args {
		if err := bind(stmt, i+1, a); err != nil {
			return nil, err
		}
	}
	if r.LimitMs > 0 {
		db.conn.SetInterrupt(deadline{context.Background(), time.Now().Add(time.Duration(r.LimitMs) * time.Millisecond)})
		defer db.conn.SetInterrupt(context.Background())
	}
	rows := &sqldb.Rows{Values: [][]any{}}
	n := stmt.ColumnCount()
	rows.Columns = make([]string, n)
	for i := range n {
		rows.Columns[i] = stmt.ColumnName(i)
	}
	for len(rows.Values) <= r.MaxRows && stmt.Step() {
		rows.Values = append(rows.Values, row(stmt))
	}
	if err := stmt.Err(); err != nil {
		return nil, convert(err)
	}
	return rows, nil
}
