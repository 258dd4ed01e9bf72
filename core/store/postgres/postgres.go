// Package postgres is the PostgreSQL store (core/store): its catalog
// (catalog.go), the change-capture trigger (capture.go), the project's own
// schema and what it holds (install.go), and the migration words
// (words.go). The connection is the host's: bindings/go/postgres on the
// native Go host, which numbers the core's `?` parameters, binds every
// value untyped, turns rows into the core's values and errors into its
// vocabulary, and puts the served schema, then "_nakedhtmx", on the search
// path.
//
// One schema is served (Schema: `--pg-schema`, "public" by default). The
// project's own tables live in the schema "_nakedhtmx" under the same names
// as on SQLite ("_nakedhtmx_changes", ...), so the core's statements name
// them alike; the search path finds them.
package postgres

import (
	"errors"
	"strconv"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

// Own is the schema of the project's own objects.
const Own = "_nakedhtmx"

// writeLock is the transaction-level advisory lock every write and every
// captured change takes (one writer at a time, as on SQLite): the change
// log's order is then its commit order, so a reader that has seen entry n
// never later finds an entry below n committed. Its key is spelled once,
// here, for the statements and the capture function alike.
const writeLock = "7262019301"

// Store is PostgreSQL as the core sees it, serving one schema. Make it
// with New; the zero Store serves "public" and reads the catalog for
// schema changes with each request.
type Store struct {
	Schema string // "" is "public"
	// events: an event trigger counts every DDL ("_nakedhtmx_ddl"): the
	// schema version is one row's number. Found or made by Install.
	events *bool
}

// New is the store serving schema ("" is "public").
func New(schema string) Store { return Store{Schema: schema, events: new(bool)} }

var _ store.Store = Store{}

func (s Store) schema() string {
	if s.Schema == "" {
		return "public"
	}
	return s.Schema
}

func (Store) Name() string { return "postgres" }

// Prepare has nothing to do: the connection's settings are the host's.
func (Store) Prepare(sqldb.DB) error { return nil }

// SchemaVersion is, where Install could make the event trigger (a
// superuser's right), the count of DDL statements it has seen: one row,
// read in one round trip. Elsewhere it is a sum over the catalog rows that describe the served
// schema (its relations, their columns, constraints, defaults, and its
// types: enums and domains), of each row's xmin (the transaction that wrote
// it) and the rows' count. Any ALTER, CREATE, DROP, RENAME or COMMENT there
// writes such a row, so the sum moves; it needs no superuser (an event
// trigger would) and is read with each request, as SQLite's schema_version.
func (s Store) SchemaVersion(db sqldb.DB) (int64, error) {
	if s.events != nil && *s.events {
		rs, err := db.Query(`SELECT n FROM "_nakedhtmx"."_nakedhtmx_ddl" WHERE id = 1`)
		if err == nil && len(rs.Values) == 1 {
			if v, ok := sqldb.Int(rs.Values[0][0]); ok {
				return v, nil
			}
		}
		// Gone (an uninstall elsewhere): read the catalog from now on.
		*s.events = false
	}
	rs, err := db.Query(`SELECT
  (SELECT coalesce(sum(c.xmin::text::bigint + c.oid::bigint), 0) + count(*) FROM pg_class c WHERE c.relnamespace = n.oid)
+ (SELECT coalesce(sum(a.xmin::text::bigint + a.attnum), 0) + count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = n.oid AND a.attnum > 0)
+ (SELECT coalesce(sum(k.xmin::text::bigint), 0) + count(*) FROM pg_constraint k WHERE k.connamespace = n.oid)
+ (SELECT coalesce(sum(d.xmin::text::bigint), 0) + count(*) FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid WHERE c.relnamespace = n.oid)
+ (SELECT coalesce(sum(t.xmin::text::bigint), 0) + count(*) FROM pg_type t WHERE t.typnamespace = n.oid)
+ (SELECT coalesce(sum(e.xmin::text::bigint), 0) + count(*) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typnamespace = n.oid)
+ (SELECT coalesce(sum(g.xmin::text::bigint), 0) + count(*) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid WHERE c.relnamespace = n.oid AND NOT g.tgisinternal)
FROM pg_namespace n WHERE n.nspname = ?`, s.schema())
	if err != nil {
		return 0, err
	}
	if len(rs.Values) != 1 {
		return 0, errors.New("postgres: the schema " + strconv.Quote(s.schema()) + " does not exist")
	}
	if v, ok := sqldb.Int(rs.Values[0][0]); ok {
		return v, nil
	}
	return strconv.ParseInt(sqldb.Text(rs.Values[0][0]), 10, 64)
}

// DataVersion is the change log's newest entry: every captured write adds
// one, in commit order (writeLock). Before the log exists it is 0.
func (Store) DataVersion(db sqldb.DB) (int64, error) {
	rs, err := db.Query(`SELECT coalesce(max(seq), 0) FROM "_nakedhtmx_changes"`)
	if err != nil || len(rs.Values) != 1 {
		return 0, nil
	}
	v, _ := sqldb.Int(rs.Values[0][0])
	return v, nil
}

// BeginWrite is BEGIN and the write lock.
func (Store) BeginWrite(db sqldb.DB) error {
	if _, err := db.Exec("BEGIN"); err != nil {
		return err
	}
	if _, err := db.Exec("SELECT pg_advisory_xact_lock(" + writeLock + ")"); err != nil {
		db.Exec("ROLLBACK")
		return err
	}
	return nil
}

// TryBeginWrite is BEGIN and the write lock if it is free now.
func (Store) TryBeginWrite(db sqldb.DB) error {
	if _, err := db.Exec("BEGIN"); err != nil {
		return err
	}
	rs, err := db.Query("SELECT pg_try_advisory_xact_lock(" + writeLock + ")")
	if err == nil && (len(rs.Values) != 1 || rs.Values[0][0] != int64(1)) {
		err = &sqldb.Error{Code: "SQLITE_BUSY", Message: "another writer holds the write lock"}
	}
	if err != nil {
		db.Exec("ROLLBACK")
	}
	return err
}

// LogFloor: a Postgres log never lost its numbering.
func (Store) LogFloor(sqldb.DB) (int64, bool) { return 0, false }

// Search is ILIKE on the text of expr: Postgres's LIKE minds case and
// takes text only (a date or a number is searched as it is shown).
// Channel is what the capture trigger and the DDL counter NOTIFY at
// commit: a host that LISTENs on it ticks at once instead of polling
// often (bindings/go/postgres Wake, bindings/ts/src/postgres.ts). The
// notice carries nothing: it may be lost (a connection down), the log may
// not.
const Channel = "_nakedhtmx"

// KeyGiven moves the key's sequence (identity or serial) past the largest
// key, as SQLite's rowid is, so the next row the database numbers does not
// collide with one given its key by hand. nextval inside greatest may use up
// one number: sequences have gaps anyway.
func (Store) KeyGiven(t *model.Table) string {
	if t.AutoKey == nil || t.View {
		return ""
	}
	seq := "pg_get_serial_sequence(" + sqldb.Literal(sqldb.Ident(t.Name)) + ", " + sqldb.Literal(t.AutoKey.Name) + ")"
	return "SELECT setval(" + seq + ", greatest((SELECT max(" + sqldb.Ident(t.AutoKey.Name) + ") FROM " + sqldb.Ident(t.Name) + "), nextval(" + seq + "))) WHERE " + seq + " IS NOT NULL"
}

func (Store) Search(expr string) string { return "CAST(" + expr + ` AS TEXT) ILIKE ? ESCAPE '\'` }

// Windowed is false: a Postgres list is one statement, cancelled by the
// server at the time limit if it runs long, and the statement runs on the
// server, not on the host's thread; windows would cost a round trip each.
// (The windows' merge also binds keys in a VALUES list, which Postgres
// cannot type from untyped parameters.)
func (Store) Windowed() bool { return false }

// DatePart formats a date or timestamp (in the session's time zone); a
// text column holding dates is cut as SQLite's is.
func (Store) DatePart(expr, unit string) string {
	return "substr(CAST(" + expr + " AS TEXT), 1, " + strconv.Itoa(store.DateUnits[unit]) + ")"
}

// CommandsSetup: the scale-out mode is not built on Postgres yet.
func (Store) CommandsSetup() string { return "" }

// TextMatch: no full-text index is reflected on Postgres yet; a list's
// search is Search's ILIKE over its text columns.
func (Store) TextMatch(*model.Table, string) (string, any) { return "", nil }

// PlanScans is never asked (Windowed is false).
func (Store) PlanScans(sqldb.DB, string, []any, bool) (bool, error) { return false, nil }

// reflectTables is in catalog.go; this keeps the interface's order.
func (s Store) Reflect(db sqldb.DB) (*model.Database, error) { return s.reflect(db) }
