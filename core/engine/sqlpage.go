package engine

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/config"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/readsql"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

// A caller's read (issue 17; CONTRACT, "/api/sql"): the SQL page, its JSON
// and CSV, and the stored queries of the config. One path for all of them
// (callerRead): the text is checked (core/readsql), the store compiles it
// without running it and says what it reads (store.InspectRead: only
// reads, never the project's objects, never what the config hides), and
// the host runs it read-only within the SQL time limit, at most
// maxReadRows rows (store.RunRead, sqldb.Read).

// maxReadRows is the most rows a caller's read answers (CONTRACT).
const maxReadRows = 1000

// readResult is a caller's read's answer.
type readResult struct {
	columns   []string
	rows      [][]any
	truncated bool
	tables    []string // the user's tables it read: its page is live on them
}

// readRules are what the config keeps from a caller's read: what the
// visible model (state.vis, the one place that decides) leaves out.
func (c *ctx) readRules() store.ReadRules {
	all, vis := c.st.db, c.st.vis
	find := func(d *model.Database, name string) *model.Table {
		if t := d.Table(name); t != nil {
			return t
		}
		for _, t := range d.Tables { // SQLite's names match case-insensitively
			if strings.EqualFold(t.Name, name) {
				return t
			}
		}
		return nil
	}
	hiddenTable := func(t string) bool { return find(all, t) != nil && find(vis, t) == nil }
	hiddenColumn := func(t, col string) bool {
		at, vt := find(all, t), find(vis, t)
		switch {
		case at == nil:
			return false
		case vt == nil:
			return true
		}
		return columnFold(at, col) && !columnFold(vt, col)
	}
	hides := false
	for _, t := range all.Tables {
		if vt := vis.Table(t.Name); vt == nil || len(vt.Columns) != len(t.Columns) {
			hides = true
		}
	}
	return store.ReadRules{HiddenTable: hiddenTable, HiddenColumn: hiddenColumn, Hides: hides,
		HidesColumnsOf: func(t string) bool {
			at, vt := find(all, t), find(vis, t)
			return at != nil && vt != nil && len(at.Columns) != len(vt.Columns)
		}}
}

func columnFold(t *model.Table, name string) bool {
	for _, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return true
		}
	}
	return false
}

// callerRead checks and runs one caller's statement with its parameters'
// values; a failure is a 400 that says why (503 when the database is busy).
func (c *ctx) callerRead(text string, values map[string]any) (*readResult, *outcome) {
	st, err := readsql.Parse(text)
	if err != nil {
		return nil, failed(400, err.Error())
	}
	return c.runRead(st, values)
}

// runRead checks and runs a statement callerRead has read.
func (c *ctx) runRead(st *readsql.Statement, values map[string]any) (*readResult, *outcome) {
	args := st.Args(values)
	ins, o := c.inspectRead(st, args)
	if o != nil {
		return nil, o
	}
	// The read has a time limit of its own, which its answer reports (a
	// 400): it runs past the request's watch (timelimit.go), whose stop
	// would answer the whole request 503.
	r := sqldb.Read{MaxRows: maxReadRows, LimitMs: c.e.opts.Config.SQLTimeLimit(), Hidden: c.guard().Hidden}
	rows, err := c.e.store.RunRead(c.e.db.DB, st.SQL, args, r)
	if err != nil {
		return nil, c.readFailure(err)
	}
	res := &readResult{columns: rows.Columns, rows: rows.Values, tables: ins.Tables}
	if len(res.rows) > maxReadRows {
		res.rows, res.truncated = res.rows[:maxReadRows], true
	}
	return res, nil
}

// inspectRead has the store compile a caller's statement without running
// it: what it reads, or why the caller may not run it (a 400).
func (c *ctx) inspectRead(st *readsql.Statement, args []any) (*store.Inspection, *outcome) {
	ins, err := c.e.store.InspectRead(c.e.db, st, args, c.readRules())
	switch {
	case err != nil:
		return nil, c.readFailure(err)
	case ins.Hidden != nil:
		return nil, failed(400, hiddenRefusal(st, ins.Hidden))
	case ins.Refusal != "":
		return nil, failed(400, ins.Refusal)
	}
	return &ins, nil
}

