package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// SetQuery returns a config file's text with the stored query name set to
// q (nil: taken out). Only that member's bytes change: the user's layout,
// key order, spacing and every other member stay as they were, since the
// file is theirs and a save from the SQL page must not reformat it. text
// "" (or "null") is no file yet: the answer is a new one.
func SetQuery(text []byte, name string, q *Query) ([]byte, error) {
	if t := bytes.TrimSpace(text); len(t) == 0 || string(t) == "null" {
		if q == nil {
			return text, nil
		}
		text = []byte("{}\n")
	}
	root, err := scanMembers(text, skipSpace(text, 0))
	if err != nil {
		return nil, err
	}
	unit := root.indentUnit(text)
	qi, err := root.only("queries")
	if err != nil {
		return nil, err
	}
	if qi < 0 {
		if q == nil {
			return text, nil
		}
		in := root.inner(text, unit)
		value, err := valueJSON(q, in+unit, unit)
		if err != nil {
			return nil, err
		}
		member := `"queries": {` + in + unit + jsonString(name) + ": " + value + in + "}"
		return root.insert(text, member, unit), nil
	}
	qm := root.members[qi]
	if v := bytes.TrimSpace(text[qm.valueStart:qm.valueEnd]); string(v) == "null" || string(v) == "{}" {
		// No queries yet: write the object whole, in the file's indent.
		if q == nil {
			return text, nil
		}
		ind := qm.indent(text)
		value, err := valueJSON(q, ind+unit, unit)
		if err != nil {
			return nil, err
		}
		obj := "{" + ind + unit + jsonString(name) + ": " + value + ind + "}"
		return splice(text, qm.valueStart, qm.valueEnd, obj), nil
	}
	queries, err := scanMembers(text, qm.valueStart)
	if err != nil {
		return nil, fmt.Errorf(`config: "queries": %w`, err)
	}
	i, err := queries.only(name)
	if err != nil {
		return nil, err
	}
	switch {
	case q == nil && i < 0:
		return text, nil
	case q == nil:
		return queries.remove(text, i), nil
	}
	ind := queries.inner(text, unit)
	if i >= 0 {
		ind = queries.members[i].indent(text)
	}
	value, err := valueJSON(q, ind, unit)
	if err != nil {
		return nil, err
	}
	if i >= 0 {
		m := queries.members[i]
		return splice(text, m.valueStart, m.valueEnd, value), nil
	}
	return queries.insert(text, jsonString(name)+": "+value, unit), nil
}

// valueJSON is a value (a query, a table's rules) as the file holds it,
// indented from prefix by unit; <, > and & stay as typed (SQL is full of
// them; this is no HTML).
func valueJSON(q any, prefix, unit string) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(q); err != nil {
		return "", err
	}
	var out bytes.Buffer
	nl := "\n"
	if strings.HasPrefix(prefix, "\r\n") {
		nl = "\r\n"
	}
	if !strings.HasPrefix(prefix, nl) { // a file on one line stays on one line
		json.Compact(&out, b.Bytes())
		return strings.TrimSpace(out.String()), nil
	}
	if err := json.Indent(&out, bytes.TrimSpace(b.Bytes()), strings.TrimPrefix(prefix, nl), unit); err != nil {
		return "", err
	}
	return strings.ReplaceAll(out.String(), "\n", nl), nil
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSpace(b.String())
}

func splice(text []byte, from, to int, with string) []byte {
	out := make([]byte, 0, len(text)-(to-from)+len(with))
	out = append(out, text[:from]...)
	out = append(out, with...)
	return append(out, text[to:]...)
}

// object is one JSON object's members, found by offset in the text.
type object struct {
	open, close int // the offsets of { and }
	members     []member
}

type member struct {
	name                 string
	keyStart             int
	valueStart, valueEnd int
}

// only is the index of the member called name (-1: none); a name given
// twice is refused, since which one a reader takes is not the file's to say.
func (o *object) only(name string) (int, error) {
	at := -1
	for i, m := range o.members {
		if m.name == name {
			if at >= 0 {
				return 0, fmt.Errorf("config: %q appears twice in one object: edit the file by hand first", name)
			}
			at = i
		}
	}
	return at, nil
}

// lineIndent is the run of spaces and tabs that begins the line holding
// offset at, with the newline before it ("\n  "); "" when the offset's line
// holds something before it (a file on one line).
func lineIndent(text []byte, at int) string {
	i := at
	for i > 0 && (text[i-1] == ' ' || text[i-1] == '\t') {
		i--
	}
	if i > 0 && text[i-1] == '\n' {
		nl := i - 1
		if nl > 0 && text[nl-1] == '\r' {
			nl--
		}
		return string(text[nl:at])
	}
	return ""
}

func (m member) indent(text []byte) string { return lineIndent(text, m.keyStart) }

// inner is the indent of the object's members: the first one's, or one
// unit more than the object's own line when it has none ("" on one line).
func (o *object) inner(text []byte, unit string) string {
	if len(o.members) > 0 {
		return o.members[0].indent(text)
	}
	if unit == "" {
		return ""
	}
	return o.outer(text) + unit
}

// outer is the indent of the object's own line ("\n" at the left edge).
func (o *object) outer(text []byte) string {
	if in := lineIndent(text, o.open); in != "" {
		return in
	}
	return "\n"
}

