// Package schemaedit is a schema edit made from the app (issue 18, "Schema
// editing"): what the user asked for (Edit), checked for what every store
// refuses alike (names, types, default values, CHECK expressions), and the
// store's answer (Plan): the DDL it would run, and what would be lost.
//
// The stores turn an Edit into their own DDL (store.Store.PlanEdit); the
// engine shows it, runs it once inside a transaction that it rolls back to
// count what would change (a preview), and runs it for real only when
// nothing is lost or the user said that loss is meant. Nothing here runs
// SQL: the package is pure.
package schemaedit

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Ops an edit may be.
const (
	CreateTable = "createTable"
	RenameTable = "renameTable"
	DropTable   = "dropTable"
	AddColumn   = "addColumn"
	AlterColumn = "alterColumn" // rename, retype, NOT NULL, DEFAULT, CHECK, foreign key: the column's whole new definition
	DropColumn  = "dropColumn"
	AddIndex    = "addIndex"
	DropIndex   = "dropIndex"
)

// Ops lists them in the order the API documents them.
var Ops = []string{CreateTable, RenameTable, DropTable, AddColumn, AlterColumn, DropColumn, AddIndex, DropIndex}

// Edit is one change to the structure.
type Edit struct {
	Op    string `json:"op"`
	Table string `json:"table"`
	// Column names the column an alterColumn or dropColumn changes.
	Column string `json:"column,omitempty"`
	// To is a renameTable's new name.
	To string `json:"to,omitempty"`
	// Def is the column an addColumn adds, or an alterColumn's new
	// definition of Column (its name may differ: a rename).
	Def *Column `json:"def,omitempty"`
	// Columns are a createTable's columns, in order.
	Columns []Column `json:"columns,omitempty"`
	// Index is an addIndex's index; IndexName a dropIndex's.
	Index     *Index `json:"index,omitempty"`
	IndexName string `json:"indexName,omitempty"`
	// Confirm: what the preview said would be lost may be lost.
	Confirm bool `json:"confirm,omitempty"`
	// DryRun: only the preview (the DDL and what would change).
	DryRun bool `json:"dryRun,omitempty"`
}

// Column is one column's definition.
type Column struct {
	Name string `json:"name"`
	// Type is the declared type, as the store spells it ("TEXT",
	// "VARCHAR(40)", "NUMERIC(10,2)"); "" declares none (SQLite).
	Type    string `json:"type,omitempty"`
	NotNull bool   `json:"notNull,omitempty"`
	// Default is a literal (string, number, boolean); nil: none. A
	// string naming one of DefaultKeywords is that keyword, not the text.
	Default any `json:"default,omitempty"`
	// PrimaryKey: part of a createTable's primary key (in column order).
	PrimaryKey bool `json:"primaryKey,omitempty"`
	// AutoKey: a createTable's key that the database fills (SQLite's
	// INTEGER PRIMARY KEY, Postgres's identity column).
	AutoKey bool   `json:"autoKey,omitempty"`
	Unique  bool   `json:"unique,omitempty"`
	Check   string `json:"check,omitempty"` // a CHECK expression on this column
	// References is a foreign key to another table's column.
	References *Reference `json:"references,omitempty"`
}

// Reference is a foreign key's target.
type Reference struct {
	Table    string `json:"table"`
	Column   string `json:"column"`
	OnDelete string `json:"onDelete,omitempty"` // one of OnDelete; "" for none (NO ACTION)
}

// OnDelete are the actions a foreign key may take when its row goes.
var OnDelete = []string{"NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"}

// Index is an index to add.
type Index struct {
	Name    string   `json:"name,omitempty"` // "" lets the store name it
	Columns []string `json:"columns"`
	Unique  bool     `json:"unique,omitempty"`
}

// DefaultKeywords are the defaults that are not literals, on every store.
var DefaultKeywords = []string{"CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME"}

// Plan is what a store would run for an edit.
type Plan struct {
	// Steps run in order inside one transaction.
	Steps []Step
	// Rebuild: SQLite's table rebuild, which must run with foreign key
	// enforcement off (set outside the transaction: dropping the old table
	// would otherwise fire ON DELETE actions on the rows that point at it).
	Rebuild bool
	// Renamed is the table's name after the edit ("" when it is gone).
	Renamed string
	// Notes say what the plan does that the user might not expect
	// ("the table is rebuilt: its rows, indexes and triggers are kept").
	Notes []string
}

// Step is one statement of a plan, and what it would lose.
type Step struct {
	SQL string
	// Show is how the step reads to the user when it differs from SQL
	// ("-": not shown): a rebuild's scaffolding is named with the
	// project's prefix, which no page shows (CONTRACT).
	Show string
	// Check, when set, is what the step loses or must not break.
	Check *Check
}

