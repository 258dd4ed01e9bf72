package engine

import (
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/validate"
)

// fieldError is one validation error, as CONTRACT.md's 422 body lists them.
type fieldError = validate.Error

// validator is a table's compiled JSON Schema, compiled once per schema
// version, on first use.
func (c *ctx) validator(t *model.Table) (*validate.Schema, error) {
	if v := c.st.validators[t.Name]; v != nil {
		return v, nil
	}
	v, err := validate.Compile(t.Name, jsonBody(c.st.schemas[t.Name]))
	if err != nil {
		return nil, err
	}
	c.st.validators[t.Name] = v
	return v, nil
}

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
			rangeErrs = append(rangeErrs, fieldError{Path: "/" + col.Name, Message: "is too large for a 64-bit integer"})
		}
		// SQLite keeps a NUL inside text, but node:sqlite and Deno read text
		// as a C string and would cut it there: refused on every host alike.
		if s, ok := inst[col.Name].(string); ok && strings.IndexByte(s, 0) >= 0 {
			rangeErrs = append(rangeErrs, fieldError{Path: "/" + col.Name, Message: "must not contain the NUL character (U+0000)"})
		}
		// A JSON number past float64 (1e400) is kept as its text by fromJSON;
		// say what is wrong with it rather than "must be a number".
		if s, ok := inst[col.Name].(string); ok && (col.Kind == model.Integer || col.Kind == model.Number) && outOfRange(s) {
			rangeErrs = append(rangeErrs, fieldError{Path: "/" + col.Name, Message: "is out of range for a 64-bit number"})
		} else if ok && col.Kind == model.Integer && !col.AlsoText && jsonNumber(s) {
			// fromJSON keeps a number it cannot take exactly as its text.
			if strings.ContainsAny(s, ".eE") {
				rangeErrs = append(rangeErrs, fieldError{Path: "/" + col.Name, Message: "must be a whole number (" + s + " is not one exactly)"})
			} else {
				rangeErrs = append(rangeErrs, fieldError{Path: "/" + col.Name, Message: "is too large for a 64-bit integer"})
			}
		}
	}
	out := v.Validate(finite(inst))
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
