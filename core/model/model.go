// Package model reflects a live SQLite database into plain Go values: tables,
// views, columns, keys, foreign keys and constraints. It reads PRAGMAs through
// table-valued functions (so names are bound, never spliced) and the CREATE
// TABLE text (through core/ddl) for what PRAGMAs do not tell.
package model

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/ddl"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// Prefix names every object nakedhtmx creates in a user's database.
const Prefix = "_nakedhtmx_"

// Kind is the JSON Schema type a column maps to.
type Kind string

// The kinds of CONTRACT.md's type table.
const (
	Integer  Kind = "integer"
	Number   Kind = "number"
	String   Kind = "string"
	Boolean  Kind = "boolean"
	Blob     Kind = "blob"
	Date     Kind = "date"
	DateTime Kind = "date-time"
)

// Database is the reflected set of user tables and views, sorted by name.
type Database struct {
	Tables        []*Table
	SchemaVersion int64
	byName        map[string]*Table
}

// Table returns the named table or view, or nil.
func (d *Database) Table(name string) *Table { return d.byName[name] }

// Table is one user table or view.
type Table struct {
	Name          string
	View          bool
	WithoutRowid  bool
	Autoincrement bool
	Columns       []*Column
	PK            []*Column // primary key columns in key order; empty for rowid tables without one and views
	RowidAlias    *Column   // the INTEGER PRIMARY KEY column, if any
	// ViewWrites are the writes a view takes through its INSTEAD OF
	// triggers ("insert", "update", "delete"); none for other views.
	ViewWrites []string
	// KeyByRowid: a rowid table whose declared key may be NULL (see
	// Column.KeyAllowsNull), and that holds a row where it is, is addressed
	// by its rowid, like one without a key. Found when the schema is
	// reflected: a NULL key written later is seen at the next schema change
	// or start.
	KeyByRowid  bool
	ForeignKeys []ForeignKey
	FTS         string // name of an external-content FTS5 table indexing this one, or ""
	byName      map[string]*Column
}

// Column returns the named column, or nil.
func (t *Table) Column(name string) *Column { return t.byName[name] }

// Addressable reports whether single rows have a key to be found by: every
// table, and a writable view with a key column (see Reflect).
func (t *Table) Addressable() bool { return !t.View || len(t.PK) > 0 }

// HasRowidKey reports whether rows are addressed by the implicit rowid: a
// table without a declared key, or one whose declared key cannot tell its
// rows apart (KeyByRowid).
func (t *Table) HasRowidKey() bool { return !t.View && (len(t.PK) == 0 || t.KeyByRowid) }

// Column is one column.
type Column struct {
	Name       string
	Index      int
	Type       string // declared type, as written
	Kind       Kind
	NotNull    bool
	Default    *Default
	PK         int // 1-based position in the primary key, 0 when not part of it
	Generated  bool
	Hidden     bool // hidden column of a virtual table
	Unique     bool // single-column UNIQUE constraint from the table definition
	MaxLength  *int
	Check      ddl.Constraints
	References *Reference
	// AlsoText: the column's kind comes from SQLite's affinity rules applied
	// to a type name no standard spells (INTEGER_OR_TEXT, UNSIGNED_MONEY) in
	// a table that is not STRICT, where text is what it often holds: the
	// JSON Schema then takes a string as well, so rows can be written with
	// what their neighbours hold.
	AlsoText bool
	// KeyAllowsNull: part of the declared key of a rowid table without NOT
	// NULL, where SQLite (for compatibility with its early versions) lets
	// the key be NULL, in any number of rows. The schema still asks for a
	// value (nakedhtmx never writes such a key); rows that have one are
	// addressed by rowid (Table.KeyByRowid).
	KeyAllowsNull bool
	// RefHidden: the column references a table the caller may not see
	// (Database.Visible): it is shown, but not written.
	RefHidden bool
}

// Nullable reports whether the column accepts NULL.
func (c *Column) Nullable() bool { return !c.NotNull && c.PK == 0 }

// Default is a column's DEFAULT clause.
type Default struct {
	SQL     string
	Literal bool // a constant the JSON Schema can carry
	Value   any  // the constant, when Literal
}

// Reference is what a foreign key column points at.
type Reference struct {
	Table  string
	Column string
	// Key is the whole foreign key when it spans several columns: the
	// column then points at a parent row only together with the others
	// (labels, links and pickers use the whole key, never this column alone).
	Key *ForeignKey
}

