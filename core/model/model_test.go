package model

import "testing"

func TestIsInternal(t *testing.T) {
	for name, want := range map[string]bool{"_nakedhtmx_dsid": true, "sqlite_sequence": true, "SQLITE_stat1": true,
		"nakedhtmx": false, "_nakedhtmx": false, "users": false, "sqlite?x": false, "SQLite": false, "sQlItE_x": true,
		"ſqlite_x": false, "sqlıte_x": false} {
		if IsInternal(name) != want {
			t.Errorf("IsInternal(%q) = %v", name, !want)
		}
	}
}
