// Package dsid keeps the database schema id (DSID) in the database itself.
//
// A DSID is "SEQ-HASH": HASH is a content hash of the canonical schema set
// (every user table's JSON Schema, see core/schema.Set), so identical schemas
// hash the same on every host and node; SEQ counts the distinct schema
// versions this database has seen, in order, so DSIDs sort by age. A snapshot
// of the schema set is stored with every DSID, for remapping stale writes.
package dsid

import (
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// Table is where DSIDs and their snapshots live.
const Table = "_nakedhtmx_dsid"

// Format makes a DSID string.
func Format(seq int64, hash string) string { return strconv.FormatInt(seq, 10) + "-" + hash }

// Parse splits a DSID string.
func Parse(s string) (seq int64, hash string, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found || b == "" {
		return 0, "", false
	}
	n, err := strconv.ParseInt(a, 10, 64)
	if err != nil || n < 0 {
		return 0, "", false
	}
	return n, b, true
}

// NewFunc is called inside the transaction that stores a new DSID, with the
// DSID before it ("" for the first) and that one's snapshot, so a caller can
// record the change atomically with it.
type NewFunc func(prevID string, prevSnapshot []byte, id string) error

// Ensure returns the DSID of the schema set with the given hash, storing a new
// one (with its snapshot) when the latest stored DSID has another hash. Two
// processes racing here agree: the check and insert run in one write
// transaction (begin: the store's BeginWrite, which takes the write lock at
// once). The store's Install made the table. A database that cannot be
// written gets sequence 0.
func Ensure(db sqldb.DB, begin func(sqldb.DB) error, hash string, snapshot []byte, onNew NewFunc) (string, error) {
	if seq, h, err := latest(db); err == nil && h == hash {
		return Format(seq, h), nil
	}
	if err := begin(db); err != nil {
		if sqldb.Code(err) == "SQLITE_READONLY" {
			return Format(0, hash), nil
		}
		return "", err
	}
	seq, h, err := latest(db)
	if err == nil && h != hash {
		prevID := ""
		var prevSnap []byte
		if seq > 0 {
			prevID = Format(seq, h)
			prevSnap, err = Snapshot(db, prevID)
		}
		seq++
		if err == nil {
			_, err = db.Exec(`INSERT INTO "_nakedhtmx_dsid" (seq, hash, snapshot) VALUES (?, ?, ?)`, seq, hash, string(snapshot))
		}
		if err == nil && onNew != nil {
			err = onNew(prevID, prevSnap, Format(seq, hash))
		}
	}
	if err != nil {
		db.Exec("ROLLBACK")
		return "", err
	}
	if _, err := db.Exec("COMMIT"); err != nil {
		db.Exec("ROLLBACK")
		return "", err
	}
	return Format(seq, hash), nil
}

func latest(db sqldb.DB) (int64, string, error) {
	rows, err := db.Query(`SELECT seq, hash FROM "_nakedhtmx_dsid" ORDER BY seq DESC LIMIT 1`)
	if err != nil {
		return 0, "", err
	}
	if len(rows.Values) == 0 {
		return 0, "", nil
	}
	seq, _ := sqldb.Int(rows.Values[0][0])
	h, _ := rows.Values[0][1].(string)
	return seq, h, nil
}

// Snapshot returns the schema set stored for a DSID, or nil when unknown.
func Snapshot(db sqldb.DB, id string) ([]byte, error) {
	seq, hash, ok := Parse(id)
	if !ok {
		return nil, nil
	}
	rows, err := db.Query(`SELECT snapshot FROM "_nakedhtmx_dsid" WHERE seq = ? AND hash = ?`, seq, hash)
	if err != nil || len(rows.Values) == 0 {
		return nil, err
	}
	s, _ := rows.Values[0][0].(string)
	return []byte(s), nil
}
