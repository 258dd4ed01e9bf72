package ddl

import (
	"strconv"
	"strings"
	"testing"
)

var hostileNames = []string{
	"t", "a\"b", "[we]ird", "x y", "<script>alert(1)</script>", "🙂", "it's", "a`b", "check",
	"key", "value", "date", "", " ", "--", "/*", "*/", ")", "(", ",", "'", "\"", "]", "[", "`",
	"CHECK (x > 1)", "\x00", "é", "PRIMARY", "0x10", "1e5", "x'00'",
}

// quoteName writes name with one of SQLite's quotings, or bare when it can be.
func quoteName(name string, style uint8) string {
	switch style % 5 {
	case 1:
		if !strings.Contains(name, "]") {
			return "[" + name + "]"
		}
	case 2:
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	case 3:
		return "'" + strings.ReplaceAll(name, "'", "''") + "'"
	case 4:
		if bareOK(name) {
			return name
		}
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func bareOK(name string) bool {
	if name == "" || !isIDStart(name[0]) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isIDChar(name[i]) {
			return false
		}
	}
	switch strings.ToUpper(name) {
	case "CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "AS", "NOT", "NULL", "DEFAULT",
		"COLLATE", "REFERENCES", "GENERATED", "DEFERRABLE":
		return false
	}
	return true
}

var fuzzTypes = []string{"", "INTEGER", "TEXT", "VARCHAR(20)", "DECIMAL(10, 2)", "UNSIGNED BIG INT", "BLOB"}

func FuzzParseCreateTable(f *testing.F) {
	for i, tt := range parseTests {
		f.Add(tt.sql, hostileNames[i%len(hostileNames)], hostileNames[(i*7+3)%len(hostileNames)], uint8(i))
	}
	for i, s := range parseErrors {
		f.Add(s, "t", "c", uint8(i))
	}
	for i, n := range hostileNames {
		f.Add("", n, n, uint8(i*13))
	}
	f.Fuzz(func(t *testing.T, sql, tname, cname string, style uint8) {
		if tbl, err := ParseCreateTable(sql); err == nil && (tbl == nil || len(tbl.Columns) == 0) {
			t.Fatalf("ParseCreateTable(%q) returned no columns and no error", sql)
		}
		// Generated statement: the names must round-trip.
		typ := fuzzTypes[int(style/25)%len(fuzzTypes)]
		cq := quoteName(cname, style/5)
		stmt := "CREATE TABLE " + quoteName(tname, style) + " (" + cq + " " + typ +
			" NOT NULL CHECK (" + `"` + strings.ReplaceAll(cname, `"`, `""`) + `"` + " IN ('a', 'b''c', -1)), " +
			quoteName(tname, style+1) + " DEFAULT 'x', CHECK (length(" + cq + ") <= 5))"
		tbl, err := ParseCreateTable(stmt)
		if err != nil {
			t.Fatalf("ParseCreateTable(%q): %v", stmt, err)
		}
		if tbl.Name != tname || len(tbl.Columns) != 2 || tbl.Columns[0].Name != cname ||
			tbl.Columns[1].Name != tname || tbl.Columns[0].Type != typ || len(tbl.Checks) != 1 ||
			len(tbl.Columns[0].Checks) != 1 {
			t.Fatalf("ParseCreateTable(%q) = %+v", stmt, tbl)
		}
		cons := AnalyzeCheck(tbl.Columns[0].Checks[0])[cname]
		if len(cons.Enum) != 3 || cons.Enum[0] != "a" || cons.Enum[1] != "b'c" || cons.Enum[2] != int64(-1) {
			t.Fatalf("AnalyzeCheck(%q) enum = %#v", tbl.Columns[0].Checks[0], cons.Enum)
		}
		if strings.HasPrefix(cq, "'") {
			return // a string literal inside length() is not a column
		}
		if !strings.HasPrefix(cq, `"`) && !strings.HasPrefix(cq, "[") && !strings.HasPrefix(cq, "`") && nonNames[asciiLower(cname)] {
			return
		}
		if got := AnalyzeCheck(tbl.Checks[0])[cname]; got.MaxLength == nil || *got.MaxLength != 5 {
			t.Fatalf("AnalyzeCheck(%q) = %+v", tbl.Checks[0], got)
		}
	})
}

func FuzzAnalyzeCheck(f *testing.F) {
	for i, tt := range checkTests {
		f.Add(tt.expr, hostileNames[i%len(hostileNames)], int64(i-20))
	}
	f.Add("", "", int64(-9223372036854775808))
	f.Fuzz(func(t *testing.T, expr, s string, n int64) {
		for name, c := range AnalyzeCheck(expr) {
			for _, v := range c.Enum {
				switch v.(type) {
				case string, int64, float64:
				default:
					t.Fatalf("AnalyzeCheck(%q)[%q]: enum value %#v", expr, name, v)
				}
			}
			for _, v := range []any{c.Minimum, c.Maximum, c.ExclusiveMinimum, c.ExclusiveMaximum} {
				switch v.(type) {
				case nil, int64, float64:
				default:
					t.Fatalf("AnalyzeCheck(%q)[%q]: bound %#v", expr, name, v)
				}
			}
			if (c.MinLength != nil && *c.MinLength < 0) || (c.MaxLength != nil && *c.MaxLength < 0) {
				t.Fatalf("AnalyzeCheck(%q)[%q]: negative length", expr, name)
			}
		}
		// Literals round-trip.
		e := `"c" IN ('` + strings.ReplaceAll(s, "'", "''") + `', ` + strconv.FormatInt(n, 10) + `) AND c >= ` + strconv.FormatInt(n, 10)
		got := AnalyzeCheck(e)["c"]
		if len(got.Enum) != 2 || got.Enum[0] != s || got.Enum[1] != n || got.Minimum != n {
			t.Fatalf("AnalyzeCheck(%q) = %+v", e, got)
		}
	})
}
