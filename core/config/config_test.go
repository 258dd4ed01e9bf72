package config

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, err string
	}{
		{``, ""}, {`null`, ""}, {`{}`, ""},
		{`{"pageSize": 20, "tables": {"a": {"label": "A", "columns": {"x": {"widget": "textarea"}}}}}`, ""},
		{`{"pagesize": 20}`, "unknown field"},
		{`{"tables": {"a": {"columns": {"x": {"widget": "slider"}}}}}`, "unknown widget"},
		{`{"pageSize": 5000}`, "pageSize"},
		{`{"tables": {"a": {"allow": ["insert", "delete"]}}}`, ""},
		{`{"tables": {"a": {"allow": []}}}`, ""},
		{`{"tables": {"a": {"allow": ["drop"]}}}`, `unknown write "drop"`},
		{`{"tables": {"a": {"allow": "insert"}}}`, "config"},
		{`{"tables": {"a": null}}`, "null"},
		{`[`, "config"},
	} {
		c, err := Parse([]byte(tc.in))
		if tc.err == "" && (err != nil || c == nil) {
			t.Errorf("Parse(%s): %v", tc.in, err)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Parse(%s) = %v, want an error with %q", tc.in, err, tc.err)
		}
	}
	c, _ := Parse([]byte(`{"pageSize": 20, "tables": {"a": {"pageSize": 5}}}`))
	if c.PageSizeFor("a") != 5 || c.PageSizeFor("b") != 20 || (&Config{}).PageSizeFor("a") != 50 {
		t.Error("PageSizeFor")
	}
}

func TestAllows(t *testing.T) {
	for _, tc := range []struct {
		table                  Table
		insert, update, delete bool
	}{
		{Table{}, true, true, true},
		{Table{ReadOnly: true}, false, false, false},
		{Table{Allow: []string{}}, false, false, false},
		{Table{Allow: []string{"insert"}}, true, false, false},
		{Table{Allow: []string{"update", "delete"}}, false, true, true},
		{Table{ReadOnly: true, Allow: []string{"insert"}}, false, false, false},
	} {
		got := []bool{tc.table.Allows("insert"), tc.table.Allows("update"), tc.table.Allows("delete")}
		if want := []bool{tc.insert, tc.update, tc.delete}; !slices.Equal(got, want) {
			t.Errorf("%+v: insert, update, delete = %v, want %v", tc.table, got, want)
		}
	}
}
