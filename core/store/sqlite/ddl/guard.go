package ddl

import (
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/store"
)

// Rules are what the config keeps from a migration, by name (store.Rules).
type Rules = store.Rules

// Refusal names what a piece of SQL may not do, or is "" when it may run:
// the guard on SQL a caller sends (migrations), the same on every host. It
// reads the tokens (so quoting, comments and strings cannot hide a word):
// no ATTACH or DETACH (another file), no VACUUM (VACUUM INTO writes a file
// anywhere), no PRAGMA (writable ones change how the file is kept, and
// nakedhtmx sets the ones it needs), no load_extension, and no name of
// nakedhtmx's own objects (_nakedhtmx_...) or of a table the config hides.
//
// The store's authorizer then holds every statement to the same rules as
// SQLite compiles it (sqldb.Guard). Two things it cannot see are refused
// here, failing closed: SQL that creates a view or trigger and names a
// hidden column's name (they compile later, on the server's connection;
// the store also compiles what a new view or trigger does, sqldb.Guard),
// and a RENAME in SQL that names a hidden column or a table with one (the
// config holds them by name: renamed, they would show).
func Refusal(sql string, r Rules) string {
	toks := lex(sql)
	if r.HiddenColumn != nil && createsViewOrTrigger(toks) {
		for _, t := range toks {
			if t.isName() && r.HiddenColumn(t.name()) {
				return "a view or trigger may not name " + t.name() + ": a column of that name is hidden"
			}
		}
	}
	if hasWord(toks, "RENAME") {
		for _, t := range toks {
			if t.isName() && (r.HiddenColumn != nil && r.HiddenColumn(t.name()) || r.Guarded != nil && r.Guarded(t.name())) {
				return "a migration may not rename " + t.name() + " or anything beside it: the config hides part of it by name (change the config first)"
			}
		}
	}
	forbidden := r.HiddenTable
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

// createsViewOrTrigger: CREATE [TEMP|TEMPORARY] VIEW or TRIGGER somewhere.
func createsViewOrTrigger(toks []token) bool {
	for i, t := range toks {
		if !t.is("CREATE") {
			continue
		}
		j := i + 1
		if j < len(toks) && (toks[j].is("TEMP") || toks[j].is("TEMPORARY")) {
			j++
		}
		if j < len(toks) && (toks[j].is("VIEW") || toks[j].is("TRIGGER")) {
			return true
		}
	}
	return false
}

func hasWord(toks []token, kw string) bool {
	for _, t := range toks {
		if t.is(kw) {
			return true
		}
	}
	return false
}