// indentUnit is one level of the file's indent: what its first member's
// line adds to the object's (two spaces when the file says nothing).
func (o *object) indentUnit(text []byte) string {
	if len(o.members) == 0 {
		return "  "
	}
	in := o.members[0].indent(text)
	if in == "" {
		return "" // one line
	}
	return strings.TrimLeft(strings.TrimPrefix(in, lineIndent(text, o.open)), "\r\n")
}

// insert adds a member (its text) as the object's last.
func (o *object) insert(text []byte, memberText, unit string) []byte {
	if len(o.members) == 0 {
		outer := o.outer(text)
		if unit == "" {
			outer = ""
		}
		return splice(text, o.open+1, o.close, o.inner(text, unit)+memberText+outer)
	}
	last := o.members[len(o.members)-1]
	return splice(text, last.valueEnd, last.valueEnd, ","+last.indent(text)+memberText)
}

// remove takes out member i with its separating comma.
func (o *object) remove(text []byte, i int) []byte {
	m := o.members[i]
	switch {
	case len(o.members) == 1:
		return splice(text, o.open+1, o.close, "")
	case i+1 < len(o.members):
		return splice(text, m.keyStart, o.members[i+1].keyStart, "")
	}
	return splice(text, o.members[i-1].valueEnd, m.valueEnd, "")
}

// scanMembers reads the object at offset at (after spaces).
func scanMembers(text []byte, at int) (*object, error) {
	if at >= len(text) || text[at] != '{' {
		return nil, errors.New("config: not a JSON object")
	}
	o := &object{open: at}
	i := skipSpace(text, at+1)
	if i < len(text) && text[i] == '}' {
		o.close = i
		return o, nil
	}
	for {
		if i >= len(text) || text[i] != '"' {
			return nil, errors.New("config: not valid JSON")
		}
		end, err := skipValue(text, i)
		if err != nil {
			return nil, err
		}
		var name string
		if err := json.Unmarshal(text[i:end], &name); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		j := skipSpace(text, end)
		if j >= len(text) || text[j] != ':' {
			return nil, errors.New("config: not valid JSON")
		}
		vs := skipSpace(text, j+1)
		ve, err := skipValue(text, vs)
		if err != nil {
			return nil, err
		}
		o.members = append(o.members, member{name: name, keyStart: i, valueStart: vs, valueEnd: ve})
		i = skipSpace(text, ve)
		switch {
		case i < len(text) && text[i] == ',':
			i = skipSpace(text, i+1)
		case i < len(text) && text[i] == '}':
			o.close = i
			return o, nil
		default:
			return nil, errors.New("config: not valid JSON")
		}
	}
}

func skipSpace(text []byte, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r') {
		i++
	}
	return i
}

// skipValue is the offset just past the JSON value at i; the value is
// checked by encoding/json (the scan only finds where it ends).
func skipValue(text []byte, i int) (int, error) {
	if i >= len(text) {
		return 0, errors.New("config: not valid JSON")
	}
	end := i
	switch c := text[i]; {
	case c == '"':
		end = i + 1
		for end < len(text) && text[end] != '"' {
			if text[end] == '\\' {
				end++
			}
			end++
		}
		end++
	case c == '{' || c == '[':
		depth := 0
	scan:
		for end < len(text) {
			switch text[end] {
			case '"':
				e, err := skipValue(text, end)
				if err != nil {
					return 0, err
				}
				end = e
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			end++
			if depth == 0 {
				break scan
			}
		}
	default:
		for end < len(text) && strings.IndexByte(",}] \t\r\n", text[end]) < 0 {
			end++
		}
	}
	if end > len(text) || !json.Valid(text[i:end]) {
		return 0, errors.New("config: not valid JSON")
	}
	return end, nil
}

// SetAt returns a config file's text with the member at path (names of
// nested objects, made when missing) set to v, written in the file's
// indent; nil takes it out. As SetQuery, only that member's bytes change.
func SetAt(text []byte, path []string, v any) ([]byte, error) {
	if t := bytes.TrimSpace(text); len(t) == 0 || string(t) == "null" {
		if v == nil {
			return text, nil
		}
		text = []byte("{}\n")
	}
	root, err := scanMembers(text, skipSpace(text, 0))
	if err != nil {
		return nil, err
	}
	return setAt(text, root, root.indentUnit(text), path, v)
}

func setAt(text []byte, o *object, unit string, path []string, v any) ([]byte, error) {
	i, err := o.only(path[0])
	if err != nil {
		return nil, err
	}
	if len(path) > 1 && i >= 0 {
		m := o.members[i]
		if text[m.valueStart] == '{' {
			inner, err := scanMembers(text, m.valueStart)
			if err != nil {
				return nil, err
			}
			return setAt(text, inner, unit, path[1:], v)
		}
	}
	if v == nil {
		if i < 0 || len(path) > 1 {
			return text, nil
		}
		return o.remove(text, i), nil
	}
	for k := len(path) - 1; k > 0; k-- { // the objects still missing, around v
		v = map[string]any{path[k]: v}
	}
	ind := o.inner(text, unit)
	if i >= 0 {
		ind = o.members[i].indent(text)
	}
	value, err := valueJSON(v, ind, unit)
	if err != nil {
		return nil, err
	}
	if i >= 0 {
		m := o.members[i]
		return splice(text, m.valueStart, m.valueEnd, value), nil
	}
	return o.insert(text, jsonString(path[0])+": "+value, unit), nil
}
