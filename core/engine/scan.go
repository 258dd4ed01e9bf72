package engine

import (
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// Searches that no index serves (a LIKE over every text column: the table
// has no FTS5 index) read every row of the table. On a million rows that is
// a quarter of a second on the Go hosts, during which one core answers no
// one else: a one-row read waited behind it two hundred times its idle time
// (make bench, "stall"). So such a list is read in windows of scanWindow
// rows, in key order, one window per call, and between two windows the core
// yields (PROTOCOL.md, "Frames": an answer with no status and a continue
// token) and the host lets other requests go first. A table of fewer rows
// than a window is read in one statement, exactly as before.
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
	next string
	// rowsDone: the page is read; counting, when asked for, goes on from countFrom.
	rowsDone  bool
	count     int64
	countFrom []any
	counted   bool
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
func (lq *listQuery) windowed() bool {
	return lq.q != "" && lq.t.FTS == "" && lq.sort == nil && !lq.t.View
}

// listRead reads a list's page, and its count when counted is set: at once,
// or one window per call. answer, when not nil, is what to answer now
// instead: the core yielding (the host asks again with its token), or why
// the read cannot go on.
func (c *ctx) listRead(lq *listQuery, counted bool) (rows []*row, next string, count int64, more bool, answer *protocol.Response, err error) {
	if !lq.windowed() {
		if c.req.Continue != "" {
			return nil, "", 0, false, c.fail(400, "bad continuation"), nil
		}
		rows, next, err = lq.run(c.e.db)
		if err == nil && counted {
			count, more, _ = lq.count(c)
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
	for full := false; !full && (!st.rowsDone || counted && !st.counted); {
		if !st.rowsDone {
			full, err = lq.rowsStep(c.e.db, st)
		} else {
			full, err = lq.countStep(c, st)
		}
		if err != nil {
			return nil, "", 0, false, nil, err
		}
	}
	if !st.rowsDone || counted && !st.counted {
		return nil, "", 0, false, &protocol.Response{ResponseHead: protocol.ResponseHead{Continue: c.e.scans.put(st)}}, nil
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
	op := map[bool]string{true: ">", false: "<"}[greater]
	if inclusive {
		op += "="
	}
	return "(" + strings.Join(keyExprs(lq.t), ", ") + ") " + op + " (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// rowsStep reads the page's matches in the next window; full: it was a
// whole window (more of the table is left).
func (lq *listQuery) rowsStep(db sqldb.DB, st *scanState) (full bool, err error) {
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
		bound := lq.keyCompare(lq.desc, true, len(end))
		if where == "" {
			where = " WHERE " + bound
		} else {
			where += " AND " + bound
		}
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
	if st.countFrom == nil && st.count == 0 {
		// Counted before and not changed since: no window to read.
		if dc := c.cache(); dc != nil {
			where, args := lq.where(false)
			if e, ok := dc.counts[countKey(sqldb.Ident(lq.t.Name)+where, args)]; ok {
				st.count, st.counted = e.n, true
				if e.more {
					st.count = countCap + 1
				}
				return false, nil
			}
		}
	}
	asc := *lq
	asc.desc, asc.after = false, nil
	end, err := asc.windowEnd(c.e.db, st.countFrom)
	if err != nil {
		return false, err
	}
	where, args := asc.where(false)
	var bounds []string
	if st.countFrom != nil {
		bounds = append(bounds, asc.keyCompare(true, false, len(st.countFrom)))
		args = append(args, st.countFrom...)
	}
	if end != nil {
		bounds = append(bounds, asc.keyCompare(false, true, len(end)))
		args = append(args, end...)
	}
	for _, b := range bounds {
		if where == "" {
			where = " WHERE " + b
		} else {
			where += " AND " + b
		}
	}
	rs, err := c.e.db.Query("SELECT count(*) FROM "+sqldb.Ident(lq.t.Name)+where, args...)
	if err != nil {
		return false, err
	}
	if len(rs.Values) > 0 {
		n, _ := sqldb.Int(rs.Values[0][0])
		st.count += n
	}
	if end == nil || st.count > countCap {
		st.counted = true
		if dc := c.cache(); dc != nil {
			w, a := lq.where(false)
			if len(dc.counts) >= dataCacheSize {
				clear(dc.counts)
			}
			dc.counts[countKey(sqldb.Ident(lq.t.Name)+w, a)] = countEntry{min(st.count, countCap), st.count > countCap}
		}
		return end != nil, nil
	}
	st.countFrom = end
	return true, nil
}
