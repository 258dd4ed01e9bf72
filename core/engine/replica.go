package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/capture"
	"github.com/nakedhtmx/nakedhtmx/core/config"
	"github.com/nakedhtmx/nakedhtmx/core/jsonw"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/rules"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// A replica (issue 19) is a local copy of what one caller may see, answered
// by this same core beside the page when the server cannot be reached. It is
// opened from the server's own model, never by reflecting its local tables:
// the copy is a SQLite database whatever the server's store, holds only the
// tables, columns and rows the server lets the caller see, and must render
// the server's pages, forms and DSID.
//
// The server answers two routes for it:
//   - GET /api/replica: the DSID, the change-log position the copy is current
//     to, the visible model (model.EncodeWire of the state's vis) and the
//     config as the copy needs it (replicaConfig: nothing of the server's
//     machine, no row rules).
//   - GET /api/replica/tables/{table}/rows: the rows the caller may list, a
//     page at a time (the list's own reading: its row rule, its cursor), each
//     value with its SQL type kept (protocol.Value, as SQL answers carry
//     them), which the JSON API's answers lose (a REAL 3.0 is the number 3
//     there, and bytes are a link).
//
// An engine opened with Options.Replica answers the same pages from its
// local SQLite: Open creates the model's tables there (replicaTables), and
// POST /api/replica/tables/{table}/rows stores a page of the server's rows.

// Replica is what an engine opened as a copy starts from (Options.Replica).
type Replica struct {
	DSID  string
	Model *model.Database
	// Seq is the server's change-log position the copy's rows are current
	// to: what its pages' streams resume after, as the server's would.
	Seq int64
	// who the copy is for, as the server saw them: every request to the
	// copy is theirs (a copy is one person's), and its pages say so.
	who      principal
	signedIn bool
	guarded  bool
	// suggested are the server's facet suggestions by table (explore.go),
	// which it finds among rows the copy may not hold.
	suggested map[string][]string
	// offline: the server's pages register the offline service worker.
	offline bool
}

// replicaWho is who a copy is for (GET /api/replica's "who").
type replicaWho struct {
	User     *protocol.CommandUser `json:"user"`
	Admin    bool                  `json:"admin,omitempty"`
	Token    bool                  `json:"token,omitempty"`
	SignedIn bool                  `json:"signedIn,omitempty"`
	// Guarded: the server has a token or users (what is on by default then
	// is not: the SQL page, schema editing).
	Guarded bool `json:"guarded,omitempty"`
}

// replicaPayload is GET /api/replica's answer: what OpenReplica reads back.
type replicaPayload struct {
	DSID   string          `json:"dsid"`
	Seq    int64           `json:"seq"`
	Model  json.RawMessage `json:"model"`
	Config json.RawMessage `json:"config"`
	// Queries are the stored queries the caller may run (config.Query,
	// apart from the config, whose parser refuses a query with no SQL).
	Queries map[string]*config.Query `json:"queries"`
	Who     replicaWho               `json:"who"`
	// Suggested are the facets each table's list suggests (explore.go).
	Suggested map[string][]string `json:"suggested"`
	// Offline: the server's pages register the offline service worker,
	// so the copy's do too (the same page, byte for byte).
	Offline bool `json:"offline,omitempty"`
}

// ParseReplica reads GET /api/replica's answer into the Options a copy is
// opened with (Replica and Config).
func ParseReplica(body []byte) (*Replica, *Config, error) {
	var p replicaPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, nil, fmt.Errorf("replica: %w", err)
	}
	if p.DSID == "" {
		return nil, nil, fmt.Errorf("replica: no dsid")
	}
	d, err := model.DecodeWire(p.Model)
	if err != nil {
		return nil, nil, fmt.Errorf("replica: %w", err)
	}
	cfg, err := config.Parse(p.Config)
	if err != nil {
		return nil, nil, fmt.Errorf("replica: %w", err)
	}
	for name, q := range p.Queries {
		if name == "" || q == nil || (q.Chart != nil && !slices.Contains(config.ChartTypes, q.Chart.Type)) {
			return nil, nil, fmt.Errorf("replica: stored query %q", name)
		}
		if cfg.Queries == nil {
			cfg.Queries = map[string]*config.Query{}
		}
		cfg.Queries[name] = q
	}
	r := &Replica{DSID: p.DSID, Model: d, Seq: p.Seq, signedIn: p.Who.SignedIn, guarded: p.Who.Guarded,
		who: principal{admin: p.Who.Admin, token: p.Who.Token}, suggested: p.Suggested, offline: p.Offline}
	if u := p.Who.User; u != nil {
		r.who.user = &rules.User{ID: u.ID, Email: u.Email, Role: u.Role}
	}
	return r, cfg, nil
}

