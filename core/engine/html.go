package engine

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// The page models are render's; the short names keep the code that fills
// them readable.
type (
	page          = render.Page // what every full page reads
	link          = render.Link
	tableEntry    = render.TableEntry
	colHead       = render.ColHead
	cell          = render.Cell
	listRow       = render.TableRow
	hiddenInput   = render.HiddenInput
	listData      = render.ListData
	option        = render.Option
	formField     = render.FormField
	formData      = render.FormData
	rowData       = render.RowData
	conflictField = render.ConflictField
)

func (c *ctx) page(title string, crumbs ...link) page {
	p := page{Title: title, AppTitle: "nakedhtmx", DSID: c.st.dsid, Base: c.e.opts.BasePath, Crumbs: crumbs,
		SignOut: c.signedInByCookie()}
	if u := c.who.user; u != nil && p.SignOut {
		p.User = u.Email
		p.UsersHref = ""
	}
	if c.who.admin && c.usersTableThere() && p.SignOut {
		p.UsersHref = c.e.opts.BasePath + "/users"
	}
	if t := c.e.opts.Config.Title; t != "" {
		p.AppTitle = t
	}
	p.Assets.CSS = render.AssetURL(p.Base, "style.css")
	p.Assets.HTMX = render.AssetURL(p.Base, "htmx.min.js")
	p.Assets.App = render.AssetURL(p.Base, "app.js")
	p.Assets.SSE = render.AssetURL(p.Base, "hx-sse.js")
	if c.e.offline() {
		p.Offline = p.Base + "/offline/sw.js"
	}
	return p
}

func html(status int, body []byte, headers ...[2]string) *protocol.Response {
	headers = append(headers, [2]string{"cache-control", "no-store"})
	return response(status, ctHTML, body, headers...)
}

func asset(name string) *protocol.Response {
	a := render.GetAsset(name)
	if a == nil {
		return response(404, "text/plain; charset=utf-8", []byte("no such asset"))
	}
	return response(200, a.ContentType, a.Body, [2]string{"cache-control", "public, max-age=31536000, immutable"}, [2]string{"etag", `"` + a.Hash + `"`})
}

// URLs, all under the base path, every name escaped as one segment.
// tableURL is asked for once per cell on a list page; the answer is kept
// for the request.
func (c *ctx) tableURL(t string) string {
	if u, ok := c.tableURLs[t]; ok {
		return u
	}
	u := c.e.opts.BasePath + "/t/" + EncodeComponent(t)
	if c.tableURLs == nil {
		c.tableURLs = map[string]string{}
	}
	c.tableURLs[t] = u
	return u
}

func (c *ctx) rowURL(r *row) string { return c.str.concat(c.tableURL(r.t.Name), "/r/", r.pkPath()) }

func (c *ctx) label(t *model.Table) string {
	if l := c.e.opts.Config.Table(t.Name).Label; l != "" {
		return l
	}
	return t.Name
}

func (c *ctx) errorPage(status int, msg string) *protocol.Response {
	text := map[int]string{400: "Bad request", 401: "Sign in", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
		409: "Conflict", 413: "Too large", 415: "Unsupported media type", 422: "Invalid", 429: "Too many requests", 500: "Server error", 501: "Not implemented", 503: "Unavailable"}[status]
	return html(status, render.ErrorPage(&render.ErrorData{Page: c.page(text), Status: status, StatusText: text, Message: msg}))
}

func (c *ctx) signinPage(status int, msg string) *protocol.Response {
	return c.signinPageWith(status, msg, "")
}

// signinPageWith is the sign-in page with the email typed kept.
func (c *ctx) signinPageWith(status int, msg, email string) *protocol.Response {
	return html(status, render.SigninPage(&render.SigninData{Page: c.page("Sign in"), Message: msg,
		Users: c.usersTableThere(), Token: c.e.opts.AuthToken != "", Email: email}))
}

func (c *ctx) signin() *protocol.Response {
	if c.req.Method != "POST" {
		return c.signinPage(200, "")
	}
	if c.crossSite() {
		return c.fail(403, "cross-site requests may not sign in")
	}
	form, bad := c.formBody()
	if bad != nil {
		return bad
	}
	if !form.Has("token") {
		return c.signinUser(form)
	}
	if wait := c.e.throttled(c.clientAddr()); wait > 0 {
		return c.tooManyGuesses(wait)
	}
	if c.e.opts.AuthToken == "" || !constantEq(form.Get("token"), c.e.opts.AuthToken) {
		c.e.missed(c.clientAddr())
		return c.signinPage(401, "That token is not right.")
	}
	ttl := c.e.opts.Config.SessionSeconds()
	return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 303, Headers: [][2]string{
		{"location", c.e.opts.BasePath + "/"}, {"set-cookie", c.cookie(c.startSession(ttl, 0), ttl)}, {"cache-control", "no-store"}}}}
}

func (c *ctx) index() *protocol.Response {
	var entries []tableEntry
	var counted []*model.Table
	for _, t := range c.st.vis.Tables {
		if c.table(t.Name) == nil {
			continue
		}
		// A view is not counted: its definition may take any time, and one
		// slow view would hold up (or, past the time limit, fail) the page
		// that leads to every table. Its own page counts it.
		if !t.View {
			counted = append(counted, t)
		}
	}
	counts := c.tableCounts(counted)
	for _, t := range c.st.vis.Tables {
		if c.table(t.Name) == nil {
			continue
		}
		e := tableEntry{Name: t.Name, Label: c.label(t), Href: c.tableURL(t.Name), Kind: "table", Columns: len(t.Columns)}
		if t.View {
			e.Kind, e.Uncounted = "view", true
		} else if n, ok := counts[t.Name]; ok {
			e.Rows, e.RowsMore = n.n, n.more
		}
		entries = append(entries, e)
	}
	d := render.IndexData{Page: c.page("Tables"), Tables: entries}
	for _, n := range c.queryNames() {
		d.Queries = append(d.Queries, link{Text: queryTitle(n, c.storedQuery(n)), Href: c.e.opts.BasePath + "/q/" + url.PathEscape(n)})
	}
	if c.sqlEnabled() {
		d.SQLHref = c.e.opts.BasePath + "/sql"
	}
	if c.schemaEditor() == "" {
		d.NewTableHref = c.e.opts.BasePath + "/structure/new"
	}
	return html(200, render.IndexPage(&d))
}

// --- list ---

// listHref builds a list URL from the current query with changes applied.
func (c *ctx) listHref(t *model.Table, set map[string]string, drop ...string) string {
	return c.queryHref(t, func(q url.Values) {
		for _, k := range drop {
			q.Del(k)
		}
		for k, v := range set {
			if v == "" {
				q.Del(k)
			} else {
				q.Set(k, v)
			}
		}
	})
}

// queryHref is the list's URL with a copy of the current query changed by edit.
func (c *ctx) queryHref(t *model.Table, edit func(q url.Values)) string {
	q := url.Values{}
	for k, vs := range c.query {
		q[k] = append([]string(nil), vs...)
	}
	edit(q)
	if s := encodeQuery(q); s != "" {
		return c.tableURL(t.Name) + "?" + s
	}
	return c.tableURL(t.Name)
}

// encodeQuery is url.Values.Encode with encodeURIComponent escaping.
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(EncodeComponent(k) + "=" + EncodeComponent(v))
		}
	}
	return b.String()
}

