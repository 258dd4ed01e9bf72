package engine_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// follow answers a request as a host does: yields before the head are asked
// again, and a streamed body is collected part by part. It also counts the
// calls it took.
func follow(t *testing.T, e *engine.Engine, path string, accept string) (*protocol.Response, int) {
	t.Helper()
	p, q, _ := strings.Cut(path, "?")
	head := protocol.RequestHead{Method: "GET", Path: p, Query: q, Headers: map[string]string{"host": "localhost", "accept": accept}}
	res := e.Handle(&protocol.Request{RequestHead: head})
	calls := 1
	for res.Status == 0 && res.Continue != "" {
		head.Continue = res.Continue
		res = e.Handle(&protocol.Request{RequestHead: head})
		calls++
	}
	out := &protocol.Response{ResponseHead: res.ResponseHead, Body: append([]byte(nil), res.Body...)}
	for tok := res.Continue; tok != ""; calls++ {
		head.Continue = tok
		part := e.Handle(&protocol.Request{RequestHead: head})
		out.Body = append(out.Body, part.Body...)
		tok = part.Continue
	}
	return out, calls
}

// A search no index serves is read in windows (scan.go), and finds exactly
// what one statement would: every page, in both directions, the count, and
// the CSV export; a table smaller than a window takes one call.
func TestWindowedSearch(t *testing.T) {
	const n = 25_000 // more than two windows
	e, _, other := liveDBWith(t, fmt.Sprintf(`
		CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT, n INTEGER, tag TEXT);
		WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)
		INSERT INTO big SELECT i, CASE WHEN i %% 997 = 0 OR i IN (3, 24999) THEN 'needle ' || (i * 7919 %% 1000) ELSE 'hay ' || i END,
			i, CASE WHEN i %% 1001 = 0 THEN 'rare' ELSE 'common' END FROM c;
		CREATE TABLE small (id INTEGER PRIMARY KEY, name TEXT);
		INSERT INTO small VALUES (1, 'needle'), (2, 'hay');`, n), engine.Options{})
	ids := func(sql string) []int64 {
		rs, err := other.Query(sql)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, r := range rs.Values {
			out = append(out, r[0].(int64))
		}
		return out
	}
	needles := ids("SELECT id FROM big WHERE name LIKE '%needle%' ORDER BY id")
	for _, c := range []struct{ query, sql string }{
		{"q=needle", "SELECT id FROM big WHERE name LIKE '%needle%' ORDER BY id"},
		{"q=needle&desc=1", "SELECT id FROM big WHERE name LIKE '%needle%' ORDER BY id DESC"},
		{"q=needle&sort=name", "SELECT id FROM big WHERE name LIKE '%needle%' ORDER BY name, id"},
		{"q=needle&sort=name&desc=1", "SELECT id FROM big WHERE name LIKE '%needle%' ORDER BY name DESC, id DESC"},
		{"f.tag=rare", "SELECT id FROM big WHERE tag = 'rare' ORDER BY id"}, // a filter no index serves
		{"f.tag=rare&sort=n&desc=1", "SELECT id FROM big WHERE tag = 'rare' ORDER BY n DESC, id DESC"},
	} {
		var got []int64
		path := "/api/tables/big/rows?limit=12&" + c.query
		pages, yielded := 0, false
		for path != "" && pages < 100 {
			res, calls := follow(t, e, path, "application/json")
			if res.Status != 200 {
				t.Fatalf("%s: %d %s", path, res.Status, res.Body)
			}
			yielded = yielded || calls > 1
			var page struct {
				Rows []struct {
					ID int64 `json:"id"`
				} `json:"rows"`
				Next *string `json:"next"`
			}
			if err := json.Unmarshal(res.Body, &page); err != nil {
				t.Fatal(err)
			}
			if len(page.Rows) > 12 {
				t.Fatalf("a page of %d rows", len(page.Rows))
			}
			for _, r := range page.Rows {
				got = append(got, r.ID)
			}
			path = ""
			if page.Next != nil {
				path = "/api/tables/big/rows?limit=12&" + c.query + "&after=" + *page.Next
			}
			pages++
		}
		if want := ids(c.sql); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: the pages found\n%v\none statement finds\n%v", c.query, got, want)
		}
		if !yielded {
			t.Errorf("%s: a list over %d rows that no index serves never yielded", c.query, n)
		}
	}
	// A reference picker's search over the big table: the same 20 options.
	opts, calls := follow(t, e, "/t/big/options?q=needle", "text/html")
	wantOpts := ids("SELECT id FROM big WHERE name LIKE '%needle%' OR CAST(id AS TEXT) = 'needle' ORDER BY name, id LIMIT 20")
	var gotOpts []int64
	for _, part := range strings.Split(string(opts.Body), `value="`)[1:] {
		var id int64
		fmt.Sscan(part[:strings.IndexByte(part, '"')], &id)
		gotOpts = append(gotOpts, id)
	}
	if fmt.Sprint(gotOpts) != fmt.Sprint(wantOpts) || calls < 2 {
		t.Errorf("the picker's options (%d calls): %v, want %v", calls, gotOpts, wantOpts)
	}
	// A sort an index serves is one statement, as before.
	if _, calls := follow(t, e, "/api/tables/big/rows?sort=id&limit=5", "application/json"); calls != 1 {
		t.Errorf("a list sorted by its key took %d calls", calls)
	}
	want := func(bool) []int64 { return needles }
	// The page counts every match, not just the page's.
	res, _ := follow(t, e, "/t/big?q=needle", "text/html")
	if count := len(want(false)); res.Status != 200 || !strings.Contains(string(res.Body), fmt.Sprintf(`<p class="count">%d rows`, count)) {
		t.Errorf("the list page (%d) does not show %d matches: %.300s", res.Status, count, res.Body)
	}
	for _, h := range []string{"content-security-policy", "x-frame-options"} {
		found := false
		for _, kv := range res.Headers {
			found = found || kv[0] == h
		}
		if !found {
			t.Errorf("a page answered after yielding lacks %s", h)
		}
	}
	// The export holds every match, once, in order.
	csv, _ := follow(t, e, "/api/tables/big/rows.csv?q=needle", "text/csv")
	lines := strings.Split(strings.TrimSpace(string(csv.Body)), "\n")
	if len(lines)-1 != len(want(false)) || !strings.HasPrefix(lines[1], "3,") {
		t.Errorf("the export: %d lines for %d matches: %.200s", len(lines)-1, len(want(false)), csv.Body)
	}
	// Sorted by a column no index serves, the whole table in order, in parts
	// of a window's rows (each part is one pass over the table).
	sorted, parts := follow(t, e, "/api/tables/big/rows.csv?sort=name&desc=1", "text/csv")
	var gotSorted []int64
	for _, line := range strings.Split(strings.TrimSpace(string(sorted.Body)), "\n")[1:] {
		var id int64
		fmt.Sscan(line[:strings.IndexByte(line, ',')], &id)
		gotSorted = append(gotSorted, id)
	}
	if wantSorted := ids("SELECT id FROM big ORDER BY name DESC, id DESC"); fmt.Sprint(gotSorted) != fmt.Sprint(wantSorted) {
		t.Errorf("the export sorted by name: %d rows, want %d, in order", len(gotSorted), len(wantSorted))
	}
	if want := n/10000 + 1; parts != want {
		t.Errorf("the sorted export of %d rows took %d calls, want %d (one per window's rows)", n, parts, want)
	}
	// A small table: one call, as before.
	if res, calls := follow(t, e, "/api/tables/small/rows?q=needle", "application/json"); calls != 1 || !strings.Contains(string(res.Body), `"needle"`) {
		t.Errorf("a small table's search took %d calls: %s", calls, res.Body)
	}
	// A filter an index serves is one statement again, sorted or not.
	if err := other.Script("CREATE INDEX big_tag ON big (tag)"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"f.tag=rare", "f.tag=rare&sort=n&desc=1"} {
		if res, calls := follow(t, e, "/api/tables/big/rows?"+q, "application/json"); res.Status != 200 || calls != 1 {
			t.Errorf("%s with an index: %d in %d calls", q, res.Status, calls)
		}
	}
	// A continuation no list gave is refused.
	bad := e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: "/api/tables/big/rows", Query: "q=needle",
		Continue: "scan-999999", Headers: map[string]string{"host": "localhost", "accept": "application/json"}}})
	if bad.Status != 503 {
		t.Errorf("an unknown scan token: %d %s", bad.Status, bad.Body)
	}
}
