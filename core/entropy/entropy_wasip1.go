//go:build wasip1

package entropy

import (
	"errors"
	"unsafe"
)

//go:wasmimport wasi_snapshot_preview1 random_get
//go:noescape
func randomGet(buf unsafe.Pointer, len uint32) uint32

// Read fills b with random bytes.
func Read(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if errno := randomGet(unsafe.Pointer(&b[0]), uint32(len(b))); errno != 0 {
		return errors.New("entropy: random_get failed")
	}
	return nil
}
