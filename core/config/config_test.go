package config

import (
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
