package sqlite

import (
	"reflect"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/store/sqlite/ddl"
)

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		declared string
		want     model.Kind
	}{
		{"INTEGER", model.Integer}, {"int", model.Integer}, {"BIGINT", model.Integer}, {"UNSIGNED BIG INT", model.Integer},
		{"REAL", model.Number}, {"FLOAT", model.Number}, {"DOUBLE PRECISION", model.Number}, {"NUMERIC", model.Number}, {"DECIMAL(10,2)", model.Number},
		{"TEXT", model.String}, {"VARCHAR(20)", model.String}, {"NVARCHAR(120)", model.String}, {"CHAR(2)", model.String}, {"CLOB", model.String}, {"", model.String},
		{"BLOB", model.Blob}, {"BOOLEAN", model.Boolean}, {"bool", model.Boolean},
		{"DATE", model.Date}, {"DATETIME", model.DateTime}, {"TIMESTAMP", model.DateTime}, {"JSON", model.String},
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
