package engine

// Explore (issue 17): facets and aggregates over every row a list's filters
// and search match, not just its page.
//
// Both are groupings: the rows under the list's WHERE, grouped by one
// expression (a facet: a column, or a date column's year, month or day) or
// not at all (the aggregates footer), each group counted and, for the
// aggregates, the numeric columns summed, averaged and bounded. On a store
// that reads long lists in windows (SQLite, scan.go) a grouping is read in
// the same windows of the table, merged here, with the core yielding between
// two of them: a facet of a million rows takes a hundred short steps, never
// one long one, and others are answered between. Where the store stops a
// long statement itself (Postgres), a grouping is one statement. What was
// computed is kept in the data cache until the data changes.

import (
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

const (
	// MaxFacets is how many facets one list may ask for.
	MaxFacets = 10
	// facetValues is how many values a facet shows (CONTRACT: at most 30).
	facetValues = 30
	// maxGroups bounds the groups a grouping keeps while it merges
	// windows: past it a facet says it is incomplete rather than hold a
	// million distinct values.
	maxGroups = 10000
)

// facetReq is one facet a list asked for: a column, and for a date column
// the unit its values are grouped by ("" for the values themselves).
type facetReq struct {
	name string // as asked: "COL" or "COL:unit"
	col  *model.Column
	unit string
}

// columnUnit resolves "COL" or "COL:unit" (a date column's year, month or
// day) against t: a column whose whole name matches wins, so a column
// called "a:year" is itself.
func columnUnit(t *model.Table, name string) (*model.Column, string) {
	if col := t.Column(name); col != nil {
		return col, ""
	}
	i := strings.LastIndexByte(name, ':')
	if _, ok := store.DateUnits[name[i+1:]]; i < 0 || !ok {
		return nil, ""
	}
	col := t.Column(name[:i])
	if col == nil || col.Kind != model.Date && col.Kind != model.DateTime {
		return nil, ""
	}
	return col, name[i+1:]
}

// parseExplore reads facet=COL (repeatable) and aggregates=1.
func (c *ctx) parseExplore(lq *listQuery) error {
	names := c.query["facet"]
	if len(names) > MaxFacets {
		return tooMuch(fmt.Sprintf("more than %d facets", MaxFacets))
	}
	seen := map[string]bool{}
	for _, name := range names {
		col, unit := columnUnit(lq.t, name)
		if col == nil || c.e.opts.Config.Table(lq.t.Name).Column(col.Name).Hidden {
			return fmt.Errorf("cannot facet by %q: no such column", name)
		}
		if col.Unordered {
			return fmt.Errorf("cannot facet by %q: its values cannot be told apart by the database (%s)", name, col.Type)
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		lq.facets = append(lq.facets, facetReq{name: name, col: col, unit: unit})
	}
	switch v := c.query.Get("aggregates"); v {
	case "", "0", "false":
	case "1", "true":
		lq.aggregates = true
	default:
		return fmt.Errorf("aggregates must be 1 or 0, not %q", v)
	}
	return nil
}

// exploring: the list asked for facets or aggregates.
func (lq *listQuery) exploring() bool {
	return len(lq.facets) > 0 || lq.aggregates || lq.groupBy != nil
}

// groupExpr is the SQL of a facet's group value.
func (c *ctx) groupExpr(f facetReq) string {
	id := sqldb.Ident(f.col.Name)
	if f.unit == "" {
		return id
	}
	return c.e.store.DatePart(id, f.unit)
}

// numericColumns are the columns the aggregates sum: numbers that are not
// keys or references, and that the config shows.
func (c *ctx) numericColumns(t *model.Table) []*model.Column {
	var out []*model.Column
	for _, f := range c.st.fields[t.Name] {
		col := f.Column
		if (col.Kind == model.Integer || col.Kind == model.Number) && col.PK == 0 && col.References == nil && !col.AlsoText {
			out = append(out, col)
		}
	}
	return out
}

// grouping is one GROUP BY over the list's rows.
type grouping struct {
	expr string          // the group's SQL; "": all rows are one group
	nums []*model.Column // columns summed per group
}

// cacheKey is the grouping's key in the data cache: its rows (FROM and
// WHERE, as counts are keyed) and what it groups and sums.
func (g grouping) cacheKey(t *model.Table, where string, args []any) string {
	var b strings.Builder
	b.WriteString(sqldb.Ident(t.Name) + where + "\x00group\x00" + g.expr)
	for _, c := range g.nums {
		b.WriteString("\x00" + c.Name)
	}
	return countKey(b.String(), args)
}

// sql is the grouping's statement over the rows under where.
func (g grouping) sql(t *model.Table, where string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if g.expr == "" {
		b.WriteString("NULL")
	} else {
		b.WriteString(g.expr)
	}
	b.WriteString(", count(*)")
	for _, c := range g.nums {
		id := sqldb.Ident(c.Name)
		b.WriteString(", sum(" + id + "), min(" + id + "), max(" + id + "), count(" + id + ")")
	}
	b.WriteString(" FROM " + sqldb.Ident(t.Name) + where)
	if g.expr != "" {
		b.WriteString(" GROUP BY 1")
	}
	return b.String()
}

// numAcc is one numeric column's aggregates within a group.
type numAcc struct {
	n        int64 // non-NULL values
	sumI     int64
	sumF     float64
	float    bool // a value or the sum left the integers
	min, max any
}

func (a *numAcc) add(sum, min, max, n any) {
	cnt, _ := sqldb.Int(n)
	if cnt == 0 {
		return
	}
	a.n += cnt
	switch s := sum.(type) {
	case int64:
		if r := a.sumI + s; !a.float && (s > 0 && r < a.sumI || s < 0 && r > a.sumI) {
			a.float, a.sumF = true, float64(a.sumI)+float64(s)
		} else if !a.float {
			a.sumI = r
		} else {
			a.sumF += float64(s)
		}
	default:
		f, ok := number(s)
		if !ok {
			break
		}
		if !a.float {
			a.float, a.sumF = true, float64(a.sumI)
		}
		a.sumF += f
	}
	if a.min == nil || compareValues(min, a.min) < 0 {
		a.min = min
	}
	if a.max == nil || compareValues(max, a.max) > 0 {
		a.max = max
	}
}

// number reads a numeric SQL value (Postgres's numeric sums come as text).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func (a *numAcc) sum() any {
	if a.n == 0 {
		return nil
	}
	if a.float {
		return a.sumF
	}
	return a.sumI
}

func (a *numAcc) avg() any {
	if a.n == 0 {
		return nil
	}
	if a.float {
		return a.sumF / float64(a.n)
	}
	return float64(a.sumI) / float64(a.n)
}

// group is one group's value and what was counted in it.
type group struct {
	value any
	count int64
	nums  []numAcc
}

// groupResult is a grouping done: every group (or the first maxGroups,
// incomplete), or the error that stopped it.
type groupResult struct {
	groups     map[string]*group
	incomplete bool
	err        string
}

// merge adds one statement's rows.
func (r *groupResult) merge(g grouping, rs *sqldb.Rows) {
	for _, v := range rs.Values {
		k := groupKey(v[0])
		gr := r.groups[k]
		if gr == nil {
			if len(r.groups) >= maxGroups {
				r.incomplete = true
				continue
			}
			gr = &group{value: v[0], nums: make([]numAcc, len(g.nums))}
			r.groups[k] = gr
		}
		n, _ := sqldb.Int(v[1])
		gr.count += n
		for i := range g.nums {
			gr.nums[i].add(v[2+4*i], v[3+4*i], v[4+4*i], v[5+4*i])
		}
	}
}

// groupKey tells group values apart as SQL's GROUP BY does: 1 and 1.0 are
// one number.
func groupKey(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case int64:
		return "n" + strconv.FormatInt(x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return "n" + strconv.FormatInt(int64(x), 10)
		}
		return "n" + strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return "s" + x
	case []byte:
		return "b" + string(x)
	case bool:
		return "n" + map[bool]string{true: "1", false: "0"}[x]
	}
	return fmt.Sprintf("?%v", v)
}

