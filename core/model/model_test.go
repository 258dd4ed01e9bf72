package model

import (
	"reflect"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/ddl"
)

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		declared string
		want     Kind
	}{
		{"INTEGER", Integer}, {"int", Integer}, {"BIGINT", Integer}, {"UNSIGNED BIG INT", Integer},
		{"REAL", Number}, {"FLOAT", Number}, {"DOUBLE PRECISION", Number}, {"NUMERIC", Number}, {"DECIMAL(10,2)", Number},
		{"TEXT", String}, {"VARCHAR(20)", String}, {"NVARCHAR(120)", String}, {"CHAR(2)", String}, {"CLOB", String}, {"", String},
		{"BLOB", Blob}, {"BOOLEAN", Boolean}, {"bool", Boolean},
		{"DATE", Date}, {"DATETIME", DateTime}, {"TIMESTAMP", DateTime}, {"JSON", String},
	} {
		if got := KindOf(tc.declared); got != tc.want {
			t.Errorf("KindOf(%q) = %s, want %s", tc.declared, got, tc.want)
		}
	}
}

func TestParseDefault(t *testing.T) {
	for _, tc := range []struct {
		sql     string
		literal bool
		value   any
	}{
		{"'abc'", true, "abc"}, {"'it''s'", true, "it's"}, {"42", true, int64(42)}, {"-1", true, int64(-1)},
		{"1.5", true, 1.5}, {"NULL", true, nil}, {"TRUE", true, int64(1)}, {"(0)", true, int64(0)},
		{"CURRENT_TIMESTAMP", false, nil}, {"(datetime('now'))", false, nil}, {"0x10", true, int64(16)},
	} {
		d := parseDefault(tc.sql)
		if d.Literal != tc.literal || (tc.literal && !reflect.DeepEqual(d.Value, tc.value)) {
			t.Errorf("parseDefault(%q) = %v %#v, want %v %#v", tc.sql, d.Literal, d.Value, tc.literal, tc.value)
		}
	}
}

func TestIsInternal(t *testing.T) {
	for name, want := range map[string]bool{"_nakedhtmx_dsid": true, "sqlite_sequence": true, "SQLITE_stat1": true,
		"nakedhtmx": false, "_nakedhtmx": false, "users": false, "sqlite?x": false, "SQLite": false, "sQlItE_x": true,
		"ſqlite_x": false, "sqlıte_x": false} {
		if IsInternal(name) != want {
			t.Errorf("IsInternal(%q) = %v", name, !want)
		}
	}
}

func TestMergeConstraints(t *testing.T) {
	five := 5
	ten := 10
	got := ddl.Merge(
		ddl.Constraints{Minimum: int64(0), Maximum: int64(1000), Enum: []any{"a", "b", "c"}, MaxLength: &ten},
		ddl.Constraints{Minimum: int64(-5), Maximum: 5000.5, Enum: []any{"c", "b", "z"}, MaxLength: &five})
	if got.Minimum != int64(0) || got.Maximum != int64(1000) || !reflect.DeepEqual(got.Enum, []any{"b", "c"}) || *got.MaxLength != 5 {
		t.Errorf("Merge = %+v", got)
	}
}
