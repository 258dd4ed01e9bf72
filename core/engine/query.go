package engine

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nakedhtmx/nakedhtmx/core/capture"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

// listQuery is one page of a list: the same parameters drive the HTML list,
// the JSON list and the CSV export.
type listQuery struct {
	t       *model.Table
	store   store.Store   // the store's words for a search (Search, TextMatch)
	sort    *model.Column // nil: key order
	desc    bool
	after   []any // cursor: [sort value,] key values...; nil for the first page
	offset  int64 // views have no key: they page by offset
	q       string
	filters []filter
	limit   int
	// cond and order, when set, replace the search and filters and the
	// order (a reference picker's search, options): no cursor, no sort.
	cond     string
	condArgs []any
	order    string
	// rule is the list rule's condition for the caller (rules.go), which
	// every read of the list holds to, with its arguments.
	rule     string
	ruleArgs []any
	// nullsLast: NULL sorts after every value ascending (model.Database);
	// spellNulls: the store reading the list sorts otherwise, so ORDER BY
	// says so (a copy of a Postgres database on SQLite).
	nullsLast, spellNulls bool
	// Explore (explore.go): facets and aggregates over every row the
	// filters and search match, and what was found (set by listRead).
	facets     []facetReq
	aggregates bool
	groupBy    *facetReq // a group-by page's column: its groups with totals
	explored   []*groupResult
}

type filter struct {
	col   *model.Column
	unit  string // f.COL:year=2024: a date column's year, month or day
	value string
	null  bool // null=COL: IS NULL (f.COL= is the empty string)
}

const maxLimit = 1000

// parseList reads sort, desc, after, q, f.COL and limit from the query string.
func (c *ctx) parseList(t *model.Table) (*listQuery, error) {
	lq := &listQuery{t: t, store: c.e.store, limit: c.e.opts.Config.PageSizeFor(t.Name),
		nullsLast: c.st.db.NullsLast, spellNulls: c.e.opts.Replica != nil && c.st.db.NullsLast}
	lq.rule, lq.ruleArgs = c.ruleCond(t, "list")
	qv := c.query
	if s := qv.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return nil, fmt.Errorf("limit must be a whole number from 1 to %d", maxLimit)
		}
		lq.limit = n
	}
	if s := qv.Get("sort"); s != "" {
		col := t.Column(s)
		if col == nil || c.e.opts.Config.Table(t.Name).Column(s).Hidden {
			return nil, fmt.Errorf("cannot sort by %q: no such column", s)
		}
		if col.Unordered {
			return nil, fmt.Errorf("cannot sort by %q: its values have no order (%s)", s, col.Type)
		}
		lq.sort = col
	}
	lq.desc = qv.Get("desc") == "1" || qv.Get("desc") == "true"
	// The filter form sends by=COL&is=VALUE (a form cannot name a field after
	// a column it does not know yet); it means the same as f.COL=VALUE.
	if by := qv.Get("by"); by != "" {
		qv.Add("f."+by, qv.Get("is"))
		qv.Del("by")
		qv.Del("is")
	}
	lq.q = strings.TrimSpace(qv.Get("q"))
	if utf8.RuneCountInString(lq.q) > MaxSearch {
		return nil, tooMuch(fmt.Sprintf("the search is longer than %d characters", MaxSearch))
	}
	if strings.IndexByte(lq.q, 0) >= 0 {
		return nil, fmt.Errorf("the search holds a NUL character")
	}
	filterable := func(name string, units bool) (*model.Column, string, error) {
		col, unit := t.Column(name), ""
		if col == nil && units {
			col, unit = columnUnit(t, name)
		}
		if col == nil || c.e.opts.Config.Table(t.Name).Column(col.Name).Hidden {
			return nil, "", fmt.Errorf("cannot filter by %q: no such column", name)
		}
		return col, unit, nil
	}
	for k, vs := range qv {
		if name, ok := strings.CutPrefix(k, "f."); ok {
			col, unit, err := filterable(name, true)
			if err != nil {
				return nil, err
			}
			if col.Unordered {
				return nil, fmt.Errorf("cannot filter by %q: its values cannot be compared (%s); null=%s finds the empty ones", name, col.Type, name)
			}
			for _, v := range vs {
				lq.filters = append(lq.filters, filter{col: col, unit: unit, value: v})
			}
		}
	}
	for _, name := range qv["null"] {
		col, _, err := filterable(name, false)
		if err != nil {
			return nil, err
		}
		lq.filters = append(lq.filters, filter{col: col, null: true})
	}
	if len(lq.filters) > MaxFilters {
		return nil, tooMuch(fmt.Sprintf("more than %d filters", MaxFilters))
	}
	// map iteration order is random: keep filters in column order for stable SQL.
	sortFilters(lq.filters)
	if s := qv.Get("after"); s != "" {
		if err := lq.decodeCursor(s); err != nil {
			return nil, fmt.Errorf("after: not a cursor this server made")
		}
	}
	if err := c.parseExplore(lq); err != nil {
		return nil, err
	}
	return lq, nil
}

