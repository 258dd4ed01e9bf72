package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/nakedhtmx/nakedhtmx/core/model"
)

// validator is a table's compiled JSON Schema; compiled once per schema
// version, on first use.
type validator struct {
	sch   *jsonschema.Schema
	quick *quickCheck // nil: every instance goes to sch
}

// fieldError is one validation error, as CONTRACT.md's 422 body lists them.
type fieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (c *ctx) validator(t *model.Table) (*validator, error) {
	if v := c.st.validators[t.Name]; v != nil {
		return v, nil
	}
	v, err := compileValidator(t.Name, jsonBody(c.st.schemas[t.Name]))
	if err != nil {
		return nil, err
	}
	c.st.validators[t.Name] = v
	return v, nil
}

// compileValidator compiles a table's JSON Schema document.
func compileValidator(table string, schemaJSON []byte) (*validator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	comp := jsonschema.NewCompiler()
	// Formats and base64 content are checked, not just annotated: a DATE
	// column must get a date. SQLite writes date-times with a space where
	// RFC 3339 has a "T", and its date functions take both, so both pass.
	comp.AssertFormat()
	comp.AssertContent()
	comp.RegisterFormat(&jsonschema.Format{Name: "date", Validate: checkDate})
	comp.RegisterFormat(&jsonschema.Format{Name: "date-time", Validate: checkDateTime})
	const url = "mem:///table.json"
	if err := comp.AddResource(url, doc); err != nil {
		return nil, err
	}
	sch, err := comp.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema of %q: %w", table, err)
	}
	return &validator{sch: sch, quick: newQuickCheck(sch)}, nil
}

var printer = message.NewPrinter(language.English)

// finite stands the largest finite floats in for infinities, which the JSON
// Schema validator cannot take: against any finite bound they compare alike.
func finite(inst map[string]any) map[string]any {
	var out map[string]any
	for k, v := range inst {
		if f, ok := v.(float64); ok && math.IsInf(f, 0) {
			if out == nil {
				out = make(map[string]any, len(inst))
				for k2, v2 := range inst {
					out[k2] = v2
				}
			}
			out[k] = math.Copysign(math.MaxFloat64, f)
		}
	}
	if out == nil {
		return inst
	}
	return out
}

// validate checks an instance; it returns the errors sorted by column order.
func (c *ctx) validate(t *model.Table, inst map[string]any) ([]fieldError, error) {
	v, err := c.validator(t)
	if err != nil {
		return nil, err
	}
	// JSON Schema's "integer" takes any whole number; SQLite's holds 64 bits.
	// Converting a larger one would wrap differently on each platform.
	var rangeErrs []fieldError
	for _, col := range t.Columns {
		if f, ok := inst[col.Name].(float64); ok && col.Kind == model.Integer && f == math.Trunc(f) && (f >= 1<<63 || f < -(1<<63)) {
			rangeErrs = append(rangeErrs, fieldError{"/" + col.Name, "is too large for a 64-bit integer"})
		}
		// SQLite keeps a NUL inside text, but node:sqlite and Deno read text
		// as a C string and would cut it there: refused on every host alike.
		if s, ok := inst[col.Name].(string); ok && strings.IndexByte(s, 0) >= 0 {
			rangeErrs = append(rangeErrs, fieldError{"/" + col.Name, "must not contain the NUL character (U+0000)"})
		}
		// A JSON number past float64 (1e400) is kept as its text by fromJSON;
		// say what is wrong with it rather than "must be a number".
		if s, ok := inst[col.Name].(string); ok && (col.Kind == model.Integer || col.Kind == model.Number) && outOfRange(s) {
			rangeErrs = append(rangeErrs, fieldError{"/" + col.Name, "is out of range for a 64-bit number"})
		} else if ok && col.Kind == model.Integer && !col.AlsoText && jsonNumber(s) {
			// fromJSON keeps a number it cannot take exactly as its text.
			if strings.ContainsAny(s, ".eE") {
				rangeErrs = append(rangeErrs, fieldError{"/" + col.Name, "must be a whole number (" + s + " is not one exactly)"})
			} else {
				rangeErrs = append(rangeErrs, fieldError{"/" + col.Name, "is too large for a 64-bit integer"})
			}
		}
	}
	inst = finite(inst)
	if v.quick != nil && v.quick.valid(inst) {
		return rangeErrs, nil
	}
	err = v.sch.Validate(inst)
	if err == nil {
		return rangeErrs, nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return nil, err
	}
	var out []fieldError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, ce := range e.Causes {
				walk(ce)
			}
			return
		}
		out = append(out, describe(t, e)...)
	}
	walk(ve)
	for _, r := range rangeErrs {
		// The range error says it better than the type error on the same field.
		kept := out[:0]
		for _, e := range out {
			if e.Path != r.Path || !strings.HasPrefix(e.Message, "must be ") {
				kept = append(kept, e)
			}
		}
		out = append(kept, r)
	}
	order := func(p string) int {
		if col := t.Column(strings.TrimPrefix(p, "/")); col != nil {
			return col.Index
		}
		return len(t.Columns)
	}
	// Column order, then (for names that are no column, all placed last) by
	// name: the validator reports them in map order, which differs by run.
	sort.SliceStable(out, func(i, j int) bool {
		oi, oj := order(out[i].Path), order(out[j].Path)
		if oi != oj {
			return oi < oj
		}
		return oi == len(t.Columns) && out[i].Path < out[j].Path
	})
	return dedupe(out), nil
}

