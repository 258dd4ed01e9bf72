package config

import (
	"testing"
)

func TestSetQuery(t *testing.T) {
	q := &Query{Title: "Big <sales>", SQL: "SELECT a FROM t WHERE a > :min", Params: map[string]string{"min": "5"}}
	small := &Query{SQL: "SELECT 1"}
	tests := []struct {
		name, in string
		set      string
		q        *Query
		want     string
	}{
		{"no file", "", "big", small, "{\n  \"queries\": {\n    \"big\": {\n      \"sql\": \"SELECT 1\"\n    }\n  }\n}\n"},
		{"null file", "null", "big", small, "{\n  \"queries\": {\n    \"big\": {\n      \"sql\": \"SELECT 1\"\n    }\n  }\n}\n"},
		{"empty object", "{}", "big", small, "{\n  \"queries\": {\n    \"big\": {\n      \"sql\": \"SELECT 1\"\n    }\n  }\n}"},
		{"tabs, other members kept byte for byte",
			"{\n\t\"title\":   \"Shop\" ,\n\t\"tables\": {\"a\": {}}\n}\n", "big", q,
			"{\n\t\"title\":   \"Shop\" ,\n\t\"tables\": {\"a\": {}},\n\t\"queries\": {\n\t\t\"big\": {\n\t\t\t\"title\": \"Big <sales>\",\n\t\t\t\"sql\": \"SELECT a FROM t WHERE a > :min\",\n\t\t\t\"params\": {\n\t\t\t\t\"min\": \"5\"\n\t\t\t}\n\t\t}\n\t}\n}\n"},
		{"one line stays one line", `{"title":"Shop"}`, "big", small, `{"title":"Shop","queries": {"big": {"sql":"SELECT 1"}}}`},
		{"added after the others",
			"{\n  \"queries\": {\n    \"a\": {\"sql\": \"SELECT 2\"}\n  }\n}", "b", small,
			"{\n  \"queries\": {\n    \"a\": {\"sql\": \"SELECT 2\"},\n    \"b\": {\n      \"sql\": \"SELECT 1\"\n    }\n  }\n}"},
		{"replaced in place",
			"{\n  \"queries\": {\n    \"a\": {\"sql\": \"SELECT 2\"},\n    \"b\": {\"sql\": \"SELECT 3\"}\n  },\n  \"title\": \"x\"\n}", "a", small,
			"{\n  \"queries\": {\n    \"a\": {\n      \"sql\": \"SELECT 1\"\n    },\n    \"b\": {\"sql\": \"SELECT 3\"}\n  },\n  \"title\": \"x\"\n}"},
		{"null queries", "{\n  \"queries\": null\n}", "a", small,
			"{\n  \"queries\": {\n    \"a\": {\n      \"sql\": \"SELECT 1\"\n    }\n  }\n}"},
		{"CRLF", "{\r\n  \"title\": \"x\"\r\n}\r\n", "a", small,
			"{\r\n  \"title\": \"x\",\r\n  \"queries\": {\r\n    \"a\": {\r\n      \"sql\": \"SELECT 1\"\r\n    }\r\n  }\r\n}\r\n"},
		{"a name that needs escaping", `{}`, "a\"b", small, "{\n  \"queries\": {\n    \"a\\\"b\": {\n      \"sql\": \"SELECT 1\"\n    }\n  }\n}"},
		{"remove the first", "{\"queries\": {\"a\": {\"sql\": \"1\"}, \"b\": {\"sql\": \"2\"}}}", "a", nil, "{\"queries\": {\"b\": {\"sql\": \"2\"}}}"},
		{"remove the last", "{\"queries\": {\"a\": {\"sql\": \"1\"}, \"b\": {\"sql\": \"2\"}}}", "b", nil, "{\"queries\": {\"a\": {\"sql\": \"1\"}}}"},
		{"remove the only one", "{\"queries\": {\n  \"a\": {\"sql\": \"1\"}\n}}", "a", nil, "{\"queries\": {}}"},
		{"remove what is not there", "{\"title\": \"x\"}", "a", nil, "{\"title\": \"x\"}"},
		{"strings with braces", "{\"title\": \"{[\\\"}\", \"queries\": {\"a\": {\"sql\": \"SELECT '}'\"}}}", "a", nil, "{\"title\": \"{[\\\"}\", \"queries\": {}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SetQuery([]byte(tt.in), tt.set, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tt.want)
			}
			c, err := Parse(got)
			if err != nil {
				t.Fatalf("the edit does not parse: %v", err)
			}
			if (c.Queries[tt.set] != nil) != (tt.q != nil) || tt.q != nil && c.Queries[tt.set].SQL != tt.q.SQL {
				t.Fatalf("query %q after the edit: %+v", tt.set, c.Queries[tt.set])
			}
		})
	}
}