// replicaAnswer is GET /api/replica.
func (c *ctx) replicaAnswer() *protocol.Response {
	if c.e.opts.Replica != nil {
		return c.fail(404, "a copy has no copy of its own")
	}
	vis := *c.st.vis
	vis.SchemaVersion = 0     // the server file's own counter: a copy keeps its own
	vis.Users = c.st.db.Users // whether people sign in shows on every page
	encode := model.EncodeWireForReader
	if c.schemaEditor() == "" {
		encode = model.EncodeWire // who may change the structure sees it whole there
	}
	m, err := encode(&vis)
	if err != nil {
		return c.fail(500, err.Error())
	}
	cfg, err := json.Marshal(replicaConfig(c.e.opts.Config, c.st.vis, c.hiddenNames()))
	if err != nil {
		return c.fail(500, err.Error())
	}
	var seq int64
	if c.e.live.enabled {
		if s, logged, err := capture.Sequence(c.e.db, c.e.store.LogFloor); err == nil && logged {
			seq = s
		}
	}
	queries, err := json.Marshal(c.replicaQueries())
	if err != nil {
		return c.fail(500, err.Error())
	}
	who := replicaWho{Admin: c.who.admin, Token: c.who.token, SignedIn: c.signedInByCookie(), Guarded: c.guarded()}
	if u := c.who.user; u != nil {
		who.User = &protocol.CommandUser{ID: u.ID, Email: u.Email, Role: u.Role}
	}
	whoJSON, err := json.Marshal(who)
	if err != nil {
		return c.fail(500, err.Error())
	}
	sugJSON, err := json.Marshal(c.replicaSuggested())
	if err != nil {
		return c.fail(500, err.Error())
	}
	return c.jsonAnswer(200, "seq", seq, "model", schema.RawJSON(m), "config", schema.RawJSON(cfg), "queries", schema.RawJSON(queries),
		"who", schema.RawJSON(whoJSON), "suggested", schema.RawJSON(sugJSON), "offline", c.e.offline())
}

// replicaSuggested are the facets each table's list suggests (explore.go),
// by table: the server finds them among rows a copy may not hold.
func (c *ctx) replicaSuggested() map[string][]string {
	suggested := map[string][]string{}
	for _, t := range c.st.vis.Tables {
		names := []string{}
		for _, col := range c.suggestedFacets(t) {
			names = append(names, col.Name)
		}
		suggested[t.Name] = names
	}
	return suggested
}

// replicaQueries are the stored queries the caller may run, as the index
// lists them; a query's SQL comes along only when its text names nothing
// the config hides (a copy runs it on its own rows), else it is left out
// and the copy answers that the query runs on the server.
func (c *ctx) replicaQueries() map[string]*config.Query {
	hidden := c.hiddenNames()
	out := map[string]*config.Query{}
	for _, name := range c.queryNames() {
		q := *c.storedQuery(name)
		if namesAny(q.SQL, hidden) {
			q.SQL = ""
		}
		out[name] = &q
	}
	return out
}

// hiddenNames are the names, lower case, that text a copy is given must not
// hold: hidden tables and columns, and the project's own tables.
func (c *ctx) hiddenNames() []string {
	hidden := []string{strings.ToLower(model.Prefix)}
	for _, t := range c.st.db.Tables {
		vt := c.st.vis.Table(t.Name)
		if vt == nil {
			hidden = append(hidden, strings.ToLower(t.Name))
			continue
		}
		for _, col := range t.Columns {
			if vt.Column(col.Name) == nil {
				hidden = append(hidden, strings.ToLower(col.Name))
			}
		}
	}
	return hidden
}

// namesAny: text holds one of the names (compared lower case, anywhere in
// it: a name inside a longer word counts too, erring towards holding back).
func namesAny(text string, names []string) bool {
	text = strings.ToLower(text)
	for _, n := range names {
		if strings.Contains(text, n) {
			return true
		}
	}
	return false
}

// serverOnly answers a stored query a copy was not given the SQL of.
func (c *ctx) serverOnly(q *config.Query) *protocol.Response {
	if c.e.opts.Replica != nil && q.SQL == "" {
		return c.fail(503, "this stored query runs on the server only: it cannot be run while the server cannot be reached")
	}
	return nil
}

