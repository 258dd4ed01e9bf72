package model

import "slices"

// Visible is the database as a caller may see it: the one model that
// renderers, exporters, validators and event streams receive, so no path can
// show what the config hides by forgetting to check (CONTRACT, "Browser
// safety"; the guard issue). hideTable and hideColumn say what is hidden.
//
// A hidden column is not in the copy at all: its table's SELECTs do not read
// it, its values reach no answer, it cannot be sorted, filtered or searched
// by, and its name appears nowhere. A key column stays (rows are found by
// it, and its values are in every link). A table's full-text index is left
// out when the table hides a column (it may index that column, and a
// match would say what it holds); search then looks through the visible
// text columns. A reference to a hidden table keeps its column but loses the
// reference (no label, no link); ForeignKeys keeps only those whose parent
// and columns are visible, and RefHidden marks the columns of the others, so
// writes to them can be refused (a write that succeeds or fails on a key
// of a hidden table would say whether that key exists).
func (d *Database) Visible(hideTable func(table string) bool, hideColumn func(table, column string) bool) *Database {
	out := &Database{SchemaVersion: d.SchemaVersion, NullsLast: d.NullsLast, byName: map[string]*Table{}}
	for _, t := range d.Tables {
		if hideTable(t.Name) {
			continue
		}
		nt := *t
		nt.byName = map[string]*Column{}
		nt.Columns = make([]*Column, 0, len(t.Columns))
		moved := map[*Column]*Column{}
		hid := false
		for _, c := range t.Columns {
			if hideColumn(t.Name, c.Name) && c.PK == 0 && c != t.AutoKey {
				hid = true
				continue
			}
			nc := *c
			nc.Index = len(nt.Columns)
			if r := c.References; r != nil && hideTable(r.Table) {
				nc.References, nc.RefHidden = nil, true
			}
			nt.Columns = append(nt.Columns, &nc)
			nt.byName[nc.Name] = &nc
			moved[c] = &nc
		}
		nt.PK = make([]*Column, len(t.PK))
		for i, c := range t.PK {
			nt.PK[i] = moved[c]
		}
		nt.AutoKey = moved[t.AutoKey]
		if hid {
			nt.TextIndex = ""
		}
		nt.ForeignKeys = nil
	keys:
		for _, fk := range t.ForeignKeys {
			if hideTable(fk.Table) {
				continue
			}
			for _, from := range fk.From {
				if nt.byName[from] == nil {
					continue keys
				}
			}
			for _, to := range fk.To {
				if hideColumn(fk.Table, to) {
					continue keys
				}
			}
			nt.ForeignKeys = append(nt.ForeignKeys, fk)
		}
		// Composite references point at the copy's own keys.
		for _, c := range nt.Columns {
			if c.References != nil && c.References.Key != nil {
				ref := *c.References
				ref.Key = nil
				for i := range nt.ForeignKeys {
					if nt.ForeignKeys[i].Table == ref.Table && len(nt.ForeignKeys[i].From) > 1 && slices.Contains(nt.ForeignKeys[i].From, c.Name) {
						ref.Key = &nt.ForeignKeys[i]
					}
				}
				if ref.Key == nil {
					c.References = nil
				} else {
					c.References = &ref
				}
			}
		}
		out.Tables = append(out.Tables, &nt)
		out.byName[nt.Name] = &nt
	}
	return out
}
