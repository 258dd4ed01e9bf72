package protocol

import (
	"encoding/json"
	"strconv"

	"github.com/nakedhtmx/nakedhtmx/core/jsonw"
)

// Every request crosses the seam as a frame, and inside the wasm core
// encoding/json's reflection over the request and response heads cost more
// than some pages' SQL. These write and read the common heads by hand; any
// other shape goes through encoding/json, so the bytes and the errors are
// what they always were (the tests compare the two).

// appendResponseHead appends json.Marshal(h); ok is false for a head it
// leaves to encoding/json (one that subscribes or carries a command).
func appendResponseHead(dst []byte, h *ResponseHead) (out []byte, ok bool) {
	if h.Subscribe != nil || h.Command != nil || h.ConfigText != nil {
		return dst, false
	}
	dst = append(dst, '{')
	sep := func() {
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
	}
	if h.Status != 0 {
		dst = append(dst, `"status":`...)
		dst = strconv.AppendInt(dst, int64(h.Status), 10)
	}
	if len(h.Headers) > 0 {
		sep()
		dst = append(dst, `"headers":[`...)
		for i, kv := range h.Headers {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '[')
			dst = jsonw.String(dst, kv[0], true)
			dst = append(dst, ',')
			dst = jsonw.String(dst, kv[1], true)
			dst = append(dst, ']')
		}
		dst = append(dst, ']')
	}
	if h.Continue != "" {
		sep()
		dst = append(dst, `"continue":`...)
		dst = jsonw.String(dst, h.Continue, true)
	}
	return append(dst, '}'), true
}

// decodeRequestHead is json.Unmarshal(b, &h) for heads as hosts write them:
// exact member names, each once, no nulls. Anything else is errSlow.
func decodeRequestHead(b []byte) (h RequestHead, err error) {
	d := decoder{b: b}
	err = d.object(func(key string) (bit int, err error) {
		switch key {
		case "method":
			h.Method, err = d.str()
			return 1, err
		case "path":
			h.Path, err = d.str()
			return 2, err
		case "query":
			h.Query, err = d.str()
			return 4, err
		case "headers":
			h.Headers, err = d.stringMap()
			return 8, err
		case "continue":
			h.Continue, err = d.str()
			return 16, err
		case "command":
			h.Command, err = d.str()
			return 32, err
		case "tooLarge":
			h.TooLarge, err = d.bool()
			return 64, err
		case "schemaVersion":
			h.SchemaVersion, err = d.intPtr()
			return 128, err
		case "remote":
			h.Remote, err = d.str()
			return 256, err
		case "probe":
			h.Probe, err = d.bool()
			return 512, err
		}
		return 0, errSlow
	})
	if err != nil {
		return h, err
	}
	return h, d.end()
}

// intPtr reads an integer into a new *int64 (null is errSlow).
func (d *decoder) intPtr() (*int64, error) {
	v, err := d.int()
	return &v, err
}

func (d *decoder) bool() (bool, error) {
	for _, lit := range []string{"true", "false"} {
		if d.peek() == lit[0] && d.i+len(lit) <= len(d.b) && string(d.b[d.i:d.i+len(lit)]) == lit {
			d.i += len(lit)
			return lit == "true", nil
		}
	}
	return false, errSlow
}

// stringMap reads an object of strings; a repeated name keeps its last
// value, as encoding/json does.
func (d *decoder) stringMap() (map[string]string, error) {
	m := make(map[string]string, 8)
	err := d.object(func(key string) (int, error) {
		v, err := d.str()
		m[key] = v
		return 0, err
	})
	return m, err
}

// requestHead decodes a request head, by hand when it can.
func requestHead(b []byte) (RequestHead, error) {
	if h, err := decodeRequestHead(b); err == nil {
		return h, nil
	}
	var h RequestHead
	err := json.Unmarshal(b, &h)
	return h, err
}