func dedupe(in []fieldError) []fieldError {
	seen := map[fieldError]bool{}
	out := in[:0]
	for _, e := range in {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// describe words an error for a person, next to the field it is about.
func describe(t *model.Table, e *jsonschema.ValidationError) []fieldError {
	path := "/" + strings.Join(e.InstanceLocation, "/")
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		var out []fieldError
		for _, m := range k.Missing {
			out = append(out, fieldError{"/" + m, "is required"})
		}
		return out
	case *kind.AdditionalProperties:
		var out []fieldError
		for _, p := range k.Properties {
			out = append(out, fieldError{"/" + p, "is not a column of " + t.Name})
		}
		return out
	case *kind.Type:
		if k.Got == "null" {
			return []fieldError{{path, "is required"}}
		}
		return []fieldError{{path, "must be " + typeWords(k.Want)}}
	case *kind.Format:
		switch k.Want {
		case "date":
			return []fieldError{{path, "must be a date (YYYY-MM-DD)"}}
		case "date-time":
			return []fieldError{{path, "must be a date and time (YYYY-MM-DD HH:MM:SS)"}}
		}
	case *kind.ContentEncoding:
		return []fieldError{{path, "must be base64-encoded bytes"}}
	case *kind.MaxLength:
		return []fieldError{{path, fmt.Sprintf("must be at most %d characters", k.Want)}}
	case *kind.MinLength:
		return []fieldError{{path, fmt.Sprintf("must be at least %d characters", k.Want)}}
	case *kind.Enum:
		var opts []string
		for _, v := range k.Want {
			if v != nil {
				b, _ := json.Marshal(v)
				opts = append(opts, string(b))
			}
		}
		return []fieldError{{path, "must be one of " + strings.Join(opts, ", ")}}
	case *kind.Minimum:
		return []fieldError{{path, "must be at least " + ratString(k.Want)}}
	case *kind.Maximum:
		return []fieldError{{path, "must be at most " + ratString(k.Want)}}
	case *kind.ExclusiveMinimum:
		return []fieldError{{path, "must be greater than " + ratString(k.Want)}}
	case *kind.ExclusiveMaximum:
		return []fieldError{{path, "must be less than " + ratString(k.Want)}}
	}
	return []fieldError{{path, e.ErrorKind.LocalizedString(printer)}}
}

func typeWords(want []string) string {
	var words []string
	nullable := false
	for _, w := range want {
		if w == "null" {
			nullable = true
			continue
		}
		switch w {
		case "integer":
			words = append(words, "a whole number")
		case "number":
			words = append(words, "a number")
		case "string":
			words = append(words, "text")
		case "boolean":
			words = append(words, "true or false")
		default:
			words = append(words, w)
		}
	}
	if nullable {
		words = append(words, "empty")
	}
	return strings.Join(words, " or ")
}

func ratString(r interface{ FloatString(int) string }) string {
	s := r.FloatString(10)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func checkDate(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return errors.New("not a date")
	}
	return nil
}

// dateTimeLayouts are the forms SQLite's date functions read, with or without
// a zone; the "T" may be a space.
var dateTimeLayouts = []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02T15:04"}

func checkDateTime(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	for _, l := range dateTimeLayouts {
		if _, err := time.Parse(l, s); err == nil {
			return nil
		}
	}
	return errors.New("not a date-time")
}

// outOfRange reports text that is a number too large for a float64.
// jsonNumber reports whether s is spelled as a JSON number.
func jsonNumber(s string) bool {
	if s == "" || s == "-" {
		return false
	}
	var f json.Number = json.Number(s)
	_, err := f.Float64()
	return err == nil || errors.Is(err, strconv.ErrRange)
}

func outOfRange(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return errors.Is(err, strconv.ErrRange)
}
