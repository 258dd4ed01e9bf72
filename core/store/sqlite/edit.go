package sqlite

// Schema edits on SQLite (issue 18): ALTER TABLE where SQLite has it
// (rename a table or a column, add or drop a column), and the documented
// table rebuild (https://sqlite.org/lang_altertable.html, "Making Other
// Kinds Of Table Schema Changes") for the rest: a new table from the old
// one's CREATE text with one column's definition replaced, every row copied
// with its rowid, the old table dropped, the new one renamed into its place,
// its indexes and triggers made again from their own text, the AUTOINCREMENT
// counter carried over and the foreign keys checked, in one transaction
// that the engine runs with foreign key enforcement off.

import (
	"fmt"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/schemaedit"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store/sqlite/ddl"
)

// rebuildName is the table a rebuild builds before it takes the old one's name.
const rebuildName = model.Prefix + "rebuild"

var q = schemaedit.Quote

// createText is t's CREATE TABLE statement.
func createText(db sqldb.DB, table string) (string, error) {
	r, err := db.Query(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`, table)
	if err != nil {
		return "", err
	}
	if len(r.Values) == 0 {
		return "", schemaedit.Errorf("no such table: %s", table)
	}
	s, _ := r.Values[0][0].(string)
	return s, nil
}

// Structure reads t's indexes, triggers and column CHECKs.
func (Store) Structure(db sqldb.DB, t *model.Table) (*schemaedit.Structure, error) {
	st := schemaedit.NewStructure(t)
	if t.View {
		return st, nil
	}
	text, err := createText(db, t.Name)
	if err != nil {
		return nil, err
	}
	st.DDL = text
	if parsed, err := ddl.ParseCreateTable(text); err == nil {
		for _, c := range parsed.Columns {
			if len(c.Checks) > 0 {
				st.Checks[c.Name] = strings.Join(c.Checks, ") AND (")
				if len(c.Checks) > 1 {
					st.Checks[c.Name] = "(" + st.Checks[c.Name] + ")"
				}
			}
		}
	}
	idx, err := db.Query(`SELECT l.name, l."unique", l.origin FROM pragma_index_list(?) AS l ORDER BY l.name`, t.Name)
	if err != nil {
		return nil, err
	}
	for _, r := range idx.Values {
		name, _ := r[0].(string)
		if model.IsInternal(name) {
			continue
		}
		info := schemaedit.IndexInfo{Name: name, Unique: schemaedit.Int(r[1]) == 1}
		origin, _ := r[2].(string)
		info.Droppable = origin == "c"
		cols, err := db.Query(`SELECT coalesce(name, '(expression)') FROM pragma_index_info(?) ORDER BY seqno`, name)
		if err != nil {
			return nil, err
		}
		for _, c := range cols.Values {
			s, _ := c[0].(string)
			info.Columns = append(info.Columns, s)
		}
		st.Indexes = append(st.Indexes, info)
	}
	trg, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ? ORDER BY name`, t.Name)
	if err != nil {
		return nil, err
	}
	for _, r := range trg.Values {
		if name, _ := r[0].(string); !model.IsInternal(name) {
			st.Triggers = append(st.Triggers, name)
		}
	}
	return st, nil
}

// taken says whether a table or view of that name (any case) exists,
// visible or not: SQLite's names are case-insensitive.
func taken(db sqldb.DB, name string) (bool, error) {
	r, err := db.Query(`SELECT 1 FROM sqlite_schema WHERE lower(name) = lower(?)`, name)
	if err != nil {
		return false, err
	}
	return len(r.Values) > 0, nil
}

// referrers are the tables with a foreign key to t.
func referrers(d *model.Database, t *model.Table) []string {
	var out []string
	for _, o := range d.Tables {
		for _, fk := range o.ForeignKeys {
			if strings.EqualFold(fk.Table, t.Name) && o != t {
				out = append(out, o.Name)
				break
			}
		}
	}
	return out
}

