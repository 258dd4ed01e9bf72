package sqlite

import (
	"errors"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// codeNames are SQLite's primary result code names, the `code` the core sees
// (PROTOCOL.md, "SQL"). Extended codes are folded into their primary code
// because that is all node:sqlite and bun:sqlite report reliably.
var codeNames = map[sqlite3.ErrorCode]string{
	sqlite3.ERROR:      "SQLITE_ERROR",
	sqlite3.INTERNAL:   "SQLITE_INTERNAL",
	sqlite3.PERM:       "SQLITE_PERM",
	sqlite3.ABORT:      "SQLITE_ABORT",
	sqlite3.BUSY:       "SQLITE_BUSY",
	sqlite3.LOCKED:     "SQLITE_LOCKED",
	sqlite3.NOMEM:      "SQLITE_NOMEM",
	sqlite3.READONLY:   "SQLITE_READONLY",
	sqlite3.INTERRUPT:  "SQLITE_INTERRUPT",
	sqlite3.IOERR:      "SQLITE_IOERR",
	sqlite3.CORRUPT:    "SQLITE_CORRUPT",
	sqlite3.NOTFOUND:   "SQLITE_NOTFOUND",
	sqlite3.FULL:       "SQLITE_FULL",
	sqlite3.CANTOPEN:   "SQLITE_CANTOPEN",
	sqlite3.PROTOCOL:   "SQLITE_PROTOCOL",
	sqlite3.EMPTY:      "SQLITE_EMPTY",
	sqlite3.SCHEMA:     "SQLITE_SCHEMA",
	sqlite3.TOOBIG:     "SQLITE_TOOBIG",
	sqlite3.CONSTRAINT: "SQLITE_CONSTRAINT",
	sqlite3.MISMATCH:   "SQLITE_MISMATCH",
	sqlite3.MISUSE:     "SQLITE_MISUSE",
	sqlite3.NOLFS:      "SQLITE_NOLFS",
	sqlite3.AUTH:       "SQLITE_AUTH",
	sqlite3.FORMAT:     "SQLITE_FORMAT",
	sqlite3.RANGE:      "SQLITE_RANGE",
	sqlite3.NOTADB:     "SQLITE_NOTADB",
	sqlite3.NOTICE:     "SQLITE_NOTICE",
	sqlite3.WARNING:    "SQLITE_WARNING",
}

// convert turns a go-sqlite3 error into an *sqldb.Error whose message is
// SQLite's own sqlite3_errmsg text ("UNIQUE constraint failed: t.a"), the
// same text the JS hosts' SQLite bindings report, so that any message the core
// shows reads the same on every host. Other errors pass through.
func convert(err error) error {
	if err == nil {
		return nil
	}
	var code sqlite3.ErrorCode
	if !errors.As(err, &code) {
		return err
	}
	name := codeNames[code]
	if name == "" {
		name = "SQLITE_ERROR"
	}
	return &sqldb.Error{Code: name, Message: message(err)}
}

// message undoes go-sqlite3's decoration: its Error() is "sqlite3: " plus the
// generic text of the (extended) code, then ": " and the specific message when
// SQLite gave one that differs from the generic text, then ": " and the
// operating-system error, if any.
func message(err error) string {
	s := err.Error()
	if errors.Unwrap(err) != nil {
		// An operating-system error follows the generic text, which is then
		// the useful half: "unable to open database file: open x: permission denied".
		return strings.TrimPrefix(s, "sqlite3: ")
	}
	var generic string
	var xcode sqlite3.ExtendedErrorCode
	if errors.As(err, &xcode) {
		generic = xcode.Error()
	}
	if generic != "" && strings.HasPrefix(s, generic+": ") {
		return s[len(generic)+2:]
	}
	return strings.TrimPrefix(s, "sqlite3: ")
}

// diskFull is what a write that failed for want of space is reported as.
var diskFull = &sqldb.Error{Code: "SQLITE_FULL", Message: "database or disk is full"}

// nearlyFull is the free space under which a failed write is put down to a
// full disk: a failed write needed at most a few pages of WAL.
const nearlyFull = 1 << 20

// diagnose tells a full disk from other I/O errors. go-sqlite3's VFS looks
// for ENOSPC as a bare errno, but os.File wraps it in a PathError, and the
// system error is cleared by the VFS calls SQLite makes after the failed
// write; so a full disk arrives as a plain "disk I/O error" with no cause to
// inspect. SQLite's own VFS (node:sqlite, bun:sqlite) says SQLITE_FULL: when
// the disk holding the file is (nearly) out of space, say the same.
func (db *DB) diagnose(err error) error {
	if sqldb.Code(err) != "SQLITE_IOERR" {
		return err
	}
	if free, ok := freeBytes(db.path); ok && free < nearlyFull {
		return diskFull
	}
	return err
}
