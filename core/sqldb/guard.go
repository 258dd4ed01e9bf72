package sqldb

import "strings"

// Guard is how SQL a caller sent (a migration) runs: as a script in a
// transaction of its own, under the store's authorizer and the request's
// time limit (bindings/PROTOCOL.md, "Caller SQL"). The core decides what it
// holds; each store enforces it where SQLite gives a hook (the authorizer
// callback), with Authorize as the one rule.
type Guard struct {
	// Hidden are what the config hides: no statement may read, write or
	// change them (Column "" for a whole table).
	Hidden []Name `json:"hidden,omitempty"`
	// ReadOnly are what the config makes read-only: no row of them may be
	// inserted, updated or deleted (their structure stays the admin's).
	ReadOnly []Name `json:"readOnly,omitempty"`
	// Dry rolls the transaction back at the end: the SQL is tried (a
	// jetstream node checks a migration before publishing it), nothing kept.
	Dry bool `json:"dry,omitempty"`
}

// Name is a table, or one column of it.
type Name struct {
	Table  string `json:"table"`
	Column string `json:"column,omitempty"`
}

// SQLite's authorizer action codes (https://sqlite.org/c3ref/c_alter_table.html).
const (
	AuthCreateIndex      = 1
	AuthCreateTable      = 2
	AuthCreateTempIndex  = 3
	AuthCreateTempTable  = 4
	AuthCreateTempTrig   = 5
	AuthCreateTempView   = 6
	AuthCreateTrigger    = 7
	AuthCreateView       = 8
	AuthDelete           = 9
	AuthDropIndex        = 10
	AuthDropTable        = 11
	AuthDropTempIndex    = 12
	AuthDropTempTable    = 13
	AuthDropTempTrigger  = 14
	AuthDropTempView     = 15
	AuthDropTrigger      = 16
	AuthDropView         = 17
	AuthInsert           = 18
	AuthPragma           = 19
	AuthRead             = 20
	AuthSelect           = 21
	AuthTransaction      = 22
	AuthUpdate           = 23
	AuthAttach           = 24
	AuthDetach           = 25
	AuthAlterTable       = 26
	AuthReindex          = 27
	AuthAnalyze          = 28
	AuthCreateVTable     = 29
	AuthDropVTable       = 30
	AuthFunction         = 31
	AuthSavepoint        = 32
	AuthRecursive        = 33
	authLastKnownAction  = AuthRecursive
	authSchemaTableCount = 5
)

// schemaTables are SQLite's own tables that DDL reads and writes by itself
// (and AUTOINCREMENT's counter): the authorizer is asked about them for an
// ordinary CREATE or DROP, so they are let through here; a caller's text
// naming them is refused before it runs (ddl.Refusal).
var schemaTables = [authSchemaTableCount]string{"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema", "sqlite_sequence"}

// deniedFunctions reach outside the database or into SQLite's internals.
var deniedFunctions = []string{"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "sqlite_dbpage"}

// DeniedFunction says why a caller's SQL may not call f, or "".
func DeniedFunction(f string) string {
	for _, d := range deniedFunctions {
		if strings.EqualFold(f, d) {
			return "the function " + f + " is not allowed"
		}
	}
	return ""
}

// Authorize is the authorizer's rule for caller SQL: "" to let SQLite go on,
// or why not. arg1, arg2 and inner are the callback's third, fourth and
// sixth arguments ("" for NULL); inner names the trigger or view the access
// comes from.
func (g *Guard) Authorize(action int, arg1, arg2, inner string) string {
	switch action {
	case AuthAttach, AuthDetach:
		return "ATTACH and DETACH are not allowed: the SQL stays inside this database"
	case AuthPragma:
		return "PRAGMA is not allowed here"
	case AuthTransaction, AuthSavepoint:
		return "the SQL runs in a transaction of its own: BEGIN, COMMIT, ROLLBACK and SAVEPOINT are not allowed"
	case AuthCreateTempIndex, AuthCreateTempTable, AuthCreateTempTrig, AuthCreateTempView:
		return "TEMP objects are not allowed: they would outlive the SQL on the server's connection"
	case AuthFunction:
		return DeniedFunction(arg2)
	case AuthSelect, AuthRecursive, AuthAnalyze, AuthReindex:
		return ""
	}
	if action < 1 || action > authLastKnownAction {
		return "an operation SQLite added after this version of nakedhtmx is not allowed"
	}
	if own(inner) {
		return "" // nakedhtmx's own change-capture trigger, fired by an allowed write
	}
	// Which arguments name a table (or an object on one) for this action.
	var table, object, column string
	switch action {
	case AuthRead, AuthUpdate:
		table, column = arg1, arg2
	case AuthInsert, AuthDelete, AuthDropTable, AuthCreateTable, AuthDropTempTable:
		table = arg1
	case AuthCreateIndex, AuthCreateTrigger, AuthDropIndex, AuthDropTrigger, AuthDropTempIndex, AuthDropTempTrigger:
		object, table = arg1, arg2
	case AuthCreateView, AuthDropView, AuthDropTempView, AuthCreateVTable, AuthDropVTable:
		table = arg1
	case AuthAlterTable:
		table = arg2
	}
	for _, n := range []string{table, object} {
		if own(n) {
			return "nakedhtmx's own objects (" + n + ") are not for caller SQL"
		}
		if strings.HasPrefix(strings.ToLower(n), "sqlite_") && !isSchemaTable(n) {
			return "SQLite's own tables (" + n + ") are not for caller SQL"
		}
	}
	if matches(g.Hidden, table, column) {
		return "no such table or column" // hidden: not even its name is confirmed
	}
	switch action {
	case AuthInsert, AuthDelete:
		if matches(g.ReadOnly, table, "") {
			return table + " is read-only"
		}
	case AuthUpdate:
		if matches(g.ReadOnly, table, column) {
			return table + "." + column + " is read-only"
		}
	}
	return ""
}

func own(name string) bool { return strings.HasPrefix(strings.ToLower(name), "_nakedhtmx_") }

func isSchemaTable(name string) bool {
	for _, s := range schemaTables {
		if strings.EqualFold(name, s) {
			return true
		}
	}
	return false
}

// matches: a whole table in names, or (with a column) that column of it.
func matches(names []Name, table, column string) bool {
	if table == "" {
		return false
	}
	for _, n := range names {
		if strings.EqualFold(n.Table, table) && (n.Column == "" || column != "" && strings.EqualFold(n.Column, column)) {
			return true
		}
	}
	return false
}
