package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/nakedhtmx/nakedhtmx/core/jsonw"
)

// The SQL messages cross the seam several times per request, and inside the
// wasm core encoding/json is the most expensive thing on that path: it walks
// the structs by reflection and calls Value's (Un)MarshalJSON once per cell,
// re-scanning each. These hand-written codecs do the same job in one pass.
// They accept and produce exactly what PROTOCOL.md describes; the tests check
// them against encoding/json on generated and fuzzed messages.

// SQLAnswer is a decoded SQLResult with plain Go values (nil, int64,
// float64, string, []byte): what sqldb.Rows wants, without the Value wrappers.
type SQLAnswer struct {
	Columns         []string
	Rows            [][]any
	Changes         int64
	LastInsertRowid int64
	Error           string
	Code            string
}

// AppendSQLRequest appends the JSON of an SQLRequest; the same bytes (up to
// encoding/json's escaping of <, > and &) as json.Marshal(SQLRequest{...}).
func AppendSQLRequest(dst []byte, sql string, params []any, script bool) ([]byte, error) {
	dst = append(dst, `{"sql":`...)
	dst = appendString(dst, sql)
	if len(params) > 0 {
		dst = append(dst, `,"params":[`...)
		for i, p := range params {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValue(dst, p); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	}
	if script {
		dst = append(dst, `,"script":true`...)
	}
	return append(dst, '}'), nil
}

// AppendSQLResult appends the JSON of an SQLResult, as json.Marshal would.
func AppendSQLResult(dst []byte, r *SQLResult) ([]byte, error) {
	dst = append(dst, '{')
	if len(r.Columns) > 0 {
		dst = append(dst, `"columns":[`...)
		for i, c := range r.Columns {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, c)
		}
		dst = append(dst, "],"...)
	}
	if len(r.Rows) > 0 {
		dst = append(dst, `"rows":[`...)
		for i, row := range r.Rows {
			if i > 0 {
				dst = append(dst, ',')
			}
			if row == nil {
				dst = append(dst, "null"...)
				continue
			}
			dst = append(dst, '[')
			for j, v := range row {
				if j > 0 {
					dst = append(dst, ',')
				}
				var err error
				if dst, err = appendValue(dst, v.V); err != nil {
					return nil, err
				}
			}
			dst = append(dst, ']')
		}
		dst = append(dst, "],"...)
	}
	dst = append(dst, `"changes":`...)
	dst = strconv.AppendInt(dst, r.Changes, 10)
	dst = append(dst, `,"lastInsertRowid":`...)
	dst = strconv.AppendInt(dst, r.LastInsertRowid, 10)
	if r.Error != "" {
		dst = append(dst, `,"error":`...)
		dst = appendString(dst, r.Error)
	}
	if r.Code != "" {
		dst = append(dst, `,"code":`...)
		dst = appendString(dst, r.Code)
	}
	return append(dst, '}'), nil
}

// AppendValue writes one SQL value as Value.MarshalJSON does (a REAL
// always with a point or an exponent, so it reads back a REAL).
func AppendValue(dst []byte, v any) ([]byte, error) { return appendValue(dst, v) }

// appendValue writes one SQL value as Value.MarshalJSON does.
func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float64:
		// JSON has no infinities, which SQLite holds (1e999): a tagged form,
		// as for blobs. NaN SQLite turns into NULL itself.
		if math.IsInf(x, 1) {
			return append(dst, `{"$real":"Infinity"}`...), nil
		}
		if math.IsInf(x, -1) {
			return append(dst, `{"$real":"-Infinity"}`...), nil
		}
		if math.IsNaN(x) {
			return append(dst, "null"...), nil
		}
		start := len(dst)
		dst = strconv.AppendFloat(dst, x, 'g', -1, 64)
		for _, c := range dst[start:] {
			if c == '.' || c == 'e' || c == 'E' {
				return dst, nil
			}
		}
		return append(dst, ".0"...), nil // an integral REAL stays REAL
	case string:
		return appendString(dst, x), nil
	case []byte:
		dst = append(dst, `{"$blob":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, `"}`...), nil
	default:
		return nil, fmt.Errorf("protocol: unsupported SQL value %T", v)
	}
}

// appendString writes a JSON string as encoding/json does, without its HTML
// escaping (nothing here goes into a page).
func appendString(dst []byte, s string) []byte { return jsonw.String(dst, s, false) }

// DecodeSQLResult parses an SQLResult. Anything the fast scanner does not
// expect goes through encoding/json instead, so errors (and any input the
// scanner would get wrong) read exactly as they always did.
func DecodeSQLResult(b []byte) (SQLAnswer, error) { return decodeSQLResult(b, false) }

