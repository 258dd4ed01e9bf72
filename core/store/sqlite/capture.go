package sqlite

// The change-capture triggers on SQLite (core/capture holds the log they
// feed and how the core reads it).

import (
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

const triggerPrefix = model.Prefix + "trg_"

// dsidExpr is the current DSID, read by the trigger at the time of the write.
const dsidExpr = `(SELECT seq || '-' || hash FROM "_nakedhtmx_dsid" ORDER BY seq DESC LIMIT 1)`

// keyExpr is the JSON array of a row's key as a trigger sees it. A BLOB
// cannot go into JSON, so one becomes its hex text (keys that are BLOBs are
// rare; the write must never fail because of the log).
func keyExpr(t *model.Table, row string) string {
	if t.UsesRowKey() {
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

// SyncCapture makes the triggers match the tables: it creates the missing ones,
// re-creates those whose text changed (SQLite rewrites a trigger's text when
// a column it names is renamed), and drops those of tables that are gone or
// were renamed. It returns whether it changed anything.
func (s Store) SyncCapture(db sqldb.DB, d *model.Database) (bool, error) {
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
	return store.Apply(db, s, stmts)
}
