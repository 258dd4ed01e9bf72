package postgres_test

import (
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store/postgres"
	"github.com/nakedhtmx/nakedhtmx/core/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The store conformance suite on a real PostgreSQL (a throw-away cluster,
// pgtest), through the native Go host's connection: with the event trigger
// that counts DDL (the cluster's superuser may make it), and without it
// (the zero Store reads the catalog, as for a role that may not).
func TestConformance(t *testing.T) {
	t.Run("event trigger", func(t *testing.T) { conformance(t, postgres.New("")) })
	t.Run("catalog", func(t *testing.T) { conformance(t, postgres.Store{}) })
}

func conformance(t *testing.T, s postgres.Store) {
	storetest.Run(t, storetest.Harness{
		Store: s,
		Open: func(t *testing.T) (sqldb.DB, sqldb.DB) {
			url := pgtest.URL(t)
			return connect(t, url, ""), connect(t, url, "")
		},
		Schema: `
			CREATE TABLE teams (id integer PRIMARY KEY, name text NOT NULL UNIQUE);
			CREATE TABLE people (
				id integer PRIMARY KEY,
				name varchar(40) NOT NULL,
				born date,
				score real CHECK (score >= 0 AND score <= 100),
				active boolean,
				team_id integer REFERENCES teams (id)
			);
			CREATE TABLE pairs (a integer, b text, note text, PRIMARY KEY (a, b));
			CREATE VIEW team_people AS SELECT p.id, p.name, t.name AS team FROM people p LEFT JOIN teams t ON t.id = p.team_id;
			INSERT INTO teams VALUES (1, 'Red');`,
	})
}
