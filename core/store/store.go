// Package store is the seam between the core and what holds the data: the
// one interface every store implements (one folder each: sqlite/ and postgres/),
// and the conformance suite every store passes (storetest/).
//
// A store is two things. Its connection, sqldb.DB, runs the SQL the core
// writes, through the host (in process on the native Go host; across the
// wasm seam, bindings/PROTOCOL.md, elsewhere), and may answer later: the
// core never depends on an answer arriving inside the call that asked. And
// its Store, below, is everything the core must not say in one store's
// words: the catalog, the versions that tell a change, how a write begins,
// the project's own objects and the change-capture triggers, and the few
// pieces of query text that differ.
//
// What the core writes itself is the SQL the stores share: double-quoted
// identifiers, `?` parameters (a store whose server numbers them rewrites
// them), LIMIT and OFFSET, row values, CAST(x AS TEXT), coalesce, ||,
// INSERT ... ON CONFLICT and RETURNING. Errors carry SQLite's primary result
// code names (SQLITE_BUSY, SQLITE_CONSTRAINT, SQLITE_READONLY,
// SQLITE_INTERRUPT, ...): they are the core's vocabulary for what went
// wrong, whatever store said it.
//
// The project's own objects are named with model.Prefix and read by the core
// under those names: the change log (capture.Log: seq, tbl, op, key,
// old_key, old, new, at as ISO-8601 UTC text, dsid), the DSID history
// (dsid.Table) and the command tables of the scale-out mode.
package store

