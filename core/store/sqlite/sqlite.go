// Package sqlite is the SQLite store (core/store): its catalog (catalog.go,
// and ddl/ for what only a table's CREATE TABLE text tells), the change
// capture triggers (capture.go), and what nakedhtmx adds to a user's file
// and takes away again (install.go). Its connections are the hosts' own:
// ncruces/go-sqlite3 on the Go hosts, node:sqlite and bun:sqlite on the TS
// hosts.
package sqlite

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/capture"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
	"github.com/nakedhtmx/nakedhtmx/core/store/sqlite/ddl"
)

// Store is SQLite as the core sees it.
type Store struct{}

var _ store.Store = Store{}

func (Store) Name() string { return "sqlite" }

// Prepare turns foreign keys on: the schema's foreign keys are part of what
// a user declared, enforced on every host alike (SQLite leaves them off,
// node:sqlite turns them on).
func (Store) Prepare(db sqldb.DB) error {
	_, err := db.Exec("PRAGMA foreign_keys = ON")
	return err
}

func (Store) Reflect(db sqldb.DB) (*model.Database, error) { return Reflect(db) }

func (Store) SchemaVersion(db sqldb.DB) (int64, error) { return schemaVersion(db) }

func schemaVersion(db sqldb.DB) (int64, error) {
	return pragmaInt(db, "schema_version")
}

// DataVersion is PRAGMA data_version: it moves when another connection
// commits, never for this one's own writes.
func (Store) DataVersion(db sqldb.DB) (int64, error) { return pragmaInt(db, "data_version") }

func pragmaInt(db sqldb.DB, name string) (int64, error) {
	rows, err := db.Query("PRAGMA " + name)
	if err != nil {
		return 0, err
	}
	if len(rows.Values) != 1 {
		return 0, fmt.Errorf("PRAGMA %s: %d rows", name, len(rows.Values))
	}
	v, _ := sqldb.Int(rows.Values[0][0])
	return v, nil
}

// BeginWrite is BEGIN IMMEDIATE: the write lock at once.
func (Store) BeginWrite(db sqldb.DB) error {
	_, err := db.Exec("BEGIN IMMEDIATE")
	return err
}

// TryBeginWrite is BEGIN IMMEDIATE with no busy wait.
func (Store) TryBeginWrite(db sqldb.DB) error {
	db.Exec("PRAGMA busy_timeout = 0")
	_, err := db.Exec("BEGIN IMMEDIATE")
	db.Exec("PRAGMA busy_timeout = 5000")
	return err
}

// LogFloor: an empty log made by an older version (AUTOINCREMENT) still
// numbers on from sqlite_sequence; on any other file that table may not
// exist.
func (Store) LogFloor(db sqldb.DB) (int64, bool) {
	rs, err := db.Query(`SELECT seq FROM sqlite_sequence WHERE name = ?`, capture.Log)
	if err != nil || len(rs.Values) != 1 {
		return 0, false
	}
	return sqldb.Int(rs.Values[0][0])
}

// Search is SQLite's LIKE: case-insensitive for ASCII, on any type.
// OrphansSetup: made at the first orphan kept, so a file no stale write
// reached gets no such table.
func (Store) OrphansSetup() string { return orphansSetup }

// ImportsSetup: see store.Store.
func (Store) ImportsSetup() string { return importsSetup }

func (Store) SessionsSetup() string { return sessionsSetup }

// sessionsSetup: user_id is NULL for a session made with the token.
const sessionsSetup = `CREATE TABLE IF NOT EXISTS "_nakedhtmx_sessions" (
  id TEXT PRIMARY KEY, token TEXT NOT NULL, expires INTEGER NOT NULL, user_id INTEGER
) WITHOUT ROWID`

// UsersSetup: made at the first user added.
func (Store) UsersSetup() string { return usersSetup }

// usersSetup: email is kept as the core normalises it (lower case), so
// UNIQUE holds whatever case a person types.
const usersSetup = `CREATE TABLE IF NOT EXISTS "_nakedhtmx_users" (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  password TEXT NOT NULL,
  created TEXT NOT NULL,
  changed TEXT NOT NULL
)`

