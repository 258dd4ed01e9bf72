// Package model is what the core knows of a database's structure, in plain
// Go values: tables, views, columns, keys, foreign keys and constraints. A
// store reflects its catalog into it (core/store/...: SQLite's PRAGMAs and
// CREATE TABLE text, Postgres's catalog); nothing here asks a database.
package model

import (
	"sort"
	"strings"
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
	// Users: the project's table of users ("_nakedhtmx_users") is there
	// (it is made at the first user added, which moves the schema version).
	Users bool
	// NullsLast: the store sorts NULL after every value in ascending order
	// (Postgres), where SQLite sorts it first. Lists page by a cursor that
	// must agree with the order the store reads in (engine/query.go), and
	// a copy of a Postgres database on SQLite (engine/replica.go) keeps
	// its server's order by saying NULLS LAST.
	NullsLast bool
	byName    map[string]*Table
}

// Table returns the named table or view, or nil.
func (d *Database) Table(name string) *Table { return d.byName[name] }

// Fired is the set of tables a write to which may run triggers of the
// user's (Table.Triggers): a table's own, and those of every table whose
// rows a foreign key may change with it (a cascade), as far as cascades go.
// Every foreign key counts, whatever its action: a little too many is only
// slower.
func (d *Database) Fired() map[string]bool {
	fired := map[string]bool{}
	var queue []*Table
	for _, t := range d.Tables {
		if t.Triggers {
			fired[t.Name] = true
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		for _, fk := range t.ForeignKeys {
			if !fired[fk.Table] {
				fired[fk.Table] = true
				if p := d.byName[fk.Table]; p != nil {
					queue = append(queue, p)
				}
			}
		}
	}
	return fired
}

// Table is one user table or view.
type Table struct {
	Name    string
	View    bool
	Columns []*Column
	PK      []*Column // primary key columns in key order; empty for tables without one and views
	AutoKey *Column   // the key column the database assigns: SQLite's INTEGER PRIMARY KEY (the rowid), Postgres's identity or serial key
	// RowKey is the store's SQL for a key every row of the table has and
	// no two share, beside the declared one (SQLite's _rowid_), or "":
	// none (a WITHOUT ROWID table, every Postgres table). The JSON API
	// names it "rowid" where rows are addressed by it (UsesRowKey).
	RowKey string
	// Triggers: triggers of the user's (not the change capture's) run on
	// writes to it, doing work the core cannot bound (Database.WriteFires).
	Triggers bool
	// ViewWrites are the writes a view takes through its INSTEAD OF
	// triggers ("insert", "update", "delete"); none for other views.
	ViewWrites []string
	// KeyByRowKey: a table with a RowKey whose declared key may be NULL
	// (see Column.KeyAllowsNull), and that holds a row where it is, is
	// addressed by its RowKey, like one without a key. Found when the
	// schema is reflected: a NULL key written later is seen at the next
	// schema change or start.
	KeyByRowKey bool
	ForeignKeys []ForeignKey
	TextIndex   string // the store's full-text index of this table (SQLite: an external-content FTS5 table), or ""
	Comment     string // what the database says the table is (Postgres's COMMENT ON), or ""
	byName      map[string]*Column
}

// Column returns the named column, or nil.
func (t *Table) Column(name string) *Column { return t.byName[name] }

// Addressable reports whether single rows have a key to be found by: every
// table, and a writable view with a key column (see Reflect).
func (t *Table) Addressable() bool { return !t.View || len(t.PK) > 0 }

// UsesRowKey reports whether rows are addressed by the RowKey: a table
// without a declared key, or one whose declared key cannot tell its rows
// apart (KeyByRowKey).
func (t *Table) UsesRowKey() bool {
	return !t.View && t.RowKey != "" && (len(t.PK) == 0 || t.KeyByRowKey)
}

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
	Check      Constraints
	References *Reference
	// AlsoText: the column's kind comes from SQLite's affinity rules applied
	// to a type name no standard spells (INTEGER_OR_TEXT, UNSIGNED_MONEY) in
	// a table that is not STRICT, where text is what it often holds: the
	// JSON Schema then takes a string as well, so rows can be written with
	// what their neighbours hold.
	AlsoText bool
	// KeyAllowsNull: part of the declared key of a table with a RowKey, without NOT
	// NULL, where SQLite (for compatibility with its early versions) lets
	// the key be NULL, in any number of rows. The schema still asks for a
	// value (nakedhtmx never writes such a key); rows that have one are
	// addressed by its RowKey (Table.KeyByRowKey).
	KeyAllowsNull bool
	// Format is a JSON Schema format every value of the column has by the
	// store's own type, beyond what Kind says (Postgres's uuid: "uuid"), or
	// "": the schema asserts it, so a bad value is refused by field.
	Format string
	// Comment is what the database says the column is (Postgres's COMMENT
	// ON COLUMN), or "": the JSON Schema's description.
	Comment string
	// RefHidden: the column references a table the caller may not see
	// (Database.Visible): it is shown, but not written.
	RefHidden bool
	// Unordered: the store cannot sort or compare its values (Postgres's
	// json, xml and geometric types have no btree order): lists are not
	// sorted, faceted or paged by it.
	Unordered bool
	// File: the config keeps the column's bytes in the host's files
	// directory (config Column.File). The row holds the file's key (text);
	// Kind is Blob, as callers see and send the bytes.
	File bool
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

// Constraints are what CHECK constraints say about a column, in JSON Schema terms.
type Constraints struct {
	Enum                                                 []any // string, int64 or float64 values, in order written
	Minimum, Maximum, ExclusiveMinimum, ExclusiveMaximum any   // int64 or float64, nil when absent
	MinLength, MaxLength                                 *int
}

// NewTable is an empty table or view, for a store's reflection to fill.
func NewTable(name string, view bool) *Table {
	return &Table{Name: name, View: view, byName: map[string]*Column{}}
}

// Add appends a column, found by name from then on.
func (t *Table) Add(c *Column) {
	t.Columns = append(t.Columns, c)
	t.byName[c.Name] = c
}

// NewDatabase is the reflected database of these tables and views: sorted by
// name, and each column that a foreign key names given its Reference.
func NewDatabase(tables []*Table, schemaVersion int64) *Database {
	d := &Database{Tables: tables, SchemaVersion: schemaVersion, byName: map[string]*Table{}}
	sort.Slice(d.Tables, func(i, j int) bool { return d.Tables[i].Name < d.Tables[j].Name })
	for _, t := range d.Tables {
		d.byName[t.Name] = t
	}
	resolveReferences(d)
	return d
}

// UsersTable is the project's table of users (store.Store.UsersSetup).
const UsersTable = Prefix + "users"

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