// DecodeSQLResultShared is DecodeSQLResult for a buffer the caller gives up:
// the answer's strings share b's memory instead of copying it, and its
// values are boxed in a few blocks instead of one allocation each. b must
// never be written again. Inside the wasm core every SQL answer arrives in a
// fresh buffer, and there these copies were a third of decoding a page.
func DecodeSQLResultShared(b []byte) (SQLAnswer, error) { return decodeSQLResult(b, true) }

func decodeSQLResult(b []byte, shared bool) (SQLAnswer, error) {
	d := decoder{b: b, shared: shared}
	if len(b) > 0 && b[0] == BinaryMessage {
		return d.binary()
	}
	a, err := d.result()
	if err == nil {
		return a, nil
	}
	var res SQLResult
	if jerr := json.Unmarshal(b, &res); jerr != nil {
		return SQLAnswer{}, jerr
	}
	return answerOf(&res), nil
}

// answerOf is an SQLResult with its values unwrapped.
func answerOf(res *SQLResult) SQLAnswer {
	a := SQLAnswer{Columns: res.Columns, Changes: res.Changes, LastInsertRowid: res.LastInsertRowid, Error: res.Error, Code: res.Code}
	if res.Rows != nil {
		a.Rows = make([][]any, len(res.Rows))
		for i, r := range res.Rows {
			a.Rows[i] = Unwrap(r)
		}
	}
	return a
}

var errSlow = errors.New("protocol: not for the fast path")

type decoder struct {
	b      []byte
	i      int
	shared bool // strings may alias b, values are boxed from slabs (DecodeSQLResultShared)
	slabs  slabs
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *decoder) expect(c byte) error {
	if d.peek() != c {
		return errSlow
	}
	d.i++
	return nil
}

func (d *decoder) result() (SQLAnswer, error) {
	var a SQLAnswer
	err := d.object(func(key string) (bit int, err error) {
		switch key {
		case "columns":
			a.Columns, err = d.columns()
			return 1, err
		case "rows":
			a.Rows, err = d.rows()
			return 2, err
		case "changes":
			a.Changes, err = d.int()
			return 4, err
		case "lastInsertRowid":
			a.LastInsertRowid, err = d.int()
			return 8, err
		case "error":
			a.Error, err = d.strOrNull()
			return 16, err
		case "code":
			a.Code, err = d.strOrNull()
			return 32, err
		}
		return 0, errSlow // an unknown member: let encoding/json skip it
	})
	if err != nil {
		return a, err
	}
	return a, d.end()
}

// object reads one JSON object, handing each member's name to member, which
// reads the value and answers the member's bit: a bit seen twice is errSlow
// (encoding/json's rules for a repeated member, last wins and merged arrays,
// are not worth copying); bit 0 is never checked.
func (d *decoder) object(member func(key string) (bit int, err error)) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	seen := 0
	for {
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		bit, err := member(key)
		if err != nil {
			return err
		}
		if seen&bit != 0 {
			return errSlow
		}
		seen |= bit
		if d.peek() != ',' {
			return d.expect('}')
		}
		d.i++
	}
}

// end checks that only white space is left.
func (d *decoder) end() error {
	if d.ws(); d.i != len(d.b) {
		return errSlow
	}
	return nil
}

