package engine_test

import (
	"encoding/json"
	"net/url"
	"testing"

	hostpg "github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	pgstore "github.com/nakedhtmx/nakedhtmx/core/store/postgres"
)

// TestPostgresUnorderedTypes: columns whose values Postgres cannot order
// or compare (json, xml, point, and arrays of them) in a table and a view:
// every page, sort, facet, filter and search either answers or refuses with
// a 400 that says why, never a 500 (ORDER BY, GROUP BY or = on them fail).
func TestPostgresUnorderedTypes(t *testing.T) {
	db, err := hostpg.Open(pgtest.URL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Script(`CREATE TABLE j (id int PRIMARY KEY, doc json, x xml, p point, docs json[], b jsonb, name text);
		INSERT INTO j VALUES (1, '{"a":1}', '<a/>', '(1,2)', ARRAY['{"z":1}'::json], '{"a":1}', 'one'),
		  (2, '{"a":2}', '<b/>', '(3,4)', NULL, '{"a":2}', 'two'), (3, NULL, NULL, NULL, NULL, NULL, 'three');
		CREATE VIEW jv AS SELECT doc, x, p, id, name FROM j;
		CREATE VIEW jonly AS SELECT doc, x FROM j`); err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(db, engine.Options{Store: pgstore.New(""), Log: func(string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	cols := []string{"id", "doc", "x", "p", "docs", "b", "name"}
	var paths []string
	for _, table := range []string{"j", "jv", "jonly"} {
		paths = append(paths, "/t/"+table, "/api/tables/"+table+"/rows?limit=1", "/t/"+table+"?q=a", "/api/tables/"+table+"/rows.csv",
			"/t/"+table+"?aggregates=1")
		for _, c := range cols {
			paths = append(paths, "/t/"+table+"?sort="+c+"&desc=1", "/t/"+table+"?facet="+c, "/t/"+table+"?f."+c+"="+url.QueryEscape(`{"a":1}`),
				"/t/"+table+"?null="+c, "/t/"+table+"/groups?by="+c)
		}
	}
	paths = append(paths, "/t/j/r/1", "/t/j/new", "/api/tables/j/rows/1", "/t/j?sort=name&after=WyJvbmUiLDFd")
	for _, p := range paths {
		for _, accept := range []string{"text/html", "application/json"} {
			if r := do(t, e, "GET", p, "", "accept", accept); r.Status >= 500 {
				t.Errorf("GET %s (%s): %d %.300s", p, accept, r.Status, r.Body)
			}
		}
	}
	// Paged a row at a time, the view shows every row once.
	seen := 0
	for after, page := "", 0; page < 10; page++ {
		r := do(t, e, "GET", "/api/tables/jv/rows?limit=1"+after, "")
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		seen++
		var p struct{ Next *string }
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Next == nil {
			break
		}
		after = "&after=" + url.QueryEscape(*p.Next)
	}
	if seen != 3 {
		t.Errorf("the view paged a row at a time: %d pages", seen)
	}
	for _, w := range []struct{ method, path, body string }{
		{"POST", "/api/tables/j/rows", `{"id": 4, "doc": {"c": [1, 2]}, "p": "(5,6)", "x": "<c/>", "name": "four"}`},
		{"PATCH", "/api/tables/j/rows/1", `{"doc": {"a": 9}, "name": "ONE"}`},
		{"DELETE", "/api/tables/j/rows/2", ``},
	} {
		if r := do(t, e, w.method, w.path, w.body); r.Status >= 500 {
			t.Errorf("%s %s: %d %s", w.method, w.path, r.Status, r.Body)
		}
	}
}
