// Package postgres is the native Go host's connection to PostgreSQL: one
// pgconn connection (github.com/jackc/pgx/v5's wire layer) as sqldb.DB, for
// the Postgres store (core/store/postgres).
//
// The core writes `?` parameters; they are numbered here ($1, $2, ...),
// outside quotes, comments and dollar-quoted text. Every value is bound,
// never spliced: sent in text format with no type (OID 0), so the server
// reads it as it reads an untyped literal, in the type its place needs (a
// boolean column takes "1", a date column "2024-01-02"), exactly as SQLite
// takes any value anywhere. Rows come back in text and are turned into the
// core's values by column type: integers as int64, floating point as
// float64, booleans as 1 or 0 (as SQLite holds them), bytea as bytes,
// numeric as float64 where that is exact (else its text), timestamps as
// ISO 8601 (the session's TimeZone is UTC), everything else (dates, uuid,
// json, enums, arrays, intervals) as its text.
//
// Errors carry SQLite's code names, the core's vocabulary (core/store):
// SQLITE_CONSTRAINT for integrity violations, SQLITE_BUSY for lock and
// serialization failures, SQLITE_INTERRUPT for a statement stopped at the
// time limit (statement_timeout, or the request's deadline), SQLITE_READONLY
// where the role may not write, SQLITE_MISMATCH for a value of the wrong
// type.
package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/filedir"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// IsURL says whether a --db value names a Postgres database (a
// postgres:// or postgresql:// URL) rather than a SQLite file.
func IsURL(db string) bool {
	l := strings.ToLower(db)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// Shown is a --db value as it may be printed (the serving line, errors): a
// Postgres URL's password, in its user part or its query
// (?password=...), as "xxxxx"; anything else as it is.
func Shown(db string) string {
	if !IsURL(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "a postgres:// URL that cannot be read"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// DB is one connection to a PostgreSQL database.
type DB struct {
	// Dir keeps file columns' files (sqldb.Files; SetFilesDir).
	filedir.Dir
	mu     sync.Mutex
	conn   *pgconn.PgConn
	config *pgconn.Config
	schema string
	limit  time.Duration
	closed bool
	// prepared are the statements the server has parsed for us, by SQL
	// text, oldest first: the core sends the same few texts again and
	// again, and a prepared one is neither parsed nor planned anew (a row
	// read took half the time).
	prepared map[string]prepared // by the core's SQL text
	order    []string
	seq      int
	// ahead: statements queued ahead of the next one (sqldb.Ahead), sent
	// with it in one round trip.
	ahead []sqldb.Stmt
}

// maxPrepared bounds the statements kept prepared on the server.
const maxPrepared = 256

// Open connects to url (a postgres:// URL or key=value string; PG*
// variables fill what it leaves out) and makes schema (default "public")
// the one whose tables are served, with the project's own schema,
// _nakedhtmx, after it on the search path.
func Open(url, schema string) (*DB, error) {
	if schema == "" {
		schema = "public"
	}
	config, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("cannot read the PostgreSQL address: %w", err)
	}
	// A statement stopped at the time limit is cancelled by the server (a
	// cancel request), and the connection stays; by default pgconn would
	// close it.
	config.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
	}
	db := &DB{config: config, schema: schema}
	if err := db.connect(); err != nil {
		return nil, err
	}
	rs, err := db.Query(`SELECT 1 FROM pg_namespace WHERE nspname = ?`, schema)
	if err == nil && len(rs.Values) == 0 {
		err = fmt.Errorf("PostgreSQL has no schema %q (--pg-schema)", schema)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// connect (again, after the server went away) and set the session up.
func (db *DB) connect() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgconn.ConnectConfig(ctx, db.config)
	if err != nil {
		return fmt.Errorf("cannot connect to PostgreSQL: %w", err)
	}
	setup := "SET search_path = " + sqldb.Ident(db.schema) + `, "_nakedhtmx"; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET lock_timeout = '5s'`
	if _, err := conn.Exec(ctx, setup).ReadAll(); err != nil {
		conn.Close(context.Background())
		return mapError(err)
	}
	db.conn = conn
	db.prepared, db.order = map[string]prepared{}, nil // a new session has none
	return nil
}

// live makes sure there is a connection: one the server closed (a
// restart) is made again for the next statement. The statement that found
// it closed has failed (SQLITE_IOERR: 503), and a transaction it was in is
// gone with it.
func (db *DB) live() error {
	if db.closed {
		return &sqldb.Error{Code: "SQLITE_MISUSE", Message: "the database is closed"}
	}
	if db.conn != nil && !db.conn.IsClosed() {
		return nil
	}
	if err := db.connect(); err != nil {
		if sqldb.Code(err) != "" {
			return err
		}
		return unreachable(err)
	}
	return nil
}

// unreachable is a lost or refused connection as a caller may read it: 503
// (SQLITE_IOERR), saying why in the system's words ("connection refused")
// without the socket's path, the user or the database's name, which the
// driver's own message carries.
func unreachable(err error) error {
	why := err.Error()
	if i := strings.LastIndex(why, ": "); i >= 0 {
		why = why[i+2:]
	}
	return &sqldb.Error{Code: "SQLITE_IOERR", Message: "PostgreSQL cannot be reached: " + why}
}

// Schema is the schema whose tables are served.
func (db *DB) Schema() string { return db.schema }

// Limit sets the time limit on each statement from now on (0: none). A
// statement past it is cancelled by the server and fails with
// SQLITE_INTERRUPT.
func (db *DB) Limit(d time.Duration) { db.limit = d }

func (db *DB) ctx() (context.Context, context.CancelFunc) {
	if db.limit > 0 {
		return context.WithTimeout(context.Background(), db.limit)
	}
	return context.Background(), func() {}
}

// Close closes the connection.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	if db.conn == nil {
		return nil
	}
	return db.conn.Close(context.Background())
}

