package sqlite_test

import (
	"path/filepath"
	"testing"

	hostsqlite "github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/store/storetest"
)

// The store conformance suite on a real SQLite file, through the Go hosts'
// connection (ncruces/go-sqlite3).
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Store: sqlite.Store{},
		Open: func(t *testing.T) (sqldb.DB, sqldb.DB) {
			path := filepath.Join(t.TempDir(), "store.db")
			db, err := hostsqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			other, err := hostsqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { other.Close() })
			return db, other
		},
		Schema: `
			CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
			CREATE TABLE people (
				id INTEGER PRIMARY KEY,
				name VARCHAR(40) NOT NULL,
				born DATE,
				score REAL CHECK (score >= 0 AND score <= 100),
				active BOOLEAN,
				team_id INTEGER REFERENCES teams (id)
			);
			CREATE TABLE pairs (a INTEGER, b TEXT, note TEXT, PRIMARY KEY (a, b));
			CREATE VIEW team_people AS SELECT p.id, p.name, t.name AS team FROM people p LEFT JOIN teams t ON t.id = p.team_id;
			INSERT INTO teams VALUES (1, 'Red');`,
	})
}