// replicaConfig is the config as a copy needs it to render the server's
// pages: the tables and columns the caller may see and how they are shown.
// Left out: what names the server's machine or network (files.dir, trusted
// proxies), what only the server does (the change log's bounds, renames
// reflection cannot tell), and a table's row rules when one names something
// hidden (the copy holds only the rows the caller's rules let through, and
// its writes go to the server, which decides them); stored queries come
// apart (replicaQueries).
func replicaConfig(cfg *Config, vis *model.Database, hidden []string) *Config {
	out := &Config{PageSize: cfg.PageSize, Title: cfg.Title, EmbedOrigins: cfg.EmbedOrigins, Limits: cfg.Limits,
		SQL: cfg.SQL, Schema: cfg.Schema}
	for _, t := range vis.Tables {
		tc := cfg.Tables[t.Name]
		if tc == nil {
			continue
		}
		nt := &config.Table{Label: tc.Label, ReadOnly: tc.ReadOnly, Allow: tc.Allow, Order: tc.Order, LabelColumn: tc.LabelColumn,
			PageSize: tc.PageSize, Defaults: tc.Defaults}
		// The rules decide what the caller's pages offer (a row's delete
		// button, a field's lock), so the copy keeps them, unless one names
		// something hidden (then the copy shows what no rule holds back,
		// and the server still decides every write).
		texts := ""
		for _, r := range tc.Rules {
			texts += r + "\n"
		}
		if !namesAny(texts, hidden) {
			nt.Rules = tc.Rules
		}
		if len(tc.Columns) > 0 {
			nt.Columns = map[string]*config.Column{}
		}
		hiddenColumns := 0
		for name, cc := range tc.Columns {
			switch {
			case t.Column(name) != nil:
				nt.Columns[name] = cc
			case cc != nil && cc.Hidden:
				// That the table hides a column shows on its pages (its
				// structure is then changed with SQL only), so the copy
				// is told, under a name no column can have (SQLite's
				// names hold no NUL), never the column's own.
				nt.Columns["\x00hidden "+strconv.Itoa(hiddenColumns)] = &config.Column{Hidden: true}
				hiddenColumns++
			}
		}
		if out.Tables == nil {
			out.Tables = map[string]*config.Table{}
		}
		out.Tables[t.Name] = nt
	}
	return out
}

// replicaRows is GET /api/replica/tables/{table}/rows: a page of the rows the
// caller may list, in key order, with "columns" naming each value's place
// ("rowid" first where rows are addressed by it).
func (c *ctx) replicaRows(t *model.Table) *protocol.Response {
	if c.e.opts.Replica != nil {
		return c.fail(404, "a copy has no copy of its own")
	}
	lq, err := c.parseList(t)
	if err != nil {
		return c.listFail(err)
	}
	if lq.sort != nil || lq.q != "" || len(lq.filters) > 0 {
		return c.fail(400, "a copy's rows are read whole, in key order: no sort, search or filter")
	}
	rows, next, _, _, answer, err := c.listRead(lq, false)
	if answer != nil {
		return answer
	}
	if err != nil {
		return c.answer(c.dbFailure(err))
	}
	b := []byte{'['}
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendValues(b, replicaRowValues(r)); err != nil {
			return c.fail(500, err.Error())
		}
	}
	b = append(b, ']')
	var nextVal any
	if next != "" {
		nextVal = next
	}
	return c.jsonAnswer(200, "columns", replicaColumns(t), "rows", schema.RawJSON(b), "next", nextVal)
}

// replicaTables is the SQL that makes a copy's tables from the model, in the
// local SQLite: every view a table too (its rows are copied like any
// other's), each column of the type it was declared with where SQLite can
// spell it (its affinity is how a filter's text meets the values, as on
// the server), and the key declared (an INTEGER PRIMARY KEY where the
// server's key is the one it assigns, so a copied rowid is the key, as
// there).
func replicaTables(d *model.Database) []string {
	var out []string
	for _, t := range d.Tables {
		var cols []string
		for _, c := range t.Columns {
			def := sqldb.Ident(c.Name)
			if c == t.AutoKey {
				def += " INTEGER PRIMARY KEY"
			} else if typ := localType(c); typ != "" {
				def += " " + typ
			}
			cols = append(cols, def)
		}
		if len(t.PK) > 0 && t.AutoKey == nil {
			keys := make([]string, len(t.PK))
			for i, c := range t.PK {
				keys[i] = sqldb.Ident(c.Name)
			}
			cols = append(cols, "PRIMARY KEY ("+strings.Join(keys, ", ")+")")
		}
		out = append(out, "CREATE TABLE IF NOT EXISTS "+sqldb.Ident(t.Name)+" ("+strings.Join(cols, ", ")+")")
	}
	return out
}

// replicaLoad is POST /api/replica/tables/{table}/rows on a copy: the body is
// a page of GET /api/replica/tables/{table}/rows from the server, stored in
// one transaction, each row replacing the one of its key. ?replace=1 empties
// the table first (the first page of a table read again whole: a view).
func (c *ctx) replicaLoad(t *model.Table) *protocol.Response {
	if c.e.opts.Replica == nil {
		return c.fail(404, "not a copy")
	}
	var page struct {
		DSID    string             `json:"dsid"`
		Columns []string           `json:"columns"`
		Rows    [][]protocol.Value `json:"rows"`
	}
	if err := json.Unmarshal(c.req.Body, &page); err != nil {
		return c.fail(400, "not a page of a copy's rows: "+err.Error())
	}
	if page.DSID != c.st.dsid {
		return c.fail(409, "the rows are of another schema ("+page.DSID+"); this copy is of "+c.st.dsid)
	}
	if names := replicaColumns(t); !slices.Equal(names, page.Columns) {
		return c.fail(400, "the columns of "+t.Name+" are "+strings.Join(names, ", ")+", not "+strings.Join(page.Columns, ", "))
	}
	out := c.replicaWrite(func() *outcome {
		if c.query.Get("replace") == "1" {
			if _, err := c.e.db.Exec("DELETE FROM " + sqldb.Ident(t.Name)); err != nil {
				return c.dbFailure(err)
			}
		}
		for _, r := range page.Rows {
			if len(r) != len(page.Columns) {
				return failed(400, "a row has "+strconv.Itoa(len(r))+" values for "+strconv.Itoa(len(page.Columns))+" columns")
			}
			if o := c.replicaPut(t, page.Columns, r); o != nil {
				return o
			}
		}
		return nil
	})
	if out != nil {
		return c.answer(out)
	}
	return c.jsonAnswer(200, "stored", len(page.Rows))
}

