package engine

import (
	"encoding/base64"
	"encoding/hex"
	"github.com/nakedhtmx/nakedhtmx/core/digest"
	"github.com/nakedhtmx/nakedhtmx/core/entropy"
	"maps"
	"strconv"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// File columns (issue 18; config Column.File; README, "File columns"): the
// row holds a key, the host's files directory holds the bytes under it.
// Callers see and send the bytes as they do a BLOB column's (the column's
// Kind is Blob): a form's file input, base64 in JSON, {"$blob": ...} in
// answers, the bytes at the value's URL.
//
// A key is made once per write and never shared: 32 hex digits of a hash
// of a nonce, the column and the bytes, then the size and an ending for
// the sniffed type (sqldb.ParseFileKey), so a list shows size and type
// without opening a file. The nonce is random for a request, and the
// command's id when a command from the stream is applied, so every node
// of a cluster names the file alike.
//
// Files outlive nothing they should: a new file is written before the row
// that names it (no reader sees a key without its file), and is removed
// again when the write is undone; a file a write lets go (the row deleted,
// the value replaced or emptied) is removed after COMMIT, never before. A
// crash between the two leaves an unreferenced file, never a row without
// its file. Rows deleted outside the app (the sqlite3 shell, ON DELETE
// CASCADE) leave their files behind.

// fileWork is what a request did to the files directory, settled when its
// transaction ends (settleFiles).
type fileWork struct {
	put     []string // written by this transaction's writes
	drop    []string // let go by them: removed once they commit
	garbage []string // written by a write undone to its savepoint: removed either way
	seq     int      // files named so far (a batch names several)
	nonce   string   // the applied command's id; "" for a request
}

// markFileColumns makes the config's file columns what callers see of
// them (model.Column.File, Kind Blob) in vis, whose columns are copies.
// Only a text column can hold a key; the column's own bounds (a varchar's
// length, a CHECK) are the key's, not the bytes'.
func markFileColumns(vis *model.Database, cfg *Config, logf func(string, ...any)) {
	for _, t := range vis.Tables {
		tc := cfg.Table(t.Name)
		for _, col := range t.Columns {
			if !tc.Column(col.Name).File {
				continue
			}
			if col.Kind != model.String || col.PK > 0 || col.Generated || col.References != nil || t.View {
				logf("config: table %q column %q: a file column must be a text column of a table, not a key, a generated column or a reference: left as it is", t.Name, col.Name)
				continue
			}
			col.File, col.Kind, col.MaxLength, col.Check, col.Format, col.AlsoText = true, model.Blob, nil, model.Constraints{}, "", false
		}
	}
}

// fileStore is the host's files directory, or nil where it keeps none.
func (c *ctx) fileStore() sqldb.Files {
	f, _ := c.e.db.DB.(sqldb.Files)
	return f
}

// fileKey names the bytes of a new file for col.
func (c *ctx) fileKey(t *model.Table, col *model.Column, b []byte) string {
	nonce := c.files.nonce
	if nonce == "" {
		var r [16]byte
		entropy.Read(r[:])
		nonce = hex.EncodeToString(r[:])
		c.files.nonce = nonce
	}
	c.files.seq++
	h := digest.New()
	for _, s := range []string{nonce, strconv.Itoa(c.files.seq), t.Name, col.Name} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(b)
	_, ext := byteType(sniffType(b))
	return hex.EncodeToString(h.Sum(nil)[:16]) + "-" + strconv.Itoa(len(b)) + "." + ext
}

// storedKey is the key a file column's value names, if it is one.
func storedKey(col *model.Column, v any) (string, bool) {
	s, ok := v.(string)
	return s, ok && col.File && sqldb.FileKeyOK(s)
}

// storeFiles writes the new bytes values carries for t's file columns
// (base64, validated) to files, and answers values with their keys in
// their place (a copy: values may be a command's, which every node of a
// process applies); cur's files those values replace are let go. Inside
// the write's transaction: settleFiles removes what its end leaves
// unreferenced.
func (c *ctx) storeFiles(t *model.Table, values map[string]any, cur *row) (map[string]any, *outcome) {
	copied := false
	for _, col := range t.Columns {
		v, ok := values[col.Name]
		if !col.File || !ok {
			continue
		}
		if cur != nil {
			if old, ok := storedKey(col, cur.get(col)); ok {
				c.files.drop = append(c.files.drop, old)
			}
		}
		s, ok := v.(string)
		if !ok {
			continue // NULL: the value is emptied
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, failed(422, col.Name+": must be base64-encoded bytes")
		}
		fs := c.fileStore()
		if fs == nil {
			return nil, failed(500, "this host keeps no files, so "+col.Name+" cannot be written")
		}
		key := c.fileKey(t, col, b)
		if err := fs.PutFile(key, b); err != nil {
			return nil, failed(503, "the file for "+col.Name+" could not be kept: "+err.Error())
		}
		c.files.put = append(c.files.put, key)
		if !copied {
			values, copied = maps.Clone(values), true
		}
		values[col.Name] = key
	}
	return values, nil
}

// dropFiles lets go of every file r's file columns name (r is deleted).
func (c *ctx) dropFiles(r *row) {
	for _, col := range r.t.Columns {
		if key, ok := storedKey(col, r.get(col)); ok {
			c.files.drop = append(c.files.drop, key)
		}
	}
}

// fileMark is where a savepoint was: how many files were put and let go.
type fileMark struct{ put, drop int }

func (f *fileWork) mark() fileMark { return fileMark{len(f.put), len(f.drop)} }

// undoFiles is a write undone to its savepoint (m, taken there): what it
// wrote goes whatever the transaction does, what it let go stays.
func (c *ctx) undoFiles(m fileMark) {
	c.files.garbage = append(c.files.garbage, c.files.put[m.put:]...)
	c.files.put, c.files.drop = c.files.put[:m.put], c.files.drop[:m.drop]
}

// settleFiles removes what the transaction's end leaves unreferenced.
func (c *ctx) settleFiles(committed bool) {
	f := c.files
	c.files = fileWork{nonce: f.nonce, seq: f.seq}
	gone := f.garbage
	if committed {
		gone = append(gone, f.drop...)
	} else {
		gone = append(gone, f.put...)
	}
	fs := c.fileStore()
	if fs == nil {
		return
	}
	for _, key := range gone {
		if err := fs.DeleteFile(key); err != nil {
			c.e.logf("files: cannot remove %s: %v", key, err)
		}
	}
}
