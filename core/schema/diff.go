package schema

import (
	"bytes"
	"encoding/json"
	"sort"
)

// Change is one structural difference between two schema sets, as the
// `schema` event lists them and as stale writes are remapped through.
type Change struct {
	Kind   string `json:"kind"` // table-added, table-dropped, table-renamed, column-added, column-dropped, column-renamed, column-retyped, column-changed
	Table  string `json:"table"`
	From   string `json:"from,omitempty"` // the old name of a renamed table or column
	Column string `json:"column,omitempty"`
	Was    any    `json:"was,omitempty"` // a retyped column's old type
	Is     any    `json:"is,omitempty"`  // and its new one
}

// snapTable is one table of a snapshot: its columns in order.
type snapTable struct {
	name  string
	cols  []string
	props map[string]json.RawMessage
	raw   []byte // properties and required, to recognise a renamed table
}

// parseSet reads a canonical schema set (Set's bytes) keeping column order.
func parseSet(b []byte) (map[string]*snapTable, []string, error) {
	var tables map[string]json.RawMessage
	if err := json.Unmarshal(b, &tables); err != nil {
		return nil, nil, err
	}
	out := map[string]*snapTable{}
	var names []string
	for name, raw := range tables {
		var doc struct {
			Properties json.RawMessage `json:"properties"`
			Required   []string        `json:"required"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, nil, err
		}
		st := &snapTable{name: name, props: map[string]json.RawMessage{}}
		dec := json.NewDecoder(bytes.NewReader(doc.Properties))
		if _, err := dec.Token(); err == nil { // {
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, nil, err
				}
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					return nil, nil, err
				}
				key := k.(string)
				st.cols = append(st.cols, key)
				st.props[key] = v
			}
		}
		req, _ := json.Marshal(doc.Required)
		st.raw = append(append([]byte{}, doc.Properties...), req...)
		out[name] = st
		names = append(names, name)
	}
	sort.Strings(names)
	return out, names, nil
}

// Renames are hints for changes reflection cannot tell apart: table name to
// {old column: new column}, and "" to {old table: new table}.
type Renames map[string]map[string]string

// Diff lists what changed from one schema set to the next. A column that
// vanished and one that appeared at the same position with the same schema
// are a rename; so are a table that vanished and one that appeared with the
// same columns. Hints settle what the guess cannot.
func Diff(prev, next []byte, hints Renames) ([]Change, error) {
	a, an, err := parseSet(prev)
	if err != nil {
		return nil, err
	}
	b, bn, err := parseSet(next)
	if err != nil {
		return nil, err
	}
	var out []Change
	var dropped, added []string
	for _, n := range an {
		if b[n] == nil {
			dropped = append(dropped, n)
		}
	}
	for _, n := range bn {
		if a[n] == nil {
			added = append(added, n)
		}
	}
	renamedTo := map[string]string{} // old -> new
	taken := map[string]bool{}
	for _, old := range dropped {
		if hint := hints[""][old]; hint != "" && b[hint] != nil && a[hint] == nil {
			renamedTo[old], taken[hint] = hint, true
		}
	}
	for _, old := range dropped {
		if renamedTo[old] != "" {
			continue
		}
		var match []string
		for _, n := range added {
			if !taken[n] && bytes.Equal(a[old].raw, b[n].raw) {
				match = append(match, n)
			}
		}
		if len(match) == 1 {
			renamedTo[old], taken[match[0]] = match[0], true
		}
	}
	for _, old := range dropped {
		if n := renamedTo[old]; n != "" {
			out = append(out, Change{Kind: "table-renamed", Table: n, From: old})
		} else {
			out = append(out, Change{Kind: "table-dropped", Table: old})
		}
	}
	for _, n := range added {
		if !taken[n] {
			out = append(out, Change{Kind: "table-added", Table: n})
		}
	}
	for _, n := range an {
		to := n
		if b[n] == nil {
			to = renamedTo[n]
		}
		if to == "" {
			continue
		}
		out = append(out, diffColumns(a[n], b[to], to, hints[to])...)
	}
	return out, nil
}

func diffColumns(a, b *snapTable, table string, hints map[string]string) []Change {
	var out []Change
	inB := map[string]bool{}
	for _, c := range b.cols {
		inB[c] = true
	}
	inA := map[string]bool{}
	for _, c := range a.cols {
		inA[c] = true
	}
	renamed := map[string]string{}
	taken := map[string]bool{}
	for old, nw := range hints {
		if inA[old] && !inB[old] && inB[nw] && !inA[nw] {
			renamed[old], taken[nw] = nw, true
		}
	}
	for i, c := range a.cols {
		if inB[c] || renamed[c] != "" {
			continue
		}
		// Same position, same schema, a name the old set did not have.
		if i < len(b.cols) {
			n := b.cols[i]
			if !inA[n] && !taken[n] && bytes.Equal(a.props[c], b.props[n]) {
				renamed[c], taken[n] = n, true
			}
		}
	}
	for _, c := range a.cols {
		switch {
		case renamed[c] != "":
			out = append(out, Change{Kind: "column-renamed", Table: table, Column: renamed[c], From: c})
		case !inB[c]:
			out = append(out, Change{Kind: "column-dropped", Table: table, Column: c})
		case !bytes.Equal(a.props[c], b.props[c]):
			was, is := typeOf(a.props[c]), typeOf(b.props[c])
			if !jsonEqual(was, is) {
				out = append(out, Change{Kind: "column-retyped", Table: table, Column: c, Was: was, Is: is})
			} else {
				out = append(out, Change{Kind: "column-changed", Table: table, Column: c})
			}
		}
	}
	for _, c := range b.cols {
		if !inA[c] && !taken[c] {
			out = append(out, Change{Kind: "column-added", Table: table, Column: c})
		}
	}
	return out
}

func typeOf(prop json.RawMessage) any {
	var p struct {
		Type   any    `json:"type"`
		Format string `json:"format"`
	}
	json.Unmarshal(prop, &p)
	if p.Format != "" {
		return []any{p.Type, p.Format}
	}
	return p.Type
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
