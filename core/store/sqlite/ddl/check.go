package ddl

import (
	"math"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
)

// Constraints are what a CHECK expression says about columns, in JSON Schema
// terms: the model's own type.
type Constraints = model.Constraints

// AnalyzeCheck returns, per column name (as written, unquoted), the constraints
// an expression implies. It recognises, as whole conjuncts of a top-level AND:
//
//	c IN (lit, ...)         c = lit, lit = c
//	c >= n, c > n, c <= n, c < n and the mirrored n <= c forms
//	c BETWEEN a AND b
//	length(c) <= n, < n, >= n, > n, = n, BETWEEN a AND b
//
// with parentheses around the whole or around operands, signed numbers and
// string literals. Of several bounds the tightest is kept. A conjunct that is
// not understood (OR, NOT, other functions, LIKE, GLOB, COLLATE, ...) is
// skipped; nothing is guessed. "c IS NULL OR <expr>" (either order) yields
// what <expr> says about c. Names are grouped ASCII case-insensitively, under
// the spelling first seen.
func AnalyzeCheck(expr string) map[string]Constraints {
	toks := lex(expr)
	toks = toks[:len(toks)-1] // drop EOF
	for _, t := range toks {
		if t.kind == tIllegal {
			return map[string]Constraints{}
		}
	}
	for len(toks) > 0 && toks[len(toks)-1].isOp(";") {
		toks = toks[:len(toks)-1]
	}
	a := &analysis{byKey: map[string]int{}}
	a.expr(toks, 0)
	out := make(map[string]Constraints, len(a.names))
	for i, n := range a.names {
		out[n] = a.cons[i]
	}
	return out
}

type analysis struct {
	names []string
	cons  []Constraints
	byKey map[string]int
}

