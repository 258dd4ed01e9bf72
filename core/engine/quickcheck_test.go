package engine

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	sqlitestore "github.com/nakedhtmx/nakedhtmx/core/store/sqlite"
)

// The quick check may only say "valid" where the JSON Schema validator says
// so: every table of the corpus's type and CHECK schemas (and one with
// keywords the quick check does not know), against instances drawn from
// values that sit on and beside every bound, type and length.
func TestQuickCheckAgreesWithTheValidator(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range []string{"types", "checks", "keys", "foreignkeys"} {
		sql, err := os.ReadFile(filepath.Join("..", "..", "testdata", "corpus", f, "schema.sql"))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Script(string(sql)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if err := db.Script(`CREATE TABLE bounds (id INTEGER PRIMARY KEY,
		half REAL CHECK (half >= 0.5 AND half < 2.5), big INTEGER CHECK (big <= 1152921504606846976),
		tiny REAL CHECK (tiny > 9.313225746154785e-10), tenth REAL CHECK (tenth <= 0.1),
		n INTEGER CHECK (n IN (1, 2, 3)), s TEXT CHECK (s IN ('a', 'é')) NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	d, err := sqlitestore.Reflect(db)
	if err != nil {
		t.Fatal(err)
	}
	pool := []any{nil, true, false, 0.0, -0.0, 1.0, -1.0, 2.0, 3.0, 0.5, 0.49999999999999994, 2.5, 2.4999999999999996,
		0.1, 0.1 + 1e-17, 0.30000000000000004, 9.313225746154785e-10, 9.313225746154786e-10, 1e300, -1e300,
		math.MaxFloat64, float64(1 << 53), float64(1<<53 + 2), float64(1 << 60), float64(1<<60 + 256), float64(1<<60 - 128), 10.0, 50.0, 51.0, 90.0, 91.0, 4999.0, 5000.0, 5001.0,
		-5.0, -6.0, 1000.0, 999.9999999999999, 12.5, 1e-300,
		int64(0), int64(1), int64(-1), int64(2), int64(3), int64(4), int64(10), int64(11), int64(50), int64(51), int64(90),
		int64(91), int64(-5), int64(-6), int64(5000), int64(5001), int64(1 << 53), int64(1<<53 + 1), int64(1 << 60),
		int64(1<<60 + 1), int64(math.MaxInt64), int64(math.MinInt64), int32(1),
		"", "a", "é", "x", "S", "XL", "XXL", "red", "bad", "TEE-001", "abcdefghijkl", "abcdefghijklm", "ééééééé",
		"2024-01-01", "2024-02-30", "2024-01-01T10:00:00Z", "2024-01-01 10:00:00", "not a date", "AAEC", "!!",
		"f47ac10b-58cc-4372-a567-0e02b2c3d479", "1", "1.5", strings.Repeat("y", 300), []any{1.0}, map[string]any{}}
	rng := rand.New(rand.NewPCG(1, 2))
	quick := 0
	for _, tbl := range d.Tables {
		v, err := compileValidator(tbl.Name, jsonBody(schema.JSONSchema(tbl)))
		if err != nil {
			t.Fatal(err)
		}
		if v.quick == nil {
			t.Logf("%s: no quick check", tbl.Name)
			continue
		}
		quick++
		passed := 0
		for i := 0; i < 4000; i++ {
			inst := map[string]any{}
			for _, c := range tbl.Columns {
				if rng.IntN(4) > 0 {
					inst[c.Name] = pool[rng.IntN(len(pool))]
				}
			}
			if rng.IntN(20) == 0 {
				inst["not_a_column"] = 1.0
			}
			if v.quick.valid(inst) {
				passed++
				if err := v.sch.Validate(inst); err != nil {
					t.Errorf("%s: quick check passed %v, the validator says %v", tbl.Name, inst, err)
				}
			}
		}
		// Each value alone, so every property meets every value.
		for _, c := range tbl.Columns {
			for _, val := range pool {
				inst := map[string]any{c.Name: val}
				for _, r := range v.sch.Required {
					if r != c.Name {
						inst[r] = okValue(t, v, r, pool)
					}
				}
				if v.quick.valid(inst) {
					passed++
					if err := v.sch.Validate(inst); err != nil {
						t.Errorf("%s.%s = %v: quick check passed, the validator says %v", tbl.Name, c.Name, val, err)
					}
				}
			}
		}
		if passed == 0 {
			t.Errorf("%s: the quick check never passed anything (it would cost without saving)", tbl.Name)
		}
	}
	if quick < len(d.Tables)/2 {
		t.Errorf("quick checks for %d of %d tables: the generated schemas use keywords it should know", quick, len(d.Tables))
	}
}

// okValue is a value of the pool the validator takes for property name alone.
func okValue(t *testing.T, v *validator, name string, pool []any) any {
	for _, val := range pool {
		if v.sch.Properties[name].Validate(val) == nil {
			return val
		}
	}
	return nil
}

// A keyword the quick check does not know turns it off for the table, or for
// the property that has it.
func TestQuickCheckOffForUnknownKeywords(t *testing.T) {
	for _, doc := range []string{
		`{"type": "object", "properties": {"a": {"type": "string", "pattern": "^x"}}, "additionalProperties": false}`,
		`{"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false, "minProperties": 1}`,
		`{"type": "object", "properties": {"a": {"type": "number", "multipleOf": 2}}, "additionalProperties": false}`,
		`{"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}]}}, "additionalProperties": false}`,
		`{"type": "object", "properties": {"a": {"type": "string"}}}`,
		`{"type": "object", "properties": {"a": {"type": "number", "minimum": 0.1}}, "additionalProperties": false}`,
		`{"type": "object", "properties": {"a": {"enum": [1, 2]}}, "additionalProperties": false}`,
		`{"type": "object", "properties": {"a": {"type": "integer", "enum": [1152921504606846976]}}, "additionalProperties": false}`,
		`{"type": "object", "properties": {"a": {"type": "number", "enum": [0.1]}}, "additionalProperties": false}`,
		`{"type": "object", "properties": {"a": {"type": "string", "format": "regex"}}, "additionalProperties": false}`,
	} {
		v, err := compileValidator("t", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if v.quick != nil && v.quick.valid(map[string]any{"a": "x"}) {
			t.Errorf("%s: the quick check judged a property it does not know", doc)
		}
	}
}