// compareValues orders SQL values as SQLite does: NULL, numbers, text,
// blobs; text by its bytes.
func compareValues(a, b any) int {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra - rb
	}
	switch ra {
	case 1:
		fa, _ := number(a)
		fb, _ := number(b)
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	case 2:
		return strings.Compare(a.(string), b.(string))
	case 3:
		return strings.Compare(string(a.([]byte)), string(b.([]byte)))
	}
	return 0
}

func rank(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case int64, float64, bool:
		return 1
	case string:
		return 2
	}
	return 3
}

// sorted are the groups, largest first; ties by value, NULL last.
func (r *groupResult) sorted() []*group {
	out := make([]*group, 0, len(r.groups))
	for _, g := range r.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.count != b.count {
			return a.count > b.count
		}
		if (a.value == nil) != (b.value == nil) {
			return b.value == nil
		}
		return compareValues(a.value, b.value) < 0
	})
	return out
}

// exploreState is the groupings of one list under way (held in its
// scanState between windows).
type exploreState struct {
	list    []grouping
	results []*groupResult
	at      int   // the grouping being read
	from    []any // where its next window starts (nil: the table's start)
}

// groupings are what the list asked for: its facets, then the aggregates.
func (c *ctx) groupings(lq *listQuery) []grouping {
	var out []grouping
	for _, f := range lq.facets {
		out = append(out, grouping{expr: c.groupExpr(f)})
	}
	if lq.aggregates {
		out = append(out, grouping{nums: c.numericColumns(lq.t)})
	}
	if lq.groupBy != nil {
		out = append(out, grouping{expr: c.groupExpr(*lq.groupBy), nums: c.numericColumns(lq.t)})
	}
	return out
}

