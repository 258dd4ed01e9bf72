package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
)

func TestBatch(t *testing.T) {
	e, _, _ := liveDBWith(t, importSchema+`
		CREATE TABLE pairs (a TEXT, b INTEGER, v TEXT, PRIMARY KEY (a, b));
		INSERT INTO pairs VALUES ('x/y', 2, 'start');`, engine.Options{})
	batch := func(body string) (int, map[string]any) {
		r := do(t, e, "POST", "/api/batch", body, "accept", "application/json")
		var m map[string]any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		return r.Status, m
	}
	v1 := func() string {
		r := do(t, e, "GET", "/api/tables/items/rows/1", "", "accept", "application/json")
		var m struct{ Version string }
		json.Unmarshal(r.Body, &m)
		return m.Version
	}
	st, m := batch(`{"operations": [
		{"op": "create", "table": "items", "values": {"name": "new", "qty": 2, "kind": 2}},
		{"op": "update", "table": "items", "key": 1, "values": {"qty": 7}, "version": "` + v1() + `"},
		{"op": "update", "table": "pairs", "key": "x%2Fy,2", "values": {"v": "changed"}},
		{"op": "create", "table": "kinds", "values": {"id": 3, "name": "book"}},
		{"op": "create", "table": "items", "values": {"name": "bookish", "kind": 3}}
	]}`)
	if st != 200 || len(m["results"].([]any)) != 5 {
		t.Fatalf("batch: %d %v", st, m)
	}
	dump := itemsDump(t, e)
	if !strings.Contains(dump, `"name":"old","qty":7`) || !strings.Contains(dump, `"name":"bookish","qty":1,"price":null,"kind":3`) {
		t.Fatalf("after the batch:\n%s", dump)
	}
	if p := string(do(t, e, "GET", "/api/tables/pairs/rows/x%2Fy,2", "", "accept", "application/json").Body); !strings.Contains(p, `"v":"changed"`) {
		t.Fatalf("the composite key's row: %s", p)
	}

	before := itemsDump(t, e)
	for _, tc := range []struct {
		name, body string
		status     int
		index      float64
		want       string
	}{
		{"a stale version, last", `{"operations": [{"op": "delete", "table": "items", "key": 2}, {"op": "update", "table": "items", "key": 1, "values": {"qty": 1}, "version": "stale"}]}`, 409, 1, "changed by someone else"},
		{"an invalid value", `{"operations": [{"op": "create", "table": "items", "values": {"name": "a"}}, {"op": "create", "table": "items", "values": {"qty": -1}}]}`, 422, 1, "errors"},
		{"a row still referenced", `{"operations": [{"op": "create", "table": "items", "values": {"name": "b"}}, {"op": "delete", "table": "kinds", "key": 1}]}`, 409, 1, "reference"},
		{"no such table", `{"operations": [{"op": "create", "table": "items", "values": {"name": "c"}}, {"op": "create", "table": "_nakedhtmx_changes", "values": {}}]}`, 404, 1, "no such table"},
		{"no such row", `{"operations": [{"op": "delete", "table": "items", "key": 999}]}`, 404, 0, ""},
		{"a bad op", `{"operations": [{"op": "upsert", "table": "items", "values": {}}]}`, 400, 0, "op must be"},
		{"a malformed key", `{"operations": [{"op": "delete", "table": "pairs", "key": "x"}]}`, 404, 0, "key"},
	} {
		st, m := batch(tc.body)
		body, _ := json.Marshal(m)
		if st != tc.status || m["index"] != tc.index || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %s", tc.name, st, body)
		}
	}
	if after := itemsDump(t, e); after != before {
		t.Fatalf("a failed batch wrote:\n%s\n%s", before, after)
	}
	for _, bad := range []string{`[]`, `{"operations": []}`, `{"operations": [{"op": "create", "table": "items", "values": {"name": "d"}, "extra": 1}]}`} {
		if st, _ := batch(bad); st != 400 {
			t.Errorf("%s: %d", bad, st)
		}
	}
}
