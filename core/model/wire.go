package model

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// The model as data: what a replica (a browser's local copy, issue 19) is
// opened from, so the copy answers from the server's own model (the tables
// and columns a caller may see, in the server's store's words) instead of
// reflecting its local tables, whose types and catalog differ. EncodeWire and
// DecodeWire are each other's inverse: DecodeWire(EncodeWire(d)) is d, held
// by wire_test.go on every database of the golden corpus.
//
// The `any` values (enums, bounds, literal defaults) keep their Go type, an
// INTEGER and a REAL being told apart by the JSON Schema and the validator:
// each is an object with one member, "i" (int64 in decimal digits, exact
// past 2^53), "f" (a float64), "s" (a string) or "b" (a bool), or null.

type wireDatabase struct {
	Tables        []wireTable `json:"tables"`
	SchemaVersion int64       `json:"schemaVersion"`
	Users         bool        `json:"users,omitempty"`
	NullsLast     bool        `json:"nullsLast,omitempty"`
}

type wireTable struct {
	Name        string       `json:"name"`
	View        bool         `json:"view,omitempty"`
	Columns     []wireColumn `json:"columns"`
	PK          []string     `json:"pk,omitempty"`
	AutoKey     string       `json:"autoKey,omitempty"`
	RowKey      string       `json:"rowKey,omitempty"`
	Triggers    bool         `json:"triggers,omitempty"`
	ViewWrites  []string     `json:"viewWrites,omitempty"`
	KeyByRowKey bool         `json:"keyByRowKey,omitempty"`
	ForeignKeys []ForeignKey `json:"foreignKeys,omitempty"`
	TextIndex   string       `json:"textIndex,omitempty"`
	Comment     string       `json:"comment,omitempty"`
}

type wireColumn struct {
	Name          string           `json:"name"`
	Type          string           `json:"type"`
	Kind          Kind             `json:"kind"`
	NotNull       bool             `json:"notNull,omitempty"`
	Default       *wireDefault     `json:"default,omitempty"`
	PK            int              `json:"pk,omitempty"`
	Generated     bool             `json:"generated,omitempty"`
	Hidden        bool             `json:"hidden,omitempty"`
	Unique        bool             `json:"unique,omitempty"`
	MaxLength     *int             `json:"maxLength,omitempty"`
	Check         *wireConstraints `json:"check,omitempty"`
	References    *wireReference   `json:"references,omitempty"`
	AlsoText      bool             `json:"alsoText,omitempty"`
	KeyAllowsNull bool             `json:"keyAllowsNull,omitempty"`
	Format        string           `json:"format,omitempty"`
	Comment       string           `json:"comment,omitempty"`
	RefHidden     bool             `json:"refHidden,omitempty"`
	File          bool             `json:"file,omitempty"`
	Unordered     bool             `json:"unordered,omitempty"`
}

type wireDefault struct {
	SQL     string    `json:"sql"`
	Literal bool      `json:"literal,omitempty"`
	Value   wireValue `json:"value"`
}

type wireConstraints struct {
	Enum             []wireValue `json:"enum,omitempty"`
	Minimum          *wireValue  `json:"minimum,omitempty"`
	Maximum          *wireValue  `json:"maximum,omitempty"`
	ExclusiveMinimum *wireValue  `json:"exclusiveMinimum,omitempty"`
	ExclusiveMaximum *wireValue  `json:"exclusiveMaximum,omitempty"`
	MinLength        *int        `json:"minLength,omitempty"`
	MaxLength        *int        `json:"maxLength,omitempty"`
}

// wireReference: Key is the index of the whole foreign key in the table's
// ForeignKeys (a composite one), or -1.
type wireReference struct {
	Table  string `json:"table"`
	Column string `json:"column"`
	Key    int    `json:"key"`
}

// wireValue is one `any` of the model, its Go type kept.
type wireValue struct{ v any }

func (w wireValue) MarshalJSON() ([]byte, error) {
	switch x := w.v.(type) {
	case nil:
		return []byte("null"), nil
	case int64:
		return json.Marshal(map[string]string{"i": strconv.FormatInt(x, 10)})
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("model: %v has no JSON spelling", x)
		}
		return json.Marshal(map[string]float64{"f": x})
	case string:
		return json.Marshal(map[string]string{"s": x})
	case bool:
		return json.Marshal(map[string]bool{"b": x})
	}
	return nil, fmt.Errorf("model: a value of type %T cannot be sent", w.v)
}