// exploreStep reads the next window of the grouping under way; full as
// for rowsStep. A grouping kept in the data cache takes no window.
func (lq *listQuery) exploreStep(c *ctx, st *scanState) (full bool, err error) {
	ex := st.explore
	if ex == nil {
		ex = &exploreState{list: c.groupings(lq)}
		ex.results = make([]*groupResult, len(ex.list))
		st.explore = ex
	}
	if ex.at >= len(ex.list) {
		st.explored = true
		return false, nil
	}
	g := ex.list[ex.at]
	where, args := lq.where(false)
	key := g.cacheKey(lq.t, where, args)
	dc := c.cache()
	if r := dc.grouped(key); r != nil && ex.from == nil {
		ex.results[ex.at] = r
		ex.at++
		return false, nil
	}
	if ex.results[ex.at] == nil {
		ex.results[ex.at] = &groupResult{groups: map[string]*group{}}
	}
	res := ex.results[ex.at]
	asc := *lq
	asc.desc, asc.after, asc.sort = false, nil, nil
	end, err := asc.windowEnd(c.e.db, ex.from)
	if err != nil {
		return false, err
	}
	bounds, boundArgs := asc.windowBounds(ex.from, end)
	rs, err := c.e.db.Query(g.sql(lq.t, andWhere(where, bounds...)), append(args, boundArgs...)...)
	if err != nil {
		res.err = c.scrub(err.Error())
		end = nil // this grouping is done: it says why
	} else {
		res.merge(g, rs)
	}
	if end == nil {
		dc.putGrouped(key, res)
		ex.at, ex.from = ex.at+1, nil
		return false, nil
	}
	ex.from = end
	return true, nil
}

// exploreAtOnce reads every grouping in one statement each: for stores
// that stop a long statement where it runs (not Windowed), and for views,
// whose reads go where the host's time limit stops them. A grouping that
// fails (a statement stopped at the time limit) says why in its place.
func (c *ctx) exploreAtOnce(lq *listQuery) []*groupResult {
	where, args := lq.where(false)
	list := c.groupings(lq)
	out := make([]*groupResult, len(list))
	dc := c.cache()
	for i, g := range list {
		key := g.cacheKey(lq.t, where, args)
		if r := dc.grouped(key); r != nil {
			out[i] = r
			continue
		}
		res := &groupResult{groups: map[string]*group{}}
		sql := g.sql(lq.t, where)
		if g.expr != "" {
			// The largest groups first: the first maxGroups hold every
			// value a facet shows, however many there are.
			sql += " ORDER BY count(*) DESC LIMIT " + strconv.Itoa(maxGroups+1)
		}
		rs, err := tableQuery(c.e.db, lq.t)(sql, args...)
		if err != nil {
			res.err = c.scrub(err.Error())
		} else {
			res.merge(g, rs)
			// Largest first, the groups kept are exactly the largest: what
			// was cut is a tail that neither a facet (30 values) nor a
			// group-by (1,000) shows, so nothing shown is missing.
			res.incomplete = false
		}
		dc.putGrouped(key, res)
		out[i] = res
	}
	return out
}