func (d *decoder) null() bool {
	if d.peek() == 'n' && d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

func (d *decoder) columns() ([]string, error) {
	if d.null() {
		return nil, nil
	}
	return array(d, d.str)
}

// array reads a JSON array, each element with elem.
func array[T any](d *decoder, elem func() (T, error)) ([]T, error) {
	if err := d.expect('['); err != nil {
		return nil, err
	}
	out := []T{}
	if d.peek() == ']' {
		d.i++
		return out, nil
	}
	for {
		v, err := elem()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if d.peek() == ',' {
			d.i++
			continue
		}
		return out, d.expect(']')
	}
}

func (d *decoder) rows() ([][]any, error) {
	if d.null() {
		return nil, nil
	}
	if err := d.expect('['); err != nil {
		return nil, err
	}
	out := [][]any{}
	if d.peek() == ']' {
		d.i++
		return out, nil
	}
	width := 0
	for {
		row := []any{} // a null row reads as an empty one, as Unwrap(nil) does
		if !d.null() {
			if err := d.expect('['); err != nil {
				return nil, err
			}
			row = make([]any, 0, width)
			if d.peek() == ']' {
				d.i++
			} else {
				for {
					v, err := d.value()
					if err != nil {
						return nil, err
					}
					row = append(row, v)
					if d.peek() == ',' {
						d.i++
						continue
					}
					if err := d.expect(']'); err != nil {
						return nil, err
					}
					break
				}
			}
			width = len(row)
		}
		out = append(out, row)
		if d.peek() == ',' {
			d.i++
			continue
		}
		return out, d.expect(']')
	}
}

// value decodes one SQL value as Value.UnmarshalJSON does.
func (d *decoder) value() (any, error) {
	switch c := d.peek(); {
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return d.stringValue(s), nil
	case c == 'n':
		if d.null() {
			return nil, nil
		}
		return nil, errSlow
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	default:
		return nil, errSlow // blobs, booleans: rare, and encoding/json knows them
	}
}

// numberEnd finds where a JSON number ends and whether it is written as an
// integer; ok is false when it breaks the grammar.
func (d *decoder) numberEnd() (end int, integral, ok bool) {
	j := d.i
	if j < len(d.b) && d.b[j] == '-' {
		j++
	}
	switch {
	case j < len(d.b) && d.b[j] == '0':
		j++
	case j < len(d.b) && d.b[j] >= '1' && d.b[j] <= '9':
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			j++
		}
	default:
		return j, false, false
	}
	frac := false
	if j < len(d.b) && d.b[j] == '.' {
		frac = true
		j++
		k := j
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			j++
		}
		if j == k {
			return j, false, false
		}
	}
	if j < len(d.b) && (d.b[j] == 'e' || d.b[j] == 'E') {
		frac = true
		j++
		if j < len(d.b) && (d.b[j] == '+' || d.b[j] == '-') {
			j++
		}
		k := j
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			j++
		}
		if j == k {
			return j, false, false
		}
	}
	return j, !frac, true
}

func (d *decoder) number() (any, error) {
	end, integral, ok := d.numberEnd()
	if !ok {
		return nil, errSlow
	}
	if integral {
		if n, ok := parseInt(d.b[d.i:end]); ok {
			d.i = end
			return d.intValue(n), nil
		}
	}
	// ParseFloat keeps its input only in the error, which is dropped.
	f, err := strconv.ParseFloat(unsafe.String(&d.b[d.i], end-d.i), 64)
	if err != nil {
		return nil, errSlow
	}
	d.i = end
	return f, nil
}

func (d *decoder) int() (int64, error) {
	end, integral, ok := d.numberEnd()
	if !ok || !integral {
		return 0, errSlow
	}
	n, ok := parseInt(d.b[d.i:end])
	if !ok {
		return 0, errSlow
	}
	d.i = end
	return n, nil
}

// parseInt reads an integer numberEnd has checked; ok is false when it does
// not fit an int64 (it is then a REAL, as strconv.ParseInt's range error
// makes it).
func parseInt(b []byte) (int64, bool) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		u = u*10 + uint64(c-'0') // at most 19 digits: no uint64 overflow
	}
	switch {
	case neg && u <= 1<<63:
		return -int64(u), true // -(1<<63) wraps to itself, which is right
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

func (d *decoder) strOrNull() (string, error) {
	if d.null() {
		return "", nil
	}
	return d.str()
}

// str decodes a JSON string as encoding/json does: invalid UTF-8 and lone
// surrogates become U+FFFD.
func (d *decoder) str() (string, error) {
	if d.peek() != '"' {
		return "", errSlow
	}
	d.i++
	start := d.i
	// The common case: no escapes, valid UTF-8; one allocation for the string.
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c == '"' {
			s := d.b[start:d.i]
			d.i++
			if utf8.Valid(s) {
				if d.shared && len(s) > 0 {
					return unsafe.String(&s[0], len(s)), nil
				}
				return string(s), nil
			}
			return string([]rune(string(s))), nil // each invalid byte becomes U+FFFD, as encoding/json does
		}
		if c == '\\' || c < 0x20 {
			break
		}
		d.i++
	}
	if d.i >= len(d.b) || d.b[d.i] < 0x20 {
		return "", errSlow
	}
	out := append([]byte(nil), d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if utf8.Valid(out) {
				return string(out), nil
			}
			return string([]rune(string(out))), nil
		case c < 0x20:
			return "", errSlow
		case c != '\\':
			out = append(out, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			return "", errSlow
		}
		e := d.b[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", errSlow
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
					save := d.i
					d.i += 2
					if x, ok := d.hex4(); ok {
						r2 = x
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						continue
					}
					d.i = save
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", errSlow
		}
	}
	return "", errSlow
}