// replicaColumns name the values of a copy's row: "rowid" first where rows
// are addressed by it, then the columns.
func replicaColumns(t *model.Table) []string {
	var names []string
	if t.UsesRowKey() {
		names = append(names, rowidName)
	}
	for _, col := range t.Columns {
		names = append(names, col.Name)
	}
	return names
}

// replicaPut stores one of the server's rows in the copy, in place of the
// row of its key.
func (c *ctx) replicaPut(t *model.Table, names []string, vals []protocol.Value) *outcome {
	cols := make([]string, len(names))
	for i, name := range names {
		cols[i] = sqldb.Ident(name)
		if name == rowidName && t.UsesRowKey() {
			cols[i] = "_rowid_"
		}
	}
	sql := "INSERT OR REPLACE INTO " + sqldb.Ident(t.Name) + " (" + strings.Join(cols, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	if _, err := c.e.db.Exec(sql, protocol.Unwrap(vals)...); err != nil {
		return c.dbFailure(err)
	}
	return nil
}

// replicaWrite runs what stores the server's rows in one transaction, and
// forgets what the copy's own change log took down meanwhile: those are no
// changes of the copy's (its history and streams show its own), so the log
// keeps only writes made on the copy. A nil outcome is success.
func (c *ctx) replicaWrite(fn func() *outcome) *outcome {
	out := c.tx(nil, func() *outcome {
		before, _, err := capture.Sequence(c.e.db, c.e.store.LogFloor)
		if err != nil {
			return c.dbFailure(err)
		}
		if o := fn(); o != nil {
			return o
		}
		if err := capture.Forget(c.e.db, before); err != nil {
			return c.dbFailure(err)
		}
		return &outcome{status: 200}
	})
	if out.status != 200 {
		return out
	}
	// The data moved with no entry of the copy's own log, by which the data
	// cache knows it: what it kept (counts, labels, groups) goes.
	c.e.cache = dataCache{}
	return nil
}

// reflectReplica is reflect for a copy: the server's model and DSID stand
// for the local tables' own (which are the copy's, untyped), and the change
// capture is the local one, so the copy's pages are live as the server's.
func (e *Engine) reflectReplica(r *Replica, v int64) error {
	d := r.Model
	if e.live.enabled {
		if _, err := e.store.SyncCapture(e.db, d); err != nil {
			e.logf("nakedhtmx: cannot install change capture triggers: %v", err)
		}
		if after, err := e.schemaVersion(); err == nil {
			v = after
		}
	}
	d.SchemaVersion = v
	st := &state{db: d, dsid: r.DSID, schemaVersion: v, fired: d.Fired()}
	st.build(e.opts.Config, e.logf)
	st.takeSuggested(r.suggested)
	e.st = st
	return nil
}

// takeSuggested sets a copy's facet suggestions to its server's, by column
// name (a name the model lacks is left out).
func (st *state) takeSuggested(names map[string][]string) {
	st.suggested = map[string][]*model.Column{}
	for name, cols := range names {
		if t := st.vis.Table(name); t != nil {
			out := []*model.Column{}
			for _, c := range cols {
				if col := t.Column(c); col != nil {
					out = append(out, col)
				}
			}
			st.suggested[name] = out
		}
	}
}

// localType is the column's type in a copy: the declared one where SQLite
// takes it as a type name (words, and one (n) or (n, m)), so a copy of a
// SQLite database has the same affinities; else (Postgres's text[], a
// quoted name) one of SQLite's by the column's kind.
func localType(c *model.Column) string {
	if plainTypeName(c.Type) {
		return c.Type
	}
	switch c.Kind {
	case model.Integer, model.Boolean:
		return "INTEGER"
	case model.Number:
		return "REAL"
	case model.Blob:
		return "BLOB"
	}
	return "TEXT"
}

// plainTypeName: t is "" or words of letters, digits and _ (the first not
// a digit), then at most one parenthesis of one or two signed numbers.
func plainTypeName(t string) bool {
	words, args, paren := t, "", false
	if i := strings.IndexByte(t, '('); i >= 0 {
		if !strings.HasSuffix(t, ")") {
			return false
		}
		words, args, paren = t[:i], t[i+1:len(t)-1], true
	}
	fields := strings.Fields(words)
	if paren && len(fields) == 0 {
		return false
	}
	for _, w := range fields {
		for i, r := range w {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				return false
			}
		}
	}
	if !paren {
		return true
	}
	nums := strings.Split(args, ",")
	if len(nums) > 2 {
		return false
	}
	for _, n := range nums {
		n = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(n), "-"), "+")
		if _, err := strconv.ParseUint(n, 10, 32); err != nil {
			return false
		}
	}
	return true
}

