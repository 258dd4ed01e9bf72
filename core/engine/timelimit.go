package engine

import (
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// The time limit on a request's statements (CONTRACT, "What nakedhtmx
// writes": 5 s unless the config's limits.statementMs says otherwise) is
// the host's to enforce, since only it can stop a statement while it runs
// (SQLite's progress handler or interrupt; bindings/PROTOCOL.md, "Time
// limit"). A stopped statement fails with SQLITE_INTERRUPT; whatever path
// the request was on, its answer is then the one 503 below, decided here.

// StatementLimitMs is how long one statement of a request may run.
func (e *Engine) StatementLimitMs() int64 { return e.opts.Config.StatementLimit() }

// watched is the host's connection, noting a statement the host stopped,
// and keeping statements ahead of the next one (sqldb.Ahead): on a host
// that can send them in one call, they go there; on one that cannot, they
// are kept here and run first, with the same outcome (a failure is the next
// statement's, which then does not run).
type watched struct {
	sqldb.DB
	stopped bool
	ahead   []sqldb.Stmt // kept here when DB is not an sqldb.Ahead
}

func (w *watched) note(err error) {
	if err != nil && sqldb.Code(err) == "SQLITE_INTERRUPT" {
		w.stopped = true
	}
}

// Ahead queues a statement whose answer is not read, to run just before the
// next one (sqldb.Ahead).
func (w *watched) Ahead(sql string, args []any) {
	if a, ok := w.DB.(sqldb.Ahead); ok {
		a.Ahead(sql, args)
		return
	}
	w.ahead = append(w.ahead, sqldb.Stmt{SQL: sql, Args: args})
}

// before runs what is queued ahead of sql, where the host keeps nothing
// itself. A ROLLBACK drops it: it would undo it anyway, and must run even
// when a queued statement would fail.
func (w *watched) before(sql string) error {
	if isRollback(sql) {
		if a, ok := w.DB.(sqldb.Ahead); ok {
			a.DropAhead()
		}
		w.ahead = nil
		return nil
	}
	for len(w.ahead) > 0 {
		st := w.ahead[0]
		w.ahead = w.ahead[1:]
		if _, err := w.DB.Exec(st.SQL, st.Args...); err != nil {
			w.ahead = nil
			return err
		}
	}
	return nil
}

// FlushAhead runs what is queued now: a call never ends with a statement
// left unsent.
func (w *watched) FlushAhead() error {
	if a, ok := w.DB.(sqldb.Ahead); ok {
		err := a.FlushAhead()
		w.note(err)
		return err
	}
	err := w.before("")
	w.note(err)
	return err
}

// aheadOf is w for code that only writes (BeginWrite, the change log's
// values): its Exec queues the statement ahead of the next one instead of
// running it, so a write's BEGIN goes to the store with the schema check
// that follows it, and the log's values with the COMMIT. Its failure is
// then the next statement's, which every such caller checks.
type aheadOf struct{ *watched }

func (a aheadOf) Exec(sql string, args ...any) (sqldb.Result, error) {
	a.Ahead(sql, args)
	return sqldb.Result{}, nil
}

func isRollback(sql string) bool {
	return len(sql) >= 8 && strings.EqualFold(sql[:8], "ROLLBACK")
}

func (w *watched) Query(sql string, args ...any) (*sqldb.Rows, error) {
	if err := w.before(sql); err != nil {
		return nil, err
	}
	r, err := w.DB.Query(sql, args...)
	w.note(err)
	return r, err
}

func (w *watched) QueryUnbounded(sql string, args ...any) (*sqldb.Rows, error) {
	if err := w.before(sql); err != nil {
		return nil, err
	}
	r, err := sqldb.QueryUnbounded(w.DB, sql, args...)
	w.note(err)
	return r, err
}

// QueryBatch runs reads in one call where the host can (sqldb.Batcher).
func (w *watched) QueryBatch(stmts []sqldb.Stmt) ([]*sqldb.Rows, error) {
	if _, ok := w.DB.(sqldb.Batcher); !ok || len(stmts) < 2 {
		// One by one through w's Query: w wrapped so that it is no Batcher.
		return sqldb.QueryBatch(struct{ sqldb.DB }{w}, stmts)
	}
	if err := w.before(""); err != nil {
		return nil, err
	}
	rs, err := sqldb.QueryBatch(w.DB, stmts)
	w.note(err)
	return rs, err
}

func (w *watched) LaneWrites(on bool) { sqldb.LaneWrites(w.DB, on) }

func (w *watched) Exec(sql string, args ...any) (sqldb.Result, error) {
	if err := w.before(sql); err != nil {
		return sqldb.Result{}, err
	}
	r, err := w.DB.Exec(sql, args...)
	w.note(err)
	return r, err
}

func (w *watched) Script(sql string) error {
	if err := w.before(sql); err != nil {
		return err
	}
	err := w.DB.Script(sql)
	w.note(err)
	return err
}

func (w *watched) Caller(sql string, g sqldb.Guard) error {
	if err := w.before(sql); err != nil {
		return err
	}
	err := w.DB.Caller(sql, g)
	w.note(err)
	return err
}

// stoppedMessage says what a 503 for a stopped statement means.
func (e *Engine) stoppedMessage() string {
	return "the request took too long: a database statement ran past the limit of " +
		strconv.FormatInt(e.StatementLimitMs(), 10) + " ms and was stopped; nothing it began was written. " +
		"Narrow the search or filter, or add an index; the server carries on."
}
