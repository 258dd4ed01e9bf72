// Package ddl reads what only the CREATE TABLE text of a SQLite table tells:
// column CHECK constraints, table CHECK constraints, AUTOINCREMENT, generated
// columns, collations and table options. It tokenizes the statement the way
// SQLite does, so any quoting, comments and hostile names are handled.
package ddl

import (
	"errors"
	"fmt"
	"strings"
)

// Table is what a CREATE TABLE statement declares.
type Table struct {
	Schema        string // the schema qualifier as written ("main", "temp"), "" when none
	Name          string
	Temp          bool
	Columns       []Column // in order
	Autoincrement bool     // INTEGER PRIMARY KEY AUTOINCREMENT present
	WithoutRowid  bool
	Strict        bool
	Checks        []string // table-level CHECK expression texts, verbatim (inside the parens)
	// Body is where the column list begins: the offset of its "(" (a
	// rebuild keeps the text from there on under a new name).
	Body int
	// TableFKs names the columns that a table-level FOREIGN KEY constraint
	// lists (lower case).
	TableFKs map[string]bool
}

// Column is one column definition.
type Column struct {
	Name       string   // unquoted
	Type       string   // declared type text, e.g. "VARCHAR(20)", "" when none
	Checks     []string // column-level CHECK expression texts
	Generated  bool     // GENERATED ALWAYS AS (...) or AS (...)
	Stored     bool     // a generated column that is STORED (not VIRTUAL)
	Collate    string
	PrimaryKey bool // declared PRIMARY KEY on the column itself
	NotNull    bool // declared NOT NULL
	References bool // a column-level REFERENCES clause
	// Start and End are the definition's byte offsets in the statement
	// (name to last constraint): a rebuild replaces just that text.
	Start, End int
}

// ErrNotCreateTable is returned (wrapped) for statements that are not a
// CREATE TABLE with a column list, such as CREATE TABLE ... AS SELECT.
var ErrNotCreateTable = errors.New("ddl: not a CREATE TABLE statement with column definitions")

