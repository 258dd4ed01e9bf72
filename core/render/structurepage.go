package render

import (
	"sort"

	"github.com/nakedhtmx/nakedhtmx/core/schemaedit"
)

// StructureData is a table's structure page, or the new-table page (New).
type StructureData struct {
	Page
	Table, Action string
	New, View     bool
	// Refusal says why the structure may not be changed here ("" when it may).
	Refusal string
	DDL     string
	Columns []StructureColumn
	Indexes []schemaedit.IndexInfo
	// Triggers are the user's triggers on the table.
	Triggers []string
	// Tables are those a foreign key may point at.
	Tables []string
	// FromFile is the new-table page's file, read (New only); FileAction
	// where the file is sent.
	FromFile   *FromFile
	FileAction string
}

// FromFile is a new table made from a file: the file, and once read, its
// columns as offered (names, inferred types, the key) and its first rows.
type FromFile struct {
	Action, Table, Text, Format, Message string
	Columns                              []StructureColumn
	AutoKey                              bool
	AutoKeyName                          string
	Names                                []string
	Sample                               [][]string
}

// StructureColumn is one column's row.
type StructureColumn struct {
	Name, Type                      string
	NotNull, Key, Generated, Unique bool
	// Default is the DEFAULT as the database writes it; DefaultValue as
	// the change form offers it.
	Default, DefaultValue string
	Check                 string
	RefTable, RefColumn   string
}

// TypeChoices are offered in the type fields (any type may be typed).
var TypeChoices = []string{"TEXT", "INTEGER", "REAL", "NUMERIC", "BOOLEAN", "DATE", "DATETIME", "BLOB", "VARCHAR(255)"}

// StructurePage ("structure").
func StructurePage(d *StructureData) []byte {
	w := newWriter(8192)
	w.head(&d.Page)
	w.raw("\n<h1>")
	w.text(d.Title)
	w.raw("</h1>\n")
	edit := d.Refusal == ""
	if !edit {
		w.raw(`<p class="notice">`)
		w.text(d.Refusal)
		w.raw("</p>\n")
	}
	w.raw(`<datalist id="types">`)
	for _, t := range TypeChoices {
		w.raw(`<option value="`)
		w.text(t)
		w.raw(`">`)
	}
	w.raw("</datalist>\n")
	if d.New {
		if edit {
			w.fromFile(d.FromFile, d.FileAction)
			if d.FromFile == nil || len(d.FromFile.Columns) == 0 {
				w.raw("<h2>Or column by column</h2>\n")
				w.newTableForm(d, nil)
			}
		}
		w.foot(&d.Page)
		return w.b
	}
	w.raw(`<table class="structure"><thead><tr><th>Column</th><th>Type</th><th>Not null</th><th>Default</th><th>Key</th><th>References</th><th>Check</th>`)
	if edit && !d.View {
		w.raw(`<th>Change</th>`)
	}
	w.raw("</tr></thead><tbody>\n")
	for i := range d.Columns {
		c := &d.Columns[i]
		w.raw(`<tr><th scope="row">`)
		w.text(c.Name)
		w.raw(`</th><td>`)
		w.text(c.Type)
		w.raw(`</td><td>`)
		if c.NotNull {
			w.raw("yes")
		}
		w.raw(`</td><td>`)
		w.text(c.Default)
		w.raw(`</td><td>`)
		switch {
		case c.Key:
			w.raw("primary key")
		case c.Unique:
			w.raw("unique")
		case c.Generated:
			w.raw("generated")
		}
		w.raw(`</td><td>`)
		if c.RefTable != "" {
			w.text(c.RefTable + "." + c.RefColumn)
		}
		w.raw(`</td><td><code>`)
		w.text(c.Check)
		w.raw(`</code></td>`)
		if edit && !d.View {
			w.raw(`<td>`)
			w.columnForms(d, c)
			w.raw(`</td>`)
		}
		w.raw("</tr>\n")
	}
	w.raw("</tbody></table>\n")
	if edit && !d.View {
		w.raw(`<details class="structure-add"><summary>Add a column</summary>`)
		w.editForm(d, "addColumn", "")
		w.columnFields(&StructureColumn{}, d.Tables)
		w.raw(`<button type="submit">Preview</button></form></details>` + "\n")
	}
	if !d.View {
		w.raw("<h2>Indexes</h2>\n<ul class=\"structure-indexes\">")
		for _, ix := range d.Indexes {
			w.raw(`<li>`)
			w.text(ix.Name)
			w.raw(` (`)
			for i, c := range ix.Columns {
				if i > 0 {
					w.raw(", ")
				}
				w.text(c)
			}
			w.raw(`)`)
			if ix.Unique {
				w.raw(` unique`)
			}
			if edit && ix.Droppable {
				w.raw(` `)
				w.editForm(d, "dropIndex", "")
				w.raw(`<input type="hidden" name="index" value="`)
				w.text(ix.Name)
				w.raw(`"><button type="submit" class="danger">Drop</button></form>`)
			}
			w.raw(`</li>`)
		}
		w.raw("</ul>\n")
		if edit {
			w.raw(`<details><summary>Add an index</summary>`)
			w.editForm(d, "addIndex", "")
			w.raw(`<fieldset><legend>Columns</legend>`)
			for _, c := range d.Columns {
				w.raw(`<label><input type="checkbox" name="ix" value="`)
				w.text(c.Name)
				w.raw(`"> `)
				w.text(c.Name)
				w.raw(`</label> `)
			}
			w.raw(`</fieldset><label><input type="checkbox" name="ixunique" value="1"> Unique</label> <label>Name <input name="ixname" placeholder="(from the columns)"></label> <button type="submit">Preview</button></form></details>` + "\n")
		}
		if len(d.Triggers) > 0 {
			w.raw("<h2>Triggers</h2>\n<ul>")
			for _, t := range d.Triggers {
				w.raw(`<li>`)
				w.text(t)
				w.raw(`</li>`)
			}
			w.raw("</ul>\n")
		}
	}
	if edit {
		w.raw("<h2>The table</h2>\n")
		if !d.View {
			w.editForm(d, "renameTable", "")
			w.raw(`<label>New name <input name="to" required value="`)
			w.text(d.Table)
			w.raw(`"></label> <button type="submit">Rename…</button></form> `)
		}
		w.editForm(d, "dropTable", "")
		w.raw(`<button type="submit" class="danger">Drop `)
		w.text(d.Table)
		w.raw(`…</button></form>` + "\n")
	}
	if d.DDL != "" {
		w.raw("<h2>SQL</h2>\n<pre class=\"ddl\">")
		w.text(d.DDL)
		w.raw("</pre>\n")
	}
	w.foot(&d.Page)
	return w.b
}