func (c *ctx) listPage(t *model.Table) *protocol.Response {
	lq, err := c.parseList(t)
	if err != nil {
		return c.listFail(err)
	}
	rows, next, count, more, answer, err := c.listRead(lq, true)
	if answer != nil {
		return answer
	}
	if err != nil {
		return c.failOutcome(c.dbFailure(err))
	}
	fields := c.st.fields[t.Name]
	d := listData{Page: c.page(c.label(t), link{Text: c.label(t)}), Label: c.label(t), Action: c.tableURL(t.Name),
		CSVHref: c.e.opts.BasePath + "/api/tables/" + EncodeComponent(t.Name) + "/rows.csv", Q: lq.q, TextIndexed: t.TextIndex != "", Count: count, CountMore: more}
	if c.writable(t, "insert") == "" {
		d.NewHref = c.tableURL(t.Name) + "/new"
		d.ImportHref = c.tableURL(t.Name) + "/import"
		d.PasteColumns = c.pasteColumns(t)
	}
	if !t.View && c.e.live.enabled {
		d.ChangesHref = c.tableURL(t.Name) + "/changes"
	}
	if c.schemaEditor() == "" && c.editableTable(t) == "" {
		d.StructureHref = c.tableURL(t.Name) + "/structure"
	}
	if csvq := encodeQuery(exportQuery(c.query)); csvq != "" {
		d.CSVHref += "?" + csvq
	}
	for k, vs := range c.query {
		if k == "sort" || k == "desc" || strings.HasPrefix(k, "f.") || k == "null" || k == "limit" || k == "facet" || k == "aggregates" {
			for _, v := range vs {
				d.Hidden = append(d.Hidden, hiddenInput{Name: k, Value: v})
			}
		}
	}
	sort.Slice(d.Hidden, func(i, j int) bool { return d.Hidden[i].Name < d.Hidden[j].Name })
	plans := c.cellPlans(fields, rows)
	for _, f := range lq.filters {
		shown := f.value
		if f.unit == "" && !f.null {
			if l := c.filterLabel(t, plans, f); l != "" {
				shown = l // a reference: the row's label, as the list shows it
			}
		}
		text := fieldLabel(fields, f.col) + " = " + shown
		drop := "f." + f.col.Name
		if f.unit != "" {
			text, drop = fieldLabel(fields, f.col)+" ("+f.unit+") = "+shown, drop+":"+f.unit
		}
		switch {
		case f.null:
			text, drop = fieldLabel(fields, f.col)+" is empty (NULL)", "null"
		case f.value == "":
			text = fieldLabel(fields, f.col) + ` = "" (empty text)`
		}
		d.Filters = append(d.Filters, link{Text: text, Href: c.listHref(t, nil, drop, "after")})
	}
	for _, f := range fields {
		d.FilterColumns = append(d.FilterColumns, option{Value: f.Column.Name, Label: f.Label})
		h := colHead{Label: f.Label}
		sorted := lq.sort == f.Column
		h.Sorted, h.Desc = sorted, sorted && lq.desc
		set := map[string]string{"sort": f.Column.Name, "desc": ""}
		if sorted && !lq.desc {
			set["desc"] = "1"
		}
		if !f.Column.Unordered {
			h.Href = c.listHref(t, set, "after")
		}
		d.Columns = append(d.Columns, h)
	}
	cells := make([]cell, len(rows)*len(plans))
	d.Rows = make([]listRow, len(rows))
	for i, r := range rows {
		d.Rows[i] = c.listRow(t, plans, r, cells[i*len(plans):])
	}
	back := c.tableURL(t.Name)
	if q := encodeQuery(c.query); q != "" {
		back += "?" + q
	}
	d.Bulk = c.bulkBar(t, back)
	c.exploreList(t, lq, &d, more)
	d.Live, d.Table = c.liveURL(t), t.Name
	if next != "" {
		d.NextHref = c.listHref(t, map[string]string{"after": next})
	}
	if c.query.Get("after") != "" {
		d.FirstHref = c.listHref(t, nil, "after")
	}
	if c.hx {
		d.Partial = true
		return html(200, render.ListFragment(&d))
	}
	return html(200, render.ListPage(&d))
}

// filterLabel is the label of the row a filter on a reference names: the
// one the page's cells already read (every row shown has that value), else
// read for it (a page with no rows).
func (c *ctx) filterLabel(t *model.Table, plans []cellPlan, f filter) string {
	for i := range plans {
		if pl := &plans[i]; pl.f.Column == f.col && pl.from == nil {
			if l, ok := pl.labels[f.value]; ok {
				return l
			}
		}
	}
	return c.facetLabels(t, f.col, []any{f.value})[f.value]
}

// listRow is one row of a list: the same for every list page of its table,
// so a live change renders it once for all of them. Its cells are cut from
// cells (len(plans) of them), so a page allocates one slice for all its rows.
func (c *ctx) listRow(t *model.Table, plans []cellPlan, r *row, cells []cell) listRow {
	lr := listRow{Cells: cells[:len(plans):len(plans)]}
	href := ""
	if t.Addressable() {
		key := r.pkPath()
		lr.ID = c.str.concat("row-", key)
		if c.picks.t != t {
			c.picks.t, c.picks.ok = t, c.bulkable(t)
		}
		if c.picks.ok {
			lr.Pick = key
		}
		href = c.str.concat(c.tableURL(t.Name), "/r/", key)
	}
	for i := range plans {
		lr.Cells[i] = c.cellFor(&plans[i], r)
		if i == 0 && href != "" && lr.Cells[i].Href == "" {
			lr.Cells[i].Href = href
		}
	}
	if href != "" && len(plans) > 0 && !hasRowLink(lr.Cells, href) {
		lr.Cells[0].Href = href
	}
	for i := range lr.Cells {
		if cl := &lr.Cells[i]; cl.Href == href && href != "" && strings.TrimSpace(cl.Text) == "" {
			// An empty value would make an invisible link: every row keeps a
			// visible way to its page.
			cl.Text, cl.Class = "open", strings.TrimSpace(cl.Class+" blank")
			break
		}
	}
	return lr
}

// liveURL is the page event stream of a table, starting after the newest
// change this page already shows.
func (c *ctx) liveURL(t *model.Table) string {
	if !c.e.live.enabled {
		return ""
	}
	return c.tableURL(t.Name) + "/live?after=" + strconv.FormatInt(c.shownSeq(), 10)
}

// shownSeq is the log's newest entry as this page read its data (the data
// cache's key, taken before the read): the page shows everything up to
// it. The tick's own position may lag behind it (a host leaves out a
// write's tick while nobody listens, and an outside write of many rows
// is turned into messages a batch per tick), so it would make the page
// depend on when it was asked for and its stream replay what it shows.
func (c *ctx) shownSeq() int64 {
	if r := c.e.opts.Replica; r != nil {
		return r.Seq // a copy shows the server's rows as of there
	}
	after := c.e.live.lastSeq
	if dc := c.cache(); dc != nil && dc.seq > after {
		after = dc.seq
	}
	return after
}

func hasRowLink(cells []cell, href string) bool {
	for _, c := range cells {
		if c.Href == href {
			return true
		}
	}
	return false
}

// exportQuery keeps what filters an export: search, filters, sort.
func exportQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		if k == "q" || k == "sort" || k == "desc" || strings.HasPrefix(k, "f.") || k == "null" {
			out[k] = vs
		}
	}
	return out
}

func fieldLabel(fields []*schema.Field, col *model.Column) string {
	for _, f := range fields {
		if f.Column == col {
			return f.Label
		}
	}
	return col.Name
}