// replicaServes: a copy answers reads of the data, and stores what its
// server sends it; what only the server can do (people, rules, the schema)
// it refuses. Writes it takes only as commands (commands: opened with
// write "jetstream", as the offline service worker opens it), which its host
// keeps and sends to the server (POST /api/replica/commands): rows created,
// edited and deleted, through forms, bulk edits and the JSON API; never an
// import, a file, or anything else its server would not hear of.
func replicaServes(method string, segs []string, commands bool) bool {
	if len(segs) >= 2 && segs[0] == "api" && segs[1] == "replica" {
		return len(segs) < 3 || segs[2] != "commands" // a copy sends those, never takes them
	}
	if isUnsafe(method) {
		if !commands {
			return false
		}
		switch {
		case len(segs) == 3 && segs[0] == "t" && (segs[2] == "new" || segs[2] == "bulk"):
			return true
		case len(segs) == 4 && segs[0] == "t" && segs[2] == "r":
			return true
		case len(segs) == 5 && segs[0] == "t" && segs[2] == "r" && segs[4] == "delete":
			return true
		case len(segs) == 4 && segs[0] == "api" && segs[1] == "tables" && segs[3] == "rows":
			return true
		case len(segs) == 5 && segs[0] == "api" && segs[1] == "tables" && segs[3] == "rows":
			return true
		}
		return false
	}
	switch {
	case len(segs) > 0 && (segs[0] == "users" || segs[0] == "rules" || segs[0] == "structure"):
		return false
	case len(segs) > 1 && segs[0] == "api" && (segs[1] == "users" || segs[1] == "structure" || segs[1] == "migrations"):
		return false
	case len(segs) > 2 && segs[0] == "t" && segs[2] == "structure":
		return false
	}
	return true
}

// replicaChangesLimit bounds the log entries one page of changes reads.
const replicaChangesLimit = 500