// hiddenRefusal words a read that reaches what the config hides as SQLite
// words a name that does not exist, when the caller named it; else (a *,
// a view) without naming it: neither its name nor more than that the
// statement reaches something hidden is said.
func hiddenRefusal(st *readsql.Statement, h *store.Hidden) string {
	if st.Uses(strings.ToLower(h.Name)) {
		if h.Column {
			return "no such column: " + h.Name
		}
		return "no such table: " + h.Name
	}
	return "this statement reads what the config hides (through * or a view): name only columns and tables you may see"
}

// readFailure words a caller's read that the store refused or stopped.
func (c *ctx) readFailure(err error) *outcome {
	switch sqldb.Code(err) {
	case "SQLITE_INTERRUPT":
		return failed(400, "the statement ran past the time limit of "+
			strconv.FormatInt(c.e.opts.Config.SQLTimeLimit(), 10)+" ms and was stopped; nothing changed")
	case "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR":
		return c.dbFailure(err)
	}
	msg := c.scrub(err.Error())
	if strings.Contains(strings.ToLower(msg), strings.ToLower(model.Prefix)) {
		// The store's own words about a name of the project's (Postgres's
		// "relation ... does not exist"): no answer names one.
		msg = store.OwnTables
	}
	return failed(400, msg)
}

// sqlEnabled: the SQL page is on for this server (config.SQLEnabled).
func (c *ctx) sqlEnabled() bool { return c.sqlRefusal() == "" }

// sqlRefusal says why the SQL page is not the caller's, or "": it is off
// where callers must sign in unless the config turns it on, and then it is
// an administrator's, and the users' of the roles the config names (it
// reads every table, past every row rule).
func (c *ctx) sqlRefusal() string {
	cfg := c.e.opts.Config
	if !cfg.SQLEnabled(c.guarded()) {
		return `the SQL page is off on this server: the config's "sql": {"enabled": true} turns it on`
	}
	if c.admin() {
		return ""
	}
	if u := c.who.user; u != nil && cfg.SQL != nil && slices.Contains(cfg.SQL.Roles, u.Role) {
		return ""
	}
	return `the SQL page is an administrator's (the config's "sql": {"roles": [...]} names other roles it is for)`
}

// sqlOff is the answer while the SQL page is off.
func (c *ctx) sqlOff() *protocol.Response { return c.fail(403, c.sqlRefusal()) }

// readValues are a read's parameters from the query string (every name
// but sql) or a JSON body {"sql": ..., "params": {...}}.
func (c *ctx) readRequest() (text string, values map[string]any, o *outcome) {
	values = map[string]any{}
	if c.req.Method == "POST" {
		var body struct {
			SQL    *string                    `json:"sql"`
			Params map[string]json.RawMessage `json:"params"`
		}
		dec := json.NewDecoder(bytes.NewReader(c.req.Body))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			return "", nil, failed(400, "the body must be JSON: {\"sql\": \"SELECT ...\", \"params\": {...}}: "+err.Error())
		}
		if body.SQL != nil {
			text = *body.SQL
		}
		for k, raw := range body.Params {
			v, err := paramValue(raw)
			if err != nil {
				return "", nil, failed(400, "params."+k+": "+err.Error())
			}
			values[k] = v
		}
		return text, values, nil
	}
	for k, vs := range c.query {
		if k != "sql" && len(vs) > 0 {
			values[k] = vs[0]
		}
	}
	return c.query.Get("sql"), values, nil
}

// paramValue is one JSON parameter as SQL takes it: a string, a number, a
// boolean (1 or 0) or null.
func paramValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil, string:
		return x, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, errBadNumber
		}
		return f, nil
	}
	return nil, errNotScalar
}

var (
	errBadNumber = errors.New("a number beyond what SQL holds")
	errNotScalar = errors.New("must be a string, a number, true, false or null")
)

// readJSON is a read's JSON answer (CONTRACT).
func (c *ctx) readJSON(res *readResult) *protocol.Response {
	rows := make([]any, len(res.rows))
	plain := &model.Column{}
	for i, r := range res.rows {
		out := make([]any, len(r))
		for j, v := range r {
			out[j] = jsonValue(plain, v)
		}
		rows[i] = out
	}
	cols := make([]any, len(res.columns))
	for i, n := range res.columns {
		cols[i] = n
	}
	return c.jsonAnswer(200, "columns", cols, "rows", rows, "truncated", res.truncated)
}