// cellPlan is what the cells of one field need from the schema and the
// config: worked out once per page, not once per cell (a list page has
// hundreds of cells, and every lookup here is a map access).
type cellPlan struct {
	f       *schema.Field
	numeric bool
	// link is the start of a reference's link, the key's text follows:
	// ".../t/{parent}/r/" when the key is the parent's, else a filter
	// ".../t/{parent}?f.{column}=". Empty when there is nothing to link to.
	link string
	// labels are the referenced rows' labels by key text (labelStmts).
	labels map[string]string
	// hides: a row rule keeps some referenced rows from the caller; one
	// without a label is such a row, shown as hidden, linked nowhere.
	hides bool
	// from: the columns of a foreign key over several columns, planned on
	// its first column; the cell then links and labels the parent row by
	// all of them (labels keyed by tupleText).
	from []*model.Column
	// parentKey: that key is the parent's primary key, in order, so the
	// link goes to the row itself (else to a filtered list).
	parentKey bool
	to        []string
}

// labelReads: which of cellPlans' label reads are a plan's.
type labelReads struct {
	pl      *cellPlan
	from, n int
}

// cellPlans plans the cells of fields and looks up the label of every row
// that rows refer to: one query per foreign-key column, never one per row,
// and all of them in one call to the store (sqldb.Batcher).
func (c *ctx) cellPlans(fields []*schema.Field, rows []*row) []cellPlan {
	plans := make([]cellPlan, len(fields))
	var labels []labelReads
	var stmts []sqldb.Stmt
	for i, f := range fields {
		pl := &plans[i]
		pl.f = f
		pl.numeric = f.Column.Kind == model.Integer || f.Column.Kind == model.Number
		if r := f.Column.References; r != nil && r.Key != nil && r.Key.From[0] == f.Column.Name && len(rows) > 0 {
			c.planCompositeReference(pl, rows[0].t, r.Key, rows)
			continue
		}
		ref := f.Reference
		if ref == nil {
			continue
		}
		p := c.st.vis.Table(ref.Table)
		if p == nil || c.table(p.Name) == nil {
			continue
		}
		if len(p.PK) == 1 && p.PK[0].Name == ref.Column || p.UsesRowKey() && ref.Column == rowidName {
			pl.link = c.tableURL(p.Name) + "/r/"
		} else {
			pl.link = c.tableURL(p.Name) + "?f." + EncodeComponent(ref.Column) + "="
		}
		if ref.LabelColumn != "" && p.Column(ref.Column) != nil {
			if c.forAll && c.st.rules[p.Name] != nil {
				// A text every stream gets (a live message): the labels of a
				// table row rules hold would tell some of them what they may
				// not see. The key, the row's own value, stands instead.
				continue
			}
			// Read below, every referenced table's labels in one call.
			if args := referenceKeys(f, rows); len(args) > 0 {
				if st := c.labelStmts(ref, args); len(st) > 0 {
					labels = append(labels, labelReads{pl: pl, from: len(stmts), n: len(st)})
					stmts = append(stmts, st...)
				}
			}
			if cond, _ := c.ruleCond(p, "view"); cond != "" && cond != "1 = 1" {
				pl.hides = true
			}
		}
	}
	if len(stmts) > 0 {
		rss, err := c.e.db.QueryBatch(stmts)
		for _, l := range labels {
			if err != nil {
				l.pl.labels = map[string]string{}
			} else {
				l.pl.labels = labelMap(rss[l.from : l.from+l.n])
			}
		}
	}
	return plans
}

// tupleText is a composite key's values as one map key; "" when one is NULL
// (such a key refers to no row).
func tupleText(vals []any) string {
	var b strings.Builder
	for i, v := range vals {
		if v == nil {
			return ""
		}
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(sqldb.Text(v))
	}
	return b.String()
}

// planCompositeReference plans the cells of a foreign key over several
// columns: the parent row's label, by the whole key (a row pointing at
// (EPSG, 1305) is never labelled with another authority's 1305).
func (c *ctx) planCompositeReference(pl *cellPlan, t *model.Table, fk *model.ForeignKey, rows []*row) {
	p := c.st.vis.Table(fk.Table)
	if p == nil || c.table(p.Name) == nil {
		return
	}
	for _, name := range fk.From {
		col := t.Column(name)
		if col == nil {
			return
		}
		pl.from = append(pl.from, col)
	}
	for _, name := range fk.To {
		if p.Column(name) == nil {
			return
		}
	}
	pl.to = fk.To
	pl.parentKey = !p.UsesRowKey() && len(p.PK) == len(fk.To)
	for i, k := range p.PK {
		pl.parentKey = pl.parentKey && i < len(fk.To) && k.Name == fk.To[i]
	}
	pl.link = c.tableURL(p.Name)
	lc := schema.LabelColumn(p, c.e.opts.Config.Table(p.Name))
	if lc == nil || c.forAll && c.st.rules[p.Name] != nil { // as in cellPlans
		return
	}
	seen := map[string]bool{}
	var tuples [][]any
	for _, r := range rows {
		vals := make([]any, len(pl.from))
		for i, col := range pl.from {
			vals[i] = r.get(col)
		}
		if k := tupleText(vals); k != "" && !seen[k] {
			seen[k] = true
			tuples = append(tuples, vals)
		}
	}
	to := make([]string, len(fk.To))
	as := make([]string, len(fk.To)) // each result column named once (PROTOCOL.md, "SQL")
	for i, name := range fk.To {
		to[i] = sqldb.Ident(name)
		as[i] = to[i] + ` AS "k` + strconv.Itoa(i) + `"`
	}
	// One tuple is (a = ? AND b = ?), and the batch their OR: Postgres
	// types a parameter by the column it meets there, where in (a, b) IN
	// (VALUES (?, ?)) it would take text and the comparison fail.
	eqs := make([]string, len(to))
	for i := range to {
		eqs[i] = to[i] + " = ?"
	}
	one := "(" + strings.Join(eqs, " AND ") + ")"
	pl.labels = map[string]string{}
	for start := 0; start < len(tuples); start += 200 {
		end := min(start+200, len(tuples))
		var args []any
		for _, tu := range tuples[start:end] {
			args = append(args, tu...)
		}
		where, wargs := c.andRule(p, "view", " WHERE ("+strings.TrimSuffix(strings.Repeat(one+" OR ", end-start), " OR ")+")", args)
		rs, err := c.e.db.Query("SELECT "+strings.Join(as, ", ")+", "+sqldb.Ident(lc.Name)+` AS "l" FROM `+sqldb.Ident(p.Name)+where, wargs...)
		if err != nil {
			break
		}
		for _, v := range rs.Values {
			if len(v) == len(to)+1 {
				pl.labels[tupleText(v[:len(to)])] = sqldb.Text(v[len(to)])
			}
		}
	}
}

// compositeCell is the cell of a composite foreign key's first column.
func (c *ctx) compositeCell(pl *cellPlan, r *row, cl cell) cell {
	vals := make([]any, len(pl.from))
	for i, col := range pl.from {
		vals[i] = r.get(col)
	}
	key := tupleText(vals)
	if key == "" {
		return cl
	}
	if pl.parentKey {
		cl.Href = c.str.concat(pl.link, "/r/", keyText(vals))
	} else {
		q := url.Values{}
		for i, name := range pl.to {
			q.Set("f."+name, sqldb.Text(vals[i]))
		}
		cl.Href = c.str.concat(pl.link, "?", encodeQuery(q))
	}
	if l, ok := pl.labels[key]; ok && l != "" {
		cl.Title = c.str.concat(pl.f.Column.Name, " = ", cl.Text)
		cl.Text = l
	}
	return cl
}

// referenceKeys are the distinct values rows refer to through f.
func referenceKeys(f *schema.Field, rows []*row) []any {
	seen := map[string]bool{}
	var args []any
	for _, r := range rows {
		v := r.get(f.Column)
		if v == nil || seen[sqldb.Text(v)] {
			continue
		}
		seen[sqldb.Text(v)] = true
		args = append(args, v)
	}
	return args
}

