package engine

import (
	"bytes"
	"encoding/json"
)

// A create or an update decodes its JSON body. Through encoding/json (a
// Decoder, then a second pass over the tokens for repeated names) that was
// an eighth of a create inside the wasm core, so the bodies clients usually
// send are read by hand: fastObject. Anything it is not sure of goes the
// slow way, which also words every error.

// bodyObject decodes a body that is valid UTF-8 into the object a client
// sent, or says in a line why it cannot (a 400).
func bodyObject(body []byte) (map[string]any, string) {
	if obj, ok := fastObject(body); ok {
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

// fastObject reads valid UTF-8 that is one JSON object as the slow way does
// (json.Number for numbers, []any and map[string]any inside, the last of a
// repeated inner name), when the slow way would accept it: no \u escape
// (a half surrogate pair must be refused), no top-level name twice (refused
// too), nothing after the object, nesting well under encoding/json's limit.
// ok is false for anything else.
func fastObject(b []byte) (obj map[string]any, ok bool) {
	p := bodyParser{b: b}
	p.ws()
	if p.i >= len(b) || b[p.i] != '{' {
		return nil, false
	}
	v, ok := p.object(0, true)
	if !ok {
		return nil, false
	}
	p.ws()
	if p.i != len(b) {
		return nil, false
	}
	return v, true
}

type bodyParser struct {
	b []byte
	i int
}

// bodyDepth bounds nesting on the fast path; deeper bodies go the slow way.
const bodyDepth = 64

func (p *bodyParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *bodyParser) value(depth int) (any, bool) {
	p.ws()
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return p.str()
	case c == '{':
		if depth >= bodyDepth {
			return nil, false
		}
		return p.object(depth+1, false)
	case c == '[':
		if depth >= bodyDepth {
			return nil, false
		}
		return p.array(depth + 1)
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, lit := range [...]struct {
		text string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if bytes.HasPrefix(p.b[p.i:], []byte(lit.text)) {
			p.i += len(lit.text)
			return lit.v, true
		}
	}
	return nil, false
}

// object reads an object at p.i ('{'); top: a repeated name is not ok.
func (p *bodyParser) object(depth int, top bool) (map[string]any, bool) {
	p.i++ // {
	m := map[string]any{}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, true
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, false
		}
		k, ok := p.str()
		if !ok {
			return nil, false
		}
		if _, dup := m[k]; dup && top {
			return nil, false
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		m[k] = v
		if more, ok := p.next('}'); !more {
			return m, ok
		}
	}
}

// next reads what follows a member or an element: a comma (more), or the
// closing byte (done). Anything else is not ok.
func (p *bodyParser) next(closing byte) (more, ok bool) {
	p.ws()
	if p.i < len(p.b) && (p.b[p.i] == ',' || p.b[p.i] == closing) {
		p.i++
		return p.b[p.i-1] == ',', true
	}
	return false, false
}

func (p *bodyParser) array(depth int) ([]any, bool) {
	p.i++ // [
	a := []any{}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, true
	}
	for {
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		if more, ok := p.next(']'); !more {
			return a, ok
		}
	}
}

// str reads a string at p.i ('"'); a \u escape is not ok (see fastObject).
func (p *bodyParser) str() (string, bool) {
	p.i++ // "
	start := p.i
	var out []byte // only once an escape is seen
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if out != nil {
				return string(append(out, s...)), true
			}
			return string(s), true
		case c < 0x20:
			return "", false
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return "", false
			}
			r, ok := bodyEscapes[p.b[p.i+1]]
			if !ok {
				return "", false // \u, or not an escape at all
			}
			out = append(append(out, p.b[start:p.i]...), r)
			p.i += 2
			start = p.i
		default:
			p.i++
		}
	}
	return "", false
}

var bodyEscapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// number reads a JSON number at p.i, as json.Number keeps it: its text.
func (p *bodyParser) number() (json.Number, bool) {
	b, start := p.b, p.i
	digits := func() int {
		n := 0
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if b[p.i] == '-' {
		p.i++
	}
	if p.i < len(b) && b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return "", false
	}
	if p.i < len(b) && b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return "", false
		}
	}
	if p.i < len(b) && (b[p.i] == 'e' || b[p.i] == 'E') {
		p.i++
		if p.i < len(b) && (b[p.i] == '+' || b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return "", false
		}
	}
	return json.Number(b[start:p.i]), true
}
