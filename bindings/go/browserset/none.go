//go:build !browserset

package browserset

// Embedded is the set built into this binary: none without -tags
// browserset (go install, go run), so pages do not offer offline use.
func Embedded() (*Set, error) { return nil, nil }
