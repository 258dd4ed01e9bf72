package engine_test

import (
	"strings"
	"testing"
)

// A list page counts rows up to a cap (SQLite counts by visiting every row,
// which made a page of a 1,000,000-row table ten times slower than one of
// 1,000); past it the page and the index say "10000+".
func TestRowCountsAreBounded(t *testing.T) {
	e, _, out := liveDB(t, `CREATE TABLE exact (id INTEGER PRIMARY KEY); CREATE TABLE big (id INTEGER PRIMARY KEY);`)
	if err := out.Script(`
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10001)
		INSERT INTO big SELECT i FROM n;
		INSERT INTO exact SELECT id FROM big WHERE id <= 10000;`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, query, want, not string }{
		{"/t/exact", "", `<p class="count">10000 rows`, "10000+"},
		{"/t/big", "", `<p class="count">10000+ rows`, "10001"},
		{"/t/big", "f.id=10001", `<p class="count">1 row`, "+"},
		{"/", "", `10000+</td>`, "10001"},
	} {
		res := get(t, e, c.path, c.query)
		body := string(res.Body)
		if res.Status != 200 || !strings.Contains(body, c.want) || (c.not != "" && strings.Contains(body, `class="count">`+c.not)) {
			t.Errorf("GET %s?%s: status %d, want %q in the page; count line: %q", c.path, c.query, res.Status, c.want, countLine(body))
		}
	}
	if res := get(t, e, "/", ""); !strings.Contains(string(res.Body), `10000</td>`) {
		t.Errorf("index: the 10000-row table's count is missing")
	}
	// Counts are remembered until the data changes: a write from another
	// connection, and one through the engine, must show at once.
	for _, c := range []struct{ write, path, want string }{
		{"INSERT INTO exact VALUES (20000)", "/t/exact", `<p class="count">10000+ rows`},
		{"DELETE FROM exact WHERE id > 9990", "/t/exact", `<p class="count">9990 rows`},
		{"DELETE FROM big WHERE id > 2", "/t/big", `<p class="count">2 rows`},
	} {
		if err := out.Script(c.write); err != nil {
			t.Fatal(err)
		}
		if body := string(get(t, e, c.path, "").Body); !strings.Contains(body, c.want) {
			t.Errorf("after %s: want %q; count line: %q", c.write, c.want, countLine(body))
		}
	}
	if res := do(t, e, "POST", "/api/tables/big/rows", `{"id": 3}`); res.Status != 201 {
		t.Fatalf("POST: %d %s", res.Status, res.Body)
	}
	if body := string(get(t, e, "/t/big", "").Body); !strings.Contains(body, `<p class="count">3 rows`) {
		t.Errorf("after an API insert: count line %q", countLine(body))
	}
}

func countLine(body string) string {
	if i := strings.Index(body, `class="count"`); i >= 0 {
		return body[i:min(len(body), i+60)]
	}
	return ""
}