func (d *decoder) hex4() (rune, bool) {
	if d.i+4 > len(d.b) {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.i += 4
	return r, true
}

// slabs boxes decoded values into interfaces without one allocation per
// value: `any(s)` copies s's header to the heap, so the headers (and the
// integers) are laid out in blocks and each interface points into its block.
// This is what the runtime's own boxing does, one value at a time. A block
// stays alive while any interface into it does; boxed values never change.
type slabs struct {
	strs   []string
	ints   []int64
	floats []float64
}

// nextSlab sizes the next block: small for the one-value answers most
// statements get, doubling up to a few kilobytes for pages of rows.
func nextSlab(prev int) int { return min(max(2*prev, 16), 512) }

// eface is the layout of an empty interface: its type, and a pointer to the value.
type eface struct {
	typ, data unsafe.Pointer
}

var (
	stringType  = typeOf("")
	int64Type   = typeOf(int64(0))
	float64Type = typeOf(float64(0))
)

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

func box(typ, data unsafe.Pointer) (v any) {
	*(*eface)(unsafe.Pointer(&v)) = eface{typ: typ, data: data}
	return v
}

// boxed lays v out in its slab and answers an interface pointing at it.
func boxed[T any](slab *[]T, typ unsafe.Pointer, v T) any {
	if len(*slab) == cap(*slab) {
		*slab = make([]T, 0, nextSlab(cap(*slab)))
	}
	*slab = append(*slab, v)
	return box(typ, unsafe.Pointer(&(*slab)[len(*slab)-1]))
}

// stringValue, intValue and floatValue are the decoder's values as
// interfaces: boxed from the slabs when the decoder may share, as any(v)
// otherwise.
func (d *decoder) stringValue(v string) any {
	if !d.shared {
		return v
	}
	return boxed(&d.slabs.strs, stringType, v)
}

func (d *decoder) intValue(v int64) any {
	if !d.shared {
		return v
	}
	return boxed(&d.slabs.ints, int64Type, v)
}

func (d *decoder) floatValue(v float64) any {
	if !d.shared {
		return v
	}
	return boxed(&d.slabs.floats, float64Type, v)
}

// DecodeValues is json.Unmarshal of a JSON array of SQL values (a change
// log key) followed by Unwrap: by hand for the usual numbers and text, through
// encoding/json for the rest. A write's tick reads its key back, and through
// encoding/json that was a thirtieth of a create in the wasm core.
func DecodeValues(b []byte) ([]any, error) {
	d := decoder{b: b}
	if vals, err := array(&d, d.value); err == nil {
		if err = d.end(); err == nil {
			return vals, nil
		}
	}
	var vals []Value
	if err := json.Unmarshal(b, &vals); err != nil {
		return nil, err
	}
	return Unwrap(vals), nil
}

// objectDepth bounds nesting on DecodeObject's way; deeper text goes
// encoding/json's (whose own limit is 10,000).
const objectDepth = 64

// DecodeObject reads b, one JSON object, as a json.Decoder with UseNumber
// reads it (json.Number for numbers, []any and map[string]any inside, the
// last of a repeated inner name), for the text clients usually send. ok is
// false for anything else: a \u escape (half a surrogate pair must be
// refused, not made U+FFFD), a top-level name twice (refused too), text after
// the object, nesting past objectDepth. The caller then asks encoding/json,
// which also words the error.
func DecodeObject(b []byte) (obj map[string]any, ok bool) {
	if bytes.Contains(b, []byte(`\u`)) {
		return nil, false
	}
	d := decoder{b: b}
	if d.peek() != '{' {
		return nil, false
	}
	m, err := d.anyObject(0, true)
	if err != nil || d.end() != nil {
		return nil, false
	}
	return m, true
}

// anyObject reads an object of any values; top: a repeated name is errSlow.
func (d *decoder) anyObject(depth int, top bool) (map[string]any, error) {
	m := map[string]any{}
	err := d.object(func(key string) (int, error) {
		if _, dup := m[key]; dup && top {
			return 0, errSlow
		}
		v, err := d.anyValue(depth)
		m[key] = v
		return 0, err
	})
	return m, err
}

func (d *decoder) anyValue(depth int) (any, error) {
	switch c := d.peek(); {
	case c == '"':
		return d.str()
	case c == '{' && depth < objectDepth:
		return d.anyObject(depth+1, false)
	case c == '[' && depth < objectDepth:
		return array(d, func() (any, error) { return d.anyValue(depth + 1) })
	case c == '-' || c >= '0' && c <= '9':
		end, _, ok := d.numberEnd()
		if !ok {
			return nil, errSlow
		}
		n := json.Number(d.b[d.i:end])
		d.i = end
		return n, nil
	case c == 't' || c == 'f':
		return d.bool()
	case c == 'n' && d.null():
		return nil, nil
	}
	return nil, errSlow
}
