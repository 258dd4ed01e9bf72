package engine

import (
	"strconv"
	"strings"
	"unsafe"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// arena cuts the many short strings a page is built from (links, titles,
// numbers as text) out of shared blocks: one allocation per block instead of
// one per string. In the wasm core every allocation costs several times
// what it costs natively, and a list page made a thousand of them. Bytes
// once handed out are never written again, so the strings stay immutable;
// a block lives as long as any string cut from it.
type arena struct{ block []byte }

const arenaBlock = 4096

// room makes space for n more bytes; false when n is too big to share a block.
func (a *arena) room(n int) bool {
	if cap(a.block)-len(a.block) >= n {
		return true
	}
	if n > arenaBlock/8 {
		return false
	}
	a.block = make([]byte, 0, arenaBlock)
	return true
}

// cut returns the bytes appended since start as a string.
func (a *arena) cut(start int) string {
	if len(a.block) == start {
		return ""
	}
	return unsafe.String(&a.block[start], len(a.block)-start)
}

// concat is strings.Join(parts, "").
func (a *arena) concat(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if !a.room(n) {
		return strings.Join(parts, "")
	}
	start := len(a.block)
	for _, p := range parts {
		a.block = append(a.block, p...)
	}
	return a.cut(start)
}

// text is sqldb.Text, with integers written into the arena.
func (a *arena) text(v any) string {
	if n, ok := v.(int64); ok && a.room(20) {
		start := len(a.block)
		a.block = strconv.AppendInt(a.block, n, 10)
		return a.cut(start)
	}
	return sqldb.Text(v)
}
