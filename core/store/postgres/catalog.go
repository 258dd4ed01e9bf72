package postgres

// Postgres's catalog, reflected into core/model: pg_class, pg_attribute,
// pg_type, pg_constraint, read with the schema's name bound.

import (
	"slices"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store/sqlite/ddl"
	"github.com/nakedhtmx/nakedhtmx/core/textscan"
)

// What a column's type is, by the base type's name (a domain's base type
// stands for it), as CONTRACT.md's type table has it.
var kinds = map[string]model.Kind{
	"int2": model.Integer, "int4": model.Integer, "int8": model.Integer, "oid": model.Integer,
	"float4": model.Number, "float8": model.Number, "numeric": model.Number, "money": model.String,
	"bool": model.Boolean, "date": model.Date, "timestamp": model.DateTime, "timestamptz": model.DateTime,
	"bytea": model.Blob,
}

func (s Store) reflect(db sqldb.DB) (*model.Database, error) {
	version, err := s.SchemaVersion(db)
	if err != nil {
		return nil, err
	}
	rels, err := db.Query(`SELECT c.oid, c.relname, c.relkind, coalesce(obj_description(c.oid, 'pg_class'), ''),
  coalesce(v.is_insertable_into = 'YES' OR v.is_trigger_insertable_into = 'YES', false),
  coalesce(v.is_updatable = 'YES' OR v.is_trigger_updatable = 'YES', false),
  coalesce(v.is_updatable = 'YES' OR v.is_trigger_deletable = 'YES', false)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN information_schema.views v ON v.table_schema = n.nspname AND v.table_name = c.relname
WHERE n.nspname = ? AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname`, s.schema())
	if err != nil {
		return nil, err
	}
	byOID := map[int64]*model.Table{}
	var tables []*model.Table
	writes := map[*model.Table][]string{} // what an updatable view takes, by Postgres's say
	for _, r := range rels.Values {
		oid, _ := sqldb.Int(r[0])
		name := sqldb.Text(r[1])
		if model.IsInternal(name) {
			continue
		}
		kind := sqldb.Text(r[2])
		t := model.NewTable(name, kind == "v" || kind == "m")
		// No RowKey: Postgres rows have no stable rowid (a ctid moves with
		// every update); a row is found by its key.
		t.Comment = sqldb.Text(r[3])
		for i, op := range []string{"insert", "update", "delete"} {
			if yes, _ := sqldb.Int(r[4+i]); yes == 1 && kind == "v" {
				writes[t] = append(writes[t], op)
			}
		}
		byOID[oid] = t
		tables = append(tables, t)
	}
	cols, err := db.Query(`SELECT a.attrelid, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), coalesce(col_description(a.attrelid, a.attnum), ''),
  bt.typname, bt.typcategory, a.attnotnull OR t.typnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
  CASE WHEN bt.typtype = 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = bt.oid) END,
  CASE WHEN bt.typname IN ('varchar', 'bpchar') AND coalesce(nullif(a.atttypmod, -1), t.typtypmod) > 4 THEN coalesce(nullif(a.atttypmod, -1), t.typtypmod) - 4 END,
  CASE WHEN t.typtype = 'd' THEN (SELECT string_agg(pg_get_constraintdef(k.oid), ' AND ') FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c') END,
  CASE WHEN bt.typcategory = 'A' THEN (SELECT e.typname FROM pg_type e WHERE e.oid = bt.typelem) ELSE bt.typname END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = ? AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`, s.schema())
	if err != nil {
		return nil, err
	}
	byNum := map[[2]int64]*model.Column{} // (relation, attnum): attnums count dropped columns too
	column := func(rel int64, n int) *model.Column { return byNum[[2]int64{rel, int64(n)}] }
	for _, r := range cols.Values {
		oid, _ := sqldb.Int(r[0])
		t := byOID[oid]
		if t == nil {
			continue
		}
		c := &model.Column{Index: len(t.Columns), Name: sqldb.Text(r[1]), Type: sqldb.Text(r[3]), Comment: sqldb.Text(r[4])}
		base := sqldb.Text(r[5])
		k, ok := kinds[base]
		if !ok {
			k = model.String // text, varchar, uuid, json, enums, time, interval, arrays, ...
		}
		if sqldb.Text(r[6]) == "A" {
			k = model.String // arrays show as their text, {a,b}
		}
		c.Kind = k
		if base == "uuid" && sqldb.Text(r[6]) != "A" {
			c.Format = "uuid"
		}
		notNull, _ := sqldb.Int(r[7])
		c.NotNull = notNull == 1
		if def := r[8]; def != nil {
			c.Default = parseDefault(sqldb.Text(def))
		}
		if id := sqldb.Text(r[9]); id != "" {
			c.Default = &model.Default{SQL: "generated " + map[string]string{"a": "always", "d": "by default"}[id] + " as identity"}
		}
		c.Generated = sqldb.Text(r[10]) == "s"
		if enum := r[11]; enum != nil {
			for _, v := range ddl.AnalyzeCheck("x IN (" + sqldb.Text(enum) + ")")["x"].Enum {
				c.Check.Enum = append(c.Check.Enum, v)
			}
		}
		if n, ok := sqldb.Int(r[12]); ok {
			m := int(n)
			c.MaxLength = &m
		}
		if check := r[13]; check != nil {
			c.Check = ddl.Merge(c.Check, ddl.AnalyzeCheck(checkText(sqldb.Text(check), "value"))["value"])
		}
		c.Unordered = unordered[sqldb.Text(r[14])]
		t.Add(c)
		num, _ := sqldb.Int(r[2])
		byNum[[2]int64{oid, num}] = c
	}
	cons, err := db.Query(`SELECT k.conrelid, k.contype, k.conkey::text, k.confrelid, k.confkey::text, pg_get_constraintdef(k.oid)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ? AND k.contype IN ('p', 'u', 'f', 'c')
ORDER BY k.conrelid, k.contype DESC, k.conname`, s.schema())
	if err != nil {
		return nil, err
	}
	for _, r := range cons.Values {
		oid, _ := sqldb.Int(r[0])
		t := byOID[oid]
		if t == nil {
			continue
		}
		key := attnums(sqldb.Text(r[2]))
		switch sqldb.Text(r[1]) {
		case "p":
			for i, n := range key {
				if c := column(oid, n); c != nil {
					c.PK = i + 1
					t.PK = append(t.PK, c)
				}
			}
		case "u":
			if len(key) == 1 {
				if c := column(oid, key[0]); c != nil {
					c.Unique = true
				}
			}
		case "f":
			// Every column is read by now, the parent's too; a parent in
			// another schema is not served, and its key is left out.
			parent, _ := sqldb.Int(r[3])
			p := byOID[parent]
			if p == nil {
				continue
			}
			f, to := model.ForeignKey{Table: p.Name}, attnums(sqldb.Text(r[4]))
			for i := range key {
				fc, pc := column(oid, key[i]), column(parent, to[i])
				if fc == nil || pc == nil {
					f.From = nil
					break
				}
				f.From = append(f.From, fc.Name)
				f.To = append(f.To, pc.Name)
			}
			if f.From != nil {
				t.ForeignKeys = append(t.ForeignKeys, f)
			}
		case "c":
			for name, cons := range ddl.AnalyzeCheck(checkText(sqldb.Text(r[5]), "")) {
				for _, c := range t.Columns {
					if strings.EqualFold(c.Name, name) {
						c.Check = ddl.Merge(c.Check, cons)
						break
					}
				}
			}
		}
	}
	for t, ops := range writes {
		// As on SQLite: a view's rows are found by a column named id; one
		// without it takes inserts only.
		var key *model.Column
		for _, c := range t.Columns {
			if strings.EqualFold(c.Name, "id") {
				key = c
				break
			}
		}
		for _, op := range ops {
			if op == "insert" || key != nil {
				t.ViewWrites = append(t.ViewWrites, op)
			}
		}
		if key != nil && len(t.ViewWrites) > 0 && (slices.Contains(t.ViewWrites, "update") || slices.Contains(t.ViewWrites, "delete")) {
			key.PK = 1
			t.PK = []*model.Column{key}
		}
	}
	for _, t := range tables {
		if len(t.PK) == 1 && t.PK[0].Kind == model.Integer && t.PK[0].Default != nil && !t.PK[0].Default.Literal &&
			(strings.HasPrefix(t.PK[0].Default.SQL, "nextval(") || strings.HasPrefix(t.PK[0].Default.SQL, "generated ")) {
			t.AutoKey = t.PK[0] // the database assigns it, as SQLite assigns an INTEGER PRIMARY KEY
		}
		if !t.View && len(t.PK) == 0 {
			// Without a key a row cannot be found again (Postgres has no
			// stable rowid): such a table is listed read-only, like a view.
			t.View = true
		}
	}
	d := model.NewDatabase(tables, version)
	d.NullsLast = true // Postgres's default order: NULL after every value ascending
	if rs, err := db.Query(`SELECT to_regclass('"_nakedhtmx"."_nakedhtmx_users"') IS NOT NULL`); err != nil {
		return nil, err
	} else if len(rs.Values) == 1 {
		d.Users, _ = rs.Values[0][0].(bool)
		if n, ok := sqldb.Int(rs.Values[0][0]); ok && n == 1 {
			d.Users = true
		}
	}
	return d, nil
}

