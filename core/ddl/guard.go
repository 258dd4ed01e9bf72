package ddl

import "strings"

// Refusal names what a piece of SQL may not do, or is "" when it may run:
// the guard on SQL a caller sends (migrations), the same on every host. It
// reads the tokens (so quoting, comments and strings cannot hide a word):
// no ATTACH or DETACH (another file), no VACUUM (VACUUM INTO writes a file
// anywhere), no PRAGMA (writable ones change how the file is kept, and
// nakedhtmx sets the ones it needs), no load_extension, and no name of
// nakedhtmx's own objects (_nakedhtmx_...) or of any name forbidden says no
// to (tables the config hides).
func Refusal(sql string, forbidden func(name string) bool) string {
	toks := lex(sql)
	for _, t := range toks {
		switch {
		case t.kind == tIllegal:
			return "the SQL has an unterminated quote or a character SQLite does not take"
		case t.is("ATTACH") || t.is("DETACH"):
			return "ATTACH and DETACH are not allowed: a migration stays inside this database"
		case t.is("VACUUM"):
			return "VACUUM is not allowed in a migration"
		case t.is("PRAGMA"):
			return "PRAGMA is not allowed in a migration"
		case t.kind == tWord && strings.EqualFold(t.text, "load_extension"):
			return "load_extension is not allowed"
		case t.kind == tWord || t.kind == tQuoted || t.kind == tString:
			// Strings too: SQLite takes 'name' for a table name in places.
			name := t.name()
			if strings.HasPrefix(strings.ToLower(name), "_nakedhtmx_") || strings.HasPrefix(strings.ToLower(name), "sqlite_") {
				return "a migration may not name " + name + ": it is nakedhtmx's or SQLite's own"
			}
			if forbidden != nil && forbidden(name) {
				return "a migration may not name " + name
			}
		}
	}
	return ""
}
