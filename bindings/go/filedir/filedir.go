// Package filedir keeps the files of file columns (sqldb.Files) in one
// directory, for the Go hosts: the native engine asks it in-process, the
// wazero host answers the core's file requests with it (bindings/
// PROTOCOL.md, "Files"). Only keys sqldb.FileKeyOK accepts are used as
// names, and every access goes through an os.Root, so neither a key nor a
// symbolic link planted in the directory reaches a file outside it.
package filedir

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// Dir is a files directory; its zero value has none (every call fails).
// Embedded in a host's connection, it makes that connection sqldb.Files.
type Dir struct {
	mu   sync.Mutex
	path string
	root *os.Root // opened on first use: the directory is made then
}

// SetFilesDir names the directory (made, 0700, when first written).
func (d *Dir) SetFilesDir(path string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.root != nil {
		d.root.Close()
	}
	d.path, d.root = path, nil
}

// FilesDir is the directory's path ("" for none).
func (d *Dir) FilesDir() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.path
}

func (d *Dir) open(create bool) (*os.Root, error) {
	if d.root != nil {
		return d.root, nil
	}
	if d.path == "" {
		return nil, errors.New("no files directory: set files.dir in the config")
	}
	if create {
		if err := os.MkdirAll(d.path, 0o700); err != nil {
			return nil, err
		}
	}
	r, err := os.OpenRoot(d.path)
	if err != nil {
		return nil, err
	}
	d.root = r
	return r, nil
}

func checkKey(key string) error {
	if !sqldb.FileKeyOK(key) {
		return fmt.Errorf("not a file key: %q", key)
	}
	return nil
}

// PutFile writes the file whole or not at all: to a temporary name, synced,
// then renamed over the key.
func (d *Dir) PutFile(key string, data []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r, err := d.open(true)
	if err != nil {
		return err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := ".tmp-" + hex.EncodeToString(rnd[:])
	f, err := r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.Rename(tmp, key)
	}
	if err != nil {
		r.Remove(tmp)
	}
	return err
}

// GetFile reads a file; sqldb.ErrNoFile when there is none.
func (d *Dir) GetFile(key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r, err := d.open(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, sqldb.ErrNoFile
	}
	if err != nil {
		return nil, err
	}
	b, err := r.ReadFile(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, sqldb.ErrNoFile
	}
	return b, err
}

// DeleteFile removes a file; one already gone is no error.
func (d *Dir) DeleteFile(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r, err := d.open(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := r.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Default is where a server keeps file columns' files (README, "File
// columns"): the config's files.dir, relative to base (the config file's
// directory; "" for the working directory), else beside a SQLite database
// file, DB-files. A Postgres URL has no such place: "" (the core refuses
// file columns there without files.dir).
func Default(db string, config json.RawMessage, base string) string {
	var c struct {
		Files *struct {
			Dir string `json:"dir"`
		} `json:"files"`
	}
	if json.Unmarshal(config, &c) == nil && c.Files != nil && c.Files.Dir != "" {
		if filepath.IsAbs(c.Files.Dir) || base == "" {
			return c.Files.Dir
		}
		return filepath.Join(base, c.Files.Dir)
	}
	if db == "" || strings.Contains(db, "://") || strings.HasPrefix(db, "file:") || db == ":memory:" {
		return ""
	}
	return db + "-files"
}
