package sqldb

import "strings"

// Read is how a caller's read-only statement runs (the SQL page and stored
// queries; bindings/PROTOCOL.md, "Caller reads"). The core has already
// checked it against its store (store.Store.InspectRead): one statement,
// reading only what the caller may see. The host runs it as a second wall:
// on a read-only connection or under the authorizer (AuthorizeRead), within
// LimitMs, and answers at most MaxRows+1 rows (the core tells a truncated
// answer by the extra one).
type Read struct {
	MaxRows int   `json:"maxRows"`
	LimitMs int64 `json:"limitMs"`
	// Hidden are what the config hides (Guard.Hidden).
	Hidden []Name `json:"hidden,omitempty"`
}

// Reader is a DB that can run a caller's read (Read); every host's is.
type Reader interface {
	Read(sql string, args []any, r Read) (*Rows, error)
}

// RunRead runs a caller's read on db, or says it cannot.
func RunRead(db DB, sql string, args []any, r Read) (*Rows, error) {
	if rd, ok := db.(Reader); ok {
		return rd.Read(sql, args, r)
	}
	return nil, &Error{Code: "SQLITE_MISUSE", Message: "this host cannot run a caller's read"}
}

// AuthorizeRead is the authorizer's rule for a caller's read, where a host
// has an authorizer: a SELECT reading the user's tables and columns the
// config does not hide, calling functions that stay inside the database.
// Anything else is refused: "" lets SQLite go on.
func (r *Read) AuthorizeRead(action int, arg1, arg2, inner string) string {
	switch action {
	case AuthSelect, AuthRecursive:
		return ""
	case AuthFunction:
		return DeniedFunction(arg2)
	case AuthRead:
		switch {
		case own(arg1):
			return "no such table: " + arg1
		case strings.EqualFold(arg1, "sqlite_dbpage"):
			return "SQLite's own tables (" + arg1 + ") are not for caller SQL"
		case matches(r.Hidden, arg1, arg2):
			return "no such table or column"
		}
		return ""
	}
	return "only a read may run here: one SELECT, WITH or VALUES statement"
}
