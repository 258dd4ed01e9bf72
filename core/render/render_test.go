package render

import (
	"bytes"
	"html/template"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// The vendored htmx files must be the pinned npm package's, byte for byte:
// package.json is the one place the htmx version is chosen.
func TestVendoredHTMXMatchesNPM(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dist := filepath.Join(root, "node_modules", "htmx.org", "dist")
	if _, err := os.Stat(dist); err != nil {
		t.Skip("node_modules/htmx.org is not installed (run make build)")
	}
	for asset, npm := range map[string]string{"htmx.min.js": "htmx.min.js", "hx-sse.js": "ext/hx-sse.min.js"} {
		want, err := os.ReadFile(filepath.Join(dist, npm))
		if err != nil {
			t.Fatal(err)
		}
		if a := GetAsset(asset); a == nil || !bytes.Equal(a.Body, want) {
			t.Errorf("core/render/assets/%s differs from node_modules/htmx.org/dist/%s: copy it again", asset, npm)
		}
	}
}

func TestAssetURLCarriesHash(t *testing.T) {
	u := AssetURL("/admin", "style.css")
	if a := GetAsset("style.css"); a == nil || u != "/admin/assets/style.css?v="+a.Hash {
		t.Errorf("AssetURL = %q", u)
	}
	if u := AssetURL("", "missing.js"); u != "/assets/missing.js" {
		t.Errorf("AssetURL(missing) = %q", u)
	}
}

func TestTruncate(t *testing.T) {
	if s, cut := Truncate("héllo wörld", 5); s != "héllo…" || !cut {
		t.Errorf("Truncate = %q %v", s, cut)
	}
	if s, cut := Truncate("short", 10); s != "short" || cut {
		t.Errorf("Truncate = %q %v", s, cut)
	}
}

// Every context a page puts a value in, as html/template escaped it when the
// pages were its templates, and as the writer does now.
var escapeContexts = template.Must(template.New("").Parse(`<p title="{{.}}">{{.}}</p><title>{{.}}</title>` +
	`<textarea>{{.}}</textarea><a href="{{.}}" hx-get="{{.}}">x</a><script src="{{.}}"></script><form action="{{.}}"></form>`))

func writeContexts(s string) []byte {
	w := newWriter(0)
	w.raw(`<p title="`)
	w.text(s)
	w.raw(`">`)
	w.text(s)
	w.raw(`</p><title>`)
	w.text(s)
	w.raw(`</title><textarea>`)
	w.text(s)
	w.raw(`</textarea><a href="`)
	w.url(s)
	w.raw(`" hx-get="`)
	w.text(s)
	w.raw(`">x</a><script src="`)
	w.url(s)
	w.raw(`"></script><form action="`)
	w.url(s)
	w.raw(`"></form>`)
	return w.b
}

var escapeSeeds = []string{"", "plain", `<b>"q" & 'a'</b>`, "a+b", "\x00nul", "é ü 日本", "\xff\xfe bad UTF-8",
	"\ufdd0\uffff", "&#43;", "/t/a b?x=1&y=2+3#f", "/t/%41%zz%4", "%", "x%4", "%%41", "javascript:alert(1)",
	"JaVaScRiPt:x", " javascript:x", "data:,x", "vbscript:x", "http://h/p", "HTTPS://h", "mailto:a@b", "/a:b", "a/b:c",
	":x", "?q=a:b", "#f:x", "//evil.example", "`~!@#$^*()_=[]{}|\\;:,.<>?", "\r\n\t\u2028"}

func TestEscapersMatchHTMLTemplate(t *testing.T) {
	for _, s := range escapeSeeds {
		checkEscape(t, s)
	}
}

func FuzzEscapers(f *testing.F) {
	for _, s := range escapeSeeds {
		f.Add(s)
	}
	f.Fuzz(checkEscape)
}

func checkEscape(t *testing.T, s string) {
	var want bytes.Buffer
	if err := escapeContexts.Execute(&want, s); err != nil {
		t.Fatal(err)
	}
	if got := writeContexts(s); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("%q:\n got  %s\n want %s", s, got, want.Bytes())
	}
}