const importsSetup = `CREATE TABLE IF NOT EXISTS "_nakedhtmx_imports" (
  id TEXT PRIMARY KEY, tbl TEXT NOT NULL, dsid TEXT NOT NULL, format TEXT NOT NULL, conflict TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS "_nakedhtmx_import_rows" (
  import TEXT NOT NULL, n INTEGER NOT NULL, line INTEGER NOT NULL, vals TEXT NOT NULL, PRIMARY KEY (import, n)
) WITHOUT ROWID`

// orphansSetup is where values of dropped columns are kept, with the row's
// key and the DSID they were written against.
const orphansSetup = `CREATE TABLE IF NOT EXISTS "_nakedhtmx_orphans" (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  tbl TEXT NOT NULL,
  key TEXT,
  dsid TEXT NOT NULL,
  col TEXT NOT NULL,
  value TEXT
)`

// KeyGiven: nothing to do, SQLite's next rowid is past the largest.
func (Store) KeyGiven(*model.Table) string { return "" }

func (Store) Search(expr string) string { return expr + ` LIKE ? ESCAPE '\'` }

// Windowed: node:sqlite and bun:sqlite cannot stop a statement, so a long
// one would hold a TS host's only thread.
func (Store) Windowed() bool { return true }

// DatePart cuts the ISO 8601 text SQLite's date functions write (a number
// there is a Julian day or a Unix time: date() reads both as it would).
func (Store) DatePart(expr, unit string) string {
	return "substr(CASE WHEN typeof(" + expr + ") IN ('integer', 'real') THEN date(" + expr + ", 'auto') ELSE " + expr + " END, 1, " +
		strconv.Itoa(store.DateUnits[unit]) + ")"
}

// CommandsSetup creates the scale-out mode's tables.
func (Store) CommandsSetup() string { return commandsSetup }

const commandsSetup = `CREATE TABLE IF NOT EXISTS "_nakedhtmx_projection" (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS "_nakedhtmx_commands" (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  status INTEGER NOT NULL,
  result TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS "_nakedhtmx_outbox" (
  n INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  command TEXT NOT NULL,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)`

// rowKey is every rowid table's RowKey: _rowid_ names the rowid even where a
// column is called rowid.
const rowKey = "_rowid_"

// TextMatch finds rows through the table's external-content FTS5 index,
// whose rowids are the table's.
func (Store) TextMatch(t *model.Table, q string) (string, any) {
	if t.TextIndex == "" || t.RowKey == "" {
		return "", nil
	}
	fts := sqldb.Ident(t.TextIndex)
	return t.RowKey + " IN (SELECT rowid FROM " + fts + " WHERE " + fts + " MATCH ?)", ftsQuery(q)
}

// ftsQuery makes a search box's text safe for FTS5 MATCH: every word becomes
// a quoted string (so operators and syntax errors cannot happen), the last one
// a prefix query so results follow typing.
func ftsQuery(q string) string {
	words := strings.Fields(q)
	for i, w := range words {
		words[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
		if i == len(words)-1 {
			words[i] += "*"
		}
	}
	return strings.Join(words, " ")
}

// PlanScans asks SQLite's planner (EXPLAIN QUERY PLAN). A SCAN walks the
// whole table (or a whole index of it); it stops early only when it needs
// no filtering and no sort afterwards, so a walk that filters or sorts is a
// scan. A SEARCH (an index lookup) is bounded by what it finds. filtered:
// the statement has a WHERE the walk must apply.
func (Store) PlanScans(db sqldb.DB, sql string, args []any, filtered bool) (bool, error) {
	rs, err := db.Query("EXPLAIN QUERY PLAN "+sql, args...)
	if err != nil {
		return false, err
	}
	walks, sorts := false, false
	for _, r := range rs.Values {
		detail := sqldb.Text(r[len(r)-1])
		walks = walks || strings.HasPrefix(detail, "SCAN ") && !strings.Contains(detail, "VIRTUAL TABLE")
		sorts = sorts || strings.HasPrefix(detail, "USE TEMP B-TREE FOR") && strings.Contains(detail, "ORDER BY")
	}
	return walks && (filtered || sorts), nil
}

// MigrationRefusal is ddl.Refusal: SQLite's words.
func (Store) MigrationRefusal(sql string, r store.Rules) string { return ddl.Refusal(sql, r) }
