package render

import (
	"bytes"
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
