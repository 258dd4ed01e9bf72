// Package sqldb is the core's view of its host's SQLite connection: the one
// interface every host implements (in-process for the native Go host, through
// the `sql` import for the wasm core, see bindings/PROTOCOL.md), plus the
// quoting every generated statement goes through.
package sqldb

import (
	"fmt"
	"strings"
)

// DB runs SQL on the host's single connection. Values are nil, int64, float64,
// string or []byte, in both directions.
type DB interface {
	Query(sql string, args ...any) (*Rows, error)
	Exec(sql string, args ...any) (Result, error)
	// Script runs several statements without parameters or rows.
	Script(sql string) error
	// Caller runs SQL a caller sent (a migration) as a script in a
	// transaction of its own, under g and the request's time limit: all of
	// it or none (and none when g.Dry).
	Caller(sql string, g Guard) error
}

// Unbounded is a DB that can run a read whose work the core cannot bound
// (a view's definition may take any time) where the time limit can stop it:
// the TS hosts, whose SQLite cannot stop a statement in place, run it in a
// process of its own (bindings/PROTOCOL.md, "Time limit"). The Go hosts stop
// any statement where it runs and need no such thing.
type Unbounded interface {
	QueryUnbounded(sql string, args ...any) (*Rows, error)
}

// Laned is a DB that can also run a whole write where the time limit can
// stop it: the TS hosts, whose SQLite cannot stop a statement in place,
// send every statement from LaneWrites(true) to LaneWrites(false) (a write
// transaction, begin to end, whose triggers the core cannot bound) to the
// connection of their read lane, a process they kill past the limit
// (bindings/PROTOCOL.md, "Time limit"). The Go hosts need no such thing.
type Laned interface {
	LaneWrites(on bool)
}

// LaneWrites switches db's write lane on or off, where it has one.
func LaneWrites(db DB, on bool) {
	if l, ok := db.(Laned); ok {
		l.LaneWrites(on)
	}
}

// QueryUnbounded runs a read the core cannot bound: on db's QueryUnbounded
// where it has one, else as any query.
func QueryUnbounded(db DB, sql string, args ...any) (*Rows, error) {
	if u, ok := db.(Unbounded); ok {
		return u.QueryUnbounded(sql, args...)
	}
	return db.Query(sql, args...)
}

// Ahead is a DB that can send statements ahead of the next one, in the
// same call to its store (bindings/PROTOCOL.md, "Statements in one call"):
// each crossing out of the wasm core, and each round trip to a store over a
// socket, costs more than a small statement does.
type Ahead interface {
	// Ahead queues a statement whose answer the core does not read. It runs
	// just before the next statement, in the same call; when it fails, that
	// next statement does not run and fails with its error.
	Ahead(sql string, args []any)
	// FlushAhead runs what is queued now, on its own.
	FlushAhead() error
	// DropAhead forgets what is queued (a ROLLBACK would undo it anyway).
	DropAhead()
}

// Batcher is a DB that can run several reads in one call to its store
// (bindings/PROTOCOL.md, "Statements in one call"): a list page's labels
// of several referenced tables are one round trip, not one each.
type Batcher interface {
	// QueryBatch runs the reads in order and answers each one's rows, or
	// the first failure.
	QueryBatch(stmts []Stmt) ([]*Rows, error)
}

// QueryBatch runs reads in one call where db can (Batcher), else one by one.
func QueryBatch(db DB, stmts []Stmt) ([]*Rows, error) {
	if b, ok := db.(Batcher); ok && len(stmts) > 1 {
		return b.QueryBatch(stmts)
	}
	out := make([]*Rows, len(stmts))
	for i, st := range stmts {
		rs, err := db.Query(st.SQL, st.Args...)
		if err != nil {
			return nil, err
		}
		out[i] = rs
	}
	return out, nil
}

// Stmt is one statement and its arguments.
type Stmt struct {
	SQL  string
	Args []any
}

// Rows is a fully read result set.
type Rows struct {
	Columns []string
	Values  [][]any
}

// Result is what a write reports.
type Result struct {
	Changes      int64
	LastInsertID int64
}

// Error is an error reported by SQLite, with its primary result code name.
type Error struct {
	Code    string // SQLITE_BUSY, SQLITE_CONSTRAINT, ...
	Message string
}

func (e *Error) Error() string { return e.Message }

// Code returns the SQLite result code name of err, or "" when it is not a SQLite error.
func Code(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Code
	}
	return ""
}

// Ident quotes an identifier for SQLite: wrapped in double quotes, inner double
// quotes doubled. It is the only way a name reaches generated SQL.
func Ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Literal quotes a string as an SQL string literal. Used only where SQLite takes
// no bound parameter (PRAGMA arguments).
func Literal(s string) string {
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}

// Int returns v as an int64 when it is an integer value.
func Int(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	}
	return 0, false
}

// Text formats a value for display and for text comparison.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return fmt.Sprintf("<%d bytes>", len(x))
	default:
		return FormatNumber(x)
	}
}
