package protocol

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

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

// appendValue writes one SQL value as Value.MarshalJSON does.
func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
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
func DecodeSQLResult(b []byte) (SQLAnswer, error) {
	d := decoder{b: b}
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
	b []byte
	i int
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
	if err := d.expect('{'); err != nil {
		return a, err
	}
	seen := 0
	if d.peek() == '}' {
		d.i++
	} else {
		for {
			key, err := d.str()
			if err != nil {
				return a, err
			}
			if err := d.expect(':'); err != nil {
				return a, err
			}
			// A repeated member: encoding/json's rules (last wins, merged
			// arrays) are not worth copying here.
			bit := 0
			switch key {
			case "columns":
				bit = 1
				a.Columns, err = d.columns()
			case "rows":
				bit = 2
				a.Rows, err = d.rows()
			case "changes":
				bit = 4
				a.Changes, err = d.int()
			case "lastInsertRowid":
				bit = 8
				a.LastInsertRowid, err = d.int()
			case "error":
				bit = 16
				a.Error, err = d.strOrNull()
			case "code":
				bit = 32
				a.Code, err = d.strOrNull()
			default:
				err = errSlow // an unknown member: let encoding/json skip it
			}
			if err != nil {
				return a, err
			}
			if seen&bit != 0 {
				return a, errSlow
			}
			seen |= bit
			if d.peek() == ',' {
				d.i++
				continue
			}
			if err := d.expect('}'); err != nil {
				return a, err
			}
			break
		}
	}
	if d.ws(); d.i != len(d.b) {
		return a, errSlow
	}
	return a, nil
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
	if err := d.expect('['); err != nil {
		return nil, err
	}
	out := []string{}
	if d.peek() == ']' {
		d.i++
		return out, nil
	}
	for {
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
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
		return d.str()
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
	text := string(d.b[d.i:end])
	if integral {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			d.i = end
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
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
	n, err := strconv.ParseInt(string(d.b[d.i:end]), 10, 64)
	if err != nil {
		return 0, errSlow
	}
	d.i = end
	return n, nil
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
