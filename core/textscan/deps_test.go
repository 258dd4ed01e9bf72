package textscan

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// regexp stays out of core.wasm: what replaced it here is worth about
// 115 KB of the 2 MiB gzipped budget, and one import anywhere in the core
// would bring all of it back.
func TestRegexpNotInCore(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "../cmd/wasm")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v: %s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "regexp" || strings.HasPrefix(p, "regexp/") {
			t.Fatalf("core.wasm links %s again: use core/textscan (or a hand-written matcher) instead", p)
		}
	}
}
