package engine

import (
	"bytes"
	"encoding/json"

	"github.com/nakedhtmx/nakedhtmx/core/mediatype"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// A create or an update decodes its JSON body. Through encoding/json (a
// Decoder, then a second pass over the tokens for repeated names) that was
// an eighth of a create inside the wasm core, so the bodies clients usually
// send are read by the protocol's hand decoder (protocol.DecodeObject).
// Anything it is not sure of goes the slow way, which also words every error.

// bodyObject decodes a body that is valid UTF-8 into the object a client
// sent, or says in a line why it cannot (a 400).
func bodyObject(body []byte) (map[string]any, string) {
	if obj, ok := protocol.DecodeObject(body); ok {
		return obj, ""
	}
	return slowObject(body)
}

// slowObject is bodyObject through encoding/json.
func slowObject(body []byte) (map[string]any, string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, "the body is not valid JSON: " + err.Error()
	}
	if dec.More() {
		return nil, "the body has data after its JSON value"
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, "the body must be a JSON object"
	}
	if msg := jsonTextProblem(body); msg != "" {
		return nil, msg
	}
	return obj, ""
}

// parseMediaType is mediatype.Parse (mime.ParseMediaType's answers), with the common case (a bare type,
// lower case: "application/json") answered without its work: it is on every
// write's path, and in the wasm core its allocations showed.
func parseMediaType(v string) (string, map[string]string, error) {
	slash := -1
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '+', c == '_', c == '!', c == '#', c == '$', c == '&', c == '^':
		case c == '/' && slash < 0 && i > 0:
			slash = i
		default:
			return mediatype.Parse(v)
		}
	}
	if slash < 0 || slash == len(v)-1 {
		return mediatype.Parse(v)
	}
	return v, nil, nil
}