// PlanEdit plans e on SQLite.
func (Store) PlanEdit(db sqldb.DB, d *model.Database, t *model.Table, e *schemaedit.Edit) (*schemaedit.Plan, error) {
	if t != nil && t.View && e.Op != schemaedit.DropTable {
		return nil, schemaedit.Errorf("%s is a view: its structure is its SELECT", t.Name)
	}
	p := &schemaedit.Plan{}
	if t != nil {
		p.Renamed = t.Name
	}
	switch e.Op {
	case schemaedit.CreateTable:
		if ok, err := taken(db, e.Table); err != nil || ok {
			return nil, schemaedit.FirstErr(err, schemaedit.Errorf("the name %q is taken", e.Table))
		}
		body := schemaedit.CreateBody(e.Columns, func(c schemaedit.Column) string {
			c.Type, c.NotNull = "INTEGER", false
			return strings.Replace(c.Definition(), " INTEGER", " INTEGER PRIMARY KEY", 1)
		})
		p.Steps = append(p.Steps, schemaedit.Step{SQL: "CREATE TABLE " + q(e.Table) + " " + body})
		p.Renamed = e.Table
	case schemaedit.RenameTable:
		if ok, err := taken(db, e.To); err != nil || (ok && !strings.EqualFold(e.To, t.Name)) {
			return nil, schemaedit.FirstErr(err, schemaedit.Errorf("the name %q is taken", e.To))
		}
		p.Steps = append(p.Steps, schemaedit.Step{SQL: "ALTER TABLE " + q(t.Name) + " RENAME TO " + q(e.To)})
		p.Renamed = e.To
	case schemaedit.DropTable:
		if refs := referrers(d, t); len(refs) > 0 {
			return nil, schemaedit.Errorf("%s has foreign keys pointing at it (from %s): change or drop those first", t.Name, strings.Join(refs, ", "))
		}
		kind := "TABLE"
		if t.View {
			kind = "VIEW"
		}
		step := schemaedit.Step{SQL: "DROP " + kind + " " + q(t.Name)}
		if !t.View {
			step = schemaedit.DropRows(step.SQL, q(t.Name), t.Name)
		}
		p.Steps = append(p.Steps, step)
		p.Renamed = ""
	case schemaedit.AddColumn:
		if schemaedit.Find(t, e.Def.Name, true) != nil {
			return nil, schemaedit.Errorf("%s already has a column %q", t.Name, e.Def.Name)
		}
		if e.Def.Unique {
			// ALTER TABLE ADD COLUMN cannot add a UNIQUE one.
			return rebuild(db, d, t, "", e.Def, p)
		}
		p.Steps = append(p.Steps, schemaedit.Step{SQL: "ALTER TABLE " + q(t.Name) + " ADD COLUMN " + e.Def.Definition()})
	case schemaedit.AlterColumn:
		c := schemaedit.Find(t, e.Column, true)
		if c == nil {
			return nil, schemaedit.Errorf("%s has no column %q", t.Name, e.Column)
		}
		if c.PK > 0 || c.Generated {
			return nil, schemaedit.Errorf("%s is part of the key or generated: it can be renamed, not changed", c.Name)
		}
		if e.Def.Name != c.Name {
			if other := schemaedit.Find(t, e.Def.Name, true); other != nil && other != c {
				return nil, schemaedit.Errorf("%s already has a column %q", t.Name, e.Def.Name)
			}
		}
		cur, err := current(db, t, c)
		if err != nil {
			return nil, err
		}
		same := cur.Definition()[len(q(cur.Name)):] == e.Def.Definition()[len(q(e.Def.Name)):]
		switch {
		case same && e.Def.Name == c.Name:
			return nil, schemaedit.Errorf("nothing to change")
		case same:
			p.Steps = append(p.Steps, schemaedit.Step{SQL: "ALTER TABLE " + q(t.Name) + " RENAME COLUMN " + q(c.Name) + " TO " + q(e.Def.Name)})
		case e.Def.Name != c.Name:
			return nil, schemaedit.Errorf("rename %s on its own first, then change it", c.Name)
		default:
			return rebuild(db, d, t, c.Name, e.Def, p)
		}
	case schemaedit.DropColumn:
		c := schemaedit.Find(t, e.Column, true)
		if c == nil {
			return nil, schemaedit.Errorf("%s has no column %q", t.Name, e.Column)
		}
		p.Steps = append(p.Steps, schemaedit.DropValues("ALTER TABLE "+q(t.Name)+" DROP COLUMN "+q(c.Name), q(t.Name), c.Name))
	case schemaedit.AddIndex:
		return addIndex(db, t, e.Index, p)
	case schemaedit.DropIndex:
		st, err := Store{}.Structure(db, t)
		if err != nil {
			return nil, err
		}
		for _, ix := range st.Indexes {
			if ix.Name == e.IndexName && ix.Droppable {
				p.Steps = append(p.Steps, schemaedit.Step{SQL: "DROP INDEX " + q(ix.Name)})
				return p, nil
			}
		}
		return nil, schemaedit.Errorf("%s has no index %q that CREATE INDEX made", t.Name, e.IndexName)
	}
	return p, nil
}