type parser struct {
	src  string
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) peekAt(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

// accept consumes the bare keyword kw if it is next.
func (p *parser) accept(kw string) bool {
	if p.peek().is(kw) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) acceptOp(op string) bool {
	if p.peek().isOp(op) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) errorf(format string, args ...any) error {
	t := p.peek()
	what := fmt.Sprintf("%q", t.text)
	if t.kind == tEOF {
		what = "end of input"
	}
	return fmt.Errorf("ddl: at offset %d (%s): %s", t.start, what, fmt.Sprintf(format, args...))
}

func (p *parser) expect(kw string) error {
	if !p.accept(kw) {
		return p.errorf("expected %s", kw)
	}
	return nil
}

func (p *parser) expectOp(op string) error {
	if !p.acceptOp(op) {
		return p.errorf("expected %q", op)
	}
	return nil
}

func (p *parser) expectName() (token, error) {
	t := p.peek()
	if !t.isName() {
		return t, p.errorf("expected a name")
	}
	p.pos++
	return t, nil
}

// group consumes a parenthesised group (the "(" must be next) and returns the
// tokens of its opening and closing parentheses.
func (p *parser) group() (open, close token, err error) {
	open = p.peek()
	if !open.isOp("(") {
		return open, open, p.errorf(`expected "("`)
	}
	depth := 0
	for {
		t := p.next()
		switch {
		case t.kind == tEOF:
			return open, t, p.errorf("unbalanced parentheses")
		case t.isOp("("):
			depth++
		case t.isOp(")"):
			depth--
			if depth == 0 {
				return open, t, nil
			}
		}
	}
}

// between returns the source text between two tokens, trimmed.
func (p *parser) between(open, close token) string {
	return strings.TrimSpace(p.src[open.end:close.start])
}

// ParseCreateTable parses one CREATE TABLE statement as stored in sqlite_schema.sql
// (any quoting: "x", [x], `x`, 'x' as identifier, bare; comments -- and /* */; any case;
// TEMP; IF NOT EXISTS; schema-qualified names). CREATE TABLE ... AS SELECT and
// anything else that is not a CREATE TABLE with a column list return an error.
func ParseCreateTable(sql string) (*Table, error) {
	toks := lex(sql)
	for _, t := range toks {
		if t.kind == tIllegal {
			return nil, fmt.Errorf("ddl: at offset %d: illegal token %q", t.start, t.text)
		}
	}
	p := &parser{src: sql, toks: toks}
	tbl := &Table{}
	if !p.accept("CREATE") {
		return nil, fmt.Errorf("%w: %v", ErrNotCreateTable, p.errorf("expected CREATE"))
	}
	if p.accept("TEMP") || p.accept("TEMPORARY") {
		tbl.Temp = true
	}
	if !p.accept("TABLE") {
		return nil, fmt.Errorf("%w: %v", ErrNotCreateTable, p.errorf("expected TABLE"))
	}
	if p.peek().is("IF") && p.peekAt(1).is("NOT") && p.peekAt(2).is("EXISTS") {
		p.pos += 3
	}
	name, err := p.expectName()
	if err != nil {
		return nil, err
	}
	tbl.Name = name.name()
	if p.acceptOp(".") {
		n2, err := p.expectName()
		if err != nil {
			return nil, err
		}
		tbl.Schema, tbl.Name = tbl.Name, n2.name()
	}
	if p.peek().is("AS") {
		return nil, fmt.Errorf("%w: CREATE TABLE ... AS SELECT", ErrNotCreateTable)
	}
	tbl.Body = p.peek().start
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	if err := p.body(tbl); err != nil {
		return nil, err
	}
	if err := p.options(tbl); err != nil {
		return nil, err
	}
	if len(tbl.Columns) == 0 {
		return nil, errors.New("ddl: table has no columns")
	}
	return tbl, nil
}

// startsTableConstraint reports whether t begins a table constraint.
func startsTableConstraint(t token) bool {
	return t.is("CONSTRAINT") || t.is("PRIMARY") || t.is("UNIQUE") || t.is("CHECK") || t.is("FOREIGN")
}

// body parses the column definitions and table constraints up to and
// including the closing parenthesis.
func (p *parser) body(tbl *Table) error {
	for {
		if startsTableConstraint(p.peek()) {
			break
		}
		if err := p.columnDef(tbl); err != nil {
			return err
		}
		if p.acceptOp(")") {
			return nil
		}
		if err := p.expectOp(","); err != nil {
			return err
		}
	}
	// Table constraints; SQLite lets the separating comma be omitted.
	for {
		if err := p.tableConstraint(tbl); err != nil {
			return err
		}
		if p.acceptOp(")") {
			return nil
		}
		p.acceptOp(",")
	}
}

// typeStop lists the keywords that end a type name and begin a column constraint.
var typeStop = map[string]bool{
	"CONSTRAINT": true, "PRIMARY": true, "NOT": true, "NULL": true, "UNIQUE": true,
	"CHECK": true, "DEFAULT": true, "COLLATE": true, "REFERENCES": true, "AS": true,
	"DEFERRABLE": true,
}

func (p *parser) columnDef(tbl *Table) error {
	name, err := p.expectName()
	if err != nil {
		return err
	}
	col := Column{Name: name.name(), Start: name.start}
	// Type name: a run of names, then optionally (n) or (n, m).
	var first, last token
	n := 0
	for {
		t := p.peek()
		if !t.isName() || (t.kind == tWord && typeStop[strings.ToUpper(t.text)]) ||
			(t.is("GENERATED") && p.peekAt(1).is("ALWAYS")) {
			break
		}
		if n == 0 {
			first = t
		}
		last = t
		n++
		p.pos++
	}
	if n > 0 && p.peek().isOp("(") {
		_, last, err = p.group()
		if err != nil {
			return err
		}
	}
	if n > 0 {
		col.Type = p.src[first.start:last.end]
		if q := col.Type[0]; q == '"' || q == '\'' || q == '`' || q == '[' {
			col.Type = dequote(col.Type) // as sqlite3Dequote does on the type text
		}
	}
	if err := p.columnConstraints(tbl, &col); err != nil {
		return err
	}
	col.End = p.toks[p.pos-1].end
	tbl.Columns = append(tbl.Columns, col)
	return nil
}

func (p *parser) conflictClause() error {
	if p.peek().is("ON") && p.peekAt(1).is("CONFLICT") {
		p.pos += 2
		if _, err := p.expectName(); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) columnConstraints(tbl *Table, col *Column) error {
	for {
		t := p.peek()
		switch {
		case t.isOp(",") || t.isOp(")"):
			return nil
		case p.accept("CONSTRAINT"):
			if _, err := p.expectName(); err != nil {
				return err
			}
		case p.accept("PRIMARY"):
			if err := p.expect("KEY"); err != nil {
				return err
			}
			col.PrimaryKey = true
			if !p.accept("ASC") {
				p.accept("DESC")
			}
			if err := p.conflictClause(); err != nil {
				return err
			}
			if p.accept("AUTOINCREMENT") {
				tbl.Autoincrement = true
			}
		case t.is("NOT") && p.peekAt(1).is("NULL"):
			p.pos += 2
			col.NotNull = true
			if err := p.conflictClause(); err != nil {
				return err
			}
		case p.accept("NULL"), p.accept("UNIQUE"):
			if err := p.conflictClause(); err != nil {
				return err
			}
		case p.accept("CHECK"):
			open, close, err := p.group()
			if err != nil {
				return err
			}
			col.Checks = append(col.Checks, p.between(open, close))
		case p.accept("DEFAULT"):
			if err := p.defaultValue(); err != nil {
				return err
			}
		case p.accept("COLLATE"):
			n, err := p.expectName()
			if err != nil {
				return err
			}
			col.Collate = n.name()
		case p.accept("REFERENCES"):
			col.References = true
			if err := p.foreignKeyClause(); err != nil {
				return err
			}
		case t.is("NOT") && p.peekAt(1).is("DEFERRABLE"), t.is("DEFERRABLE"):
			if err := p.deferSubclause(); err != nil {
				return err
			}
		case t.is("GENERATED") || t.is("AS"):
			if p.accept("GENERATED") {
				if err := p.expect("ALWAYS"); err != nil {
					return err
				}
			}
			if err := p.expect("AS"); err != nil {
				return err
			}
			if _, _, err := p.group(); err != nil {
				return err
			}
			col.Generated = true
			switch {
			case p.accept("STORED"):
				col.Stored = true
			case p.accept("VIRTUAL"):
			}
		default:
			return p.errorf("unexpected token in column %q", col.Name)
		}
	}
}

// defaultValue skips DEFAULT's operand: (expr), a signed number, or one literal/name.
func (p *parser) defaultValue() error {
	if p.peek().isOp("(") {
		_, _, err := p.group()
		return err
	}
	if p.acceptOp("+") || p.acceptOp("-") {
		if p.peek().kind != tNumber {
			return p.errorf("expected a number after the sign")
		}
		p.pos++
		return nil
	}
	switch p.peek().kind {
	case tNumber, tString, tBlob, tWord, tQuoted:
		p.pos++
		return nil
	}
	return p.errorf("expected a default value")
}

// foreignKeyClause parses what follows REFERENCES.
func (p *parser) foreignKeyClause() error {
	if _, err := p.expectName(); err != nil {
		return err
	}
	if p.peek().isOp("(") {
		if _, _, err := p.group(); err != nil {
			return err
		}
	}
	for {
		t := p.peek()
		switch {
		case t.is("ON"):
			if p.peekAt(1).is("CONFLICT") {
				return nil // belongs to no foreign key; let the caller decide
			}
			p.pos++
			if !(p.accept("DELETE") || p.accept("UPDATE") || p.accept("INSERT")) {
				return p.errorf("expected DELETE or UPDATE")
			}
			switch {
			case p.accept("SET"):
				if !(p.accept("NULL") || p.accept("DEFAULT")) {
					return p.errorf("expected NULL or DEFAULT")
				}
			case p.accept("NO"):
				if err := p.expect("ACTION"); err != nil {
					return err
				}
			case p.accept("CASCADE"), p.accept("RESTRICT"):
			default:
				return p.errorf("expected a foreign key action")
			}
		case t.is("MATCH"):
			p.pos++
			if _, err := p.expectName(); err != nil {
				return err
			}
		case t.is("NOT") && p.peekAt(1).is("DEFERRABLE"), t.is("DEFERRABLE"):
			if err := p.deferSubclause(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (p *parser) deferSubclause() error {
	p.accept("NOT")
	if err := p.expect("DEFERRABLE"); err != nil {
		return err
	}
	if p.accept("INITIALLY") {
		if !(p.accept("DEFERRED") || p.accept("IMMEDIATE")) {
			return p.errorf("expected DEFERRED or IMMEDIATE")
		}
	}
	return nil
}

func (p *parser) tableConstraint(tbl *Table) error {
	if p.accept("CONSTRAINT") {
		if _, err := p.expectName(); err != nil {
			return err
		}
	}
	switch {
	case p.accept("PRIMARY"):
		if err := p.expect("KEY"); err != nil {
			return err
		}
		_, close, err := p.group()
		if err != nil {
			return err
		}
		if p.toks[p.pos-2].is("AUTOINCREMENT") && p.pos-1 > 0 && p.toks[p.pos-1].start == close.start {
			tbl.Autoincrement = true
		}
		return p.conflictClause()
	case p.accept("UNIQUE"):
		if _, _, err := p.group(); err != nil {
			return err
		}
		return p.conflictClause()
	case p.accept("CHECK"):
		open, close, err := p.group()
		if err != nil {
			return err
		}
		tbl.Checks = append(tbl.Checks, p.between(open, close))
		return p.conflictClause()
	case p.accept("FOREIGN"):
		if err := p.expect("KEY"); err != nil {
			return err
		}
		open, close, err := p.group()
		if err != nil {
			return err
		}
		if tbl.TableFKs == nil {
			tbl.TableFKs = map[string]bool{}
		}
		for _, t := range p.toks {
			if t.start > open.start && t.end < close.end && t.isName() {
				tbl.TableFKs[asciiLower(t.name())] = true
			}
		}
		if err := p.expect("REFERENCES"); err != nil {
			return err
		}
		return p.foreignKeyClause()
	case p.peek().isOp(",") || p.peek().isOp(")"):
		return nil // a bare CONSTRAINT name
	}
	return p.errorf("expected a table constraint")
}

// options parses the table options after the closing parenthesis.
func (p *parser) options(tbl *Table) error {
	for p.peek().kind != tEOF && !p.peek().isOp(";") {
		switch {
		case p.accept("WITHOUT"):
			if err := p.expect("ROWID"); err != nil {
				return err
			}
			tbl.WithoutRowid = true
		case p.accept("STRICT"):
			tbl.Strict = true
		default:
			return p.errorf("unknown table option")
		}
		if !p.acceptOp(",") {
			break
		}
	}
	p.acceptOp(";")
	if p.peek().kind != tEOF {
		return p.errorf("unexpected text after the statement")
	}
	return nil
}