import (
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/readsql"
	"github.com/nakedhtmx/nakedhtmx/core/schemaedit"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// Store is one kind of database, as the core sees it.
type Store interface {
	// Name is the store's name: "sqlite".
	Name() string

	// Prepare readies a connection the core was handed: SQLite's foreign
	// keys on, on every host alike.
	Prepare(db sqldb.DB) error

	// Reflect reads the user's tables and views.
	Reflect(db sqldb.DB) (*model.Database, error)
	// SchemaVersion moves whenever anyone changes the schema.
	SchemaVersion(db sqldb.DB) (int64, error)
	// DataVersion moves when another connection commits: a cheap "anything
	// new?" before the change log is read.
	DataVersion(db sqldb.DB) (int64, error)

	// BeginWrite begins a write: it takes the write lock at once, so a
	// check of the schema right after it holds until COMMIT (or ROLLBACK,
	// which the core sends as it is). Its statements go through db.Exec
	// only: the core may pass a db whose Exec queues them ahead of that
	// check, in one call to the store (PROTOCOL.md, "Statements in one
	// call"), so a failure shows at the check, and the core rolls back.
	BeginWrite(db sqldb.DB) error
	// TryBeginWrite begins a write only if no one else holds the lock now;
	// it never waits (a tick runs on the host's only thread).
	TryBeginWrite(db sqldb.DB) error

	// Install creates the project's own objects when missing (the change
	// log, its metadata) and sets what the store needs for live pages.
	// first: the database was new to nakedhtmx; writable false: it may only
	// be read (no log, pages not live). message is what to say at a first
	// start.
	Install(db sqldb.DB, opts InstallOptions) (r Installed, err error)
	// Uninstall removes everything Install and the capture made, in one
	// transaction, and sets back what Install changed.
	Uninstall(db sqldb.DB) (UninstallReport, error)
	// SyncCapture makes the change-capture triggers match the tables; it
	// says whether it changed anything.
	SyncCapture(db sqldb.DB, d *model.Database) (bool, error)
	// LogFloor is where the change log numbers on from when it holds no
	// entry (an older version's emptied log); ok false when unknown.
	LogFloor(db sqldb.DB) (seq int64, ok bool)

	// Search is the condition that expr's text contains a pattern bound
	// as one parameter (LIKE's %, _ and \ escapes): case-insensitive for
	// ASCII at least, whatever expr's type.
	Search(expr string) string
	// TextMatch is the condition (one parameter, arg) that a row of t is
	// found by its full-text index for a search box's text q, or "" when t
	// has none (Table.TextIndex): the list then searches with Search.
	TextMatch(t *model.Table, q string) (cond string, arg any)
	// DatePart is expr's year ("2024"), month ("2024-03") or day
	// ("2024-03-05") as text, unit being one of DateUnits: a date column's
	// facet groups by it and its filter compares it.
	DatePart(expr, unit string) string
	// Windowed: lists that no index serves (a search, a filter or sort
	// PlanScans finds unserved) are read in windows with yields between
	// (engine/scan.go), since some host cannot stop such a statement where
	// it runs. False: such a list is one statement, stopped by the time
	// limit where it runs (and PlanScans is never asked).
	Windowed() bool
	// PlanScans says whether a SELECT reads every row of its table and
	// filters (filtered: it has a WHERE) or sorts what it reads: the list is
	// then read in windows.
	PlanScans(db sqldb.DB, sql string, args []any, filtered bool) (bool, error)
	// KeyGiven is the SQL to run, in the same transaction, after an insert
	// that gave the table's AutoKey a value of its own (no parameters), or
	// "": SQLite's next rowid is past every key by itself, a Postgres
	// sequence is not, and would hand out the given key again.
	KeyGiven(t *model.Table) string
	// OrphansSetup is the SQL (idempotent) that makes the table
	// "_nakedhtmx_orphans" ready, where a stale write's values for dropped
	// columns are kept (id, at, tbl, key, dsid, col, value; engine/remap.go),
	// run before the first is kept.
	OrphansSetup() string
	// ImportsSetup is the SQL (idempotent) that makes the tables a large
	// import is staged in before its one transaction ("_nakedhtmx_imports":
	// id, tbl, dsid, format, conflict, at; "_nakedhtmx_import_rows": import,
	// n, line, vals; engine/staged.go), or "" where install made them.
	ImportsSetup() string
	// SessionsSetup is the SQL (idempotent) that makes the table sign-in
	// sessions are kept in ready ("_nakedhtmx_sessions": id, the SHA-256 of
	// the cookie's; token, the SHA-256 of the token it was made with;
	// expires, unix seconds; engine/browser.go), or "" where install made it.
	SessionsSetup() string
	// UsersSetup is the SQL (idempotent) that makes the table of users
	// ready ("_nakedhtmx_users": id, email, role, password (a PHC string),
	// created, changed; engine/users.go), run before the first is added.
	// Reflect reports whether it is there (model.Database.Users), so a
	// database without users is asked nothing about them per request.
	UsersSetup() string
	// CommandsSetup is the SQL (idempotent) that makes the tables of the
	// scale-out mode ready ("_nakedhtmx_projection": id 1 and the stream
	// sequence applied; "_nakedhtmx_commands": id, seq, status, result;
	// "_nakedhtmx_outbox": n, id, command, at; engine/command.go), or "":
	// the store cannot take commands, and the core refuses that mode on it.
	CommandsSetup() string
	// MigrationRefusal says why caller SQL may not run, by its words alone
	// (the same verdict on every host), or "".
	MigrationRefusal(sql string, r Rules) string

	// Structure reads what the structure page shows of t beyond the model:
	// its indexes, its triggers, each column's CHECK text.
	Structure(db sqldb.DB, t *model.Table) (*schemaedit.Structure, error)
	// PlanEdit turns a schema edit (checked by Edit.Check) into the
	// store's DDL; t is the table it changes (nil for a new one) and d the
	// whole reflected database. A *schemaedit.Error is the user's to fix.
	PlanEdit(db sqldb.DB, d *model.Database, t *model.Table, e *schemaedit.Edit) (*schemaedit.Plan, error)

	// InspectRead compiles a caller's read (the SQL page, a stored query;
	// core/readsql has read its text, and lists the functions it calls)
	// without running it, and says what it would read, or why it may not
	// run: anything that is not a read, the project's own objects, what r
	// hides. err is the store's own complaint (a syntax error, no such
	// table), for the caller as it is.
	InspectRead(db sqldb.DB, st *readsql.Statement, args []any, r ReadRules) (Inspection, error)
	// RunRead runs a read InspectRead let through: read-only, within
	// r.LimitMs, at most r.MaxRows+1 rows.
	RunRead(db sqldb.DB, sql string, args []any, r sqldb.Read) (*sqldb.Rows, error)
}

// ReadRules are what a caller's read may not see.
type ReadRules struct {
	HiddenTable  func(table string) bool
	HiddenColumn func(table, column string) bool
	// HidesColumnsOf: the config hides some column of table.
	HidesColumnsOf func(table string) bool
	// Hides: the config hides some table or column. The store's own
	// catalog (which names them) and what it cannot see into (virtual
	// tables, functions of the user's) are then closed to a caller's read.
	Hides bool
}

// OwnTables is the refusal of a read of the project's own tables, the same
// from every store; it names none of them (no answer does).
const OwnTables = "nakedhtmx's own tables cannot be read here"

// Inspection is what a caller's read would do.
type Inspection struct {
	// Tables are the user's tables it reads (a stored query's page is
	// live on them).
	Tables []string
	// Refusal says why it may not run, or "".
	Refusal string
	// Hidden is what the config hides that it would read (Refusal is then
	// ""): the core words that refusal, so that it names nothing the
	// caller did not name.
	Hidden *Hidden
}

// Hidden is one hidden thing a read reached.
type Hidden struct {
	Column bool   // a column; else a table
	Name   string // its name
}

// DateUnits are the parts of a date a facet or a filter may group by, with
// the length of their ISO 8601 text ("2024", "2024-03", "2024-03-05").
var DateUnits = map[string]int{"year": 4, "month": 7, "day": 10}

// InstallOptions are the choices a user makes about the project's objects.
type InstallOptions struct {
	// KeepJournalMode: SQLite's file keeps its journal mode (no WAL).
	KeepJournalMode bool
}

// Installed is what Install did.
type Installed struct {
	First    bool
	Writable bool
	// Message is said once, at the first start on a database.
	Message string
}

// UninstallReport says what Uninstall took away.
type UninstallReport struct {
	Removed     []string `json:"removed"`
	JournalMode string   `json:"journalMode,omitempty"` // the mode put back, when one was recorded
	Error       string   `json:"error,omitempty"`
}

// Rules are what a migration may not name: the config's hidden tables and
// columns, and the tables that hide a column.
type Rules struct {
	HiddenTable  func(name string) bool
	HiddenColumn func(name string) bool
	Guarded      func(table string) bool
	// ReadOnly: a table the config makes read-only, or one of whose columns
	// it does (a store without an authorizer refuses SQL that names one).
	ReadOnly func(table string) bool
}

// Apply runs statements (DDL: the capture triggers) in one write
// transaction begun by s, all of them or none; it says whether there were
// any to run.
func Apply(db sqldb.DB, s Store, stmts []string) (bool, error) {
	if len(stmts) == 0 {
		return false, nil
	}
	if err := s.BeginWrite(db); err != nil {
		return false, err
	}
	for _, st := range stmts {
		if err := db.Script(st); err != nil {
			db.Exec("ROLLBACK")
			return false, err
		}
	}
	if _, err := db.Exec("COMMIT"); err != nil {
		db.Exec("ROLLBACK")
		return false, err
	}
	return true, nil
}
