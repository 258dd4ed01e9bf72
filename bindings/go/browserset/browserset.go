// Package browserset serves the browser set (PROTOCOL.md, "Offline"): the
// offline service worker, the modules it imports, core.wasm and sqlite-wasm,
// as scripts/browser-set.mjs assembled them (dist/browser/, with its
// manifest.json). Both Go hosts serve it at BASE/offline/NAME through
// httphost: the wazero host from the directory beside its core.wasm, the
// native host from its own binary when built with -tags browserset (make
// build copies the set into set/ for that; see embedded.go).
package browserset

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// Set is the browser set, known at start by its manifest alone; each file
// is read (and hashed for its ETag) when first asked for, then kept: a
// host's start does not wait for 10 MB it may never serve.
type Set struct {
	Version string
	fsys    fs.FS
	names   map[string]bool
	mu      sync.Mutex
	files   map[string]*file
}

type file struct {
	body  []byte
	ctype string
	etag  string
}

type manifest struct {
	Version string   `json:"version"`
	Files   []string `json:"files"`
}

// Load reads a set's manifest from fsys (manifest.json names every file).
func Load(fsys fs.FS) (*Set, error) {
	b, err := fs.ReadFile(fsys, "manifest.json")
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil || m.Version == "" {
		return nil, fmt.Errorf("browser set: manifest.json is not one (%v)", err)
	}
	s := &Set{Version: m.Version, fsys: fsys, names: map[string]bool{}, files: map[string]*file{}}
	for _, name := range m.Files {
		if !fs.ValidPath(name) || strings.Contains(name, "/") {
			return nil, fmt.Errorf("browser set: %q is not a file name", name)
		}
		s.names[name] = true
	}
	if !s.names["sw.js"] {
		return nil, fmt.Errorf("browser set: no sw.js")
	}
	return s, nil
}

// file reads a file of the set the first time it is asked for.
func (s *Set) file(name string) (*file, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.files[name]; f != nil {
		return f, nil
	}
	body, err := fs.ReadFile(s.fsys, name)
	if err != nil {
		return nil, fmt.Errorf("browser set: %w (make build makes it)", err)
	}
	sum := sha256.Sum256(body)
	f := &file{body: body, ctype: contentType(name), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	s.files[name] = f
	return f, nil
}

// Beside loads the set that sits beside a core.wasm (DIR/browser for
// DIR/core.wasm), as make build leaves it; nil when there is none.
func Beside(wasmPath string) (*Set, error) {
	dir := filepath.Join(filepath.Dir(wasmPath), "browser")
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		return nil, nil
	}
	return Load(os.DirFS(dir))
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".wasm":
		return "application/wasm"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// Serve answers GET and HEAD of /offline/NAME (path as the core sees it,
// base path removed) when NAME is one of the set's files, and says whether
// it did; anything else is the core's to answer. base is the app's base
// path: the worker may control every page under it.
func (s *Set) Serve(w http.ResponseWriter, r *http.Request, p, base string) bool {
	if s == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	name, ok := strings.CutPrefix(p, "/offline/")
	if !ok {
		return false
	}
	if !s.names[name] {
		return false
	}
	f, err := s.file(name)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	// Asked again every time: the worker's own cache is what keeps a
	// version, and a new sw.js must reach the browser at once.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	if name == "sw.js" {
		h.Set("Service-Worker-Allowed", base+"/")
	}
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	h.Set("Content-Length", fmt.Sprint(len(f.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(f.body)
	}
	return true
}