// labelsOf are the labels of the rows of ref's table whose ref column holds
// one of these values, by the value's text.
func (c *ctx) labelsOf(ref *schema.Reference, args []any) map[string]string {
	if ref.LabelColumn == "" {
		return nil
	}
	stmts := c.labelStmts(ref, args)
	rss, err := c.e.db.QueryBatch(stmts)
	if err != nil {
		return map[string]string{}
	}
	return labelMap(rss)
}

// labelStmts are the reads of labelsOf, at most 500 keys each.
func (c *ctx) labelStmts(ref *schema.Reference, args []any) []sqldb.Stmt {
	if ref.LabelColumn == "" || len(args) == 0 {
		return nil
	}
	parent := c.st.db.Table(ref.Table)
	var stmts []sqldb.Stmt
	for start := 0; start < len(args); start += 500 {
		end := min(start+500, len(args))
		ph := strings.TrimSuffix(strings.Repeat("?, ", end-start), ", ")
		// A row the caller may not view keeps its label to itself.
		where, wargs := c.andRule(parent, "view", " WHERE "+sqldb.Ident(ref.Column)+" IN ("+ph+")", append([]any(nil), args[start:end]...))
		stmts = append(stmts, sqldb.Stmt{SQL: "SELECT " + sqldb.Ident(ref.Column) + ` AS "k", ` + sqldb.Ident(ref.LabelColumn) + ` AS "l" FROM ` +
			sqldb.Ident(ref.Table) + where, Args: wargs})
	}
	return stmts
}

// labelMap reads the answers of labelStmts: label by key text.
func labelMap(rss []*sqldb.Rows) map[string]string {
	m := map[string]string{}
	for _, rs := range rss {
		for _, v := range rs.Values {
			m[sqldb.Text(v[0])] = sqldb.Text(v[1])
		}
	}
	return m
}

func (c *ctx) cellFor(pl *cellPlan, r *row) cell {
	col := pl.f.Column
	v := r.get(col)
	if v == nil {
		return cell{Text: "—", Class: "null", Title: "null"}
	}
	cl := cell{}
	if _, ok := v.(string); !ok && pl.numeric {
		cl.Class = "num"
	}
	switch x := v.(type) {
	case int64:
		if col.Kind == model.Boolean && (x == 0 || x == 1) {
			cl.Text, cl.Title = "✗", "false"
			if x == 1 {
				cl.Text, cl.Title = "✓", "true"
			}
			return cl
		}
	}
	if size, mime, ok := valueBytes(col, v); ok {
		// Bytes are never inlined: what they are, their size, and where
		// they download from (a file column's file too).
		cl.Text, cl.Class = bytesLabel(size, mime), "muted blob"
		if r.t.Addressable() {
			cl.Href = c.valueURL(r.t, r, col)
		}
		return cl
	}
	text := c.str.text(v)
	if pl.from != nil && pl.link != "" {
		return c.compositeCell(pl, r, cell{Text: text, Class: cl.Class})
	}
	if pl.link != "" {
		cl.Href = c.str.concat(pl.link, EncodeComponent(text))
		if l, ok := pl.labels[text]; ok && l != "" {
			cl.Text = l
			cl.Title = c.str.concat(col.Name, " = ", text)
			return cl
		} else if !ok && pl.hides {
			return cell{Text: "hidden", Class: "muted hidden", Title: "a row a rule keeps from you"}
		}
	}
	short, cut := render.Truncate(text, 80)
	cl.Text = short
	switch {
	case cl.Class == "" && len(short) <= 24 && !strings.ContainsAny(short, " \t\n"):
		cl.Class = "nw" // keys, codes and dates read badly when wrapped
	case cl.Class == "" && len(short) > 40:
		cl.Class = "long" // long text gets width instead of height, on a phone too
	}
	if cut {
		cl.Title = text
	}
	return cl
}

// options answers a reference field's search: up to 20 rows of the table
// whose label or key matches, as <option>s for a datalist.
func (c *ctx) options(t *model.Table) *protocol.Response {
	lc := schema.LabelColumn(t, c.e.opts.Config.Table(t.Name))
	keyCol := ""
	if len(t.PK) == 1 {
		keyCol = t.PK[0].Name
	}
	if keyCol == "" && !t.UsesRowKey() {
		return html(200, nil)
	}
	q := strings.TrimSpace(c.query.Get("q"))
	if q == "" {
		for _, vs := range c.query {
			if len(vs) > 0 && vs[0] != "" {
				q = strings.TrimSpace(vs[0]) // the datalist input sends its own name
			}
		}
	}
	keyExpr := t.RowKey
	if keyCol != "" {
		keyExpr = sqldb.Ident(keyCol)
	}
	labelExpr := keyExpr
	if lc != nil {
		labelExpr = sqldb.Ident(lc.Name)
	}
	// Read like a list that no index serves (scan.go): a big table is
	// searched a window at a time, with other requests answered between.
	lq := &listQuery{t: t, store: c.e.store, limit: 20, cond: c.e.store.Search(labelExpr) + ` OR CAST(` + keyExpr + ` AS TEXT) = ?`,
		condArgs: []any{"%" + likeEscape(q) + "%", q}, order: " ORDER BY " + labelExpr + ", " + keyExpr}
	lq.rule, lq.ruleArgs = c.ruleCond(t, "list")
	rows, _, _, _, answer, err := c.listRead(lq, false)
	if answer != nil {
		return answer
	}
	if err != nil {
		return html(200, nil)
	}
	var opts []option
	for _, r := range rows {
		key := r.rowid // the value a reference holds: the declared key, else the rowid
		if keyCol != "" {
			key = r.get(t.Column(keyCol))
		}
		label := key
		if lc != nil {
			label = r.get(lc)
		}
		opts = append(opts, option{Value: sqldb.Text(key), Label: sqldb.Text(label)})
	}
	return html(200, render.Options(opts))
}

// --- forms ---

// formValues are a form's field texts by column name, as typed.
type formValues map[string]string

