//go:build browserset

package browserset

import (
	"embed"
	"io/fs"
)

// The set as make build copied it here (set/ is not tracked: it is built).
//
//go:embed set
var embedded embed.FS

// Embedded is the set built into this binary.
func Embedded() (*Set, error) {
	sub, err := fs.Sub(embedded, "set")
	if err != nil {
		return nil, err
	}
	return Load(sub)
}
