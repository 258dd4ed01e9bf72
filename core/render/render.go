// Package render turns page models into HTML with html/template (every value
// escaped by context) and serves the static assets the pages load: htmx 4
// and its SSE extension (vendored byte for byte from the pinned htmx.org npm
// package; a test checks them against node_modules), our stylesheet and a
// small script.
package render

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"path"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Asset is one static file.
type Asset struct {
	Body        []byte
	ContentType string
	Hash        string // content hash, used as a cache-busting query
}

var assets = map[string]*Asset{}

var tmpl *template.Template

func init() {
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, _ := assetFS.ReadFile("assets/" + e.Name())
		sum := sha256.Sum256(b)
		ct := "application/octet-stream"
		switch path.Ext(e.Name()) {
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		case ".LICENSE", ".txt":
			ct = "text/plain; charset=utf-8"
		}
		assets[e.Name()] = &Asset{Body: b, ContentType: ct, Hash: hex.EncodeToString(sum[:6])}
	}
	tmpl = template.Must(template.New("").Funcs(template.FuncMap{
		"add": func(a, b int) int { return a + b },
	}).ParseFS(templateFS, "templates/*.html"))
}

// GetAsset returns an asset by file name.
func GetAsset(name string) *Asset { return assets[name] }

// AssetURL is the URL of an asset under base, with its hash.
func AssetURL(base, name string) string {
	a := assets[name]
	if a == nil {
		return base + "/assets/" + name
	}
	return base + "/assets/" + name + "?v=" + a.Hash
}

// Page renders a named template.
func Page(name string, data any) []byte {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		panic("render " + name + ": " + err.Error()) // templates are ours: a failure is a bug
	}
	return b.Bytes()
}

// Truncate shortens text for a table cell.
func Truncate(s string, n int) (string, bool) {
	if len([]rune(s)) <= n {
		return s, false
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n])) + "…", true
}
