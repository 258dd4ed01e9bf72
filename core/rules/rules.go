// Package rules is the row rules of the config (CONTRACT, "Users and row
// rules"): a filter over a row's columns that names the signed-in user,
//
//	owner = @user.id OR (@user.role = 'editor' AND status IN ('draft', 'review'))
//
// parsed once (Parse), checked against a table's columns (Check: an unknown
// column or a comparison of unlike types is a config error), and then
// either turned into the store's SQL for one user with every value bound
// (Bind), never spliced, or evaluated on a row the core already holds
// (Eval: live events and the change history, which no query reads again).
// The two agree: a comparison binds or compares the value as the column's
// kind, parts that name no column are decided for the user before any SQL
// is written, and NULL is never equal to anything.
package rules

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen bounds a rule's text; maxDepth its nesting.
const (
	MaxLen   = 4096
	maxDepth = 64
)

// Ops are the rules a table may have.
var Ops = []string{"list", "view", "create", "update", "delete"}

// User is who a rule is bound for.
type User struct {
	ID    int64
	Email string
	Role  string
}

// Kind is what a column holds, as far as a rule compares it.
type Kind int

const (
	Number Kind = iota + 1
	Text
	Bool
	Bytes // never compared
)

// Column is what Check and Bind need of a table's column.
type Column struct {
	Name string
	Kind Kind
}

// Rule is one parsed expression.
type Rule struct {
	Text string
	root *node
}

type nodeKind int

const (
	nAnd nodeKind = iota
	nOr
	nNot
	nConst // val: true or false
	nCmp   // op, l, r
	nIn    // l, list, neg
	nLike  // l, r, neg
	nNull  // l, neg: IS [NOT] NULL
)

type node struct {
	kind nodeKind
	op   string // nCmp: = != < <= > >=
	neg  bool
	val  bool
	kids []*node // nAnd, nOr, nNot
	l, r *operand
	list []*operand
}

// operand is a column, a literal or one of the user's values.
type operand struct {
	col  string
	lit  any    // string, int64 or float64
	user string // "id", "email", "role"
	kind Kind   // the column's, set by Check
}

// Parse reads a rule's text.
func Parse(text string) (*Rule, error) {
	if len(text) > MaxLen {
		return nil, fmt.Errorf("a rule is at most %d bytes", MaxLen)
	}
	if !utf8.ValidString(text) {
		return nil, errors.New("a rule must be UTF-8 text")
	}
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEnd {
		return nil, fmt.Errorf("unexpected %s after the end of the expression", t)
	}
	return &Rule{Text: text, root: root}, nil
}

// --- lexer ---

type tokKind int

const (
	tEnd tokKind = iota
	tIdent
	tWord // a keyword: AND OR NOT IN LIKE IS NULL TRUE FALSE
	tString
	tNumber
	tUser
	tOp
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string // ident: the name; word: upper case; string: the value; op: the operator
	num  any
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tEnd:
		return "the end"
	case tString:
		return strconv.Quote(t.text)
	case tIdent:
		return "column " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}

var keywords = map[string]bool{"AND": true, "OR": true, "NOT": true, "IN": true, "LIKE": true, "IS": true,
	"NULL": true, "TRUE": true, "FALSE": true}