// Check is a query of one number or truth run with a step.
type Check struct {
	Query string
	// Before: run right before the step's statement, else right after.
	Before bool
	// Refuse: a true answer aborts the edit, nothing applied, with
	// Message; else the answer counts values the step loses or changes,
	// a loss the user must confirm, worded by Message with %d for it.
	Refuse  bool
	Message string
}

// Counted is a step that loses what count counts (loss words it, %d the number).
func Counted(sql, count string, before bool, loss string) Step {
	return Step{SQL: sql, Check: &Check{Query: count, Before: before, Message: loss}}
}

// DropRows is DROP TABLE (sql), counting the rows of rel (table, quoted) first.
func DropRows(sql, rel, table string) Step {
	return Counted(sql, "SELECT count(*) FROM "+rel, true, "%d rows of "+table+" will be deleted")
}

// DropValues is DROP COLUMN (sql), counting its values in rel first.
func DropValues(sql, rel, column string) Step {
	return Counted(sql, "SELECT count(*) FROM "+rel+" WHERE "+Quote(column)+" IS NOT NULL", true, "%d values of "+column+" will be deleted")
}

// SQL is the plan's statements as the user sees them (Step.Show).
func (p *Plan) SQL() []string {
	out := make([]string, 0, len(p.Steps))
	for _, s := range p.Steps {
		switch s.Show {
		case "":
			out = append(out, s.SQL)
		case "-":
		default:
			out = append(out, s.Show)
		}
	}
	return out
}

// Error is an edit the user must change: a 400 or 422 with its message.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{fmt.Sprintf(format, args...)} }

// Errorf is an Error: the user's to fix.
func Errorf(format string, args ...any) error { return errorf(format, args...) }

// FirstErr is err, or otherwise when err is nil.
func FirstErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// SameRef says whether two foreign key targets are the same (fold: names
// compared as SQLite does, ASCII case-insensitively).
func SameRef(a, b *Reference, fold bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	eq := func(x, y string) bool { return x == y || fold && strings.EqualFold(x, y) }
	return eq(a.Table, b.Table) && eq(a.Column, b.Column) && a.OnDelete == b.OnDelete
}

// Int reads a count or a truth a store answered (int64, float64, bool, or
// Postgres's text).
func Int(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case bool:
		if x {
			return 1
		}
	case string:
		if x == "t" || x == "true" {
			return 1
		}
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// Find is t's column of that name (fold: else the first whose name equals
// it ASCII case-insensitively, as SQLite finds names), or nil.
func Find(t *model.Table, name string, fold bool) *model.Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	if fold {
		for _, c := range t.Columns {
			if strings.EqualFold(c.Name, name) {
				return c
			}
		}
	}
	return nil
}

// NewStructure is t's structure with what the model already tells: each
// column's DEFAULT as the store wrote it.
func NewStructure(t *model.Table) *Structure {
	st := &Structure{Checks: map[string]string{}, Defaults: map[string]string{}}
	for _, c := range t.Columns {
		if c.Default != nil {
			st.Defaults[c.Name] = c.Default.SQL
		}
	}
	return st
}

// MaxName is the longest table, column or index name an edit may give.
const MaxName = 128

// Name checks a new name: not empty, not too long, valid UTF-8 with no
// control characters, and not the project's own prefix or SQLite's.
func Name(what, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errorf("the %s needs a name", what)
	case len(name) > MaxName:
		return errorf("the %s name is longer than %d bytes", what, MaxName)
	case !utf8.ValidString(name):
		return errorf("the %s name is not valid UTF-8", what)
	case strings.TrimSpace(name) != name:
		return errorf("the %s name %q begins or ends with a space", what, name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return errorf("the %s name %q holds a control character", what, name)
		}
	}
	low := strings.ToLower(name)
	if strings.HasPrefix(low, "_nakedhtmx") || strings.HasPrefix(low, "sqlite_") || strings.HasPrefix(low, "pg_") {
		return errorf("the %s name %q is reserved", what, name)
	}
	return nil
}