// tooMuch is a request past one of the limits: 413, not 400.
type tooMuch string

func (e tooMuch) Error() string { return string(e) }

// listFail answers a list request that cannot be read.
func (c *ctx) listFail(err error) *protocol.Response {
	if _, ok := err.(tooMuch); ok {
		return c.fail(413, err.Error())
	}
	return c.fail(400, err.Error())
}

func sortFilters(fs []filter) {
	less := func(a, b filter) bool {
		switch {
		case a.col.Index != b.col.Index:
			return a.col.Index < b.col.Index
		case a.unit != b.unit:
			return a.unit < b.unit
		case a.value != b.value:
			return a.value < b.value
		}
		return a.null && !b.null
	}
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && less(fs[j], fs[j-1]); j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

// keyExprs are the SQL expressions of the table's key, in key order.
func keyExprs(t *model.Table) []string {
	if t.UsesRowKey() {
		return []string{t.RowKey}
	}
	out := make([]string, len(t.PK))
	for i, c := range t.PK {
		out[i] = sqldb.Ident(c.Name)
	}
	return out
}

// cursor is a row's position in the list's order, opaque to clients.
func (lq *listQuery) cursor(r *row) string {
	var vals []any
	if lq.t.View {
		return base64.RawURLEncoding.EncodeToString([]byte(`{"o":` + strconv.FormatInt(lq.offset+int64(lq.limit), 10) + `}`))
	}
	if lq.sort != nil {
		vals = append(vals, r.get(lq.sort))
	}
	vals = append(vals, r.key()...)
	b, _ := json.Marshal(protocol.Values(vals))
	return base64.RawURLEncoding.EncodeToString(b)
}

// keyCursor is the cursor of a position given by a key alone (a list in key order).
func (lq *listQuery) keyCursor(key []any) string {
	b, _ := json.Marshal(protocol.Values(key))
	return base64.RawURLEncoding.EncodeToString(b)
}

func (lq *listQuery) decodeCursor(s string) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	if lq.t.View {
		var o struct {
			O *int64 `json:"o"`
		}
		if err := json.Unmarshal(b, &o); err != nil || o.O == nil || *o.O < 0 {
			return fmt.Errorf("bad cursor")
		}
		lq.offset = *o.O
		return nil
	}
	var vals []protocol.Value
	if err := json.Unmarshal(b, &vals); err != nil {
		return err
	}
	want := len(keyExprs(lq.t))
	if lq.sort != nil {
		want++
	}
	if len(vals) != want {
		return fmt.Errorf("cursor does not match the sort")
	}
	lq.after = protocol.Unwrap(vals)
	return nil
}