func (c *ctx) buildForm(t *model.Table, r *row, typed formValues, errs []fieldError, create bool) formData {
	op := "update"
	if create {
		op = "insert"
	}
	fd := formData{DSID: c.st.dsid, ErrorCount: len(errs), ReadOnly: c.writable(t, op) != ""}
	if !create && r != nil && !fd.ReadOnly && c.ruleRefuses(t, "update", r.key()) != "" {
		fd.ReadOnly = true // the update rule keeps this row as it is for the caller
	}
	errAt := map[string]string{}
	for _, e := range errs {
		name := strings.TrimPrefix(e.Path, "/")
		if e.Path == "" || t.Column(name) == nil {
			fd.GeneralErrors = append(fd.GeneralErrors, strings.TrimPrefix(name+" ", " ")+e.Message)
			continue
		}
		if _, dup := errAt[name]; !dup {
			errAt[name] = e.Message
		}
	}
	for i, f := range c.st.fields[t.Name] {
		if create && f.HideOnCreate {
			continue
		}
		col := f.Column
		ff := formField{ID: "f" + strconv.Itoa(i), Name: col.Name, Label: f.Label, Widget: f.Widget, Help: f.Help,
			ReadOnly: f.ReadOnly || fd.ReadOnly, Error: errAt[col.Name]}
		// An edit form of a row that holds nothing there (SQLite lets a
		// NOT NULL-less key be NULL, and NOT NULL text be '') must still
		// save untouched: the browser would refuse to submit it.
		ff.Required = schema.Required(t, col) && !ff.ReadOnly && (r == nil || (r.get(col) != nil && r.get(col) != ""))
		var sqlv any
		if r != nil {
			sqlv = r.get(col)
		} else if col.Default != nil && col.Default.Literal {
			sqlv = col.Default.Value
		}
		value := formShows(f, sqlv)
		ff.Base = value
		if typedValue, ok := typed[col.Name]; ok {
			value = typedValue
		}
		ff.Value = value
		if size, mime, isBlob := valueBytes(col, sqlv); isBlob || col.Kind == model.Blob {
			// Bytes are never text in an input: shown by what they are and
			// their size (a picture as a thumbnail), downloadable, and
			// replaced only by a file chosen for them (uploadedFiles), so
			// saving the form untouched leaves them as they are.
			upload := col.Kind == model.Blob && !ff.ReadOnly
			ff.Widget, ff.ReadOnly, ff.Value, ff.Base, ff.Upload = "blob", true, "", "", upload
			ff.Required = ff.Required && r == nil
			if isBlob {
				ff.Value = bytesLabel(size, mime)
				if r != nil && t.Addressable() {
					ff.Href = c.valueURL(t, r, col)
					ff.Thumb = inlineImage(mime)
				}
			} else if sqlv != nil {
				ff.Value = c.str.text(sqlv) // text a BLOB column holds (SQLite allows it)
			}
			fd.Multipart = fd.Multipart || upload
			fd.Fields = append(fd.Fields, ff)
			continue
		}
		widget := f.Widget
		if widget == "checkbox" && col.Nullable() {
			widget = "select" // three states: empty (NULL), yes, no
		}
		if strings.ContainsAny(value, "\r\n") && widget != "select" && widget != "checkbox" && widget != "reference" {
			// A one-line input drops line breaks: a textarea keeps them.
			widget = "textarea"
		}
		ff.Widget = widget
		max := col.MaxLength
		if m := col.Check.MaxLength; m != nil && (max == nil || *m < *max) {
			max = m
		}
		if max != nil {
			ff.MaxLength = *max
		}
		switch widget {
		case "checkbox":
			ff.Checked = value == "1" || value == "true" || value == "on"
		case "textarea":
		case "integer":
			ff.InputType, ff.Step = "number", "1"
		case "number":
			ff.InputType, ff.Step = "number", "any"
		case "date":
			ff.InputType = "date"
		case "datetime":
			ff.InputType = "datetime-local"
			ff.Step = "1"
		case "email", "url", "tel", "password", "color":
			ff.InputType = f.Widget
		case "select":
			if f.Widget == "checkbox" {
				ff.Options = booleanOptions(value)
			} else {
				ff.Options = enumOptions(col, value)
			}
		case "reference":
			c.referenceField(&ff, f, value)
		default:
			ff.InputType = "text"
		}
		if ff.InputType == "number" {
			if v := col.Check.Minimum; v != nil {
				ff.Min = sqldb.FormatNumber(v)
			}
			if v := col.Check.Maximum; v != nil {
				ff.Max = sqldb.FormatNumber(v)
			}
		}
		if ff.Value != "" && !browserKeeps(ff.InputType, ff.Value) {
			// The browser would change or drop this value (a typed input
			// only holds its own syntax): show it as text, as stored or typed.
			ff.InputType, ff.Step, ff.Min, ff.Max = "text", "", "", ""
		}
		if ref := col.References; ref != nil && ref.Key != nil && ref.Key.From[0] == col.Name {
			ff.KeyPicker = c.keyPicker(t, ref.Key, r, typed)
		}
		fd.Fields = append(fd.Fields, ff)
	}
	return fd
}

// keyIndex is the index of a foreign key among its table's, which names its
// picker ("_key.N").
func keyIndex(t *model.Table, fk *model.ForeignKey) int {
	for i := range t.ForeignKeys {
		if &t.ForeignKeys[i] == fk {
			return i
		}
	}
	return -1
}

// keyText is a composite key's values as the picker's option value: each
// escaped like a path segment, joined by commas (as row keys in URLs).
func keyText(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = EncodeComponent(sqldb.Text(v))
	}
	return strings.Join(parts, ",")
}

// keyPicker lists the parent rows of a foreign key over several columns
// (up to referenceThreshold of them), labelled, the row's own selected.
func (c *ctx) keyPicker(t *model.Table, fk *model.ForeignKey, r *row, typed formValues) *render.KeyPicker {
	p := c.st.vis.Table(fk.Table)
	n := keyIndex(t, fk)
	if p == nil || c.table(p.Name) == nil || n < 0 {
		return nil
	}
	to := make([]string, len(fk.To))
	as := make([]string, len(fk.To))
	for i, name := range fk.To {
		if p.Column(name) == nil {
			return nil
		}
		to[i] = sqldb.Ident(name)
		as[i] = to[i] + ` AS "k` + strconv.Itoa(i) + `"`
	}
	label := strings.Join(to, " || ', ' || ")
	if lc := schema.LabelColumn(p, c.e.opts.Config.Table(p.Name)); lc != nil {
		label = sqldb.Ident(lc.Name) + " || ' (' || " + label + " || ')'"
	}
	where, args := c.andRule(p, "list", "", nil)
	rs, err := c.e.db.Query("SELECT "+strings.Join(as, ", ")+", "+label+` AS "l" FROM `+sqldb.Ident(p.Name)+where+
		" ORDER BY 1 LIMIT "+strconv.Itoa(referenceThreshold+1), args...)
	if err != nil || len(rs.Values) > referenceThreshold {
		return nil
	}
	current := ""
	if r != nil {
		vals := make([]any, len(fk.From))
		for i, name := range fk.From {
			vals[i] = r.get(t.Column(name))
		}
		if tupleText(vals) != "" {
			current = keyText(vals)
		}
	}
	if v, ok := typed["_key."+strconv.Itoa(n)]; ok {
		current = v
	}
	kp := &render.KeyPicker{Name: "_key." + strconv.Itoa(n), Label: "Choose a row of " + c.label(p) + " (" + strings.Join(fk.From, ", ") + ")",
		Options: []option{{Value: current, Label: "— keep " + strings.Join(fk.From, ", ") + " as typed —", Selected: true}}}
	for _, v := range rs.Values {
		if len(v) != len(to)+1 {
			continue
		}
		k := keyText(v[:len(to)])
		if tupleText(v[:len(to)]) == "" {
			continue
		}
		kp.Options = append(kp.Options, option{Value: "=" + k, Label: sqldb.Text(v[len(to)])})
	}
	return kp
}

// applyKeyPickers sets every column of a composite foreign key from its
// picker when the person chose a row there ("=" + the key), over what the
// key's own fields hold.
func (c *ctx) applyKeyPickers(t *model.Table, form url.Values) {
	for n := range t.ForeignKeys {
		fk := &t.ForeignKeys[n]
		v := form.Get("_key." + strconv.Itoa(n))
		rest, chosen := strings.CutPrefix(v, "=")
		if !chosen || len(fk.From) < 2 {
			continue
		}
		parts := strings.Split(rest, ",")
		if len(parts) != len(fk.From) {
			continue
		}
		for i, part := range parts {
			s, err := pathUnescape(part)
			if err != nil {
				break
			}
			form[fk.From[i]] = []string{s}
		}
	}
}

// formShows is the text a form field shows for a stored value: what the
// browser sends back for a field nobody touched (checkboxes: "1" or "0").
func formShows(f *schema.Field, v any) string {
	value := fieldText(f, v)
	if f.Widget != "checkbox" {
		return value
	}
	switch value {
	case "1", "true":
		return "1"
	case "0", "false":
		return "0"
	}
	if f.Column.Nullable() {
		return value // the three-state select shows "" for NULL, and odd text as it is
	}
	return "0" // an unticked box
}