// editForm opens a form that posts one edit of the table.
func (w *writer) editForm(d *StructureData, op, column string) {
	w.raw(`<form method="post" class="structure-edit" action="`)
	w.url(d.Action)
	w.raw(`"><input type="hidden" name="op" value="`)
	w.text(op)
	w.raw(`"><input type="hidden" name="table" value="`)
	w.text(d.Table)
	w.raw(`">`)
	if column != "" {
		w.raw(`<input type="hidden" name="column" value="`)
		w.text(column)
		w.raw(`">`)
	}
}

// columnForms are a column's rename, change and drop forms.
func (w *writer) columnForms(d *StructureData, c *StructureColumn) {
	w.raw(`<details><summary>Rename</summary>`)
	w.editForm(d, "alterColumn", c.Name)
	w.hiddenColumn(c)
	w.raw(`<label>New name <input name="name" required value="`)
	w.text(c.Name)
	w.raw(`"></label> <button type="submit">Preview</button></form></details>`)
	if !c.Key && !c.Generated {
		w.raw(`<details><summary>Change</summary>`)
		w.editForm(d, "alterColumn", c.Name)
		w.raw(`<input type="hidden" name="name" value="`)
		w.text(c.Name)
		w.raw(`">`)
		w.columnFields(c, d.Tables)
		w.raw(`<button type="submit">Preview</button></form></details>`)
		w.editForm(d, "dropColumn", c.Name)
		w.raw(`<button type="submit" class="danger">Drop…</button></form>`)
	}
}

// hiddenColumn carries a column's definition unchanged (a rename's form).
func (w *writer) hiddenColumn(c *StructureColumn) {
	field := func(name, v string) {
		if v == "" {
			return
		}
		w.raw(`<input type="hidden" name="`)
		w.raw(name)
		w.raw(`" value="`)
		w.text(v)
		w.raw(`">`)
	}
	field("type", c.Type)
	if c.NotNull {
		field("notnull", "1")
	}
	if c.Unique {
		field("unique", "1")
	}
	if c.Default != "" {
		field("default", c.DefaultValue)
	}
	field("check", c.Check)
	field("reftable", c.RefTable)
	field("refcolumn", c.RefColumn)
}

