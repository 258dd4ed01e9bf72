package mediatype

import (
	"maps"
	"mime"
	"testing"
)

// Every case answers as mime.ParseMediaType does: the same type, the same
// parameters, an error where it has one.
var cases = []struct {
	in     string
	typ    string
	params map[string]string
	err    bool
}{
	{"application/json", "application/json", map[string]string{}, false},
	{"Application/JSON; Charset=UTF-8", "application/json", map[string]string{"charset": "UTF-8"}, false},
	{"text/csv;header=present", "text/csv", map[string]string{"header": "present"}, false},
	{" text/plain ; a = b ; c=\"d e\"", "text/plain", map[string]string{"a": "b", "c": "d e"}, false},
	{"multipart/form-data; boundary=----x", "multipart/form-data", map[string]string{"boundary": "----x"}, false},
	{`form-data; name="f"; filename="a \"b\".txt"`, "form-data", map[string]string{"name": "f", "filename": `a "b".txt`}, false},
	{`form-data; name="f"; filename="C:\dev\go\x.txt"`, "form-data", map[string]string{"name": "f", "filename": `C:\dev\go\x.txt`}, false},
	{`attachment; filename*=UTF-8''%e2%82%ac%20rates.txt`, "attachment", map[string]string{"filename": "€ rates.txt"}, false},
	{`attachment; filename*=iso-8859-1''x.txt`, "attachment", map[string]string{}, false},
	{`attachment; filename*0="a"; filename*1="b"; filename*2*=%41`, "attachment", map[string]string{"filename": "abA"}, false},
	{`attachment; filename*0*=us-ascii'en'%41; filename*1=b`, "attachment", map[string]string{"filename": "Ab"}, false},
	{`attachment; filename="plain"; filename*=UTF-8''star`, "attachment", map[string]string{"filename": "star"}, false},
	{`attachment; filename*1="no first"`, "attachment", map[string]string{}, false},
	{`attachment; filename*=UTF-8''bad%zz`, "attachment", map[string]string{}, false},
	{"text/plain;", "text/plain", map[string]string{}, false},
	{"text/plain; a=1; a=1", "text/plain", map[string]string{"a": "1"}, false},
	{"text/plain; a=1; a=2", "", nil, true},
	{"text/plain; a", "text/plain", nil, true},
	{`text/plain; a="open`, "text/plain", nil, true},
	{"text/plain; a=\"x\ny\"", "text/plain", nil, true},
	{"text/plain; =b", "text/plain", nil, true},
	{"", "", nil, true},
	{"/", "", nil, true},
	{"a/", "", nil, true},
	{"/b", "", nil, true},
	{"a/b/c", "", nil, true},
	{"a b/c", "", nil, true},
	{"ä/b", "", nil, true},
	{"token", "token", map[string]string{}, false},
	{"\u212a/b", "k/b", map[string]string{}, false}, // the Kelvin sign lowers to k, as strings.ToLower has it
	{"text/plain;\u00a0a=b", "text/plain", map[string]string{"a": "b"}, false},
}

func TestParse(t *testing.T) {
	for _, c := range cases {
		typ, params, err := Parse(c.in)
		if typ != c.typ || !maps.Equal(params, c.params) || (err != nil) != c.err {
			t.Errorf("%q: %q %v %v, want %q %v error %v", c.in, typ, params, err, c.typ, c.params, c.err)
		}
		wt, wp, werr := mime.ParseMediaType(c.in)
		if typ != wt || !maps.Equal(params, wp) || (err != nil) != (werr != nil) {
			t.Errorf("%q: %q %v %v, mime says %q %v %v", c.in, typ, params, err, wt, wp, werr)
		}
	}
}

// FuzzParseAsMime holds Parse to mime.ParseMediaType on any input.
func FuzzParseAsMime(f *testing.F) {
	for _, c := range cases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		typ, params, err := Parse(in)
		wt, wp, werr := mime.ParseMediaType(in)
		if typ != wt || !maps.Equal(params, wp) || (err != nil) != (werr != nil) {
			t.Fatalf("%q: %q %v %v, mime says %q %v %v", in, typ, params, err, wt, wp, werr)
		}
	})
}
