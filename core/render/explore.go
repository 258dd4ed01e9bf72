package render

// The explore parts of a list (issue 17): the facet panel, the suggestions,
// and the totals under the table. All inside #list, so a live change that
// re-fetches the list brings them up to date with it.

// FacetBox is one facet of a list: its values with their counts.
type FacetBox struct {
	Label     string
	CloseHref string // the list without this facet
	GroupHref string // the group-by page of this column, under the same filters
	Units     []Link // a date column's other groupings (year, month, day, values)
	Values    []FacetEntry
	More      bool   // more values than shown
	Note      string // why the counts are missing or partial
}

// FacetEntry is one value of a facet: a link that adds its filter, or
// removes it when it is on.
type FacetEntry struct {
	Text, Title, Href string
	Count             int64
	On, Null          bool
}

// Totals are the aggregates under a list's table: per numeric column (by
// its place among the list's columns) its sum, average, least and greatest.
type Totals struct {
	Rows []TotalsRow
}

// TotalsRow is one aggregate across the columns; "" where it does not apply.
type TotalsRow struct {
	Label string
	Cells []string
}

func (w *writer) facets(d *ListData) {
	if len(d.Facets) == 0 && len(d.Suggest) == 0 && d.TotalsHref == "" {
		return
	}
	w.raw(`<div class="explore"><p class="suggest">`)
	if len(d.Suggest) > 0 {
		w.raw(`Facet by: `)
		for i := range d.Suggest {
			w.hxLink(&d.Suggest[i], "chip")
			w.raw(" ")
		}
	}
	if d.TotalsHref != "" {
		w.hxLink(&Link{Text: map[bool]string{true: "Hide totals", false: "Totals"}[d.Totals != nil], Href: d.TotalsHref}, "chip totals")
	}
	w.raw(`</p>`)
	if len(d.Facets) > 0 {
		w.raw(`<div class="facets">`)
		for i := range d.Facets {
			w.facet(&d.Facets[i])
		}
		w.raw(`</div>`)
	}
	w.raw(`</div>
`)
}

func (w *writer) facet(f *FacetBox) {
	w.raw(`<section class="facet"><h2>`)
	w.text(f.Label)
	w.raw(` <a class="close" href="`)
	w.url(f.CloseHref)
	w.raw(`" hx-get="`)
	w.text(f.CloseHref)
	w.raw(hxList + ` title="Close this facet" aria-label="Close the facet `)
	w.text(f.Label)
	w.raw(`">×</a></h2>`)
	if f.GroupHref != "" {
		w.raw(`<p class="units"><a href="`)
		w.url(f.GroupHref)
		w.raw(`">Totals by `)
		w.text(f.Label)
		w.raw(`</a></p>`)
	}
	if len(f.Units) > 0 {
		w.raw(`<p class="units">`)
		for i := range f.Units {
			w.hxLink(&f.Units[i], "")
			w.raw(" ")
		}
		w.raw(`</p>`)
	}
	if f.Note != "" {
		w.raw(`<p class="note">`)
		w.text(f.Note)
		w.raw(`</p>`)
	}
	w.raw(`<ul>`)
	for i := range f.Values {
		v := &f.Values[i]
		w.raw(`<li`)
		if v.On {
			w.raw(` class="on"`)
		}
		w.raw(`><a href="`)
		w.url(v.Href)
		w.raw(`" hx-get="`)
		w.text(v.Href)
		w.raw(hxList)
		if v.Title != "" {
			w.raw(` title="`)
			w.text(v.Title)
			w.raw(`"`)
		}
		if v.Null {
			w.raw(` class="null"`)
		}
		w.raw(`>`)
		w.text(v.Text)
		w.raw(`</a> <span class="n">`)
		w.int(v.Count)
		w.raw(`</span></li>`)
	}
	if f.More {
		w.raw(`<li class="more">and more…</li>`)
	}
	w.raw(`</ul></section>`)
}

// hxLink is a link that replaces the list in place.
func (w *writer) hxLink(l *Link, class string) {
	w.raw(`<a`)
	if class != "" {
		w.raw(` class="` + class + `"`)
	}
	w.raw(` href="`)
	w.url(l.Href)
	w.raw(`" hx-get="`)
	w.text(l.Href)
	w.raw(hxList + `>`)
	w.text(l.Text)
	w.raw(`</a>`)
}