func (w *wireValue) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		w.v = nil
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || len(m) != 1 {
		return fmt.Errorf("model: a value is an object of one member")
	}
	for k, raw := range m {
		switch k {
		case "i":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return err
			}
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("model: integer %q: %w", s, err)
			}
			w.v = n
		case "f":
			var f float64
			if err := json.Unmarshal(raw, &f); err != nil {
				return err
			}
			w.v = f
		case "s":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return err
			}
			w.v = s
		case "b":
			var v bool
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			w.v = v
		default:
			return fmt.Errorf("model: unknown value tag %q", k)
		}
	}
	return nil
}

// wireOf is v on the wire, or nil (left out) when absent.
func wireOf(v any) *wireValue {
	if v == nil {
		return nil
	}
	return &wireValue{v}
}

func (w *wireValue) value() any {
	if w == nil {
		return nil
	}
	return w.v
}

// EncodeWire writes d as data (see above).
func EncodeWire(d *Database) ([]byte, error) { return encodeWire(d, false) }

// EncodeWireForReader is EncodeWire without the SQL of a default that is no
// constant (an expression, a function, a sequence): only those who may
// change the structure are shown it (engine/structure.go), and a copy's
// pages never show it; the default itself stays (a field it fills is not
// required).
func EncodeWireForReader(d *Database) ([]byte, error) { return encodeWire(d, true) }

func encodeWire(d *Database, reader bool) ([]byte, error) {
	out := wireDatabase{SchemaVersion: d.SchemaVersion, Users: d.Users, NullsLast: d.NullsLast, Tables: make([]wireTable, 0, len(d.Tables))}
	for _, t := range d.Tables {
		wt := wireTable{Name: t.Name, View: t.View, RowKey: t.RowKey, Triggers: t.Triggers, ViewWrites: t.ViewWrites,
			KeyByRowKey: t.KeyByRowKey, ForeignKeys: t.ForeignKeys, TextIndex: t.TextIndex, Comment: t.Comment,
			Columns: make([]wireColumn, 0, len(t.Columns))}
		for _, c := range t.PK {
			wt.PK = append(wt.PK, c.Name)
		}
		if t.AutoKey != nil {
			wt.AutoKey = t.AutoKey.Name
		}
		for i, c := range t.Columns {
			if c.Index != i {
				return nil, fmt.Errorf("model: %s.%s is column %d at place %d", t.Name, c.Name, c.Index, i)
			}
			wc := wireColumn{Name: c.Name, Type: c.Type, Kind: c.Kind, NotNull: c.NotNull, PK: c.PK, Generated: c.Generated,
				Hidden: c.Hidden, Unique: c.Unique, MaxLength: c.MaxLength, AlsoText: c.AlsoText, KeyAllowsNull: c.KeyAllowsNull,
				Format: c.Format, Comment: c.Comment, RefHidden: c.RefHidden, File: c.File, Unordered: c.Unordered}
			if ch := c.Check; ch.Enum != nil || ch.Minimum != nil || ch.Maximum != nil || ch.ExclusiveMinimum != nil ||
				ch.ExclusiveMaximum != nil || ch.MinLength != nil || ch.MaxLength != nil {
				wc.Check = &wireConstraints{Minimum: wireOf(ch.Minimum), Maximum: wireOf(ch.Maximum),
					ExclusiveMinimum: wireOf(ch.ExclusiveMinimum), ExclusiveMaximum: wireOf(ch.ExclusiveMaximum),
					MinLength: ch.MinLength, MaxLength: ch.MaxLength}
				for _, v := range ch.Enum {
					wc.Check.Enum = append(wc.Check.Enum, wireValue{v})
				}
			}
			if c.Default != nil {
				wc.Default = &wireDefault{SQL: c.Default.SQL, Literal: c.Default.Literal, Value: wireValue{c.Default.Value}}
				if reader && !c.Default.Literal {
					wc.Default.SQL = ""
				}
			}
			if r := c.References; r != nil {
				wr := &wireReference{Table: r.Table, Column: r.Column, Key: -1}
				if r.Key != nil {
					for k := range t.ForeignKeys {
						if &t.ForeignKeys[k] == r.Key {
							wr.Key = k
						}
					}
					if wr.Key < 0 {
						return nil, fmt.Errorf("model: %s.%s references a key its table does not list", t.Name, c.Name)
					}
				}
				wc.References = wr
			}
			wt.Columns = append(wt.Columns, wc)
		}
		out.Tables = append(out.Tables, wt)
	}
	return json.Marshal(out)
}

