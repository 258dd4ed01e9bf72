package schema

import (
	"encoding/json"
	"strconv"

	"github.com/nakedhtmx/nakedhtmx/core/jsonw"
)

// Object is a JSON object that keeps its members in insertion order: JSON
// Schema properties follow column order, and golden files compare bytes.
type Object struct {
	keys []string
	vals map[string]any
}

// NewObject returns an empty object.
func NewObject() *Object { return &Object{vals: map[string]any{}} }

// Set adds or replaces a member; a new key goes last.
func (o *Object) Set(k string, v any) *Object {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
	return o
}

// Get returns a member.
func (o *Object) Get(k string) (any, bool) { v, ok := o.vals[k]; return v, ok }

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
		if dst, err = appendValue(dst, o.vals[k]); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
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