// ForeignKey is one (possibly composite) foreign key.
type ForeignKey struct {
	Table string
	From  []string
	To    []string
}

// Reflect reads the database's user tables and views.
func Reflect(db sqldb.DB) (*Database, error) {
	v, err := db.Query("PRAGMA schema_version")
	if err != nil {
		return nil, err
	}
	d := &Database{byName: map[string]*Table{}}
	if len(v.Values) == 1 {
		d.SchemaVersion, _ = sqldb.Int(v.Values[0][0])
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
	for _, r := range src.Values {
		name, _ := r[0].(string)
		text, _ := r[2].(string)
		ddlText[name] = text
		if r[1] == "table" && ftsRe.MatchString(text) {
			ftsSQL = append(ftsSQL, name+"\x00"+text)
		}
	}
	// A view with INSTEAD OF triggers takes the writes they stand for.
	trg, err := db.Query(`SELECT tbl_name, sql FROM sqlite_schema WHERE type = 'trigger' AND sql IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	triggers := map[string][]string{}
	for _, r := range trg.Values {
		tbl, _ := r[0].(string)
		text, _ := r[1].(string)
		triggers[tbl] = append(triggers[tbl], text)
	}
	for _, r := range list.Values {
		name, _ := r[0].(string)
		if IsInternal(name) {
			continue
		}
		t := &Table{Name: name, View: r[1] == "view", byName: map[string]*Column{}}
		if wr, _ := sqldb.Int(r[2]); wr == 1 {
			t.WithoutRowid = true
		}
		if err := reflectTable(db, t, ddlText[name]); err != nil {
			return nil, fmt.Errorf("reflect %q: %w", name, err)
		}
		if t.View {
			viewWrites(t, triggers[name])
		}
		d.Tables = append(d.Tables, t)
		d.byName[name] = t
	}
	sort.Slice(d.Tables, func(i, j int) bool { return d.Tables[i].Name < d.Tables[j].Name })
	for _, f := range ftsSQL {
		name, text, _ := strings.Cut(f, "\x00")
		if m := ftsContentRe.FindStringSubmatch(text); m != nil {
			target := unquote(m[1])
			if t := d.byName[target]; t != nil && !t.View && t.FTS == "" {
				t.FTS = name
			}
		}
	}
	resolveReferences(d)
	return d, nil
}

// IsInternal reports names of SQLite's and nakedhtmx's own objects.
func IsInternal(name string) bool {
	if strings.HasPrefix(name, Prefix) {
		return true
	}
	// SQLite reserves the prefix in any ASCII case (sqlite3_strnicmp), and
	// this runs for every cell that links: no lower-cased copy.
	const reserved = "sqlite_"
	if len(name) < len(reserved) {
		return false
	}
	for i := range len(reserved) {
		if c := name[i]; c != reserved[i] && !(c >= 'A' && c <= 'Z' && c+'a'-'A' == reserved[i]) {
			return false
		}
	}
	return true
}

var (
	ftsRe        = regexp.MustCompile(`(?is)^\s*create\s+virtual\s+table.*\busing\s+fts5\b`)
	ftsContentRe = regexp.MustCompile(`(?is)\bcontent\s*=\s*('(?:[^']|'')*'|"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_]*)`)
	lengthRe     = regexp.MustCompile(`(?i)^\s*(?:n?var)?char(?:acter)?\s*(?:varying\s*)?\(\s*(\d+)\s*\)|^\s*(?:varying|native)\s+character\s*\(\s*(\d+)\s*\)`)
)

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') {
		q := s[:1]
		return strings.ReplaceAll(s[1:len(s)-1], q+q, q)
	}
	return s
}

