package schema

import (
	"encoding/json"
	"strconv"

	"github.com/nakedhtmx/nakedhtmx/core/jsonw"
)

// Object is a JSON object that keeps its members in insertion order: JSON
// Schema properties follow column order, and golden files compare bytes.
// Members live in two parallel slices; a map index is added only past
// indexAfter members. Most objects (a row, a field's schema) are small, and
// hashing every name into a map per row was a measurable part of a list
// answer in the wasm core.
type Object struct {
	keys  []string
	vals  []any
	index map[string]int
}

const indexAfter = 16

// NewObject returns an empty object.
func NewObject() *Object { return &Object{} }

// NewObjectSize returns an empty object with room for n members.
func NewObjectSize(n int) *Object {
	return &Object{keys: make([]string, 0, n), vals: make([]any, 0, n)}
}

func (o *Object) find(k string) int {
	if o.index != nil {
		if i, ok := o.index[k]; ok {
			return i
		}
		return -1
	}
	for i, key := range o.keys {
		if key == k {
			return i
		}
	}
	return -1
}

// Set adds or replaces a member; a new key goes last.
func (o *Object) Set(k string, v any) *Object {
	if i := o.find(k); i >= 0 {
		o.vals[i] = v
		return o
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
	switch {
	case o.index != nil:
		o.index[k] = len(o.keys) - 1
	case len(o.keys) > indexAfter:
		o.index = make(map[string]int, 2*len(o.keys))
		for i, key := range o.keys {
			o.index[key] = i
		}
	}
	return o
}

// Get returns a member.
func (o *Object) Get(k string) (any, bool) {
	if i := o.find(k); i >= 0 {
		return o.vals[i], true
	}
	return nil, false
}

// Keys returns the member names in order.
func (o *Object) Keys() []string { return o.keys }

// Len is the number of members.
func (o *Object) Len() int { return len(o.keys) }

// MarshalJSON writes the members in order.
func (o *Object) MarshalJSON() ([]byte, error) { return o.AppendJSON(nil) }

// AppendJSON appends the object as json.Marshal would write it (HTML
// characters escaped), without reflection for the values an answer is made
// of; anything else goes through json.Marshal.
func (o *Object) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, '{')
	for i, k := range o.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.String(dst, k, true)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, o.vals[i]); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// RawJSON is JSON a caller wrote the way AppendJSON writes (compact, HTML
// characters escaped): AppendJSON copies it as it is. Unlike a
// json.RawMessage, which AppendJSON re-encodes, it is not checked.
type RawJSON []byte

// AppendValue writes one value of an Object as AppendJSON does.
func AppendValue(dst []byte, v any) ([]byte, error) { return appendValue(dst, v) }

func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case RawJSON:
		return append(dst, x...), nil
	case nil:
		return append(dst, "null"...), nil
	case string:
		return jsonw.String(dst, x, true), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float64:
		if out, ok := jsonw.Float(dst, x); ok {
			return out, nil
		}
	case *Object:
		if x != nil {
			return x.AppendJSON(dst)
		}
	case []any:
		if x != nil {
			dst = append(dst, '[')
			for i, e := range x {
				if i > 0 {
					dst = append(dst, ',')
				}
				var err error
				if dst, err = appendValue(dst, e); err != nil {
					return nil, err
				}
			}
			return append(dst, ']'), nil
		}
	case []string:
		if x != nil {
			dst = append(dst, '[')
			for i, e := range x {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = jsonw.String(dst, e, true)
			}
			return append(dst, ']'), nil
		}
	}
	// Everything else, and the cases above that encoding/json must decide
	// (a nil *Object, NaN), as before.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}