// replicaChanges is GET /api/replica/changes?after=SEQ: what a copy current
// to SEQ must change to be current again, as its caller sees it. For every
// row the log names past SEQ (of a table the caller may see), its state now:
// the row as its list rule shows it (typed, as the rows route gives it), or
// null when it is gone or no longer the caller's to list (the copy deletes
// it); a key an update moved away from is null too. "seq" is how far the
// page reaches, "more" whether the log goes on, "views" whether a view's
// rows may have changed with them (views are not logged: the copy reads
// them again). 410 when the log no longer reaches back to SEQ (pruned, or
// another database): the copy is made again; the DSID says whether the
// schema moved (then too).
func (c *ctx) replicaChanges() *protocol.Response {
	if c.e.opts.Replica != nil {
		return c.fail(404, "a copy has no copy of its own")
	}
	if !c.e.live.enabled {
		return c.fail(409, "this database keeps no change log (it is read-only): copy it again to catch up")
	}
	after, err := strconv.ParseInt(c.query.Get("after"), 10, 64)
	if err != nil || after < 0 {
		return c.fail(400, "after must be the seq a copy is current to")
	}
	first, last, err := capture.Bounds(c.e.db, c.e.store.LogFloor)
	if err != nil {
		return c.answer(c.dbFailure(err))
	}
	switch {
	case after > last:
		return c.fail(410, "the change log ends at "+strconv.FormatInt(last, 10)+", before "+strconv.FormatInt(after, 10)+": the copy is of another database; copy again")
	case after < first-1 && last > 0:
		return c.fail(410, "the change log no longer reaches back to "+strconv.FormatInt(after, 10)+": copy again")
	}
	entries, err := capture.After(c.e.db, after, replicaChangesLimit)
	if err != nil {
		return c.answer(c.dbFailure(err))
	}
	type touched struct {
		t   *model.Table
		key []any
	}
	var order []touched
	seen := map[string]bool{}
	touch := func(t *model.Table, raw string) {
		if raw == "" || seen[t.Name+"\x00"+raw] {
			return
		}
		if key, ok := decodeKey(t, raw); ok {
			seen[t.Name+"\x00"+raw] = true
			order = append(order, touched{t, key})
		}
	}
	seq := after
	// A view may read any table, a hidden one too: any row written means
	// the copy reads its views again (saying no more than seq already does).
	rowsChanged := false
	for _, en := range entries {
		seq = en.Seq
		rowsChanged = rowsChanged || en.Op != "schema"
		t := c.table(en.Table)
		if t == nil || t.View || en.Op == "schema" {
			continue // hidden, or not a row: the DSID tells a copy of a schema change
		}
		touch(t, en.OldKey)
		touch(t, en.Key)
	}
	b := []byte{'['}
	for i, tk := range order {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"table":`...)
		b = jsonw.String(b, tk.t.Name, false)
		b = append(b, `,"key":`...)
		if b, err = appendValues(b, tk.key); err != nil {
			return c.fail(500, err.Error())
		}
		b = append(b, `,"row":`...)
		r, err := c.readRowAs(tk.t, tk.key, "list") // as the copy's rows were read
		if err != nil {
			return c.answer(c.dbFailure(err))
		}
		if r == nil {
			b = append(b, "null"...)
		} else if b, err = appendValues(b, replicaRowValues(r)); err != nil {
			return c.fail(500, err.Error())
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	kv := []any{"seq", seq, "changes", schema.RawJSON(b), "more", len(entries) == replicaChangesLimit, "views", rowsChanged}
	if rowsChanged {
		// Which facets a list suggests follows its rows.
		sug, err := json.Marshal(c.replicaSuggested())
		if err != nil {
			return c.fail(500, err.Error())
		}
		kv = append(kv, "suggested", schema.RawJSON(sug))
	}
	return c.jsonAnswer(200, kv...)
}

// replicaRowValues are a row's values as the rows route and the changes
// route give them: rowid first where rows are addressed by it.
func replicaRowValues(r *row) []any {
	if r.t.UsesRowKey() {
		return append([]any{r.rowid}, r.vals...)
	}
	return r.vals
}

// appendValues writes SQL values as a JSON array (protocol.AppendValue).
func appendValues(b []byte, vals []any) ([]byte, error) {
	b = append(b, '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = protocol.AppendValue(b, v); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// replicaCatchUp is POST /api/replica/changes on a copy: the body is a page
// of the server's GET /api/replica/changes, applied in one transaction
// (each row put in place of its key's, each null deleted), after which the
// copy is current to its seq. 409 when the page is of another DSID (the
// schema moved: the copy is made again).
func (c *ctx) replicaCatchUp() *protocol.Response {
	r := c.e.opts.Replica
	if r == nil {
		return c.fail(404, "not a copy")
	}
	var page struct {
		DSID    string `json:"dsid"`
		Seq     *int64 `json:"seq"`
		Changes []struct {
			Table string           `json:"table"`
			Key   []protocol.Value `json:"key"`
			Row   []protocol.Value `json:"row"`
		} `json:"changes"`
		Suggested map[string][]string `json:"suggested"`
	}
	if err := json.Unmarshal(c.req.Body, &page); err != nil || page.Seq == nil {
		return c.fail(400, "not a page of a copy's changes")
	}
	if page.DSID != c.st.dsid {
		return c.fail(409, "the changes are of another schema ("+page.DSID+"); this copy is of "+c.st.dsid+": copy again")
	}
	out := c.replicaWrite(func() *outcome {
		for _, ch := range page.Changes {
			t := c.table(ch.Table)
			if t == nil || t.View {
				return failed(400, "no such table: "+ch.Table)
			}
			key := protocol.Unwrap(ch.Key)
			if want := len(keyExprs(t)); len(key) != want {
				return failed(400, ch.Table+": a key of "+strconv.Itoa(len(key))+" values for "+strconv.Itoa(want))
			}
			if ch.Row == nil {
				if _, err := c.e.db.Exec("DELETE FROM "+sqldb.Ident(t.Name)+" WHERE "+keyWhere(t), key...); err != nil {
					return c.dbFailure(err)
				}
				continue
			}
			names := replicaColumns(t)
			if len(ch.Row) != len(names) {
				return failed(400, ch.Table+": a row of "+strconv.Itoa(len(ch.Row))+" values for "+strconv.Itoa(len(names))+" columns")
			}
			if o := c.replicaPut(t, names, ch.Row); o != nil {
				return o
			}
		}
		return nil
	})
	if out != nil {
		return c.answer(out)
	}
	r.Seq = *page.Seq
	if page.Suggested != nil {
		r.suggested = page.Suggested
		c.st.takeSuggested(page.Suggested)
	}
	return c.jsonAnswer(200, "seq", r.Seq, "applied", len(page.Changes))
}

// offline says whether pages register the offline service worker: on a
// copy, as its server's pages do; on a server, where the host serves it and
// the config does not say "offline": false.
func (e *Engine) offline() bool {
	if r := e.opts.Replica; r != nil {
		return r.offline
	}
	return e.opts.Offline && e.opts.Config.OfflineEnabled()
}

// offlineProblem says what is wrong with a copy's command ("": nothing),
// and gives a batch's writes the batch's DSID where they name none.
func offlineProblem(cmd *protocol.Command) string {
	if !protocol.CommandIDOK(cmd.ID) {
		return "id must be the command's id (32 hexadecimal digits)"
	}
	writes, where := []protocol.Command{*cmd}, func(int) string { return "" }
	if cmd.Op == "batch" {
		if len(cmd.Ops) == 0 {
			return "a batch's ops must be a list of writes"
		}
		writes, where = cmd.Ops, func(i int) string { return "ops[" + strconv.Itoa(i) + "]: " }
	}
	for i := range writes {
		w := &writes[i]
		switch {
		case w.Op != "insert" && w.Op != "update" && w.Op != "delete":
			return where(i) + "a copy sends inserts, updates, deletes and batches of them only, not " + strconv.Quote(w.Op)
		case w.Table == "":
			return where(i) + "table is missing"
		case w.Op != "insert" && w.Key == "":
			return where(i) + "key is missing"
		case w.DSID == "":
			w.DSID = cmd.DSID
		}
	}
	return ""
}

// replicaCommand is POST /api/replica/commands: one write a copy made while
// its server could not be reached (PROTOCOL.md, "Offline writes"), applied
// here as the caller's own write, by the same path as the JSON API's: the
// caller's rules, the config, validation, a form made against an older
// schema remapped to this one, and 409 with the row as it is now when
// someone else changed it meanwhile. Its result is kept under the command's
// id in the same transaction, so a copy that sends it again (it never heard
// the answer) gets that result, and the write is made once. Who made it is
// the caller's to say, never the command's (its "by" is not read).
func (c *ctx) replicaCommand() *protocol.Response {
	if c.e.opts.Replica != nil {
		return c.fail(404, "a copy has no copy of its own")
	}
	// Read as any JSON body is first (its type, UTF-8, duplicate and too
	// many members), then as the command it is, numbers kept exact.
	if _, bad := c.jsonBodyObject(); bad != nil {
		return bad
	}
	var cmd protocol.Command
	dec := json.NewDecoder(bytes.NewReader(c.req.Body))
	dec.UseNumber()
	if err := dec.Decode(&cmd); err != nil {
		return c.fail(400, "not a command: "+err.Error())
	}
	if why := offlineProblem(&cmd); why != "" {
		return c.fail(400, why)
	}
	writes := []protocol.Command{cmd}
	if cmd.Op == "batch" {
		if most := c.e.opts.Config.MemberLimit(); len(cmd.Ops) > most {
			return c.fail(413, "a batch of "+strconv.Itoa(len(cmd.Ops))+" writes; at most "+strconv.Itoa(most))
		}
		writes = cmd.Ops
	}
	// What the caller may not do at all is refused before anything is
	// kept: sent again later, it would be refused again.
	for _, w := range writes {
		t := c.table(w.Table)
		if t == nil {
			return c.fail(404, "no such table: "+w.Table)
		}
		if why := c.writable(t, w.Op); why != "" {
			return c.fail(403, why)
		}
	}
	if err := c.e.db.Script(c.e.store.CommandsSetup()); err != nil {
		return c.answer(c.dbFailure(err))
	}
	if c.e.opts.WriteMode == "jetstream" {
		return c.offlineStream(&cmd)
	}
	if err := c.e.store.BeginWrite(c.e.db); err != nil {
		return c.answer(c.dbFailure(err))
	}
	done := false
	defer func() { c.settleFiles(done) }() // after the ROLLBACK below
	defer func() {
		if !done {
			c.e.db.Exec("ROLLBACK")
		}
	}()
	if r, ok, err := c.storedResult(cmd.ID); err != nil {
		return c.answer(c.dbFailure(err))
	} else if ok {
		return c.offlineAnswer(cmd.ID, r, true)
	}
	c.inTx = true
	var out *outcome
	var rm *remapped
	if cmd.Op == "batch" {
		out = c.offlineBatch(cmd.Ops)
	} else {
		out, rm = c.offlineWrite(&cmd)
	}
	c.inTx = false
	r := c.offlineResult(out, cmd.Table, rm)
	stored, _ := json.Marshal(r)
	for _, step := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO "_nakedhtmx_commands" (id, seq, status, result) VALUES (?, 0, ?, ?)`, []any{cmd.ID, int64(out.status), string(stored)}},
		{"COMMIT", nil},
	} {
		if _, err := c.e.db.Exec(step.sql, step.args...); err != nil {
			return c.answer(c.dbFailure(err))
		}
	}
	done = true
	return c.offlineAnswer(cmd.ID, r, false)
}

