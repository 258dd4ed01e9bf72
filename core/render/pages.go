package render

// The page models the engine fills, and the pages written from them. Each
// function below is one former template (its name in a comment); literal
// text is the page's own, every value goes through w.text or w.url.

// Page is what the head and foot of every full page read.
type Page struct {
	Title    string
	AppTitle string
	DSID     string
	Base     string
	Crumbs   []Link
	Assets   struct{ CSS, HTMX, SSE, App string }
	// Offline is the offline service worker's URL ("": the pages do not
	// register one, and app.js takes away one registered before).
	Offline string
	// SignOut: the page was asked for with a sign-in session, so its header
	// offers to end it.
	SignOut bool
	// User is the signed-in user's email ("": the token's session);
	// UsersHref the users page, for an administrator.
	User      string
	UsersHref string
}

// Link is a breadcrumb, a filter chip or a "referenced by" link.
type Link struct {
	Text string
	Href string
}

// head: the document up to <main>.
func (w *writer) head(p *Page) {
	w.raw(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="nakedhtmx-dsid" content="`)
	w.text(p.DSID)
	w.raw(`">
<meta name="htmx-config" content='{"defaultSwap":"outerHTML","defaultSettleDelay":0}'>
`)
	if p.Offline != "" {
		w.raw(`<meta name="nakedhtmx-offline" content="`)
		w.url(p.Offline)
		w.raw(`">
`)
	}
	w.raw(`<title>`)
	w.text(p.Title)
	w.raw(` · `)
	w.text(p.AppTitle)
	w.raw(`</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="`)
	w.url(p.Assets.CSS)
	w.raw(`">
<script src="`)
	w.url(p.Assets.HTMX)
	w.raw(`" defer></script>
<script src="`)
	w.url(p.Assets.SSE)
	w.raw(`" defer></script>
<script src="`)
	w.url(p.Assets.App)
	w.raw(`" defer></script>
</head>
<body>
<header class="top">
<nav aria-label="Breadcrumb"><ol class="crumbs"><li><a class="brand" href="`)
	w.url(p.Base)
	w.raw(`/">`)
	w.text(p.AppTitle)
	w.raw(`</a></li>`)
	for _, c := range p.Crumbs {
		w.raw(`<li>`)
		if c.Href != "" {
			w.raw(`<a href="`)
			w.url(c.Href)
			w.raw(`">`)
			w.text(c.Text)
			w.raw(`</a>`)
		} else {
			w.raw(`<span aria-current="page">`)
			w.text(c.Text)
			w.raw(`</span>`)
		}
		w.raw(`</li>`)
	}
	w.raw(`</ol></nav>`)
	if p.SignOut {
		w.raw(`<div class="who">`)
		if p.UsersHref != "" {
			w.raw(`<a href="`)
			w.url(p.UsersHref)
			w.raw(`">Users</a> `)
		}
		if p.User != "" {
			w.raw(`<span class="user" title="Signed in as">`)
			w.text(p.User)
			w.raw(`</span> `)
		}
		w.raw(`<form method="post" action="`)
		w.url(p.Base)
		w.raw(`/signout" class="signout"><button type="submit" >Sign out</button></form></div>`)
	}
	w.raw(`
</header>
<main id="main">
`)
}

// foot: from </main> to the end.
func (w *writer) foot(p *Page) {
	w.raw(`
</main>
<footer class="foot"><span>schema <code>`)
	w.text(p.DSID)
	w.raw(`</code></span></footer>
</body>
</html>
`)
}

// ErrorData is an error page.
type ErrorData struct {
	Page
	Status     int
	StatusText string
	Message    string
}

// ErrorPage ("error").
func ErrorPage(d *ErrorData) []byte {
	w := newWriter(2048)
	w.head(&d.Page)
	w.raw("\n<h1>")
	w.int(int64(d.Status))
	w.raw(` · `)
	w.text(d.StatusText)
	w.raw(`</h1>
<p class="notice error" role="alert">`)
	w.text(d.Message)
	w.raw(`</p>
<p><a href="`)
	w.url(d.Base)
	w.raw(`/">Back to the tables</a></p>
`)
	w.foot(&d.Page)
	return w.b
}

// SigninData is the sign-in page.
type SigninData struct {
	Page
	Message string
	// Users: sign in with an email and a password; Token: with the
	// server's token (both forms when both are there).
	Users, Token bool
	// Email is what was typed, kept when a sign-in is refused (never the
	// password).
	Email string
}

// SigninPage ("signin").
func SigninPage(d *SigninData) []byte {
	w := newWriter(2048)
	w.head(&d.Page)
	w.raw("\n<h1>Sign in</h1>\n")
	if d.Message != "" {
		w.raw(`<p class="notice error" role="alert">`)
		w.text(d.Message)
		w.raw(`</p>`)
	}
	if d.Users {
		w.raw(`
<form method="post" action="`)
		w.url(d.Base)
		w.raw(`/signin" class="form narrow">
<div class="field"><label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required autofocus value="`)
		w.text(d.Email)
		w.raw(`"></div>
<div class="field"><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required></div>
<div class="buttons"><button type="submit">Sign in</button></div>
</form>
`)
	}
	if d.Token || !d.Users {
		if d.Users {
			w.raw(`<details><summary>Sign in with the server's token</summary>`)
		}
		w.raw(`
<form method="post" action="`)
		w.url(d.Base)
		w.raw(`/signin" class="form narrow">
<div class="field"><label for="token">Access token</label><input id="token" name="token" type="password" autocomplete="current-password" required`)
		if !d.Users {
			w.raw(` autofocus`)
		}
		w.raw(`></div>
<div class="buttons"><button type="submit">Sign in</button></div>
</form>
`)
		if d.Users {
			w.raw(`</details>
`)
		}
	}
	w.foot(&d.Page)
	return w.b
}

// RulesTable is one table on the rules page: its rules by RulesData.Ops.
type RulesTable struct {
	Name, Label, Action string
	Rules               []string
	Broken              string // why the config's rules do not fit it, or ""
}

// RulesData is the rules page.
type RulesData struct {
	Page
	Ops      []string
	Tables   []RulesTable
	Message  string
	Error    bool
	ReadOnly string // why they cannot be saved from here, or ""
}

// RulesPage ("rules"): each table's row rules in a form of its own.
func RulesPage(d *RulesData) []byte {
	w := newWriter(2048 + 1024*len(d.Tables))
	w.head(&d.Page)
	w.raw("\n<h1>Row rules</h1>\n")
	notice(w, d.Message, d.Error)
	if d.ReadOnly != "" {
		notice(w, d.ReadOnly, true)
	}
	w.raw(`<p class="help">A filter over the row's columns: <code>=</code>, <code>!=</code>, <code>&lt;</code>, <code>IN (...)</code>, <code>LIKE</code>, <code>IS NULL</code>, <code>AND</code>, <code>OR</code>, <code>NOT</code>, and <code>@user.id</code>, <code>@user.email</code>, <code>@user.role</code>. Empty: any signed-in user; <code>false</code>: no one but an administrator.</p>
`)
	for _, t := range d.Tables {
		w.raw(`<form method="post" class="form rules" action="`)
		w.url(t.Action)
		w.raw(`"><h2>`)
		w.text(t.Label)
		w.raw(`</h2>`)
		if t.Broken != "" {
			w.raw(`<p class="notice error" role="alert">`)
			w.text(t.Broken)
			w.raw(`</p>`)
		}
		for i, op := range d.Ops {
			id := "r-" + t.Name + "-" + op
			w.raw(`<div class="field"><label for="`)
			w.text(id)
			w.raw(`">`)
			w.text(op)
			w.raw(`</label><input id="`)
			w.text(id)
			w.raw(`" name="`)
			w.text(op)
			w.raw(`" value="`)
			w.text(t.Rules[i])
			w.raw(`" spellcheck="false"></div>`)
		}
		if d.ReadOnly == "" {
			w.raw(`<div class="buttons"><button type="submit">Save</button></div>`)
		}
		w.raw("</form>\n")
	}
	w.foot(&d.Page)
	return w.b
}

// notice writes a message: an alert when it is an error.
func notice(w *writer, msg string, isErr bool) {
	if msg == "" {
		return
	}
	if isErr {
		w.raw(`<p class="notice error" role="alert">`)
	} else {
		w.raw(`<p class="notice" role="status">`)
	}
	w.text(msg)
	w.raw("</p>\n")
}

// UserEntry is one user on the users page.
type UserEntry struct {
	ID, Email, Role, Changed string
}

// UsersData is the users page.
type UsersData struct {
	Page
	Users   []UserEntry
	Message string
	Error   bool
}

// UsersPage ("users"): every user, a form to add one, and for each a form
// to change the role or password and a button to remove.
func UsersPage(d *UsersData) []byte {
	w := newWriter(2048 + 512*len(d.Users))
	w.head(&d.Page)
	w.raw("\n<h1>Users</h1>\n")
	notice(w, d.Message, d.Error)
	w.raw(`<p><a href="`)
	w.url(d.Base)
	w.raw(`/rules">Row rules</a></p>
`)
	w.raw(`<div class="scroll"><table class="grid users">
<thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Changed</th><th scope="col">Change</th><th scope="col"></th></tr></thead>
<tbody>`)
	for _, u := range d.Users {
		w.raw(`<tr><td>`)
		w.text(u.Email)
		w.raw(`</td><td>`)
		w.text(u.Role)
		w.raw(`</td><td>`)
		w.text(u.Changed)
		w.raw(`</td><td><form method="post" class="inline" action="`)
		w.url(d.Base)
		w.raw(`/users/`)
		w.url(u.ID)
		w.raw(`"><input name="role" aria-label="Role" placeholder="role" value="`)
		w.text(u.Role)
		w.raw(`"> <input name="password" type="password" aria-label="New password" placeholder="new password" autocomplete="new-password"> <button type="submit">Save</button></form></td><td><form method="post" class="inline" action="`)
		w.url(d.Base)
		w.raw(`/users/`)
		w.url(u.ID)
		w.raw(`/delete"><button type="submit" class="danger">Remove</button></form></td></tr>`)
	}
	w.raw(`</tbody></table></div>
<h2>Add a user</h2>
<form method="post" action="`)
	w.url(d.Base)
	w.raw(`/users" class="form narrow">
<div class="field"><label for="new-email">Email</label><input id="new-email" name="email" type="email" required></div>
<div class="field"><label for="new-password">Password</label><input id="new-password" name="password" type="password" minlength="8" autocomplete="new-password" required></div>
<div class="field"><label for="new-role">Role</label><input id="new-role" name="role" value="user" required><small class="help">admin: sees and does everything</small></div>
<div class="buttons"><button type="submit">Add</button></div>
</form>
`)
	w.foot(&d.Page)
	return w.b
}

// TableEntry is one table or view on the index page.
type TableEntry struct {
	Name, Label, Href, Kind string
	Rows                    int64
	RowsMore                bool // Rows is a lower bound: there are more
	Uncounted               bool // a view: not counted (its definition may take any time)
	Columns                 int
}

// IndexData is the index page.
type IndexData struct {
	Page
	Tables []TableEntry
	// Queries are the stored queries the caller may run; SQLHref the SQL
	// page, when it is on.
	Queries []Link
	SQLHref string
	// NewTableHref: the new-table page, where the caller may make one.
	NewTableHref string
}

// IndexPage ("index").
func IndexPage(d *IndexData) []byte {
	w := newWriter(2048 + 256*len(d.Tables))
	w.head(&d.Page)
	w.raw("\n<h1>Tables</h1>\n")
	if len(d.Tables) > 0 {
		w.raw(`<div class="scroll"><table class="grid index">
<thead><tr><th scope="col">Name</th><th scope="col" class="num">Rows</th><th scope="col" class="num">Columns</th><th scope="col">Kind</th></tr></thead>
<tbody>`)
		for i := range d.Tables {
			t := &d.Tables[i]
			w.raw(`<tr><td><a href="`)
			w.url(t.Href)
			w.raw(`">`)
			w.text(t.Label)
			w.raw(`</a>`)
			if t.Label != t.Name {
				w.raw(` <small class="muted">`)
				w.text(t.Name)
				w.raw(`</small>`)
			}
			w.raw(`</td><td class="num">`)
			if !t.Uncounted {
				w.int(t.Rows)
				if t.RowsMore {
					w.raw(`+`)
				}
			}
			w.raw(`</td><td class="num">`)
			w.int(int64(t.Columns))
			w.raw(`</td><td>`)
			w.text(t.Kind)
			w.raw("</td></tr>\n")
		}
		w.raw("</tbody></table></div>\n")
	} else {
		w.raw(`<p class="empty">This database has no tables yet. Create one here or with any SQL tool and it appears.</p>`)
	}
	if d.NewTableHref != "" {
		w.raw(`<p><a class="button" href="`)
		w.url(d.NewTableHref)
		w.raw(`">New table</a></p>`)
	}
	if len(d.Queries) > 0 {
		w.raw("\n<h2>Queries</h2>\n<ul class=\"queries\">")
		for i := range d.Queries {
			w.raw(`<li><a href="`)
			w.url(d.Queries[i].Href)
			w.raw(`">`)
			w.text(d.Queries[i].Text)
			w.raw(`</a></li>`)
		}
		w.raw("</ul>")
	}
	if d.SQLHref != "" {
		w.raw(`<p><a class="button" href="`)
		w.url(d.SQLHref)
		w.raw(`">Run SQL</a></p>`)
	}
	w.raw("\n")
	w.foot(&d.Page)
	return w.b
}

// ColHead is a sortable column heading of a list.
type ColHead struct {
	Label, Href  string
	Sorted, Desc bool
}

// Cell is one cell of a list row.
type Cell struct {
	Text, Href, Class, Title string
}

// TableRow is one row of a list.
type TableRow struct {
	ID    string
	Cells []Cell
	// Pick is the row's key as its URL spells it, for the list's bulk
	// selection ("" where the list has none).
	Pick string
}

// BulkBar is what a list can do to the rows selected in it.
type BulkBar struct {
	Action, Back string
	// Columns are those "Set" may write (none: no Set); Delete: rows may be deleted.
	Columns []Option
	Delete  bool
	DSID    string
}

// HiddenInput is a hidden form field.
type HiddenInput struct{ Name, Value string }

// Option is an <option> of a select or datalist.
type Option struct {
	Value, Label string
	Selected     bool
}

// ListData is a table's list page, or its #list fragment.
type ListData struct {
	Page
	Label, Action, NewHref, CSVHref, Q string
	// ImportHref: the table's import page, for a caller who may create rows.
	ImportHref string
	// StructureHref: the table's structure page, for a caller who may edit it.
	StructureHref string
	// PasteColumns (a JSON array of names): cells pasted on the page (a
	// spreadsheet's block) go to the import page's preview (ImportHref),
	// read as these columns when their first line does not name them.
	PasteColumns        string
	ChangesHref         string
	TextIndexed         bool
	Hidden              []HiddenInput
	Filters             []Link
	FilterColumns       []Option
	Count               int64
	CountMore           bool // Count is a lower bound: there are more
	Columns             []ColHead
	Rows                []TableRow
	NextHref, FirstHref string
	Partial             bool // an htmx fragment: the list state travels out of band
	Live, Table         string
	// Explore (explore.go): facets, suggested ones, totals.
	Facets       []FacetBox
	Suggest      []Link
	Totals       *Totals
	TotalsHref   string // turns the totals on or off
	CountAllHref string // beside a capped count: the totals, which count every row
	// Bulk: the rows may be selected and changed together (nil: no selection).
	Bulk *BulkBar
}

// ListRow ("list-row") is a row as every list page of its table shows it.
func ListRow(r *TableRow) []byte {
	w := newWriter(64 + 128*len(r.Cells))
	w.listRow(r)
	return w.b
}

// listRow appends its literals itself instead of through raw: it runs for
// every cell of a list, and in the wasm core a call per literal was a tenth
// of a list page. Values still go through text and url.
func (w *writer) listRow(r *TableRow) {
	w.b = append(w.b, `<tr`...)
	if r.ID != "" {
		w.b = append(w.b, ` id="`...)
		w.text(r.ID)
		w.b = append(w.b, '"')
	}
	w.b = append(w.b, '>')
	if r.Pick != "" {
		w.b = append(w.b, `<td class="pick"><input type="checkbox" form="bulk" name="k" value="`...)
		w.text(r.Pick)
		w.b = append(w.b, `" aria-label="Select this row"></td>`...)
	}
	for i := range r.Cells {
		c := &r.Cells[i]
		w.b = append(w.b, `<td`...)
		if c.Class != "" {
			w.b = append(w.b, ` class="`...)
			w.text(c.Class)
			w.b = append(w.b, '"')
		}
		if c.Title != "" {
			w.b = append(w.b, ` title="`...)
			w.text(c.Title)
			w.b = append(w.b, '"')
		}
		w.b = append(w.b, '>')
		if c.Href != "" {
			w.b = append(w.b, `<a href="`...)
			w.url(c.Href)
			w.b = append(w.b, `">`...)
			w.text(c.Text)
			w.b = append(w.b, `</a>`...)
		} else {
			w.text(c.Text)
		}
		w.b = append(w.b, `</td>`...)
	}
	w.b = append(w.b, `</tr>`...)
}

func listSize(d *ListData) int { return 4096 + 256*len(d.Columns) + 96*len(d.Columns)*len(d.Rows) }

// ListPage ("list").
func ListPage(d *ListData) []byte {
	w := newWriter(2048 + listSize(d))
	w.head(&d.Page)
	w.raw(`
<div class="page-head">
<h1>`)
	w.text(d.Label)
	w.raw(`</h1>
<div class="actions">`)
	if d.NewHref != "" {
		w.raw(`<a class="button primary" href="`)
		w.url(d.NewHref)
		w.raw(`">New row</a>`)
	}
	if d.ImportHref != "" {
		w.raw(`<a class="button" href="`)
		w.url(d.ImportHref)
		w.raw(`"`)
		if d.PasteColumns != "" {
			w.raw(` title="Import a file, or paste cells from a spreadsheet anywhere on this page" data-paste-columns="`)
			w.text(d.PasteColumns)
			w.raw(`"`)
		}
		w.raw(`>Import</a>`)
	}
	if d.ChangesHref != "" {
		w.raw(`<a class="button" href="`)
		w.url(d.ChangesHref)
		w.raw(`">Changes</a>`)
	}
	if d.StructureHref != "" {
		w.raw(`<a class="button" href="`)
		w.url(d.StructureHref)
		w.raw(`">Structure</a>`)
	}
	w.raw(`<a class="button" href="`)
	w.url(d.CSVHref)
	w.raw(`" download>CSV</a></div>
</div>
<form class="search" role="search" method="get" action="`)
	w.url(d.Action)
	w.raw(`" hx-get="`)
	w.text(d.Action)
	w.raw(`" hx-target="#list" hx-push-url="true">
`)
	w.listState(d)
	w.raw(`
<input type="search" name="q" value="`)
	w.text(d.Q)
	w.raw(`" placeholder="`)
	if d.TextIndexed {
		w.raw(`Full-text search`)
	} else {
		w.raw(`Search`)
	}
	w.raw(` `)
	w.text(d.Label)
	w.raw(`" aria-label="Search `)
	w.text(d.Label)
	w.raw(`" hx-get="`)
	w.text(d.Action)
	w.raw(`" hx-trigger="input changed delay:300ms, search" hx-target="#list" hx-push-url="true" hx-include="#list-state">
<button type="submit">Search</button>
</form>
<details class="filter-form"`)
	if len(d.Filters) > 0 {
		w.raw(` open`)
	}
	w.raw(`><summary>Filter by a column</summary>
<form method="get" action="`)
	w.url(d.Action)
	w.raw(`" hx-get="`)
	w.text(d.Action)
	w.raw(`" hx-target="#list" hx-push-url="true" hx-include="#list-state, input[type=search]" class="search">
<select name="by" aria-label="Column">`)
	for i := range d.FilterColumns {
		o := &d.FilterColumns[i]
		w.raw(`<option value="`)
		w.text(o.Value)
		w.raw(`">`)
		w.text(o.Label)
		w.raw(`</option>`)
	}
	w.raw(`</select>
<input name="is" aria-label="Value" placeholder="equals…">
<button type="submit">Filter</button>
</form></details>
`)
	w.listFragment(d)
	w.raw("\n")
	w.liveMarker(d.Live, "list", nil, d.Table, "")
	w.raw("\n")
	w.foot(&d.Page)
	return w.b
}

// ListFragment ("list-fragment") is the #list section an htmx request swaps.
func ListFragment(d *ListData) []byte {
	w := newWriter(listSize(d))
	w.listFragment(d)
	return w.b
}

// hxList are the attributes of a link that replaces the list in place.
const hxList = `" hx-target="#list" hx-push-url="true"`

func (w *writer) listFragment(d *ListData) {
	w.raw(`<section id="list" class="list" aria-live="polite">
`)
	if len(d.Filters) > 0 {
		w.raw(`<p class="filters">`)
		for i := range d.Filters {
			f := &d.Filters[i]
			w.raw(`<a class="chip" href="`)
			w.url(f.Href)
			w.raw(`" hx-get="`)
			w.text(f.Href)
			w.raw(hxList + ` title="Remove this filter">`)
			w.text(f.Text)
			w.raw(` <span aria-hidden="true">×</span></a> `)
		}
		w.raw(`</p>`)
	}
	w.raw("\n")
	w.facets(d)
	w.raw(`<p class="count">`)
	w.int(d.Count)
	if d.CountMore {
		w.raw(`+`)
	}
	if d.Count == 1 && !d.CountMore {
		w.raw(` row`)
	} else {
		w.raw(` rows`)
	}
	if d.Q != "" {
		w.raw(` matching “`)
		w.text(d.Q)
		w.raw(`”`)
	}
	if d.CountAllHref != "" {
		w.raw(` `)
		w.hxLink(&Link{Text: "count all", Href: d.CountAllHref}, "")
	}
	w.raw(`</p>
<div class="scroll"><table class="grid">
<thead><tr>`)
	if d.Bulk != nil {
		w.raw(`<th scope="col" class="pick"><span class="sr-only">Select</span></th>`)
	}
	for i := range d.Columns {
		h := &d.Columns[i]
		w.raw(`<th scope="col"`)
		if h.Sorted {
			if h.Desc {
				w.raw(` aria-sort="descending"`)
			} else {
				w.raw(` aria-sort="ascending"`)
			}
		}
		if h.Href == "" { // a column whose values have no order: no sort link
			w.raw(`>`)
			w.text(h.Label)
			w.raw(`</th>`)
			continue
		}
		w.raw(`><a href="`)
		w.url(h.Href)
		w.raw(`" hx-get="`)
		w.text(h.Href)
		w.raw(hxList + `>`)
		w.text(h.Label)
		if h.Sorted {
			if h.Desc {
				w.raw(`<span class="arrow" aria-hidden="true"> ▼</span>`)
			} else {
				w.raw(`<span class="arrow" aria-hidden="true"> ▲</span>`)
			}
		}
		w.raw(`</a></th>`)
	}
	w.raw(`</tr></thead>
<tbody>`)
	for i := range d.Rows {
		w.listRow(&d.Rows[i])
		w.raw("\n")
	}
	if len(d.Rows) == 0 {
		w.raw(`<tr><td class="empty" colspan="`)
		cols := len(d.Columns)
		if d.Bulk != nil {
			cols++
		}
		w.int(int64(cols))
		w.raw(`">No rows`)
		if d.Q != "" || len(d.Filters) > 0 {
			w.raw(` match`)
		}
		w.raw(".</td></tr>\n")
	}
	w.raw(`</tbody>`)
	w.totals(d)
	w.raw(`
</table></div>
`)
	w.bulkBar(d.Bulk)
	w.raw(`<nav class="pager" aria-label="Pages">`)
	if d.FirstHref != "" {
		w.raw(`<a class="button" href="`)
		w.url(d.FirstHref)
		w.raw(`" hx-get="`)
		w.text(d.FirstHref)
		w.raw(hxList + `>First page</a>`)
	}
	if d.NextHref != "" {
		w.raw(`<a class="button" rel="next" href="`)
		w.url(d.NextHref)
		w.raw(`" hx-get="`)
		w.text(d.NextHref)
		w.raw(hxList + `>Next page →</a>`)
	}
	w.raw(`</nav>
</section>`)
	if d.Partial {
		w.raw("\n")
		w.listState(d)
	}
}

// listState ("list-state"): the sort, filters and limit a search keeps.
func (w *writer) listState(d *ListData) {
	w.raw(`<div id="list-state"`)
	if d.Partial {
		w.raw(` hx-swap-oob="true"`)
	}
	w.raw(`>`)
	for i := range d.Hidden {
		w.hidden(&d.Hidden[i])
	}
	w.raw(`</div>`)
}

func (w *writer) hidden(h *HiddenInput) {
	w.raw(`<input type="hidden" name="`)
	w.text(h.Name)
	w.raw(`" value="`)
	w.text(h.Value)
	w.raw(`">`)
}

// Options ("options") answers a reference field's search: a datalist's
// options.
func Options(opts []Option) []byte {
	w := newWriter(64 * len(opts))
	for i := range opts {
		w.raw(`<option value="`)
		w.text(opts[i].Value)
		w.raw(`">`)
		w.text(opts[i].Label)
		w.raw(`</option>`)
	}
	return w.b
}

// FormField is one field of a row's form.
type FormField struct {
	ID, Name, Label, Widget, InputType, Value, Error, Help string
	Base                                                   string // the stored value, for the page script to tell edits apart
	Step, Min, Max                                         string
	MaxLength                                              int
	Required, ReadOnly, Checked                            bool
	Options                                                []Option
	Search, Href, RefText, RefLabel                        string
	// Thumb: a blob field's bytes are a picture, shown small from Href.
	// Upload: a file may be chosen to replace them.
	Thumb, Upload bool
	// KeyPicker chooses a parent row for a foreign key over several
	// columns: one choice sets all of them (named "_key.N", N the key's
	// index). Nil when there is none.
	KeyPicker *KeyPicker
}

// KeyPicker is the select of a composite foreign key's parent rows.
type KeyPicker struct {
	Name, Label string
	Options     []Option
}

// FormData is a row's form, on its page or alone as an htmx answer.
type FormData struct {
	Action, DSID, Version, Submit, CancelHref string
	Notice, NoticeClass                       string
	ReadOnly                                  bool
	Fields                                    []FormField
	ErrorCount                                int // fields in error, general errors included
	GeneralErrors                             []string
	// Multipart: a field takes a file (a BLOB column's bytes).
	Multipart bool
}

func formSize(f *FormData) int { return 1024 + 512*len(f.Fields) }

// Form ("form").
func Form(f *FormData) []byte {
	w := newWriter(formSize(f))
	w.form(f)
	return w.b
}

func (w *writer) form(f *FormData) {
	w.raw(`<form id="record" class="form" method="post" action="`)
	w.url(f.Action)
	w.raw(`" hx-post="`)
	w.text(f.Action)
	w.raw(`" hx-target="this" hx-swap="outerHTML"`)
	if f.Multipart {
		w.raw(` enctype="multipart/form-data" hx-encoding="multipart/form-data"`)
	}
	w.raw(` novalidate>
<input type="hidden" name="_dsid" value="`)
	w.text(f.DSID)
	w.raw(`">`)
	if f.Version != "" {
		w.raw(`
<input type="hidden" name="_version" value="`)
		w.text(f.Version)
		w.raw(`">`)
	}
	w.raw("\n")
	if f.Notice != "" {
		w.raw(`<p class="notice `)
		w.text(f.NoticeClass)
		w.raw(`" role="status">`)
		w.text(f.Notice)
		w.raw(`</p>`)
	}
	w.raw("\n")
	if f.ErrorCount > 0 {
		w.raw(`<div class="notice error" role="alert"><p>`)
		w.int(int64(f.ErrorCount))
		if f.ErrorCount == 1 {
			w.raw(` field needs`)
		} else {
			w.raw(` fields need`)
		}
		w.raw(` attention.</p>`)
		if len(f.GeneralErrors) > 0 {
			w.raw(`<ul>`)
			for _, e := range f.GeneralErrors {
				w.raw(`<li>`)
				w.text(e)
				w.raw(`</li>`)
			}
			w.raw(`</ul>`)
		}
		w.raw(`</div>`)
	}
	w.raw("\n")
	for i := range f.Fields {
		w.field(&f.Fields[i])
	}
	w.raw("\n")
	if !f.ReadOnly {
		w.raw(`<div class="buttons"><button type="submit" class="primary">`)
		w.text(f.Submit)
		w.raw(`</button>`)
		if f.CancelHref != "" {
			w.raw(` <a href="`)
			w.url(f.CancelHref)
			w.raw(`">Cancel</a>`)
		}
		w.raw(`</div>`)
	}
	w.raw("\n</form>")
}

// options writes a select's options and closes it.
func (w *writer) options(opts []Option) {
	for i := range opts {
		o := &opts[i]
		w.raw(`<option value="`)
		w.text(o.Value)
		w.raw(`"`)
		w.flag(o.Selected, ` selected`)
		w.raw(`>`)
		w.text(o.Label)
		w.raw(`</option>`)
	}
	w.raw("</select>\n")
}

// field ("field").
func (w *writer) field(f *FormField) {
	w.raw(`<div class="field`)
	if f.Error != "" {
		w.raw(` invalid`)
	}
	if f.Widget == "checkbox" {
		w.raw(` check`)
	}
	w.raw("\">\n")
	if f.Widget == "checkbox" {
		w.raw(`<input type="hidden" name="`)
		w.text(f.Name)
		w.raw(`" value="0"`)
		if f.ReadOnly {
			w.raw(` disabled`)
		}
		w.raw(`><input type="checkbox" id="`)
		w.text(f.ID)
		w.raw(`" name="`)
		w.text(f.Name)
		w.raw(`" value="1"`)
		if f.Checked {
			w.raw(` checked`)
		}
		if f.ReadOnly {
			w.raw(` disabled`)
		}
		w.aria(f)
		w.raw(`><label for="`)
		w.text(f.ID)
		w.raw(`">`)
		w.text(f.Label)
		w.raw("</label>\n")
	} else {
		w.raw(`<label for="`)
		w.text(f.ID)
		w.raw(`">`)
		w.text(f.Label)
		if f.Required {
			w.raw(` <span class="req" aria-hidden="true">*</span>`)
		}
		w.raw("</label>\n")
		switch {
		case f.Widget == "blob":
			// Bytes: their size, never an input (nothing is posted for them).
			w.raw(`<output id="`)
			w.text(f.ID)
			if f.Upload {
				w.raw(`-now`) // the label names the file input
			}
			w.raw(`" class="blob">`)
			if f.Href != "" && f.Thumb {
				w.raw(`<img class="thumb" alt="" src="`)
				w.url(f.Href)
				w.raw(`"> `)
			}
			w.text(f.Value)
			if f.Href != "" {
				w.raw(` <a href="`)
				w.url(f.Href)
				w.raw(`" download>Download</a>`)
			}
			w.raw("</output>\n")
			if f.Upload {
				w.raw(`<input type="file" id="`)
				w.text(f.ID)
				w.raw(`" name="`)
				w.text(f.Name)
				w.raw(`" aria-describedby="`)
				w.text(f.ID)
				w.raw(`-now"`)
				w.flag(f.Required, ` required`)
				w.raw(">\n")
			}
		case f.Widget == "textarea":
			w.raw(`<textarea id="`)
			w.text(f.ID)
			w.raw(`" name="`)
			w.text(f.Name)
			w.raw(`" rows="5"`)
			w.maxLength(f)
			w.flag(f.ReadOnly, ` readonly`)
			w.flag(f.Required, ` required`)
			w.aria(f)
			// The parser drops one line break right after the tag: this one,
			// so a value that starts with a line break keeps it.
			w.raw(">\n")
			w.text(f.Value)
			w.raw("</textarea>\n")
		case len(f.Options) > 0:
			w.raw(`<select id="`)
			w.text(f.ID)
			w.raw(`" name="`)
			w.text(f.Name)
			w.raw(`"`)
			w.flag(f.ReadOnly, ` disabled`)
			w.flag(f.Required, ` required`)
			w.aria(f)
			w.raw(`>`)
			w.options(f.Options)
		case f.Search != "":
			w.raw(`<input id="`)
			w.text(f.ID)
			w.raw(`" name="`)
			w.text(f.Name)
			w.raw(`" value="`)
			w.text(f.Value)
			w.raw(`" list="`)
			w.text(f.ID)
			w.raw(`-list" autocomplete="off"`)
			w.flag(f.ReadOnly, ` readonly`)
			w.raw(` hx-get="`)
			w.text(f.Search)
			w.raw(`" hx-trigger="input changed delay:250ms" hx-target="#`)
			w.text(f.ID)
			w.raw(`-list" hx-swap="innerHTML"`)
			w.aria(f)
			w.raw(`><datalist id="`)
			w.text(f.ID)
			w.raw(`-list"></datalist>`)
			if f.RefLabel != "" {
				w.raw(`<small class="muted">`)
				w.text(f.RefLabel)
				w.raw(`</small>`)
			}
			w.raw("\n")
		default:
			w.raw(`<input id="`)
			w.text(f.ID)
			w.raw(`" name="`)
			w.text(f.Name)
			w.raw(`" type="`)
			w.text(f.InputType)
			w.raw(`" value="`)
			w.text(f.Value)
			w.raw(`"`)
			w.attr(` step="`, f.Step)
			w.attr(` min="`, f.Min)
			w.attr(` max="`, f.Max)
			w.maxLength(f)
			w.flag(f.ReadOnly, ` readonly`)
			w.flag(f.Required, ` required`)
			w.aria(f)
			w.raw(">\n")
		}
	}
	if k := f.KeyPicker; k != nil {
		w.raw(`<select class="key-picker" name="`)
		w.text(k.Name)
		w.raw(`" aria-label="`)
		w.text(k.Label)
		w.raw(`"`)
		w.flag(f.ReadOnly, ` disabled`)
		w.raw(`>`)
		w.options(k.Options)
	}
	if f.Error != "" {
		w.raw(`<p class="field-error" id="`)
		w.text(f.ID)
		w.raw(`-error">`)
		w.text(f.Error)
		w.raw(`</p>`)
	}
	if f.Help != "" {
		w.raw(`<p class="help" id="`)
		w.text(f.ID)
		w.raw(`-help">`)
		w.text(f.Help)
		w.raw(`</p>`)
	}
	if f.Href != "" {
		w.raw(`<a class="follow" href="`)
		w.url(f.Href)
		w.raw(`">Open `)
		w.text(f.RefText)
		w.raw(`</a>`)
	}
	w.raw("\n</div>\n")
}

// aria ("aria"): the stored value and what describes the field.
func (w *writer) aria(f *FormField) {
	w.raw(` data-base="`)
	w.text(f.Base)
	w.raw(`"`)
	if f.Error != "" {
		w.raw(` aria-invalid="true" aria-describedby="`)
		w.text(f.ID)
		w.raw(`-error"`)
	} else if f.Help != "" {
		w.raw(` aria-describedby="`)
		w.text(f.ID)
		w.raw(`-help"`)
	}
}

func (w *writer) maxLength(f *FormField) {
	if f.MaxLength != 0 {
		w.raw(` maxlength="`)
		w.int(int64(f.MaxLength))
		w.raw(`"`)
	}
}

// flag writes a boolean attribute when on.
func (w *writer) flag(on bool, attr string) {
	if on {
		w.raw(attr)
	}
}

// attr writes an attribute (open is ` name="`) when its value is not empty.
// liveMarker is the element live.js connects to the page's event stream,
// when the page stays live. key is nil on pages about no one row (an empty
// string is a key).
func (w *writer) liveMarker(live, view string, key *string, table, labelColumn string) {
	if live == "" {
		return
	}
	w.raw(`<div id="nh-live" hidden hx-sse:connect="`)
	w.text(live)
	w.raw(`" data-view="` + view)
	if key != nil {
		w.raw(`" data-key="`)
		w.text(*key)
	}
	w.raw(`" data-table="`)
	w.text(table)
	w.raw(`"`)
	w.attr(` data-label-column="`, labelColumn)
	w.raw(`></div>`)
}

func (w *writer) attr(open, v string) {
	if v != "" {
		w.raw(open)
		w.text(v)
		w.raw(`"`)
	}
}

// RowData is a row's page, the create page and the delete confirmation.
type RowData struct {
	Page
	Label, Heading, DeleteHref, CancelHref string
	Live, Key, Table, LabelColumn          string
	HistoryHref                            string
	Form                                   FormData
	Referenced                             []Link
}

// RowPage ("row").
func RowPage(d *RowData) []byte {
	w := newWriter(2048 + formSize(&d.Form))
	w.head(&d.Page)
	w.raw(`
<div class="page-head">
<h1>`)
	w.text(d.Heading)
	w.raw("</h1>\n")
	if d.DeleteHref != "" {
		w.raw(`<div class="actions"><a class="button danger" href="`)
		w.url(d.DeleteHref)
		w.raw(`" hx-post="`)
		w.text(d.DeleteHref)
		w.raw(`" hx-confirm="Delete this row of `)
		w.text(d.Label)
		w.raw(`? This cannot be undone." hx-target="#main">Delete</a></div>`)
	}
	w.raw("\n</div>\n")
	w.form(&d.Form)
	w.raw("\n")
	w.liveMarker(d.Live, "row", &d.Key, d.Table, d.LabelColumn)
	w.raw("\n")
	if d.HistoryHref != "" {
		w.raw(`<section id="history" class="history" hx-get="`)
		w.text(d.HistoryHref)
		w.raw(`" hx-trigger="load, nh-history from:body" hx-swap="innerHTML"><h2>History</h2></section>`)
	}
	w.raw("\n")
	if len(d.Referenced) > 0 {
		w.raw(`<section class="related"><h2>Referenced by</h2><ul>`)
		for i := range d.Referenced {
			l := &d.Referenced[i]
			w.raw(`<li><a href="`)
			w.url(l.Href)
			w.raw(`">`)
			w.text(l.Text)
			w.raw(`</a></li>`)
		}
		w.raw(`</ul></section>`)
	}
	w.raw("\n")
	w.foot(&d.Page)
	return w.b
}

// NewPage ("new") is the create page.
func NewPage(d *RowData) []byte {
	w := newWriter(2048 + formSize(&d.Form))
	w.head(&d.Page)
	w.raw("\n<h1>")
	w.text(d.Heading)
	w.raw("</h1>\n")
	w.form(&d.Form)
	w.raw("\n")
	w.liveMarker(d.Live, "new", nil, d.Table, "")
	w.raw("\n")
	w.foot(&d.Page)
	return w.b
}

// ConfirmPage ("confirm") asks before a delete.
func ConfirmPage(d *RowData) []byte {
	w := newWriter(3072)
	w.head(&d.Page)
	w.raw("\n<h1>Delete this row?</h1>\n<p>")
	w.text(d.Heading)
	w.raw(` will be deleted from `)
	w.text(d.Label)
	w.raw(`. This cannot be undone.</p>
<form method="post" action="`)
	w.url(d.DeleteHref)
	w.raw(`" class="buttons"><input type="hidden" name="_dsid" value="`)
	w.text(d.DSID)
	w.raw(`"><button type="submit" class="danger">Delete</button> <a href="`)
	w.url(d.CancelHref)
	w.raw(`">Cancel</a></form>
`)
	w.foot(&d.Page)
	return w.b
}

// ConflictField is a field both the person and someone else changed.
type ConflictField struct {
	Label, Name, Mine, Theirs string
}

// ConflictData is the form that resolves a stale write.
type ConflictData struct {
	Action, DSID, Version, CancelHref string
	Conflicts                         []ConflictField
	Same                              []HiddenInput
}

// Conflict ("conflict").
func Conflict(d *ConflictData) []byte {
	w := newWriter(1024 + 512*len(d.Conflicts) + 128*len(d.Same))
	w.raw(`<form id="record" class="form" method="post" action="`)
	w.url(d.Action)
	w.raw(`" hx-post="`)
	w.text(d.Action)
	w.raw(`" hx-target="this" hx-swap="outerHTML" novalidate>
<input type="hidden" name="_dsid" value="`)
	w.text(d.DSID)
	w.raw(`"><input type="hidden" name="_version" value="`)
	w.text(d.Version)
	w.raw(`">
<p class="notice error" role="alert">Someone else changed this row while you were editing. For each field, keep your value or theirs, then save again.</p>
`)
	for i := range d.Conflicts {
		c := &d.Conflicts[i]
		w.raw(`<fieldset class="conflict"><legend>`)
		w.text(c.Label)
		w.raw(`</legend>
<label><input type="radio" name="`)
		w.text(c.Name)
		w.raw(`" value="`)
		w.text(c.Mine)
		w.raw(`" checked> Yours: <b>`)
		w.text(c.Mine)
		w.raw(`</b></label>
<label><input type="radio" name="`)
		w.text(c.Name)
		w.raw(`" value="`)
		w.text(c.Theirs)
		w.raw(`"> Theirs: <b>`)
		w.text(c.Theirs)
		w.raw(`</b></label>
</fieldset>`)
	}
	w.raw("\n")
	for i := range d.Same {
		w.hidden(&d.Same[i])
	}
	w.raw(`
<div class="buttons"><button type="submit" class="primary">Save</button> <a href="`)
	w.url(d.CancelHref)
	w.raw(`">Discard my changes</a></div>
</form>`)
	return w.b
}

// ConflictPage ("conflict-page") is the conflict form on a page of its own;
// form is Conflict's output, written as it is.
func ConflictPage(p *Page, heading string, form []byte) []byte {
	w := newWriter(2048 + len(form))
	w.head(p)
	w.raw("\n<h1>")
	w.text(heading)
	w.raw("</h1>\n")
	w.b = append(w.b, form...)
	w.raw("\n")
	w.foot(p)
	return w.b
}

// HistoryEntry is one change as a person reads it.
type HistoryEntry struct {
	Seq           int64
	At, Op, Row   string
	RowHref, AsOf string
	Fields        []FieldChange
	Unknown       bool // an outside change whose values were not captured
}

// FieldChange is one field of a change.
type FieldChange struct {
	Name, Was, Is string
}

// history ("history").
func (w *writer) history(hs []HistoryEntry) {
	w.raw(`<ol class="history-list">`)
	for i := range hs {
		h := &hs[i]
		w.raw(`<li><div class="when"><time>`)
		w.text(h.At)
		w.raw(`</time> · <b>`)
		w.text(h.Op)
		w.raw(`</b>`)
		if h.Row != "" {
			w.raw(` of `)
			if h.RowHref != "" {
				w.raw(`<a href="`)
				w.url(h.RowHref)
				w.raw(`">`)
				w.text(h.Row)
				w.raw(`</a>`)
			} else {
				w.text(h.Row)
			}
		}
		w.raw(` · <span class="muted">#`)
		w.int(h.Seq)
		w.raw(`</span>`)
		if h.AsOf != "" {
			w.raw(` · <a href="`)
			w.url(h.AsOf)
			w.raw(`">view as of</a>`)
		}
		w.raw("</div>\n")
		if h.Unknown {
			w.raw(`<p class="muted">Made outside this server; the values before it were not captured.</p>`)
		} else if len(h.Fields) == 0 {
			w.raw(`<p class="muted">No value changed.</p>`)
		}
		if len(h.Fields) > 0 {
			w.raw(`<ul class="diff">`)
			for j := range h.Fields {
				f := &h.Fields[j]
				w.raw(`<li><code>`)
				w.text(f.Name)
				w.raw(`</code>: `)
				switch h.Op {
				case "insert":
					w.text(f.Is)
				case "delete":
					w.text(f.Was)
				default:
					w.raw(`<del>`)
					w.text(f.Was)
					w.raw(`</del> → <ins>`)
					w.text(f.Is)
					w.raw(`</ins>`)
				}
				w.raw(`</li>`)
			}
			w.raw(`</ul>`)
		}
		w.raw(`</li>`)
	}
	w.raw(`</ol>`)
}

// ChangesData is a table's recent changes.
type ChangesData struct {
	Page
	Label, Back string
	History     []HistoryEntry
}

// ChangesPage ("changes").
func ChangesPage(d *ChangesData) []byte {
	w := newWriter(2048 + 512*len(d.History))
	w.head(&d.Page)
	w.raw("\n<h1>Recent changes to ")
	w.text(d.Label)
	w.raw("</h1>\n")
	if len(d.History) > 0 {
		w.history(d.History)
	} else {
		w.raw(`<p class="empty">No changes are in the log yet.</p>`)
	}
	w.raw(`
<p><a href="`)
	w.url(d.Back)
	w.raw(`">Back to `)
	w.text(d.Label)
	w.raw("</a></p>\n")
	w.foot(&d.Page)
	return w.b
}

// HistorySection ("history-section") is a row page's history, loaded lazily.
func HistorySection(hs []HistoryEntry) []byte {
	w := newWriter(256 + 512*len(hs))
	w.raw(`<h2>History</h2>`)
	if len(hs) > 0 {
		w.history(hs)
	} else {
		w.raw(`<p class="muted">No changes to this row are in the log.</p>`)
	}
	return w.b
}

// FieldError is a validation error as the command page lists it.
type FieldError struct {
	Path, Message string
}

// CommandData is the state of a write sent to the cluster as a command.
type CommandData struct {
	Page
	ID, State, Message, Href, Poll string
	Errors                         []FieldError
}

// CommandPage ("command").
func CommandPage(d *CommandData) []byte {
	w := newWriter(3072)
	w.head(&d.Page)
	w.raw("\n<h1>Your change</h1>\n")
	w.commandStatus(d)
	w.raw("\n")
	w.foot(&d.Page)
	return w.b
}

// CommandStatus ("command-status") is the part of the command page that
// follows the command while it is pending.
func CommandStatus(d *CommandData) []byte {
	w := newWriter(1024)
	w.commandStatus(d)
	return w.b
}

func (w *writer) commandStatus(d *CommandData) {
	w.raw(`<section id="command" class="command"`)
	if d.State == "pending" {
		w.raw(` hx-get="`)
		w.text(d.Poll)
		w.raw(`" hx-trigger="every 1s" hx-target="this" hx-swap="outerHTML"`)
	}
	w.raw(` aria-live="polite">
`)
	switch d.State {
	case "pending":
		w.raw(`<p class="notice warn">Your change is on its way: it is kept on this server and shows everywhere once the cluster has applied it. This page follows it.</p>
`)
	case "applied":
		w.raw(`<p class="notice ok">Your change was applied.`)
		if d.Href != "" {
			w.raw(` <a href="`)
			w.url(d.Href)
			w.raw(`">See it</a>.`)
		}
		w.raw("</p>\n")
	default:
		w.raw(`<p class="notice error" role="alert">Your change was refused: `)
		w.text(d.Message)
		w.raw(`</p>`)
		if len(d.Errors) > 0 {
			w.raw(`<ul>`)
			for i := range d.Errors {
				e := &d.Errors[i]
				w.raw(`<li>`)
				if e.Path != "" {
					w.raw(`<code>`)
					w.text(e.Path)
					w.raw(`</code>: `)
				}
				w.text(e.Message)
				w.raw(`</li>`)
			}
			w.raw(`</ul>`)
		}
		w.raw("\n")
	}
	w.raw(`<p class="muted">command <code>`)
	w.text(d.ID)
	w.raw(`</code></p>
</section>`)
}

// bulkBar is the form the list's row checkboxes belong to (form="bulk"):
// a column set to one value on every selected row, or the rows deleted
// (after a confirmation page).
func (w *writer) bulkBar(b *BulkBar) {
	if b == nil {
		return
	}
	w.raw(`<form id="bulk" class="bulk" method="post" action="`)
	w.url(b.Action)
	w.raw(`"><input type="hidden" name="_dsid" value="`)
	w.text(b.DSID)
	w.raw(`"><input type="hidden" name="back" value="`)
	w.text(b.Back)
	w.raw(`"><span class="muted">With the selected rows:</span> `)
	if len(b.Columns) > 0 {
		w.raw(`<select name="column" aria-label="Column to set">`)
		w.options(b.Columns)
		w.raw(`<input name="value" aria-label="Its new value" placeholder="new value"> <button type="submit" name="action" value="set">Set</button> `)
	}
	if b.Delete {
		w.raw(`<button class="danger" type="submit" name="action" value="delete">Delete…</button>`)
	}
	w.raw("</form>\n")
}
