package engine

import (
	"strconv"

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

// watched is the host's connection, noting a statement the host stopped.
type watched struct {
	sqldb.DB
	stopped bool
}

func (w *watched) note(err error) {
	if err != nil && sqldb.Code(err) == "SQLITE_INTERRUPT" {
		w.stopped = true
	}
}

func (w *watched) Query(sql string, args ...any) (*sqldb.Rows, error) {
	r, err := w.DB.Query(sql, args...)
	w.note(err)
	return r, err
}

func (w *watched) QueryUnbounded(sql string, args ...any) (*sqldb.Rows, error) {
	r, err := sqldb.QueryUnbounded(w.DB, sql, args...)
	w.note(err)
	return r, err
}

func (w *watched) LaneWrites(on bool) { sqldb.LaneWrites(w.DB, on) }

func (w *watched) Exec(sql string, args ...any) (sqldb.Result, error) {
	r, err := w.DB.Exec(sql, args...)
	w.note(err)
	return r, err
}

func (w *watched) Script(sql string) error {
	err := w.DB.Script(sql)
	w.note(err)
	return err
}

func (w *watched) Caller(sql string, g sqldb.Guard) error {
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