// DecodeWire reads what EncodeWire wrote, refusing what no model holds (a
// key naming no column, a reference to a foreign key the table lacks, two
// tables or columns of one name), so a hostile payload cannot make a model
// whose lookups fail later.
func DecodeWire(b []byte) (*Database, error) {
	var in wireDatabase
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	d := &Database{SchemaVersion: in.SchemaVersion, Users: in.Users, NullsLast: in.NullsLast, byName: map[string]*Table{}}
	for _, wt := range in.Tables {
		if wt.Name == "" || d.byName[wt.Name] != nil {
			return nil, fmt.Errorf("model: table %q twice or unnamed", wt.Name)
		}
		t := NewTable(wt.Name, wt.View)
		t.RowKey, t.Triggers, t.ViewWrites, t.KeyByRowKey = wt.RowKey, wt.Triggers, wt.ViewWrites, wt.KeyByRowKey
		t.ForeignKeys, t.TextIndex, t.Comment = wt.ForeignKeys, wt.TextIndex, wt.Comment
		for i, wc := range wt.Columns {
			if wc.Name == "" || t.byName[wc.Name] != nil {
				return nil, fmt.Errorf("model: %s: column %q twice or unnamed", wt.Name, wc.Name)
			}
			c := &Column{Name: wc.Name, Index: i, Type: wc.Type, Kind: wc.Kind, NotNull: wc.NotNull, PK: wc.PK, Generated: wc.Generated,
				Hidden: wc.Hidden, Unique: wc.Unique, MaxLength: wc.MaxLength, AlsoText: wc.AlsoText, KeyAllowsNull: wc.KeyAllowsNull,
				Format: wc.Format, Comment: wc.Comment, RefHidden: wc.RefHidden, File: wc.File, Unordered: wc.Unordered}
			if ch := wc.Check; ch != nil {
				c.Check = Constraints{Minimum: ch.Minimum.value(), Maximum: ch.Maximum.value(),
					ExclusiveMinimum: ch.ExclusiveMinimum.value(), ExclusiveMaximum: ch.ExclusiveMaximum.value(),
					MinLength: ch.MinLength, MaxLength: ch.MaxLength}
				for _, v := range ch.Enum {
					c.Check.Enum = append(c.Check.Enum, v.v)
				}
			}
			if wd := wc.Default; wd != nil {
				c.Default = &Default{SQL: wd.SQL, Literal: wd.Literal, Value: wd.Value.v}
			}
			if wr := wc.References; wr != nil {
				r := &Reference{Table: wr.Table, Column: wr.Column}
				if wr.Key >= 0 {
					if wr.Key >= len(t.ForeignKeys) {
						return nil, fmt.Errorf("model: %s.%s references foreign key %d of %d", wt.Name, wc.Name, wr.Key, len(t.ForeignKeys))
					}
					r.Key = &t.ForeignKeys[wr.Key]
				}
				c.References = r
			}
			t.Add(c)
		}
		for _, name := range wt.PK {
			c := t.byName[name]
			if c == nil {
				return nil, fmt.Errorf("model: %s: key column %q is not a column", wt.Name, name)
			}
			t.PK = append(t.PK, c)
		}
		if wt.AutoKey != "" {
			if t.AutoKey = t.byName[wt.AutoKey]; t.AutoKey == nil {
				return nil, fmt.Errorf("model: %s: key column %q is not a column", wt.Name, wt.AutoKey)
			}
		}
		d.Tables = append(d.Tables, t)
		d.byName[t.Name] = t
	}
	return d, nil
}