// Query runs one statement and reads every row.
func (db *DB) Query(sql string, args ...any) (*sqldb.Rows, error) {
	_, rows, err := db.Statement(sql, args)
	return rows, err
}

// Exec runs one statement. LastInsertID is always 0: the core reads what it
// wrote back with RETURNING.
func (db *DB) Exec(sql string, args ...any) (sqldb.Result, error) {
	res, _, err := db.Statement(sql, args)
	return res, err
}

// Script runs several statements without parameters (the simple protocol),
// after what is queued ahead.
func (db *DB) Script(sql string) error {
	if err := db.FlushAhead(); err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.live(); err != nil {
		return err
	}
	ctx, cancel := db.ctx()
	defer cancel()
	_, err := db.conn.Exec(ctx, sql).ReadAll()
	return mapError(err)
}

// Caller runs SQL a caller sent in a transaction of its own, under the time
// limit: all of it or none (none when g.Dry). Postgres has no authorizer
// callback: the store's words (MigrationRefusal) and the role's own rights
// are the guard.
func (db *DB) Caller(sql string, g sqldb.Guard) error {
	if err := db.Script("BEGIN"); err != nil {
		return err
	}
	if err := db.Script(sql); err != nil {
		db.Script("ROLLBACK")
		return err
	}
	end := "COMMIT"
	if g.Dry {
		end = "ROLLBACK"
	}
	if err := db.Script(end); err != nil {
		db.Script("ROLLBACK")
		return err
	}
	return nil
}

// Statement runs one statement: what it did, and its rows (protocol.Connection).
// What is queued ahead goes with it, in one round trip.
func (db *DB) Statement(sql string, args []any) (sqldb.Result, *sqldb.Rows, error) {
	res, rows, err := db.run([]sqldb.Stmt{{SQL: sql, Args: args}})
	if err != nil {
		return sqldb.Result{}, nil, err
	}
	return res[0], rows[0], nil
}

