package sqlite

// SQLite's catalog, reflected into core/model: PRAGMAs read through
// table-valued functions (so names are bound, never spliced), and the CREATE
// TABLE text (through ddl) for what PRAGMAs do not tell.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store/sqlite/ddl"
	"github.com/nakedhtmx/nakedhtmx/core/textscan"
)

// Reflect reads the database's user tables and views.
func Reflect(db sqldb.DB) (*model.Database, error) {
	version, err := schemaVersion(db)
	if err != nil {
		return nil, err
	}
	list, err := db.Query(`SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'view') ORDER BY name`)
	if err != nil {
		return nil, err
	}
	ddlText := map[string]string{}
	var ftsSQL []string
	src, err := db.Query(`SELECT name, type, coalesce(sql, '') FROM sqlite_schema`)
	if err != nil {
		return nil, err
	}
	users := false
	for _, r := range src.Values {
		name, _ := r[0].(string)
		text, _ := r[2].(string)
		ddlText[name] = text
		users = users || name == model.UsersTable
		if r[1] == "table" && isFTS5(text) {
			ftsSQL = append(ftsSQL, name+"\x00"+text)
		}
	}
	// A view with INSTEAD OF triggers takes the writes they stand for.
	trg, err := db.Query(`SELECT tbl_name, sql, name FROM sqlite_schema WHERE type = 'trigger' AND sql IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	triggers := map[string][]string{}
	fired := map[string]bool{} // tables with triggers of the user's (not the capture's)
	for _, r := range trg.Values {
		tbl, _ := r[0].(string)
		text, _ := r[1].(string)
		triggers[tbl] = append(triggers[tbl], text)
		if name, _ := r[2].(string); !model.IsInternal(name) {
			fired[tbl] = true
		}
	}
	var tables []*model.Table
	byName := map[string]*model.Table{}
	for _, r := range list.Values {
		name, _ := r[0].(string)
		if model.IsInternal(name) {
			continue
		}
		t := model.NewTable(name, r[1] == "view")
		if wr, _ := sqldb.Int(r[2]); wr != 1 && !t.View {
			t.RowKey = rowKey // not a WITHOUT ROWID table
		}
		if err := reflectTable(db, t, ddlText[name]); err != nil {
			return nil, fmt.Errorf("reflect %q: %w", name, err)
		}
		if t.View {
			viewWrites(t, triggers[name])
		}
		t.Triggers = fired[name]
		tables = append(tables, t)
		byName[name] = t
	}
	for _, f := range ftsSQL {
		name, text, _ := strings.Cut(f, "\x00")
		if m, ok := ftsContent(text); ok {
			target := unquote(m)
			if t := byName[target]; t != nil && !t.View && t.TextIndex == "" {
				t.TextIndex = name
			}
		}
	}
	d := model.NewDatabase(tables, version)
	d.Users = users
	return d, nil
}

// isFTS5 says whether a table's CREATE text makes an FTS5 table:
// (?is)^\s*create\s+virtual\s+table.*\busing\s+fts5\b, by hand (regexp is
// not in the core; matchers_test.go holds the regexps these answer as).
func isFTS5(text string) bool {
	i := textscan.Spaces(text, 0)
	for k, w := range []string{"create", "virtual", "table"} {
		j, ok := textscan.Lit(text, i, w, true)
		if !ok {
			return false
		}
		i = textscan.Spaces(text, j)
		if k < 2 && i == j {
			return false
		}
	}
	for p := i; p < len(text); p++ {
		if e, ok := textscan.Lit(text, p, "using", true); ok && textscan.Boundary(text, p) {
			if k := textscan.Spaces(text, e); k > e {
				if f, ok := textscan.Lit(text, k, "fts5", true); ok && textscan.Boundary(text, f) {
					return true
				}
			}
		}
	}
	return false
}

// ftsContent is the table an external-content FTS5 table reads, as its
// text names it: (?is)\bcontent\s*=\s*('...'|"..."|ident), the first.
func ftsContent(text string) (string, bool) {
	for p := 0; p < len(text); p++ {
		e, ok := textscan.Lit(text, p, "content", true)
		if !ok || !textscan.Boundary(text, p) {
			continue
		}
		k := textscan.Spaces(text, e)
		if k >= len(text) || text[k] != '=' {
			continue
		}
		k = textscan.Spaces(text, k+1)
		if end, ok := textscan.Quoted(text, k, '\'', false); ok {
			return text[k:end], true
		}
		if end, ok := textscan.Quoted(text, k, '"', false); ok {
			return text[k:end], true
		}
		if end := textscan.Ident(text, k); end > k {
			return text[k:end], true
		}
	}
	return "", false
}

// maxLength is the n of a declared CHAR(n), VARCHAR(n), NVARCHAR(n),
// CHARACTER VARYING(n), VARYING CHARACTER(n) or NATIVE CHARACTER(n), as
// (?i)^\s*(?:n?var)?char(?:acter)?\s*(?:varying\s*)?\(\s*(\d+)\s*\)|
// ^\s*(?:varying|native)\s+character\s*\(\s*(\d+)\s*\) reads it.
func maxLength(t string) (string, bool) {
	open := func(i int) (string, bool) { // \(\s*(\d+)\s*\)
		if i >= len(t) || t[i] != '(' {
			return "", false
		}
		j := textscan.Spaces(t, i+1)
		e, ok := textscan.Digits(t, j)
		if !ok {
			return "", false
		}
		k := textscan.Spaces(t, e)
		if k >= len(t) || t[k] != ')' {
			return "", false
		}
		return t[j:e], true
	}
	start := textscan.Spaces(t, 0)
	for _, pre := range []string{"nvar", "var", ""} {
		i, ok := textscan.Lit(t, start, pre, true)
		if !ok {
			continue
		}
		if i, ok = textscan.Lit(t, i, "char", true); !ok {
			continue
		}
		for _, acter := range []bool{true, false} {
			j := i
			if acter {
				if j, ok = textscan.Lit(t, i, "acter", true); !ok {
					continue
				}
			}
			j = textscan.Spaces(t, j)
			if v, ok := textscan.Lit(t, j, "varying", true); ok {
				if n, ok := open(textscan.Spaces(t, v)); ok {
					return n, true
				}
			}
			if n, ok := open(j); ok {
				return n, true
			}
		}
	}
	for _, w := range []string{"varying", "native"} {
		i, ok := textscan.Lit(t, start, w, true)
		if !ok {
			continue
		}
		j := textscan.Spaces(t, i)
		if j == i {
			continue
		}
		if j, ok = textscan.Lit(t, j, "character", true); ok {
			if n, ok := open(textscan.Spaces(t, j)); ok {
				return n, true
			}
		}
	}
	return "", false
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') {
		q := s[:1]
		return strings.ReplaceAll(s[1:len(s)-1], q+q, q)
	}
	return s
}

func reflectTable(db sqldb.DB, t *model.Table, createSQL string) error {
	cols, err := db.Query(`SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)`, t.Name)
	if err != nil {
		return err
	}
	var parsed *ddl.Table
	if !t.View && createSQL != "" {
		parsed, _ = ddl.ParseCreateTable(createSQL) // nil on CREATE TABLE AS: PRAGMAs still hold
	}
	for i, r := range cols.Values {
		c := &model.Column{Index: i}
		c.Name, _ = r[0].(string)
		c.Type, _ = r[1].(string)
		nn, _ := sqldb.Int(r[2])
		c.NotNull = nn == 1
		if s, ok := r[3].(string); ok {
			c.Default = parseDefault(s)
		}
		pk, _ := sqldb.Int(r[4])
		c.PK = int(pk)
		hidden, _ := sqldb.Int(r[5])
		c.Generated = hidden == 2 || hidden == 3
		c.Hidden = hidden == 1
		if c.Hidden {
			continue
		}
		c.Kind = KindOf(c.Type)
		if s, ok := maxLength(c.Type); ok {
			if n, err := strconv.Atoi(s); err == nil {
				c.MaxLength = &n
			}
		}
		t.Add(c)
	}
	for _, c := range t.Columns {
		if c.PK > 0 {
			t.PK = append(t.PK, c)
		}
	}
	sort.SliceStable(t.PK, func(i, j int) bool { return t.PK[i].PK < t.PK[j].PK })
	if len(t.PK) == 1 && t.RowKey != "" && strings.EqualFold(strings.TrimSpace(t.PK[0].Type), "INTEGER") {
		t.AutoKey = t.PK[0]
	}
	if !t.View && t.RowKey != "" && t.AutoKey == nil {
		var nulls []string
		for _, c := range t.PK {
			if !c.NotNull {
				c.KeyAllowsNull = true
				nulls = append(nulls, sqldb.Ident(c.Name)+" IS NULL")
			}
		}
		if len(nulls) > 0 {
			// Rows whose key is NULL (or NULL in part) would share one URL
			// and break keyset paging: a table that holds such rows is
			// addressed by its rowid, which every row has and no two share.
			// (The key's own index answers this at once for its first
			// column; a later one costs a scan of that index, once per
			// schema version.)
			rs, err := db.Query("SELECT 1 FROM " + sqldb.Ident(t.Name) + " WHERE " + strings.Join(nulls, " OR ") + " LIMIT 1")
			if err != nil {
				return err
			}
			t.KeyByRowKey = len(rs.Values) > 0
		}
	}
	if parsed != nil {
		applyChecks(t, parsed)
	}
	if !t.View && (parsed == nil || !parsed.Strict) {
		for _, c := range t.Columns {
			c.AlsoText = c.Kind != model.String && c.Kind != model.Blob && !StandardType(c.Type)
		}
	}
	if t.View {
		return nil
	}
	fks, err := db.Query(`SELECT id, seq, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq`, t.Name)
	if err != nil {
		return err
	}
	for _, r := range fks.Values {
		id, _ := sqldb.Int(r[0])
		seq, _ := sqldb.Int(r[1])
		parent, _ := r[2].(string)
		from, _ := r[3].(string)
		to, _ := r[4].(string) // "" when the key names the parent's primary key implicitly
		if seq == 0 || len(t.ForeignKeys) == 0 || int(id) >= len(t.ForeignKeys) {
			t.ForeignKeys = append(t.ForeignKeys, model.ForeignKey{Table: parent})
		}
		fk := &t.ForeignKeys[len(t.ForeignKeys)-1]
		fk.From = append(fk.From, from)
		fk.To = append(fk.To, to)
	}
	idx, err := db.Query(`SELECT l.name FROM pragma_index_list(?) AS l WHERE l."unique" = 1 AND l.origin = 'u'`, t.Name)
	if err != nil {
		return err
	}
	for _, r := range idx.Values {
		name, _ := r[0].(string)
		info, err := db.Query(`SELECT name FROM pragma_index_info(?)`, name)
		if err != nil {
			return err
		}
		if len(info.Values) == 1 {
			if c := t.Column(fmt.Sprint(info.Values[0][0])); c != nil {
				c.Unique = true
			}
		}
	}
	return nil
}

// applyChecks folds CHECK constraints (column and table level) into the columns.
func applyChecks(t *model.Table, parsed *ddl.Table) {
	add := func(expr string) {
		for name, cons := range ddl.AnalyzeCheck(expr) {
			c := t.Column(name)
			if c == nil {
				for _, cc := range t.Columns {
					if strings.EqualFold(cc.Name, name) {
						c = cc
					}
				}
			}
			if c != nil {
				c.Check = ddl.Merge(c.Check, cons)
			}
		}
	}
	for _, pc := range parsed.Columns {
		for _, e := range pc.Checks {
			add(e)
		}
	}
	for _, e := range parsed.Checks {
		add(e)
	}
}

// standardTypes are the type names of SQL and of SQLite's documentation
// (datatype3.html, "Affinity Name Examples"), plus the few every ORM writes.
var standardTypes = map[string]bool{
	"INT": true, "INTEGER": true, "TINYINT": true, "SMALLINT": true, "MEDIUMINT": true, "BIGINT": true,
	"UNSIGNED BIG INT": true, "INT2": true, "INT4": true, "INT8": true, "REAL": true, "DOUBLE": true,
	"DOUBLE PRECISION": true, "FLOAT": true, "NUMERIC": true, "DECIMAL": true, "BOOLEAN": true, "BOOL": true,
	"DATE": true, "DATETIME": true, "TIMESTAMP": true, "TIME": true,
}

// StandardType reports whether a declared type is one of the usual names
// (its size and any "WITH TIME ZONE" aside).
func StandardType(declared string) bool {
	t := strings.ToUpper(strings.TrimSpace(declared))
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	t = strings.TrimSuffix(strings.TrimSuffix(t, " WITH TIME ZONE"), " WITHOUT TIME ZONE")
	return standardTypes[strings.Join(strings.Fields(t), " ")]
}

// triggerHead is a trigger's text up to its first BEGIN word ((?i)\bBEGIN\b).
func triggerHead(text string) string {
	for p := 0; p < len(text); p++ {
		if _, ok := textscan.Word(text, p, "begin"); ok {
			return text[:p]
		}
	}
	return text
}

// insteadOf is the write an INSTEAD OF trigger stands for, lower case:
// (?is)\bINSTEAD\s+OF\s+(INSERT|UPDATE|DELETE)\b, the first.
func insteadOf(head string) (string, bool) {
	for p := 0; p < len(head); p++ {
		i, ok := textscan.Lit(head, p, "instead", true)
		if !ok || !textscan.Boundary(head, p) {
			continue
		}
		j := textscan.Spaces(head, i)
		if j == i {
			continue
		}
		if j, ok = textscan.Lit(head, j, "of", true); !ok {
			continue
		}
		k := textscan.Spaces(head, j)
		if k == j {
			continue
		}
		for _, op := range []string{"insert", "update", "delete"} {
			if e, ok := textscan.Lit(head, k, op, true); ok && textscan.Boundary(head, e) {
				return op, true
			}
		}
	}
	return "", false
}

// viewWrites fills a view's ViewWrites from its INSTEAD OF triggers, and,
// when it takes updates or deletes, its key: a column named id (any case), the
// one name a view's rows can be found by without reading its SELECT (a view
// without one takes inserts only).
func viewWrites(t *model.Table, triggers []string) {
	seen := map[string]bool{}
	for _, text := range triggers {
		// The trigger's head: its body may mention anything.
		if op, ok := insteadOf(triggerHead(text)); ok {
			seen[op] = true
		}
	}
	var key *model.Column
	for _, c := range t.Columns {
		if strings.EqualFold(c.Name, "id") {
			key = c
			break
		}
	}
	for _, op := range []string{"insert", "update", "delete"} {
		if seen[op] && (op == "insert" || key != nil) {
			t.ViewWrites = append(t.ViewWrites, op)
		}
	}
	if key != nil && (seen["update"] || seen["delete"]) {
		key.PK = 1
		t.PK = []*model.Column{key}
	}
}

// KindOf maps a declared type to a kind, following CONTRACT.md's table and
// SQLite's affinity rules where the contract is silent.
func KindOf(declared string) model.Kind {
	t := strings.ToUpper(strings.TrimSpace(declared))
	base := t
	if i := strings.IndexByte(base, '('); i >= 0 {
		base = strings.TrimSpace(base[:i])
	}
	switch {
	case base == "BOOLEAN" || base == "BOOL":
		return model.Boolean
	case base == "DATETIME" || strings.HasPrefix(base, "TIMESTAMP"):
		return model.DateTime
	case base == "DATE":
		return model.Date
	case strings.Contains(t, "INT"):
		return model.Integer
	case strings.Contains(t, "CHAR") || strings.Contains(t, "CLOB") || strings.Contains(t, "TEXT"):
		return model.String
	case strings.Contains(t, "BLOB"):
		return model.Blob
	case t == "":
		return model.String
	case strings.Contains(t, "REAL") || strings.Contains(t, "FLOA") || strings.Contains(t, "DOUB") ||
		strings.HasPrefix(base, "NUMERIC") || strings.HasPrefix(base, "DECIMAL"):
		return model.Number
	default:
		return model.String
	}
}

// parseDefault reads dflt_value: a literal the schema can carry, or an expression.
func parseDefault(s string) *model.Default {
	d := &model.Default{SQL: s}
	v := strings.TrimSpace(s)
	for len(v) >= 2 && v[0] == '(' && v[len(v)-1] == ')' {
		v = strings.TrimSpace(v[1 : len(v)-1])
	}
	up := strings.ToUpper(v)
	switch {
	case up == "NULL":
		d.Literal, d.Value = true, nil
	case up == "TRUE":
		d.Literal, d.Value = true, int64(1)
	case up == "FALSE":
		d.Literal, d.Value = true, int64(0)
	case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
		d.Literal, d.Value = true, strings.ReplaceAll(v[1:len(v)-1], "''", "'")
	default:
		num := strings.TrimPrefix(v, "+")
		if n, err := strconv.ParseInt(num, 10, 64); err == nil {
			d.Literal, d.Value = true, n
		} else if strings.HasPrefix(strings.ToLower(strings.TrimPrefix(num, "-")), "0x") {
			if n, err := strconv.ParseInt(strings.Replace(strings.ToLower(num), "0x", "", 1), 16, 64); err == nil {
				d.Literal, d.Value = true, n
			}
		} else if f, err := strconv.ParseFloat(num, 64); err == nil && !strings.ContainsAny(num, "nNiI") {
			d.Literal, d.Value = true, f
		}
	}
	return d
}
