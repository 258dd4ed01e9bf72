package engine

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// A quick check says "valid" for the instances it can judge at a glance,
// and "ask the validator" for the rest: the JSON Schema validator stays the
// one judge of what is wrong and the one author of every error message.
//
// Why: the validator checks "integer" by printing the number with fmt and
// parsing it as a big.Rat, and bounds the same way; in the wasm core that was
// a twelfth of a create. The schemas the core generates use a handful of
// keywords; a table's quick check is built from its compiled schema when
// every keyword in it is one of those, and says valid only where the
// validator would (quickcheck_test.go holds the two side by side).
type quickCheck struct {
	props    map[string]*quickProp // nil: a property only the validator judges
	required []string
}

type quickProp struct {
	null, boolean, number, integer, str bool
	minLen, maxLen                      int // -1: none
	// Bounds as exact floats; has* false: none.
	min, max, exMin, exMax             float64
	hasMin, hasMax, hasExMin, hasExMax bool
	enum                               map[string]bool // string values; nil: no enum
	enumNum                            map[float64]bool
	enumNull                           bool
	format                             func(any) error
}

// Fields of a compiled schema that never make an instance invalid (names,
// places, annotations), and those the quick check itself handles.
var quickFields = map[string]bool{
	"DraftVersion": true, "Location": true, "ID": true, "Anchor": true, "DynamicAnchor": true,
	"RecursiveAnchor": true, "Title": true, "Description": true, "Default": true, "Comment": true,
	"ReadOnly": true, "WriteOnly": true, "Examples": true, "Deprecated": true,
	"Types": true, "Enum": true, "Format": true, "MinLength": true, "MaxLength": true,
	"Minimum": true, "Maximum": true, "ExclusiveMinimum": true, "ExclusiveMaximum": true,
	"Properties": true, "Required": true, "AdditionalProperties": true,
}

// onlyKnown: every exported field of s outside quickFields is unset, so a
// keyword the quick check does not know (or one a later release of the
// validator adds) turns the quick check off instead of being ignored.
func onlyKnown(s *jsonschema.Schema) bool {
	v := reflect.ValueOf(s).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.IsExported() && !quickFields[f.Name] && !v.Field(i).IsZero() {
			return false
		}
	}
	return true
}

// newQuickCheck builds the quick check of a table's compiled schema, or nil
// when the schema uses what it does not know.
func newQuickCheck(s *jsonschema.Schema) *quickCheck {
	if !onlyKnown(s) || s.Types == nil || len(s.Types.ToStrings()) != 1 || s.Types.ToStrings()[0] != "object" ||
		s.Enum != nil || s.Format != nil || s.MinLength != nil || s.MaxLength != nil ||
		s.Minimum != nil || s.Maximum != nil || s.ExclusiveMinimum != nil || s.ExclusiveMaximum != nil {
		return nil
	}
	if b, ok := s.AdditionalProperties.(bool); !ok || b {
		return nil
	}
	q := &quickCheck{props: map[string]*quickProp{}, required: s.Required}
	for name, ps := range s.Properties {
		// A property the quick check cannot judge sends only the instances
		// that carry it to the validator.
		q.props[name] = newQuickProp(ps)
	}
	return q
}