// offlineResult is what a copy's write came to, as kept under its id.
func (c *ctx) offlineResult(out *outcome, table string, rm *remapped) commandResult {
	r := commandResult{Status: out.status, Message: out.msg, Table: table, Errors: out.errs, By: c.callerEmail()}
	if out.row != nil {
		r.Row, r.Key = jsonBody(c.answerObject(out.row)), out.row.pkPath()
	}
	if out.current != nil {
		r.Current, r.Key, r.Version = jsonBody(c.answerObject(out.current)), out.current.pkPath(), out.current.version()
	}
	if rm != nil {
		r.Remapped = jsonBody(rm.report())
	}
	return r
}

// offlineStream is a copy's write under --write jetstream: checked here as
// any write is, it becomes the stream's command under the copy's own id
// (so a copy sending it again sends the same command: JetStream stores it
// once, and every node keeps its result under that id), which the host
// publishes; asked again once this node has applied it (RequestHead.
// Command), the answer is its result. A write refused here (422, 409, 403)
// is answered at once and kept nowhere: sent again, it is judged again.
func (c *ctx) offlineStream(cmd *protocol.Command) *protocol.Response {
	if c.req.Command != "" && c.req.Command != cmd.ID {
		return c.fail(400, "asked again about another command")
	}
	if r, ok, err := c.storedResult(cmd.ID); err != nil {
		return c.answer(c.dbFailure(err))
	} else if ok {
		return c.offlineAnswer(cmd.ID, r, c.req.Command == "")
	}
	if c.req.Command != "" {
		return c.jsonAnswer(202, "id", cmd.ID, "status", "pending")
	}
	// Sent before and not applied yet: the same command goes out again.
	if rs, err := c.e.db.Query(`SELECT command FROM "_nakedhtmx_outbox" WHERE id = ?`, cmd.ID); err != nil {
		return c.answer(c.dbFailure(err))
	} else if len(rs.Values) == 1 {
		var kept protocol.Command
		if err := json.Unmarshal([]byte(sqldb.Text(rs.Values[0][0])), &kept); err != nil {
			return c.fail(500, err.Error())
		}
		c.command = &kept
		return c.jsonAnswer(202, "id", cmd.ID, "status", "pending")
	}
	c.offlineID = cmd.ID
	var out *outcome
	var rm *remapped
	if cmd.Op == "batch" {
		c.collecting = true
		for i := range cmd.Ops {
			if out, _ = c.offlineWrite(&cmd.Ops[i]); out.status >= 300 {
				c.collecting, c.collected = false, nil
				return c.offlineAnswer(cmd.ID, c.offlineResult(out, cmd.Ops[i].Table, nil), false)
			}
		}
		out = c.batchCommand()
	} else {
		out, rm = c.offlineWrite(cmd)
	}
	if out.command == nil {
		return c.offlineAnswer(cmd.ID, c.offlineResult(out, cmd.Table, rm), false)
	}
	return c.jsonAnswer(202, "id", cmd.ID, "status", "pending") // the engine answers with the command
}

