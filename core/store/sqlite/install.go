package sqlite

// What nakedhtmx adds to a user's database, said once at the first start and
// taken away again by Uninstall (CONTRACT, "uninstall"; README, "What
// nakedhtmx does to your database"). Everything it adds is named with the
// prefix _nakedhtmx_; the one setting it changes, the journal mode, is
// recorded before it is changed, so it can be put back.

import (
	"fmt"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

// metaSetup holds what nakedhtmx found when it first opened the file.
const metaSetup = `CREATE TABLE IF NOT EXISTS "_nakedhtmx_meta" (key TEXT PRIMARY KEY, value TEXT NOT NULL)`

// ownObjects lists the objects nakedhtmx made (type, name), triggers first,
// so dropping them in this order never trips over a dependency.
const ownObjects = `SELECT type, name FROM sqlite_schema WHERE name LIKE '\_nakedhtmx\_%' ESCAPE '\' AND type IN ('trigger', 'view', 'table', 'index')
ORDER BY CASE type WHEN 'trigger' THEN 0 WHEN 'view' THEN 1 WHEN 'index' THEN 2 ELSE 3 END, name`

var journalModes = map[string]bool{"delete": true, "truncate": true, "persist": true, "memory": true, "wal": true, "off": true}

func journalMode(db sqldb.DB) string {
	rs, err := db.Query("PRAGMA journal_mode")
	if err != nil || len(rs.Values) != 1 {
		return ""
	}
	return strings.ToLower(sqldb.Text(rs.Values[0][0]))
}

// Install creates the project's own tables and puts the file in WAL mode
// (unless the options keep its journal mode), recording the mode it found
// the first time. A file it may not write is left as it is (not writable:
// not live).
func (Store) Install(db sqldb.DB, opts store.InstallOptions) (store.Installed, error) {
	r, err := installWritable(db, opts)
	if c := sqldb.Code(err); c == "SQLITE_READONLY" || c == "SQLITE_CANTOPEN" {
		return store.Installed{}, nil
	}
	r.Writable = err == nil
	return r, err
}

func installWritable(db sqldb.DB, opts store.InstallOptions) (r store.Installed, err error) {
	rs, err := db.Query(`SELECT 1 FROM sqlite_schema WHERE name = '_nakedhtmx_dsid'`)
	if err != nil {
		return r, err
	}
	r.First = len(rs.Values) == 0
	found := journalMode(db)
	if err := db.Script(logSetup + ";\n" + dsidSetup); err != nil {
		return r, err
	}
	// A file this process may only read, whose log an earlier start made,
	// is still live (outside writers' changes show); it keeps its mode.
	msg, err := recordAndSwitch(db, opts, r.First, found)
	if err != nil && sqldb.Code(err) != "SQLITE_READONLY" {
		return r, err
	}
	r.Message = msg
	return r, nil
}

// recordAndSwitch records the journal mode found (the first time) and
// switches the file to WAL unless the options keep its mode.
func recordAndSwitch(db sqldb.DB, opts store.InstallOptions, first bool, found string) (string, error) {
	if err := db.Script(metaSetup); err != nil {
		return "", err
	}
	if journalModes[found] {
		if _, err := db.Exec(`INSERT INTO "_nakedhtmx_meta" (key, value) VALUES ('journal_mode', ?) ON CONFLICT (key) DO NOTHING`, found); err != nil {
			return "", err
		}
	}
	now := found
	if !opts.KeepJournalMode && found != "wal" {
		// WAL lets other processes read while a write is under way, and
		// the change log is read by every open screen.
		rs, err := db.Query("PRAGMA journal_mode=WAL")
		if err != nil {
			return "", err
		}
		if len(rs.Values) == 1 {
			now = strings.ToLower(sqldb.Text(rs.Values[0][0]))
		}
		if now != "wal" {
			return "", fmt.Errorf("cannot switch to WAL journal mode (got %q); --keep-journal-mode keeps %q", now, found)
		}
	}
	if !first {
		return "", nil
	}
	journal := "its journal mode is kept (" + found + ")"
	if now != found {
		journal = "its journal mode is now WAL (it was " + strings.ToUpper(found) + "; --keep-journal-mode keeps it)"
	}
	return "nakedhtmx: first start on this database: it now holds nakedhtmx's own tables (_nakedhtmx_changes, _nakedhtmx_dsid, _nakedhtmx_meta) and change-capture triggers on every table (_nakedhtmx_trg_*); " + journal + ". `nakedhtmx uninstall --db FILE` removes all of it.", nil
}

// Uninstall removes every object nakedhtmx added to the database (its
// _nakedhtmx_ tables, triggers and indexes, and their sqlite_sequence rows
// an older version made) in one transaction, then restores the journal mode
// recorded at the first start. The user's tables and rows are not touched.
// It needs no open engine: it must not install anything first.
func (Store) Uninstall(db sqldb.DB) (store.UninstallReport, error) {
	rep := store.UninstallReport{Removed: []string{}}
	mode := ""
	if rs, err := db.Query(`SELECT value FROM "_nakedhtmx_meta" WHERE key = 'journal_mode'`); err == nil && len(rs.Values) == 1 {
		if m := strings.ToLower(sqldb.Text(rs.Values[0][0])); journalModes[m] {
			mode = m
		}
	}
	if _, err := db.Exec("BEGIN IMMEDIATE"); err != nil {
		return rep, err
	}
	fail := func(err error) (store.UninstallReport, error) {
		db.Exec("ROLLBACK")
		return store.UninstallReport{Removed: []string{}}, err
	}
	rs, err := db.Query(ownObjects)
	if err != nil {
		return fail(err)
	}
	for _, r := range rs.Values {
		typ, name := sqldb.Text(r[0]), sqldb.Text(r[1])
		if typ == "index" && strings.HasPrefix(name, "sqlite_autoindex_") {
			continue // goes with its table
		}
		if _, err := db.Exec("DROP " + strings.ToUpper(typ) + " IF EXISTS " + sqldb.Ident(name)); err != nil {
			return fail(err)
		}
		rep.Removed = append(rep.Removed, name)
	}
	if rs, err := db.Query(`SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'`); err == nil && len(rs.Values) == 1 {
		if _, err := db.Exec(`DELETE FROM sqlite_sequence WHERE name LIKE '\_nakedhtmx\_%' ESCAPE '\'`); err != nil {
			return fail(err)
		}
	}
	if _, err := db.Exec("COMMIT"); err != nil {
		return fail(err)
	}
	if mode != "" && journalMode(db) != mode {
		if _, err := db.Query("PRAGMA journal_mode=" + mode); err != nil {
			return rep, fmt.Errorf("the objects are removed, but the journal mode could not be set back to %s: %w", mode, err)
		}
		rep.JournalMode = mode
	}
	return rep, nil
}

// logSetup creates the change log (capture.Log's columns) when it is missing.
const logSetup = `CREATE TABLE IF NOT EXISTS "_nakedhtmx_changes" (
  seq INTEGER PRIMARY KEY,
  tbl TEXT NOT NULL,
  op TEXT NOT NULL,
  key TEXT NOT NULL,
  old_key TEXT,
  old TEXT,
  new TEXT,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  dsid TEXT
);
CREATE INDEX IF NOT EXISTS "_nakedhtmx_changes_row" ON "_nakedhtmx_changes" (tbl, key, seq);`

// dsidSetup creates the DSID history (dsid.Table) when it is missing.
const dsidSetup = `CREATE TABLE IF NOT EXISTS "_nakedhtmx_dsid" (
  seq INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  snapshot TEXT NOT NULL
)`
