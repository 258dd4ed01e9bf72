//go:build linux || darwin

package sqlite

import (
	"path/filepath"
	"syscall"
)

// freeBytes is the space left for unprivileged writers on the file system
// that holds path.
func freeBytes(path string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