// readCSV is a read's answer as CSV (a spreadsheet's formulas defused, as
// every export's).
func readCSV(res *readResult, name string) *protocol.Response {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := make([]string, len(res.columns))
	for i, n := range res.columns {
		head[i] = csvSafe(n)
	}
	w.Write(head)
	for _, r := range res.rows {
		rec := make([]string, len(r))
		for i, v := range r {
			rec[i] = csvSafe(csvText(v))
		}
		w.Write(rec)
	}
	w.Flush()
	return response(200, "text/csv; charset=utf-8", b.Bytes(), [2]string{"cache-control", "no-store"},
		[2]string{"content-disposition", `attachment; filename="` + safeFileName(name, "query") + `.csv"`})
}

// safeFileName is name as a download's file name: ASCII letters, digits,
// ".", "_" and "-" only (fallback when nothing of it is left).
func safeFileName(name, fallback string) string {
	var b strings.Builder
	run := false // within a run of other characters: one "_" for all of it
	for _, r := range name {
		if r < 0x80 && (r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			b.WriteRune(r)
			run = false
		} else if !run {
			b.WriteByte('_')
			run = true
		}
	}
	if s := strings.Trim(b.String(), "_."); s != "" {
		return s
	}
	return fallback
}

// apiSQL answers GET and POST /api/sql, and GET /api/sql.csv.
func (c *ctx) apiSQL(csvOut bool) *protocol.Response {
	if !c.sqlEnabled() {
		return c.sqlOff()
	}
	text, values, o := c.readRequest()
	if o != nil {
		return c.answer(o)
	}
	if strings.TrimSpace(text) == "" {
		return c.fail(400, "no SQL: send ?sql=SELECT... or a JSON body {\"sql\": ...}")
	}
	res, o := c.callerRead(text, values)
	if o != nil {
		return c.answer(o)
	}
	if csvOut {
		return readCSV(res, "query")
	}
	return c.readJSON(res)
}

// sqlPage answers GET /sql: the editor, its parameters' fields, and the
// result (or why there is none, next to the editor).
func (c *ctx) sqlPage() *protocol.Response {
	if !c.sqlEnabled() {
		return c.sqlOff()
	}
	text, values, _ := c.readRequest()
	d := c.sqlData(text)
	// The save form as it was typed (Run keeps it), or a stored query to
	// edit: ?save-name=NAME alone, as its page links here.
	qs := c.query
	save := &render.ReadSave{Name: qs.Get("save-name"), Title: qs.Get("save-title"), Description: qs.Get("save-description"),
		Public: qs.Get("save-public") != "", Replace: qs.Get("save-replace") != ""}
	if q := c.storedQuery(save.Name); q != nil && c.runnable(save.Name) && strings.TrimSpace(text) == "" {
		text, d.SQL = q.SQL, q.SQL
		values = queryValues(q, values)
		save = &render.ReadSave{Name: save.Name, Title: q.Title, Description: q.Description, Public: q.Public, Replace: true}
	}
	d.Save = c.saveForm(save)
	if strings.TrimSpace(text) == "" {
		d.SQL = "SELECT 1"
		for _, t := range c.st.vis.Tables {
			d.SQL = "SELECT * FROM " + sqldb.Ident(t.Name) + " LIMIT 10"
			break
		}
		return html(200, render.ReadPage(&d))
	}
	api := c.e.opts.BasePath + "/api/sql"
	c.fillRead(&d, text, values, nil, api, api+".csv")
	return html(d.Status, render.ReadPage(&d))
}

// sqlData is the SQL page around a statement, before it runs.
func (c *ctx) sqlData(text string) render.ReadData {
	return render.ReadData{Page: c.page("SQL", link{Text: "SQL"}), Title: "SQL", Editor: true, SQL: text,
		Action: c.e.opts.BasePath + "/sql", Limits: c.readLimits()}
}

// readLimits tells the reader what bounds a read.
func (c *ctx) readLimits() string {
	return "One read-only statement: at most " + strconv.Itoa(maxReadRows) + " rows, " +
		strconv.FormatInt(c.e.opts.Config.SQLTimeLimit(), 10) + " ms. Parameters are written :name."
}

