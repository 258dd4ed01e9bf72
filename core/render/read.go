package render

// ReadData is the SQL page and a stored query's page: a read, its
// parameters, and its result as a table (and a chart), or why there is none.
type ReadData struct {
	Page
	Status             int
	Title, Description string
	// Editor: the SQL page (the text is the caller's to edit); else a
	// stored query (its text shown, not edited).
	Editor      bool
	SQL, Action string
	Limits      string
	Params      []ReadParam
	Error       string
	Columns     []string
	Rows        [][]ReadCell
	Truncated   bool
	JSONHref    string
	CSVHref     string
	Chart       *Chart
	Live        string
	Tables      []string
	// Save is the SQL page's "Save as a query", for a caller who may
	// change the config; Manage a stored query's edit and delete.
	Save   *ReadSave
	Manage *ReadManage
}

// ReadSave is the SQL page's "Save as a query" and what was typed in it.
// Its fields' names hold a "-", which no :parameter's can: they never
// meet a parameter's field in the one form they share.
type ReadSave struct {
	Action                   string
	Name, Title, Description string
	Public, Replace          bool
	// Guarded: the server has a token, so "public" means something.
	Guarded bool
	Error   string
}

// ReadManage is a stored query's links for a caller who may change the config.
type ReadManage struct{ EditHref, DeleteAction string }

// ReadParam is one :name of the statement, as a form field.
type ReadParam struct{ Name, Value string }

// ReadCell is one value of a result.
type ReadCell struct {
	Text      string
	Null, Num bool
}

// ReadPage ("read").
func ReadPage(d *ReadData) []byte {
	w := newWriter(4096 + 64*len(d.Rows)*max(1, len(d.Columns)))
	w.head(&d.Page)
	w.raw("\n<h1>")
	w.text(d.Title)
	w.raw("</h1>\n")
	if d.Description != "" {
		w.raw(`<p class="muted">`)
		w.text(d.Description)
		w.raw("</p>\n")
	}
	w.raw(`<form class="form read" method="get" action="`)
	w.url(d.Action)
	w.raw(`">`)
	if d.Editor {
		w.raw(`<div class="field"><label for="sql">SQL</label><textarea id="sql" name="sql" rows="6" spellcheck="false" class="code"`)
		if d.Error != "" {
			w.raw(` aria-invalid="true" aria-describedby="sql-error"`)
		}
		w.raw(`>`)
		w.text(d.SQL)
		w.raw(`</textarea>`)
	} else {
		w.raw(`<details class="field"><summary>SQL</summary><pre class="code">`)
		w.text(d.SQL)
		w.raw(`</pre></details><div class="field">`)
	}
	if d.Error != "" {
		w.raw(`<p id="sql-error" class="notice error" role="alert">`)
		w.text(d.Error)
		w.raw(`</p>`)
	}
	w.raw(`</div>`)
	for _, p := range d.Params {
		w.raw(`<div class="field"><label for="p-`)
		w.text(p.Name)
		w.raw(`">:`)
		w.text(p.Name)
		w.raw(`</label><input id="p-`)
		w.text(p.Name)
		w.raw(`" name="`)
		w.text(p.Name)
		w.raw(`" value="`)
		w.text(p.Value)
		w.raw(`"></div>`)
	}
	w.raw(`<div class="actions"><button class="primary" type="submit">Run</button>`)
	if d.JSONHref != "" {
		w.raw(`<a class="button" href="`)
		w.url(d.CSVHref)
		w.raw(`">CSV</a><a class="button" href="`)
		w.url(d.JSONHref)
		w.raw(`">JSON</a>`)
	}
	w.raw(`</div><p class="muted">`)
	w.text(d.Limits)
	w.raw("</p>")
	w.saveQuery(d.Save)
	w.raw("</form>\n")
	if m := d.Manage; m != nil {
		w.raw(`<form class="actions manage" method="post" action="`)
		w.url(m.DeleteAction)
		w.raw(`"><a class="button" href="`)
		w.url(m.EditHref)
		w.raw(`">Edit in the SQL page</a><button class="danger" type="submit">Delete this query</button></form>` + "\n")
	}
	w.raw(`<section id="result" aria-live="polite">`)
	if d.Columns != nil {
		w.chart(d.Chart)
		w.raw(`<div class="scroll"><table class="grid result"><thead><tr>`)
		for _, c := range d.Columns {
			w.raw(`<th scope="col">`)
			w.text(c)
			w.raw(`</th>`)
		}
		w.raw("</tr></thead>\n<tbody>")
		for _, r := range d.Rows {
			w.raw(`<tr>`)
			for _, c := range r {
				switch {
				case c.Null:
					w.raw(`<td class="null">NULL</td>`)
				case c.Num:
					w.raw(`<td class="num">`)
					w.text(c.Text)
					w.raw(`</td>`)
				default:
					short, cut := Truncate(c.Text, 200)
					if cut {
						w.raw(`<td title="`)
						w.text(c.Text)
						w.raw(`">`)
					} else {
						w.raw(`<td>`)
					}
					w.text(short)
					w.raw(`</td>`)
				}
			}
			w.raw("</tr>\n")
		}
		if len(d.Rows) == 0 {
			w.raw(`<tr><td class="empty" colspan="`)
			w.int(int64(max(1, len(d.Columns))))
			w.raw(`">No rows.</td></tr>`)
		}
		w.raw(`</tbody></table></div><p class="muted">`)
		w.int(int64(len(d.Rows)))
		if len(d.Rows) == 1 {
			w.raw(` row`)
		} else {
			w.raw(` rows`)
		}
		if d.Truncated {
			w.raw(`: the first ones only (more matched)`)
		}
		w.raw(`</p>`)
	}
	w.raw("</section>\n")
	if d.Live != "" && d.Columns != nil {
		w.raw(`<div id="nh-live" hidden hx-sse:connect="`)
		w.text(d.Live)
		w.raw(`" data-view="read" data-tables="`)
		for i, t := range d.Tables {
			if i > 0 {
				w.raw(" ")
			}
			w.text(escapeSpaces(t))
		}
		w.raw(`"></div>`)
	}
	w.raw("\n")
	w.foot(&d.Page)
	return w.b
}

