package render

// ImportData is a table's import page: the form (a file or pasted text, its
// format, what an existing key does), and after a preview or a refused
// import, the first rows as they map onto the table's columns and what is
// wrong, by line and field.
type ImportData struct {
	Page
	Status        int
	Label, Action string
	// Columns the file may name, and those it must (required, no default).
	Columns, Required []string
	Text              string
	Format, Conflict  string
	DSID              string
	// Preview: the file's columns and first rows; Total its rows.
	Preview *ImportPreview
	Errors  []ImportError
	// Message says what went wrong as a whole ("" when nothing did).
	Message string
	// Staged is where a file too large for one request is imported in
	// parts (app.js), and Done where the page goes after it.
	Staged, Done string
}

// ImportPreview is the first rows of a file, as the table will take them.
type ImportPreview struct {
	Columns []string
	Unknown map[string]bool // columns of the file the table has not
	Rows    [][]string
	Total   int
}

// ImportError is one problem, by line and field.
type ImportError struct {
	Line           int
	Field, Message string
}

var importFormats = [][2]string{{"", "Detect from the file"}, {"csv", "CSV"}, {"tsv", "TSV (tabs)"}, {"ndjson", "NDJSON (an object per line)"}, {"json", "JSON (an array of objects)"}}
var importConflicts = [][2]string{{"fail", "Stop: import nothing"}, {"skip", "Skip that row"}, {"update", "Update that row"}}

// ImportPage ("import").
func ImportPage(d *ImportData) []byte {
	w := newWriter(8192 + len(d.Text) + 128*len(d.Errors))
	w.head(&d.Page)
	w.raw("\n<h1>Import into ")
	w.text(d.Label)
	w.raw("</h1>\n<p class=\"muted\">CSV or TSV with a first line of column names, NDJSON (one JSON object per line) or a JSON array of objects. Columns: ")
	w.codes(d.Columns)
	if len(d.Required) > 0 {
		w.raw(". Every row needs ")
		w.codes(d.Required)
	}
	w.raw(". All rows or none: a bad row stops the import, and every bad row is listed.</p>\n")
	w.raw(`<form class="form import" method="post" enctype="multipart/form-data" action="`)
	w.url(d.Action)
	if d.Staged != "" {
		w.raw(`" data-staged="`)
		w.url(d.Staged)
		w.raw(`" data-done="`)
		w.url(d.Done)
	}
	w.raw(`"><input type="hidden" name="_dsid" value="`)
	w.text(d.DSID)
	w.raw(`"><div class="field"><label for="import-file">File</label><input type="file" id="import-file" name="file" accept=".csv,.tsv,.txt,.json,.ndjson,.jsonl,text/csv,text/tab-separated-values,application/json,application/x-ndjson"></div>`)
	w.raw(`<div class="field"><label for="import-text">Or paste</label><textarea id="import-text" name="text" rows="8" class="code" spellcheck="false">`)
	w.text(d.Text)
	w.raw(`</textarea></div><div class="field"><label for="import-format">Format</label><select id="import-format" name="format">`)
	w.options(choices(importFormats, d.Format))
	w.raw(`</div><div class="field"><label for="import-conflict">When a row's key exists</label><select id="import-conflict" name="conflict">`)
	w.options(choices(importConflicts, d.Conflict))
	w.raw(`</div><div class="actions"><button type="submit" name="preview" value="1">Preview</button><button class="primary" type="submit" name="import" value="1">Import</button></div>` +
		`<p class="import-progress" role="status" hidden><progress max="1" value="0"></progress> <span></span></p></form>` + "\n")
	if d.Message != "" || len(d.Errors) > 0 {
		w.raw(`<section class="notice error" role="alert"><p>`)
		if d.Message != "" {
			w.text(d.Message)
		} else {
			w.raw("Nothing was imported: fix these and try again.")
		}
		w.raw(`</p>`)
		if len(d.Errors) > 0 {
			w.raw(`<ul class="import-errors">`)
			for _, e := range d.Errors {
				w.raw(`<li>`)
				if e.Line > 0 {
					w.raw(`Line `)
					w.int(int64(e.Line))
				} else {
					w.raw(`The file`)
				}
				if e.Field != "" {
					w.raw(`, <code>`)
					w.text(e.Field)
					w.raw(`</code>`)
				}
				w.raw(`: `)
				w.text(e.Message)
				w.raw(`</li>`)
			}
			w.raw(`</ul>`)
		}
		w.raw("</section>\n")
	}
	if p := d.Preview; p != nil {
		w.raw(`<section class="preview"><h2>`)
		w.int(int64(p.Total))
		if p.Total == 1 {
			w.raw(` row`)
		} else {
			w.raw(` rows`)
		}
		if len(p.Rows) < p.Total {
			w.raw(`, the first `)
			w.int(int64(len(p.Rows)))
			w.raw(` shown`)
		}
		w.raw(`</h2><div class="scroll"><table class="grid"><thead><tr>`)
		for _, c := range p.Columns {
			if p.Unknown[c] {
				w.raw(`<th scope="col" class="unknown" title="no such column">`)
			} else {
				w.raw(`<th scope="col">`)
			}
			w.text(c)
			w.raw(`</th>`)
		}
		w.raw("</tr></thead>\n<tbody>")
		for _, r := range p.Rows {
			w.raw(`<tr>`)
			for _, cell := range r {
				short, _ := Truncate(cell, 120)
				w.raw(`<td>`)
				w.text(short)
				w.raw(`</td>`)
			}
			w.raw("</tr>\n")
		}
		w.raw("</tbody></table></div></section>\n")
	}
	w.foot(&d.Page)
	return w.b
}

// choices are select options, the chosen one selected.
func choices(opts [][2]string, chosen string) []Option {
	out := make([]Option, len(opts))
	for i, o := range opts {
		out[i] = Option{Value: o[0], Label: o[1], Selected: o[0] == chosen}
	}
	return out
}

// codes writes names as code, comma-separated.
func (w *writer) codes(names []string) {
	for i, c := range names {
		if i > 0 {
			w.raw(", ")
		}
		w.raw("<code>")
		w.text(c)
		w.raw("</code>")
	}
}
