package engine_test

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
)

// Facets and totals over a table of several windows (explore.go): read a
// window per call with yields between, and equal to what one GROUP BY
// finds; a facet of more distinct values than it keeps says so; what was
// counted is kept until the data changes, and counted again after.
func TestFacetsAndTotalsOverWindows(t *testing.T) {
	const n = 25_000
	e, db, other := liveDBWith(t, fmt.Sprintf(`
		CREATE TABLE big (id INTEGER PRIMARY KEY, kind TEXT, grade INTEGER, amount REAL, day DATE, code TEXT);
		WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)
		INSERT INTO big SELECT i, CASE WHEN i %% 11 = 0 THEN NULL ELSE 'k' || (i * 7 %% 37) END, i %% 5,
			CASE WHEN i %% 13 = 0 THEN NULL ELSE (i %% 1000) * 0.5 END, date('2020-01-01', '+' || (i %% 900) || ' days'), 'c' || i FROM c;`, n), engine.Options{})
	_ = db
	type facet struct {
		Values []struct {
			Value any   `json:"value"`
			Count int64 `json:"count"`
		} `json:"values"`
		Truncated  bool `json:"truncated"`
		Incomplete bool `json:"incomplete"`
	}
	type answer struct {
		Facets     map[string]facet `json:"facets"`
		Aggregates struct {
			Count   int64 `json:"count"`
			Columns map[string]struct {
				Sum, Avg, Min, Max any
			} `json:"columns"`
		} `json:"aggregates"`
	}
	ask := func(query string) (answer, int) {
		res, calls := follow(t, e, "/api/tables/big/rows?limit=3&"+query, "application/json")
		if res.Status != 200 {
			t.Fatalf("%s: %d %s", query, res.Status, res.Body)
		}
		var a answer
		if err := json.Unmarshal(res.Body, &a); err != nil {
			t.Fatal(err)
		}
		return a, calls
	}
	// want is the facet one statement gives: largest first, ties by value
	// (NULL last), at most 30.
	want := func(expr, where string) (vals []string, truncated bool) {
		rs, err := other.Query("SELECT " + expr + ", count(*) FROM big " + where + " GROUP BY 1")
		if err != nil {
			t.Fatal(err)
		}
		type vc struct {
			v any
			n int64
		}
		var all []vc
		for _, r := range rs.Values {
			all = append(all, vc{r[0], r[1].(int64)})
		}
		sort.Slice(all, func(i, j int) bool {
			if all[i].n != all[j].n {
				return all[i].n > all[j].n
			}
			if (all[i].v == nil) != (all[j].v == nil) {
				return all[j].v == nil
			}
			return fmt.Sprint(all[i].v) < fmt.Sprint(all[j].v)
		})
		if len(all) > 30 {
			all, truncated = all[:30], true
		}
		for _, x := range all {
			vals = append(vals, fmt.Sprintf("%v=%d", x.v, x.n))
		}
		return vals, truncated
	}
	got := func(f facet) []string {
		var out []string
		for _, v := range f.Values {
			if x, ok := v.Value.(float64); ok {
				out = append(out, fmt.Sprintf("%v=%d", int64(x), v.Count))
				continue
			}
			out = append(out, fmt.Sprintf("%v=%d", v.Value, v.Count))
		}
		return out
	}
	for _, c := range []struct{ query, facet, expr, where string }{
		{"facet=kind", "kind", "kind", ""},
		{"facet=grade&f.grade=3", "grade", "grade", "WHERE grade = '3'"},
		{"facet=kind&q=k1", "kind", "kind", `WHERE kind LIKE '%k1%' OR day LIKE '%k1%' OR code LIKE '%k1%'`},
		{"facet=day:month&f.kind=k5", "day:month", "substr(day, 1, 7)", "WHERE kind = 'k5'"},
	} {
		a, calls := ask(c.query)
		wantVals, wantTrunc := want(c.expr, c.where)
		f := a.Facets[c.facet]
		if fmt.Sprint(got(f)) != fmt.Sprint(wantVals) || f.Truncated != wantTrunc {
			t.Errorf("%s: facet %v (truncated %v)\nwant %v (truncated %v)", c.query, got(f), f.Truncated, wantVals, wantTrunc)
		}
		if calls < 3 {
			t.Errorf("%s: a facet of %d rows took %d calls: it was not read in windows", c.query, n, calls)
		}
		// Asked again with no change: the facet is kept, so the answer
		// takes the calls of the list alone (one more when the page's own
		// read filled that call's window), not a call per window.
		_, listCalls := follow(t, e, "/api/tables/big/rows?limit=3&"+strings.Replace(c.query, "facet="+c.facet, "x=1", 1), "application/json")
		if again, calls := ask(c.query); calls > listCalls+1 || fmt.Sprint(got(again.Facets[c.facet])) != fmt.Sprint(got(f)) {
			t.Errorf("%s: asked again with no change, %d calls (the list alone: %d)", c.query, calls, listCalls)
		}
	}
	// More distinct values than a facet keeps: it says so, and shows none.
	if a, _ := ask("facet=code"); !a.Facets["code"].Incomplete || !a.Facets["code"].Truncated || len(a.Facets["code"].Values) != 0 {
		t.Errorf("a facet of %d distinct values: %+v", n, a.Facets["code"])
	}
	// The totals: every row counted, sums and bounds as SQL says.
	a, _ := ask("aggregates=1")
	rs, err := other.Query("SELECT count(*), sum(grade), avg(grade), min(grade), max(grade), sum(amount), avg(amount), min(amount), max(amount) FROM big")
	if err != nil {
		t.Fatal(err)
	}
	r := rs.Values[0]
	num := func(v any) float64 {
		switch x := v.(type) {
		case int64:
			return float64(x)
		case float64:
			return x
		}
		return math.NaN()
	}
	g, am := a.Aggregates.Columns["grade"], a.Aggregates.Columns["amount"]
	for _, p := range []struct {
		name      string
		got, want any
	}{{"count", float64(a.Aggregates.Count), r[0]}, {"grade sum", g.Sum, r[1]}, {"grade avg", g.Avg, r[2]}, {"grade min", g.Min, r[3]},
		{"grade max", g.Max, r[4]}, {"amount sum", am.Sum, r[5]}, {"amount avg", am.Avg, r[6]}, {"amount min", am.Min, r[7]}, {"amount max", am.Max, r[8]}} {
		if w := num(p.want); math.Abs(num(p.got)-w) > 1e-9*math.Max(1, math.Abs(w)) {
			t.Errorf("%s: %v, SQL says %v", p.name, p.got, p.want)
		}
	}
	// A write elsewhere: counted again, and the new row is in.
	if _, err := other.Exec("INSERT INTO big (id, kind, grade) VALUES (?, 'k1', 9)", n+1); err != nil {
		t.Fatal(err)
	}
	a, calls := ask("facet=grade")
	found := false
	for _, v := range a.Facets["grade"].Values {
		found = found || v.Value == float64(9) && v.Count == 1
	}
	if !found || calls < 3 {
		t.Errorf("after an outside insert (%d calls): %+v", calls, a.Facets["grade"])
	}
}
