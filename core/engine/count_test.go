package engine_test

import (
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
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

// An edit form's reference options are kept until the data changes, like
// counts: a write to the referenced table from another connection or through
// the engine shows in the next form, a table growing past the threshold turns
// the select into a search box, and back.
func TestReferenceOptionsFollowTheData(t *testing.T) {
	e, _, out := liveDB(t, `
		CREATE TABLE genre (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
		CREATE TABLE track (id INTEGER PRIMARY KEY, title TEXT, genre INTEGER REFERENCES genre(id));
		INSERT INTO genre VALUES (1, 'Jazz'), (2, 'Rock');
		INSERT INTO track VALUES (1, 'So What', 1);`)
	form := func() string {
		t.Helper()
		res := get(t, e, "/t/track/r/1", "")
		if res.Status != 200 {
			t.Fatalf("GET /t/track/r/1: %d %s", res.Status, res.Body)
		}
		return string(res.Body)
	}
	has := func(body string, want ...string) bool {
		for _, w := range want {
			if !strings.Contains(body, w) {
				return false
			}
		}
		return true
	}
	if body := form(); !has(body, `>Jazz (1)</option>`, `>Rock (2)</option>`) || strings.Contains(body, "Blues") {
		t.Fatalf("first form: options %q", options(body))
	}
	for _, c := range []struct {
		write      string
		want, gone []string
	}{
		{"INSERT INTO genre VALUES (3, 'Blues')", []string{">Blues (3)</option>"}, nil},
		{"UPDATE genre SET name = 'Bebop' WHERE id = 1", []string{">Bebop (1)</option>"}, []string{"Jazz"}},
		{`WITH RECURSIVE n(i) AS (SELECT 10 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
		  INSERT INTO genre SELECT i, 'g' || i FROM n`, []string{`/t/genre/options`}, []string{"<option"}},
		{"DELETE FROM genre WHERE id >= 10", []string{">Rock (2)</option>"}, []string{"/t/genre/options"}},
	} {
		if err := out.Script(c.write); err != nil {
			t.Fatal(err)
		}
		body := form()
		if !has(body, c.want...) {
			t.Errorf("after %s: want %q; options %q", c.write, c.want, options(body))
		}
		for _, g := range c.gone {
			if strings.Contains(body, g) {
				t.Errorf("after %s: %q is still there; options %q", c.write, g, options(body))
			}
		}
	}
	if res := do(t, e, "POST", "/api/tables/genre/rows", `{"id": 4, "name": "Soul"}`); res.Status != 201 {
		t.Fatalf("POST: %d %s", res.Status, res.Body)
	}
	if body := form(); !has(body, ">Soul (4)</option>") {
		t.Errorf("after an API insert: options %q", options(body))
	}
}

// options is the reference select of a form, for messages.
func options(body string) string {
	if i := strings.Index(body, "<select"); i >= 0 {
		j := strings.Index(body[i:], "</select>")
		if j >= 0 {
			return body[i : i+j]
		}
	}
	return "no select; search: " + strings.Repeat("yes", strings.Count(body, "/options"))
}

// A request asks the log's sequence once for all it reads through the data
// cache (a form with two references asked twice, and once more per count).
func TestDataCacheAsksTheLogOncePerRequest(t *testing.T) {
	e, racy, _ := liveDBWith(t, `
		CREATE TABLE genre (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
		CREATE TABLE kind (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
		CREATE TABLE track (id INTEGER PRIMARY KEY, genre INTEGER REFERENCES genre(id), kind INTEGER REFERENCES kind(id));
		INSERT INTO genre VALUES (1, 'Jazz'); INSERT INTO kind VALUES (1, 'Live');
		INSERT INTO track VALUES (1, 1, 1);`, engine.Options{})
	asked := 0
	racy.hook = func(sql string) {
		if strings.Contains(sql, "sqlite_sequence") {
			asked++
		}
	}
	if res := get(t, e, "/t/track/r/1", ""); res.Status != 200 || !strings.Contains(string(res.Body), ">Live (1)</option>") {
		t.Fatalf("GET: %d %s", res.Status, res.Body)
	}
	if asked != 1 {
		t.Errorf("a form with two references asked the log's sequence %d times, want 1", asked)
	}
}
