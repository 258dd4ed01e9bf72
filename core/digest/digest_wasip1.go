//go:build wasip1

package digest

import "hash"

// Sum256 is the SHA-256 sum of b.
func Sum256(b []byte) [Size]byte { return plainSum256(b) }

// New is a streaming SHA-256.
func New() hash.Hash { return &plainHash{newPlain()} }

// Equal says whether a and b are equal, in time that depends on their
// lengths only.
func Equal(a, b []byte) bool { return plainEqual(a, b) }

type plainHash struct{ *plain }

func (h *plainHash) Sum(b []byte) []byte { s := h.sum(); return append(b, s[:]...) }
func (h *plainHash) Reset()              { h.plain = newPlain() }
func (h *plainHash) Size() int           { return Size }
func (h *plainHash) BlockSize() int      { return 64 }