func newQuickProp(s *jsonschema.Schema) *quickProp {
	if !onlyKnown(s) || s.Types == nil || s.Properties != nil || s.Required != nil || s.AdditionalProperties != nil {
		return nil
	}
	p := &quickProp{minLen: -1, maxLen: -1}
	for _, t := range s.Types.ToStrings() {
		switch t {
		case "null":
			p.null = true
		case "boolean":
			p.boolean = true
		case "number":
			p.number = true
		case "integer":
			p.integer = true
		case "string":
			p.str = true
		default:
			return nil
		}
	}
	if s.MinLength != nil {
		p.minLen = *s.MinLength
	}
	if s.MaxLength != nil {
		p.maxLen = *s.MaxLength
	}
	for _, b := range []struct {
		r   interface{ Float64() (float64, bool) }
		at  *float64
		has *bool
	}{{ratOrNil(s.Minimum), &p.min, &p.hasMin}, {ratOrNil(s.Maximum), &p.max, &p.hasMax},
		{ratOrNil(s.ExclusiveMinimum), &p.exMin, &p.hasExMin}, {ratOrNil(s.ExclusiveMaximum), &p.exMax, &p.hasExMax}} {
		if b.r == nil {
			continue
		}
		f, exact := b.r.Float64()
		if !exact {
			return nil // a bound no float states exactly: the validator's to judge
		}
		*b.at, *b.has = f, true
	}
	if s.Enum != nil {
		p.enum = map[string]bool{}
		for _, v := range s.Enum.Values {
			switch v := v.(type) {
			case string:
				p.enum[v] = true
			case nil:
				p.enumNull = true
			case bool, []any, map[string]any:
				return nil
			default:
				f, ok := exactNumber(v)
				if !ok {
					return nil // compared as the validator compares it: its to judge
				}
				if p.enumNum == nil {
					p.enumNum = map[float64]bool{}
				}
				p.enumNum[f] = true
			}
		}
	}
	if s.Format != nil {
		if s.Format.Name == "regex" {
			return nil
		}
		p.format = s.Format.Validate
	}
	return p
}

// exactNumber is the float an enum's number stands for, when the validator
// compares a float64 instance with it exactly as == would: the number is a
// float exactly, and the shortest decimal printing that float (what the
// validator makes of an instance) is the number itself.
func exactNumber(v any) (float64, bool) {
	r, ok := new(big.Rat).SetString(fmt.Sprint(v))
	if !ok {
		return 0, false
	}
	f, exact := r.Float64()
	if !exact {
		return 0, false
	}
	back, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return f, ok && back.Cmp(r) == 0
}

// ratOrNil keeps a nil *big.Rat a nil interface.
func ratOrNil[R interface{ Float64() (float64, bool) }](r R) interface{ Float64() (float64, bool) } {
	if reflect.ValueOf(r).IsNil() {
		return nil
	}
	return r
}

// valid reports that the validator would find nothing wrong with inst;
// false means only "ask it".
func (q *quickCheck) valid(inst map[string]any) bool {
	for _, name := range q.required {
		if _, ok := inst[name]; !ok {
			return false
		}
	}
	for name, v := range inst {
		p, known := q.props[name]
		if !known || p == nil || !p.valid(v) {
			return false
		}
	}
	return true
}

func (p *quickProp) valid(v any) bool {
	if p.enum != nil {
		switch w := v.(type) {
		case nil:
			if !p.enumNull {
				return false
			}
		case string:
			if !p.enum[w] {
				return false
			}
		case float64:
			if !p.enumNum[w] {
				return false
			}
		case int64:
			if w > 1<<53 || w < -(1<<53) || !p.enumNum[float64(w)] {
				return false
			}
		default:
			return false
		}
	}
	if p.format != nil && p.format(v) != nil {
		return false
	}
	switch v := v.(type) {
	case nil:
		return p.null
	case bool:
		return p.boolean
	case string:
		if !p.str {
			return false
		}
		if p.minLen >= 0 || p.maxLen >= 0 {
			n := utf8.RuneCountInString(v)
			if p.minLen >= 0 && n < p.minLen || p.maxLen >= 0 && n > p.maxLen {
				return false
			}
		}
		return true
	case int64:
		// A whole number the validator reads exactly, as a float holds
		// exactly up to 2^53: compared with the (exact) bounds as it would.
		if v > 1<<53 || v < -(1<<53) || !p.number && !p.integer {
			return false
		}
		return p.within(float64(v))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
		if !p.number && !(p.integer && v == math.Trunc(v)) {
			return false
		}
		// The validator compares the shortest decimal that prints v, not v:
		// on the same side of a bound as v whenever v is not the bound
		// itself (that decimal lies within half a step of v, and a bound that
		// is a float is a whole step away), so a value on a bound is its to judge.
		if p.hasMin && v == p.min || p.hasMax && v == p.max || p.hasExMin && v == p.exMin || p.hasExMax && v == p.exMax {
			return false
		}
		return p.within(v)
	}
	return false // another Go type: the validator's to judge
}

// within: f is inside every bound.
func (p *quickProp) within(f float64) bool {
	return !(p.hasMin && f < p.min || p.hasMax && f > p.max || p.hasExMin && f <= p.exMin || p.hasExMax && f >= p.exMax)
}
