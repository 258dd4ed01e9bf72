package engine

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// A value's bytes (issue 18; CONTRACT, "BLOB columns"): GET
// /api/tables/T/rows/KEY/COL answers one column's value as it is stored,
// with a content type sniffed from the bytes. Only the images a browser
// shows as pictures (PNG, JPEG, GIF, WebP) are served inline; everything
// else, text and SVG and HTML included, is an attachment under a policy
// that runs nothing, so an uploaded page can never run as the app.

// blobPolicy is the Content-Security-Policy of a value's bytes: nothing
// may load or run, and the document is sandboxed (an opaque origin).
const blobPolicy = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"

// sniffType names what the bytes are by their first bytes alone (never by
// a name or a type a client sent). Text is text/plain, whatever markup it
// holds.
func sniffType(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif"
	case len(b) >= 12 && bytes.HasPrefix(b, []byte("RIFF")) && string(b[8:12]) == "WEBP":
		return "image/webp"
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "application/pdf"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "application/zip"
	case bytes.HasPrefix(b, []byte("\x1f\x8b")):
		return "application/gzip"
	case bytes.HasPrefix(b, []byte("SQLite format 3\x00")):
		return "application/vnd.sqlite3"
	case len(b) > 0 && looksLikeText(b):
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// sniffText is how much of the bytes decides whether they are text: lists
// and JSON answers name every value they show, and a megabyte each would
// be read whole.
const sniffText = 8 << 10

// looksLikeText: the first sniffText bytes are UTF-8 (a character cut at
// their end aside) without control characters but tab and line ends.
func looksLikeText(b []byte) bool {
	if len(b) > sniffText {
		b = b[:sniffText]
		// Drop a character the cut split: the last one that starts within
		// a character's length of the end, when it does not end there.
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	return utf8.Valid(b) && !hasControl(b)
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return true
		}
	}
	return false
}

// inlineImage: bytes a browser shows as a picture, never as a document.
func inlineImage(mime string) bool {
	switch mime {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

// byteTypes are the types sniffType names: how a list or form names each,
// and the ending of a download's file name and of a file column's key
// (sqldb.FileExts, which the hosts check keys against, lists the same).
var byteTypes = []struct{ mime, label, ext string }{
	{"image/png", "PNG image", "png"}, {"image/jpeg", "JPEG image", "jpg"}, {"image/gif", "GIF image", "gif"},
	{"image/webp", "WebP image", "webp"}, {"application/pdf", "PDF", "pdf"}, {"application/zip", "ZIP archive", "zip"},
	{"application/gzip", "gzip data", "gz"}, {"application/vnd.sqlite3", "SQLite database", "sqlite"},
	{"text/plain; charset=utf-8", "text", "txt"}, {"application/octet-stream", "", "bin"},
}

// byteType is the entry of a sniffed type (application/octet-stream's for
// any other).
func byteType(mime string) (label, ext string) {
	for _, bt := range byteTypes {
		if bt.mime == mime {
			return bt.label, bt.ext
		}
	}
	return "", "bin"
}

// blobKind is how a list or form names the bytes: "PNG image, 3,172 bytes".
func blobKind(b []byte) string { return bytesLabel(len(b), sniffType(b)) }

// bytesLabel is blobKind by size and type.
func bytesLabel(size int, mime string) string {
	if label, _ := byteType(mime); label != "" {
		return label + ", " + blobText(size)
	}
	return blobText(size)
}

// valueBytes says what a value is when it is bytes: a BLOB's (sniffed), or
// the stored file a file column's key names (by its key).
func valueBytes(col *model.Column, v any) (size int, mime string, ok bool) {
	if b, isBytes := v.([]byte); isBytes {
		return len(b), sniffType(b), true
	}
	if key, isKey := storedKey(col, v); isKey {
		n, ext, _ := sqldb.ParseFileKey(key)
		for _, bt := range byteTypes {
			if bt.ext == ext {
				return int(n), bt.mime, true
			}
		}
	}
	return 0, "", false
}

// holdsBytes: valueBytes would describe v (without sniffing it).
func holdsBytes(col *model.Column, v any) bool {
	_, isBytes := v.([]byte)
	_, isKey := storedKey(col, v)
	return isBytes || isKey
}

// blobExt is the file name ending of a download of a sniffed type ("" for
// bytes of no type it knows).
func blobExt(mime string) string {
	if _, ext := byteType(mime); ext != "bin" {
		return "." + ext
	}
	return ""
}

// valueURL is where a row's column value is downloaded.
func (c *ctx) valueURL(t *model.Table, r *row, col *model.Column) string {
	return c.e.opts.BasePath + "/api/tables/" + EncodeComponent(t.Name) + "/rows/" + r.pkPath() + "/" + EncodeComponent(col.Name)
}

// valueRoute answers GET /api/tables/{table}/rows/{key}/{name}: the
// column's value as stored (bytes, or text as UTF-8).
func (c *ctx) valueRoute(t *model.Table, segs, raw []string) *protocol.Response {
	if !c.get() {
		return c.methodNotAllowed("GET")
	}
	key, err := parseKey(t, raw[4])
	if err != nil {
		return c.fail(404, "no such row")
	}
	col := t.Column(segs[5]) // t is the visible table: a hidden column is no column
	if col == nil {
		return c.fail(404, "no such column: "+segs[5])
	}
	r, err := c.readRow(t, key)
	if err != nil {
		return c.failOutcome(c.dbFailure(err))
	}
	if r == nil {
		return c.fail(404, "no such row")
	}
	v := r.get(col)
	var body []byte
	fileKey, isFile := storedKey(col, v)
	switch x := v.(type) {
	case nil:
		return c.fail(404, "this value is empty (NULL)")
	case []byte:
		body = x
	case string:
		if !isFile {
			body = []byte(x)
			break
		}
		fs := c.fileStore()
		if fs == nil {
			return c.fail(500, "this host keeps no files")
		}
		b, err := fs.GetFile(fileKey)
		if errors.Is(err, sqldb.ErrNoFile) {
			return c.fail(404, "the file of this value is missing from the files directory")
		}
		if err != nil {
			return c.fail(503, "the file of this value cannot be read: "+err.Error())
		}
		body = b
	default:
		body = []byte(csvText(jsonValue(col, x))) // as the CSV export writes it
	}
	mime := sniffType(body)
	name := safeFileName(t.Name+"-"+keyText(key)+"-"+col.Name, "value")
	disposition := `attachment; filename="` + name + blobExt(mime) + `"`
	if inlineImage(mime) {
		disposition = `inline; filename="` + name + blobExt(mime) + `"`
	}
	res := response(200, mime, body, [2]string{"content-disposition", disposition}, [2]string{"cache-control", "no-store"},
		[2]string{"content-length", strconv.Itoa(len(body))})
	// Its own policy (secure adds the app's only where an answer has none).
	res.Headers = append(res.Headers, [2]string{"content-security-policy", blobPolicy}, [2]string{"x-content-type-options", "nosniff"},
		[2]string{"referrer-policy", "same-origin"}, [2]string{"x-frame-options", "DENY"}, [2]string{"cross-origin-resource-policy", "same-origin"})
	return res
}
