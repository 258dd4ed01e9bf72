package engine_test

import (
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
)

// The route walk: every route the router knows (engine.Routes, the table it
// dispatches from, so a new route is walked or cannot be reached), with
// every method it answers and one it does not, as a page and as JSON, with
// plain requests and ones that name hidden things. Nothing hidden may show:
// no value, no name, and no oracle (a request naming a hidden table or
// column is answered exactly as one naming something that does not exist).
func TestRouteWalk(t *testing.T) { routeWalk(t, hiddenEngine) }

// The same walk on Postgres (a throw-away cluster): the rules are the
// engine's, decided once, whatever the store.
func TestRouteWalkPostgres(t *testing.T) { routeWalk(t, hiddenEnginePostgres) }

func routeWalk(t *testing.T, open func(t *testing.T) *engine.Engine) {
	leaks := hiddenLeaks
	// Twins: a query naming a hidden thing, and the same naming nothing.
	queries := [][2]string{
		{"", ""}, {"q=Ann", "q=Ann"}, {"sort=nick&desc=1", "sort=nick&desc=1"}, {"after=0", "after=0"},
		{"asof=1", "asof=1"}, {"table=people", "table=people"},
		{"q=HIDDENCOLVALUE", "q=NOSUCHVALUEXYZ"},
		{"f.hush_label=HIDDENCOLVALUE", "f.nosuchcolumn=HIDDENCOLVALUE"},
		{"sort=hush_label", "sort=nosuchcolumn"}, {"null=hush_label", "null=nosuchcolumn"},
		{"table=secrets", "table=nosuchtable"},
	}
	bodies := [][2]string{
		{`{"nick": "Walk"}`, `{"nick": "Walk"}`},
		{`{"hush_label": "x"}`, `{"nosuchcolumn": "x"}`},
		{`{"secret_id": 2}`, `{"secret_id": 999}`}, // a key in the hidden table (no row here holds it), and none
		{"nick=Walk", "nick=Walk"},
		{"hush_label=x&nick=W", "nosuchcolumn=x&nick=W"},
	}
	strip := func(s string) string {
		for _, n := range []string{"secrets", "hush_label", "nosuchtable", "nosuchcolumn", "HIDDENCOLVALUE", "NOSUCHVALUEXYZ"} {
			s = strings.ReplaceAll(s, n, "X")
		}
		return s
	}
	if len(engine.Routes()) < 15 {
		t.Fatalf("the router lists %d routes", len(engine.Routes()))
	}
	for _, r := range engine.Routes() {
		t.Run(r.Pattern, func(t *testing.T) {
			// Fresh data for each route: a walk of one route's writes must
			// not leave the next with nothing to read.
			e := open(t)
			// A twin pair of paths: a visible table and key, and the hidden
			// table against one that does not exist.
			var paths [][2]string
			plain := expand(t, r.Pattern, "people", "1")
			paths = append(paths, [2]string{plain, plain}, [2]string{expand(t, r.Pattern, "pets", "1"), expand(t, r.Pattern, "pets", "1")})
			if strings.Contains(r.Pattern, "{table}") {
				paths = append(paths, [2]string{expand(t, r.Pattern, "secrets", "1"), expand(t, r.Pattern, "nosuchtable", "1")})
			}
			reached := false
			methods := append(append([]string{}, r.Methods...), "PUT")
			for _, m := range methods {
				for _, p := range paths {
					for _, q := range queries {
						for _, accept := range []string{"text/html", "application/json"} {
							bs := [][2]string{{"", ""}}
							if m == "POST" || m == "PATCH" {
								bs = bodies
							}
							for _, b := range bs {
								ct := "application/json"
								if !strings.HasPrefix(b[0], "{") {
									ct = "application/x-www-form-urlencoded"
								}
								send := func(path, query, body string) (int, string) {
									if query != "" {
										path += "?" + query
									}
									res := do(t, e, m, path, body, "accept", accept, "content-type", ct)
									all := string(res.Body)
									for _, h := range res.Headers {
										all += "\n" + h[0] + ": " + h[1]
									}
									return res.Status, all
								}
								what := m + " " + p[0] + "?" + q[0] + " " + b[0] + " (" + accept + ")"
								st, got := send(p[0], q[0], b[0])
								if st >= 500 {
									t.Errorf("%s: %d %.300s", what, st, got)
								}
								if st != 405 && !(st == 404 && (strings.Contains(got, "no such page") || strings.Contains(got, "no such API route"))) {
									reached = true // the router took it to the route (a 404 of its own counts)
								}
								if p[0] == p[1] && q[0] == q[1] && b[0] == b[1] {
									for _, l := range leaks {
										if strings.Contains(got, l) {
											t.Errorf("%s shows %q:\n%.600s", what, l, got)
										}
									}
									continue
								}
								// Writes change what the twin sees (a row's
								// version, a new id): only reads are compared whole.
								st2, twin := send(p[1], q[1], b[1])
								if st != st2 {
									t.Errorf("%s: %d, its twin %s %s?%s %s: %d (an oracle)", what, st, m, p[1], q[1], b[1], st2)
								} else if m == "GET" && strip(got) != strip(twin) {
									t.Errorf("%s answers unlike its twin %s?%s:\n%.400s\n%.400s", what, p[1], q[1], got, twin)
								}
							}
						}
					}
				}
			}
			if !reached {
				t.Errorf("the walk never reached %s (every answer 404 or 405): give it a value it can use", r.Pattern)
			}
		})
	}
}

// expand fills a route pattern: {table}, {key} and {id}; any other variable
// fails the test, so a route with a new kind of segment is given values here.
func expand(t *testing.T, pattern, table, key string) string {
	t.Helper()
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		switch {
		case s == "{table}":
			segs[i] = table
		case s == "{key}":
			segs[i] = key
		case s == "{id}":
			segs[i] = "5f0c0000000000000000000000000000"
		case s == "{query}", s == "{name}":
			segs[i] = "walk"
		case strings.HasPrefix(s, "{"):
			t.Fatalf("route %s: the walk has no value for %s", pattern, s)
		}
	}
	return strings.Join(segs, "/")
}
