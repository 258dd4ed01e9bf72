package engine

import (
	"mime"
	"testing"
)

// The fast path of parseMediaType answers exactly as mime.ParseMediaType.
func TestParseMediaTypeAsMime(t *testing.T) {
	for _, v := range []string{"application/json", "text/csv", "Application/JSON", "application/json; charset=utf-8",
		"text/csv;header=present", "", "/", "a/", "/b", "a/b/c", "application/vnd.api+json", "multipart/form-data; boundary=x",
		"text/plain ", " text/plain", "ä/b", "a b/c", "x-é/y", "application/x-ndjson"} {
		mt, params, err := parseMediaType(v)
		wmt, wparams, werr := mime.ParseMediaType(v)
		if mt != wmt || (err == nil) != (werr == nil) || len(params) != len(wparams) {
			t.Errorf("%q: %q %v %v, want %q %v %v", v, mt, params, err, wmt, wparams, werr)
		}
	}
}
