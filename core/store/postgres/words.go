package postgres

// The migration words on Postgres. Postgres has no authorizer callback, so
// the words are the whole guard beside the role's own rights, and they fail
// closed: what they cannot read for sure is refused.

import (
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

// statementWords may not begin a statement: they reach outside the
// database or the migration's own transaction, or change who runs it.
var statementWords = map[string]string{
	"copy": "COPY reads and writes files and programs", "do": "DO runs code", "load": "LOAD loads a library",
	"set": "SET changes the session", "reset": "RESET changes the session", "grant": "GRANT changes rights",
	"revoke": "REVOKE changes rights", "vacuum": "VACUUM cannot run in a migration", "begin": "the migration runs in a transaction of its own",
	"commit": "the migration runs in a transaction of its own", "rollback": "the migration runs in a transaction of its own",
	"savepoint": "the migration runs in a transaction of its own", "start": "the migration runs in a transaction of its own",
	"end": "the migration runs in a transaction of its own", "abort": "the migration runs in a transaction of its own",
	"prepare": "PREPARE is not for migrations", "execute": "EXECUTE is not for migrations", "listen": "LISTEN is not for migrations",
	"notify": "NOTIFY is not for migrations", "discard": "DISCARD changes the session", "checkpoint": "CHECKPOINT is the server's",
	"security": "SECURITY LABEL is not for migrations", "import": "IMPORT FOREIGN SCHEMA reaches another server",
	"call": "CALL runs code", "lock": "LOCK is not for migrations",
}

// objectWords may not follow CREATE, ALTER or DROP: objects beyond the
// served schema's tables, views, indexes, types and sequences.
var objectWords = map[string]bool{
	"function": true, "procedure": true, "language": true, "extension": true, "role": true, "user": true,
	"database": true, "schema": true, "tablespace": true, "server": true, "subscription": true, "publication": true,
	"system": true, "event": true, "rule": true, "policy": true, "foreign": true, "aggregate": true, "operator": true,
	"cast": true, "conversion": true, "transform": true, "trigger": true, "default": true, "group": true, "owned": true,
}

// MigrationRefusal reads the SQL's words: no dollar quoting (no function
// bodies), no statement of statementWords, no CREATE/ALTER/DROP of
// objectWords, no name of the project's own ("_nakedhtmx..."), of the
// server's ("pg_..."), of a hidden table or column, or of a read-only
// table.
func (Store) MigrationRefusal(sql string, r store.Rules) string {
	words, why := lex(sql)
	if why != "" {
		return why
	}
	first := true
	for i, w := range words {
		if w.text == ";" {
			first = true
			continue
		}
		name := w.text
		lower := strings.ToLower(name)
		if !w.quoted {
			name = lower
		}
		if first {
			if why, ok := statementWords[lower]; ok && !w.quoted {
				return why
			}
			first = false
		}
		if !w.quoted && (lower == "create" || lower == "alter" || lower == "drop") {
			for j := i + 1; j < len(words) && j <= i+4; j++ {
				next := strings.ToLower(words[j].text)
				if objectWords[next] && !words[j].quoted {
					return strings.ToUpper(lower) + " " + strings.ToUpper(next) + " is not for migrations"
				}
				if next == "table" || next == "view" || next == "index" || next == "type" || next == "sequence" || next == "domain" {
					break
				}
			}
		}
		switch {
		case strings.HasPrefix(lower, "_nakedhtmx") || strings.HasPrefix(lower, strings.TrimSuffix(model.Prefix, "_")):
			return "nakedhtmx's own objects (" + name + ") are not for caller SQL"
		case strings.HasPrefix(lower, "pg_") || lower == "information_schema" || lower == "dblink" || strings.HasPrefix(lower, "lo_"):
			return "the server's own objects and functions (" + name + ") are not for caller SQL"
		case r.HiddenTable != nil && r.HiddenTable(name), r.HiddenColumn != nil && r.HiddenColumn(name):
			return "no such table or column"
		case r.ReadOnly != nil && r.ReadOnly(name):
			return name + " is read-only"
		}
	}
	return ""
}

type word struct {
	text   string
	quoted bool
}

// lex splits SQL into words (names, keywords; ";" stands alone), leaving
// out strings, numbers, operators and comments. Dollar quoting is refused.
func lex(sql string) ([]word, string) {
	var out []word
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			// Postgres nests block comments.
			depth := 0
			for i < len(sql) {
				if strings.HasPrefix(sql[i:], "/*") {
					depth++
					i += 2
				} else if strings.HasPrefix(sql[i:], "*/") {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
			if depth != 0 {
				return nil, "an unterminated comment"
			}
		case c == '\'':
			// A string; E'...' escapes are refused (a backslash could end it
			// where this reading does not).
			if i > 0 && (sql[i-1] == 'E' || sql[i-1] == 'e') && (i < 2 || !isWord(sql[i-2])) {
				return nil, "escape strings (E'...') are not for migrations"
			}
			j := i + 1
			for ; j < len(sql); j++ {
				if sql[j] == '\'' {
					if j+1 < len(sql) && sql[j+1] == '\'' {
						j++
						continue
					}
					break
				}
			}
			if j >= len(sql) {
				return nil, "an unterminated string"
			}
			i = j + 1
		case c == '"':
			j := i + 1
			var b strings.Builder
			for ; j < len(sql); j++ {
				if sql[j] == '"' {
					if j+1 < len(sql) && sql[j+1] == '"' {
						b.WriteByte('"')
						j++
						continue
					}
					break
				}
				b.WriteByte(sql[j])
			}
			if j >= len(sql) {
				return nil, "an unterminated quoted name"
			}
			out = append(out, word{text: b.String(), quoted: true})
			i = j + 1
		case c == '$':
			return nil, "dollar quoting and positional parameters are not for migrations"
		case c == ';':
			out = append(out, word{text: ";"})
			i++
		case isWord(c) && !(c >= '0' && c <= '9'):
			j := i
			for j < len(sql) && isWord(sql[j]) {
				j++
			}
			if !(j < len(sql) && sql[j] == '\'') { // E'...' is seen at the quote
				out = append(out, word{text: sql[i:j]})
			}
			i = j
		default:
			i++
		}
	}
	return out, ""
}

func isWord(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
