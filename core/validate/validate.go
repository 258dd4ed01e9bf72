// Package validate checks a row against its table's JSON Schema: the schemas
// core/schema generates, and only those.
//
// Why not a general JSON Schema validator in the core: the one the project
// chose (github.com/santhosh-tekuri/jsonschema/v6) brought golang.org/x/text,
// regexp, math/big's printing and every draft's metaschemas into core.wasm,
// about 295 KB of its 2 MiB gzipped budget, and compiled those metaschemas
// at start-up, 30 to 60 ms of every cold start on the JS hosts. The schemas
// the core generates use a dozen keywords; this package implements exactly
// those, refuses to compile a schema with any other, and says what the old
// validator said, word for word. That validator stays the judge in the
// tests: validate_test.go draws instances against every corpus schema and
// compares both answers, error for error.
package validate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/decimal"
	"unicode/utf8"
)

// Error is one field's error, as CONTRACT.md's 422 body lists them.
type Error struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Schema is a table's compiled JSON Schema.
type Schema struct {
	table    string
	props    map[string]*prop
	required []string
	closed   bool // additionalProperties: false
}

// JSON types, in the order messages name them.
type types uint8

const (
	tNull types = 1 << iota
	tBoolean
	tNumber
	tInteger
	tString
	tArray
	tObject
)

var typeNames = []struct {
	t    types
	name string
}{{tNull, "null"}, {tBoolean, "boolean"}, {tNumber, "number"}, {tInteger, "integer"},
	{tString, "string"}, {tArray, "array"}, {tObject, "object"}}

type bound struct {
	dec   decimal.Dec
	f     float64
	exact bool // dec is the shortest decimal that prints f
	msg   string
}

type prop struct {
	types      types
	enum       []any // json.Number, string, bool or nil, as the schema has them
	enumDecs   []*decimal.Dec
	enumTypes  types
	enumMsg    string
	format     string
	minLen     int // -1: none
	maxLen     int
	base64     bool
	min, max   *bound
	exMin      *bound
	exMax      *bound
	hasNumbers bool // enum holds numbers
}

// Keywords that never make an instance invalid.
var annotations = map[string]bool{
	"$schema": true, "title": true, "description": true, "default": true, "readOnly": true,
	"writeOnly": true, "examples": true, "deprecated": true, "$comment": true,
}

// Compile reads a table's JSON Schema document.
func Compile(table string, doc []byte) (*Schema, error) {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var root map[string]any
	if err := d.Decode(&root); err != nil {
		return nil, fmt.Errorf("schema of %q: %w", table, err)
	}
	s := &Schema{table: table, props: map[string]*prop{}}
	for k, v := range root {
		switch {
		case annotations[k] || strings.HasPrefix(k, "x-"):
		case k == "type":
			if v != "object" {
				return nil, fmt.Errorf("schema of %q: a row is an object, not %v", table, v)
			}
		case k == "properties":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("schema of %q: properties is not an object", table)
			}
			for name, ps := range m {
				p, err := compileProp(ps)
				if err != nil {
					return nil, fmt.Errorf("schema of %q, property %q: %w", table, name, err)
				}
				s.props[name] = p
			}
		case k == "required":
			for _, r := range asList(v) {
				name, ok := r.(string)
				if !ok {
					return nil, fmt.Errorf("schema of %q: required holds %v", table, r)
				}
				s.required = append(s.required, name)
			}
		case k == "additionalProperties":
			if v != false {
				return nil, fmt.Errorf("schema of %q: additionalProperties must be false", table)
			}
			s.closed = true
		default:
			return nil, fmt.Errorf("schema of %q: keyword %q is not one the core generates", table, k)
		}
	}
	return s, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func compileProp(v any) (*prop, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not an object")
	}
	p := &prop{minLen: -1, maxLen: -1}
	for k, v := range m {
		switch {
		case annotations[k] || strings.HasPrefix(k, "x-"):
		case k == "type":
			names := []any{v}
			if l, ok := v.([]any); ok {
				names = l
			}
			for _, n := range names {
				t := typeOf(n.(string))
				if t == 0 {
					return nil, fmt.Errorf("unknown type %v", n)
				}
				p.types |= t
			}
		case k == "enum":
			var opts []string
			for _, e := range asList(v) {
				switch e := e.(type) {
				case json.Number:
					r, ok := decimal.Parse(string(e))
					if !ok {
						return nil, fmt.Errorf("enum number %s", e)
					}
					p.enumDecs = append(p.enumDecs, &r)
					p.enumTypes |= tNumber
					p.hasNumbers = true
				case string:
					p.enumDecs = append(p.enumDecs, nil)
					p.enumTypes |= tString
				case bool:
					p.enumDecs = append(p.enumDecs, nil)
					p.enumTypes |= tBoolean
				case nil:
					p.enumDecs = append(p.enumDecs, nil)
					p.enumTypes |= tNull
				default:
					return nil, fmt.Errorf("enum value %v", e)
				}
				p.enum = append(p.enum, e)
				if e != nil {
					b, _ := json.Marshal(e)
					opts = append(opts, string(b))
				}
			}
			if p.enum == nil {
				return nil, errors.New("empty enum")
			}
			p.enumMsg = "must be one of " + strings.Join(opts, ", ")
		case k == "format":
			f, _ := v.(string)
			if formats[f] == nil {
				return nil, fmt.Errorf("format %q is not one the core generates", f)
			}
			p.format = f
		case k == "minLength", k == "maxLength":
			n, err := strconv.Atoi(fmt.Sprint(v))
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s %v", k, v)
			}
			if k == "minLength" {
				p.minLen = n
			} else {
				p.maxLen = n
			}
		case k == "contentEncoding":
			if v != "base64" {
				return nil, fmt.Errorf("contentEncoding %v", v)
			}
			p.base64 = true
		case k == "minimum", k == "maximum", k == "exclusiveMinimum", k == "exclusiveMaximum":
			n, ok := v.(json.Number)
			r, ok2 := decimal.Parse(string(n))
			if !ok || !ok2 {
				return nil, fmt.Errorf("%s %v", k, v)
			}
			f := r.Float64()
			b := &bound{dec: r, f: f, exact: decimal.Cmp(decimal.FromFloat(f), r) == 0}
			switch k {
			case "minimum":
				b.msg, p.min = "must be at least "+r.String(), b
			case "maximum":
				b.msg, p.max = "must be at most "+r.String(), b
			case "exclusiveMinimum":
				b.msg, p.exMin = "must be greater than "+r.String(), b
			default:
				b.msg, p.exMax = "must be less than "+r.String(), b
			}
		default:
			return nil, fmt.Errorf("keyword %q is not one the core generates", k)
		}
	}
	return p, nil
}

