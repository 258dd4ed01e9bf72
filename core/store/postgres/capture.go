package postgres

// Change capture on Postgres: one trigger per table, "_nakedhtmx_trg",
// AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW, calling one function with
// the table's key columns as arguments. Like SQLite's triggers it records
// the table, the operation and the key (a JSON array), never other columns,
// so it stands in the way of no ALTER. It takes the write lock first, so
// the log's order is the commit order (postgres.go, writeLock).

import (
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

const triggerName = model.Prefix + "trg"

// captureFunction is part of setup. A key is its columns' JSON values, in
// order, written without spaces as the core writes keys.
const captureFunction = `CREATE OR REPLACE FUNCTION "_nakedhtmx"."_nakedhtmx_key"(r jsonb, cols text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $f$
  SELECT '[' || string_agg(coalesce(r -> c, 'null'::jsonb)::text, ',' ORDER BY i) || ']' FROM unnest(cols) WITH ORDINALITY AS u(c, i)
$f$;
CREATE OR REPLACE FUNCTION "_nakedhtmx"."_nakedhtmx_capture"() RETURNS trigger
LANGUAGE plpgsql AS $f$
DECLARE
  k text;
  o text;
BEGIN
  PERFORM pg_advisory_xact_lock(` + writeLock + `);
  IF TG_OP <> 'DELETE' THEN k := "_nakedhtmx"."_nakedhtmx_key"(to_jsonb(NEW), TG_ARGV); END IF;
  IF TG_OP <> 'INSERT' THEN o := "_nakedhtmx"."_nakedhtmx_key"(to_jsonb(OLD), TG_ARGV); END IF;
  INSERT INTO "_nakedhtmx"."_nakedhtmx_changes" (tbl, op, key, old_key, dsid)
  VALUES (TG_TABLE_NAME, lower(TG_OP), coalesce(k, o), CASE WHEN TG_OP = 'UPDATE' AND k IS DISTINCT FROM o THEN o END,
    (SELECT seq || '-' || hash FROM "_nakedhtmx"."_nakedhtmx_dsid" ORDER BY seq DESC LIMIT 1));
  -- Wakes the servers that LISTEN (at commit, once however many rows):
  -- the log, not the notice, says what changed.
  PERFORM pg_notify(` + "'" + Channel + "'" + `, '');
  RETURN NULL;
END
$f$;`

// SyncCapture makes the triggers match the tables: a table's trigger names
// its key columns, so a renamed key column, a new key or a new table makes
// its trigger anew; a table without one gets none.
func (s Store) SyncCapture(db sqldb.DB, d *model.Database) (bool, error) {
	want := map[string]string{}
	for _, t := range d.Tables {
		if t.View || len(t.PK) == 0 {
			continue
		}
		args := make([]string, len(t.PK))
		for i, c := range t.PK {
			args[i] = sqldb.Literal(c.Name)
		}
		want[t.Name] = strings.Join(args, ", ")
	}
	rs, err := db.Query(`SELECT c.relname, pg_get_triggerdef(g.oid) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ? AND g.tgname = ?`, s.schema(), triggerName)
	if err != nil {
		return false, err
	}
	have := map[string]string{}
	for _, r := range rs.Values {
		def := sqldb.Text(r[1])
		// ... EXECUTE FUNCTION "_nakedhtmx"."_nakedhtmx_capture"('id', 'b')
		if i := strings.LastIndex(def, "_nakedhtmx_capture("); i >= 0 {
			have[sqldb.Text(r[0])] = strings.TrimSuffix(def[i+len("_nakedhtmx_capture("):], ")")
		} else {
			have[sqldb.Text(r[0])] = "?"
		}
	}
	var stmts []string
	on := func(table string) string { return " ON " + sqldb.Ident(s.schema()) + "." + sqldb.Ident(table) }
	for table, args := range have {
		if want[table] != args {
			stmts = append(stmts, "DROP TRIGGER IF EXISTS "+sqldb.Ident(triggerName)+on(table))
		}
	}
	for table, args := range want {
		if have[table] != args {
			stmts = append(stmts, "CREATE TRIGGER "+sqldb.Ident(triggerName)+" AFTER INSERT OR UPDATE OR DELETE"+on(table)+
				` FOR EACH ROW EXECUTE FUNCTION "_nakedhtmx"."_nakedhtmx_capture"(`+args+")")
		}
	}
	return store.Apply(db, s, stmts)
}