func (w *writer) totals(d *ListData) {
	if d.Totals == nil {
		return
	}
	w.raw(`<tfoot>`)
	for i := range d.Totals.Rows {
		r := &d.Totals.Rows[i]
		w.raw(`<tr>`)
		if d.Bulk != nil {
			w.raw(`<td class="pick"></td>`)
		}
		for j, c := range r.Cells {
			if j == 0 && c == "" {
				w.raw(`<th scope="row">`)
				w.text(r.Label)
				w.raw(`</th>`)
				continue
			}
			w.raw(`<td class="num">`)
			w.text(c)
			w.raw(`</td>`)
		}
		w.raw(`</tr>`)
	}
	w.raw(`</tfoot>`)
}

// GroupsData is a table's group-by page: one row per value of a column,
// with its rows and, per numeric column, its sum and average.
type GroupsData struct {
	Page
	Title, Column, Back string
	Filters             []string // what the groups are under, in words
	Numbers             []string // the numeric columns' labels
	Rows                []GroupRow
	Truncated           bool
	Note                string
	Live, Table         string // the page's event stream: a change re-counts the groups
	Chart               *Chart
	Measures            []Link // what the chart may show: the rows, or a numeric column's sum
}

// GroupRow is one group: a link to its rows, their count, and per numeric
// column its sum and average (two cells each).
type GroupRow struct {
	Text, Title, Href string
	Null              bool
	Count             int64
	Totals            []string
}

// GroupsPage ("groups").
func GroupsPage(d *GroupsData) []byte {
	w := newWriter(2048 + 256*len(d.Rows))
	w.head(&d.Page)
	w.raw("\n<h1>")
	w.text(d.Title)
	w.raw("</h1>\n")
	if len(d.Filters) > 0 {
		w.raw(`<p class="muted">Rows `)
		for i, f := range d.Filters {
			if i > 0 {
				w.raw(", ")
			}
			w.text(f)
		}
		w.raw(`</p>`)
	}
	if d.Note != "" {
		w.raw(`<p class="notice warn">`)
		w.text(d.Note)
		w.raw(`</p>`)
	}
	w.raw(`<section id="groups" aria-live="polite">`)
	w.chart(d.Chart)
	if len(d.Measures) > 1 {
		w.raw(`<p class="suggest">Chart: `)
		for i := range d.Measures {
			w.raw(`<a class="chip" href="`)
			w.url(d.Measures[i].Href)
			w.raw(`">`)
			w.text(d.Measures[i].Text)
			w.raw(`</a> `)
		}
		w.raw(`</p>`)
	}
	w.raw(`<div class="scroll"><table class="grid groups"><thead><tr><th scope="col">`)
	w.text(d.Column)
	w.raw(`</th><th scope="col" class="num">rows</th>`)
	for _, n := range d.Numbers {
		w.raw(`<th scope="col" class="num">`)
		w.text(n)
		w.raw(` (sum)</th><th scope="col" class="num">`)
		w.text(n)
		w.raw(` (average)</th>`)
	}
	w.raw("</tr></thead>\n<tbody>")
	for i := range d.Rows {
		r := &d.Rows[i]
		w.raw(`<tr><td`)
		if r.Null {
			w.raw(` class="null"`)
		}
		w.raw(`>`)
		if r.Href != "" {
			w.raw(`<a href="`)
			w.url(r.Href)
			w.raw(`"`)
			if r.Title != "" {
				w.raw(` title="`)
				w.text(r.Title)
				w.raw(`"`)
			}
			w.raw(`>`)
			w.text(r.Text)
			w.raw(`</a>`)
		} else {
			w.text(r.Text)
		}
		w.raw(`</td><td class="num">`)
		w.int(r.Count)
		w.raw(`</td>`)
		for _, t := range r.Totals {
			w.raw(`<td class="num">`)
			w.text(t)
			w.raw(`</td>`)
		}
		w.raw("</tr>\n")
	}
	if len(d.Rows) == 0 {
		w.raw(`<tr><td class="empty" colspan="`)
		w.int(int64(2 + 2*len(d.Numbers)))
		w.raw(`">No rows.</td></tr>`)
	}
	w.raw(`</tbody></table></div>`)
	if d.Truncated && d.Note == "" {
		w.raw(`<p class="muted">The largest groups only.</p>`)
	}
	w.raw(`</section>
<p><a href="`)
	w.url(d.Back)
	w.raw(`">Back to the list</a></p>
`)
	w.liveMarker(d.Live, "groups", nil, d.Table, "")
	w.raw("\n")
	w.foot(&d.Page)
	return w.b
}