func typeOf(name string) types {
	for _, tn := range typeNames {
		if tn.name == name {
			return tn.t
		}
	}
	return 0
}

// Validate checks a row's values (JSON values as the engine reads them:
// nil, bool, string, float64, int64, json.Number, []any, map[string]any).
// Errors come per field in the order the checks run; the caller orders
// fields.
func (s *Schema) Validate(inst map[string]any) []Error {
	var out []Error
	for _, name := range s.required {
		if _, ok := inst[name]; !ok {
			out = append(out, Error{"/" + name, "is required"})
		}
	}
	var extra []string
	for name, v := range inst {
		p := s.props[name]
		if p == nil {
			if s.closed {
				extra = append(extra, name)
			}
			continue
		}
		out = p.check("/"+name, v, out)
	}
	sort.Strings(extra)
	for _, name := range extra {
		out = append(out, Error{"/" + name, "is not a column of " + s.table})
	}
	return out
}

// jsonType is an instance value's JSON type; 0 for a Go value JSON has no word for.
func jsonType(v any) types {
	switch v := v.(type) {
	case nil:
		return tNull
	case bool:
		return tBoolean
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
		return tNumber
	case int64, int, json.Number:
		return tNumber
	case string:
		return tString
	case []any:
		return tArray
	case map[string]any:
		return tObject
	}
	return 0
}

func (p *prop) check(path string, v any, out []Error) []Error {
	t := jsonType(v)
	if t == 0 {
		return append(out, Error{path, "is not a JSON value"})
	}
	if p.types != 0 && p.types&t == 0 && !(p.types&tInteger != 0 && t == tNumber && isInteger(v)) {
		if t == tNull {
			return append(out, Error{path, "is required"})
		}
		return append(out, Error{path, "must be " + p.typeWords()})
	}
	if p.enum != nil && !p.inEnum(v, t) {
		return append(out, Error{path, p.enumMsg})
	}
	if p.format != "" {
		if s, ok := v.(string); ok && !formats[p.format].valid(s) {
			return append(out, Error{path, formats[p.format].msg})
		}
	}
	switch v := v.(type) {
	case string:
		if p.minLen >= 0 || p.maxLen >= 0 {
			n := utf8.RuneCountInString(v)
			if p.minLen >= 0 && n < p.minLen {
				out = append(out, Error{path, fmt.Sprintf("must be at least %d characters", p.minLen)})
			}
			if p.maxLen >= 0 && n > p.maxLen {
				out = append(out, Error{path, fmt.Sprintf("must be at most %d characters", p.maxLen)})
			}
		}
		if p.base64 {
			if _, err := base64.StdEncoding.DecodeString(v); err != nil {
				out = append(out, Error{path, "must be base64-encoded bytes"})
			}
		}
	case float64, int64, int, json.Number:
		if p.min != nil && compare(v, p.min) < 0 {
			out = append(out, Error{path, p.min.msg})
		}
		if p.max != nil && compare(v, p.max) > 0 {
			out = append(out, Error{path, p.max.msg})
		}
		if p.exMin != nil && compare(v, p.exMin) <= 0 {
			out = append(out, Error{path, p.exMin.msg})
		}
		if p.exMax != nil && compare(v, p.exMax) >= 0 {
			out = append(out, Error{path, p.exMax.msg})
		}
	}
	return out
}

