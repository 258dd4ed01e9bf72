package engine_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// laneDB is a store with a second way to read (sqldb.Unbounded), as the TS
// hosts have: it notes every read sent that way, and with stop set, stops
// each one as a host does past the time limit.
type laneDB struct {
	*sqlite.DB
	unbounded []string
	stop      bool
}

func (l *laneDB) QueryUnbounded(sql string, args ...any) (*sqldb.Rows, error) {
	l.unbounded = append(l.unbounded, sql)
	if l.stop {
		return nil, &sqldb.Error{Code: "SQLITE_INTERRUPT", Message: "interrupted"}
	}
	return l.DB.Query(sql, args...)
}

// Every read of a view's rows (its list, count, CSV, JSON and a row by its
// key) goes to the store as a read the core cannot bound, and only those: a
// table's reads are bounded by an index or read in windows. A host that
// stops such a read makes the page one 503, and the server carries on.
func TestViewReadsAreUnbounded(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "lane.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Script(`
		CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
		INSERT INTO t VALUES (1, 'a'), (2, 'b');
		CREATE VIEW v AS SELECT id, upper(name) AS name FROM t;
		-- an updatable view has a key (its id), so its rows have pages
		CREATE TRIGGER v_update INSTEAD OF UPDATE ON v BEGIN UPDATE t SET name = lower(NEW.name) WHERE id = OLD.id; END;`); err != nil {
		t.Fatal(err)
	}
	l := &laneDB{DB: db}
	e, err := engine.Open(l, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/t/t", "/t/t?q=a", "/t/t/r/1", "/api/tables/t/rows", "/api/tables/t/rows.csv", "/api/tables/t/rows/1"} {
		l.unbounded = nil
		if res, _ := follow(t, e, path, "text/html"); res.Status != 200 {
			t.Fatalf("%s: %d %s", path, res.Status, res.Body)
		}
		if len(l.unbounded) > 0 {
			t.Errorf("%s: a table's read went as unbounded: %q", path, l.unbounded)
		}
	}
	for _, path := range []string{"/t/v", "/t/v?q=A", "/t/v/r/1", "/api/tables/v/rows", "/api/tables/v/rows.csv", "/api/tables/v/rows/1"} {
		l.unbounded, l.stop = nil, false
		res, _ := follow(t, e, path, "text/html")
		if res.Status != 200 {
			t.Fatalf("%s: %d %s", path, res.Status, res.Body)
		}
		var viewReads int
		for _, sql := range l.unbounded {
			if !strings.Contains(sql, `FROM "v"`) {
				t.Errorf("%s: not a read of the view went as unbounded: %s", path, sql)
			}
			viewReads++
		}
		if viewReads == 0 {
			t.Errorf("%s: no read of the view went as unbounded", path)
		}
		// A write, so no count comes from the data cache.
		if _, err := db.Exec("UPDATE t SET name = name || 'x' WHERE id = 2"); err != nil {
			t.Fatal(err)
		}
		l.stop = true
		if res, _ := follow(t, e, path, "text/html"); res.Status != 503 || !strings.Contains(string(res.Body), "ran past the limit") {
			t.Errorf("%s, stopped: %d %s", path, res.Status, res.Body)
		}
		l.stop = false
		if res, _ := follow(t, e, "/t/t", "text/html"); res.Status != 200 {
			t.Errorf("after a stopped read of %s, /t/t: %d", path, res.Status)
		}
	}
}