// columnFields are a column definition's fields (prefilled from c).
func (w *writer) columnFields(c *StructureColumn, tables []string) {
	if c.Name == "" {
		w.raw(`<label>Name <input name="name" required></label> `)
	}
	w.raw(`<label>Type <input name="type" list="types" value="`)
	w.text(c.Type)
	w.raw(`"></label> <label><input type="checkbox" name="notnull" value="1"`)
	w.flag(c.NotNull, " checked")
	w.raw(`> Not null</label> <label><input type="checkbox" name="unique" value="1"`)
	w.flag(c.Unique, " checked")
	w.raw(`> Unique</label> <label>Default <input name="default" value="`)
	if c.Default != "" {
		w.text(c.DefaultValue)
	}
	w.raw(`"></label> <label>Check <input name="check" placeholder="e.g. qty &gt;= 0" value="`)
	w.text(c.Check)
	w.raw(`"></label> <label>References <select name="reftable"><option value="">(none)</option>`)
	sorted := append([]string(nil), tables...)
	sort.Strings(sorted)
	for _, t := range sorted {
		w.raw(`<option`)
		w.flag(t == c.RefTable, " selected")
		w.raw(` value="`)
		w.text(t)
		w.raw(`">`)
		w.text(t)
		w.raw(`</option>`)
	}
	w.raw(`</select></label> <label>column <input name="refcolumn" value="`)
	w.text(c.RefColumn)
	w.raw(`"></label> `)
}

// newTableForm is the new table's name and columns (ff: offered from a
// file, sent again with it).
func (w *writer) newTableForm(d *StructureData, ff *FromFile) {
	w.raw(`<form method="post" class="structure-new" action="`)
	if ff != nil {
		w.url(ff.Action)
		w.raw(`"><input type="hidden" name="create" value="1"><input type="hidden" name="format" value="`)
		w.text(ff.Format)
		w.raw(`"><textarea hidden name="text">`)
		w.text(ff.Text)
		w.raw(`</textarea>`)
	} else {
		w.url(d.Action)
		w.raw(`">`)
	}
	w.raw(`<input type="hidden" name="op" value="createTable"><p><label>Table name <input name="table" required value="`)
	auto, autoName, n := true, "id", 8
	if ff != nil {
		w.text(ff.Table)
		auto, autoName, n = ff.AutoKey, ff.AutoKeyName, len(ff.Columns)
	}
	w.raw(`"></label></p><p><label><input type="checkbox" name="autokey" value="1"`)
	w.flag(auto, " checked")
	w.raw(`> A key the database numbers, named <input name="autokeyname" size="8" value="`)
	w.text(autoName)
	w.raw(`"></label></p>`)
	w.raw(`<table class="structure"><thead><tr><th>Column</th><th>Type</th><th>Not null</th><th>Primary key</th><th>Default</th></tr></thead><tbody>`)
	for i := 0; i < n; i++ {
		var c StructureColumn
		if ff != nil {
			c = ff.Columns[i]
		}
		p := "c" + itoa(i) + "."
		w.raw(`<tr><td><input name="` + p + `name" aria-label="column name" value="`)
		w.text(c.Name)
		w.raw(`"></td><td><input name="` + p + `type" list="types" aria-label="type" value="`)
		w.text(c.Type)
		w.raw(`"></td><td><input type="checkbox" name="` + p + `notnull" value="1" aria-label="not null"></td><td><input type="checkbox" name="` + p + `pk" value="1" aria-label="primary key"`)
		w.flag(c.Key, " checked")
		w.raw(`></td><td><input name="` + p + `default" aria-label="default"></td></tr>`)
	}
	if ff != nil {
		w.raw(`</tbody></table><p><button type="submit" class="primary">Create and import</button></p></form>` + "\n")
		return
	}
	w.raw(`</tbody></table><p><button type="submit">Preview</button></p></form>` + "\n")
}