// typeWords names the types a column takes, as a person would.
func (p *prop) typeWords() string {
	var words []string
	for _, tn := range typeNames {
		if p.types&tn.t == 0 || tn.t == tNull {
			continue
		}
		switch tn.t {
		case tInteger:
			words = append(words, "a whole number")
		case tNumber:
			words = append(words, "a number")
		case tString:
			words = append(words, "text")
		case tBoolean:
			words = append(words, "true or false")
		default:
			words = append(words, tn.name)
		}
	}
	if p.types&tNull != 0 {
		words = append(words, "empty")
	}
	return strings.Join(words, " or ")
}

func (p *prop) inEnum(v any, t types) bool {
	if p.enumTypes&t == 0 {
		return false
	}
	for i, e := range p.enum {
		switch e := e.(type) {
		case nil:
			if v == nil {
				return true
			}
		case string:
			if s, ok := v.(string); ok && s == e {
				return true
			}
		case bool:
			if b, ok := v.(bool); ok && b == e {
				return true
			}
		case json.Number:
			if t == tNumber && decimal.Cmp(dec(v), *p.enumDecs[i]) == 0 {
				return true
			}
		}
	}
	return false
}

// A number is compared as the shortest decimal that prints it: what JSON
// carried, and what the old validator compared.
func dec(v any) decimal.Dec {
	switch v := v.(type) {
	case int64:
		return decimal.FromInt(v)
	case int:
		return decimal.FromInt(int64(v))
	case float64:
		return decimal.FromFloat(v)
	case json.Number:
		d, _ := decimal.Parse(string(v))
		return d
	}
	return decimal.Dec{}
}

// compare orders a number and a bound. Floats compare as floats when the
// bound is a float exactly and they differ: the decimal printing a float lies
// within half a step of it, and a bound that is another float a whole step
// away, so the two orders agree. Equal, or a bound no float states, they
// compare exactly.
func compare(v any, b *bound) int {
	if b.exact {
		switch n := v.(type) {
		case float64:
			if n < b.f {
				return -1
			} else if n > b.f {
				return 1
			}
		case int64:
			if n <= 1<<53 && n >= -(1<<53) {
				f := float64(n) // exact, as is b.f: an exact comparison
				if f < b.f {
					return -1
				} else if f > b.f {
					return 1
				}
				return 0
			}
		}
	}
	return decimal.Cmp(dec(v), b.dec)
}

// isInteger: a whole number. A float64 is whole exactly when the shortest
// decimal printing it is (below 2^53 a whole decimal is a float of its own;
// above it every float is whole).
func isInteger(v any) bool {
	switch v := v.(type) {
	case int64, int:
		return true
	case float64:
		return v == math.Trunc(v)
	case json.Number:
		r, ok := decimal.Parse(string(v))
		return ok && r.IsInt()
	}
	return false
}

type format struct {
	valid func(string) bool
	msg   string
}

var formats = map[string]*format{
	"date":      {checkDate, "must be a date (YYYY-MM-DD)"},
	"date-time": {checkDateTime, "must be a date and time (YYYY-MM-DD HH:MM:SS)"},
	"uuid":      {checkUUID, "must be a UUID (32 hexadecimal digits in groups of 8-4-4-4-12)"},
}

func checkDate(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

// dateTimeLayouts are the forms SQLite's date functions read, with or without
// a zone; the "T" may be a space.
var dateTimeLayouts = []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02T15:04"}

func checkDateTime(s string) bool {
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	for _, l := range dateTimeLayouts {
		if _, err := time.Parse(l, s); err == nil {
			return true
		}
	}
	return false
}

// checkUUID: five groups of 8, 4, 4, 4 and 12 hexadecimal digits (any case).
func checkUUID(s string) bool {
	groups := strings.Split(s, "-")
	if len(groups) != 5 {
		return false
	}
	for i, g := range groups {
		if len(g) != [5]int{8, 4, 4, 4, 12}[i] {
			return false
		}
		for _, c := range g {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