// untouched reports whether a posted field still holds what the form showed
// for the stored value, after the browser's own normalisations: line breaks
// (a textarea sends CRLF) and a datetime-local's dropped ":00" seconds.
func untouched(f *schema.Field, posted, shown string) bool {
	if f.Widget == "datetime" {
		posted, shown = fullSeconds(posted), fullSeconds(shown)
	}
	return lineFeeds(posted) == lineFeeds(shown)
}

func lineFeeds(s string) string {
	if !strings.ContainsRune(s, '\r') {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

func fullSeconds(s string) string {
	if len(s) == 16 && s[10] == 'T' {
		return s + ":00"
	}
	return s
}

// dropUntouched removes from a posted form every field that still holds what
// the form showed for the row as it is: an untouched Save writes nothing, so
// an empty string stays empty (not NULL), a NULL boolean stays NULL, text the browser
// would normalise (CRLF, a datetime's seconds) keeps its stored bytes.
func (c *ctx) dropUntouched(t *model.Table, cur *row, form url.Values) (dropped map[string]bool) {
	dropped = map[string]bool{}
	for _, f := range c.st.fields[t.Name] {
		vs := form[f.Column.Name]
		if len(vs) == 0 {
			continue
		}
		sqlv := cur.get(f.Column)
		if _, _, isBlob := valueBytes(f.Column, sqlv); isBlob {
			continue // no field shows bytes: anything posted for them is a change
		}
		if untouched(f, vs[len(vs)-1], formShows(f, sqlv)) {
			delete(form, f.Column.Name)
			dropped[f.Column.Name] = true
		}
	}
	return dropped
}

// keepLineBreaks gives changed text the line breaks of the value it
// replaces: a textarea sends CRLF, which would turn LF text into CRLF text.
func keepLineBreaks(s string, stored any) string {
	if !strings.Contains(s, "\r\n") {
		return s
	}
	if old, ok := stored.(string); ok && strings.Contains(old, "\r\n") {
		return s
	}
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// browserKeeps reports whether an input of this type shows a value as it
// is; otherwise the browser's value sanitisation would empty or change it
// (and post that back).
func browserKeeps(inputType, v string) bool {
	switch inputType {
	case "number":
		return htmlNumber(v)
	case "date":
		_, err := time.Parse("2006-01-02", v)
		return err == nil
	case "datetime-local":
		if len(v) == 16 {
			v += ":00"
		}
		_, err := time.Parse("2006-01-02T15:04:05", v)
		return err == nil
	case "email", "url":
		return strings.TrimSpace(v) == v && !strings.ContainsAny(v, "\r\n")
	case "color":
		if len(v) != 7 || v[0] != '#' {
			return false
		}
		for i := 1; i < 7; i++ {
			if !(v[i] >= '0' && v[i] <= '9' || v[i] >= 'a' && v[i] <= 'f') {
				return false
			}
		}
		return true
	}
	return !strings.ContainsAny(v, "\r\n")
}

// htmlNumber: HTML's "valid floating-point number", the only text a number
// input keeps (no "+", no "5.", no "Infinity", no spaces).
func htmlNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	whole := digits()
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	} else if whole == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

func blobText(size int) string {
	if size == 1 {
		return "1 byte"
	}
	return strconv.Itoa(size) + " bytes"
}

func booleanOptions(value string) []option {
	opts := []option{{Value: "", Label: "—", Selected: value == ""}, {Value: "1", Label: "Yes", Selected: value == "1"},
		{Value: "0", Label: "No", Selected: value == "0"}}
	if value != "" && value != "1" && value != "0" {
		// Text a BOOLEAN column holds (SQLite allows it) stays visible.
		opts = append(opts, option{Value: value, Label: value + " (not a boolean)", Selected: true})
	}
	return opts
}

// fieldText is a value as its form field holds it: SQLite's "date time"
// becomes the "dateTtime" a datetime-local input takes.
func fieldText(f *schema.Field, v any) string {
	s := sqldb.Text(v)
	if f.Widget == "datetime" && len(s) >= 19 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:19]
	}
	return s
}

func enumOptions(col *model.Column, value string) []option {
	var opts []option
	if col.Nullable() {
		opts = append(opts, option{Value: "", Label: "—", Selected: value == ""})
	}
	found := false
	for _, e := range col.Check.Enum {
		s := sqldb.Text(e)
		sel := s == value
		found = found || sel
		opts = append(opts, option{Value: s, Label: s, Selected: sel})
	}
	if !found && value != "" {
		// A value outside the list (old data, or what was typed) stays visible.
		opts = append(opts, option{Value: value, Label: value + " (not allowed)", Selected: true})
	}
	return opts
}

// referenceThreshold is the largest referenced table offered as a <select>;
// larger ones get a search box.
const referenceThreshold = 200

func (c *ctx) referenceField(ff *formField, f *schema.Field, value string) {
	ref := f.Reference
	parent := c.st.vis.Table(ref.Table)
	ff.InputType = "text"
	if parent == nil || c.table(parent.Name) == nil {
		return
	}
	if value != "" {
		if len(parent.PK) == 1 && parent.PK[0].Name == ref.Column {
			ff.Href = c.tableURL(parent.Name) + "/r/" + EncodeComponent(value)
			ff.RefText = c.label(parent)
		}
	}
	keyExpr := sqldb.Ident(ref.Column)
	labelExpr := keyExpr
	if ref.LabelColumn != "" {
		labelExpr = sqldb.Ident(ref.LabelColumn)
	}
	opts, err := c.referenceOptions(parent, keyExpr, labelExpr)
	if err != nil {
		return
	}
	if opts.more {
		ff.Search = c.tableURL(parent.Name) + "/options"
		if value != "" && ref.LabelColumn != "" {
			where, args := c.andRule(parent, "view", " WHERE "+keyExpr+" = ?", []any{value})
			if lr, err := c.e.db.Query("SELECT "+labelExpr+" FROM "+sqldb.Ident(parent.Name)+where, args...); err == nil && len(lr.Values) == 1 {
				ff.RefLabel = sqldb.Text(lr.Values[0][0])
			}
		}
		return
	}
	if f.Column.Nullable() || value == "" {
		ff.Options = append(ff.Options, option{Value: "", Label: "—", Selected: value == ""})
	}
	found := value == ""
	for _, v := range opts.rows {
		k := sqldb.Text(v[0])
		l := sqldb.Text(v[1])
		if ref.LabelColumn != "" && l != k {
			l = l + " (" + k + ")"
		}
		sel := k == value
		found = found || sel
		ff.Options = append(ff.Options, option{Value: k, Label: l, Selected: sel})
	}
	if !found {
		ff.Options = append(ff.Options, option{Value: value, Label: value + " (no such row)", Selected: true})
	}
}

// refOptions are the rows a reference field offers: key and label, sorted
// by label; more when the table is past referenceThreshold (a search box).
type refOptions struct {
	rows [][]any
	more bool
}

// referenceOptions reads a referenced table's options, kept in the data
// cache: every edit form of a table with a foreign key asks for them, and a
// table past the threshold is counted (a count the cache also keeps) rather
// than sorted, so a form that refers to a big table does not sort it.
func (c *ctx) referenceOptions(parent *model.Table, keyExpr, labelExpr string) (refOptions, error) {
	dc := c.cache()
	// The options are the rows the caller may list; the cache keeps each
	// caller's (the rule's arguments) apart.
	where, args := c.andRule(parent, "list", "", nil)
	key := parent.Name + "\x00" + keyExpr + "\x00" + labelExpr + "\x00" + countKey(where, args)
	if dc != nil {
		if o, ok := dc.refs[key]; ok {
			return o, nil
		}
	}
	n, _, err := c.countIn(dc, parent, where, args...)
	if err != nil {
		return refOptions{}, err
	}
	o := refOptions{more: n > referenceThreshold}
	if !o.more {
		rs, err := c.e.db.Query("SELECT "+keyExpr+` AS "k", `+labelExpr+` AS "l" FROM `+sqldb.Ident(parent.Name)+where+
			" ORDER BY "+labelExpr+", "+keyExpr+" LIMIT "+strconv.Itoa(referenceThreshold+1), args...)
		if err != nil {
			return refOptions{}, err
		}
		o.rows, o.more = rs.Values, len(rs.Values) > referenceThreshold
	}
	if dc != nil {
		if len(dc.refs) >= dataCacheSize {
			clear(dc.refs)
		}
		dc.refs[key] = o
	}
	return o, nil
}