func (a *analysis) entry(name string) *Constraints {
	k := asciiLower(name) // SQLite folds ASCII letters only
	i, ok := a.byKey[k]
	if !ok {
		i = len(a.names)
		a.byKey[k] = i
		a.names = append(a.names, name)
		a.cons = append(a.cons, Constraints{})
	}
	return &a.cons[i]
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

const maxDepth = 200

// expr analyses a whole expression: a disjunction or a conjunction.
func (a *analysis) expr(toks []token, depth int) {
	if depth > maxDepth || len(toks) == 0 {
		return
	}
	if ors := split(toks, "OR"); len(ors) > 1 {
		a.nullOr(ors, depth)
		return
	}
	for _, c := range split(toks, "AND") {
		a.conjunct(c, depth)
	}
}

// split cuts toks at the top-level keyword kw (AND or OR). For AND, the AND
// that belongs to a BETWEEN is not a cut. CASE ... END counts as a bracket.
func split(toks []token, kw string) [][]token {
	var parts [][]token
	depth, betweens, from := 0, 0, 0
	for i, t := range toks {
		switch {
		case t.isOp("(") || t.is("CASE"):
			depth++
		case t.isOp(")") || t.is("END"):
			depth--
		case depth != 0:
		case t.is("BETWEEN"):
			betweens++
		case t.is(kw):
			if kw == "AND" && betweens > 0 {
				betweens--
				continue
			}
			parts = append(parts, toks[from:i])
			from = i + 1
		}
	}
	return append(parts, toks[from:])
}

// nullOr handles "c IS NULL OR e" and "e OR c IS NULL": when c is not null, e
// holds, so what e says about c holds for every non-null value.
func (a *analysis) nullOr(ors [][]token, depth int) {
	if len(ors) != 2 {
		return
	}
	for i := range 2 {
		name, ok := isNullTest(ors[i])
		if !ok {
			continue
		}
		inner := &analysis{byKey: map[string]int{}}
		inner.expr(ors[1-i], depth+1)
		if j, ok := inner.byKey[asciiLower(name)]; ok {
			a.merge(name, inner.cons[j])
		}
		return
	}
}

// isNullTest recognises "c IS NULL" and "c ISNULL", possibly parenthesised.
func isNullTest(toks []token) (string, bool) {
	toks = unwrap(toks)
	switch {
	case len(toks) >= 3 && toks[len(toks)-2].is("IS") && toks[len(toks)-1].is("NULL"):
		return column(toks[:len(toks)-2])
	case len(toks) >= 2 && toks[len(toks)-1].is("ISNULL"):
		return column(toks[:len(toks)-1])
	}
	return "", false
}

// unwrap removes parentheses that enclose the whole of toks.
func unwrap(toks []token) []token {
	for len(toks) >= 2 && toks[0].isOp("(") && closing(toks, 0) == len(toks)-1 {
		toks = toks[1 : len(toks)-1]
	}
	return toks
}

// closing returns the index of the parenthesis closing the one at i, or -1.
func closing(toks []token, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch {
		case toks[j].isOp("("):
			depth++
		case toks[j].isOp(")"):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// nonNames are bare words that are values or operators, never column references.
var nonNames = map[string]bool{
	"null": true, "true": true, "false": true, "current_date": true, "current_time": true,
	"current_timestamp": true, "not": true, "and": true, "or": true, "is": true, "in": true,
	"between": true, "like": true, "glob": true, "match": true, "regexp": true, "case": true,
	"when": true, "then": true, "else": true, "end": true, "exists": true, "select": true,
	"collate": true, "escape": true, "isnull": true, "notnull": true, "cast": true, "distinct": true,
	"raise": true,
}

// column recognises a column reference: c, "c", [c], `c`, t.c or s.t.c, possibly
// parenthesised, and returns the column name.
func column(toks []token) (string, bool) {
	toks = unwrap(toks)
	if len(toks) != 1 && len(toks) != 3 && len(toks) != 5 {
		return "", false
	}
	for i := 1; i < len(toks); i += 2 {
		if !toks[i].isOp(".") {
			return "", false
		}
	}
	for i := 0; i < len(toks); i += 2 {
		t := toks[i]
		if t.kind != tWord && t.kind != tQuoted || (t.kind == tWord && nonNames[asciiLower(t.text)]) {
			return "", false
		}
	}
	return toks[len(toks)-1].name(), true
}

// lengthOf recognises length(c) and returns c.
func lengthOf(toks []token) (string, bool) {
	toks = unwrap(toks)
	if len(toks) < 4 || !toks[0].is("length") || !toks[1].isOp("(") || closing(toks, 1) != len(toks)-1 {
		return "", false
	}
	return column(toks[2 : len(toks)-1])
}

// literal recognises a string literal or a signed number, possibly parenthesised.
func literal(toks []token) (any, bool) {
	toks = unwrap(toks)
	neg := false
	if len(toks) == 2 && (toks[0].isOp("-") || toks[0].isOp("+")) {
		neg = toks[0].isOp("-")
		toks = toks[1:]
		if toks[0].kind != tNumber {
			return nil, false
		}
	}
	if len(toks) != 1 {
		return nil, false
	}
	switch toks[0].kind {
	case tString:
		return dequote(toks[0].text), true
	case tNumber:
		return number(toks[0].text, neg)
	}
	return nil, false
}

// number converts a SQLite numeric literal to int64 or float64.
func number(text string, neg bool) (any, bool) {
	text = strings.ReplaceAll(text, "_", "")
	if len(text) > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') {
		u, err := strconv.ParseUint(text[2:], 16, 64)
		if err != nil {
			return nil, false // SQLite: hex literal too big
		}
		v := int64(u)
		if neg {
			if v == math.MinInt64 {
				return nil, false
			}
			v = -v
		}
		return v, true
	}
	if !strings.ContainsAny(text, ".eE") {
		s := text
		if neg {
			s = "-" + s
		}
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return v, true
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, false
	}
	if neg {
		f = -f
	}
	return f, true
}

func numeric(v any) bool {
	switch v.(type) {
	case int64, float64:
		return true
	}
	return false
}

// compare orders two numbers (int64 or float64).
func compare(x, y any) int {
	xi, xok := x.(int64)
	yi, yok := y.(int64)
	if xok && yok {
		switch {
		case xi < yi:
			return -1
		case xi > yi:
			return 1
		}
		return 0
	}
	xf, yf := toFloat(x), toFloat(y)
	switch {
	case xf < yf:
		return -1
	case xf > yf:
		return 1
	}
	return 0
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return math.NaN()
}

// cmpOps are the recognised comparison operators, normalised; flip gives the
// operator seen from the other side ("5 < c" is "c > 5").
var (
	cmpOps = map[string]string{"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "=", "==": "="}
	flip   = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
)

// conjunct analyses one conjunct of a top-level AND.
func (a *analysis) conjunct(toks []token, depth int) {
	if len(toks) == 0 {
		return
	}
	if toks[0].isOp("(") && closing(toks, 0) == len(toks)-1 {
		a.expr(toks[1:len(toks)-1], depth+1)
		return
	}
	// Find the first top-level comparison operator.
	op := -1
	d := 0
	for i, t := range toks {
		if t.isOp("(") {
			d++
		} else if t.isOp(")") {
			d--
		} else if d == 0 && (t.is("IN") || t.is("BETWEEN") || (t.kind == tOp && cmpOps[t.text] != "")) {
			op = i
			break
		}
	}
	if op <= 0 {
		return
	}
	left, right, o := toks[:op], toks[op+1:], toks[op]
	switch {
	case o.is("IN"):
		name, ok := column(left)
		if !ok || len(right) < 3 || !right[0].isOp("(") || closing(right, 0) != len(right)-1 {
			return
		}
		var vals []any
		for _, item := range splitCommas(right[1 : len(right)-1]) {
			v, ok := literal(item)
			if !ok {
				return
			}
			vals = append(vals, v)
		}
		a.merge(name, Constraints{Enum: vals})
	case o.is("BETWEEN"):
		parts := split(right, "AND") // the BETWEEN's own AND is the first cut
		if len(parts) != 2 {
			return
		}
		lo, ok1 := literal(parts[0])
		hi, ok2 := literal(parts[1])
		if !ok1 || !ok2 || !numeric(lo) || !numeric(hi) {
			return
		}
		if name, ok := column(left); ok {
			a.merge(name, Constraints{Minimum: lo, Maximum: hi})
		} else if name, ok := lengthOf(left); ok {
			a.length(name, ">=", lo)
			a.length(name, "<=", hi)
		}
	default:
		cmp := cmpOps[o.text]
		subject, value := left, right
		if _, ok := literal(left); ok {
			subject, value, cmp = right, left, flip[cmp]
		}
		v, ok := literal(value)
		if !ok {
			return
		}
		if name, ok := column(subject); ok {
			if cmp == "=" {
				a.merge(name, Constraints{Enum: []any{v}})
				return
			}
			if !numeric(v) {
				return
			}
			var c Constraints
			switch cmp {
			case ">=":
				c.Minimum = v
			case ">":
				c.ExclusiveMinimum = v
			case "<=":
				c.Maximum = v
			case "<":
				c.ExclusiveMaximum = v
			}
			a.merge(name, c)
		} else if name, ok := lengthOf(subject); ok {
			if cmp == "=" {
				a.length(name, ">=", v)
				a.length(name, "<=", v)
			} else {
				a.length(name, cmp, v)
			}
		}
	}
}

// length records a constraint on length(name) cmp v (v an integer).
func (a *analysis) length(name, cmp string, v any) {
	n, ok := v.(int64)
	if !ok {
		return
	}
	switch cmp {
	case "<":
		n--
		cmp = "<="
	case ">":
		n++
		cmp = ">="
	}
	if n < 0 || n > math.MaxInt32 {
		return
	}
	i := int(n)
	var c Constraints
	if cmp == "<=" {
		c.MaxLength = &i
	} else {
		c.MinLength = &i
	}
	a.merge(name, c)
}

func splitCommas(toks []token) [][]token {
	var parts [][]token
	d, from := 0, 0
	for i, t := range toks {
		switch {
		case t.isOp("("):
			d++
		case t.isOp(")"):
			d--
		case d == 0 && t.isOp(","):
			parts = append(parts, toks[from:i])
			from = i + 1
		}
	}
	return append(parts, toks[from:])
}

// merge intersects b into the constraints on name, keeping the tightest bounds.
func (a *analysis) merge(name string, b Constraints) {
	c := a.entry(name)
	*c = Merge(*c, b)
}

// Merge combines what two constraints say about one column: both hold, so
// enums intersect and the tightest bounds win (of an inclusive and an
// exclusive bound on the same side, the tighter one stays).
func Merge(a, b Constraints) Constraints {
	c := &a
	if b.Enum != nil {
		if c.Enum == nil {
			c.Enum = b.Enum
		} else {
			kept := []any{}
			for _, v := range c.Enum {
				for _, w := range b.Enum {
					if v == w {
						kept = append(kept, v)
						break
					}
				}
			}
			c.Enum = kept
		}
	}
	tighter := func(old, new any, want int) any {
		if old == nil || (new != nil && compare(new, old) == want) {
			return new
		}
		return old
	}
	c.Minimum = tighter(c.Minimum, b.Minimum, 1)
	c.ExclusiveMinimum = tighter(c.ExclusiveMinimum, b.ExclusiveMinimum, 1)
	c.Maximum = tighter(c.Maximum, b.Maximum, -1)
	c.ExclusiveMaximum = tighter(c.ExclusiveMaximum, b.ExclusiveMaximum, -1)
	// Of an inclusive and an exclusive bound on the same side, keep the tighter.
	if c.Minimum != nil && c.ExclusiveMinimum != nil {
		if compare(c.ExclusiveMinimum, c.Minimum) >= 0 {
			c.Minimum = nil
		} else {
			c.ExclusiveMinimum = nil
		}
	}
	if c.Maximum != nil && c.ExclusiveMaximum != nil {
		if compare(c.ExclusiveMaximum, c.Maximum) <= 0 {
			c.Maximum = nil
		} else {
			c.ExclusiveMaximum = nil
		}
	}
	if b.MinLength != nil && (c.MinLength == nil || *b.MinLength > *c.MinLength) {
		c.MinLength = b.MinLength
	}
	if b.MaxLength != nil && (c.MaxLength == nil || *b.MaxLength < *c.MaxLength) {
		c.MaxLength = b.MaxLength
	}
	return *c
}