func TestSetQueryRefuses(t *testing.T) {
	for _, in := range []string{
		`[1]`,
		`{"queries": {"a": {"sql": "1"}, "a": {"sql": "2"}}}`,
		`{"queries": 1, "queries": {}}`,
		`{"title": }`,
		`{"queries": [1]}`,
	} {
		if got, err := SetQuery([]byte(in), "a", &Query{SQL: "SELECT 1"}); err == nil {
			t.Errorf("%s: edited into %s, want a refusal", in, got)
		}
	}
}

func TestSetAt(t *testing.T) {
	rules := map[string]string{"list": "owner = @user.id", "delete": "false"}
	for _, tc := range []struct{ in, want string }{
		{"", "{\n  \"tables\": {\n    \"notes\": {\n      \"rules\": {\n        \"delete\": \"false\",\n        \"list\": \"owner = @user.id\"\n      }\n    }\n  }\n}\n"},
		{"{\"title\": \"x\"}", "{\"title\": \"x\",\"tables\": {\"notes\":{\"rules\":{\"delete\":\"false\",\"list\":\"owner = @user.id\"}}}}"},
		{"{\n\t\"tables\": {\n\t\t\"notes\": {\"label\": \"N\"},\n\t\t\"b\": {}\n\t}\n}\n",
			"{\n\t\"tables\": {\n\t\t\"notes\": {\"label\": \"N\",\"rules\": {\"delete\":\"false\",\"list\":\"owner = @user.id\"}},\n\t\t\"b\": {}\n\t}\n}\n"},
		{"{\n  \"tables\": {\n    \"notes\": {\n      \"rules\": {\"list\": \"old\"},\n      \"label\": \"N\"\n    }\n  }\n}\n",
			"{\n  \"tables\": {\n    \"notes\": {\n      \"rules\": {\n        \"delete\": \"false\",\n        \"list\": \"owner = @user.id\"\n      },\n      \"label\": \"N\"\n    }\n  }\n}\n"},
	} {
		got, err := SetAt([]byte(tc.in), []string{"tables", "notes", "rules"}, rules)
		if err != nil || string(got) != tc.want {
			t.Errorf("%q:\n got %q %v\nwant %q", tc.in, got, err, tc.want)
		}
		if _, err := Parse(got); err != nil {
			t.Errorf("%q: the result does not parse: %v", tc.in, err)
		}
	}
	// nil takes the member out; a missing path stays as it is.
	in := "{\n  \"tables\": {\n    \"notes\": {\n      \"label\": \"N\",\n      \"rules\": {\"list\": \"x\"}\n    }\n  }\n}\n"
	got, err := SetAt([]byte(in), []string{"tables", "notes", "rules"}, nil)
	if err != nil || string(got) != "{\n  \"tables\": {\n    \"notes\": {\n      \"label\": \"N\"\n    }\n  }\n}\n" {
		t.Errorf("remove: %q %v", got, err)
	}
	if got, _ := SetAt([]byte(in), []string{"tables", "other", "rules"}, nil); string(got) != in {
		t.Errorf("remove what is not there: %q", got)
	}
}