// attnums reads an int2[] as text: {1,3}.
func attnums(s string) []int {
	s = strings.Trim(s, "{}")
	if s == "" {
		return nil
	}
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, _ := strconv.Atoi(strings.TrimSpace(p))
		out = append(out, n)
	}
	return out
}

// The text matchers below are regexps written by hand (regexp is not in
// the core, for its size); matchers_test.go holds each regexp and checks
// that they answer alike.

// stripCasts takes out the casts pg_get_expr and pg_get_constraintdef
// write: ::type, a quoted or schema-qualified name, the multi-word types,
// (n) or (p,s), and [] (castRe in matchers_test.go).
func stripCasts(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i+1 < len(s); {
		if s[i] == ':' && s[i+1] == ':' {
			if end, ok := castAt(s, i+2); ok {
				b.WriteString(s[last:i])
				last, i = end, end
				continue
			}
		}
		i++
	}
	if last == 0 {
		return s
	}
	return b.String() + s[last:]
}

// castAt is the end of the type name of a cast at i.
func castAt(s string, i int) (int, bool) {
	j, ok := textscan.Quoted(s, i, '"', true)
	for _, w := range []string{"double precision", "character varying", "bit varying"} {
		if !ok {
			j, ok = textscan.Lit(s, i, w, false)
		}
	}
	if !ok {
		j, ok = timeType(s, i)
	}
	if !ok {
		if e := textscan.Ident(s, i); e > i {
			j, ok = e, true
			if e < len(s) && s[e] == '.' {
				if e2 := textscan.Ident(s, e+1); e2 > e+1 {
					j = e2
				}
			}
		}
	}
	if !ok {
		return i, false
	}
	if j < len(s) && s[j] == '(' {
		if d, ok := textscan.Digits(s, j+1); ok {
			if d < len(s) && s[d] == ',' {
				if d2, ok := textscan.Digits(s, d+1); ok && d2 < len(s) && s[d2] == ')' {
					d = d2
				}
			}
			if d < len(s) && s[d] == ')' {
				j = d + 1
			}
		}
	}
	for j+1 < len(s) && s[j] == '[' && s[j+1] == ']' {
		j += 2
	}
	return j, true
}

