// Package schema turns reflected tables into the two documents every screen
// and API answer is built from: a JSON Schema (draft 2020-12, CONTRACT.md's
// conventions) for the data, and a JSON Forms UI schema for the layout.
// The JSON Schema depends on the database alone (it feeds the DSID); the UI
// schema also takes the user's config.
package schema

import (
	"encoding/hex"
	"encoding/json"
	"github.com/nakedhtmx/nakedhtmx/core/digest"
	"strings"
	"unicode"

	"github.com/nakedhtmx/nakedhtmx/core/config"
	"github.com/nakedhtmx/nakedhtmx/core/model"
)

// Draft is the JSON Schema dialect of every generated schema.
const Draft = "https://json-schema.org/draft/2020-12/schema"

// JSONSchema returns a table's JSON Schema.
func JSONSchema(t *model.Table) *Object {
	s := NewObject()
	s.Set("$schema", Draft)
	s.Set("title", t.Name)
	if t.Comment != "" {
		s.Set("description", t.Comment)
	}
	s.Set("type", "object")
	props := NewObject()
	var required []string
	for _, c := range t.Columns {
		props.Set(c.Name, property(t, c))
		if Required(t, c) {
			required = append(required, c.Name)
		}
	}
	s.Set("properties", props)
	if len(required) > 0 {
		s.Set("required", required)
	}
	s.Set("additionalProperties", false)
	if t.View && len(t.ViewWrites) == 0 {
		s.Set("readOnly", true)
	}
	return s
}

// Required reports whether a write must give a column: NOT NULL and nothing
// the database fills by itself.
func Required(t *model.Table, c *model.Column) bool {
	if t.View || c.Generated || c == t.AutoKey || c.Default != nil {
		return false
	}
	return c.NotNull || c.PK > 0
}

// ReadOnly reports whether the database computes a column.
func ReadOnly(t *model.Table, c *model.Column) bool {
	return c.Generated || c == t.AutoKey
}

func property(t *model.Table, c *model.Column) *Object {
	p := NewObject()
	if c.Comment != "" {
		p.Set("description", c.Comment)
	}
	var typ string
	switch c.Kind {
	case model.Integer:
		typ = "integer"
	case model.Number:
		typ = "number"
	case model.Boolean:
		typ = "boolean"
	default:
		typ = "string"
	}
	switch {
	case c.AlsoText && c.Nullable():
		p.Set("type", []string{typ, "string", "null"})
	case c.AlsoText:
		p.Set("type", []string{typ, "string"})
	case c.Nullable() && c != t.AutoKey:
		p.Set("type", []string{typ, "null"})
	default:
		p.Set("type", typ)
	}
	switch c.Kind {
	case model.Blob:
		p.Set("contentEncoding", "base64")
	case model.Date:
		p.Set("format", "date")
	case model.DateTime:
		p.Set("format", "date-time")
	default:
		if c.Format != "" && typ == "string" {
			p.Set("format", c.Format)
		}
	}
	if c.Kind != model.Boolean && c.Kind != model.Blob {
		if c.Check.MinLength != nil && typ == "string" {
			p.Set("minLength", *c.Check.MinLength)
		}
		maxLen := c.MaxLength
		if m := c.Check.MaxLength; m != nil && (maxLen == nil || *m < *maxLen) {
			maxLen = m
		}
		if maxLen != nil && typ == "string" {
			p.Set("maxLength", *maxLen)
		}
		if typ == "integer" || typ == "number" {
			for _, b := range []struct {
				k string
				v any
			}{{"minimum", c.Check.Minimum}, {"exclusiveMinimum", c.Check.ExclusiveMinimum},
				{"maximum", c.Check.Maximum}, {"exclusiveMaximum", c.Check.ExclusiveMaximum}} {
				if b.v != nil {
					p.Set(b.k, b.v)
				}
			}
		}
		if len(c.Check.Enum) > 0 {
			enum := append([]any{}, c.Check.Enum...)
			if c.Nullable() {
				enum = append(enum, nil)
			}
			p.Set("enum", enum)
		}
	}
	if c.Default != nil && c.Default.Literal {
		v := c.Default.Value
		if c.Kind == model.Boolean {
			if n, ok := v.(int64); ok {
				v = n != 0
			}
		}
		p.Set("default", v)
	}
	if ReadOnly(t, c) || t.View && len(t.ViewWrites) == 0 {
		p.Set("readOnly", true)
	}
	if c.PK > 0 {
		p.Set("x-primary-key", true)
	}
	if c.References != nil {
		p.Set("x-references", NewObject().Set("table", c.References.Table).Set("column", c.References.Column))
	}
	if c.Unique {
		p.Set("x-unique", true)
	}
	return p
}

// Set is the canonical schema set of a database: every table's JSON Schema by
// name, in name order. Its bytes are what the DSID hashes.
func Set(d *model.Database) (*Object, []byte) {
	set := NewObject()
	for _, t := range d.Tables {
		set.Set(t.Name, JSONSchema(t))
	}
	b, err := json.Marshal(set)
	if err != nil {
		panic(err) // only strings, numbers and objects: cannot fail
	}
	return set, b
}

// Hash is the content hash part of a DSID.
func Hash(canonical []byte) string {
	sum := digest.Sum256(canonical)
	return hex.EncodeToString(sum[:8])
}

// LabelColumn picks the column that names a row: the config's choice, else a
// column called name, title or label, else one ending so, else the first text
// column that is not a key.
func LabelColumn(t *model.Table, tc *config.Table) *model.Column {
	if tc != nil && tc.LabelColumn != "" {
		if c := t.Column(tc.LabelColumn); c != nil {
			return c
		}
	}
	for _, want := range []string{"name", "title", "label"} {
		for _, c := range t.Columns {
			if strings.EqualFold(c.Name, want) {
				return c
			}
		}
	}
	for _, suffix := range []string{"name", "title", "label"} {
		for _, c := range t.Columns {
			if c.Kind == model.String && strings.HasSuffix(strings.ToLower(c.Name), suffix) {
				return c
			}
		}
	}
	for _, c := range t.Columns {
		if c.Kind == model.String && c.PK == 0 && c.References == nil {
			return c
		}
	}
	return nil
}

// Humanize turns a column name into a label: "first_name" and "FirstName"
// become "First name", a trailing "id" becomes "ID".
func Humanize(name string) string {
	var words []string
	var cur []rune
	rs := []rune(name)
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == ' ':
			flush()
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) ||
			(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	if len(words) == 0 {
		return name
	}
	for i, w := range words {
		switch {
		case strings.EqualFold(w, "id"):
			words[i] = "ID"
		case i == 0:
			r := []rune(w)
			words[i] = string(unicode.ToUpper(r[0])) + string(r[1:])
		case isAllUpper(w):
		default:
			words[i] = strings.ToLower(w)
		}
	}
	return strings.Join(words, " ")
}

func isAllUpper(w string) bool {
	for _, r := range w {
		if unicode.IsLetter(r) && !unicode.IsUpper(r) {
			return false
		}
	}
	return len(w) > 1
}