// escapeSpaces keeps a table name one word of a space-separated list (its
// spaces and percent signs percent-encoded; app.js decodes each word).
func escapeSpaces(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
			out = append(out, "%20"...)
		case '%':
			out = append(out, "%25"...)
		default:
			out = append(out, s[i])
		}
	}
	return string(out)
}

// saveQuery is the SQL page's "Save as a query": part of the editor's form,
// so it saves the statement and parameters as they are typed, with a
// button of its own that posts (Run gets).
func (w *writer) saveQuery(s *ReadSave) {
	if s == nil {
		return
	}
	w.raw(`<details class="save"`)
	if s.Error != "" || s.Name != "" {
		w.raw(` open`)
	}
	w.raw(`><summary>Save as a query</summary>`)
	w.raw(`<div class="field"><label for="save-name">Name</label><input id="save-name" name="save-name" maxlength="64" value="`)
	w.text(s.Name)
	w.raw(`" aria-describedby="save-name-hint"><p class="muted" id="save-name-hint">Letters, digits, _, . and -: the query's page is /q/NAME. The parameters' values above are saved as its defaults.</p></div>`)
	w.raw(`<div class="field"><label for="save-title">Title</label><input id="save-title" name="save-title" maxlength="200" value="`)
	w.text(s.Title)
	w.raw(`"></div><div class="field"><label for="save-description">Description</label><textarea id="save-description" name="save-description" rows="2" maxlength="2000">`)
	w.text(s.Description)
	w.raw(`</textarea></div>`)
	if s.Guarded {
		w.raw(`<div class="field check"><input type="checkbox" id="save-public" name="save-public" value="1"`)
		if s.Public {
			w.raw(` checked`)
		}
		w.raw(`><label for="save-public">Public: anyone may run it without the token (it still reads only what the config shows)</label></div>`)
	}
	w.raw(`<div class="field check"><input type="checkbox" id="save-replace" name="save-replace" value="1"`)
	if s.Replace {
		w.raw(` checked`)
	}
	w.raw(`><label for="save-replace">Replace a query of this name</label></div>`)
	if s.Error != "" {
		w.raw(`<p class="notice error" role="alert">`)
		w.text(s.Error)
		w.raw(`</p>`)
	}
	w.raw(`<div class="actions"><button type="submit" formmethod="post" formaction="`)
	w.url(s.Action)
	w.raw(`">Save</button></div></details>`)
}