// typeName says whether t is words (a letter, then letters, digits and
// _), at most four, each with an optional (n) or (p,s) of up to nine
// digits (single spaces allowed around them), then an optional []. By hand:
// regexp is not in the core, for its size (matchers_test.go holds the
// regexp it answers as).
func typeName(t string) bool {
	i := 0
	at := func(c byte) bool { return i < len(t) && t[i] == c }
	alpha := func() bool { return i < len(t) && (t[i] >= 'A' && t[i] <= 'Z' || t[i] >= 'a' && t[i] <= 'z') }
	digit := func() bool { return i < len(t) && t[i] >= '0' && t[i] <= '9' }
	word := func() bool {
		if !alpha() {
			return false
		}
		for i++; alpha() || digit() || at('_'); i++ {
		}
		return true
	}
	space := func() {
		if at(' ') {
			i++
		}
	}
	number := func(neg bool) bool {
		if neg && at('-') {
			i++
		}
		n := 0
		for ; digit(); i++ {
			n++
		}
		return n >= 1 && n <= 9
	}
	args := func() bool {
		save := i
		space()
		if !at('(') {
			i = save
			return true
		}
		i++
		space()
		if !number(false) {
			return false
		}
		space()
		if at(',') {
			i++
			space()
			if !number(true) {
				return false
			}
			space()
		}
		if !at(')') {
			return false
		}
		i++
		return true
	}
	if !word() || !args() {
		return false
	}
	for k := 0; k < 3 && at(' ') && i+1 < len(t) && (t[i+1] >= 'A' && t[i+1] <= 'Z' || t[i+1] >= 'a' && t[i+1] <= 'z'); k++ {
		i++
		if !word() || !args() {
			return false
		}
	}
	if at('[') && i+1 < len(t) && t[i+1] == ']' {
		i += 2
	}
	return i == len(t)
}

// Type checks a declared type: words, an optional (n) or (p,s) and [].
// Nothing else can reach the DDL, so a type cannot carry SQL of its own.
func Type(t string) error {
	if t == "" {
		return nil
	}
	if len(t) > 64 || !typeName(t) {
		return errorf("the type %q is not a type name (words, then (n) or (p,s) at most)", t)
	}
	return nil
}

// Expr checks a CHECK expression's text: one expression, balanced
// parentheses, no statement separator, comment or dollar quoting outside
// its strings, so that it stays one expression inside CHECK (...) on every
// store. The store then compiles it and says what else is wrong.
func Expr(e string) error {
	if strings.TrimSpace(e) == "" {
		return errorf("the CHECK expression is empty")
	}
	if len(e) > 4096 || !utf8.ValidString(e) {
		return errorf("the CHECK expression is too long or not valid UTF-8")
	}
	depth := 0
	for i := 0; i < len(e); i++ {
		switch ch := e[i]; ch {
		case '\'', '"', '`':
			j := strings.IndexByte(e[i+1:], ch)
			if j < 0 {
				return errorf("the CHECK expression has an unclosed quote")
			}
			i += j + 1
		case '(':
			depth++
		case ')':
			if depth--; depth < 0 {
				return errorf("the CHECK expression has an unbalanced parenthesis")
			}
		case ';', '$', '\\', '[', ']', '{', '}':
			return errorf("the CHECK expression may not hold %q outside a string", string(ch))
		case '-', '/':
			if i+1 < len(e) && (e[i+1] == '-' && ch == '-' || e[i+1] == '*' && ch == '/') {
				return errorf("the CHECK expression may not hold a comment")
			}
		default:
			if ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' {
				return errorf("the CHECK expression holds a control character")
			}
		}
	}
	if depth != 0 {
		return errorf("the CHECK expression has an unbalanced parenthesis")
	}
	return nil
}

