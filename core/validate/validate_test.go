package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The JSON Schema validator the core used before this package is the judge:
// every table schema the golden corpus holds (SQLite and Postgres), and some
// of our own on the edges of numbers, against instances drawn from values on
// and beside every bound, type, length and format. Both must find the same
// errors, in the same words, in the same order per field.
func TestAgreesWithJSONSchemaV6(t *testing.T) {
	docs := corpusSchemas(t)
	docs["bounds"] = []byte(`{"$schema":"https://json-schema.org/draft/2020-12/schema","title":"bounds","type":"object",
		"properties":{"id":{"type":"integer","readOnly":true,"x-primary-key":true},
		"half":{"type":["number","null"],"minimum":0.5,"exclusiveMaximum":2.5},
		"big":{"type":["integer","null"],"maximum":1152921504606846976},
		"tiny":{"type":["number","null"],"exclusiveMinimum":9.313225746154785e-10},
		"tenth":{"type":["number","null"],"maximum":0.1,"minimum":-0.1},
		"n":{"type":["integer","null"],"enum":[1,2,3,1e2,null]},
		"f":{"type":"number","enum":[0.1,2.5]},
		"s":{"type":"string","enum":["a","é"]},
		"u":{"type":["string","null"],"format":"uuid"},
		"b":{"type":["string","null"],"contentEncoding":"base64","maxLength":8},
		"t":{"type":["integer","string","null"],"minLength":2,"maxLength":3,"minimum":-5,"maximum":5}},
		"required":["s","f"],"additionalProperties":false}`)
	if len(docs) < 10 {
		t.Fatalf("only %d schemas found in the corpus", len(docs))
	}
	pool := []any{nil, true, false, 0.0, math.Copysign(0, -1), 1.0, -1.0, 2.0, 3.0, 0.5, 0.49999999999999994, 2.5,
		2.4999999999999996, 0.1, 0.1 + 1e-17, -0.1, 0.30000000000000004, 9.313225746154785e-10, 9.313225746154786e-10,
		1e300, -1e300, math.MaxFloat64, -math.MaxFloat64, float64(1 << 53), float64(1<<53 + 2), float64(1 << 60),
		float64(1<<60 + 256), float64(1<<60 - 128), 10.0, 50.0, 51.0, 90.0, 91.0, 100.0, 4999.0, 5000.0, 5001.0, -5.0,
		-6.0, 1000.0, 999.9999999999999, 12.5, 1e-300, 1e21, 1.5,
		int64(0), int64(1), int64(-1), int64(2), int64(3), int64(4), int64(5), int64(6), int64(-5), int64(-6), int64(10),
		int64(11), int64(50), int64(51), int64(90), int64(91), int64(100), int64(5000), int64(5001), int64(1 << 53),
		int64(1<<53 + 1), int64(1 << 60), int64(1<<60 + 1), int64(math.MaxInt64), int64(math.MinInt64),
		json.Number("1"), json.Number("1.0"), json.Number("0.1"), json.Number("1e400"), json.Number("100"),
		"", "a", "é", "x", "ab", "abcd", "S", "M", "XL", "XXL", "red", "bad", "TEE-001", "abcdefghijkl", "abcdefghijklm",
		"ééééééé", "2024-01-01", "2024-02-30", "2024-01-01T10:00:00Z", "2024-01-01 10:00:00", "2024-01-01T10:00",
		"10:00:00", "not a date", "AAEC", "AAECAw==", "!!", "f47ac10b-58cc-4372-a567-0e02b2c3d479",
		"F47AC10B-58CC-4372-A567-0E02B2C3D479", "f47ac10b58cc4372a5670e02b2c3d479", "f47ac10b-58cc-4372-a567-0e02b2c3d47g",
		"1", "1.5", "-5", strings.Repeat("y", 300), []any{1.0}, []any{}, map[string]any{}, map[string]any{"a": 1.0}}
	rng := rand.New(rand.NewPCG(1, 2))
	compared, withErrors := 0, 0
	for key, doc := range docs {
		name := key[strings.LastIndex(key, ":")+1:]
		ours, err := Compile(name, doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		judge := compileV6(t, doc)
		props := judge.Properties
		var names []string
		for n := range props {
			names = append(names, n)
		}
		try := func(inst map[string]any) {
			compared++
			want := byField(describeV6(name, judge.Validate(inst)))
			got := byField(ours.Validate(inst))
			if len(want) > 0 {
				withErrors++
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s %v:\n got %v\nwant %v", key, inst, got, want)
			}
		}
		for i := 0; i < 3000; i++ {
			inst := map[string]any{}
			for _, n := range names {
				if rng.IntN(3) > 0 {
					inst[n] = pool[rng.IntN(len(pool))]
				}
			}
			if rng.IntN(10) == 0 {
				inst["not_a_column"] = 1.0
			}
			try(inst)
		}
		// Each value alone in each property, with the required ones given.
		for _, n := range names {
			for _, v := range pool {
				inst := map[string]any{n: v}
				for _, r := range judge.Required {
					if r != n {
						inst[r] = acceptable(props[r], pool)
					}
				}
				try(inst)
			}
		}
	}
	if withErrors == 0 || withErrors == compared {
		t.Errorf("%d of %d instances had errors: the pool does not reach both sides", withErrors, compared)
	}
	t.Logf("%d schemas, %d instances, %d with errors", len(docs), compared, withErrors)
}

// Keywords the generator does not use are refused when the schema is
// compiled, never ignored when a row is checked.
func TestUnknownKeywordsRefused(t *testing.T) {
	for _, doc := range []string{
		`{"type":"object","properties":{"a":{"type":"string","pattern":"^x"}}}`,
		`{"type":"object","properties":{"a":{"type":"number","multipleOf":2}}}`,
		`{"type":"object","properties":{"a":{"anyOf":[{"type":"string"}]}}}`,
		`{"type":"object","properties":{"a":{"type":"string","format":"email"}}}`,
		`{"type":"object","minProperties":1}`,
		`{"type":"object","additionalProperties":true}`,
		`{"type":"array"}`,
	} {
		if _, err := Compile("t", []byte(doc)); err == nil {
			t.Errorf("%s: compiled", doc)
		}
	}
}

// corpusSchemas are the table schemas /api/schema answered in the golden
// corpus (testdata/corpus/*/out and its Postgres leg), by table and where.
func corpusSchemas(t *testing.T) map[string][]byte {
	out := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "corpus", "*", "out", "*.txt"))
	pg, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "corpus", "postgres", "*", "out", "*.txt"))
	for _, f := range append(files, pg...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, body, ok := bytes.Cut(b, []byte("\n\n"))
		if !ok || !bytes.Contains(body, []byte(`"$schema"`)) {
			continue
		}
		var answer struct {
			Tables map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"tables"`
		}
		if json.Unmarshal(body, &answer) != nil {
			continue
		}
		for name, tb := range answer.Tables {
			if len(tb.Schema) > 0 {
				out[f+":"+name] = tb.Schema
			}
		}
	}
	return out
}

func compileV6(t *testing.T, doc []byte) *jsonschema.Schema {
	d, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.AssertContent()
	c.RegisterFormat(&jsonschema.Format{Name: "date", Validate: formatOf(checkDate)})
	c.RegisterFormat(&jsonschema.Format{Name: "date-time", Validate: formatOf(checkDateTime)})
	if err := c.AddResource("mem:///t.json", d); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem:///t.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func formatOf(ok func(string) bool) func(any) error {
	return func(v any) error {
		if s, is := v.(string); is && !ok(s) {
			return errors.New("no")
		}
		return nil
	}
}

func acceptable(s *jsonschema.Schema, pool []any) any {
	for _, v := range pool {
		if s.Validate(v) == nil {
			return v
		}
	}
	return nil
}

var printer = message.NewPrinter(language.English)

// describeV6 words the old validator's errors as the engine did.
func describeV6(table string, err error) []Error {
	if err == nil {
		return nil
	}
	var out []Error
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		for _, c := range e.Causes {
			walk(c)
		}
		if len(e.Causes) > 0 {
			return
		}
		path := "/" + strings.Join(e.InstanceLocation, "/")
		add := func(p, m string) { out = append(out, Error{Path: p, Message: m}) }
		switch k := e.ErrorKind.(type) {
		case *kind.Required:
			for _, m := range k.Missing {
				add("/"+m, "is required")
			}
		case *kind.AdditionalProperties:
			for _, p := range k.Properties {
				add("/"+p, "is not a column of "+table)
			}
		case *kind.Type:
			if k.Got == "null" {
				add(path, "is required")
			} else {
				p := &prop{}
				for _, w := range k.Want {
					p.types |= typeOf(w)
				}
				add(path, "must be "+p.typeWords())
			}
		case *kind.Format:
			add(path, formats[k.Want].msg)
		case *kind.ContentEncoding:
			add(path, "must be base64-encoded bytes")
		case *kind.MaxLength:
			add(path, fmt.Sprintf("must be at most %d characters", k.Want))
		case *kind.MinLength:
			add(path, fmt.Sprintf("must be at least %d characters", k.Want))
		case *kind.Enum:
			var opts []string
			for _, v := range k.Want {
				if v != nil {
					b, _ := json.Marshal(v)
					opts = append(opts, string(b))
				}
			}
			add(path, "must be one of "+strings.Join(opts, ", "))
		case *kind.Minimum:
			add(path, "must be at least "+ratString(k.Want))
		case *kind.Maximum:
			add(path, "must be at most "+ratString(k.Want))
		case *kind.ExclusiveMinimum:
			add(path, "must be greater than "+ratString(k.Want))
		case *kind.ExclusiveMaximum:
			add(path, "must be less than "+ratString(k.Want))
		default:
			add(path, e.ErrorKind.LocalizedString(printer))
		}
	}
	if ve, ok := err.(*jsonschema.ValidationError); ok {
		walk(ve)
	} else {
		out = append(out, Error{Path: "", Message: err.Error()})
	}
	return out
}

// byField groups errors by path, keeping their order within a path (the
// engine orders fields itself, stably).
func byField(errs []Error) map[string][]string {
	out := map[string][]string{}
	for _, e := range errs {
		out[e.Path] = append(out[e.Path], e.Message)
	}
	return out
}

// The old validator took a fixed time per integer; ours must not fall to
// its slow path on a plain row.
func BenchmarkValidateRow(b *testing.B) {
	s, err := Compile("items", []byte(`{"type":"object","properties":{"id":{"type":"integer","readOnly":true},
		"name":{"type":"string"},"qty":{"type":"integer","minimum":0},"price":{"type":"number","exclusiveMinimum":0},
		"note":{"type":["string","null"],"maxLength":200}},"required":["name","qty","price"],"additionalProperties":false}`))
	if err != nil {
		b.Fatal(err)
	}
	row := map[string]any{"name": "bench row", "qty": int64(7), "price": 12.5, "note": "made by wrk"}
	for b.Loop() {
		if errs := s.Validate(row); errs != nil {
			b.Fatal(errs)
		}
	}
}

// ratString writes a bound as the validator does (decimal.Dec.String):
// fixed point, ten places at most, no trailing zeros.
func ratString(r *big.Rat) string {
	s := r.FloatString(10)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
