package engine

import (
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// Text is told by its first 8 KB: a long text is text, a character the cut
// splits does not make it bytes, and a NUL early makes it bytes.
func TestSniffLongText(t *testing.T) {
	for _, tc := range []struct {
		b    string
		want string
	}{
		{strings.Repeat("a", sniffText+100), "text/plain; charset=utf-8"},
		{strings.Repeat("a", sniffText-1) + "é" + strings.Repeat("b", 10), "text/plain; charset=utf-8"},
		{strings.Repeat("a", sniffText-2) + "€" + strings.Repeat("b", 10), "text/plain; charset=utf-8"},
		{strings.Repeat("a", sniffText-3) + "𝄞" + strings.Repeat("b", 10), "text/plain; charset=utf-8"},
		{"\x00" + strings.Repeat("a", sniffText), "application/octet-stream"},
		{strings.Repeat("a", 100) + "\xff" + strings.Repeat("a", sniffText), "application/octet-stream"},
		{"short é", "text/plain; charset=utf-8"},
		{"bad \xc3", "application/octet-stream"},
	} {
		if got := sniffType([]byte(tc.b)); got != tc.want {
			t.Errorf("%q...: %s, want %s", tc.b[:min(20, len(tc.b))], got, tc.want)
		}
	}
}

// The endings of file columns' keys are the ones the hosts accept
// (sqldb.FileExts), no more and no fewer.
func TestKeyEndingsAreTheHostsOnes(t *testing.T) {
	var exts []string
	for _, bt := range byteTypes {
		exts = append(exts, bt.ext)
	}
	if strings.Join(exts, ",") != strings.Join(sqldb.FileExts, ",") {
		t.Fatalf("engine %v, hosts %v", exts, sqldb.FileExts)
	}
}
