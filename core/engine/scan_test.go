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
		CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT, n INTEGER);
		WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)
		INSERT INTO big SELECT i, CASE WHEN i %% 997 = 0 OR i IN (3, 24999) THEN 'needle ' || i ELSE 'hay ' || i END, i FROM c;
		CREATE TABLE small (id INTEGER PRIMARY KEY, name TEXT);
		INSERT INTO small VALUES (1, 'needle'), (2, 'hay');`, n), engine.Options{})
	want := func(desc bool) []int64 {
		order := ""
		if desc {
			order = " DESC"
		}
		rs, err := other.Query("SELECT id FROM big WHERE name LIKE '%needle%' ORDER BY id" + order)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range rs.Values {
			ids = append(ids, r[0].(int64))
		}
		return ids
	}
	for _, desc := range []bool{false, true} {
		var got []int64
		path := "/api/tables/big/rows?q=needle&limit=12"
		if desc {
			path += "&desc=1"
		}
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
				path = "/api/tables/big/rows?q=needle&limit=12&after=" + *page.Next
				if desc {
					path += "&desc=1"
				}
			}
			pages++
		}
		if fmt.Sprint(got) != fmt.Sprint(want(desc)) {
			t.Errorf("desc=%v: the pages found\n%v\none statement finds\n%v", desc, got, want(desc))
		}
		if !yielded {
			t.Errorf("desc=%v: a search over %d rows never yielded", desc, n)
		}
	}
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
	// A small table: one call, as before.
	if res, calls := follow(t, e, "/api/tables/small/rows?q=needle", "application/json"); calls != 1 || !strings.Contains(string(res.Body), `"needle"`) {
		t.Errorf("a small table's search took %d calls: %s", calls, res.Body)
	}
	// A continuation no list gave is refused.
	bad := e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: "/api/tables/big/rows", Query: "q=needle",
		Continue: "scan-999999", Headers: map[string]string{"host": "localhost", "accept": "application/json"}}})
	if bad.Status != 503 {
		t.Errorf("an unknown scan token: %d %s", bad.Status, bad.Body)
	}
}
