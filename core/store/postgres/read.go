package postgres

import (
	"encoding/json"
	"github.com/nakedhtmx/nakedhtmx/core/textscan"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/readsql"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

// A caller's read on Postgres is checked by its plan: EXPLAIN (VERBOSE,
// FORMAT JSON), inside a read-only transaction (planning may already run
// an immutable function), names every relation it scans and every
// function its expressions call. Postgres has no authorizer and no way to
// tell which columns of a scanned table a statement uses that this server
// trusts, so a table the config hides any column of is refused whole; the
// read-only transaction and the role's own rights are the second wall.

// deniedFunctions have effects beyond the statement or read outside the
// database (files, other sessions, settings, large objects), or run SQL
// of their own that no plan shows.
var deniedFunctions = map[string]bool{
	"pg_read_file": true, "pg_read_binary_file": true, "pg_stat_file": true, "pg_terminate_backend": true,
	"pg_cancel_backend": true, "pg_reload_conf": true, "pg_rotate_logfile": true, "pg_promote": true, "pg_switch_wal": true,
	"pg_notify": true, "set_config": true, "pg_export_snapshot": true, "pg_log_backend_memory_contexts": true,
	"pg_current_logfile": true, "pg_import_system_collations": true, "nextval": true, "setval": true,
}

// deniedPrefixes are families of them: the prefix, and whether more word
// characters must follow it (lo_ is not a function, lo_import is).
var deniedPrefixes = []struct {
	prefix string
	more   bool
}{
	{"pg_ls_", false}, {"query_to_xml", false}, {"cursor_to_xml", false}, {"table_to_xml", false}, {"schema_to_xml", false},
	{"database_to_xml", false}, {"dblink", false}, {"pg_advisory", false}, {"pg_try_advisory", false}, {"pg_stat_reset", false},
	{"pg_sleep", false}, {"lo_", true}, {"pg_create_", true}, {"pg_drop_", true}, {"pg_replication_", true},
	{"pg_logical_", true}, {"pg_backup_", true}, {"pg_wal_replay_", true}, {"pg_file_", true},
}

// denied says whether a function (its name in lower case) is one of them.
// (A map and prefixes, not a regexp: regexp is not in the core.)
func denied(name string) bool {
	if deniedFunctions[name] {
		return true
	}
	for _, d := range deniedPrefixes {
		rest, ok := strings.CutPrefix(name, d.prefix)
		if !ok || d.more && rest == "" {
			continue
		}
		word := true
		for i := 0; i < len(rest); i++ {
			word = word && textscan.IsWord(rest[i])
		}
		if word {
			return true
		}
	}
	return false
}

// deniedRelations of the system catalogs show other sessions, roles'
// secrets or what the server was told by others.
var deniedRelations = map[string]bool{
	"pg_authid": true, "pg_shadow": true, "pg_stat_activity": true, "pg_user_mapping": true,
	"pg_user_mappings": true, "pg_file_settings": true, "pg_hba_file_rules": true, "pg_ident_file_mappings": true,
	"pg_largeobject": true, "pg_statistic": true, "pg_stat_statements": true, "pg_settings": true,
	"pg_stats": true, "pg_stats_ext": true, "pg_stats_ext_exprs": true,
}

// calls are the functions an expression of a plan calls: every name
// ([A-Za-z_][A-Za-z0-9_$]*, from any letter on) followed by ", spaces and
// "(" (what callRe, in matchers_test.go, found).
func calls(x string) []string {
	var out []string
	for i := 0; i < len(x); {
		c := x[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
			i++
			continue
		}
		j := i + 1
		for j < len(x) && (textscan.IsWord(x[j]) || x[j] == '$') {
			j++
		}
		k := j
		if k < len(x) && x[k] == '"' {
			k++
		}
		k = textscan.Spaces(x, k)
		if k < len(x) && x[k] == '(' {
			out = append(out, x[i:j])
			i = k + 1
			continue
		}
		i++
	}
	return out
}

// CheckCalls says why a read that calls these functions may not run, or
// "" (the text's calls, as readsql reads them, and the plan's).
func CheckCalls(names []string) string {
	for _, n := range names {
		if denied(strings.ToLower(n)) {
			return "the function " + n + " is not allowed here"
		}
	}
	return ""
}

// InspectRead: see store.Store.
func (s Store) InspectRead(db sqldb.DB, st *readsql.Statement, args []any, r store.ReadRules) (ins store.Inspection, err error) {
	// Planning may run a function already: the text's calls first.
	if why := CheckCalls(st.Calls); why != "" {
		return store.Inspection{Refusal: why}, nil
	}
	if _, err := db.Exec("BEGIN READ ONLY"); err != nil {
		return ins, err
	}
	defer db.Exec("ROLLBACK")
	rows, err := db.Query("EXPLAIN (VERBOSE, FORMAT JSON) "+st.SQL, args...)
	if err != nil {
		return ins, err
	}
	if len(rows.Values) != 1 || len(rows.Values[0]) != 1 {
		return ins, &sqldb.Error{Code: "SQLITE_ERROR", Message: "EXPLAIN gave no plan"}
	}
	var plan any
	if err := json.Unmarshal([]byte(sqldb.Text(rows.Values[0][0])), &plan); err != nil {
		return ins, &sqldb.Error{Code: "SQLITE_ERROR", Message: "EXPLAIN's plan: " + err.Error()}
	}
	w := &planWalk{s: s, r: r, seen: map[string]bool{}, calls: map[string]bool{}}
	w.walk(plan)
	if w.why == "" {
		w.why = CheckCalls(keys(w.calls))
	}
	if w.why == "" && r.Hides && len(w.calls) > 0 {
		w.why, err = userFunctions(db, keys(w.calls))
	}
	if w.hit != nil {
		return store.Inspection{Hidden: w.hit}, nil
	}
	return store.Inspection{Tables: w.tables, Refusal: w.why}, err
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// userFunctions refuses a function of the user's (or an extension's) while
// the config hides something: its body may read what the plan does not show.
func userFunctions(db sqldb.DB, names []string) (string, error) {
	q := "SELECT min(proname) FROM pg_catalog.pg_proc WHERE oid >= 16384 AND lower(proname) IN (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ")"
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = strings.ToLower(n)
	}
	rows, err := db.Query(q, args...)
	if err != nil || len(rows.Values) == 0 || rows.Values[0][0] == nil {
		return "", err
	}
	return "the function " + sqldb.Text(rows.Values[0][0]) + " is not a built-in one: it cannot run here while the config hides tables or columns", nil
}