func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
		if i >= len(s) {
			return append(out, token{kind: tEnd, pos: i}), nil
		}
		start := i
		c := s[i]
		switch {
		case c == '(':
			out = append(out, token{kind: tLParen, text: "(", pos: i})
			i++
		case c == ')':
			out = append(out, token{kind: tRParen, text: ")", pos: i})
			i++
		case c == ',':
			out = append(out, token{kind: tComma, text: ",", pos: i})
			i++
		case c == '=':
			out = append(out, token{kind: tOp, text: "=", pos: i})
			i++
		case c == '!' || c == '<' || c == '>':
			op, n := string(c), 1
			if i+1 < len(s) && (s[i+1] == '=' || c == '<' && s[i+1] == '>') {
				op, n = s[i:i+2], 2
			}
			switch op {
			case "!":
				return nil, fmt.Errorf("at %d: '!' must be followed by '='", i)
			case "<>":
				op = "!="
			}
			out = append(out, token{kind: tOp, text: op, pos: i})
			i += n
		case c == '\'':
			text, end, ok := quoted(s, i)
			if !ok {
				return nil, fmt.Errorf("at %d: a string is not closed", start)
			}
			out = append(out, token{kind: tString, text: text, pos: start})
			i = end
		case c == '"':
			text, end, ok := quoted(s, i)
			if !ok {
				return nil, fmt.Errorf("at %d: a quoted column name is not closed", start)
			}
			i = end
			if text == "" {
				return nil, fmt.Errorf("at %d: an empty column name", start)
			}
			out = append(out, token{kind: tIdent, text: text, pos: start})
		case c == '-' || c >= '0' && c <= '9' || c == '.':
			i++
			for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
				(s[i] == '+' || s[i] == '-') && (s[i-1] == 'e' || s[i-1] == 'E')) {
				i++
			}
			text := s[start:i]
			if n, err := strconv.ParseInt(text, 10, 64); err == nil {
				out = append(out, token{kind: tNumber, text: text, num: n, pos: start})
			} else if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				out = append(out, token{kind: tNumber, text: text, num: f, pos: start})
			} else {
				return nil, fmt.Errorf("at %d: %q is not a number", start, text)
			}
		case c == '@':
			i++
			for i < len(s) && (isIdent(rune(s[i])) || s[i] == '.') {
				i++
			}
			name := s[start:i]
			switch name {
			case "@user.id", "@user.email", "@user.role":
				out = append(out, token{kind: tUser, text: name, pos: start})
			default:
				return nil, fmt.Errorf("at %d: unknown value %q (rules know @user.id, @user.email and @user.role)", start, name)
			}
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			if !isIdent(r) || unicode.IsDigit(r) {
				return nil, fmt.Errorf("at %d: unexpected %q", i, string(r))
			}
			for i < len(s) {
				r, n := utf8.DecodeRuneInString(s[i:])
				if !isIdent(r) {
					break
				}
				i += n
			}
			word := s[start:i]
			if up := strings.ToUpper(word); keywords[up] {
				out = append(out, token{kind: tWord, text: up, pos: start})
			} else {
				out = append(out, token{kind: tIdent, text: word, pos: start})
			}
		}
	}
}

// quoted reads the text quoted by s[i] (' or "), a doubled quote standing
// for one, and where it ends; ok is false when it is not closed.
func quoted(s string, i int) (text string, end int, ok bool) {
	q := s[i]
	var b strings.Builder
	for i++; i < len(s); i++ {
		if s[i] != q {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == q {
			b.WriteByte(q)
			i++
			continue
		}
		return b.String(), i + 1, true
	}
	return "", 0, false
}

func isIdent(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// --- parser ---

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) word(w string) bool {
	if t := p.peek(); t.kind == tWord && t.text == w {
		p.i++
		return true
	}
	return false
}

func (p *parser) or(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errors.New("a rule nests too deeply")
	}
	return p.chain(depth, "OR", nOr, p.and)
}

func (p *parser) and(depth int) (*node, error) { return p.chain(depth, "AND", nAnd, p.not) }