// Ahead queues a statement to go with the next one, in one round trip
// (sqldb.Ahead).
func (db *DB) Ahead(sql string, args []any) {
	db.mu.Lock()
	db.ahead = append(db.ahead, sqldb.Stmt{SQL: sql, Args: args})
	db.mu.Unlock()
}

// FlushAhead sends what is queued on its own.
func (db *DB) FlushAhead() error {
	_, _, err := db.run(nil)
	return err
}

// DropAhead forgets what is queued.
func (db *DB) DropAhead() {
	db.mu.Lock()
	db.ahead = nil
	db.mu.Unlock()
}

// QueryBatch runs the reads (after what is queued ahead) in one round trip
// (sqldb.Batcher).
func (db *DB) QueryBatch(stmts []sqldb.Stmt) ([]*sqldb.Rows, error) {
	_, rows, err := db.run(stmts)
	return rows, err
}

// run sends what is queued ahead and then stmts in one round trip, and
// answers stmts' results. pgconn's ExecBatch has one Sync, so the server
// runs nothing after a failure, and outside a transaction they share an
// implicit one. Statements not yet prepared are prepared first (a round
// trip each, once); the change log's update is planned at each run (see
// planned). A statement prepared before another session changed a table it
// names may fail once ("cached plan must not change result type"): with
// nothing left open the message is prepared and sent again; inside a
// transaction that transaction is spoiled, so the failure stands (as
// SQLITE_BUSY: try again) and the cache starts over.
func (db *DB) run(stmts []sqldb.Stmt) ([]sqldb.Result, []*sqldb.Rows, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	n := len(db.ahead)
	all := append(db.ahead, stmts...)
	db.ahead = nil
	if len(all) == 0 {
		return nil, nil, nil
	}
	ps := make([][][]byte, len(all))
	for i, st := range all {
		var err error
		if ps[i], err = params(st.Args); err != nil {
			return nil, nil, err
		}
	}
	if err := db.live(); err != nil {
		return nil, nil, err
	}
	ctx, cancel := db.ctx()
	defer cancel()
	for attempt := 0; ; attempt++ {
		b := &pgconn.Batch{}
		for i, st := range all {
			if planned(st.SQL) {
				text, want := Number(st.SQL)
				if want != len(ps[i]) {
					return nil, nil, &sqldb.Error{Code: "SQLITE_RANGE", Message: fmt.Sprintf("%d parameters for %d places", len(ps[i]), want)}
				}
				b.ExecParams(text, ps[i], nil, nil, nil)
				continue
			}
			p, err := db.prepare(ctx, st.SQL)
			if err != nil {
				return nil, nil, mapError(err)
			}
			if p.n != len(ps[i]) {
				return nil, nil, &sqldb.Error{Code: "SQLITE_RANGE", Message: fmt.Sprintf("%d parameters for %d places", len(ps[i]), p.n)}
			}
			b.ExecPrepared(p.name, ps[i], nil, nil)
		}
		rs, err := db.conn.ExecBatch(ctx, b).ReadAll()
		if err == nil {
			for _, r := range rs {
				if r.Err != nil {
					err = r.Err
					break
				}
			}
		}
		if err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && (pe.Code == "0A000" || pe.Code == "26000") {
				idle := db.conn.TxStatus() == 'I'
				db.forget()
				if idle && attempt == 0 {
					continue
				}
				return nil, nil, &sqldb.Error{Code: "SQLITE_BUSY", Message: "the schema changed under the statement: " + pe.Message}
			}
			return nil, nil, mapError(err)
		}
		if len(rs) != len(all) {
			return nil, nil, &sqldb.Error{Code: "SQLITE_ERROR", Message: fmt.Sprintf("PostgreSQL answered %d of %d statements", len(rs), len(all))}
		}
		res := make([]sqldb.Result, len(stmts))
		rows := make([]*sqldb.Rows, len(stmts))
		for i, r := range rs[n:] {
			if res[i], rows[i], err = resultOf(r); err != nil {
				return nil, nil, err
			}
		}
		return res, rows, nil
	}
}