type planWalk struct {
	s      Store
	r      store.ReadRules
	tables []string
	seen   map[string]bool
	calls  map[string]bool
	why    string
	hit    *store.Hidden
}

func (w *planWalk) walk(v any) {
	if w.why != "" {
		return
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			w.walk(e)
		}
	case map[string]any:
		if rel, ok := x["Relation Name"].(string); ok {
			schema, _ := x["Schema"].(string)
			w.relation(schema, rel)
		}
		if fn, ok := x["Function Name"].(string); ok {
			w.calls[fn] = true
		}
		for k, e := range x {
			if k == "Relation Name" || k == "Schema" || k == "Alias" || k == "Node Type" {
				continue
			}
			w.walk(e)
		}
	case string:
		for _, name := range calls(x) {
			w.calls[name] = true
		}
	}
}

func (w *planWalk) relation(schema, rel string) {
	low := strings.ToLower(rel)
	switch {
	case strings.HasPrefix(low, strings.ToLower(model.Prefix)):
		w.why = store.OwnTables
	case schema == "pg_catalog" || schema == "information_schema":
		if w.r.Hides {
			w.why = "the system catalogs (" + rel + ") cannot be read here while the config hides tables or columns"
		} else if deniedRelations[low] {
			w.why = "the system catalog " + rel + " cannot be read here"
		}
	case schema != w.s.schema():
		w.why = "only the tables of the schema " + strconv.Quote(w.s.schema()) + " may be read here"
	case w.r.HiddenTable(rel):
		w.why, w.hit = "hidden", &store.Hidden{Name: rel}
	case w.r.HidesColumnsOf(rel):
		w.why = rel + " has columns the config hides: on Postgres a statement that reads it cannot run here"
	default:
		if !w.seen[rel] {
			w.seen[rel] = true
			w.tables = append(w.tables, rel)
		}
	}
}

// RunRead: see store.Store. The transaction is read-only and its own
// statement limit is the read's; the row cap is the outer LIMIT (a bound
// parameter, so every driver sends the statement alone, never as a script).
func (Store) RunRead(db sqldb.DB, sql string, args []any, r sqldb.Read) (*sqldb.Rows, error) {
	if _, err := db.Exec("BEGIN READ ONLY"); err != nil {
		return nil, err
	}
	defer db.Exec("ROLLBACK")
	if r.LimitMs > 0 {
		if _, err := db.Exec("SET LOCAL statement_timeout = " + strconv.FormatInt(r.LimitMs, 10)); err != nil {
			return nil, err
		}
	}
	all := append(append([]any{}, args...), int64(r.MaxRows+1))
	return sqldb.QueryUnbounded(db, "SELECT * FROM (\n"+sql+"\n) AS \"_nakedhtmx_read\" LIMIT ?", all...)
}
