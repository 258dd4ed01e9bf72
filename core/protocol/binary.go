package protocol

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
	"unsafe"
)

// The binary SQL messages (PROTOCOL.md, "SQL messages in binary"). Inside
// the wasm core, reading rows out of JSON was a quarter of a JSON list's
// time: every byte scanned for quotes and escapes, every number parsed from
// text. In binary a value is a tag and its bytes, and TEXT is shared, not
// copied. Requests go the same way, for the hosts' sake.

// BinaryMessage is the first byte of a binary SQL message (an answer or a
// request); JSON never starts with it.
const BinaryMessage = 0x01

// Value tags of the binary SQL messages.
const (
	tagNull    = 0
	tagInteger = 1
	tagReal    = 2
	tagText    = 3
	tagBlob    = 4
)

var errBinary = errors.New("protocol: malformed binary SQL answer")

// AppendSQLResultBinary appends r as a binary SQL answer. An answer with an
// error has no binary form: it is written as JSON.
func AppendSQLResultBinary(dst []byte, r *SQLResult) ([]byte, error) {
	if r.Error != "" || r.Code != "" {
		return AppendSQLResult(dst, r)
	}
	dst = append(dst, BinaryMessage)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.Columns)))
	for _, c := range r.Columns {
		dst = appendSized(dst, c)
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.Rows)))
	for _, row := range r.Rows {
		if len(row) != len(r.Columns) {
			return nil, fmt.Errorf("protocol: a row of %d values for %d columns", len(row), len(r.Columns))
		}
		for _, v := range row {
			var err error
			if dst, err = appendTagged(dst, v.V); err != nil {
				return nil, err
			}
		}
	}
	dst = binary.LittleEndian.AppendUint64(dst, uint64(r.Changes))
	return binary.LittleEndian.AppendUint64(dst, uint64(r.LastInsertRowid)), nil
}

// The flags byte of a binary SQL request.
const (
	FlagScript    = 1 << 0 // several statements, no parameters or rows
	FlagUnbounded = 1 << 1 // a read, or a statement of a write, whose work the core cannot bound (PROTOCOL.md, "Time limit")
	// FlagThen: another request follows this one in the same message
	// (PROTOCOL.md, "Statements in one call"). The host runs them in order
	// and answers the last one's result, or the first failure: what comes
	// after a failed statement does not run.
	FlagThen = 1 << 2
	// FlagRowsOnly: the core reads only the rows of this statement; a host
	// may answer 0 for changes and the last insert rowid instead of asking
	// SQLite for them (a statement more, after a RETURNING).
	FlagRowsOnly = 1 << 3
	// FlagKeep: this request's result is part of the answer too. When a
	// request before the last has it, the answer is a ResultsMessage of
	// every kept result in order (the last one's always among them);
	// otherwise the last result alone, as ever. A failure is still answered
	// alone.
	FlagKeep = 1 << 4
)

// ResultsMessage is the first byte of an answer of several results: a u32
// count, then each result's message (binary or JSON) with its u32 size.
const ResultsMessage = 0x03

// AppendResults appends the answer of several results, each already
// encoded.
func AppendResults(dst []byte, parts [][]byte) []byte {
	dst = binary.LittleEndian.AppendUint32(append(dst, ResultsMessage), uint32(len(parts)))
	for _, p := range parts {
		dst = appendSized(dst, p)
	}
	return dst
}

// SplitResults is the parts of an answer of several results (AppendResults)
// in b's memory, or b alone when it is an answer of one.
func SplitResults(b []byte) ([][]byte, error) {
	if len(b) == 0 || b[0] != ResultsMessage {
		return [][]byte{b}, nil
	}
	d := decoder{b: b, i: 1}
	n, ok := d.u32()
	if !ok || n > (len(b)-d.i)/4 {
		return nil, errBinary
	}
	parts := make([][]byte, n)
	for i := range parts {
		if parts[i], ok = d.sized(); !ok {
			return nil, errBinary
		}
	}
	if d.i != len(b) {
		return nil, errBinary
	}
	return parts, nil
}

// AppendSQLRequestBinary appends an SQLRequest in binary: the SQL text, a
// flags byte (FlagScript, FlagUnbounded), the parameters as tagged values.
func AppendSQLRequestBinary(dst []byte, sql string, params []any, flags byte) ([]byte, error) {
	dst = appendSized(append(dst, BinaryMessage), sql)
	dst = append(dst, flags)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(params)))
	for _, p := range params {
		var err error
		if dst, err = appendTagged(dst, p); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// appendTagged writes one value as a tag and its bytes.
func appendTagged(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, tagNull), nil
	case int64:
		dst = append(dst, tagInteger)
		return binary.LittleEndian.AppendUint64(dst, uint64(x)), nil
	case float64:
		if math.IsNaN(x) {
			return append(dst, tagNull), nil // as the JSON messages write it (SQLite stores NULL)
		}
		dst = append(dst, tagReal)
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(x)), nil
	case string:
		return appendSized(append(dst, tagText), x), nil
	case []byte:
		return appendSized(append(dst, tagBlob), x), nil
	}
	return nil, fmt.Errorf("protocol: unsupported SQL value %T", v)
}

// appendSized writes a u32 length and the bytes: names, SQL text, TEXT, BLOBs.
func appendSized[B string | []byte](dst []byte, b B) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// DecodeSQLRequest reads one SQLRequest in either encoding: binary (first
// byte BinaryMessage) or JSON.
func DecodeSQLRequest(b []byte) (SQLRequest, error) {
	reqs, err := DecodeSQLRequests(b)
	if err != nil {
		return SQLRequest{}, err
	}
	if len(reqs) != 1 {
		return SQLRequest{}, errBinaryRequest
	}
	return reqs[0], nil
}