// Literal is v as an SQL literal for a DEFAULT: strings quoted (quotes
// doubled), numbers as Go writes them, booleans as TRUE and FALSE (both
// stores read them), the DefaultKeywords as themselves.
func Literal(v any) (string, error) {
	switch x := v.(type) {
	case string:
		for _, k := range DefaultKeywords {
			if strings.EqualFold(x, k) {
				return k, nil
			}
		}
		if !utf8.ValidString(x) || strings.ContainsRune(x, 0) {
			return "", errorf("the default is not valid UTF-8 text")
		}
		return "'" + strings.ReplaceAll(x, "'", "''") + "'", nil
	case bool:
		if x {
			return "TRUE", nil
		}
		return "FALSE", nil
	case float64:
		if x != x || x > 1.7976931348623157e308 || x < -1.7976931348623157e308 {
			return "", errorf("the default is not a finite number")
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if x < 0 {
			return "(" + s + ")", nil
		}
		return s, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	}
	return "", errorf("a default is text, a number or true/false")
}

// Check is the edit checked for what every store refuses alike; the store
// checks the rest (the table and columns it names exist, what its ALTER
// can do).
func (e *Edit) Check() error {
	if e.Table == "" {
		return errorf("the edit names no table")
	}
	switch e.Op {
	case CreateTable:
		if err := Name("table", e.Table); err != nil {
			return err
		}
		if len(e.Columns) == 0 {
			return errorf("a new table needs at least one column")
		}
		if len(e.Columns) > 2000 {
			return errorf("a new table may have at most 2000 columns")
		}
		seen := map[string]bool{}
		autos := 0
		for i := range e.Columns {
			c := &e.Columns[i]
			if err := c.check(); err != nil {
				return err
			}
			if seen[strings.ToLower(c.Name)] {
				return errorf("two columns are named %q", c.Name)
			}
			seen[strings.ToLower(c.Name)] = true
			if c.AutoKey {
				autos++
			}
		}
		if autos > 1 {
			return errorf("a table has at most one key the database fills")
		}
		if autos == 1 {
			for _, c := range e.Columns {
				if c.PrimaryKey && !c.AutoKey {
					return errorf("a key the database fills is the whole primary key")
				}
			}
		}
	case RenameTable:
		if err := Name("table", e.To); err != nil {
			return err
		}
	case DropTable:
	case AddColumn:
		if e.Def == nil {
			return errorf("the edit gives no column")
		}
		if e.Def.PrimaryKey || e.Def.AutoKey {
			return errorf("a key column cannot be added to a table that has rows; make a new table")
		}
		return e.Def.check()
	case AlterColumn:
		if e.Column == "" || e.Def == nil {
			return errorf("the edit names no column, or gives no new definition")
		}
		if e.Def.PrimaryKey || e.Def.AutoKey {
			return errorf("the primary key cannot be changed here")
		}
		return e.Def.check()
	case DropColumn:
		if e.Column == "" {
			return errorf("the edit names no column")
		}
	case AddIndex:
		if e.Index == nil || len(e.Index.Columns) == 0 {
			return errorf("an index needs at least one column")
		}
		if e.Index.Name != "" {
			if err := Name("index", e.Index.Name); err != nil {
				return err
			}
		}
	case DropIndex:
		if e.IndexName == "" {
			return errorf("the edit names no index")
		}
	default:
		return errorf("unknown schema edit %q (one of %s)", e.Op, strings.Join(Ops, ", "))
	}
	return nil
}

func (c *Column) check() error {
	if err := Name("column", c.Name); err != nil {
		return err
	}
	if err := Type(c.Type); err != nil {
		return err
	}
	if c.Default != nil {
		if _, err := Literal(c.Default); err != nil {
			return err
		}
	}
	if c.Check != "" {
		if err := Expr(c.Check); err != nil {
			return err
		}
	}
	if r := c.References; r != nil {
		if r.Table == "" || r.Column == "" {
			return errorf("a foreign key names a table and a column")
		}
		if r.OnDelete != "" && !contains(OnDelete, r.OnDelete) {
			return errorf("ON DELETE is one of %s", strings.Join(OnDelete, ", "))
		}
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Quote is an identifier double-quoted, quotes doubled: the one spelling
// both stores read.
func Quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// Definition is a column's definition text after its name and type: the
// constraints both stores spell alike. Key constraints are the caller's.
func (c *Column) Definition() string {
	var b strings.Builder
	b.WriteString(Quote(c.Name))
	if c.Type != "" {
		b.WriteString(" " + c.Type)
	}
	if c.NotNull {
		b.WriteString(" NOT NULL")
	}
	if c.Unique {
		b.WriteString(" UNIQUE")
	}
	if c.Default != nil {
		lit, _ := Literal(c.Default) // checked
		b.WriteString(" DEFAULT " + lit)
	}
	if c.Check != "" {
		b.WriteString(" CHECK (" + c.Check + ")")
	}
	if r := c.References; r != nil {
		b.WriteString(" REFERENCES " + Quote(r.Table) + " (" + Quote(r.Column) + ")")
		if r.OnDelete != "" {
			b.WriteString(" ON DELETE " + r.OnDelete)
		}
	}
	return b.String()
}

// Structure is what the structure page shows beyond the reflected model.
type Structure struct {
	// DDL is the table's CREATE statement where the store keeps one
	// (SQLite), else "".
	DDL string
	// Checks are each column's own CHECK expression text, by column name.
	Checks map[string]string
	// Defaults are each column's DEFAULT as the store wrote it, by name.
	Defaults map[string]string
	Indexes  []IndexInfo
	// Triggers are the names of the user's triggers on the table.
	Triggers []string
}

// IndexInfo is one index of a table.
type IndexInfo struct {
	Name    string
	Columns []string
	Unique  bool
	// Droppable: made by CREATE INDEX (not a key's or a constraint's).
	Droppable bool
}

// Current is c's definition as the structure page offers it for a change:
// its type, NOT NULL, UNIQUE, default, CHECK and a one-column foreign key.
// A default that is an expression is given as its SQL text, which a store
// takes back only unchanged.
func Current(c *model.Column, st *Structure) *Column {
	out := &Column{Name: c.Name, Type: c.Type, NotNull: c.NotNull, Unique: c.Unique, Check: st.Checks[c.Name]}
	if c.Default != nil {
		if c.Default.Literal {
			out.Default = c.Default.Value
		} else {
			out.Default = c.Default.SQL
		}
	}
	if r := c.References; r != nil && (r.Key == nil || len(r.Key.From) == 1) {
		out.References = &Reference{Table: r.Table, Column: r.Column}
	}
	return out
}

// CreateBody is a new table's column list, "(...)": each column's
// definition, the auto key as autoKey spells it (SQLite's INTEGER PRIMARY
// KEY, Postgres's identity), and a PRIMARY KEY constraint for the others.
func CreateBody(cols []Column, autoKey func(c Column) string) string {
	var defs, keys []string
	for _, c := range cols {
		if c.AutoKey {
			defs = append(defs, autoKey(c))
			continue
		}
		if c.PrimaryKey {
			keys = append(keys, Quote(c.Name))
		}
		defs = append(defs, c.Definition())
	}
	if len(keys) > 0 {
		defs = append(defs, "PRIMARY KEY ("+strings.Join(keys, ", ")+")")
	}
	return "(\n  " + strings.Join(defs, ",\n  ") + "\n)"
}

// IndexColumns are an index's columns of t, quoted, and its name: the
// edit's, or the table's and columns' joined with "_" and "_idx", cut to
// maxName bytes.
func IndexColumns(t *model.Table, ix *Index, fold bool, maxName int) (name string, cols []string, err error) {
	name = ix.Name
	auto := name == ""
	if auto {
		name = t.Name
	}
	for _, n := range ix.Columns {
		c := Find(t, n, fold)
		if c == nil {
			return "", nil, errorf("%s has no column %q", t.Name, n)
		}
		cols = append(cols, Quote(c.Name))
		if auto {
			name += "_" + c.Name
		}
	}
	if auto {
		name += "_idx"
		if len(name) > maxName {
			name = name[:maxName]
		}
	}
	return name, cols, nil
}

// Infer is, for each of n columns of rows (nil: no value), the narrowest
// declared type all its values fit (kindOfValue, widened), "TEXT" for one
// with none, and whether its values are all there and all different (a
// key).
func Infer(n int, rows [][]any) (types []string, unique []bool) {
	for i := 0; i < n; i++ {
		kind, seen, uniq := "", map[string]bool{}, len(rows) > 0
		for _, row := range rows {
			v := row[i]
			if v == nil {
				uniq = false
				continue
			}
			s := CellText(v)
			if seen[s] {
				uniq = false
			}
			seen[s] = true
			kind = widen(kind, kindOfValue(v))
		}
		if kind == "" {
			kind = "TEXT"
		}
		types, unique = append(types, kind), append(unique, uniq)
	}
	return types, unique
}

// CellText is a value as the page shows it.
func CellText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// kindOfValue is the narrowest declared type a value fits: INTEGER (no
// leading zeros: '007' stays text, as it was written), REAL, BOOLEAN, DATE,
// DATETIME, else TEXT.
func kindOfValue(v any) string {
	switch x := v.(type) {
	case bool:
		return "BOOLEAN"
	case json.Number:
		v = x.String()
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return "INTEGER"
		}
		return "REAL"
	case string:
	default:
		return "TEXT"
	}
	s := v.(string)
	if _, err := strconv.ParseInt(s, 10, 64); err == nil && (s == "0" || !strings.HasPrefix(strings.TrimPrefix(s, "-"), "0")) && !strings.HasPrefix(s, "+") {
		return "INTEGER"
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && strings.Trim(s, "0123456789.-eE") == "" &&
		!strings.HasPrefix(strings.TrimPrefix(s, "-"), "00") {
		return "REAL"
	}
	switch strings.ToLower(s) {
	case "true", "false":
		return "BOOLEAN"
	}
	if len(s) == 10 {
		if _, err := time.Parse("2006-01-02", s); err == nil {
			return "DATE"
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if _, err := time.Parse(layout, s); err == nil {
			return "DATETIME"
		}
	}
	return "TEXT"
}

// widen is the type that holds values of both kinds ("" holds nothing yet).
func widen(a, b string) string {
	switch {
	case a == "" || a == b:
		return b
	case a == "INTEGER" && b == "REAL", a == "REAL" && b == "INTEGER":
		return "REAL"
	}
	return "TEXT"
}