// addIndex plans CREATE INDEX, named after the table and its columns
// unless the edit names it.
func addIndex(db sqldb.DB, t *model.Table, ix *schemaedit.Index, p *schemaedit.Plan) (*schemaedit.Plan, error) {
	name, cols, err := schemaedit.IndexColumns(t, ix, true, schemaedit.MaxName)
	if err != nil {
		return nil, err
	}
	if ok, err := taken(db, name); err != nil || ok {
		return nil, schemaedit.FirstErr(err, schemaedit.Errorf("the name %q is taken", name))
	}
	unique := ""
	if ix.Unique {
		unique = "UNIQUE "
	}
	p.Steps = append(p.Steps, schemaedit.Step{SQL: "CREATE " + unique + "INDEX " + q(name) + " ON " + q(t.Name) + " (" + strings.Join(cols, ", ") + ")"})
	return p, nil
}

// current is c's definition as an edit would give it, from its CREATE text.
func current(db sqldb.DB, t *model.Table, c *model.Column) (*schemaedit.Column, error) {
	st, err := Store{}.Structure(db, t)
	if err != nil {
		return nil, err
	}
	return schemaedit.Current(c, st), nil
}

// rebuild plans the table rebuild with one column's definition replaced
// (name: the column; "" adds def at the end).
func rebuild(db sqldb.DB, d *model.Database, t *model.Table, name string, def *schemaedit.Column, p *schemaedit.Plan) (*schemaedit.Plan, error) {
	text, err := createText(db, t.Name)
	if err != nil {
		return nil, err
	}
	parsed, err := ddl.ParseCreateTable(text)
	if err != nil {
		return nil, schemaedit.Errorf("%s's CREATE TABLE text cannot be rebuilt: %v", t.Name, err)
	}
	// The new column's text: the edit's definition, keeping a collation
	// and the default when it is an expression the edit gives back as is.
	newDef := *def
	var keep string
	if name != "" {
		old := schemaedit.Find(t, name, true)
		if old.Default != nil && !old.Default.Literal {
			if s, ok := def.Default.(string); ok && s == old.Default.SQL {
				newDef.Default = nil
				keep = " DEFAULT " + old.Default.SQL
			}
		}
	}
	colText := newDef.Definition()
	if keep != "" {
		// after NOT NULL/UNIQUE, before CHECK and REFERENCES: any order is valid SQL
		colText += keep
	}
	var body string
	rest := text[parsed.Body:]
	if name == "" {
		// Add at the end of the columns: before the first table constraint
		// or the closing parenthesis.
		last := parsed.Columns[len(parsed.Columns)-1]
		at := last.End - parsed.Body
		body = rest[:at] + ",\n  " + colText + rest[at:]
	} else {
		var pc *ddl.Column
		for i := range parsed.Columns {
			if strings.EqualFold(parsed.Columns[i].Name, name) {
				pc = &parsed.Columns[i]
			}
		}
		if pc == nil {
			return nil, schemaedit.Errorf("%s's column %q is not in its CREATE TABLE text", t.Name, name)
		}
		old := schemaedit.Find(t, name, true)
		cur := schemaedit.Current(old, &schemaedit.Structure{})
		if parsed.TableFKs[strings.ToLower(name)] && !schemaedit.SameRef(cur.References, def.References, true) {
			return nil, schemaedit.Errorf("%s's foreign key is declared at the end of its table: change it with SQL", name)
		}
		if parsed.TableFKs[strings.ToLower(name)] {
			newDef.References = nil // kept where it is declared
			colText = newDef.Definition() + keep
		}
		if pc.Collate != "" {
			colText += " COLLATE " + q(pc.Collate)
		}
		body = rest[:pc.Start-parsed.Body] + colText + rest[pc.End-parsed.Body:]
	}
	saved, err := db.Query(`SELECT sql FROM sqlite_schema WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL AND substr(name, 1, ?) <> ? ORDER BY type, name`,
		t.Name, int64(len(model.Prefix)), model.Prefix)
	if err != nil {
		return nil, err
	}
	// The columns copied: all but generated ones, under their names (a
	// new column is filled by its default).
	var cols []string
	for _, c := range t.Columns {
		if !c.Generated && !c.Hidden {
			cols = append(cols, q(c.Name))
		}
	}
	list := strings.Join(cols, ", ")
	rowid := ""
	if !parsed.WithoutRowid {
		rowid = rowidAlias(t)
	}
	into, from := list, list
	if rowid != "" {
		into, from = rowid+", "+list, rowid+", "+list
	}
	p.Rebuild = true
	p.Notes = append(p.Notes, "SQLite cannot make this change in place: the table is rebuilt (a new table, every row copied, the old one replaced), keeping its rows, indexes and triggers.")
	// Shown as what it makes: the table as it will be, its rows copied.
	p.Steps = append(p.Steps,
		schemaedit.Step{SQL: "CREATE TABLE " + q(rebuildName) + " " + body, Show: "CREATE TABLE " + q(t.Name) + " " + body},
		schemaedit.Step{SQL: "INSERT INTO " + q(rebuildName) + " (" + into + ") SELECT " + from + " FROM " + q(t.Name),
			Show: "-- every row of " + t.Name + " copied into it (" + list + "), the old table replaced"},
	)
	if name != "" {
		// What the copy changed: a value whose quote() differs (SQLite's
		// column affinity turned '007' into 7, say).
		on := "n." + rowid + " = o." + rowid
		if rowid == "" {
			var conds []string
			for _, k := range t.PK {
				conds = append(conds, "n."+q(k.Name)+" IS o."+q(k.Name))
			}
			on = strings.Join(conds, " AND ")
		}
		old := q(schemaedit.Find(t, name, true).Name)
		p.Steps[len(p.Steps)-1].Check = &schemaedit.Check{Query: "SELECT count(*) FROM " + q(t.Name) + " AS o JOIN " + q(rebuildName) + " AS n ON " + on +
			" WHERE quote(n." + q(def.Name) + ") IS NOT quote(o." + old + ")", Message: "%d values of " + def.Name + " will change as the new type stores them"}
	}
	if parsed.Autoincrement {
		p.Steps = append(p.Steps,
			schemaedit.Step{SQL: "DELETE FROM sqlite_sequence WHERE name = " + lit(rebuildName), Show: "-"},
			schemaedit.Step{SQL: "INSERT INTO sqlite_sequence (name, seq) SELECT " + lit(rebuildName) + ", seq FROM sqlite_sequence WHERE name = " + lit(t.Name),
				Show: "-- its AUTOINCREMENT counter kept"},
		)
	}
	p.Steps = append(p.Steps,
		schemaedit.Step{SQL: "DROP TABLE " + q(t.Name), Show: "-"},
		// Views that name the table are left as they are: legacy mode keeps
		// the rename from checking them while the table is away.
		schemaedit.Step{SQL: "PRAGMA legacy_alter_table = ON", Show: "-"},
		schemaedit.Step{SQL: "ALTER TABLE " + q(rebuildName) + " RENAME TO " + q(t.Name), Show: "-"},
		schemaedit.Step{SQL: "PRAGMA legacy_alter_table = OFF", Show: "-"},
	)
	for _, r := range saved.Values {
		s, _ := r[0].(string)
		p.Steps = append(p.Steps, schemaedit.Step{SQL: s})
	}
	// Foreign keys: no row of the table, or of one that points at it, may
	// break one that held before.
	checked := append([]string{t.Name}, referrers(d, t)...)
	var parts []string
	for _, n := range checked {
		parts = append(parts, "(SELECT count(*) FROM pragma_foreign_key_check("+lit(n)+"))")
	}
	count := strings.Join(parts, " + ")
	r, err := db.Query("SELECT " + count)
	if err != nil {
		return nil, err
	}
	before := schemaedit.Int(r.Values[0][0])
	p.Steps = append(p.Steps, schemaedit.Step{
		SQL: "PRAGMA foreign_key_check", Check: &schemaedit.Check{Query: fmt.Sprintf("SELECT %s > %d", count, before), Refuse: true,
			Message: "the change would break foreign keys of " + strings.Join(checked, ", ")},
	})
	return p, nil
}

// rowidAlias is a name for t's rowid that no column of t hides, or "".
func rowidAlias(t *model.Table) string {
	for _, n := range []string{"rowid", "oid", "_rowid_"} {
		if schemaedit.Find(t, n, true) == nil {
			return n
		}
	}
	return ""
}

func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
