package engine_test

import (
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
)

// TestStaleVersion: a row read under an older schema and saved with that
// schema's DSID and the version it read is checked as the row reads under
// that schema: a column added or renamed since is no change of the row's
// (saved, 200); a change by someone else is (409), as is a column dropped
// since (the row as it was can no longer be read back).
func TestStaleVersion(t *testing.T) {
	for _, tc := range []struct {
		name, change string
		want         int
	}{
		{"a column added", `ALTER TABLE n ADD COLUMN c TEXT DEFAULT 'x'`, 200},
		{"a column renamed", `ALTER TABLE n RENAME COLUMN note TO remark`, 200},
		{"a column added and renamed", `ALTER TABLE n ADD COLUMN c TEXT; ALTER TABLE n RENAME COLUMN c TO d`, 200},
		{"someone else's change, then a column added", `UPDATE n SET note = 'theirs'; ALTER TABLE n ADD COLUMN c TEXT`, 409},
		{"a column dropped", `ALTER TABLE n DROP COLUMN note`, 409},
		{"no schema change, someone else's change", `UPDATE n SET note = 'theirs'`, 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, _, raw := liveDBWith(t, `CREATE TABLE n (id INTEGER PRIMARY KEY, title TEXT, note TEXT); INSERT INTO n VALUES (1, 'a', 'n')`,
				engine.Options{Log: func(string, ...any) {}})
			v := between(string(do(t, server, "GET", "/api/tables/n/rows/1", "").Body), `"version":"`, `"`)
			old := server.DSID()
			if err := raw.Script(tc.change); err != nil {
				t.Fatal(err)
			}
			r := do(t, server, "PATCH", "/api/tables/n/rows/1", `{"title":"b","_version":"`+v+`","_dsid":"`+old+`"}`, "origin", "http://localhost")
			if r.Status != tc.want {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if body := string(do(t, server, "GET", "/api/tables/n/rows/1", "").Body); (tc.want == 200) != strings.Contains(body, `"title":"b"`) {
				t.Errorf("the row after: %s", body)
			}
		})
	}
}