// fillRead runs the read for a page and fills in its fields, result,
// exports (its JSON at api, its CSV at csv) and chart.
func (c *ctx) fillRead(d *render.ReadData, text string, values map[string]any, chart *config.Chart, api, csv string) {
	d.Status = 200
	var after int64
	if c.e.live.enabled {
		after = c.shownSeq() // before the read: a write during it is replayed, never missed
	}
	st, err := readsql.Parse(text)
	var res *readResult
	o := failed(400, "")
	if err != nil {
		o.msg = err.Error()
	} else {
		for _, p := range st.Params {
			v, _ := values[p].(string)
			d.Params = append(d.Params, render.ReadParam{Name: p, Value: v})
		}
		res, o = c.runRead(st, values)
	}
	if o != nil {
		d.Error, d.Status = o.msg, o.status
		if d.Status == 400 {
			d.Status = 200 // the page itself is fine: the error sits next to the editor
		}
		return
	}
	q := url.Values{}
	if d.Editor {
		q.Set("sql", text)
	}
	for _, p := range d.Params {
		q.Set(p.Name, p.Value)
	}
	enc := ""
	if len(q) > 0 {
		enc = "?" + q.Encode()
	}
	d.JSONHref, d.CSVHref = api+enc, csv+enc
	d.Columns, d.Truncated, d.Tables = res.columns, res.truncated, res.tables
	for _, r := range res.rows {
		cells := make([]render.ReadCell, len(r))
		for i, v := range r {
			cells[i] = render.ReadCell{Text: sqldb.Text(v), Null: v == nil, Num: isNumber(v)}
		}
		d.Rows = append(d.Rows, cells)
	}
	d.Chart = readChart(res, chart)
	if c.e.live.enabled {
		d.Live = c.e.opts.BasePath + "/live?after=" + strconv.FormatInt(after, 10)
	}
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64:
		return true
	}
	return false
}

// --- stored queries ---

// storedQuery finds a stored query by name.
func (c *ctx) storedQuery(name string) *config.Query { return c.e.opts.Config.Queries[name] }

// queryValues are a stored query's parameters: its defaults, then what
// the request gives.
func queryValues(q *config.Query, given map[string]any) map[string]any {
	values := map[string]any{}
	for k, v := range q.Params {
		values[k] = v
	}
	for k, v := range given {
		values[k] = v
	}
	return values
}

// queryTitle is what a stored query is called.
func queryTitle(name string, q *config.Query) string {
	if q.Title != "" {
		return q.Title
	}
	return name
}

// queryPage answers GET /q/{query}.
func (c *ctx) queryPage(name string) *protocol.Response {
	q := c.storedQuery(name)
	if res := c.serverOnly(q); res != nil {
		return res
	}
	_, given, _ := c.readRequest()
	title := queryTitle(name, q)
	d := render.ReadData{Page: c.page(title, link{Text: title}), Title: title, Description: q.Description, SQL: q.SQL,
		Action: c.e.opts.BasePath + "/q/" + url.PathEscape(name), Limits: c.readLimits()}
	api := c.e.opts.BasePath + "/api/queries/" + url.PathEscape(name)
	c.fillRead(&d, q.SQL, queryValues(q, given), q.Chart, api, api+"/rows.csv")
	if d.Error != "" {
		d.Error = "This query cannot run against the database as it is now: " + d.Error
	}
	if c.configWriter() == "" {
		d.Manage = &render.ReadManage{EditHref: c.e.opts.BasePath + "/sql?save-name=" + url.QueryEscape(name),
			DeleteAction: d.Action + "/delete"}
	}
	return html(d.Status, render.ReadPage(&d))
}

// apiQuery answers GET and POST /api/queries/{query} (and its CSV).
func (c *ctx) apiQuery(name string, csvOut bool) *protocol.Response {
	q := c.storedQuery(name)
	if res := c.serverOnly(q); res != nil {
		return res
	}
	_, given, o := c.readRequest()
	if o != nil {
		return c.answer(o)
	}
	res, o := c.callerRead(q.SQL, queryValues(q, given))
	if o != nil {
		return c.answer(o)
	}
	if csvOut {
		return readCSV(res, name)
	}
	return c.readJSON(res)
}

