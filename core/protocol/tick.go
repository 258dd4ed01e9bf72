package protocol

import (
	"encoding/json"
	"strconv"

	"github.com/nakedhtmx/nakedhtmx/core/jsonw"
)

// Ticks run after every write and 50 times a second besides, so their input
// and answer are coded by hand: through encoding/json (reflection) they were
// an eighth of a tick inside the wasm core.

// DecodeTickRequest is json.Unmarshal of nh_tick's input into a TickRequest:
// by hand for what hosts write, encoding/json for anything else.
func DecodeTickRequest(b []byte) (TickRequest, error) {
	var r TickRequest
	d := decoder{b: b}
	err := d.object(func(key string) (int, error) {
		switch key {
		case "formats":
			f, err := d.columns()
			r.Formats = f
			return 1, err
		case "schemaVersion":
			var err error
			r.SchemaVersion, err = d.intPtr()
			return 2, err
		}
		return 0, errSlow
	})
	if err == nil {
		err = d.end()
	}
	if err == nil {
		return r, nil
	}
	r = TickRequest{}
	err = json.Unmarshal(b, &r)
	return r, err
}

// AppendTickResult writes r as json.Marshal does.
func AppendTickResult(dst []byte, r TickResult) []byte {
	if r.Messages == nil {
		return append(dst, `{"messages":null}`...)
	}
	dst = append(dst, `{"messages":[`...)
	for i, m := range r.Messages {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = strconv.AppendInt(dst, m.ID, 10)
		dst = append(dst, `,"table":`...)
		dst = jsonw.String(dst, m.Table, true)
		dst = append(dst, `,"api":`...)
		dst = jsonw.String(dst, m.API, true)
		dst = append(dst, `,"page":`...)
		dst = jsonw.String(dst, m.Page, true)
		if m.Held {
			dst = append(dst, `,"held":true`...)
		}
		dst = appendNames(dst, `,"only":`, m.Only)
		dst = appendNames(dst, `,"gone":`, m.Gone)
		if m.GoneAPI != "" {
			dst = append(dst, `,"goneApi":`...)
			dst = jsonw.String(dst, m.GoneAPI, true)
		}
		if m.GonePage != "" {
			dst = append(dst, `,"gonePage":`...)
			dst = jsonw.String(dst, m.GonePage, true)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// appendNames writes a member that is a list of strings, left out when
// empty (omitempty).
func appendNames(dst []byte, member string, names []string) []byte {
	if len(names) == 0 {
		return dst
	}
	dst = append(dst, member...)
	for i, n := range names {
		if i == 0 {
			dst = append(dst, '[')
		} else {
			dst = append(dst, ',')
		}
		dst = jsonw.String(dst, n, true)
	}
	return append(dst, ']')
}
