package engine

import (
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// A list that no index serves reads every row of the table: a search (a
// LIKE over every text column, when the table has no FTS5 index), a filter
// on a column without an index, a sort by one (SQLite's plan says so:
// planNeedsScan). On a million rows that is a quarter of a second or more on
// the Go hosts, during which one core answers no one else: a one-row read
// waited behind it two hundred times its idle time (make bench, "stall").
// So such a list is read in windows of scanWindow rows of the table, in key
// order, one window per call, and between two windows the core yields
// (PROTOCOL.md, "Frames": an answer with no status and a continue token) and
// the host lets other requests go first. A table of fewer rows than a
// window is read in one statement, exactly as before.
//
// In key order a page is done as soon as it is full. Sorted by a column,
// every window is read: each gives its first rows in the list's order, and
// SQLite itself merges them with the best so far (so the column's collation
// and SQLite's order of types hold), keeping only a page's worth of keys.
//
// What a list has found so far waits here between calls, under its token:
// a few at a time (maxScans; the oldest is dropped, and its request is asked
// to try again). Rows written while a long search runs are seen or not
// depending on the window they fall in, as with any paged read.

const (
	scanWindow = 10000
	maxScans   = 64
)

// scanState is one list read in windows.
type scanState struct {
	dsid string
	from []any // where the next window starts, after this key (nil: the page's own start)
	rows []*row
	keys [][]any // sorted by a column: the keys of the best rows so far, in order
	next string
	// rowsDone: the page is read; counting, when asked for, goes on from countFrom.
	rowsDone  bool
	count     int64
	countFrom []any
	counted   bool
	// explore: the facets and aggregates under way (explore.go).
	explore  *exploreState
	explored bool
}

// scans holds the list reads under way, by token, oldest first.
type scans struct {
	seq   int64
	byTok map[string]*scanState
	order []string
}

func (s *scans) put(st *scanState) string {
	if s.byTok == nil {
		s.byTok = map[string]*scanState{}
	}
	s.seq++
	tok := "scan-" + strconv.FormatInt(s.seq, 10)
	s.byTok[tok] = st
	s.order = append(s.order, tok)
	for len(s.order) > maxScans {
		delete(s.byTok, s.order[0])
		s.order = s.order[1:]
	}
	return tok
}

func (s *scans) take(tok string) *scanState {
	st := s.byTok[tok]
	if st != nil {
		delete(s.byTok, tok)
		for i, t := range s.order {
			if t == tok {
				s.order = append(s.order[:i], s.order[i+1:]...)
				break
			}
		}
	}
	return st
}

// windowed: this list is read in windows (see above).
func (c *ctx) windowed(lq *listQuery) bool {
	if lq.t.View || !c.e.store.Windowed() {
		return false // views page by offset; the store stops a long statement where it runs
	}
	if lq.q != "" && lq.t.TextIndex == "" || lq.cond != "" {
		return true // a LIKE: every row is read
	}
	if len(lq.filters) == 0 && lq.sort == nil {
		return false // the table in key order: a page stops at its last row
	}
	return c.planNeedsScan(lq)
}

// planNeedsScan asks the store's planner whether the list's first page reads
// the whole table: it walks it (no index finds the filter's rows) and must
// filter or sort what it walks. The answer holds for the schema: it is kept
// in the state.
func (c *ctx) planNeedsScan(lq *listQuery) bool {
	var shape strings.Builder
	shape.WriteString(lq.t.Name)
	if lq.sort != nil {
		shape.WriteString("\x00sort\x00" + lq.sort.Name)
	}
	for _, f := range lq.filters {
		shape.WriteString("\x00f\x00" + f.col.Name + map[bool]string{true: "\x00null", false: ""}[f.null])
	}
	key := shape.String()
	if v, ok := c.st.plans[key]; ok {
		return v
	}
	first := *lq
	first.after, first.desc = nil, false
	where, args := first.where(true)
	// The schema version in the text: hosts keep prepared statements by
	// their text, and a kept EXPLAIN would go on showing the plan it was
	// prepared with after an index came or went.
	scan, err := c.e.store.PlanScans(c.e.db, "/* schema "+strconv.FormatInt(c.st.schemaVersion, 10)+" */ SELECT "+selectList(lq.t)+" FROM "+sqldb.Ident(lq.t.Name)+where+first.orderBy()+" LIMIT 1", args, len(lq.filters) > 0)
	if err != nil {
		return false // the page's own query will say what is wrong
	}
	if c.st.plans == nil {
		c.st.plans = map[string]bool{}
	}
	if len(c.st.plans) < 1024 {
		c.st.plans[key] = scan
	}
	return scan
}

// listRead reads a list's page, and its count when counted is set: at once,
// or one window per call. answer, when not nil, is what to answer now
// instead: the core yielding (the host asks again with its token), or why
// the read cannot go on.
func (c *ctx) listRead(lq *listQuery, counted bool) (rows []*row, next string, count int64, more bool, answer *protocol.Response, err error) {
	exploring := lq.exploring()
	rowsWindowed := c.windowed(lq)
	// A view has no key to window by: its groupings are one statement
	// each, run where the host's time limit can stop them (tableQuery).
	if !rowsWindowed && !(exploring && c.e.store.Windowed() && !lq.t.View) {
		if c.req.Continue != "" {
			return nil, "", 0, false, c.fail(400, "bad continuation"), nil
		}
		rows, next, err = lq.run(c.e.db)
		if err == nil && counted {
			count, more, _ = lq.count(c)
		}
		if err == nil && exploring {
			lq.explored = c.exploreAtOnce(lq)
		}
		return rows, next, count, more, nil, err
	}
	st := &scanState{dsid: c.st.dsid}
	if c.req.Continue != "" {
		if st = c.e.scans.take(c.req.Continue); st == nil {
			return nil, "", 0, false, c.fail(503, "too many long searches at once: this one was dropped, try again"), nil
		}
		if st.dsid != c.st.dsid {
			st = &scanState{dsid: c.st.dsid} // the schema moved meanwhile: start over on the new one
		}
	}
	// Steps go on in this call until one has read a whole window: a table
	// smaller than a window is read and counted in one call.
	pending := func() bool { return !st.rowsDone || counted && !st.counted || exploring && !st.explored }
	for full := false; !full && pending(); {
		switch {
		case !st.rowsDone && !rowsWindowed:
			// Here only for the facets and totals: the page is one statement.
			st.rows, st.next, err = lq.run(c.e.db)
			st.rowsDone = true
		case !st.rowsDone:
			full, err = lq.rowsStep(c.e.db, st)
		case counted && !st.counted:
			full, err = lq.countStep(c, st)
		default:
			full, err = lq.exploreStep(c, st)
		}
		if err != nil {
			return nil, "", 0, false, nil, err
		}
	}
	if pending() {
		return nil, "", 0, false, &protocol.Response{ResponseHead: protocol.ResponseHead{Continue: c.e.scans.put(st)}}, nil
	}
	if exploring {
		lq.explored = st.explore.results
	}
	return st.rows, st.next, min(st.count, countCap), st.count > countCap, nil, nil
}

// windowEnd is the key of the last row of the window that starts after
// from (nil: the table's start), or nil when the window reaches the end.
func (lq *listQuery) windowEnd(db sqldb.DB, from []any) ([]any, error) {
	keys := keyExprs(lq.t)
	sql := "SELECT " + strings.Join(keys, ", ") + " FROM " + sqldb.Ident(lq.t.Name)
	var args []any
	if from != nil {
		sql += " WHERE " + lq.keyCompare(!lq.desc, false, len(keys))
		args = from
	}
	sql += lq.orderBy() + " LIMIT 1 OFFSET " + strconv.Itoa(scanWindow-1)
	rs, err := db.Query(sql, args...)
	if err != nil || len(rs.Values) == 0 {
		return nil, err
	}
	return rs.Values[0], nil
}

// keyCompare is "(keys) > (?, ...)" when greater, else "<", with "=" when
// inclusive.
func (lq *listQuery) keyCompare(greater, inclusive bool, n int) string {
	op := "<"
	if greater {
		op = ">"
	}
	if inclusive {
		op += "="
	}
	return "(" + strings.Join(keyExprs(lq.t), ", ") + ") " + op + " (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// windowBounds are the conditions, and their arguments, of the window after
// from (nil: the table's start) up to end (nil: its end), in ascending key
// order.
func (lq *listQuery) windowBounds(from, end []any) (conds []string, args []any) {
	if from != nil {
		conds = append(conds, lq.keyCompare(true, false, len(from)))
		args = append(args, from...)
	}
	if end != nil {
		conds = append(conds, lq.keyCompare(false, true, len(end)))
		args = append(args, end...)
	}
	return conds, args
}

// andWhere adds conditions to a WHERE clause ("" for none yet).
func andWhere(where string, conds ...string) string {
	for _, c := range conds {
		if where == "" {
			where = " WHERE " + c
		} else {
			where += " AND " + c
		}
	}
	return where
}

// rowsStep reads the page's matches in the next window; full: it was a
// whole window (more of the table is left).
func (lq *listQuery) rowsStep(db sqldb.DB, st *scanState) (full bool, err error) {
	if lq.sort != nil || lq.order != "" {
		return lq.sortedStep(db, st)
	}
	w := *lq // sorted by key (windowed): the page's cursor is a key
	if st.from != nil {
		w.after = st.from // the page's cursor is behind this window's start
	}
	end, err := lq.windowEnd(db, w.after)
	if err != nil {
		return false, err
	}
	need := lq.limit - len(st.rows)
	where, args := w.where(true)
	if end != nil {
		where = andWhere(where, lq.keyCompare(lq.desc, true, len(end))) // up to end, in the list's direction
		args = append(args, end...)
	}
	sql := "SELECT " + selectList(lq.t) + " FROM " + sqldb.Ident(lq.t.Name) + where + lq.orderBy() + " LIMIT " + strconv.Itoa(need+1)
	rs, err := db.Query(sql, args...)
	if err != nil {
		return false, err
	}
	found := readRows(lq.t, rs)
	switch {
	case len(found) > need:
		st.rows = append(st.rows, found[:need]...)
		st.next = lq.cursor(st.rows[len(st.rows)-1])
		st.rowsDone = true
	case end == nil:
		st.rows = append(st.rows, found...)
		st.rowsDone = true
	default:
		st.rows = append(st.rows, found...)
		st.from = end
		if len(st.rows) == lq.limit {
			// Full, with rows left unread: the next page may turn out empty.
			st.next = lq.cursor(st.rows[len(st.rows)-1])
			st.rowsDone = true
		}
	}
	return end != nil, nil
}

// countStep counts the matches in the next window of the whole list (the
// count ignores the page's cursor), up to countCap and one past it; full as
// for rowsStep.
func (lq *listQuery) countStep(c *ctx, st *scanState) (full bool, err error) {
	where, args := lq.where(false)
	key := countKey(sqldb.Ident(lq.t.Name)+where, args)
	dc := c.cache()
	if e, ok := dc.count(key); ok && st.countFrom == nil && st.count == 0 {
		// Counted before and not changed since: no window to read.
		st.count, st.counted = e.n, true
		if e.more {
			st.count = countCap + 1
		}
		return false, nil
	}
	asc := *lq
	asc.desc, asc.after = false, nil
	end, err := asc.windowEnd(c.e.db, st.countFrom)
	if err != nil {
		return false, err
	}
	bounds, boundArgs := asc.windowBounds(st.countFrom, end)
	rs, err := c.e.db.Query("SELECT count(*) FROM "+sqldb.Ident(lq.t.Name)+andWhere(where, bounds...), append(args, boundArgs...)...)
	if err != nil {
		return false, err
	}
	if len(rs.Values) > 0 {
		n, _ := sqldb.Int(rs.Values[0][0])
		st.count += n
	}
	if end == nil || st.count > countCap {
		st.counted = true
		dc.putCount(key, countEntry{min(st.count, countCap), st.count > countCap})
		return end != nil, nil
	}
	st.countFrom = end
	return true, nil
}

// sortedStep reads one window of a list sorted by a column: its first
// rows in the list's order, merged by SQLite with the best so far; after the
// last window, the page.
func (lq *listQuery) sortedStep(db sqldb.DB, st *scanState) (full bool, err error) {
	byKey := *lq
	byKey.sort, byKey.desc, byKey.after, byKey.order = nil, false, nil, ""
	end, err := byKey.windowEnd(db, st.from)
	if err != nil {
		return false, err
	}
	keys := strings.Join(keyExprs(lq.t), ", ")
	where, args := lq.where(true) // the filters, the search and the page's cursor
	bounds, boundArgs := byKey.windowBounds(st.from, end)
	where, args = andWhere(where, bounds...), append(args, boundArgs...)
	page := strconv.Itoa(lq.limit + 1)
	rs, err := db.Query("SELECT "+keys+" FROM "+sqldb.Ident(lq.t.Name)+where+lq.orderBy()+" LIMIT "+page, args...)
	if err != nil {
		return false, err
	}
	if cand := append(st.keys, rs.Values...); len(cand) > 0 && len(rs.Values) > 0 {
		in, inArgs := keysIn(lq.t, cand)
		rs, err := db.Query("SELECT "+keys+" FROM "+sqldb.Ident(lq.t.Name)+" WHERE "+in+lq.orderBy()+" LIMIT "+page, inArgs...)
		if err != nil {
			return false, err
		}
		st.keys = rs.Values
	}
	if end != nil {
		st.from = end
		return true, nil
	}
	st.rowsDone = true
	if len(st.keys) == 0 {
		return false, nil
	}
	in, inArgs := keysIn(lq.t, st.keys)
	rs, err = db.Query("SELECT "+selectList(lq.t)+" FROM "+sqldb.Ident(lq.t.Name)+" WHERE "+in+lq.orderBy(), inArgs...)
	if err != nil {
		return false, err
	}
	st.rows = readRows(lq.t, rs)
	if len(st.rows) > lq.limit {
		st.rows = st.rows[:lq.limit]
		st.next = lq.cursor(st.rows[len(st.rows)-1])
	}
	return false, nil
}

// keysIn is "(keys) IN (VALUES (?, ...), ...)" for these keys, with their values.
func keysIn(t *model.Table, keys [][]any) (string, []any) {
	n := len(keyExprs(t))
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	args := make([]any, 0, len(keys)*n)
	for _, k := range keys {
		args = append(args, k...)
	}
	return "(" + strings.Join(keyExprs(t), ", ") + ") IN (VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", len(keys)), ", ") + ")", args
}
