// Package capture is data change capture: the change log table and the
// triggers that feed it, in the user's database, so that every write is seen
// whoever makes it (this server, the sqlite3 shell, another process or host).
//
// The triggers record only the table, the operation and the row's key, never
// other columns: a trigger that names a column makes SQLite refuse
// `ALTER TABLE ... DROP COLUMN` on it, and nakedhtmx must never stand in the
// way of a user's migration. Row values are filled in by the core (exactly, in
// the same transaction, for its own writes; from the row as it is when the
// change is read, for outside writes).
package capture

import (
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// Log is the change log table. Its seq is the id of every live event, change
// and schema alike. An id is never reused: pruning always keeps the newest
// entry, so a new one numbers on from it. (Not AUTOINCREMENT, which would add
// a sqlite_sequence table to the user's file that nothing can remove again.)
const Log = "_nakedhtmx_changes"

const triggerPrefix = "_nakedhtmx_trg_"

// Setup creates the log when it is missing.
const Setup = `CREATE TABLE IF NOT EXISTS "_nakedhtmx_changes" (
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

// dsidExpr is the current DSID, read by the trigger at the time of the write.
const dsidExpr = `(SELECT seq || '-' || hash FROM "_nakedhtmx_dsid" ORDER BY seq DESC LIMIT 1)`

// keyExpr is the JSON array of a row's key as a trigger sees it. A BLOB
// cannot go into JSON, so one becomes its hex text (keys that are BLOBs are
// rare; the write must never fail because of the log).
func keyExpr(t *model.Table, row string) string {
	if t.HasRowidKey() {
		return "json_array(" + row + ".rowid)"
	}
	parts := make([]string, len(t.PK))
	for i, c := range t.PK {
		ref := row + "." + sqldb.Ident(c.Name)
		parts[i] = "CASE WHEN typeof(" + ref + ") = 'blob' THEN hex(" + ref + ") ELSE " + ref + " END"
	}
	return "json_array(" + strings.Join(parts, ", ") + ")"
}

// Triggers returns the three triggers of a table by name.
func Triggers(t *model.Table) map[string]string {
	tbl := sqldb.Literal(t.Name)
	insert := `INSERT INTO "_nakedhtmx_changes" (tbl, op, key, old_key, dsid) VALUES (` + tbl + `, `
	out := map[string]string{}
	name := triggerPrefix + "ins_" + t.Name
	out[name] = "CREATE TRIGGER " + sqldb.Ident(name) + " AFTER INSERT ON " + sqldb.Ident(t.Name) +
		" BEGIN " + insert + "'insert', " + keyExpr(t, "NEW") + ", NULL, " + dsidExpr + "); END"
	name = triggerPrefix + "upd_" + t.Name
	out[name] = "CREATE TRIGGER " + sqldb.Ident(name) + " AFTER UPDATE ON " + sqldb.Ident(t.Name) +
		" BEGIN " + insert + "'update', " + keyExpr(t, "NEW") + ", CASE WHEN " + keyExpr(t, "OLD") + " = " + keyExpr(t, "NEW") +
		" THEN NULL ELSE " + keyExpr(t, "OLD") + " END, " + dsidExpr + "); END"
	name = triggerPrefix + "del_" + t.Name
	out[name] = "CREATE TRIGGER " + sqldb.Ident(name) + " AFTER DELETE ON " + sqldb.Ident(t.Name) +
		" BEGIN " + insert + "'delete', " + keyExpr(t, "OLD") + ", NULL, " + dsidExpr + "); END"
	return out
}

// Sync makes the triggers match the tables: it creates the missing ones,
// re-creates those whose text changed (SQLite rewrites a trigger's text when
// a column it names is renamed), and drops those of tables that are gone or
// were renamed. It returns whether it changed anything.
func Sync(db sqldb.DB, d *model.Database) (bool, error) {
	want := map[string]string{}
	for _, t := range d.Tables {
		if t.View {
			continue
		}
		for n, sql := range Triggers(t) {
			want[n] = sql
		}
	}
	rows, err := db.Query(`SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND substr(name, 1, ?) = ?`,
		int64(len(triggerPrefix)), triggerPrefix)
	if err != nil {
		return false, err
	}
	have := map[string]string{}
	for _, r := range rows.Values {
		have[sqldb.Text(r[0])] = sqldb.Text(r[1])
	}
	var stmts []string
	for n, sql := range have {
		if want[n] != sql {
			stmts = append(stmts, "DROP TRIGGER IF EXISTS "+sqldb.Ident(n))
		}
	}
	for n, sql := range want {
		if have[n] != sql {
			stmts = append(stmts, sql)
		}
	}
	if len(stmts) == 0 {
		return false, nil
	}
	if _, err := db.Exec("BEGIN IMMEDIATE"); err != nil {
		return false, err
	}
	for _, s := range stmts {
		if err := db.Script(s); err != nil {
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

// Entry is one row of the change log.
type Entry struct {
	Seq    int64
	Table  string
	Op     string // insert, update, delete, schema
	Key    string // JSON array
	OldKey string // JSON array, for an update that changed the key
	Old    string // JSON object, or ""
	New    string // JSON object, or ""
	At     string
	DSID   string
}

const entryColumns = `seq, tbl, op, key, coalesce(old_key, ''), coalesce(old, ''), coalesce(new, ''), at, coalesce(dsid, '')`

func readEntries(rs *sqldb.Rows) []Entry {
	out := make([]Entry, len(rs.Values))
	for i, r := range rs.Values {
		seq, _ := sqldb.Int(r[0])
		out[i] = Entry{Seq: seq, Table: sqldb.Text(r[1]), Op: sqldb.Text(r[2]), Key: sqldb.Text(r[3]), OldKey: sqldb.Text(r[4]),
			Old: sqldb.Text(r[5]), New: sqldb.Text(r[6]), At: sqldb.Text(r[7]), DSID: sqldb.Text(r[8])}
	}
	return out
}

// After reads up to limit entries past seq, in order.
func After(db sqldb.DB, seq int64, limit int) ([]Entry, error) {
	rs, err := db.Query(`SELECT `+entryColumns+` FROM "_nakedhtmx_changes" WHERE seq > ? ORDER BY seq LIMIT ?`, seq, int64(limit))
	if err != nil {
		return nil, err
	}
	return readEntries(rs), nil
}

// ForRow reads the entries of one row, newest first.
func ForRow(db sqldb.DB, table, key string, limit int) ([]Entry, error) {
	rs, err := db.Query(`SELECT `+entryColumns+` FROM "_nakedhtmx_changes" WHERE tbl = ? AND (key = ? OR old_key = ?) ORDER BY seq DESC LIMIT ?`,
		table, key, key, int64(limit))
	if err != nil {
		return nil, err
	}
	return readEntries(rs), nil
}

// ForTable reads the newest entries of one table.
func ForTable(db sqldb.DB, table string, limit int) ([]Entry, error) {
	rs, err := db.Query(`SELECT `+entryColumns+` FROM "_nakedhtmx_changes" WHERE tbl = ? ORDER BY seq DESC LIMIT ?`, table, int64(limit))
	if err != nil {
		return nil, err
	}
	return readEntries(rs), nil
}

// Bounds returns the first and last seq the log holds (0, 0 when empty).
func Bounds(db sqldb.DB) (first, last int64, err error) {
	rs, err := db.Query(`SELECT coalesce(min(seq), 0), coalesce(max(seq), 0) FROM "_nakedhtmx_changes"`)
	if err != nil || len(rs.Values) == 0 {
		return 0, 0, err
	}
	first, _ = sqldb.Int(rs.Values[0][0])
	last, _ = sqldb.Int(rs.Values[0][1])
	if last == 0 {
		// An emptied log (an older version's) still numbers on.
		if seq, ok, err := Sequence(db); err == nil && ok {
			last, first = seq, seq+1
		}
	}
	return first, last, nil
}

// Sequence is the seq of the newest entry ever made. It never goes back
// (pruning keeps the newest entry) and moves in the transaction of every
// captured write; ok is false before the first entry.
func Sequence(db sqldb.DB) (seq int64, ok bool, err error) {
	rs, err := db.Query(`SELECT max(seq) FROM "_nakedhtmx_changes"`)
	if err != nil || len(rs.Values) != 1 {
		return 0, false, err
	}
	if seq, ok = sqldb.Int(rs.Values[0][0]); ok {
		return seq, true, nil
	}
	// An empty log made by an older version (AUTOINCREMENT) still numbers on
	// from sqlite_sequence; on any other file that table may not exist.
	if rs, err := db.Query(`SELECT seq FROM sqlite_sequence WHERE name = ?`, Log); err == nil && len(rs.Values) == 1 {
		seq, ok = sqldb.Int(rs.Values[0][0])
	}
	return seq, ok, nil
}

// Fill stores the values of a change (JSON objects) unless someone did already.
func Fill(db sqldb.DB, seq int64, old, new string) error {
	_, err := db.Exec(`UPDATE "_nakedhtmx_changes" SET old = coalesce(old, ?), new = coalesce(new, ?) WHERE seq = ?`,
		nullIfEmpty(old), nullIfEmpty(new), seq)
	return err
}

// PreviousImage is the newest known values of a row before seq.
func PreviousImage(db sqldb.DB, table, key string, before int64) (string, error) {
	rs, err := db.Query(`SELECT new FROM "_nakedhtmx_changes" WHERE tbl = ? AND key = ? AND seq < ? AND new IS NOT NULL ORDER BY seq DESC LIMIT 1`,
		table, key, before)
	if err != nil || len(rs.Values) == 0 {
		return "", err
	}
	return sqldb.Text(rs.Values[0][0]), nil
}

// AddSchema appends a schema event; the caller runs it in the transaction
// that stored the new DSID, so exactly one process announces each change.
func AddSchema(db sqldb.DB, dsid, data string) error {
	_, err := db.Exec(`INSERT INTO "_nakedhtmx_changes" (tbl, op, key, new, dsid) VALUES ('', 'schema', '[]', ?, ?)`, data, dsid)
	return err
}

// Prune drops entries beyond the newest maxRows and older than maxAgeHours,
// but never one past sent: entries not yet announced stay, whatever a burst
// between two ticks did to the count.
func Prune(db sqldb.DB, maxRows, maxAgeHours, sent int64) error {
	// The newest entry always stays: the next id numbers on from it.
	_, err := db.Exec(`DELETE FROM "_nakedhtmx_changes" WHERE seq <= ? AND seq < (SELECT max(seq) FROM "_nakedhtmx_changes") AND (seq <= (SELECT max(seq) FROM "_nakedhtmx_changes") - ? OR at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?))`,
		sent, maxRows, "-"+itoa(maxAgeHours)+" hours")
	return err
}

func itoa(n int64) string { return sqldb.FormatNumber(n) }

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
