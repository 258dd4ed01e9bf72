package engine

// Row rules (CONTRACT, "Users and row rules"; core/rules): which rows of a
// table a signed-in user may list, view, create, update and delete. What a
// rule allows is decided here, in ruleCond, for every path: reads add its
// condition to their SQL (lists, counts, search, facets, aggregates, CSV,
// single rows, forms, reference labels and pickers), writes check the row
// in their transaction (a create and an update the row they leave, an
// update and a delete the row they find), and the change history and live
// events evaluate it on the values they carry (rules.Rule.Eval, which the
// rules package holds to the SQL). An administrator is held to none.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/capture"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/rules"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

// tableRules are one table's rules, checked against its columns
// (rules.CheckTable): Broken says why the config's rules do not fit the
// table (a column renamed or dropped since); every request on it that
// rules would hold is refused with that, the other tables keep working.
type tableRules = rules.Table

// checkRules checks every table's rules and defaults against the database
// (every column, hidden ones included: a rule may name an owner column the
// pages do not show).
func checkRules(d *model.Database, cfg *Config) map[string]*tableRules {
	out := map[string]*tableRules{}
	if cfg == nil {
		return out
	}
	for name, tc := range cfg.Tables {
		t := d.Table(name)
		if tc == nil || !tc.HasRules() || t == nil {
			continue
		}
		cols := make([]rules.TableColumn, len(t.Columns))
		for i, col := range t.Columns {
			cols[i] = rules.TableColumn{Column: rules.Column{Name: col.Name, Kind: ruleKind(col.Kind)}, Generated: col.Generated}
		}
		parsed := map[string]*rules.Rule{}
		for _, op := range rules.Ops {
			if r := tc.Rule(op); r != nil {
				parsed[op] = r
			}
		}
		tr := rules.CheckTable(name, cols, parsed, tc.Defaults)
		// The change log keeps the columns callers see, and live events and
		// the history are judged on it: a rule must name only those.
		for _, op := range rules.Ops {
			if r := tr.Ops[op]; r != nil && tr.Broken == "" {
				for _, col := range r.Columns() {
					if tc.Column(col).Hidden {
						tr.Broken = fmt.Sprintf("config: table %q: rules.%s names the hidden column %q: rules may name only columns the app shows (make it readOnly instead)", name, op, col)
					}
				}
			}
		}
		out[name] = tr
	}
	return out
}

// suspectTables are the tables of d that came as a table with rules went
// (since the state before): most likely that table renamed, which the
// config does not know. Each is held shut, as a table with broken rules,
// until the config names rules for it: a rename must not open a table's
// rows to everyone the rules held. The suspicion stays with the table
// across later reflections until the config settles it.
func suspectTables(before *state, d *model.Database, cfg *Config) map[string]string {
	out := map[string]string{}
	for name, why := range before.suspect {
		if d.Table(name) != nil {
			out[name] = why
		}
	}
	var gone []string
	for name, tc := range cfg.Tables {
		if tc != nil && tc.HasRules() && before.db.Table(name) != nil && d.Table(name) == nil {
			gone = append(gone, strconv.Quote(name))
		}
	}
	if len(gone) == 0 {
		return out
	}
	sort.Strings(gone)
	for _, t := range d.Tables {
		if before.db.Table(t.Name) == nil && !model.IsInternal(t.Name) {
			out[t.Name] = fmt.Sprintf("config: table %s, which has row rules, went as table %q came (a rename?): %q is shut to everyone the rules hold until the config gives it rules (or renamedTables)",
				strings.Join(gone, ", "), t.Name, t.Name)
		}
	}
	return out
}

// entryVisible says whether a change log entry of t may be shown to this
// request: the row as the change left it (as it was, for a delete) meets
// the view rule. Values the log does not hold (an outside write not yet
// read back) show nothing to a caller the rule holds.
func (c *ctx) entryVisible(t *model.Table, en capture.Entry) bool {
	tr := c.held(t)
	if tr == nil {
		return true
	}
	img := en.New
	if en.Op == "delete" {
		img = en.Old
	}
	return c.valuesVisible(tr, "view", decodeValues(img))
}

// valuesVisible says whether a logged row image (decodeValues; nil: not
// logged) meets the table's rule for op for this request.
func (c *ctx) valuesVisible(tr *tableRules, op string, vals map[string]any) bool {
	if tr.Broken != "" || c.who.user == nil {
		return false
	}
	r := tr.Ops[op]
	if r == nil {
		return true
	}
	if vals == nil {
		return false
	}
	return r.Eval(*c.who.user, c.e.dialect, func(col string) any { return ruleValue(vals[col]) })
}

// sees says how a change of a table tr holds reaches this request's user:
// the row as it is now meets the list rule (show), or only the row as it
// was did (gone: a removal). now and before are the change's images,
// decoded once however many users are asked.
func (c *ctx) sees(tr *tableRules, en Entry, now, before map[string]any) (show, gone bool) {
	if en.Op != "delete" && c.valuesVisible(tr, "list", now) {
		return true, false
	}
	return false, en.Op != "insert" && c.valuesVisible(tr, "list", before)
}

// ruleValue is a logged JSON value as a rule compares it: numbers as
// int64 or float64, booleans as 1 and 0 (as the stores hold them).
func ruleValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func ruleKind(k model.Kind) rules.Kind {
	switch k {
	case model.Integer, model.Number:
		return rules.Number
	case model.Boolean:
		return rules.Bool
	case model.Blob:
		return rules.Bytes
	}
	return rules.Text
}

