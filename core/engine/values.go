package engine

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/nakedhtmx/nakedhtmx/core/digest"
	"math"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/decimal"
	"github.com/nakedhtmx/nakedhtmx/core/jsonw"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

func newObj(kv ...any) *schema.Object {
	o := schema.NewObjectSize(len(kv)/2 + 2)
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// rowidName is the key a rowid table without a declared key is addressed by.
const rowidName = "rowid"

// selectList is the column list of a table's SELECTs: the rowid first for
// tables addressed by it, then every column in order.
func selectList(t *model.Table) string {
	var b strings.Builder
	if t.UsesRowKey() {
		b.WriteString(t.RowKey + ` AS "rowid"`)
	}
	for _, c := range t.Columns {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(sqldb.Ident(c.Name))
	}
	return b.String()
}

// row is one row read with selectList.
type row struct {
	t     *model.Table
	rowid any
	vals  []any // SQL values, one per t.Columns
	// js and ver: the object's JSON and the version, once made. A row is
	// not changed once read, and a write needs both more than once (its
	// answer, its change log entry, its version).
	js  []byte
	ver string
}

func readRows(t *model.Table, rs *sqldb.Rows) []*row {
	out := make([]*row, len(rs.Values))
	for i, v := range rs.Values {
		r := &row{t: t}
		if t.UsesRowKey() {
			r.rowid, v = v[0], v[1:]
		}
		r.vals = v
		out[i] = r
	}
	return out
}

// get returns a column's SQL value.
func (r *row) get(c *model.Column) any { return r.vals[c.Index] }

// jsonValue turns a SQL value into the JSON value the schema describes.
func jsonValue(c *model.Column, v any) any {
	switch x := v.(type) {
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case int64:
		if c.Kind == model.Boolean && (x == 0 || x == 1) {
			return x == 1
		}
	case float64:
		// JSON has no infinities: CONTRACT spells them as strings.
		if math.IsInf(x, 1) {
			return "Infinity"
		}
		if math.IsInf(x, -1) {
			return "-Infinity"
		}
		if math.IsNaN(x) {
			return nil
		}
	}
	return v
}

// infinity reads CONTRACT's spelling of an infinite float ("Infinity",
// "-Infinity"), taken only for columns that hold floats.
func infinity(c *model.Column, v any) (float64, bool) {
	s, ok := v.(string)
	if !ok || c == nil || c.Kind != model.Number {
		return 0, false
	}
	switch s {
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	return 0, false
}

// object is the row as the JSON API shows it, in column order.
func (r *row) object() *schema.Object {
	o := schema.NewObjectSize(len(r.t.Columns) + 1)
	if r.t.UsesRowKey() {
		o.Set(rowidName, r.rowid)
	}
	for _, c := range r.t.Columns {
		o.Set(c.Name, jsonValue(c, r.vals[c.Index]))
	}
	return o
}

// answerObject is the row as the JSON API answers it: object(), but bytes
// are described, never inlined (CONTRACT, "BLOB columns"). object() itself
// keeps them (base64) for what must hold the value: the change log, row
// versions, commands on the log.
func (c *ctx) answerObject(r *row) *schema.Object {
	o := r.object()
	for _, col := range r.t.Columns {
		if holdsBytes(col, r.vals[col.Index]) {
			o.Set(col.Name, c.answerValue(r, col))
		}
	}
	return o
}

// answerValue is one value of the row as the JSON API answers it.
func (c *ctx) answerValue(r *row, col *model.Column) any {
	v := r.vals[col.Index]
	if size, mime, ok := valueBytes(col, v); ok && col.PK == 0 {
		return c.blobRef(r, col, size, mime)
	}
	return jsonValue(col, v)
}

// blobRef is how the JSON API carries bytes (valueBytes): {"$blob":
// {"size", "type", "url"}}, the type sniffed as the download sniffs it, the
// url where they are downloaded (none for a row with no key to be found
// by). A key's own columns keep their bytes (base64): they name the row.
func (c *ctx) blobRef(r *row, col *model.Column, size int, mime string) *schema.Object {
	ref := schema.NewObject().Set("size", size).Set("type", mime)
	if r.found() {
		ref.Set("url", c.valueURL(r.t, r, col))
	}
	return newObj("$blob", ref)
}

// rowJSON is the row's answer and its version. The version is the hash of
// object(), so two values of one size and type still differ.
func (c *ctx) rowJSON(r *row) (schema.RawJSON, string) {
	b := r.objectJSON()
	version := r.version()
	for _, col := range r.t.Columns {
		if holdsBytes(col, r.vals[col.Index]) {
			return schema.RawJSON(jsonBody(c.answerObject(r))), version
		}
	}
	return schema.RawJSON(b), version
}

// sameBlobRef: v is the {"$blob": ...} an answer gave for the value cur
// holds in col, so a body that sends it back changes nothing.
func (c *ctx) sameBlobRef(cur *row, col *model.Column, v any) bool {
	if !isBlobRef(v) {
		return false
	}
	size, mime, ok := valueBytes(col, cur.get(col))
	return ok && sameJSON(v, c.blobRef(cur, col, size, mime))
}

// isBlobRef: v is an object a body sends with a "$blob" member.
func isBlobRef(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m["$blob"] != nil
}

// appendRowsJSON writes rows as a JSON array of their answerObject()s: the
// same bytes, without building the objects (a list answer spent a quarter
// of its time in them inside the wasm core).
func (c *ctx) appendRowsJSON(dst []byte, t *model.Table, rows []*row) ([]byte, error) {
	rowid := t.UsesRowKey()
	keys := make([][]byte, len(t.Columns)) // each `"name":`, written once per answer
	for i, col := range t.Columns {
		if rowid && col.Name == rowidName {
			return c.appendRowObjects(dst, rows) // a column shadows the key: let object() decide
		}
		keys[i] = append(jsonw.String(nil, col.Name, true), ':')
	}
	dst = append(dst, '[')
	var err error
	for i, r := range rows {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		if rowid {
			dst = append(dst, `"`+rowidName+`":`...)
			if dst, err = schema.AppendValue(dst, r.rowid); err != nil {
				return nil, err
			}
		}
		for j, col := range t.Columns {
			if j > 0 || rowid {
				dst = append(dst, ',')
			}
			dst = append(dst, keys[j]...)
			if dst, err = schema.AppendValue(dst, c.answerValue(r, col)); err != nil {
				return nil, err
			}
		}
		dst = append(dst, '}')
	}
	return append(dst, ']'), nil
}

func (c *ctx) appendRowObjects(dst []byte, rows []*row) ([]byte, error) {
	objs := make([]any, len(rows))
	for i, r := range rows {
		objs[i] = c.answerObject(r)
	}
	return schema.AppendValue(dst, objs)
}

// objectJSON is jsonBody(r.object()), made once.
func (r *row) objectJSON() []byte {
	if r.js == nil {
		b := jsonBody(r.object())
		r.js = b[:len(b):len(b)] // an append by a caller copies, never writes into the next one's bytes
	}
	return r.js
}

// version is a row's optimistic-concurrency token: a hash of its values.
func (r *row) version() string {
	if r.ver == "" {
		r.ver = versionOf(r.objectJSON())
	}
	return r.ver
}

// versionOf is the version of a row whose object is body.
func versionOf(body []byte) string {
	sum := digest.Sum256(body)
	return hex.EncodeToString(sum[:8])
}

// found reports whether the row has a key to be found by again: not a row
// written through a view without one, or with a key the write left NULL.
func (r *row) found() bool {
	if !r.t.Addressable() {
		return false
	}
	for _, k := range r.key() {
		if k == nil {
			return false
		}
	}
	return true
}

// key returns the row's primary key values in key order.
func (r *row) key() []any {
	if r.t.UsesRowKey() {
		return []any{r.rowid}
	}
	out := make([]any, len(r.t.PK))
	for i, c := range r.t.PK {
		out[i] = r.vals[c.Index]
	}
	return out
}

// pkObject is the key as CONTRACT.md's JSON "pk": {"Col": value}.
func (r *row) pkObject() *schema.Object {
	o := schema.NewObject()
	if r.t.UsesRowKey() {
		return o.Set(rowidName, r.rowid)
	}
	for _, c := range r.t.PK {
		o.Set(c.Name, jsonValue(c, r.vals[c.Index]))
	}
	return o
}

// pkPath is the key as one path segment: each value percent-encoded like
// encodeURIComponent, joined by a literal comma (README documents it).
func (r *row) pkPath() string {
	if r.t.UsesRowKey() {
		return EncodeComponent(sqldb.Text(r.rowid))
	}
	if len(r.t.PK) == 1 {
		return EncodeComponent(sqldb.Text(r.vals[r.t.PK[0].Index]))
	}
	return keyText(r.key())
}

// keyWhere is the WHERE clause that finds one row by key.
func keyWhere(t *model.Table) string {
	if t.UsesRowKey() {
		return t.RowKey + " = ?"
	}
	parts := make([]string, len(t.PK))
	for i, c := range t.PK {
		parts[i] = sqldb.Ident(c.Name) + " = ?"
	}
	return strings.Join(parts, " AND ")
}

var errBadKey = errors.New("malformed row key")

// parseKey reads a key path segment (still percent-encoded) into SQL values.
func parseKey(t *model.Table, raw string) ([]any, error) {
	if !t.Addressable() {
		return nil, errBadKey
	}
	var parts []string
	if len(t.PK) > 1 && !t.UsesRowKey() {
		parts = strings.Split(raw, ",")
		if len(parts) != len(t.PK) {
			return nil, errBadKey
		}
	} else {
		parts = []string{raw}
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		s, err := pathUnescape(p)
		if err != nil {
			return nil, errBadKey
		}
		if t.UsesRowKey() {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, errBadKey
			}
			out[i] = n
			continue
		}
		out[i] = keyValue(t.PK[i], s)
	}
	return out, nil
}

// keyValue converts a key's text to the column's type, so that an INTEGER key
// compares as a number even in a WITHOUT ROWID table.
func keyValue(c *model.Column, s string) any {
	switch c.Kind {
	case model.Integer, model.Boolean:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case model.Number:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	}
	return s
}

// fromJSON turns a decoded JSON body value (numbers as json.Number) into the
// instance value validated against the schema.
func fromJSON(c *model.Column, v any) any {
	if f, ok := infinity(c, v); ok {
		return f
	}
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	if c != nil && c.Kind == model.Integer {
		// Exact or refused: a whole number written with a fraction or an
		// exponent (2.0, 1e3) is taken, anything else (past 64 bits, or
		// 1.0000000000000000001, which a float64 would round to 1) stays
		// its text, which the validator refuses naming the field.
		if !strings.ContainsAny(string(n), ".eE") {
			return string(n)
		}
		if d, ok := decimal.Parse(string(n)); ok {
			if i, ok := d.Int64(); ok {
				return i
			}
		}
		return string(n)
	}
	f, err := n.Float64()
	if err != nil {
		return string(n) // out of range: kept, and the validator says why
	}
	return f
}

// fromForm turns a form field's text into an instance value for the column.
// Text that does not parse stays text, so the validator reports it against
// the field and the form shows it back as typed.
func fromForm(c *model.Column, s string, present bool) any {
	if !present {
		if c.Kind == model.Boolean {
			return false
		}
		return nil
	}
	if s == "" && c.Kind != model.String && c.Kind != model.Boolean {
		return nil
	}
	if s == "" && c.Nullable() && (c.Kind == model.String || c.Kind == model.Boolean) {
		return nil // the three-state select's empty choice, or an emptied box
	}
	switch c.Kind {
	case model.Integer:
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return n
		}
	case model.Number:
		if f, ok := infinity(c, s); ok {
			return f
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return int64(f)
			}
			return f
		}
	case model.Boolean:
		switch strings.ToLower(s) {
		case "1", "on", "true", "yes":
			return true
		case "0", "off", "false", "no", "":
			return false
		}
	case model.DateTime:
		// datetime-local inputs send 2024-01-02T10:30; store SQLite's own form.
		if len(s) >= 16 && s[10] == 'T' && !strings.ContainsAny(s[10:], "Z+") {
			out := s[:10] + " " + s[11:]
			if len(out) == 16 {
				out += ":00"
			}
			return out
		}
	}
	return s
}