// params are a statement's arguments in Postgres's text format.
func params(args []any) ([][]byte, error) {
	out := make([][]byte, len(args))
	for i, a := range args {
		p, err := param(a)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// resultOf is what a statement did, and its rows.
func resultOf(r *pgconn.Result) (sqldb.Result, *sqldb.Rows, error) {
	res := sqldb.Result{Changes: r.CommandTag.RowsAffected()}
	rows := &sqldb.Rows{Columns: make([]string, len(r.FieldDescriptions)), Values: make([][]any, len(r.Rows))}
	for i, f := range r.FieldDescriptions {
		rows.Columns[i] = f.Name
	}
	for i, raw := range r.Rows {
		vals := make([]any, len(raw))
		for j, cell := range raw {
			v, err := value(r.FieldDescriptions[j].DataTypeOID, cell)
			if err != nil {
				return sqldb.Result{}, nil, err
			}
			vals[j] = v
		}
		rows.Values[i] = vals
	}
	return res, rows, nil
}

// planned: a statement Postgres plans at each run instead of preparing
// once. The change log grows by a row a write: a generic plan Postgres
// settled on while it was small (a scan, for the newest entry of a table:
// capture.FillNewest) stayed as it grew and made a 50,000-row import
// quadratic (159 s; 13 s once autovacuum had looked). A write's update of
// its entry is planned at each run, as the JS hosts' clients plan every
// statement; reads stay prepared.
func planned(sql string) bool { return strings.HasPrefix(sql, `UPDATE "_nakedhtmx_changes"`) }

// prepared is a statement the server has parsed: its name, and how many
// parameters the core's text has (numbered once, when prepared).
type prepared struct {
	name string
	n    int
}

// prepare finds or makes the prepared statement of the core's SQL text.
func (db *DB) prepare(ctx context.Context, sql string) (prepared, error) {
	if p, ok := db.prepared[sql]; ok {
		return p, nil
	}
	text, n := Number(sql)
	db.seq++
	p := prepared{name: "nh" + strconv.Itoa(db.seq), n: n}
	if _, err := db.conn.Prepare(ctx, p.name, text, nil); err != nil {
		return prepared{}, err
	}
	db.prepared[sql] = p
	db.order = append(db.order, sql)
	if len(db.order) > maxPrepared {
		old := db.order[0]
		db.order = db.order[1:]
		if o, ok := db.prepared[old]; ok {
			delete(db.prepared, old)
			db.conn.Deallocate(ctx, o.name) // best effort: a leftover costs the server a little memory
		}
	}
	return p, nil
}

// forget drops every prepared statement (on the server too, best effort).
func (db *DB) forget() {
	if db.conn.TxStatus() == 'I' {
		db.conn.Exec(context.Background(), "DEALLOCATE ALL").ReadAll()
	}
	db.prepared, db.order = map[string]prepared{}, nil
}

// param is a value in the text format the server reads untyped values in.
func param(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		return strconv.AppendInt(nil, x, 10), nil
	case float64:
		if math.IsInf(x, 0) {
			if x > 0 {
				return []byte("Infinity"), nil
			}
			return []byte("-Infinity"), nil
		}
		return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return nil, &sqldb.Error{Code: "SQLITE_MISMATCH", Message: "PostgreSQL text cannot hold a NUL character"}
		}
		return []byte(x), nil
	case []byte:
		return append([]byte(`\x`), hex.EncodeToString(x)...), nil
	case bool:
		if x {
			return []byte("1"), nil
		}
		return []byte("0"), nil
	case int:
		return strconv.AppendInt(nil, int64(x), 10), nil
	}
	return nil, fmt.Errorf("postgres: cannot bind a %T", v)
}

// The type OIDs whose text is read into another Go type (pg_type.dat).
const (
	oidBool        = 16
	oidBytea       = 17
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidOID         = 26
	oidFloat4      = 700
	oidFloat8      = 701
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
)

