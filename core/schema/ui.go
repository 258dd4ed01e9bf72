package schema

import (
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/config"
	"github.com/nakedhtmx/nakedhtmx/core/model"
)

// Field is one form field as the renderer needs it: the UI schema's Control,
// resolved against the table and config.
type Field struct {
	Column       *model.Column
	Label        string
	Widget       string
	ReadOnly     bool // shown, not editable
	HideOnCreate bool
	Help         string
	Reference    *Reference
}

// Reference describes a foreign-key widget.
type Reference struct {
	Table       string
	Column      string
	LabelColumn string // "" when the parent has no text column
}

// Fields returns a table's form fields in display order, hidden ones left out.
func Fields(d *model.Database, t *model.Table, cfg *config.Config) []*Field {
	tc := cfg.Table(t.Name)
	ordered := make([]*model.Column, 0, len(t.Columns))
	seen := map[string]bool{}
	for _, name := range tc.Order {
		if c := t.Column(name); c != nil && !seen[name] {
			ordered = append(ordered, c)
			seen[name] = true
		}
	}
	for _, c := range t.Columns {
		if !seen[c.Name] {
			ordered = append(ordered, c)
		}
	}
	var out []*Field
	for _, c := range ordered {
		cc := tc.Column(c.Name)
		if cc.Hidden {
			continue
		}
		f := &Field{Column: c, Label: cc.Label, Help: cc.Help}
		if f.Label == "" {
			f.Label = Humanize(c.Name)
			// A reference shows the row it points at, not its key: "Artist", not "Artist ID".
			if c.References != nil && c.References.Key == nil && strings.HasSuffix(f.Label, " ID") {
				f.Label = strings.TrimSuffix(f.Label, " ID")
			}
		}
		f.Widget = widget(c)
		if c.References != nil && c.References.Key == nil {
			ref := &Reference{Table: c.References.Table, Column: c.References.Column}
			if p := d.Table(c.References.Table); p != nil {
				if lc := LabelColumn(p, cfg.Table(p.Name)); lc != nil {
					ref.LabelColumn = lc.Name
				}
			}
			f.Reference = ref
		}
		if cc.Widget != "" {
			f.Widget = cc.Widget
		}
		if ReadOnly(t, c) || t.View && len(t.ViewWrites) == 0 || tc.ReadOnly || cc.ReadOnly {
			f.ReadOnly = true
		}
		// Nothing can be typed into a read-only field, and a new row has no
		// value to show in it yet: leave it off the create form.
		if ReadOnly(t, c) || cc.ReadOnly {
			f.HideOnCreate = true
		}
		out = append(out, f)
	}
	return out
}

var (
	longTextNames = []string{"description", "notes", "note", "body", "comment", "comments", "content", "bio", "summary", "about", "details", "text", "message"}
	emailNames    = []string{"email", "e_mail", "mail"}
	urlNames      = []string{"url", "website", "homepage", "link", "href", "uri"}
	phoneNames    = []string{"phone", "tel", "telephone", "mobile", "fax", "cell"}
)

func nameHas(name string, words []string) bool {
	n := strings.ToLower(name)
	for _, w := range words {
		if n == w || strings.HasSuffix(n, w) || strings.HasPrefix(n, w+"_") {
			return true
		}
	}
	return false
}

// widget chooses a widget by type, constraints and name.
func widget(c *model.Column) string {
	switch {
	case c.References != nil && c.References.Key == nil:
		return "reference"
	case c.AlsoText:
		return "text" // holds text as well as its kind's values
	case c.Kind == model.Boolean:
		return "checkbox"
	case len(c.Check.Enum) > 0:
		return "select"
	case c.Kind == model.Date:
		return "date"
	case c.Kind == model.DateTime:
		return "datetime"
	case c.Kind == model.Blob:
		return "file"
	case c.Kind == model.Integer:
		return "integer"
	case c.Kind == model.Number:
		return "number"
	}
	switch {
	case nameHas(c.Name, emailNames):
		return "email"
	case nameHas(c.Name, urlNames):
		return "url"
	case nameHas(c.Name, phoneNames):
		return "tel"
	case nameHas(c.Name, longTextNames):
		return "textarea"
	case c.MaxLength != nil && *c.MaxLength > 255:
		return "textarea"
	}
	return "text"
}

// UISchema returns the JSON Forms UI schema of a table.
func UISchema(d *model.Database, t *model.Table, cfg *config.Config) *Object {
	tc := cfg.Table(t.Name)
	var elems []any
	for _, f := range Fields(d, t, cfg) {
		ctl := NewObject()
		ctl.Set("type", "Control")
		ctl.Set("scope", "#/properties/"+pointerEscape(f.Column.Name))
		ctl.Set("label", f.Label)
		opts := NewObject()
		opts.Set("widget", f.Widget)
		if f.Widget == "textarea" {
			opts.Set("multi", true)
		}
		if f.ReadOnly {
			opts.Set("readonly", true)
		}
		if f.HideOnCreate {
			opts.Set("hideOnCreate", true)
		}
		if f.Reference != nil {
			ref := NewObject().Set("table", f.Reference.Table).Set("column", f.Reference.Column)
			if f.Reference.LabelColumn != "" {
				ref.Set("labelColumn", f.Reference.LabelColumn)
			}
			opts.Set("reference", ref)
		}
		if f.Help != "" {
			opts.Set("help", f.Help)
		}
		ctl.Set("options", opts)
		elems = append(elems, ctl)
	}
	if elems == nil {
		elems = []any{}
	}
	ui := NewObject()
	ui.Set("type", "VerticalLayout")
	ui.Set("elements", elems)
	opts := NewObject()
	label := tc.Label
	if label == "" {
		label = t.Name
	}
	opts.Set("label", label)
	if lc := LabelColumn(t, tc); lc != nil {
		opts.Set("labelColumn", lc.Name)
	}
	if t.View && len(t.ViewWrites) == 0 || tc.ReadOnly {
		opts.Set("readOnly", true)
	}
	ui.Set("options", opts)
	return ui
}

// pointerEscape escapes a name as one JSON Pointer token (RFC 6901).
func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
