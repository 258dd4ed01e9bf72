package sqldb

import "errors"

// Files is a DB whose host keeps the bytes of file columns (config
// Column.File; issue 18) in a directory of its own, by key: the native Go
// host in-process, the wasm core through the `sql` import (bindings/
// PROTOCOL.md, "Files"). Keys are the core's, always FileKeyOK: a host
// refuses any other, so no key can name a path outside its directory.
type Files interface {
	PutFile(key string, data []byte) error
	// GetFile answers ErrNoFile when the directory has no such file.
	GetFile(key string) ([]byte, error)
	// DeleteFile is done when the file is already gone.
	DeleteFile(key string) error
}

// ErrNoFile: the files directory holds no file by that key.
var ErrNoFile = errors.New("no such file")

// FileExts are the endings a key may have, one per type the core sniffs.
var FileExts = []string{"png", "jpg", "gif", "webp", "pdf", "zip", "gz", "sqlite", "txt", "bin"}

// FileKeyOK says whether key is one the core makes: 32 lower-case hex
// digits, '-', the size in decimal, '.', one of FileExts. Nothing else, no
// path separator and no dot-dot, can pass.
func FileKeyOK(key string) bool {
	_, ext, ok := ParseFileKey(key)
	return ok && ext != ""
}

// ParseFileKey reads a key's size and ending; ok is false for any text
// that is not a key FileKeyOK accepts.
func ParseFileKey(key string) (size int64, ext string, ok bool) {
	if len(key) < 36 || key[32] != '-' {
		return 0, "", false
	}
	for i := 0; i < 32; i++ {
		if c := key[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return 0, "", false
		}
	}
	i := 33
	for ; i < len(key) && key[i] >= '0' && key[i] <= '9'; i++ {
		if i-33 >= 15 || size == 0 && i > 33 { // at most 15 digits, no leading zero
			return 0, "", false
		}
		size = size*10 + int64(key[i]-'0')
	}
	if i == 33 || i >= len(key) || key[i] != '.' {
		return 0, "", false
	}
	for _, e := range FileExts {
		if key[i+1:] == e {
			return size, e, true
		}
	}
	return 0, "", false
}
