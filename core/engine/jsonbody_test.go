package engine

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// sameBody: whatever protocol.DecodeObject reads, encoding/json reads the same, and the
// slow way would have accepted it.
func sameBody(t *testing.T, b []byte) (fast bool) {
	t.Helper()
	if !utf8.Valid(b) {
		return false // refused before either way runs
	}
	got, ok := protocol.DecodeObject(b)
	if !ok {
		return false
	}
	want, msg := slowObject(b)
	if msg != "" {
		t.Fatalf("%q: the fast way read %#v, the slow way refuses: %s", b, got, msg)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n fast %#v\n slow %#v", b, got, want)
	}
	return true
}

var bodyCases = []struct {
	body string
	fast bool // the bodies clients send go the fast way
}{
	{`{"name":"bench row","qty":7,"price":12.5,"note":"made by wrk"}`, true},
	{` {"a": -0.5e+10, "b": 0, "c": -12, "d": 1E3, "e": null, "f": true, "g": false} `, true},
	{`{"nested": {"x": [1, "two", {"y": []}], "x": {}}, "empty": {}, "arr": []}`, true},
	{`{"esc": "a\"b\\c\/d\b\f\n\r\t", "é": "ünïcode 🎉", "": ""}`, true},
	{`{"_dsid": "abc", "_version": "0123456789abcdef", "<script>": "x"}`, true},
	{`{}`, true},
	{"{\"ws\":\t\r\n1}\n", true},
	{`{"u": "\u00e9"}`, false},
	{`{"a": 1, "a": 2}`, false},
	{`{"a": 01}`, false},
	{`{"a": 1.}`, false},
	{`{"a": .5}`, false},
	{`{"a": -}`, false},
	{`{"a": +1}`, false},
	{`{"a": tru}`, false},
	{`{"a": truex}`, false},
	{`{"a": 1,}`, false},
	{`{"a" 1}`, false},
	{`{"a": [1,]}`, false},
	{`{"a": "ctl` + "\x01" + `"}`, false},
	{`{"a": "\x"}`, false},
	{`{"a": 1}}`, false},
	{`{"a": 1} {"b": 2}`, false},
	{`[1]`, false},
	{`"s"`, false},
	{``, false},
	{`{"deep": ` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}`, false},
}

func TestFastBodyMatchesEncodingJSON(t *testing.T) {
	for _, c := range bodyCases {
		if fast := sameBody(t, []byte(c.body)); fast != c.fast {
			t.Errorf("%q: fast way %v, want %v", c.body, fast, c.fast)
		}
	}
}

func FuzzBody(f *testing.F) {
	for _, c := range bodyCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, b []byte) { sameBody(t, b) })
}