func (c *ctx) rowHeading(t *model.Table, r *row) string {
	if lc := schema.LabelColumn(t, c.e.opts.Config.Table(t.Name)); lc != nil {
		if s := sqldb.Text(r.get(lc)); s != "" {
			return s
		}
	}
	return t.Name + " " + strings.Join(strings.Split(sqldb.Text(r.key()[0]), ","), ", ")
}

func (c *ctx) rowPage(t *model.Table, r *row, typed formValues, errs []fieldError, notice string) *protocol.Response {
	fd := c.buildForm(t, r, typed, errs, false)
	fd.Action = c.rowURL(r)
	fd.Version = r.version()
	fd.Submit = "Save"
	if notice != "" {
		fd.Notice, fd.NoticeClass = notice, "ok"
		if len(errs) > 0 {
			fd.NoticeClass = "warn"
		}
	}
	status := 200
	if len(errs) > 0 {
		status = 422
	}
	if c.hx {
		return html(status, render.Form(&fd))
	}
	heading := c.rowHeading(t, r)
	d := rowData{Page: c.page(heading+" · "+c.label(t), link{Text: c.label(t), Href: c.tableURL(t.Name)}, link{Text: heading}),
		Label: c.label(t), Heading: heading, Form: fd}
	if c.writable(t, "delete") == "" && c.ruleRefuses(t, "delete", r.key()) == "" {
		d.DeleteHref = c.rowURL(r) + "/delete"
	}
	d.Referenced = c.referencedBy(t, r)
	d.Live, d.Key, d.Table = c.liveURL(t), r.pkPath(), t.Name
	if lc := schema.LabelColumn(t, c.e.opts.Config.Table(t.Name)); lc != nil {
		d.LabelColumn = lc.Name
	}
	if c.e.live.enabled {
		d.HistoryHref = c.rowURL(r) + "/history"
	}
	return html(status, render.RowPage(&d))
}

// referencedBy links to the rows of other tables that point at this one.
func (c *ctx) referencedBy(t *model.Table, r *row) []link {
	var out []link
	for _, other := range c.st.vis.Tables {
		if c.table(other.Name) == nil {
			continue
		}
	fks:
		for _, fk := range other.ForeignKeys {
			if fk.Table != t.Name {
				continue
			}
			// Every column of the key, as a filter each: a composite key
			// finds the rows that point at this row, not at any row that
			// shares one of its values.
			q := url.Values{}
			for i, from := range fk.From {
				col := t.Column(fk.To[i])
				if col == nil || r.get(col) == nil {
					continue fks
				}
				q.Set("f."+from, sqldb.Text(r.get(col)))
			}
			out = append(out, link{Text: c.label(other) + " by " + strings.Join(fk.From, ", "),
				Href: c.tableURL(other.Name) + "?" + encodeQuery(q)})
		}
	}
	return out
}

func (c *ctx) newPage(t *model.Table, typed formValues, errs []fieldError, notice string) *protocol.Response {
	fd := c.buildForm(t, nil, typed, errs, true)
	fd.Action = c.tableURL(t.Name) + "/new"
	fd.Submit = "Create"
	fd.CancelHref = c.tableURL(t.Name)
	if notice != "" {
		fd.Notice, fd.NoticeClass = notice, "warn"
	}
	status := 200
	if len(errs) > 0 {
		status = 422
	}
	if c.hx {
		return html(status, render.Form(&fd))
	}
	d := rowData{Page: c.page("New row · "+c.label(t), link{Text: c.label(t), Href: c.tableURL(t.Name)}, link{Text: "New row"}),
		Label: c.label(t), Heading: "New row in " + c.label(t), Form: fd, Live: c.liveURL(t), Table: t.Name}
	return html(status, render.NewPage(&d))
}

func (c *ctx) confirmPage(t *model.Table, r *row) *protocol.Response {
	heading := c.rowHeading(t, r)
	d := rowData{Page: c.page("Delete · "+heading, link{Text: c.label(t), Href: c.tableURL(t.Name)}, link{Text: heading, Href: c.rowURL(r)}, link{Text: "Delete"}),
		Label: c.label(t), Heading: heading, DeleteHref: c.rowURL(r) + "/delete", CancelHref: c.rowURL(r)}
	return html(200, render.ConfirmPage(&d))
}

// uploadedFiles puts the files a form chose for BLOB columns into it, as
// the JSON API spells bytes (base64), and drops any text posted for such a
// column: an empty file input (a browser sends one, as text, when nothing
// was chosen) must leave the bytes as they are. A file over the config's
// limit is left out and answered as its field's error.
func (c *ctx) uploadedFiles(t *model.Table, form url.Values, files map[string]formFile) []fieldError {
	var errs []fieldError
	limit := c.e.opts.Config.FileLimit()
	for _, col := range t.Columns {
		if col.Kind != model.Blob {
			continue
		}
		delete(form, col.Name)
		if f, ok := files[col.Name]; ok && len(f.Data) > 0 {
			if len(f.Data) > limit {
				errs = append(errs, fieldError{Path: "/" + col.Name, Message: "the file is " + strconv.Itoa(len(f.Data)) +
					" bytes; at most " + strconv.Itoa(limit) + " may be uploaded (the config's limits.fileBytes)"})
				continue
			}
			form.Set(col.Name, base64.StdEncoding.EncodeToString(f.Data))
		}
	}
	return errs
}

// formBodyFiles is formBody that also keeps the files a multipart form
// uploaded (the first of each field).
func (c *ctx) formBodyFiles() (url.Values, map[string]formFile, *protocol.Response) {
	if mt, params, err := parseMediaType(c.header("content-type")); err == nil && mt == "multipart/form-data" {
		files := map[string]formFile{}
		out, err := parseMultipartFiles(c.req.Body, params["boundary"], files)
		if err != nil {
			return nil, nil, c.fail(400, "the multipart form is malformed")
		}
		if !formUTF8(out) {
			return nil, nil, c.fail(400, "the form is not valid UTF-8")
		}
		return out, files, nil
	}
	form, bad := c.formBody()
	return form, nil, bad
}

// formBody reads an HTML form body (urlencoded or multipart).
func (c *ctx) formBody() (url.Values, *protocol.Response) {
	mt, params, err := parseMediaType(c.header("content-type"))
	if err != nil {
		return nil, c.fail(415, "send the form as application/x-www-form-urlencoded or multipart/form-data")
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		if !utf8.Valid(c.req.Body) {
			return nil, c.fail(400, "the form is not valid UTF-8")
		}
		v, err := url.ParseQuery(string(c.req.Body))
		if err != nil {
			return nil, c.fail(400, "the form body is malformed")
		}
		// Percent escapes can spell bytes that are not UTF-8 (%FF).
		if !formUTF8(v) {
			return nil, c.fail(400, "the form is not valid UTF-8")
		}
		return v, nil
	case "multipart/form-data":
		out, err := parseMultipart(c.req.Body, params["boundary"])
		if err != nil {
			return nil, c.fail(400, "the multipart form is malformed")
		}
		if !formUTF8(out) {
			return nil, c.fail(400, "the form is not valid UTF-8")
		}
		return out, nil
	}
	return nil, c.fail(415, "send the form as application/x-www-form-urlencoded or multipart/form-data")
}

