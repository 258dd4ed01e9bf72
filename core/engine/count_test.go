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
}

func countLine(body string) string {
	if i := strings.Index(body, `class="count"`); i >= 0 {
		return body[i:min(len(body), i+60)]
	}
	return ""
}