// build returns the WHERE clause (with "WHERE") and its arguments, without paging.
func (lq *listQuery) where(withCursor bool) (string, []any) {
	var conds []string
	var args []any
	if lq.rule != "" {
		conds = append(conds, "("+lq.rule+")")
		args = append(args, lq.ruleArgs...)
	}
	if lq.cond != "" {
		return " WHERE " + strings.Join(append(conds, "("+lq.cond+")"), " AND "), append(args, lq.condArgs...)
	}
	t := lq.t
	for _, f := range lq.filters {
		id := sqldb.Ident(f.col.Name)
		switch {
		case f.unit != "":
			conds = append(conds, lq.store.DatePart(id, f.unit)+" = ?")
			args = append(args, f.value)
		case f.null:
			conds = append(conds, id+" IS NULL")
		case f.col.Kind == model.Boolean && (f.value == "true" || f.value == "false"):
			// A BOOLEAN column holds 1 and 0; the API and pages say true and false.
			conds = append(conds, id+" = ?")
			args = append(args, map[string]int64{"true": 1, "false": 0}[f.value])
		default:
			conds = append(conds, id+" = ?")
			args = append(args, f.value)
		}
	}
	if lq.q != "" {
		if cond, arg := lq.store.TextMatch(t, lq.q); cond != "" {
			conds = append(conds, cond)
			args = append(args, arg)
		} else {
			var ors []string
			pattern := "%" + likeEscape(lq.q) + "%"
			for _, c := range t.Columns {
				if c.Kind == model.String || c.Kind == model.Date || c.Kind == model.DateTime {
					ors = append(ors, lq.store.Search(sqldb.Ident(c.Name)))
					args = append(args, pattern)
				}
			}
			if len(ors) == 0 {
				ors = append(ors, "0")
			}
			conds = append(conds, "("+strings.Join(ors, " OR ")+")")
		}
	}
	if withCursor && lq.after != nil && !t.View {
		keys := keyExprs(t)
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ")
		keyTuple := "(" + strings.Join(keys, ", ") + ")"
		op := ">"
		if lq.desc {
			op = "<"
		}
		if lq.sort == nil {
			conds = append(conds, keyTuple+" "+op+" ("+ph+")")
			args = append(args, lq.after...)
		} else {
			s := sqldb.Ident(lq.sort.Name)
			v, key := lq.after[0], lq.after[1:]
			// NULLs come at the end of the list in its direction (ascending
			// where the store sorts them last, descending where first), or
			// at its start: a cursor past the values must keep them or not.
			nullsAtEnd := lq.desc != lq.nullsLast
			switch {
			case v == nil && nullsAtEnd:
				conds = append(conds, "("+s+" IS NULL AND "+keyTuple+" "+op+" ("+ph+"))")
				args = append(args, key...)
			case v == nil:
				conds = append(conds, "(("+s+" IS NULL AND "+keyTuple+" "+op+" ("+ph+")) OR "+s+" IS NOT NULL)")
				args = append(args, key...)
			default:
				c := "(" + s + " " + op + " ? OR (" + s + " = ? AND " + keyTuple + " " + op + " (" + ph + "))"
				if nullsAtEnd {
					c += " OR " + s + " IS NULL"
				}
				conds = append(conds, c+")")
				args = append(append(args, v, v), key...)
			}
		}
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func (lq *listQuery) orderBy() string {
	if lq.order != "" {
		return lq.order
	}
	dir := ""
	if lq.desc {
		dir = " DESC"
	}
	nulls := ""
	if lq.spellNulls {
		nulls = map[bool]string{false: " NULLS LAST", true: " NULLS FIRST"}[lq.desc] // the server's order
	}
	var parts []string
	if lq.sort != nil {
		parts = append(parts, sqldb.Ident(lq.sort.Name)+dir+nulls)
	}
	if lq.t.View {
		// A view has no key and pages by offset: every column breaks the
		// ties, so each page is read in one order (with ties left to the
		// store, a row could show on two pages and another on none).
		for i, col := range lq.t.Columns {
			if !col.Unordered {
				parts = append(parts, strconv.Itoa(i+1)+dir+nulls)
			}
		}
		if len(parts) == 0 {
			return "" // nothing the store can order by: the store's own order
		}
	} else {
		for _, k := range keyExprs(lq.t) {
			parts = append(parts, k+dir)
		}
	}
	return " ORDER BY " + strings.Join(parts, ", ")
}

// run reads one page; next is the cursor of the following page, or "".
func (lq *listQuery) run(db sqldb.DB) (rows []*row, next string, err error) {
	where, args := lq.where(true)
	sql := "SELECT " + selectList(lq.t) + " FROM " + sqldb.Ident(lq.t.Name) + where + lq.orderBy() +
		" LIMIT " + strconv.Itoa(lq.limit+1)
	if lq.t.View && lq.offset > 0 {
		sql += " OFFSET " + strconv.FormatInt(lq.offset, 10)
	}
	rs, err := tableQuery(db, lq.t)(sql, args...)
	if err != nil {
		return nil, "", err
	}
	rows = readRows(lq.t, rs)
	if len(rows) > lq.limit {
		rows = rows[:lq.limit]
		next = lq.cursor(rows[len(rows)-1])
	}
	return rows, next, nil
}

// countCap bounds the row counts pages show: SQLite counts by visiting every
// row, so an exact count made a list page of a 1,000,000-row table over ten
// times slower than one of 1,000 rows. Past the cap a page says "10000+".
const countCap = 10000

// boundedCount counts the rows of t under WHERE text up to countCap; more
// is true when there are more. A view's definition may take any time: its
// count goes to the host as a read the core cannot bound.
func boundedCount(db sqldb.DB, t *model.Table, where string, args ...any) (n int64, more bool, err error) {
	rs, err := tableQuery(db, t)("SELECT count(*) FROM (SELECT 1 FROM "+sqldb.Ident(t.Name)+where+" LIMIT "+strconv.Itoa(countCap+1)+") AS \"n\"", args...)
	if err != nil || len(rs.Values) == 0 {
		return 0, false, err
	}
	n, _ = sqldb.Int(rs.Values[0][0])
	if n > countCap {
		return countCap, true, nil
	}
	return n, false, nil
}

type queryFunc = func(string, ...any) (*sqldb.Rows, error)

// matching is q for reads of a table's rows by values the caller gave (a
// key, a filter, a cursor): one whose values cannot be of their columns'
// types finds no row, on every store. Postgres refuses to compare 'abc'
// with an integer column (a class 22 error, SQLITE_MISMATCH here) where
// SQLite finds nothing: 404 for a key, an empty list for a filter. A read
// with no values of the caller's keeps its error.
func matching(q queryFunc) queryFunc {
	return func(sql string, args ...any) (*sqldb.Rows, error) {
		rs, err := q(sql, args...)
		if err != nil && len(args) > 0 && sqldb.Code(err) == "SQLITE_MISMATCH" {
			return &sqldb.Rows{}, nil
		}
		return rs, err
	}
}

// tableQuery is how a read of t's rows goes to the store (matching): a
// view's as a read the core cannot bound (sqldb.QueryUnbounded: the TS
// hosts run it where their time limit can stop it), a table's as any query
// (its list reads are bounded by an index or read in windows, scan.go).
func tableQuery(db sqldb.DB, t *model.Table) queryFunc {
	if t.View {
		return matching(func(sql string, args ...any) (*sqldb.Rows, error) { return sqldb.QueryUnbounded(db, sql, args...) })
	}
	return matching(db.Query)
}

// count is the number of rows matching the filters and search, up to countCap.
func (lq *listQuery) count(c *ctx) (int64, bool, error) {
	where, args := lq.where(false)
	return c.rowCount(lq.t, where, args...)
}

// dataCache keeps what pages read from the data again and again until the
// data changes: the log's sequence (capture.Sequence) names the data's
// version, the DSID the schema's. Without live capture there is no such
// number, and no cache.
type dataCache struct {
	seq  int64
	dsid string
	// counts are bounded counts by FROM-and-WHERE text and arguments.
	counts map[string]countEntry
	// groups are facets and aggregates (explore.go), keyed like counts.
	groups map[string]*groupResult
	// refs are the options of reference fields by referenced table and
	// columns (referenceOptions).
	refs map[string]refOptions
}

// dataCacheSize bounds each map of the cache: past it the map starts over.
const dataCacheSize = 256

type countEntry struct {
	n    int64
	more bool
}

// cache is the data cache as of now: emptied when the data or the schema
// changed since it was filled, nil when there is no version to key it by.
// A request asks the log once (a form with three references used to ask
// three times); a write of its own (tx) makes it ask again.
func (c *ctx) cache() *dataCache {
	if c.cached != nil && c.cached.dsid == c.st.dsid {
		return c.cached
	}
	if !c.e.live.enabled {
		return nil
	}
	seq, logged, err := capture.Sequence(c.e.db, c.e.store.LogFloor)
	if err != nil {
		return nil
	}
	if !logged {
		seq = -1 // no write logged yet
	}
	dc := &c.e.cache
	if dc.counts == nil || dc.seq != seq || dc.dsid != c.st.dsid {
		*dc = dataCache{seq: seq, dsid: c.st.dsid, counts: map[string]countEntry{}, refs: map[string]refOptions{}}
	}
	c.cached = dc
	return dc
}

// rowCount is boundedCount, remembered until the next write: a page shown
// again and again costs one lookup of the log's sequence, not a count.
func (c *ctx) rowCount(t *model.Table, where string, args ...any) (int64, bool, error) {
	return c.countIn(c.cache(), t, where, args...)
}

// countIn is rowCount with the cache already asked for (nil: none).
func (c *ctx) countIn(dc *dataCache, t *model.Table, where string, args ...any) (int64, bool, error) {
	if dc == nil {
		return boundedCount(c.e.db, t, where, args...)
	}
	key := countKey(sqldb.Ident(t.Name)+where, args)
	if e, ok := dc.count(key); ok {
		return e.n, e.more, nil
	}
	n, more, err := boundedCount(c.e.db, t, where, args...)
	if err == nil {
		dc.putCount(key, countEntry{n, more})
	}
	return n, more, err
}

// countBatch is how many tables' counts go in one statement.
const countBatch = 50

// tableCounts is rowCount without a WHERE for each of tables, asked in
// statements of countBatch counts each rather than one a table: the index
// page of a database of 50 tables is one crossing to the store, not 50
// (each a round trip on Postgres). A batch that fails (a table the role
// may not read) is asked again one table at a time, so one table's failure
// leaves the others counted.
func (c *ctx) tableCounts(tables []*model.Table) map[string]countEntry {
	dc := c.cache()
	out := make(map[string]countEntry, len(tables))
	var ask []*model.Table
	for _, t := range tables {
		if where, args := c.andRule(t, "list", "", nil); where != "" {
			// Held to a list rule: counted alone, with it.
			if n, more, err := c.countIn(dc, t, where, args...); err == nil {
				out[t.Name] = countEntry{n, more}
			}
			continue
		}
		if e, ok := dc.count(countKey(sqldb.Ident(t.Name), nil)); ok {
			out[t.Name] = e
		} else {
			ask = append(ask, t)
		}
	}
	for start := 0; start < len(ask); start += countBatch {
		batch := ask[start:min(start+countBatch, len(ask))]
		parts := make([]string, len(batch))
		for i, t := range batch {
			parts[i] = "(SELECT count(*) FROM (SELECT 1 FROM " + sqldb.Ident(t.Name) + " LIMIT " + strconv.Itoa(countCap+1) + ") AS \"n\")"
		}
		rs, err := c.e.db.Query("SELECT " + strings.Join(parts, ", "))
		if err != nil || len(rs.Values) != 1 || len(rs.Values[0]) != len(batch) {
			for _, t := range batch {
				if n, more, err := c.countIn(dc, t, ""); err == nil {
					out[t.Name] = countEntry{n, more}
				}
			}
			continue
		}
		for i, t := range batch {
			n, _ := sqldb.Int(rs.Values[0][i])
			e := countEntry{n: n}
			if n > countCap {
				e = countEntry{n: countCap, more: true}
			}
			out[t.Name] = e
			dc.putCount(countKey(sqldb.Ident(t.Name), nil), e)
		}
	}
	return out
}

// count is a count kept under key; none without a cache (nil).
func (dc *dataCache) count(key string) (countEntry, bool) {
	if dc == nil {
		return countEntry{}, false
	}
	e, ok := dc.counts[key]
	return e, ok
}

// putCount keeps a count; past dataCacheSize the counts start over.
func (dc *dataCache) putCount(key string, e countEntry) {
	if dc == nil {
		return
	}
	if len(dc.counts) >= dataCacheSize {
		clear(dc.counts)
	}
	dc.counts[key] = e
}

// countKey is a count's key in the data cache.
func countKey(from string, args []any) string { return from + "\x00" + fmt.Sprintf("%#v", args) }

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