// grouped is a grouping kept in the data cache, or nil.
func (dc *dataCache) grouped(key string) *groupResult {
	if dc == nil {
		return nil
	}
	return dc.groups[key]
}

// putGrouped keeps a grouping; past dataCacheSize the groupings start over.
func (dc *dataCache) putGrouped(key string, r *groupResult) {
	if dc == nil || r.err != "" {
		return
	}
	if dc.groups == nil || len(dc.groups) >= dataCacheSize {
		dc.groups = map[string]*groupResult{}
	}
	dc.groups[key] = r
}

// --- what the answers carry ---

// facetValue is one value of a facet, as the JSON API and the page show it.
type facetValue struct {
	value any    // JSON value
	text  string // the value as a filter takes it (f.COL=text); "" with null
	null  bool
	label string // a referenced row's label, or ""
	count int64
}

// facetOut is one facet's answer.
type facetOut struct {
	req        facetReq
	values     []facetValue
	truncated  bool
	incomplete bool
	err        string
}

// facetsOut turns the facet groupings into answers: the values JSON shows,
// a referenced row's label beside its key.
func (c *ctx) facetsOut(lq *listQuery, results []*groupResult) []facetOut {
	var out []facetOut
	for i, f := range lq.facets {
		r := results[i]
		fo := facetOut{req: f, err: r.err, incomplete: r.incomplete}
		if r.incomplete {
			fo.truncated = true
			out = append(out, fo)
			continue
		}
		groups := r.sorted()
		if len(groups) > facetValues {
			groups, fo.truncated = groups[:facetValues], true
		}
		fo.values = c.facetValues(lq.t, f, groups)
		out = append(out, fo)
	}
	return out
}

// facetValues are groups of a column (or of a date unit of it) as answers
// show them: the JSON value, the filter's text, a referenced row's label.
func (c *ctx) facetValues(t *model.Table, f facetReq, groups []*group) []facetValue {
	out := make([]facetValue, 0, len(groups))
	var keys []any
	for _, g := range groups {
		fv := facetValue{count: g.count, null: g.value == nil}
		if f.unit != "" {
			fv.value = g.value
			if s, ok := g.value.(string); ok {
				fv.text = s
			}
		} else {
			fv.value = jsonValue(f.col, g.value)
			fv.text = filterText(f.col, g.value)
		}
		if g.value != nil {
			keys = append(keys, g.value)
		}
		out = append(out, fv)
	}
	if f.unit == "" {
		if labels := c.facetLabels(t, f.col, keys); labels != nil {
			for j := range out {
				if !out[j].null {
					out[j].label = labels[out[j].text]
				}
			}
		}
	}
	return out
}

// shown is a value as a person reads it: a reference's label (its key in
// the title), NULL and empty text in words.
func (v facetValue) shown(col *model.Column) (text, title string) {
	switch {
	case v.null:
		return "empty (NULL)", ""
	case v.label != "":
		return v.label, col.Name + " = " + v.text
	case v.text == "":
		return `"" (empty text)`, ""
	}
	return v.text, ""
}

// filterText is a value as f.COL=VALUE takes it back.
func filterText(col *model.Column, v any) string {
	if b, ok := v.(int64); ok && col.Kind == model.Boolean && (b == 0 || b == 1) {
		return map[int64]string{0: "false", 1: "true"}[b]
	}
	if v == nil {
		return ""
	}
	return sqldb.Text(v)
}

// facetLabels are the labels of the rows a reference column's values name,
// by value text; nil when the column refers to nothing one may see.
func (c *ctx) facetLabels(t *model.Table, col *model.Column, keys []any) map[string]string {
	for _, f := range c.st.fields[t.Name] {
		if f.Column == col && f.Reference != nil && len(keys) > 0 {
			return c.labelsOf(f.Reference, keys)
		}
	}
	return nil
}

// facetsJSON is the "facets" member of a list answer (CONTRACT, "Explore
// and import"): each value with its count, a label beside a reference, and
// "incomplete" where more distinct values were met than a facet counts.
func facetsJSON(fs []facetOut) *schema.Object {
	o := schema.NewObject()
	for _, f := range fs {
		vals := make([]any, 0, len(f.values))
		for _, v := range f.values {
			e := schema.NewObject().Set("value", v.value).Set("count", v.count)
			if v.label != "" {
				e.Set("label", v.label)
			}
			vals = append(vals, e)
		}
		fo := schema.NewObject().Set("values", vals).Set("truncated", f.truncated)
		if f.incomplete {
			fo.Set("incomplete", true)
		}
		if f.err != "" {
			fo.Set("error", f.err)
		}
		o.Set(f.req.name, fo)
	}
	return o
}