// chain parses next (WORD next)*: an OR of ANDs, an AND of NOTs.
func (p *parser) chain(depth int, word string, kind nodeKind, next func(int) (*node, error)) (*node, error) {
	first, err := next(depth)
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for p.word(word) {
		n, err := next(depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &node{kind: kind, kids: kids}, nil
}

func (p *parser) not(depth int) (*node, error) {
	if p.word("NOT") {
		if depth > maxDepth {
			return nil, errors.New("a rule nests too deeply")
		}
		n, err := p.not(depth + 1)
		if err != nil {
			return nil, err
		}
		return &node{kind: nNot, kids: []*node{n}}, nil
	}
	return p.primary(depth)
}

func (p *parser) primary(depth int) (*node, error) {
	t := p.peek()
	if t.kind == tLParen {
		p.i++
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.next().kind != tRParen {
			return nil, fmt.Errorf("at %d: a '(' is not closed", t.pos)
		}
		return n, nil
	}
	if t.kind == tWord && (t.text == "TRUE" || t.text == "FALSE") {
		// A bare true or false is the whole answer ("false": no one but an
		// administrator); as an operand it would be a value.
		if k := p.toks[p.i+1]; k.kind != tOp && !(k.kind == tWord && (k.text == "IS" || k.text == "IN" || k.text == "LIKE" || k.text == "NOT")) {
			p.i++
			return &node{kind: nConst, val: t.text == "TRUE"}, nil
		}
	}
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch op := p.next(); {
	case op.kind == tOp:
		r, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &node{kind: nCmp, op: op.text, l: l, r: r}, nil
	case op.kind == tWord && op.text == "IS":
		neg := p.word("NOT")
		if !p.word("NULL") {
			return nil, fmt.Errorf("at %d: IS must be followed by NULL or NOT NULL", op.pos)
		}
		return &node{kind: nNull, l: l, neg: neg}, nil
	case op.kind == tWord && (op.text == "IN" || op.text == "LIKE" || op.text == "NOT"):
		neg := op.text == "NOT"
		if neg {
			op = p.next()
			if op.kind != tWord || op.text != "IN" && op.text != "LIKE" {
				return nil, fmt.Errorf("at %d: NOT here must be followed by IN or LIKE", op.pos)
			}
		}
		if op.text == "LIKE" {
			r, err := p.operand()
			if err != nil {
				return nil, err
			}
			return &node{kind: nLike, l: l, r: r, neg: neg}, nil
		}
		if p.next().kind != tLParen {
			return nil, fmt.Errorf("at %d: IN must be followed by a list in parentheses", op.pos)
		}
		var list []*operand
		for {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			if len(list) == 1000 {
				return nil, errors.New("an IN list has at most 1000 values")
			}
			list = append(list, o)
			if sep := p.next(); sep.kind == tRParen {
				break
			} else if sep.kind != tComma {
				return nil, fmt.Errorf("at %d: expected ',' or ')' in an IN list, found %s", sep.pos, sep)
			}
		}
		return &node{kind: nIn, l: l, list: list, neg: neg}, nil
	default:
		return nil, fmt.Errorf("at %d: expected a comparison (=, !=, <, <=, >, >=, IN, LIKE, IS NULL) after %s, found %s", op.pos, t, op)
	}
}

func (p *parser) operand() (*operand, error) {
	t := p.next()
	switch t.kind {
	case tIdent:
		return &operand{col: t.text}, nil
	case tString:
		return &operand{lit: t.text}, nil
	case tNumber:
		return &operand{lit: t.num}, nil
	case tUser:
		return &operand{user: strings.TrimPrefix(t.text, "@user.")}, nil
	case tWord:
		switch t.text {
		case "TRUE":
			return &operand{lit: int64(1)}, nil
		case "FALSE":
			return &operand{lit: int64(0)}, nil
		}
	}
	return nil, fmt.Errorf("at %d: expected a column, a value or @user, found %s", t.pos, t)
}

// --- checking ---

// Check binds the rule to a table's columns: every column it names must
// be there, and each comparison must compare like with like. It returns the
// rule ready for Bind and Eval (the receiver is left as parsed, so one
// parse serves a table whose columns change).
func (r *Rule) Check(cols []Column) (*Rule, error) {
	byName := make(map[string]Kind, len(cols))
	for _, c := range cols {
		byName[c.Name] = c.Kind
	}
	root, err := checkNode(r.root, byName)
	if err != nil {
		return nil, err
	}
	return &Rule{Text: r.Text, root: root}, nil
}

func checkNode(n *node, cols map[string]Kind) (*node, error) {
	out := *n
	out.kids = nil
	for _, k := range n.kids {
		c, err := checkNode(k, cols)
		if err != nil {
			return nil, err
		}
		out.kids = append(out.kids, c)
	}
	var err error
	if n.l != nil {
		if out.l, err = checkOperand(n.l, cols); err != nil {
			return nil, err
		}
	}
	if n.r != nil {
		if out.r, err = checkOperand(n.r, cols); err != nil {
			return nil, err
		}
	}
	out.list = nil
	for _, o := range n.list {
		c, err := checkOperand(o, cols)
		if err != nil {
			return nil, err
		}
		out.list = append(out.list, c)
	}
	switch n.kind {
	case nCmp:
		if err := comparable(out.l, out.r, n.op); err != nil {
			return nil, err
		}
	case nIn:
		for _, o := range out.list {
			if err := comparable(out.l, o, "IN"); err != nil {
				return nil, err
			}
		}
	case nLike:
		for _, o := range []*operand{out.l, out.r} {
			if o.col != "" && o.kind != Text {
				return nil, fmt.Errorf("LIKE compares text: column %q does not hold text", o.col)
			}
			if o.lit != nil {
				if _, ok := o.lit.(string); !ok {
					return nil, errors.New("LIKE compares text: a pattern is a string in quotes")
				}
			}
			if o.user == "id" {
				return nil, errors.New("LIKE compares text: @user.id is a number")
			}
		}
	case nNull:
		if out.l.col == "" {
			return nil, errors.New("IS NULL asks about a column")
		}
	}
	return &out, nil
}

func checkOperand(o *operand, cols map[string]Kind) (*operand, error) {
	if o.col == "" {
		return o, nil
	}
	k, ok := cols[o.col]
	if !ok {
		return nil, fmt.Errorf("unknown column %q", o.col)
	}
	c := *o
	c.kind = k
	return &c, nil
}

// kindOf is what an operand holds: a column's kind, a literal's, a user value's.
func (o *operand) kindOf() Kind {
	switch {
	case o.col != "":
		return o.kind
	case o.user == "id":
		return Number
	case o.user != "":
		return Text
	}
	if _, ok := o.lit.(string); ok {
		return Text
	}
	return Number
}

func (o *operand) name() string {
	switch {
	case o.col != "":
		return "column " + strconv.Quote(o.col)
	case o.user != "":
		return "@user." + o.user
	}
	return fmt.Sprintf("%#v", o.lit)
}

// comparable: a number with a number, text with text; a boolean column
// with true, false, 0 or 1; a text column may also hold @user.id (as its
// decimal text). Bytes compare with nothing.
func comparable(l, r *operand, op string) error {
	lk, rk := l.kindOf(), r.kindOf()
	if lk == Bytes || rk == Bytes {
		return fmt.Errorf("%s: bytes cannot be compared", op)
	}
	if lk == Bool {
		lk = Number
	}
	if rk == Bool {
		rk = Number
	}
	if lk == rk {
		return nil
	}
	if l.col != "" && l.kind == Text && r.user == "id" || r.col != "" && r.kind == Text && l.user == "id" {
		return nil
	}
	return fmt.Errorf("%s compares %s with %s, which are not alike (a number and text)", op, l.name(), r.name())
}

// Columns are the columns the rule names.
func (r *Rule) Columns() []string {
	var out []string
	seen := map[string]bool{}
	var walk func(n *node)
	add := func(o *operand) {
		if o != nil && o.col != "" && !seen[o.col] {
			seen[o.col] = true
			out = append(out, o.col)
		}
	}
	walk = func(n *node) {
		for _, k := range n.kids {
			walk(k)
		}
		add(n.l)
		add(n.r)
		for _, o := range n.list {
			add(o)
		}
	}
	walk(r.root)
	return out
}

// --- SQL ---

// Dialect is what a store writes differently.
type Dialect struct {
	// Ident quotes a column name.
	Ident func(string) string
	// Like is the condition that expr matches a pattern bound as one
	// parameter, case-insensitive, with '\' escaping % and _.
	Like func(expr string) string
	// UnicodeCase: Like ignores the case of every letter (Postgres's
	// ILIKE), not only of ASCII ones (SQLite's LIKE).
	UnicodeCase bool
}

// Bind writes the rule as a condition for user u: the SQL and its
// arguments, one per '?'. Parts that name no column are decided here.
func (r *Rule) Bind(u User, d Dialect) (string, []any) {
	var b strings.Builder
	var args []any
	bindNode(&b, &args, r.root, u, d)
	return b.String(), args
}

func bindNode(b *strings.Builder, args *[]any, n *node, u User, d Dialect) {
	if v, ok := decided(n, u, d); ok {
		if v {
			b.WriteString("1 = 1")
		} else {
			b.WriteString("1 = 0")
		}
		return
	}
	switch n.kind {
	case nAnd, nOr:
		sep := " AND "
		if n.kind == nOr {
			sep = " OR "
		}
		b.WriteByte('(')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			bindNode(b, args, k, u, d)
		}
		b.WriteByte(')')
	case nNot:
		// NOT of an unknown (NULL) is unknown, in SQL and in Eval alike;
		// COALESCE makes both "not true" so a hidden NULL stays hidden.
		b.WriteString("NOT COALESCE((")
		bindNode(b, args, n.kids[0], u, d)
		b.WriteString("), 1 = 0)")
	case nCmp:
		l, r, op := n.l, n.r, n.op
		if l.col == "" { // the column on the left
			l, r, op = r, l, flip(op)
		}
		b.WriteString(d.Ident(l.col) + " " + sqlOp(op) + " ")
		bindOperand(b, args, r, l, u, d)
	case nIn:
		b.WriteString(d.Ident(n.l.col))
		if n.neg {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN (")
		for i, o := range n.list {
			if i > 0 {
				b.WriteString(", ")
			}
			bindOperand(b, args, o, n.l, u, d)
		}
		b.WriteByte(')')
	case nLike:
		if n.neg {
			b.WriteString("NOT ")
		}
		if n.r.col != "" { // a column as the pattern: as it is, no escaping
			b.WriteString("(" + d.Ident(n.l.col) + " LIKE " + d.Ident(n.r.col) + ")")
			return
		}
		b.WriteString("(" + d.Like(d.Ident(n.l.col)) + ")")
		*args = append(*args, pattern(n.r, u))
	case nNull:
		b.WriteString(d.Ident(n.l.col) + " IS ")
		if n.neg {
			b.WriteString("NOT ")
		}
		b.WriteString("NULL")
	}
}

// bindOperand writes o (compared with column c) as a parameter of c's kind,
// or as c's neighbour column.
func bindOperand(b *strings.Builder, args *[]any, o, c *operand, u User, d Dialect) {
	if o.col != "" {
		b.WriteString(d.Ident(o.col))
		return
	}
	b.WriteByte('?')
	*args = append(*args, as(value(o, u), c.kind))
}

// pattern is a LIKE operand's pattern: a literal as written (its % and _
// are wildcards), a user's value matched literally (a % in an email is no
// wildcard).
func pattern(o *operand, u User) string {
	if o.user != "" {
		return likeEscape(value(o, u).(string))
	}
	return o.lit.(string)
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func value(o *operand, u User) any {
	switch o.user {
	case "id":
		return u.ID
	case "email":
		return u.Email
	case "role":
		return u.Role
	}
	return o.lit
}

// as converts v to what a column of kind k holds.
func as(v any, k Kind) any {
	switch k {
	case Text:
		if n, ok := v.(int64); ok {
			return strconv.FormatInt(n, 10)
		}
	case Bool:
		if f, ok := v.(float64); ok {
			return int64(f)
		}
	}
	return v
}

func flip(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

func sqlOp(op string) string {
	if op == "!=" {
		return "<>"
	}
	return op
}

// decided is the value of a part that names no column, for user u.
func decided(n *node, u User, d Dialect) (bool, bool) {
	switch n.kind {
	case nConst:
		return n.val, true
	case nAnd, nOr:
		all := true
		for _, k := range n.kids {
			v, ok := decided(k, u, d)
			if ok && v == (n.kind == nOr) {
				return v, true // one true decides an OR, one false an AND
			}
			all = all && ok
		}
		return n.kind == nAnd, all
	case nNot:
		v, ok := decided(n.kids[0], u, d)
		return !v, ok
	case nCmp:
		if n.l.col != "" || n.r.col != "" {
			return false, false
		}
		return compare(value(n.l, u), value(n.r, u), n.op) == yes, true
	case nIn:
		if n.l.col != "" {
			return false, false
		}
		for _, o := range n.list {
			if o.col != "" {
				return false, false
			}
		}
		return in(value(n.l, u), n.list, u, nil) == yes != n.neg, true
	case nLike:
		if n.l.col != "" || n.r.col != "" {
			return false, false
		}
		s, _ := value(n.l, u).(string)
		return like(s, pattern(n.r, u), d.UnicodeCase) != n.neg, true
	}
	return false, false
}

// --- evaluation ---

// truth is SQL's three-valued logic.
type truth int8

const (
	no truth = iota
	yes
	unknown
)

// Eval says whether the row whose values get gives (by column name) meets
// the rule for user u, as the SQL of Bind would.
func (r *Rule) Eval(u User, d Dialect, get func(col string) any) bool {
	return eval(r.root, u, d.UnicodeCase, get) == yes
}

func eval(n *node, u User, uc bool, get func(string) any) truth {
	switch n.kind {
	case nConst:
		if n.val {
			return yes
		}
		return no
	case nAnd:
		out := yes
		for _, k := range n.kids {
			switch eval(k, u, uc, get) {
			case no:
				return no
			case unknown:
				out = unknown
			}
		}
		return out
	case nOr:
		out := no
		for _, k := range n.kids {
			switch eval(k, u, uc, get) {
			case yes:
				return yes
			case unknown:
				out = unknown
			}
		}
		return out
	case nNot:
		if eval(n.kids[0], u, uc, get) == yes {
			return no
		}
		return yes // see bindNode: NOT unknown is written as not true
	case nCmp:
		l, r := operandValue(n.l, n.r, u, get), operandValue(n.r, n.l, u, get)
		return compare(l, r, n.op)
	case nIn:
		t := in(operandValue(n.l, nil, u, get), n.list, u, func(o *operand) any { return operandValue(o, n.l, u, get) })
		if n.neg && t != unknown {
			t = yes - t
		}
		return t
	case nLike:
		l := operandValue(n.l, nil, u, get)
		if l == nil {
			return unknown
		}
		var p string
		if n.r.col != "" {
			pv, ok := get(n.r.col).(string)
			if !ok {
				return unknown
			}
			p = pv
		} else {
			p = pattern(n.r, u)
		}
		s, ok := l.(string)
		if !ok {
			s = fmt.Sprint(l)
		}
		if like(s, p, uc) != n.neg {
			return yes
		}
		return no
	case nNull:
		if (operandValue(n.l, nil, u, get) == nil) != n.neg {
			return yes
		}
		return no
	}
	return no
}

// operandValue is o's value in the row, as the kind of the column it is
// compared with (other), as Bind binds it.
func operandValue(o, other *operand, u User, get func(string) any) any {
	if o.col != "" {
		return get(o.col)
	}
	v := value(o, u)
	if other != nil && other.col != "" {
		v = as(v, other.kind)
	}
	return v
}

func in(v any, list []*operand, u User, val func(*operand) any) truth {
	if v == nil {
		return unknown
	}
	out := no
	for _, o := range list {
		var w any
		if val != nil {
			w = val(o)
		} else {
			w = value(o, u)
		}
		switch compare(v, w, "=") {
		case yes:
			return yes
		case unknown:
			out = unknown
		}
	}
	return out
}

// compare compares two values: numbers as numbers, text as bytes (SQLite's
// BINARY collation, Postgres's "C"), a number never equal to text.
func compare(a, b any, op string) truth {
	if a == nil || b == nil {
		return unknown
	}
	var c int
	af, aNum := num(a)
	bf, bNum := num(b)
	switch {
	case aNum && bNum:
		c = cmp3(af, bf)
	case !aNum && !bNum:
		as, bs := text(a), text(b)
		c = strings.Compare(as, bs)
	default:
		// SQLite orders every number before every text; Check lets no
		// such comparison through a column of a declared kind.
		c = -1
		if !aNum {
			c = 1
		}
	}
	var ok bool
	switch op {
	case "=":
		ok = c == 0
	case "!=":
		ok = c != 0
	case "<":
		ok = c < 0
	case "<=":
		ok = c <= 0
	case ">":
		ok = c > 0
	case ">=":
		ok = c >= 0
	}
	if ok {
		return yes
	}
	return no
}

func cmp3(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case float64:
		return n, true
	case bool:
		if n {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func text(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case []byte:
		return string(s)
	}
	return fmt.Sprint(v)
}

// like matches s against a LIKE pattern: % any run, _ one character, \
// escapes; letters match in either case (ASCII ones only, as SQLite's
// LIKE, unless unicodeCase).
func like(s, p string, unicodeCase bool) bool {
	// Iterative with one backtrack point: linear in practice, never
	// exponential on hostile patterns of many %.
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			pc, pn := utf8.DecodeRuneInString(p[pi:])
			switch {
			case pc == '%':
				starP, starS = pi+pn, si
				pi += pn
				continue
			case pc == '_':
				_, sn := utf8.DecodeRuneInString(s[si:])
				si += sn
				pi += pn
				continue
			default:
				if pc == '\\' && pi+pn < len(p) {
					pi += pn
					pc, pn = utf8.DecodeRuneInString(p[pi:])
				}
				sc, sn := utf8.DecodeRuneInString(s[si:])
				if sc == pc || (unicodeCase || sc < utf8.RuneSelf && pc < utf8.RuneSelf) && unicode.ToLower(sc) == unicode.ToLower(pc) {
					si += sn
					pi += pn
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, sn := utf8.DecodeRuneInString(s[starS:])
		starS += sn
		si, pi = starS, starP
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}

// --- a table's rules ---

// Table is one table's rules and defaults, checked against its columns.
type Table struct {
	Ops map[string]*Rule // by operation (Ops), ready for Bind and Eval
	// Defaults: column -> "id", "email" or "role" of the signed-in user.
	Defaults map[string]string
	// Broken says why the config's rules do not fit the table (a column
	// renamed or dropped since), or "".
	Broken string
}

// Column is also what CheckTable needs of a column: its kind, and
// whether the database computes it (no default can fill it).
type TableColumn struct {
	Column
	Generated bool
}

// CheckTable checks a table's parsed rules (by operation) and defaults
// (column -> "@user.id", "@user.email" or "@user.role") against its
// columns.
func CheckTable(table string, cols []TableColumn, parsed map[string]*Rule, defaults map[string]string) *Table {
	out := &Table{Ops: map[string]*Rule{}, Defaults: map[string]string{}}
	plain := make([]Column, len(cols))
	byName := map[string]TableColumn{}
	for i, c := range cols {
		plain[i] = c.Column
		byName[c.Name] = c
	}
	var problems []string
	for _, op := range Ops {
		r := parsed[op]
		if r == nil {
			continue
		}
		checked, err := r.Check(plain)
		if err != nil {
			problems = append(problems, "rules."+op+" ("+r.Text+"): "+err.Error())
			continue
		}
		out.Ops[op] = checked
	}
	names := make([]string, 0, len(defaults))
	for k := range defaults {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, col := range names {
		v := strings.TrimPrefix(defaults[col], "@user.")
		c, ok := byName[col]
		switch {
		case !ok:
			problems = append(problems, "defaults."+col+": unknown column "+strconv.Quote(col))
		case c.Generated:
			problems = append(problems, "defaults."+col+": the column is computed by the database")
		case v != "id" && c.Kind != Text:
			problems = append(problems, "defaults."+col+": @user."+v+" is text, the column does not hold text")
		case v == "id" && c.Kind != Text && c.Kind != Number:
			problems = append(problems, "defaults."+col+": @user.id is a number, the column holds neither numbers nor text")
		default:
			out.Defaults[col] = v
		}
	}
	if problems != nil {
		out.Broken = "config: table " + strconv.Quote(table) + ": " + strings.Join(problems, "; ")
	}
	return out
}