// DecodeSQLRequests reads the requests of one message: one in JSON, or
// one or more in binary, each but the last flagged FlagThen.
func DecodeSQLRequests(b []byte) ([]SQLRequest, error) {
	if len(b) == 0 || b[0] != BinaryMessage {
		var req SQLRequest
		err := json.Unmarshal(b, &req)
		return []SQLRequest{req}, err
	}
	d := decoder{b: b}
	var reqs []SQLRequest
	for {
		if d.i >= len(d.b) || d.b[d.i] != BinaryMessage {
			return nil, errBinaryRequest
		}
		d.i++
		sql, ok := d.text()
		if !ok || d.i >= len(d.b) {
			return nil, errBinaryRequest
		}
		flags := d.b[d.i]
		req := SQLRequest{SQL: sql, Script: flags&FlagScript != 0, Unbounded: flags&FlagUnbounded != 0, RowsOnly: flags&FlagRowsOnly != 0,
			Keep: flags&FlagKeep != 0 && flags&FlagThen != 0}
		d.i++
		n, ok := d.u32()
		if !ok || n > len(d.b)-d.i {
			return nil, errBinaryRequest
		}
		if n > 0 {
			req.Params = make([]Value, n)
		}
		for i := range req.Params {
			v, err := d.tagged()
			if err != nil {
				return nil, errBinaryRequest
			}
			req.Params[i] = Value{v}
		}
		reqs = append(reqs, req)
		if flags&FlagThen == 0 {
			break
		}
	}
	if d.i != len(d.b) {
		return nil, errBinaryRequest
	}
	return reqs, nil
}

var errBinaryRequest = errors.New("protocol: malformed binary SQL request")

func (d *decoder) u32() (int, bool) {
	if len(d.b)-d.i < 4 {
		return 0, false
	}
	v := binary.LittleEndian.Uint32(d.b[d.i:])
	d.i += 4
	return int(v), true
}

func (d *decoder) u64() (uint64, bool) {
	if len(d.b)-d.i < 8 {
		return 0, false
	}
	v := binary.LittleEndian.Uint64(d.b[d.i:])
	d.i += 8
	return v, true
}

// sized reads what appendSized wrote: a length and that many bytes, still
// in the buffer.
func (d *decoder) sized() ([]byte, bool) {
	n, ok := d.u32()
	if !ok || n > len(d.b)-d.i {
		return nil, false
	}
	d.i += n
	return d.b[d.i-n : d.i], true
}

// text reads sized bytes as a string: shared with the buffer when the
// decoder may, with invalid UTF-8 made U+FFFD as the JSON answer's decoder
// does.
func (d *decoder) text() (string, bool) {
	s, ok := d.sized()
	switch {
	case !ok:
		return "", false
	case !utf8.Valid(s):
		return string([]rune(string(s))), true
	case d.shared && len(s) > 0:
		return unsafe.String(&s[0], len(s)), true
	}
	return string(s), true
}

func (d *decoder) binary() (SQLAnswer, error) {
	var a SQLAnswer
	d.i = 1
	ncol, ok := d.u32()
	if !ok || ncol > len(d.b)-d.i { // each name takes at least its length
		return a, errBinary
	}
	a.Columns = make([]string, ncol)
	for i := range a.Columns {
		if a.Columns[i], ok = d.text(); !ok {
			return a, errBinary
		}
	}
	nrow, ok := d.u32()
	// Every value takes at least its tag, and a row of no columns is not a row.
	if !ok || ncol == 0 && nrow != 0 || ncol > 0 && nrow > (len(d.b)-d.i)/ncol {
		return a, errBinary
	}
	a.Rows = make([][]any, nrow)
	cells := make([]any, nrow*ncol) // one block for every row's values
	for r := range a.Rows {
		row := cells[r*ncol : (r+1)*ncol : (r+1)*ncol]
		for j := range row {
			v, err := d.tagged()
			if err != nil {
				return a, err
			}
			row[j] = v
		}
		a.Rows[r] = row
	}
	changes, ok1 := d.u64()
	last, ok2 := d.u64()
	if !ok1 || !ok2 || d.i != len(d.b) {
		return a, errBinary
	}
	a.Changes, a.LastInsertRowid = int64(changes), int64(last)
	return a, nil
}

// tagged reads one tagged value: boxed from the slabs and TEXT shared with
// the buffer when the decoder may.
func (d *decoder) tagged() (any, error) {
	if d.i >= len(d.b) {
		return nil, errBinary
	}
	tag := d.b[d.i]
	d.i++
	switch tag {
	case tagNull:
		return nil, nil
	case tagInteger:
		u, ok := d.u64()
		if !ok {
			return nil, errBinary
		}
		return d.intValue(int64(u)), nil
	case tagReal:
		u, ok := d.u64()
		if !ok {
			return nil, errBinary
		}
		if f := math.Float64frombits(u); !math.IsNaN(f) {
			return d.floatValue(f), nil // infinities too: JSON messages tag them ({"$real": ...})
		}
		// JSON has no NaN: a JSON message says null, and the reader must see
		// the same whichever way it was sent.
		return nil, nil
	case tagText:
		s, ok := d.text()
		if !ok {
			return nil, errBinary
		}
		return d.stringValue(s), nil
	case tagBlob:
		b, ok := d.sized()
		if !ok {
			return nil, errBinary
		}
		return append([]byte{}, b...), nil // blobs are rare, and a caller may keep them
	}
	return nil, errBinary
}