// aggregatesJSON is the aggregates member: the rows counted, and per numeric
// column its sum, average, least and greatest value (null over no value).
func (c *ctx) aggregatesJSON(lq *listQuery, r *groupResult) *schema.Object {
	o := schema.NewObject()
	if r.err != "" {
		return o.Set("error", r.err)
	}
	nums := c.numericColumns(lq.t)
	all := r.whole(len(nums))
	return o.Set("count", all.count).Set("columns", numsJSON(nums, all.nums))
}

// whole is the one group of a grouping of all rows; over no row, SQL's
// aggregate of nothing (a count of 0, no sum).
func (r *groupResult) whole(nums int) *group {
	for _, g := range r.groups {
		return g
	}
	return &group{nums: make([]numAcc, nums)}
}

// numsJSON is each numeric column's sum, average, least and greatest (null
// over no value; an overflowed sum is infinite, which jsonValue spells as
// CONTRACT does).
func numsJSON(nums []*model.Column, accs []numAcc) *schema.Object {
	cols := schema.NewObject()
	for i, col := range nums {
		a := &accs[i]
		cols.Set(col.Name, schema.NewObject().Set("sum", jsonValue(col, a.sum())).Set("avg", jsonValue(col, a.avg())).
			Set("min", jsonValue(col, a.min)).Set("max", jsonValue(col, a.max)))
	}
	return cols
}

// --- the list page ---

// hrefWith is the list's URL with its query changed by edit (the page's
// cursor always dropped: a new question starts at the first page).
func (c *ctx) hrefWith(t *model.Table, edit func(q url.Values)) string {
	return c.queryHref(t, func(q url.Values) {
		q.Del("after")
		edit(q)
	})
}

// without removes one value of a repeatable parameter.
func without(q url.Values, k, v string) {
	var kept []string
	for _, x := range q[k] {
		if x != v {
			kept = append(kept, x)
		}
	}
	if len(kept) == 0 {
		delete(q, k)
	} else {
		q[k] = kept
	}
}

// exploreList fills the list page's facets, suggestions and totals.
func (c *ctx) exploreList(t *model.Table, lq *listQuery, d *listData, more bool) {
	fields := c.st.fields[t.Name]
	nums := c.numericColumns(t)
	on := map[string]bool{} // filters in force, by "f.COL\x00value" or "null\x00COL"
	for k, vs := range c.query {
		for _, v := range vs {
			on[k+"\x00"+v] = true
		}
	}
	if len(lq.facets) > 0 {
		for _, f := range c.facetsOut(lq, lq.explored) {
			box := render.FacetBox{Label: facetTitle(fields, f.req), More: f.truncated,
				CloseHref: c.hrefWith(t, func(q url.Values) { without(q, "facet", f.req.name) })}
			if len(nums) > 0 {
				box.GroupHref = c.groupsHref(t, f.req.name)
			}
			if f.req.col.Kind == model.Date || f.req.col.Kind == model.DateTime {
				for _, u := range []string{"year", "month", "day", ""} {
					name := f.req.col.Name
					if u != "" {
						name += ":" + u
					}
					if u == f.req.unit {
						continue
					}
					text := "by " + u
					if u == "" {
						text = "by value"
					}
					box.Units = append(box.Units, link{Text: text, Href: c.hrefWith(t, func(q url.Values) {
						without(q, "facet", f.req.name)
						q.Add("facet", name)
					})})
				}
			}
			switch {
			case f.err != "":
				box.Note = "These counts could not be made: " + f.err
			case f.incomplete:
				box.Note = "More than " + strconv.Itoa(maxGroups) + " different values: too many to count here."
			}
			key := "f." + f.req.name
			for _, v := range f.values {
				e := render.FacetEntry{Count: v.count, Null: v.null}
				e.Text, e.Title = v.shown(f.req.col)
				if v.null {
					e.On = f.req.unit == "" && on["null\x00"+f.req.col.Name]
					e.Href = c.hrefWith(t, func(q url.Values) {
						if e.On {
							without(q, "null", f.req.col.Name)
						} else if f.req.unit == "" {
							delete(q, key)
							q.Add("null", f.req.col.Name)
						}
					})
				} else {
					e.On = on[key+"\x00"+v.text]
					e.Href = c.hrefWith(t, func(q url.Values) {
						if e.On {
							without(q, key, v.text)
						} else {
							without(q, "null", f.req.col.Name)
							q.Set(key, v.text)
						}
					})
				}
				box.Values = append(box.Values, e)
			}
			d.Facets = append(d.Facets, box)
		}
	}
	asked := map[string]bool{}
	for _, f := range lq.facets {
		asked[f.col.Name] = true
	}
	for _, col := range c.suggestedFacets(t) {
		if !asked[col.Name] {
			name := col.Name
			d.Suggest = append(d.Suggest, link{Text: fieldLabel(fields, col), Href: c.hrefWith(t, func(q url.Values) { q.Add("facet", name) })})
		}
	}
	if len(nums) > 0 || more {
		d.TotalsHref = c.hrefWith(t, func(q url.Values) {
			if lq.aggregates {
				delete(q, "aggregates")
			} else {
				q.Set("aggregates", "1")
			}
		})
	}
	if more && !lq.aggregates {
		d.CountAllHref = c.hrefWith(t, func(q url.Values) { q.Set("aggregates", "1") })
	}
	if lq.aggregates {
		c.totals(t, lq, d, fields, nums)
	}
}

