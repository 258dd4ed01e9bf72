//go:build !wasip1

package digest

import (
	"crypto/sha256"
	"crypto/subtle"
	"hash"
)

// Sum256 is the SHA-256 sum of b.
func Sum256(b []byte) [Size]byte { return sha256.Sum256(b) }

// New is a streaming SHA-256.
func New() hash.Hash { return sha256.New() }

// Equal says whether a and b are equal, in time that depends on their
// lengths only.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