// timeType is (?:timestamp|time)(?:\(\d+\))? with(?:out)? time zone at i.
func timeType(s string, i int) (int, bool) {
	for _, w := range []string{"timestamp", "time"} {
		e, ok := textscan.Lit(s, i, w, false)
		if !ok {
			continue
		}
		starts := []int{e}
		if e < len(s) && s[e] == '(' {
			if d, ok := textscan.Digits(s, e+1); ok && d < len(s) && s[d] == ')' {
				starts = []int{d + 1, e}
			}
		}
		for _, k := range starts {
			for _, zone := range []string{" without time zone", " with time zone"} {
				if end, ok := textscan.Lit(s, k, zone, false); ok {
					return end, true
				}
			}
		}
	}
	return i, false
}

// unparenNames is (c) made c where no name or quote precedes the
// parenthesis: what is left of "(c)::text" once the cast is gone
// (parenNameRe).
func unparenNames(s string) string {
	name := func(i int) (int, bool) { // \(("..."|ident)\)
		if i >= len(s) || s[i] != '(' {
			return i, false
		}
		e, ok := textscan.Quoted(s, i+1, '"', true)
		if !ok {
			if e = textscan.Ident(s, i+1); e == i+1 {
				return i, false
			}
		}
		if e >= len(s) || s[e] != ')' {
			return i, false
		}
		return e, true
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i == 0 {
			if e, ok := name(0); ok {
				b.WriteString(s[1:e])
				i = e + 1
				continue
			}
		}
		if !textscan.IsWord(s[i]) && s[i] != '"' {
			if e, ok := name(i + 1); ok {
				b.WriteByte(s[i])
				b.WriteString(s[i+2 : e])
				i = e + 1
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// anyToIn is c = ANY (ARRAY[...]) (or ANY ((ARRAY[...])) once the cast
// after a varchar column's list is gone) made c IN (...) (anyRe).
func anyToIn(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if j, ok := textscan.Lit(s, i, " = ANY (", true); ok {
			if inner, after, ok := anyList(s, j); ok {
				b.WriteString(s[last:i] + " IN (" + inner + ")")
				last, i = after, after
				continue
			}
		}
		i++
	}
	if last == 0 {
		return s
	}
	return b.String() + s[last:]
}

// anyList is the list of (ARRAY[...])) or ARRAY[...]) at j, and its end.
func anyList(s string, j int) (string, int, bool) {
	for _, alt := range [][2]string{{"(ARRAY[", "]))"}, {"ARRAY[", "])"}} {
		k, ok := textscan.Lit(s, j, alt[0], true)
		if !ok {
			continue
		}
		e := strings.IndexByte(s[k:], ']')
		if e < 0 {
			continue
		}
		if after, ok := textscan.Lit(s, k+e, alt[1], false); ok {
			return s[k : k+e], after, true
		}
	}
	return "", 0, false
}

// checkExpr is what CHECK (...) holds, as pg_get_constraintdef writes a
// constraint (checkRe: (?is)^\s*CHECK\s*\((.*)\)\s*(?:NOT VALID)?\s*$).
func checkExpr(def string) (string, bool) {
	i, ok := textscan.Lit(def, textscan.Spaces(def, 0), "check", true)
	if !ok {
		return "", false
	}
	i = textscan.Spaces(def, i)
	if i >= len(def) || def[i] != '(' {
		return "", false
	}
	end := len(def)
	for end > i+1 && textscan.IsSpace(def[end-1]) {
		end--
	}
	if def[end-1] != ')' {
		if e, ok := textscan.Lit(def, end-len("NOT VALID"), "NOT VALID", true); !ok || e != end || end-len("NOT VALID") <= i {
			return "", false
		}
		end -= len("NOT VALID")
		for end > i+1 && textscan.IsSpace(def[end-1]) {
			end--
		}
		if def[end-1] != ')' {
			return "", false
		}
	}
	if end-1 <= i {
		return "", false
	}
	return def[i+1 : end-1], true
}

// named is every VALUE word ((?i)\bVALUE\b) in expr made as.
func named(expr, as string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(expr); i++ {
		if e, ok := textscan.Word(expr, i, "value"); ok {
			b.WriteString(expr[last:i] + as)
			last, i = e, e-1
		}
	}
	return b.String() + expr[last:]
}

// checkText is a CHECK constraint as pg_get_constraintdef writes it, in the
// SQL ddl.AnalyzeCheck reads: the casts Postgres adds go ("(0)::numeric"),
// "c = ANY (ARRAY[...])" is "c IN (...)", and VALUE (a domain's own value)
// is named as.
func checkText(def, as string) string {
	m, ok := checkExpr(def)
	if !ok {
		return ""
	}
	expr := anyToIn(unparenNames(stripCasts(m)))
	if as != "" {
		expr = named(expr, as)
	}
	return expr
}

// parseDefault reads a column default as pg_get_expr writes it: a literal
// the schema can carry ('x'::text, 42, true), or an expression (nextval,
// now(), ...).
func parseDefault(s string) *model.Default {
	d := &model.Default{SQL: s}
	v := strings.TrimSpace(stripCasts(s))
	for len(v) >= 2 && v[0] == '(' && v[len(v)-1] == ')' {
		v = strings.TrimSpace(v[1 : len(v)-1])
	}
	switch {
	case strings.EqualFold(v, "NULL"):
		d.Literal, d.Value = true, nil
	case strings.EqualFold(v, "true"):
		d.Literal, d.Value = true, int64(1)
	case strings.EqualFold(v, "false"):
		d.Literal, d.Value = true, int64(0)
	case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' && !strings.Contains(v[1:len(v)-1], "'::"):
		d.Literal, d.Value = true, strings.ReplaceAll(v[1:len(v)-1], "''", "'")
	default:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			d.Literal, d.Value = true, n
		} else if f, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "nNiI") {
			d.Literal, d.Value = true, f
		}
	}
	return d
}

// unordered are the built-in types (and arrays of them) with no btree
// order: ORDER BY, GROUP BY and comparisons on them fail.
var unordered = map[string]bool{"json": true, "xml": true, "point": true, "line": true, "lseg": true, "box": true,
	"path": true, "polygon": true, "circle": true}
