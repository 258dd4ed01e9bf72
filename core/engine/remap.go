package engine

import (
	"net/url"
	"sort"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/dsid"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// remapPlan is how a write made against an older schema maps onto the
// current one: the chain of stored schema diffs, for one table.
type remapPlan struct {
	from, to string
	renamed  map[string]string // column as the writer knew it -> column now
	dropped  map[string]bool   // columns the writer knew that are gone
	added    map[string]bool   // columns now that the writer did not know
	notes    []string
}

// remapped is what a write reports when it was remapped.
type remapped struct {
	plan     *remapPlan
	moved    map[string]string // what was actually moved: old -> new
	orphaned map[string]any    // values kept aside: column -> value
}

// planFor builds the plan from a writer's DSID to the current one for table
// t; nil when there is nothing to remap (current, unknown, or malformed DSID).
func (c *ctx) planFor(t *model.Table, from string) *remapPlan {
	if from == "" || from == c.st.dsid {
		return nil
	}
	fromSeq, fromHash, ok := dsid.Parse(from)
	toSeq, _, _ := dsid.Parse(c.st.dsid)
	if !ok || fromSeq >= toSeq {
		return nil
	}
	rs, err := c.e.db.Query(`SELECT seq, hash, snapshot FROM "_nakedhtmx_dsid" WHERE seq >= ? AND seq <= ? ORDER BY seq`, fromSeq, toSeq)
	if err != nil || len(rs.Values) < 2 || sqldb.Text(rs.Values[0][1]) != fromHash {
		return nil
	}
	var steps [][]schema.Change
	for i := 1; i < len(rs.Values); i++ {
		d, err := schema.Diff([]byte(sqldb.Text(rs.Values[i-1][2])), []byte(sqldb.Text(rs.Values[i][2])), c.e.renames())
		if err != nil {
			return nil
		}
		steps = append(steps, d)
	}
	// The table's name at each step, walking back from its name now.
	names := make([]string, len(steps)+1)
	names[len(steps)] = t.Name
	for i := len(steps) - 1; i >= 0; i-- {
		names[i] = names[i+1]
		for _, ch := range steps[i] {
			if ch.Kind == "table-renamed" && ch.Table == names[i+1] {
				names[i] = ch.From
			}
		}
	}
	p := &remapPlan{from: from, to: c.st.dsid, renamed: map[string]string{}, dropped: map[string]bool{}, added: map[string]bool{}}
	// current maps each column the writer knew to its name after the step.
	current := map[string]string{}
	for i, step := range steps {
		for _, ch := range step {
			switch {
			case ch.Kind == "table-renamed" && ch.Table == names[i+1]:
				p.notes = append(p.notes, "the table "+ch.From+" is now called "+ch.Table)
			case ch.Table != names[i+1]:
			case ch.Kind == "column-renamed":
				if p.added[ch.From] {
					delete(p.added, ch.From)
					p.added[ch.Column] = true
				}
				for orig, now := range current {
					if now == ch.From {
						current[orig] = ch.Column
					}
				}
				if _, seen := current[ch.From]; !seen {
					current[ch.From] = ch.Column
				}
				p.notes = append(p.notes, ch.From+" is now called "+ch.Column)
			case ch.Kind == "column-dropped" && p.added[ch.Column]:
				delete(p.added, ch.Column) // added and gone again: the writer never knew it
			case ch.Kind == "column-dropped":
				found := false
				for orig, now := range current {
					if now == ch.Column {
						delete(current, orig)
						p.dropped[orig] = true
						found = true
					}
				}
				if !found {
					p.dropped[ch.Column] = true
				}
				p.notes = append(p.notes, ch.Column+" no longer exists")
			case ch.Kind == "column-added":
				p.added[ch.Column] = true
				p.notes = append(p.notes, ch.Column+" is new")
			case ch.Kind == "column-retyped" || ch.Kind == "column-changed":
				p.notes = append(p.notes, ch.Column+" has new rules")
			}
		}
	}
	for orig, now := range current {
		if orig != now {
			p.renamed[orig] = now
		}
	}
	return p
}

// sameVersion says whether version is the row's version as the writer read
// it under the old schema: the row now, without the columns added since,
// the renamed ones under their old names. A new column (which every row
// holds now) is no change of the row's; a column dropped since cannot be
// read back, so such a row never matches (409, as before).
func (p *remapPlan) sameVersion(r *row, version string) bool {
	if p == nil || len(p.dropped) > 0 {
		return false
	}
	oldName := map[string]string{}
	for old, now := range p.renamed {
		oldName[now] = old
	}
	o := schema.NewObjectSize(len(r.t.Columns) + 1)
	if r.t.UsesRowKey() {
		o.Set(rowidName, r.rowid)
	}
	for _, c := range r.t.Columns {
		if p.added[c.Name] {
			continue
		}
		name := c.Name
		if old, ok := oldName[name]; ok {
			name = old
		}
		o.Set(name, jsonValue(c, r.vals[c.Index]))
	}
	return versionOf(jsonBody(o)) == version
}

// apply moves a write's values to the columns they belong to now and takes
// out the values of dropped columns, which the caller keeps aside.
func (p *remapPlan) apply(values map[string]any) *remapped {
	r := &remapped{plan: p, moved: map[string]string{}, orphaned: map[string]any{}}
	for k, v := range values {
		if p.dropped[k] {
			r.orphaned[k] = v
			delete(values, k)
		}
	}
	renamedNow := map[string]any{}
	for old, now := range p.renamed {
		if v, ok := values[old]; ok {
			if _, clash := values[now]; !clash {
				renamedNow[now] = v
				delete(values, old)
				r.moved[old] = now
			}
		}
	}
	for k, v := range renamedNow {
		values[k] = v
	}
	return r
}

// applyForm does the same to a submitted form.
func (p *remapPlan) applyForm(form url.Values) *remapped {
	flat := map[string]any{}
	for k, vs := range form {
		if !strings.HasPrefix(k, "_") && len(vs) > 0 {
			flat[k] = vs[len(vs)-1]
		}
	}
	r := p.apply(flat)
	for old, now := range r.moved {
		form[now] = form[old]
		delete(form, old)
	}
	for k := range r.orphaned {
		delete(form, k)
	}
	return r
}

// report is the "remapped" member of an answer.
func (r *remapped) report() any {
	if r == nil {
		return nil
	}
	o := newObj("from", r.plan.from, "to", r.plan.to)
	if len(r.moved) > 0 {
		o.Set("renamed", sortedObj(r.moved))
	}
	if len(r.orphaned) > 0 {
		keys := make([]string, 0, len(r.orphaned))
		for k := range r.orphaned {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		orph := schema.NewObject()
		for _, k := range keys {
			orph.Set(k, r.orphaned[k])
		}
		o.Set("orphaned", orph)
	}
	return o
}

// notice says in a sentence what changed since the form was made.
func (r *remapped) notice() string {
	if r == nil || len(r.plan.notes) == 0 {
		return ""
	}
	s := "The table changed while you were editing: " + strings.Join(dedupeStrings(r.plan.notes), "; ") + "."
	if len(r.orphaned) > 0 {
		keys := make([]string, 0, len(r.orphaned))
		for k := range r.orphaned {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		s += " What you typed for " + strings.Join(keys, ", ") + " was kept aside, not lost."
	}
	return s
}

func sortedObj(m map[string]string) *schema.Object {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	o := schema.NewObject()
	for _, k := range keys {
		o.Set(k, m[k])
	}
	return o
}

func dedupeStrings(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// keepOrphans stores the values a remap took out, inside the write's transaction.
func (c *ctx) keepOrphans(t *model.Table, r *remapped, key *schema.Object) error {
	if r == nil || len(r.orphaned) == 0 {
		return nil
	}
	if err := c.e.db.Script(c.e.store.OrphansSetup()); err != nil {
		return err
	}
	var k any
	if key != nil {
		k = string(jsonBody(key))
	}
	for col, v := range r.orphaned {
		if _, err := c.e.db.Exec(`INSERT INTO "_nakedhtmx_orphans" (tbl, key, dsid, col, value) VALUES (?, ?, ?, ?, ?)`,
			t.Name, k, r.plan.from, col, string(jsonBody(v))); err != nil {
			return err
		}
	}
	return nil
}