// sqlValue turns a validated instance value into the value bound to SQL.
func sqlValue(c *model.Column, v any) any {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case string:
		if c.Kind == model.Blob && !c.File { // a file column's value is its key (storeFiles)
			if b, err := base64.StdEncoding.DecodeString(x); err == nil {
				return b
			}
		}
		return x
	case int:
		return int64(x)
	case float64:
		if c.Kind == model.Integer && x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
			return int64(x)
		}
	}
	return v
}

// EncodeComponent escapes like JavaScript's encodeURIComponent, the encoding
// every link and key path uses, so that clients can build the same URLs.
func EncodeComponent(s string) string {
	const hexdig = "0123456789ABCDEF"
	i := 0
	for i < len(s) && componentSafe[s[i]] {
		i++
	}
	if i == len(s) {
		return s // names and keys mostly need no escaping: no copy
	}
	b := make([]byte, i, len(s)+16)
	copy(b, s[:i])
	for ; i < len(s); i++ {
		if ch := s[i]; componentSafe[ch] {
			b = append(b, ch)
		} else {
			b = append(b, '%', hexdig[ch>>4], hexdig[ch&15])
		}
	}
	return string(b)
}

// componentSafe: the bytes encodeURIComponent leaves as they are.
var componentSafe = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", byte(c)) >= 0
	}
	return t
}()

func pathUnescape(s string) (string, error) {
	// url.PathUnescape, but '+' stays '+' (it is, in a path).
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errBadKey
		}
		n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", errBadKey
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), nil
}