// fromFile is the new-table page's file: the form that reads it, or, read,
// its first rows and the columns offered for it.
func (w *writer) fromFile(ff *FromFile, action string) {
	if ff != nil && ff.Message != "" {
		w.raw(`<p class="notice error" role="alert">`)
		w.text(ff.Message)
		w.raw("</p>\n")
	}
	if ff != nil && len(ff.Columns) > 0 {
		w.raw("<h2>From the file</h2>\n<p>Its first rows, then the columns the new table would have: their names and types can be changed before it is made.</p>\n")
		w.raw(`<div class="scroll"><table class="grid preview"><thead><tr>`)
		for _, n := range ff.Names {
			w.raw(`<th scope="col">`)
			w.text(n)
			w.raw(`</th>`)
		}
		w.raw("</tr></thead><tbody>")
		for _, r := range ff.Sample {
			w.raw("<tr>")
			for _, c := range r {
				w.raw("<td>")
				w.text(c)
				w.raw("</td>")
			}
			w.raw("</tr>")
		}
		w.raw("</tbody></table></div>\n")
		w.newTableForm(nil, ff)
		return
	}
	table, text := "", ""
	if ff != nil {
		table, text = ff.Table, ff.Text
	}
	w.raw(`<h2>From a file</h2>
<form method="post" class="structure-file" enctype="multipart/form-data" action="`)
	w.url(action)
	w.raw(`"><p><label>Table name <input name="table" value="`)
	w.text(table)
	w.raw(`" placeholder="(the file's name)"></label></p><p><label>CSV, TSV, NDJSON or JSON file <input type="file" name="file" accept=".csv,.tsv,.tab,.ndjson,.jsonl,.json,text/csv,text/tab-separated-values,application/json"></label></p>`)
	w.raw(`<p><label>or its text <textarea name="text" rows="5">`)
	w.text(text)
	w.raw(`</textarea></label></p><p><button type="submit">Read the file</button></p></form>` + "\n")
}

func itoa(i int) string {
	w := writer{}
	w.int(int64(i))
	return string(w.b)
}

// EditPreviewData is a schema edit's preview: its DDL, notes and losses,
// and the form that applies it; or why it cannot be made.
type EditPreviewData struct {
	Page
	Status       int
	Error        string
	SQL, Notes   []string
	Losses       []string
	Action, Back string
	// Form is the edit's form as posted: sent again to apply it.
	Form map[string][]string
}

// EditPreviewPage ("structure-preview").
func EditPreviewPage(d *EditPreviewData) []byte {
	w := newWriter(4096)
	w.head(&d.Page)
	w.raw("\n<h1>Change the structure</h1>\n")
	if d.Error != "" {
		w.raw(`<p class="notice error" role="alert">`)
		w.text(d.Error)
		w.raw("</p>\n")
	} else {
		w.raw("<p>This is the SQL that would run, in one transaction:</p>\n<pre class=\"ddl\">")
		for i, s := range d.SQL {
			if i > 0 {
				w.raw(";\n")
			}
			w.text(s)
		}
		w.raw(";</pre>\n")
		for _, n := range d.Notes {
			w.raw(`<p class="notice">`)
			w.text(n)
			w.raw("</p>\n")
		}
		w.raw(`<form method="post" action="`)
		w.url(d.Action)
		w.raw(`">`)
		keys := make([]string, 0, len(d.Form))
		for k := range d.Form {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "apply" || k == "confirm" {
				continue
			}
			for _, v := range d.Form[k] {
				w.raw(`<input type="hidden" name="`)
				w.text(k)
				w.raw(`" value="`)
				w.text(v)
				w.raw(`">`)
			}
		}
		w.raw(`<input type="hidden" name="apply" value="1">`)
		if len(d.Losses) > 0 {
			w.raw(`<div class="notice error" role="alert"><p>This change loses data:</p><ul>`)
			for _, l := range d.Losses {
				w.raw(`<li>`)
				w.text(l)
				w.raw(`</li>`)
			}
			w.raw(`</ul><label><input type="checkbox" name="confirm" value="1" required> I understand; make the change anyway</label></div>`)
		}
		w.raw(`<p class="actions"><button type="submit"`)
		w.flag(len(d.Losses) > 0, ` class="danger"`)
		w.raw(`>Apply</button> <a class="button" href="`)
		w.url(d.Back)
		w.raw("\">Back</a></p></form>\n")
	}
	if d.Error != "" {
		w.raw(`<p class="actions"><a class="button" href="`)
		w.url(d.Back)
		w.raw("\">Back</a></p>\n")
	}
	w.foot(&d.Page)
	return w.b
}