// value turns one cell's text into the core's value.
func value(oid uint32, cell []byte) (any, error) {
	if cell == nil {
		return nil, nil
	}
	s := string(cell)
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidOID:
		return strconv.ParseInt(s, 10, 64)
	case oidFloat4, oidFloat8:
		switch s {
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		case "NaN":
			return nil, nil // SQLite holds no NaN either
		}
		return strconv.ParseFloat(s, 64)
	case oidNumeric:
		// A number where a float64 holds it exactly (as SQLite's REAL would
		// show it), else its text: 12345678901234567890.12 is not rounded.
		if s == "NaN" {
			return nil, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && strconv.FormatFloat(f, 'f', -1, 64) == trimZeros(s) {
			return f, nil
		}
		return s, nil
	case oidBool:
		if s == "t" {
			return int64(1), nil
		}
		return int64(0), nil
	case oidBytea:
		if strings.HasPrefix(s, `\x`) {
			return hex.DecodeString(s[2:])
		}
		return []byte(s), nil
	case oidTimestamp, oidTimestamptz:
		// "2024-01-02 03:04:05.678+00" -> "2024-01-02T03:04:05.678Z".
		if len(s) > 10 && s[10] == ' ' {
			s = s[:10] + "T" + s[11:]
		}
		if oid == oidTimestamptz && strings.HasSuffix(s, "+00") {
			s = strings.TrimSuffix(s, "+00") + "Z"
		}
		return s, nil
	}
	return s, nil
}

// trimZeros drops a decimal's trailing zeros (and a bare point): 8.50 is 8.5.
func trimZeros(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// mapError gives a server's error SQLite's code name (see the package
// comment), keeping its message.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		code := "SQLITE_ERROR"
		switch {
		case strings.HasPrefix(pe.Code, "23"):
			code = "SQLITE_CONSTRAINT"
		case pe.Code == "40001", pe.Code == "40P01", pe.Code == "55P03":
			code = "SQLITE_BUSY"
		case pe.Code == "57014":
			code = "SQLITE_INTERRUPT"
		case pe.Code == "25006", pe.Code == "42501":
			code = "SQLITE_READONLY"
		case strings.HasPrefix(pe.Code, "22"):
			code = "SQLITE_MISMATCH"
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57P"):
			code = "SQLITE_IOERR"
		}
		return &sqldb.Error{Code: code, Message: pe.Message}
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return &sqldb.Error{Code: "SQLITE_INTERRUPT", Message: "the statement ran past the time limit and was cancelled"}
	}
	return unreachable(err)
}

// Number rewrites the core's `?` parameters as $1, $2, ... and counts them.
// A `?` inside a string, a quoted name, a comment or dollar-quoted text is
// left alone.
func Number(sql string) (string, int) {
	if strings.IndexByte(sql, '?') < 0 {
		return sql, 0
	}
	var b strings.Builder
	b.Grow(len(sql) + 8)
	n := 0
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(sql) {
				if sql[j] == c {
					if j+1 < len(sql) && sql[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(sql))
			b.WriteString(sql[i:end])
			i = end
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			b.WriteString(sql[i : i+j])
			i += j
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			end := len(sql)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(sql[i:end])
			i = end
		case c == '$':
			// $tag$ ... $tag$ (a tag of letters, digits and underscores).
			j := i + 1
			for j < len(sql) && (sql[j] == '_' || sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z' || sql[j] >= '0' && sql[j] <= '9' && j > i+1) {
				j++
			}
			if j < len(sql) && sql[j] == '$' {
				tag := sql[i : j+1]
				k := strings.Index(sql[j+1:], tag)
				end := len(sql)
				if k >= 0 {
					end = j + 1 + k + len(tag)
				}
				b.WriteString(sql[i:end])
				i = end
			} else {
				b.WriteByte(c)
				i++
			}
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), n
}

// HandleSQL is the body of the wazero host's `sql` import when the core's
// store is Postgres (protocol.HandleSQL; PROTOCOL.md, "SQL on Postgres").
func (db *DB) HandleSQL(in []byte) []byte { return protocol.HandleSQL(in, db) }
