package engine

import (
	"strings"
	"testing"
)

func TestJSONTextProblem(t *testing.T) {
	for _, tc := range []struct {
		body, want string // want: a part of the problem, "" for none
	}{
		{`{"a": "plain", "b": 1}`, ""},
		{`{"a": "\ud83d\ude00 pair"}`, ""},
		{`{"a": "\\ud800 is an escaped backslash"}`, ""},
		{`{"a": "\"\\\"", "b": "\u00e9"}`, ""},
		{`{"a": {"x": 1, "x": 2}}`, ""}, // nested names never reach a column
		{`{"a": "\ud800"}`, "surrogate"},
		{`{"a": "\ud800x"}`, "surrogate"},
		{`{"a": "\ud800\u0041"}`, "surrogate"},
		{`{"a": "\udc00\ud83d\ude00"}`, "surrogate"},
		{`{"a": "ok", "b": "\\\ud800"}`, "surrogate"},
		{`{"a\ud800": 1}`, "surrogate"},
		{`{"a": 1, "a": 2}`, `"a" twice`},
		{`{"a": 1, "b": [1, {"a": 3}], "b": 2}`, `"b" twice`},
	} {
		got := jsonTextProblem([]byte(tc.body))
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.body, got, tc.want)
		}
	}
}