// totals fills the footer: the exact count, and per numeric column its sum,
// average, least and greatest value, under the column.
func (c *ctx) totals(t *model.Table, lq *listQuery, d *listData, fields []*schema.Field, nums []*model.Column) {
	r := lq.explored[len(lq.explored)-1]
	if r.err != "" {
		d.Totals = &render.Totals{Rows: []render.TotalsRow{{Label: "Totals could not be made: " + r.err, Cells: make([]string, len(fields))}}}
		return
	}
	all := r.whole(len(nums))
	d.Count, d.CountMore = all.count, false // every row was counted
	at := map[*model.Column]int{}
	for i, col := range nums {
		at[col] = i
	}
	tt := &render.Totals{}
	for _, agg := range []string{"sum", "average", "least", "greatest"} {
		row := render.TotalsRow{Label: agg, Cells: make([]string, len(fields))}
		for j, f := range fields {
			i, ok := at[f.Column]
			if !ok {
				continue
			}
			a := &all.nums[i]
			var v any
			switch agg {
			case "sum":
				v = a.sum()
			case "average":
				v = a.avg()
			case "least":
				v = a.min
			default:
				v = a.max
			}
			text := totalText(v)
			if j == 0 {
				text = agg + " " + text
			}
			row.Cells[j] = text
		}
		tt.Rows = append(tt.Rows, row)
	}
	d.Totals = tt
}

// totalText is an aggregate in a cell: a dash where there was no value.
func totalText(v any) string {
	if v == nil {
		return "—"
	}
	return numberText(v)
}

// facetTitle names a facet or a grouping: the column's label, and the date
// unit it groups by.
func facetTitle(fields []*schema.Field, f facetReq) string {
	if f.unit != "" {
		return fieldLabel(fields, f.col) + " by " + f.unit
	}
	return fieldLabel(fields, f.col)
}

// numberText writes an aggregate as a person reads it: whole numbers as
// they are, fractions to at most four places.
func numberText(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		s := strconv.FormatFloat(x, 'f', 4, 64)
		return strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return sqldb.Text(v)
}

