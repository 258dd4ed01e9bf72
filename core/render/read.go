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
}

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
	w.raw("</p></form>\n")
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