func reflectTable(db sqldb.DB, t *Table, createSQL string) error {
	cols, err := db.Query(`SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)`, t.Name)
	if err != nil {
		return err
	}
	var parsed *ddl.Table
	if !t.View && createSQL != "" {
		parsed, _ = ddl.ParseCreateTable(createSQL) // nil on CREATE TABLE AS: PRAGMAs still hold
	}
	for i, r := range cols.Values {
		c := &Column{Index: i}
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
		if m := lengthRe.FindStringSubmatch(c.Type); m != nil {
			s := m[1] + m[2]
			if n, err := strconv.Atoi(s); err == nil {
				c.MaxLength = &n
			}
		}
		t.Columns = append(t.Columns, c)
		t.byName[c.Name] = c
	}
	for _, c := range t.Columns {
		if c.PK > 0 {
			t.PK = append(t.PK, c)
		}
	}
	sort.SliceStable(t.PK, func(i, j int) bool { return t.PK[i].PK < t.PK[j].PK })
	if len(t.PK) == 1 && !t.WithoutRowid && strings.EqualFold(strings.TrimSpace(t.PK[0].Type), "INTEGER") {
		t.RowidAlias = t.PK[0]
	}
	if !t.View && !t.WithoutRowid && t.RowidAlias == nil {
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
			t.KeyByRowid = len(rs.Values) > 0
		}
	}
	if parsed != nil {
		t.Autoincrement = parsed.Autoincrement
		applyChecks(t, parsed)
	}
	if !t.View && (parsed == nil || !parsed.Strict) {
		for _, c := range t.Columns {
			c.AlsoText = c.Kind != String && c.Kind != Blob && !StandardType(c.Type)
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
			t.ForeignKeys = append(t.ForeignKeys, ForeignKey{Table: parent})
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
			if c := t.byName[fmt.Sprint(info.Values[0][0])]; c != nil {
				c.Unique = true
			}
		}
	}
	return nil
}

// applyChecks folds CHECK constraints (column and table level) into the columns.
func applyChecks(t *Table, parsed *ddl.Table) {
	add := func(expr string) {
		for name, cons := range ddl.AnalyzeCheck(expr) {
			c := t.byName[name]
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

// resolveReferences fills Column.References, naming the parent's key column
// when a foreign key leaves it implicit.
func resolveReferences(d *Database) {
	for _, t := range d.Tables {
		for i := range t.ForeignKeys {
			fk := &t.ForeignKeys[i]
			parent := d.byName[fk.Table]
			for j, from := range fk.From {
				to := fk.To[j]
				if to == "" && parent != nil && j < len(parent.PK) {
					to = parent.PK[j].Name
					fk.To[j] = to
				}
				if c := t.byName[from]; c != nil && c.References == nil {
					c.References = &Reference{Table: fk.Table, Column: to}
					if len(fk.From) > 1 {
						c.References.Key = fk
					}
				}
			}
		}
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

var (
	insteadOfRe = regexp.MustCompile(`(?is)\bINSTEAD\s+OF\s+(INSERT|UPDATE|DELETE)\b`)
	beginRe     = regexp.MustCompile(`(?i)\bBEGIN\b`)
)

// viewWrites fills a view's ViewWrites from its INSTEAD OF triggers, and,
// when it takes updates or deletes, its key: a column named id (any case), the
// one name a view's rows can be found by without reading its SELECT (a view
// without one takes inserts only).
func viewWrites(t *Table, triggers []string) {
	seen := map[string]bool{}
	for _, text := range triggers {
		// The trigger's head: its body may mention anything.
		head := text
		if i := beginRe.FindStringIndex(text); i != nil {
			head = text[:i[0]]
		}
		if m := insteadOfRe.FindStringSubmatch(head); m != nil {
			seen[strings.ToLower(m[1])] = true
		}
	}
	var key *Column
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
		t.PK = []*Column{key}
	}
}

// KindOf maps a declared type to a kind, following CONTRACT.md's table and
// SQLite's affinity rules where the contract is silent.
func KindOf(declared string) Kind {
	t := strings.ToUpper(strings.TrimSpace(declared))
	base := t
	if i := strings.IndexByte(base, '('); i >= 0 {
		base = strings.TrimSpace(base[:i])
	}
	switch {
	case base == "BOOLEAN" || base == "BOOL":
		return Boolean
	case base == "DATETIME" || strings.HasPrefix(base, "TIMESTAMP"):
		return DateTime
	case base == "DATE":
		return Date
	case strings.Contains(t, "INT"):
		return Integer
	case strings.Contains(t, "CHAR") || strings.Contains(t, "CLOB") || strings.Contains(t, "TEXT"):
		return String
	case strings.Contains(t, "BLOB"):
		return Blob
	case t == "":
		return String
	case strings.Contains(t, "REAL") || strings.Contains(t, "FLOA") || strings.Contains(t, "DOUB") ||
		strings.HasPrefix(base, "NUMERIC") || strings.HasPrefix(base, "DECIMAL"):
		return Number
	default:
		return String
	}
}

// parseDefault reads dflt_value: a literal the schema can carry, or an expression.
func parseDefault(s string) *Default {
	d := &Default{SQL: s}
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