// offlineWrite makes one write of a copy's as the JSON API would.
func (c *ctx) offlineWrite(w *protocol.Command) (*outcome, *remapped) {
	t := c.table(w.Table)
	if t == nil {
		return failed(404, "no such table: "+w.Table), nil
	}
	var key []any
	if w.Op != "insert" {
		k, err := parseKey(t, w.Key)
		if err != nil {
			return failed(404, "no such row: "+w.Key), nil
		}
		key = k
	}
	if w.Op == "delete" {
		c.stale = c.planFor(t, w.DSID)
		defer func() { c.stale = nil }()
		return c.remove(t, key, w.Version), nil
	}
	inst, _, _ := instance(t, w.Values)
	var rm *remapped
	if plan := c.planFor(t, w.DSID); plan != nil {
		rm = plan.apply(inst)
	}
	if w.Op == "insert" {
		return c.insert(t, inst, rm), rm
	}
	return c.update(t, key, inst, w.Version, rm), rm
}

// offlineBatch makes a batch's writes: all of them, or, at the first that
// fails, none (its result names that one).
func (c *ctx) offlineBatch(writes []protocol.Command) *outcome {
	write := func(w *protocol.Command) *outcome { out, _ := c.offlineWrite(w); return out }
	out, at := c.inSavepoint(writes, write, func(*outcome) {})
	if out == nil {
		return &outcome{status: 200}
	}
	if at != nil {
		out.msg = "write " + strconv.Itoa(*at+1) + " of " + strconv.Itoa(len(writes)) + ": " + out.msg
	}
	return out
}

// callerEmail is the signed-in user's email, "" for the token or an app
// without users (commandResult.By).
func (c *ctx) callerEmail() string {
	if u := c.who.user; u != nil {
		return u.Email
	}
	return ""
}

// offlineAnswer is what POST /api/replica/commands answers: 200 with what
// the write came to ("status": the write's own, as the JSON API would have
// answered it), "replayed" when it was made before.
func (c *ctx) offlineAnswer(id string, r commandResult, replayed bool) *protocol.Response {
	if r.By != c.callerEmail() {
		// A result holds the row as its writer saw it: never someone else's.
		return c.fail(403, "command "+id+" was made by someone else")
	}
	kv := []any{"id", id, "status", r.Status}
	if replayed {
		kv = append(kv, "replayed", true)
	}
	if r.Message != "" {
		kv = append(kv, "error", r.Message)
	}
	if len(r.Row) > 0 {
		kv = append(kv, "row", schema.RawJSON(r.Row), "key", r.Key)
	}
	if len(r.Current) > 0 {
		kv = append(kv, "current", schema.RawJSON(r.Current), "key", r.Key, "version", r.Version)
	}
	if len(r.Errors) > 0 {
		kv = append(kv, "errors", errorObjects(r.Errors))
	}
	if len(r.Remapped) > 0 {
		kv = append(kv, "remapped", schema.RawJSON(r.Remapped))
	}
	return c.jsonAnswer(200, kv...)
}