// suggestedFacets are columns worth a facet: few different values (2 to
// facetValues) among the table's first suggestSample rows, found once per
// schema version with one bounded statement. Keys, BLOBs, long text and
// views are never suggested.
func (c *ctx) suggestedFacets(t *model.Table) []*model.Column {
	if got, ok := c.st.suggested[t.Name]; ok {
		return got
	}
	var cands []*model.Column
	for _, f := range c.st.fields[t.Name] {
		col := f.Column
		if t.View || col.PK > 0 || col.Kind == model.Blob || col.Kind == model.Number || col.Unique || col.Unordered {
			continue
		}
		cands = append(cands, col)
	}
	var out []*model.Column
	if len(cands) > 0 {
		var sel, inner []string
		for _, col := range cands {
			id := sqldb.Ident(col.Name)
			sel = append(sel, "count(DISTINCT "+id+")")
			inner = append(inner, id)
		}
		rs, err := c.e.db.Query("SELECT count(*), " + strings.Join(sel, ", ") + " FROM (SELECT " + strings.Join(inner, ", ") +
			" FROM " + sqldb.Ident(t.Name) + " LIMIT " + strconv.Itoa(suggestSample) + ") AS \"s\"")
		if err == nil && len(rs.Values) == 1 {
			n, _ := sqldb.Int(rs.Values[0][0])
			for i, col := range cands {
				k, _ := sqldb.Int(rs.Values[0][i+1])
				if k >= 2 && k <= facetValues && k < n {
					out = append(out, col)
				}
			}
		}
	}
	if c.st.suggested == nil {
		c.st.suggested = map[string][]*model.Column{}
	}
	c.st.suggested[t.Name] = out
	return out
}

// suggestSample is how many rows suggestions look at.
const suggestSample = 1000

// --- group by: one column's groups with the totals of each ---

// maxShownGroups is how many groups a group-by answer lists, largest first.
const maxShownGroups = 1000

// groupOut is one group of a group-by answer.
type groupOut struct {
	fv   facetValue
	nums []numAcc
}

// grouped is a group-by read: its groups, largest first, or why there are
// none (err: the read failed; incomplete: more distinct values than a
// grouping keeps).
type groupedBy struct {
	lq         *listQuery
	by         facetReq
	groups     []groupOut
	truncated  bool
	incomplete bool
	err        string
}

// groupsRead reads a group-by under the list's filters and search: the
// groups of ?group=COL (or COL:unit) with every numeric column's totals. A
// continuation (the core yielding between windows) is the answer itself.
func (c *ctx) groupsRead(t *model.Table) (*groupedBy, *protocol.Response) {
	lq, err := c.parseList(t)
	if err != nil {
		return nil, c.listFail(err)
	}
	name := c.query.Get("group")
	col, unit := columnUnit(t, name)
	if col == nil || c.e.opts.Config.Table(t.Name).Column(col.Name).Hidden {
		return nil, c.fail(400, fmt.Sprintf("cannot group by %q: no such column", name))
	}
	gb := &groupedBy{lq: lq, by: facetReq{name: name, col: col, unit: unit}}
	lq.limit, lq.sort, lq.after = 1, nil, nil // the page itself is not shown
	lq.facets, lq.aggregates, lq.groupBy = nil, false, &gb.by
	if _, _, _, _, answer, err := c.listRead(lq, false); answer != nil {
		return nil, answer
	} else if err != nil {
		return nil, c.answer(c.dbFailure(err))
	}
	r := lq.explored[0]
	if r.err != "" || r.incomplete {
		gb.err, gb.incomplete, gb.truncated = r.err, r.incomplete, r.incomplete
		return gb, nil
	}
	sorted := r.sorted()
	if len(sorted) > maxShownGroups {
		sorted, gb.truncated = sorted[:maxShownGroups], true
	}
	for i, fv := range c.facetValues(t, gb.by, sorted) {
		gb.groups = append(gb.groups, groupOut{fv: fv, nums: sorted[i].nums})
	}
	return gb, nil
}

// groupsChart draws the groups: a line over a date column's years, months
// or days in their order, else bars, largest first. It shows the rows of
// each group, or with measure=COL a numeric column's sum.
func (c *ctx) groupsChart(t *model.Table, by facetReq, label string, groups []groupOut, nums []*model.Column, fields []*schema.Field) (*render.Chart, []link) {
	measure := -1
	name := c.query.Get("measure")
	for i, col := range nums {
		if col.Name == name {
			measure = i
		}
	}
	ch := &render.Chart{Title: "Rows by " + label, Line: by.unit != ""}
	if measure >= 0 {
		ch.Title = fieldLabel(fields, nums[measure]) + " (sum) by " + label
	}
	measures := []link{{Text: "rows", Href: c.hrefWith(t, func(q url.Values) { delete(q, "measure") })}}
	for _, col := range nums {
		name := col.Name
		measures = append(measures, link{Text: fieldLabel(fields, col) + " (sum)", Href: c.hrefWith(t, func(q url.Values) { q.Set("measure", name) })})
	}
	type point struct {
		label string
		v     float64
	}
	var pts []point
	for _, g := range groups {
		if ch.Line && g.fv.null {
			continue // a line runs over dates: the undated are in the table
		}
		text, _ := g.fv.shown(by.col)
		v := float64(g.fv.count)
		if measure >= 0 {
			f, _ := number(g.nums[measure].sum())
			v = f
		}
		pts = append(pts, point{text, v})
	}
	if ch.Line {
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].label < pts[j].label })
	} else if measure >= 0 {
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].v > pts[j].v })
	}
	for _, p := range pts {
		ch.Labels = append(ch.Labels, p.label)
		ch.Values = append(ch.Values, p.v)
	}
	return ch, measures
}

