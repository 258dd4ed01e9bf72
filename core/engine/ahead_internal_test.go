package engine

import (
	"reflect"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// recDB records what runs and fails the statement named fail.
type recDB struct {
	ran  []string
	fail string
}

func (d *recDB) Query(sql string, args ...any) (*sqldb.Rows, error) {
	_, err := d.Exec(sql, args...)
	return &sqldb.Rows{}, err
}
func (d *recDB) Exec(sql string, _ ...any) (sqldb.Result, error) {
	d.ran = append(d.ran, sql)
	if sql == d.fail {
		return sqldb.Result{}, &sqldb.Error{Code: "SQLITE_BUSY", Message: "busy: " + sql}
	}
	return sqldb.Result{}, nil
}
func (d *recDB) Script(sql string) error                { _, err := d.Exec(sql); return err }
func (d *recDB) Caller(sql string, _ sqldb.Guard) error { _, err := d.Exec(sql); return err }

// On a host that cannot send statements ahead in one call, watched keeps
// them and gives the same outcome: they run first, in order; a failure is
// the next statement's, which then does not run; a ROLLBACK drops them.
func TestAheadKeptByWatched(t *testing.T) {
	db := &recDB{}
	w := &watched{DB: db}
	aheadOf{w}.Exec("BEGIN")
	w.Ahead("UPDATE log", nil)
	if len(db.ran) != 0 {
		t.Fatalf("ran before the next statement: %v", db.ran)
	}
	if _, err := w.Query("PRAGMA schema_version"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"BEGIN", "UPDATE log", "PRAGMA schema_version"}; !reflect.DeepEqual(db.ran, want) {
		t.Fatalf("ran %v, want %v", db.ran, want)
	}

	db = &recDB{fail: "BEGIN"}
	w = &watched{DB: db}
	w.Ahead("BEGIN", nil)
	w.Ahead("UPDATE log", nil)
	if _, err := w.Query("PRAGMA schema_version"); sqldb.Code(err) != "SQLITE_BUSY" {
		t.Fatalf("the next statement's outcome: %v", err)
	}
	if want := []string{"BEGIN"}; !reflect.DeepEqual(db.ran, want) {
		t.Fatalf("ran %v after a failure, want %v", db.ran, want)
	}
	if _, err := w.Exec("SELECT 1"); err != nil || db.ran[len(db.ran)-1] != "SELECT 1" {
		t.Fatalf("the queue outlived its failure: %v %v", err, db.ran)
	}

	db = &recDB{fail: "UPDATE log"}
	w = &watched{DB: db}
	w.Ahead("UPDATE log", nil)
	if _, err := w.Exec("ROLLBACK"); err != nil || !reflect.DeepEqual(db.ran, []string{"ROLLBACK"}) {
		t.Fatalf("a ROLLBACK runs, and alone: %v %v", err, db.ran)
	}

	db = &recDB{}
	w = &watched{DB: db}
	w.Ahead("UPDATE log", nil)
	if err := w.FlushAhead(); err != nil || !reflect.DeepEqual(db.ran, []string{"UPDATE log"}) {
		t.Fatalf("flushed: %v %v", err, db.ran)
	}
}
