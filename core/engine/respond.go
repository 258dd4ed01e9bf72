package engine

import (
	"bytes"
	"encoding/json"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
)

const (
	ctJSON = "application/json"
	ctHTML = "text/html; charset=utf-8"
)

func response(status int, contentType string, body []byte, headers ...[2]string) *protocol.Response {
	h := [][2]string{{"content-type", contentType}}
	h = append(h, headers...)
	return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: status, Headers: h}, Body: body}
}

// jsonBody marshals v without HTML escaping of <, > and & (the content type is
// JSON, never HTML) and without a trailing newline.
func jsonBody(v any) []byte {
	if o, ok := v.(*schema.Object); ok {
		return objectBody(o, 1024)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// jsonAnswer answers with a JSON object whose first member is "dsid".
func (c *ctx) jsonAnswer(status int, members ...any) *protocol.Response {
	o := newObj("dsid", c.st.dsid)
	size := 1024
	for i := 0; i+1 < len(members); i += 2 {
		o.Set(members[i].(string), members[i+1])
		if raw, ok := members[i+1].(schema.RawJSON); ok {
			size += len(raw)
		}
	}
	return response(status, ctJSON, objectBody(o, size), [2]string{"cache-control", "no-store"})
}

// objectBody is jsonBody of an Object: the same bytes as the encoder (an
// Object writes compact JSON, which the encoder would only re-scan), without
// the reflection, into a buffer of about the size it will take.
func objectBody(o *schema.Object, size int) []byte {
	b, err := o.AppendJSON(make([]byte, 0, size))
	if err != nil {
		panic(err)
	}
	return b
}

// fail answers an error in the request's format.
func (c *ctx) fail(status int, msg string) *protocol.Response {
	if c.api || !wantsHTML(c.req) {
		return c.jsonAnswer(status, "error", msg)
	}
	return c.errorPage(status, msg)
}

// fail is used before a ctx exists (a panic, a schema that cannot be read).
func (e *Engine) fail(req *protocol.Request, status int, msg string) *protocol.Response {
	if e.st != nil {
		c := newCtx(e, req)
		segs, _, _ := splitPath(req.Path)
		c.api = len(segs) > 0 && segs[0] == "api"
		return c.fail(status, msg)
	}
	return response(status, ctJSON, jsonBody(map[string]string{"dsid": "", "error": msg}))
}

func wantsHTML(req *protocol.Request) bool {
	a := req.Headers["accept"]
	return req.Headers["hx-request"] == "true" || bytes.Contains([]byte(a), []byte("text/html"))
}