// groupsHref is the group-by page of a column under the list's filters
// and search.
func (c *ctx) groupsHref(t *model.Table, by string) string {
	q := url.Values{"group": {by}}
	for k, vs := range c.query {
		if k == "q" || k == "null" || strings.HasPrefix(k, "f.") {
			q[k] = vs
		}
	}
	return c.tableURL(t.Name) + "/groups?" + encodeQuery(q)
}

// apiGroups answers GET /api/tables/{table}/groups?group=COL.
func (c *ctx) apiGroups(t *model.Table) *protocol.Response {
	gb, answer := c.groupsRead(t)
	if answer != nil {
		return answer
	}
	if gb.err != "" {
		return c.fail(503, "the groups could not be made: "+gb.err)
	}
	nums := c.numericColumns(t)
	out := make([]any, 0, len(gb.groups))
	for _, g := range gb.groups {
		o := schema.NewObject().Set("value", g.fv.value)
		if g.fv.label != "" {
			o.Set("label", g.fv.label)
		}
		out = append(out, o.Set("count", g.fv.count).Set("columns", numsJSON(nums, g.nums)))
	}
	members := []any{"group", gb.by.name, "groups", out, "truncated", gb.truncated}
	if gb.incomplete {
		members = append(members, "incomplete", true)
	}
	return c.jsonAnswer(200, members...)
}

// groupsPage answers GET /t/{table}/groups?group=COL: a table of the groups,
// each a link to the list filtered by it, with its rows and its totals.
func (c *ctx) groupsPage(t *model.Table) *protocol.Response {
	gb, answer := c.groupsRead(t)
	if answer != nil {
		return answer
	}
	by := gb.by
	fields := c.st.fields[t.Name]
	label := facetTitle(fields, by)
	note := gb.err
	if gb.incomplete {
		note = "more than " + strconv.Itoa(maxGroups) + " different values: too many to group here"
	}
	d := render.GroupsData{Page: c.page(c.label(t)+" by "+label, link{Text: c.label(t), Href: c.tableURL(t.Name)}, link{Text: "by " + label}),
		Title: c.label(t) + " by " + label, Column: label, Truncated: gb.truncated, Note: note,
		Back: c.hrefWith(t, func(q url.Values) { delete(q, "group") }), Live: c.liveURL(t), Table: t.Name}
	nums := c.numericColumns(t)
	for _, col := range nums {
		d.Numbers = append(d.Numbers, fieldLabel(fields, col))
	}
	d.Chart, d.Measures = c.groupsChart(t, by, label, gb.groups, nums, fields)
	key := "f." + by.name
	for _, g := range gb.groups {
		fv := g.fv
		gr := render.GroupRow{Count: fv.count, Null: fv.null}
		gr.Text, gr.Title = fv.shown(by.col)
		switch {
		case !fv.null:
			gr.Href = c.hrefWith(t, func(q url.Values) { delete(q, "group"); q.Set(key, fv.text) })
		case by.unit == "":
			gr.Href = c.hrefWith(t, func(q url.Values) { delete(q, "group"); q.Add("null", by.col.Name) })
		}
		for i := range nums {
			gr.Totals = append(gr.Totals, totalText(g.nums[i].sum()), totalText(g.nums[i].avg()))
		}
		d.Rows = append(d.Rows, gr)
	}
	for _, f := range gb.lq.filters {
		d.Filters = append(d.Filters, fieldLabel(fields, f.col)+" = "+f.value)
	}
	if gb.lq.q != "" {
		d.Filters = append(d.Filters, "matching “"+gb.lq.q+"”")
	}
	return html(200, render.GroupsPage(&d))
}
