package engine

import (
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// Strings cut from the arena must keep their bytes while later ones are cut
// after them, across blocks and collections.
func TestArena(t *testing.T) {
	var a arena
	type pair struct{ got, want string }
	var kept []pair
	for i := range 5000 {
		parts := []string{"/t/", strings.Repeat("é", i%7), "/r/", sqldb.Text(int64(i))}
		if i%500 == 0 {
			parts = append(parts, strings.Repeat("x", 3*arenaBlock)) // too big to share a block
		}
		kept = append(kept, pair{a.concat(parts...), strings.Join(parts, "")})
		for _, v := range []any{int64(i), int64(-i), int64(math.MinInt64), 2.5, "s", nil} {
			kept = append(kept, pair{a.text(v), sqldb.Text(v)})
		}
		if i%1000 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	for _, p := range kept {
		if p.got != p.want {
			t.Fatalf("got %q, want %q", p.got, p.want)
		}
	}
	if a.concat() != "" || a.concat("", "") != "" {
		t.Error("an empty concat is not empty")
	}
}
