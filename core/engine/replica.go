package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/capture"
	"github.com/nakedhtmx/nakedhtmx/core/config"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
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
}

// ParseReplica reads GET /api/replica's answer into the Options a copy is
// opened with (Replica and Config), and the log position it is current to.
func ParseReplica(body []byte) (*Replica, *Config, int64, error) {
	var p replicaPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, nil, 0, fmt.Errorf("replica: %w", err)
	}
	if p.DSID == "" {
		return nil, nil, 0, fmt.Errorf("replica: no dsid")
	}
	d, err := model.DecodeWire(p.Model)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("replica: %w", err)
	}
	cfg, err := config.Parse(p.Config)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("replica: %w", err)
	}
	for name, q := range p.Queries {
		if name == "" || q == nil || (q.Chart != nil && !slices.Contains(config.ChartTypes, q.Chart.Type)) {
			return nil, nil, 0, fmt.Errorf("replica: stored query %q", name)
		}
		if cfg.Queries == nil {
			cfg.Queries = map[string]*config.Query{}
		}
		cfg.Queries[name] = q
	}
	return &Replica{DSID: p.DSID, Model: d, Seq: p.Seq}, cfg, p.Seq, nil
}

// replicaAnswer is GET /api/replica.
func (c *ctx) replicaAnswer() *protocol.Response {
	if c.e.opts.Replica != nil {
		return c.fail(404, "a copy has no copy of its own")
	}
	vis := *c.st.vis
	vis.SchemaVersion = 0 // the server file's own counter: a copy keeps its own
	m, err := model.EncodeWire(&vis)
	if err != nil {
		return c.fail(500, err.Error())
	}
	cfg, err := json.Marshal(replicaConfig(c.e.opts.Config, c.st.vis))
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
	return c.jsonAnswer(200, "seq", seq, "model", schema.RawJSON(m), "config", schema.RawJSON(cfg), "queries", schema.RawJSON(queries))
}

// replicaQueries are the stored queries the caller may run, as the index
// lists them; a query's SQL comes along only when its text names nothing
// the config hides (a copy runs it on its own rows), else it is left out
// and the copy answers that the query runs on the server.
func (c *ctx) replicaQueries() map[string]*config.Query {
	var hidden []string
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
	hidden = append(hidden, strings.ToLower(model.Prefix))
	out := map[string]*config.Query{}
	for _, name := range c.queryNames() {
		q := *c.storedQuery(name)
		text := strings.ToLower(q.SQL)
		for _, h := range hidden {
			if strings.Contains(text, h) {
				q.SQL = ""
				break
			}
		}
		out[name] = &q
	}
	return out
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
// reflection cannot tell), row rules, which the server applies
// (the copy holds only the rows the caller's rules let through, and its
// writes go to the server, which decides them), and stored queries, whose
// SQL no caller is shown (it may name what the config hides).
func replicaConfig(cfg *Config, vis *model.Database) *Config {
	out := &Config{PageSize: cfg.PageSize, Title: cfg.Title, EmbedOrigins: cfg.EmbedOrigins, Limits: cfg.Limits,
		SQL: cfg.SQL, Schema: cfg.Schema}
	for _, t := range vis.Tables {
		tc := cfg.Tables[t.Name]
		if tc == nil {
			continue
		}
		nt := &config.Table{Label: tc.Label, ReadOnly: tc.ReadOnly, Allow: tc.Allow, Order: tc.Order, LabelColumn: tc.LabelColumn,
			PageSize: tc.PageSize, Defaults: tc.Defaults}
		hidden := 0
		for name, cc := range tc.Columns {
			if nt.Columns == nil {
				nt.Columns = map[string]*config.Column{}
			}
			switch {
			case t.Column(name) != nil:
				nt.Columns[name] = cc
			case cc != nil && cc.Hidden:
				// That the table hides a column shows on its pages (its
				// structure is then changed with SQL only), so the copy
				// is told, under a name no column can have (SQLite's
				// names hold no NUL), never the column's own.
				nt.Columns["\x00hidden "+strconv.Itoa(hidden)] = &config.Column{Hidden: true}
				hidden++
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
	var cols []string
	if t.UsesRowKey() {
		cols = append(cols, rowidName)
	}
	for _, col := range t.Columns {
		cols = append(cols, col.Name)
	}
	b := []byte{'['}
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		vals := r.vals
		if t.UsesRowKey() {
			vals = append([]any{r.rowid}, vals...)
		}
		for j, v := range vals {
			if j > 0 {
				b = append(b, ',')
			}
			if b, err = protocol.AppendValue(b, v); err != nil {
				return c.fail(500, err.Error())
			}
		}
		b = append(b, ']')
	}
	b = append(b, ']')
	var nextVal any
	if next != "" {
		nextVal = next
	}
	return c.jsonAnswer(200, "columns", cols, "rows", schema.RawJSON(b), "next", nextVal)
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
// one transaction, each row replacing the one of its key.
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
	names := make([]string, len(page.Columns))
	marks := make([]string, len(page.Columns))
	for i, name := range page.Columns {
		if t.Column(name) == nil && !(name == rowidName && t.UsesRowKey()) {
			return c.fail(400, "no such column: "+name)
		}
		names[i], marks[i] = sqldb.Ident(name), "?"
		if name == rowidName && t.UsesRowKey() {
			names[i] = "_rowid_"
		}
	}
	sql := "INSERT OR REPLACE INTO " + sqldb.Ident(t.Name) + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	out := c.tx(nil, func() *outcome {
		for _, r := range page.Rows {
			if len(r) != len(page.Columns) {
				return failed(400, "a row has "+strconv.Itoa(len(r))+" values for "+strconv.Itoa(len(page.Columns))+" columns")
			}
			if _, err := c.e.db.Exec(sql, protocol.Unwrap(r)...); err != nil {
				return c.dbFailure(err)
			}
		}
		return &outcome{status: 200}
	})
	if out.status != 200 {
		return c.answer(out)
	}
	return c.jsonAnswer(200, "stored", len(page.Rows))
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
	e.st = st
	return nil
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