// rulesProblem is what the config's rules get wrong about the database, or
// "": at start a config error, later each affected table's. Rules for a
// table the database lacks are one too: a typo in its name would leave the
// table it meant open to everyone.
func rulesProblem(st *state, cfg *Config) string {
	var out []string
	for _, tr := range st.rules {
		if tr.Broken != "" {
			out = append(out, tr.Broken)
		}
	}
	if cfg != nil {
		for name, tc := range cfg.Tables {
			if tc != nil && tc.HasRules() && st.db.Table(name) == nil {
				out = append(out, fmt.Sprintf("config: table %q has row rules, but the database has no such table", name))
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// dialectOf is how a store writes a rule (Engine.dialect, made at Open).
func dialectOf(s store.Store) rules.Dialect {
	return rules.Dialect{Ident: sqldb.Ident, Like: s.Search, UnicodeCase: s.Name() != "sqlite"}
}

// held: the request is held to t's rules (it has some, and the caller is
// no administrator).
func (c *ctx) held(t *model.Table) *tableRules {
	if c.admin() || t == nil {
		return nil
	}
	return c.st.rules[t.Name]
}

// ruleCond is the condition (SQL and arguments) that holds t's rows to the
// rule for op for this request: "" when none does. A request that is no
// user (a public query's caller) or a table whose rules are broken gets a
// condition nothing meets.
func (c *ctx) ruleCond(t *model.Table, op string) (string, []any) {
	tr := c.held(t)
	if tr == nil {
		return "", nil
	}
	if tr.Broken != "" || c.who.user == nil {
		return "1 = 0", nil
	}
	r := tr.Ops[op]
	if r == nil {
		return "", nil
	}
	return r.Bind(*c.who.user, c.e.dialect)
}

// andRule adds t's rule for op to a WHERE clause (with " WHERE ", or "")
// and its arguments.
func (c *ctx) andRule(t *model.Table, op, where string, args []any) (string, []any) {
	cond, rargs := c.ruleCond(t, op)
	if cond == "" {
		return where, args
	}
	if where == "" {
		return " WHERE (" + cond + ")", append(args, rargs...)
	}
	return where + " AND (" + cond + ")", append(args, rargs...)
}

// mayNone: the rule for op lets this request at no row of t.
func (c *ctx) mayNone(t *model.Table, op string) bool {
	cond, _ := c.ruleCond(t, op)
	return cond == "1 = 0"
}

// refusal is the 403 message for a write the rule for op refuses.
func (c *ctx) refusal(t *model.Table, op string) string {
	tr := c.held(t)
	switch {
	case tr == nil:
		return ""
	case tr.Broken != "":
		return tr.Broken
	case c.who.user == nil:
		return "only a signed-in user may " + op + " rows of " + t.Name
	}
	text := "false"
	if r := tr.Ops[op]; r != nil {
		text = r.Text
	}
	return fmt.Sprintf("the %s rule of %s does not allow this for %s: %s", op, t.Name, c.who.user.Email, text)
}

// ruleRefuses says why t's rule for op refuses the row with this key as it
// is now (inside the write's transaction), or "".
func (c *ctx) ruleRefuses(t *model.Table, op string, key []any) string {
	cond, args := c.ruleCond(t, op)
	if cond == "" || cond == "1 = 1" {
		return ""
	}
	if cond != "1 = 0" && t.Addressable() && len(key) > 0 {
		rs, err := c.e.db.Query("SELECT 1 FROM "+sqldb.Ident(t.Name)+" WHERE "+keyWhere(t)+" AND ("+cond+")",
			append(append([]any(nil), key...), args...)...)
		if err == nil && len(rs.Values) > 0 {
			return ""
		}
	}
	return c.refusal(t, op)
}

// fillDefaults sets the columns the config fills with the signed-in user's
// values (a body's own value for them is replaced: it cannot choose).
func (c *ctx) fillDefaults(t *model.Table, inst map[string]any) {
	tr := c.st.rules[t.Name]
	if tr == nil || c.who.user == nil {
		return
	}
	u := c.who.user
	for col, v := range tr.Defaults {
		if t.Column(col) == nil {
			continue // hidden: written below (fillHiddenDefaults)
		}
		inst[col] = userValue(u, v, c.st.db.Table(t.Name).Column(col))
	}
}

// hiddenDefaults are the defaults for columns the caller does not see: the
// insert writes them besides what the body gave.
func (c *ctx) hiddenDefaults(t *model.Table) (cols []string, args []any) {
	tr := c.st.rules[t.Name]
	if tr == nil || c.who.user == nil {
		return nil, nil
	}
	full := c.st.db.Table(t.Name)
	for _, col := range sortedKeys(tr.Defaults) {
		if t.Column(col) == nil && full != nil && full.Column(col) != nil {
			cols = append(cols, sqldb.Ident(col))
			args = append(args, userValue(c.who.user, tr.Defaults[col], full.Column(col)))
		}
	}
	return cols, args
}

func userValue(u *rules.User, which string, col *model.Column) any {
	switch which {
	case "email":
		return u.Email
	case "role":
		return u.Role
	}
	if col != nil && ruleKind(col.Kind) == rules.Text {
		return fmt.Sprint(u.ID)
	}
	return u.ID
}
