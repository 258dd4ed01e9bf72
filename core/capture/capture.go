// Package capture is data change capture: the change log table, in the
// user's database, and how the core reads and fills it. Each store's
// triggers feed it (core/store/...: SQLite's are in sqlite/capture.go), so
// that every write is seen whoever makes it (this server, the sqlite3 shell,
// another process or host).
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

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// Log is the change log table. Its seq is the id of every live event, change
// and schema alike. An id is never reused: pruning always keeps the newest
// entry, so a new one numbers on from it. (Not AUTOINCREMENT, which would add
// a sqlite_sequence table to the user's file that nothing can remove again.)
const Log = "_nakedhtmx_changes"

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
func Bounds(db sqldb.DB, floor Floor) (first, last int64, err error) {
	rs, err := db.Query(`SELECT coalesce(min(seq), 0), coalesce(max(seq), 0) FROM "_nakedhtmx_changes"`)
	if err != nil || len(rs.Values) == 0 {
		return 0, 0, err
	}
	first, _ = sqldb.Int(rs.Values[0][0])
	last, _ = sqldb.Int(rs.Values[0][1])
	if last == 0 {
		// An emptied log (an older version's) still numbers on.
		if seq, ok, err := Sequence(db, floor); err == nil && ok {
			last, first = seq, seq+1
		}
	}
	return first, last, nil
}

// Floor is where an empty log numbers on from (store.Store.LogFloor).
type Floor func(db sqldb.DB) (int64, bool)

// Sequence is the seq of the newest entry ever made. It never goes back
// (pruning keeps the newest entry) and moves in the transaction of every
// captured write; ok is false before the first entry.
func Sequence(db sqldb.DB, floor Floor) (seq int64, ok bool, err error) {
	rs, err := db.Query(`SELECT max(seq) FROM "_nakedhtmx_changes"`)
	if err != nil || len(rs.Values) != 1 {
		return 0, false, err
	}
	if seq, ok = sqldb.Int(rs.Values[0][0]); ok {
		return seq, true, nil
	}
	seq, ok = floor(db)
	return seq, ok, nil
}

// Fill stores the values of a change (JSON objects) unless someone did already.
func Fill(db sqldb.DB, seq int64, old, new string) error {
	_, err := db.Exec(`UPDATE "_nakedhtmx_changes" SET old = coalesce(old, ?), new = coalesce(new, ?) WHERE seq = ?`,
		nullIfEmpty(old), nullIfEmpty(new), seq)
	return err
}

// FillNewest stores the values of a write just made to table in its log
// entry, the newest of that table's (the writer holds the write lock): one
// statement where finding the entry and filling it were two. Appending an
// empty string to tbl keeps the store off the (tbl, key, seq) index, where the newest entry of
// one table meant visiting every entry of that table, and creates slowed
// down as the log grew; walking back from the log's end finds it at once.
func FillNewest(db sqldb.DB, table, old, new string) error {
	_, err := db.Exec(`UPDATE "_nakedhtmx_changes" SET old = coalesce(old, ?), new = coalesce(new, ?) WHERE seq = `+
		`(SELECT seq FROM "_nakedhtmx_changes" WHERE tbl || '' = ? ORDER BY seq DESC LIMIT 1)`,
		nullIfEmpty(old), nullIfEmpty(new), table)
	return err
}

// FillAfter stores the values of rows just written to table in their log
// entries: each the one with its key after seq (a write of several rows in
// one statement logged them after seq, one entry each). One statement for
// all of them (a round trip on Postgres), in SQL both stores speak.
func FillAfter(db sqldb.DB, table string, seq int64, keys, news []string) error {
	if len(keys) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, 0, 3*len(keys)+2)
	b.WriteString(`UPDATE "_nakedhtmx_changes" SET new = coalesce(new, CASE key`)
	for i := range keys {
		b.WriteString(" WHEN ? THEN ?")
		args = append(args, keys[i], news[i])
	}
	b.WriteString(` END) WHERE seq > ? AND tbl = ? AND key IN (`)
	args = append(args, seq, table)
	for i := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("?")
		args = append(args, keys[i])
	}
	b.WriteString(")")
	_, err := db.Exec(b.String(), args...)
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

// AtFormat is how the log's at column spells a time: ISO 8601 in UTC with
// milliseconds, so times compare as text.
const AtFormat = "2006-01-02T15:04:05.000Z"

// Prune drops entries beyond the newest maxRows and older than before (in
// AtFormat), but never one past sent: entries not yet announced stay,
// whatever a burst between two ticks did to the count.
func Prune(db sqldb.DB, maxRows int64, before string, sent int64) error {
	// The newest entry always stays: the next id numbers on from it.
	_, err := db.Exec(`DELETE FROM "_nakedhtmx_changes" WHERE seq <= ? AND seq < (SELECT max(seq) FROM "_nakedhtmx_changes") AND (seq <= (SELECT max(seq) FROM "_nakedhtmx_changes") - ? OR at < ?)`,
		sent, maxRows, before)
	return err
}

// Forget drops the entries past seq: what a local copy wrote as it stored
// its server's rows (engine/replica.go), which are no change of its own.
func Forget(db sqldb.DB, seq int64) error {
	_, err := db.Exec(`DELETE FROM "_nakedhtmx_changes" WHERE seq > ?`, seq)
	return err
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