// formInstance turns a submitted form into an instance for validation and the
// texts as typed (to show back). Fields that are not on the form are left
// alone; on create, an empty field of a column with a default is left out so
// the database fills it.
func (c *ctx) formInstance(t *model.Table, form url.Values, cur *row, untouched map[string]bool) (map[string]any, formValues) {
	create := cur == nil
	inst := map[string]any{}
	typed := formValues{}
	for _, f := range c.st.fields[t.Name] {
		col := f.Column
		if f.ReadOnly || (create && f.HideOnCreate) || untouched[col.Name] {
			continue
		}
		vs, present := form[col.Name]
		if !present && f.Widget != "checkbox" {
			continue
		}
		s := ""
		if len(vs) > 0 {
			s = vs[len(vs)-1] // a checkbox sends its hidden "0" first, then "1" when ticked
		}
		typed[col.Name] = s
		if col.Kind == model.String || col.Kind == model.Date || col.Kind == model.DateTime {
			var stored any
			if cur != nil {
				stored = cur.get(col)
			}
			s = keepLineBreaks(s, stored)
		}
		if create && s == "" && col.Default != nil {
			continue
		}
		if s == "" && col.Kind == model.String && schema.Required(t, col) {
			// The form marks it required: an empty box is a value forgotten,
			// not an empty string meant.
			inst[col.Name] = nil
			continue
		}
		inst[col.Name] = fromForm(col, s, present)
	}
	// A name that is no column at all (after remapping) goes to the validator,
	// which refuses it by name: a value typed into a field that does not
	// exist must not vanish without a word. Names starting with "_" are the
	// form's own (_dsid, _version).
	for name, vs := range form {
		if !strings.HasPrefix(name, "_") && t.Column(name) == nil && len(vs) > 0 {
			inst[name] = vs[len(vs)-1]
		}
	}
	return inst, typed
}

// formUTF8 reports whether every name and value of a form is UTF-8.
func formUTF8(v url.Values) bool {
	for k, vs := range v {
		if !utf8.ValidString(k) {
			return false
		}
		for _, s := range vs {
			if !utf8.ValidString(s) {
				return false
			}
		}
	}
	return true
}

// remappedForm reads a posted form and maps it onto the current schema when
// it was made against an older one.
func (c *ctx) remappedForm(t *model.Table) (url.Values, *remapped, *protocol.Response) {
	form, files, bad := c.formBodyFiles()
	if bad != nil {
		return nil, nil, bad
	}
	c.uploadErrs = c.uploadedFiles(t, form, files)
	var rm *remapped
	plan := c.planFor(t, form.Get("_dsid"))
	known := make([]string, 0, len(t.Columns))
	for _, col := range t.Columns {
		known = append(known, col.Name)
	}
	if plan != nil {
		for old := range plan.renamed {
			known = append(known, old)
		}
		for old := range plan.dropped {
			known = append(known, old)
		}
	}
	browserNames(form, known)
	if plan != nil {
		rm = plan.applyForm(form)
	}
	return form, rm, nil
}

// browserNames gives back their own names to the fields of columns whose
// names hold a line break: a browser sends every line break in a field's name
// as CRLF, so a column "a\nb" arrives as "a\r\nb".
func browserNames(form url.Values, names []string) {
	for _, n := range names {
		if !strings.ContainsAny(n, "\r\n") {
			continue
		}
		sent := crlf(n)
		if vs, ok := form[sent]; ok && sent != n {
			if _, exact := form[n]; !exact {
				form[n] = vs
				delete(form, sent)
			}
		}
	}
}

// crlf normalises line breaks the way HTML form submission does.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

func (c *ctx) htmlCreate(t *model.Table) *protocol.Response {
	form, rm, bad := c.remappedForm(t)
	if bad != nil {
		return bad
	}
	c.applyKeyPickers(t, form)
	inst, typed := c.formInstance(t, form, nil, nil)
	if c.uploadErrs != nil {
		return c.newPage(t, typed, c.uploadErrs, rm.notice())
	}
	o := c.insert(t, inst, rm)
	if o.status == 201 && !o.row.found() {
		return c.redirect(c.tableURL(t.Name)) // a view's row the write did not give a key to
	}
	if o.status == 201 {
		return c.redirect(c.rowURL(o.row))
	}
	if o.status == 422 || o.status == 409 {
		errs := o.errs
		if len(errs) == 0 {
			errs = []fieldError{{Path: "", Message: o.msg}}
		}
		return c.newPage(t, typed, errs, rm.notice())
	}
	return c.failOutcome(o)
}

func (c *ctx) htmlUpdate(t *model.Table, cur *row) *protocol.Response {
	form, rm, bad := c.remappedForm(t)
	if bad != nil {
		return bad
	}
	c.applyKeyPickers(t, form)
	untouched := c.dropUntouched(t, cur, form)
	inst, typed := c.formInstance(t, form, cur, untouched)
	if c.uploadErrs != nil {
		return c.rowPage(t, cur, typed, c.uploadErrs, rm.notice())
	}
	o := c.update(t, cur.key(), inst, form.Get("_version"), rm)
	switch {
	case o.status == 200:
		if c.hx {
			return c.rowPage(t, o.row, nil, nil, strings.TrimSpace("Saved. "+rm.notice()))
		}
		return c.redirect(c.rowURL(o.row))
	case o.status == 422:
		r := cur
		return c.rowPage(t, r, typed, o.errs, rm.notice())
	case o.status == 409 && o.current != nil:
		return c.conflict(t, o.current, typed)
	}
	return c.failOutcome(o)
}

func (c *ctx) htmlDelete(t *model.Table, r *row) *protocol.Response {
	form, bad := c.formBody()
	if bad != nil {
		return bad
	}
	o := c.remove(t, r.key(), form.Get("_version"))
	if o.status == 204 {
		return c.redirect(c.tableURL(t.Name))
	}
	return c.failOutcome(o)
}

// redirect answers a successful form post: 303 for plain browsers, a full
// navigation for htmx (so the URL bar follows).
func (c *ctx) redirect(to string) *protocol.Response {
	if c.hx {
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200, Headers: [][2]string{{"hx-redirect", to}, {"content-type", ctHTML}}}}
	}
	return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 303, Headers: [][2]string{{"location", to}, {"content-type", ctHTML}}}}
}

// failOutcome answers a failed write or read in the request's format.
func (c *ctx) failOutcome(o *outcome) *protocol.Response { return c.fail(o.status, o.msg) }

// conflict shows, for every field the person changed that someone else also
// changed, both values with a choice.
func (c *ctx) conflict(t *model.Table, cur *row, typed formValues) *protocol.Response {
	d := render.ConflictData{Action: c.rowURL(cur), DSID: c.st.dsid, Version: cur.version(), CancelHref: c.rowURL(cur)}
	for _, f := range c.st.fields[t.Name] {
		mine, ok := typed[f.Column.Name]
		if !ok {
			continue
		}
		theirs := sqldb.Text(cur.get(f.Column))
		if mine == theirs {
			d.Same = append(d.Same, hiddenInput{Name: f.Column.Name, Value: mine})
			continue
		}
		d.Conflicts = append(d.Conflicts, conflictField{Label: f.Label, Name: f.Column.Name, Mine: mine, Theirs: theirs})
	}
	body := render.Conflict(&d)
	if c.hx {
		return html(409, body)
	}
	heading := c.rowHeading(t, cur)
	p := c.page(heading, link{Text: c.label(t), Href: c.tableURL(t.Name)}, link{Text: heading})
	return html(409, render.ConflictPage(&p, heading, body))
}
