// Package render turns page models into HTML and serves the static assets
// the pages load: htmx 4 and its SSE extension (vendored byte for byte from
// the pinned htmx.org npm package; a test checks them against node_modules),
// our stylesheet and a small script.
//
// The pages are plain Go functions (pages.go) that escape every value the way
// html/template did, by context (escape.go): see there why it is not used.
package render

import (
	"embed"
	"encoding/hex"
	"github.com/nakedhtmx/nakedhtmx/core/digest"
	"path"
	"strings"
	"unicode/utf8"
)

//go:embed assets
var assetFS embed.FS

// Asset is one static file.
type Asset struct {
	Body        []byte
	ContentType string
	Hash        string // content hash, used as a cache-busting query
}

var assets = map[string]*Asset{}

func init() {
	// embed.FS's own ReadDir (sorted already): fs.ReadDir would link a
	// generic sort for the file systems that do not sort.
	entries, err := assetFS.ReadDir("assets")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, _ := assetFS.ReadFile("assets/" + e.Name())
		sum := digest.Sum256(b)
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

// Truncate shortens text for a table cell.
func Truncate(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n { // counts as []rune(s) does, without the copy
		return s, false
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n])) + "…", true
}