// apiQueries answers GET /api/queries: each stored query the caller may
// run, with its parameters.
func (c *ctx) apiQueries() *protocol.Response {
	names := c.queryNames()
	out := make([]any, 0, len(names))
	for _, n := range names {
		q := c.storedQuery(n)
		params := []any{}
		if st, err := readsql.Parse(q.SQL); err == nil {
			for _, p := range st.Params {
				params = append(params, p)
			}
		}
		o := schema.NewObject().Set("name", n).Set("title", queryTitle(n, q)).Set("params", params).
			Set("url", c.e.opts.BasePath+"/api/queries/"+url.PathEscape(n))
		out = append(out, o)
	}
	return c.jsonAnswer(200, "queries", out)
}

// queryNames are the stored queries the caller may run, by name.
func (c *ctx) queryNames() []string {
	var names []string
	for n, q := range c.e.opts.Config.Queries {
		if q != nil && (c.authed || q.Public) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// publicQuery: the request is for a stored query the config makes public
// (served without signing in).
func (c *ctx) publicQuery(segs []string) bool {
	if !c.get() && c.req.Method != "POST" {
		return false // changing a query is never public
	}
	name := ""
	switch {
	case len(segs) == 2 && segs[0] == "q":
		name = segs[1]
	case len(segs) >= 3 && len(segs) <= 4 && segs[0] == "api" && segs[1] == "queries" &&
		(len(segs) == 3 || segs[3] == "rows.csv"):
		name = segs[2]
	default:
		return false
	}
	q := c.storedQuery(name)
	return q != nil && q.Public
}

// --- charts ---

// readChart chooses a read's chart: the config's, or by its shape (a
// label column and a number column; dates draw a line, a few shares a
// pie, the rest bars). None when the shape has no such pair.
func readChart(res *readResult, want *config.Chart) *render.Chart {
	if want != nil && want.Type == "none" || len(res.rows) < 2 || len(res.columns) < 2 {
		return nil
	}
	label, value := 0, -1
	if want != nil && want.Label != "" {
		label = indexOf(res.columns, want.Label)
	}
	if want != nil && want.Value != "" {
		value = indexOf(res.columns, want.Value)
	} else {
		for i := range res.columns {
			if i != label && numericColumn(res.rows, i) {
				value = i
				break
			}
		}
	}
	if label < 0 || value < 0 || label == value {
		return nil
	}
	ch := &render.Chart{Title: res.columns[value] + " by " + res.columns[label]}
	dates, positive := true, true
	for _, r := range res.rows {
		l := sqldb.Text(r[label])
		f, _ := number(r[value])
		if math.IsNaN(f) || math.IsInf(f, 0) {
			f = 0
		}
		dates = dates && isoDate(l)
		positive = positive && f > 0
		ch.Labels = append(ch.Labels, l)
		ch.Values = append(ch.Values, f)
	}
	kind := ""
	if want != nil {
		kind = want.Type
	}
	switch {
	case kind == "line" || kind == "" && dates:
		ch.Line = true
	case kind == "pie" || kind == "" && positive && len(res.rows) <= 6:
		ch.Pie = positive
	}
	return ch
}

// isoDate says whether s is an ISO 8601 date, month or year, or a date
// and time ("2024", "2024-03", "2024-03-05", "2024-03-05T10:00:00.5Z"): the
// labels a chart draws on a time axis.
func isoDate(s string) bool {
	digits := func(s string, n int) bool {
		if len(s) < n {
			return false
		}
		for i := 0; i < n; i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	if !digits(s, 4) {
		return false
	}
	s = s[4:]
	for _, n := range []int{2, 2} {
		if s == "" {
			return true
		}
		if s[0] != '-' || !digits(s[1:], n) {
			return false
		}
		s = s[1+n:]
	}
	if s == "" {
		return true
	}
	if s[0] != 'T' && s[0] != ' ' {
		return false
	}
	s = strings.TrimSuffix(s[1:], "Z")
	return s != "" && strings.Trim(s, "0123456789:.") == ""
}

func indexOf(names []string, n string) int {
	for i, x := range names {
		if x == n {
			return i
		}
	}
	return -1
}

// numericColumn: every value of column i is a number or NULL, and one is a number.
func numericColumn(rows [][]any, i int) bool {
	some := false
	for _, r := range rows {
		switch v := r[i]; {
		case isNumber(v):
			some = true
		case v != nil:
			return false
		}
	}
	return some
}
