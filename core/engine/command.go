package engine

// The write side of --write jetstream (CQRS). A node that takes a write
// checks it as a direct write would (rules, schema, version), then, instead
// of writing, answers with the write as a command; its host publishes the
// command on the stream. Every node applies the stream in order through
// Apply, in one transaction that also stores the stream sequence and the
// command's result, so a redelivered command is never applied twice and
// every node reaches the same verdict on the same data. The host then asks
// again with the command's id (RequestHead.Command) and the node that took
// the write answers with what the command came to, as a direct write would
// have (read-your-writes). PROTOCOL.md, "Commands", has the host's side.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nakedhtmx/nakedhtmx/core/config"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/rules"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/schemaedit"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

// The project's own tables for the projection: the last stream sequence
// applied, and each applied command's result.
const (
	projectionTable = "_nakedhtmx_projection"
	commandsTable   = "_nakedhtmx_commands"
)

// commandResult is what a command came to, as stored and as read back to
// answer the request that made it.
type commandResult struct {
	Status  int             `json:"status"`
	Row     json.RawMessage `json:"row,omitempty"`     // the row written (or deleted)
	Key     string          `json:"key,omitempty"`     // and its key, as one path segment
	Current json.RawMessage `json:"current,omitempty"` // 409: the row as it was
	Errors  []fieldError    `json:"errors,omitempty"`  // 422
	Message string          `json:"message,omitempty"`
	Table   string          `json:"table,omitempty"` // the command's table ("" for a migration)
	// Results are a batch's, one per write (status, row, version); Index
	// the write that failed it (nothing of it applied).
	Results json.RawMessage `json:"results,omitempty"`
	Index   *int            `json:"index,omitempty"`
	// Remapped: a copy's write made against an older schema, and what of
	// it went where (replicaCommand).
	Remapped json.RawMessage `json:"remapped,omitempty"`
	// Version is Current's row version: a copy keeping its own write
	// sends it again against this one.
	Version string `json:"version,omitempty"`
	// By is the email of the user who made the write ("": the token, or an
	// app without users): only they are answered its result again.
	By string `json:"by,omitempty"`
}

// jetstream reports whether writes become commands on this request: in
// jetstream mode, and not while applying one.
func (c *ctx) jetstream() bool { return c.e.opts.WriteMode == "jetstream" && !c.applying }

// writeCommand turns a checked write into the command the host publishes
// (or, while a batch is collected, one write of it).
func (c *ctx) writeCommand(t *model.Table, op string, key []any, values map[string]any, version string) *outcome {
	cmd := protocol.Command{DSID: c.st.dsid, Table: t.Name, Op: op, Values: values, Version: version}
	if key != nil {
		cmd.Key = keyPath(key)
	}
	if c.collecting {
		c.collected = append(c.collected, cmd)
		return &outcome{status: 202}
	}
	return c.newCommand(cmd)
}

// maxCommand is the most bytes one command may take: NATS's default
// payload limit is 1 MiB, and a command that cannot be published would wait
// in the outbox for ever.
const maxCommand = 900 << 10

// batchCommand sends the writes collected (c.collecting) as one command.
func (c *ctx) batchCommand() *outcome {
	cmd := protocol.Command{DSID: c.st.dsid, Op: "batch", Ops: c.collected}
	c.collecting, c.collected = false, nil
	return c.newCommand(cmd)
}

// appliedResult is the result of the command this request became, asked
// again once it is applied (c.req.Command); nil, with the answer, while it
// is pending (c.pending: the engine answers 202 as the caller asked, JSON
// or the page that follows the command) or cannot be read.
func (c *ctx) appliedResult() (*commandResult, *protocol.Response) {
	r, ok, err := c.storedResult(c.req.Command)
	switch {
	case err != nil:
		return nil, c.failOutcome(c.dbFailure(err))
	case !ok:
		c.pending = c.req.Command
		return nil, c.fail(202, "not applied yet")
	}
	return &r, nil
}

// applyBatch applies a batch command's writes in a savepoint of the
// command's transaction: all of them, or, at the first that fails, none.
func (c *ctx) applyBatch(cmd *protocol.Command) (*outcome, json.RawMessage, *int) {
	results := make([]any, 0, len(cmd.Ops))
	out, failedAt := c.inSavepoint(cmd.Ops, c.applyOne, func(out *outcome) {
		r := schema.NewObject().Set("status", out.status)
		if out.status != 204 && out.row != nil {
			r.Set("row", c.answerObject(out.row)).Set("version", out.row.version())
		}
		results = append(results, r)
	})
	if out != nil {
		return out, nil, failedAt
	}
	return &outcome{status: 200}, jsonBody(results), nil
}

// inSavepoint makes a batch's writes (insert, update, delete) in a savepoint
// of the transaction it runs in: all of them, or, at the first refused,
// none, and that one's failure with its index (what the writes did to files
// is undone with them, files.go). made sees each write that was made.
func (c *ctx) inSavepoint(ops []protocol.Command, write func(*protocol.Command) *outcome, made func(*outcome)) (*outcome, *int) {
	if _, err := c.e.db.Exec("SAVEPOINT nakedhtmx_batch"); err != nil {
		return c.dbFailure(err), nil
	}
	defer c.e.db.Exec("RELEASE nakedhtmx_batch")
	mark := c.files.mark()
	for i := range ops {
		out := failed(400, "a batch holds inserts, updates and deletes only")
		if op := ops[i].Op; op == "insert" || op == "update" || op == "delete" {
			out = write(&ops[i])
		}
		if out.status >= 300 {
			c.e.db.Exec("ROLLBACK TO nakedhtmx_batch")
			c.undoFiles(mark)
			return out, &i
		}
		made(out)
	}
	return nil, nil
}

// newCommand names a command (id, this node), keeps it in the outbox and
// answers 202 with it.
func (c *ctx) newCommand(cmd protocol.Command) *outcome {
	if body, _ := json.Marshal(&cmd); len(body) > maxCommand {
		what := "this write is too large for one command on the stream (a value of this size cannot travel in the scale-out mode"
		if cmd.Op == "batch" {
			what = "these writes are too large for one command on the stream (send fewer at once"
		}
		return failed(413, what+"; "+strconv.Itoa(len(body))+" bytes, at most "+strconv.Itoa(maxCommand)+")")
	}
	id := c.offlineID // a copy's command keeps its id: sent again, it is the same command
	if id == "" {
		var err error
		if id, err = protocol.NewCommandID(); err != nil {
			return failed(500, err.Error())
		}
	}
	cmd.ID, cmd.Node = id, c.e.opts.Node
	if u := c.who.user; u != nil {
		cmd.By = &protocol.CommandUser{ID: u.ID, Email: u.Email, Role: u.Role}
	}
	if bad := c.keep(&cmd); bad != nil {
		return bad
	}
	return &outcome{status: 202, command: &cmd}
}

// keep stores a new command in this node's outbox before anyone hears of
// it: the host publishes what is there (now, and again after an outage or a
// restart, under the same id so JetStream stores it once), and applying it
// takes it out. So an accepted write is never lost, NATS or not.
func (c *ctx) keep(cmd *protocol.Command) *outcome {
	body, err := json.Marshal(cmd)
	if err != nil {
		return failed(500, err.Error())
	}
	if err := c.e.db.Script(c.e.store.CommandsSetup()); err != nil {
		return c.dbFailure(err)
	}
	if _, err := c.e.db.Exec(`INSERT INTO "_nakedhtmx_outbox" (id, command) VALUES (?, ?)`, cmd.ID, string(body)); err != nil {
		return c.dbFailure(err)
	}
	c.command = cmd
	return nil
}

// Outbox lists the commands this node made that it has not applied yet, in
// the order it made them (the host publishes them), and the stream sequence
// of the last command applied here (PROTOCOL.md, "Commands").
func (e *Engine) Outbox() protocol.Outbox {
	out := protocol.Outbox{Commands: []protocol.Command{}, Applied: e.appliedSeq()}
	rs, err := e.db.Query(`SELECT command FROM "_nakedhtmx_outbox" ORDER BY n`)
	if err != nil {
		return out // no outbox table yet: nothing was ever kept
	}
	for _, r := range rs.Values {
		var cmd protocol.Command
		if json.Unmarshal([]byte(sqldb.Text(r[0])), &cmd) == nil {
			out.Commands = append(out.Commands, cmd)
		}
	}
	return out
}

// appliedSeq is the stream sequence of the last command applied here (0:
// none yet).
func (e *Engine) appliedSeq() uint64 {
	rs, err := e.db.Query(`SELECT seq FROM "_nakedhtmx_projection" WHERE id = 1`)
	if err != nil || len(rs.Values) != 1 {
		return 0
	}
	n, _ := sqldb.Int(rs.Values[0][0])
	return uint64(n)
}

// storedResult reads what a command came to on this node; ok is false while
// it has not been applied here.
func (c *ctx) storedResult(id string) (r commandResult, ok bool, err error) {
	rs, err := c.e.db.Query(`SELECT result FROM "_nakedhtmx_commands" WHERE id = ?`, id)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return r, false, nil // no command was ever applied here
		}
		return r, false, err
	}
	if len(rs.Values) == 0 {
		return r, false, nil
	}
	if err := json.Unmarshal([]byte(sqldb.Text(rs.Values[0][0])), &r); err != nil {
		return r, false, fmt.Errorf("stored result of command %s: %w", id, err)
	}
	return r, true, nil
}

// commandOutcome answers a request the host asks again about (RequestHead.
// Command): the stored result of that command, or 202 while this node has
// not applied it yet.
func (c *ctx) commandOutcome(t *model.Table) *outcome {
	id := c.req.Command
	r, ok, err := c.storedResult(id)
	if err != nil {
		return c.dbFailure(err)
	}
	if !ok {
		c.pending = id
		return &outcome{status: 202, msg: "command " + id + " is not applied yet", pending: id}
	}
	out := &outcome{status: r.Status, msg: r.Message, errs: r.Errors}
	if t == nil {
		return out // a migration: no row
	}
	key, _ := parseKey(t, r.Key)
	if r.Row != nil {
		out.row = rowFromJSON(t, string(r.Row), key)
	}
	if r.Current != nil {
		out.current = rowFromJSON(t, string(r.Current), key)
	}
	return out
}

// Apply runs one command from the stream (seq is its stream sequence) in one
// transaction with the projection's bookkeeping. A sequence at or below the
// last one applied is skipped: the stream redelivered it.
func (e *Engine) Apply(cmd *protocol.Command, seq uint64) (res protocol.ApplyResult) {
	res = protocol.ApplyResult{ID: cmd.ID, Seq: seq}
	// The database could not take it now: the host tries again later.
	unavailable := func(err error) protocol.ApplyResult {
		res.Status, res.Error = 503, err.Error()
		return res
	}
	if err := e.refresh(false); err != nil {
		return unavailable(fmt.Errorf("cannot read the database schema: %w", err))
	}
	if err := e.db.Script(e.store.CommandsSetup()); err != nil {
		return unavailable(err)
	}
	c := newCtx(e, &protocol.Request{})
	c.applying = true
	c.who = principal{admin: true}
	if by := cmd.By; by != nil {
		c.who = principal{user: &rules.User{ID: by.ID, Email: by.Email, Role: by.Role}, admin: by.Role == AdminRole}
	}
	c.files.nonce = cmd.ID // every node names the command's files alike
	// A schema edit is planned before its transaction: a table rebuild runs
	// with foreign key enforcement off, which only a connection outside a
	// transaction can turn off.
	var edit *schemaedit.Plan
	var editOut *outcome
	if cmd.Op == "schemaEdit" {
		if _, _, edit, editOut = c.planCommand(cmd); edit != nil && edit.Rebuild {
			if _, err := e.db.Exec("PRAGMA foreign_keys = OFF"); err != nil {
				return unavailable(err)
			}
			defer e.db.Exec("PRAGMA foreign_keys = ON")
		}
	}
	if err := e.store.BeginWrite(e.db); err != nil {
		return unavailable(err)
	}
	done := false
	defer func() { c.settleFiles(done) }() // after the ROLLBACK below
	defer func() {
		if !done {
			e.db.Exec("ROLLBACK")
		}
	}()
	if e.appliedSeq() >= seq {
		res.Skipped = true
		if r, ok, _ := c.storedResult(cmd.ID); ok {
			res.Status = r.Status
		}
		return res
	}
	c.inTx = true
	var out *outcome
	var batchResults json.RawMessage
	var batchIndex *int
	switch {
	case cmd.Op == "batch":
		out, batchResults, batchIndex = c.applyBatch(cmd)
	case cmd.Op != "schemaEdit":
		out = c.applyOne(cmd)
	case editOut != nil:
		out = editOut
	default:
		// Confirmed where it was made: what it loses here is what it lost
		// there (every node holds the same rows at this point).
		out = &outcome{status: 200}
		if _, err := e.db.Exec("SAVEPOINT nakedhtmx_edit"); err != nil {
			return unavailable(err)
		}
		if _, bad := c.runSteps(edit); bad != nil {
			out = bad
			e.db.Exec("ROLLBACK TO nakedhtmx_edit") // nothing of a refused edit stays
		}
		e.db.Exec("RELEASE nakedhtmx_edit")
	}
	c.inTx = false
	r := commandResult{Status: out.status, Message: out.msg, Table: cmd.Table, Errors: out.errs, Results: batchResults, Index: batchIndex}
	if cmd.By != nil {
		r.By = cmd.By.Email
	}
	if out.row != nil {
		r.Row, r.Key = out.row.objectJSON(), out.row.pkPath()
	}
	if out.current != nil {
		r.Current, r.Key = out.current.objectJSON(), out.current.pkPath()
	}
	body, _ := json.Marshal(r)
	for _, step := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO "_nakedhtmx_projection" (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq`,
			[]any{int64(seq)}},
		{`INSERT INTO "_nakedhtmx_commands" (id, seq, status, result) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, status = excluded.status, result = excluded.result`,
			[]any{cmd.ID, int64(seq), int64(out.status), string(body)}},
		{`DELETE FROM "_nakedhtmx_outbox" WHERE id = ?`, []any{cmd.ID}},
		{"COMMIT", nil},
	} {
		if _, err := e.db.Exec(step.sql, step.args...); err != nil {
			return unavailable(err)
		}
	}
	done = true
	res.Status = out.status
	if out.status >= 300 {
		res.Error = out.msg
	}
	return res
}

// applyOne runs the command's write; a failed write is undone (to its
// savepoint) and its failure is the result.
func (c *ctx) applyOne(cmd *protocol.Command) *outcome {
	if cmd.Op == "user" {
		// The users, alike on every node (users.go); only an administrator's
		// command may change them, as only one may ask for it.
		if cmd.By != nil && cmd.By.Role != AdminRole {
			return failed(403, "only an administrator manages users")
		}
		return c.applyUser(cmd.Values)
	}
	if cmd.Op == "migrate" {
		// Made against no particular schema: every node runs it on the same
		// schema anyway, as the stream orders it among the writes. A command
		// from the stream is held to the words' rule as a request is.
		if why := c.migrationRefusal(cmd.SQL); why != "" {
			return failed(403, why)
		}
		return c.runMigration(cmd.SQL)
	}
	t := c.table(cmd.Table)
	if t == nil {
		return failed(404, "no such table: "+cmd.Table)
	}
	if cmd.DSID != c.st.dsid {
		// Every node applies the stream in the same order, so every node has
		// the same schema here; a command made before a schema change is
		// refused alike everywhere until migrations travel the log as well.
		return failed(409, fmt.Sprintf("the command was made against schema %s; this is %s", cmd.DSID, c.st.dsid))
	}
	var key []any
	if cmd.Op != "insert" {
		k, err := parseKey(t, cmd.Key)
		if err != nil {
			return failed(404, "no such row: "+cmd.Key)
		}
		key = k
	}
	values := maps.Clone(cmd.Values) // the command's own stay as sent (a process may apply it on several nodes)
	switch cmd.Op {
	case "insert":
		if cmd.Conflict == "skip" || cmd.Conflict == "update" {
			return c.importCommandRow(t, cmd, values)
		}
		return c.insert(t, values, nil)
	case "update":
		return c.update(t, key, values, cmd.Version, nil)
	case "delete":
		return c.remove(t, key, cmd.Version)
	}
	return failed(400, "unknown command operation "+cmd.Op)
}

// importCommandRow applies an imported row's insert that skips or updates
// a row with its key (importOne, as a direct import does): 201 inserted,
// 200 updated, 204 skipped.
func (c *ctx) importCommandRow(t *model.Table, cmd *protocol.Command, values map[string]any) *outcome {
	if why := c.writable(t, "insert"); why != "" {
		return failed(403, why)
	}
	if cmd.Conflict == "update" {
		if why := c.writable(t, "update"); why != "" {
			return failed(403, why)
		}
	}
	var n importCounts
	var out *outcome
	c.tx(t, func() *outcome {
		if out = c.importOne(t, cmd.Conflict, cmd.Line, values, &n); out != nil {
			return out
		}
		if out = c.keysGiven(t); out != nil {
			return out
		}
		return &outcome{status: 201}
	})
	switch {
	case out != nil:
		return out
	case n.updated > 0:
		return &outcome{status: 200}
	case n.skipped > 0:
		return &outcome{status: 204}
	}
	return &outcome{status: 201}
}

// migration answers POST /api/migrations: the body is SQL (DDL) that every
// node runs. Direct mode runs it here; jetstream mode sends it through the
// stream like any write, so every node changes its schema at the same point
// among the writes and computes the same DSID. It changes everything, so it
// needs an auth token to be set at all.
func (c *ctx) migration() *protocol.Response {
	if c.req.Method != "POST" {
		return c.methodNotAllowed("POST")
	}
	if c.e.opts.AuthToken == "" {
		return c.fail(403, "migrations over HTTP need the server to run with --auth-token")
	}
	if c.req.TooLarge {
		return c.fail(413, "the migration is too large")
	}
	if mt, _, _ := parseMediaType(c.header("content-type")); mt != "application/sql" && mt != "text/plain" {
		return c.fail(415, "a migration is SQL: send it as application/sql or text/plain")
	}
	if !utf8.Valid(c.req.Body) {
		return c.fail(400, "the migration is not valid UTF-8")
	}
	sql := strings.TrimSpace(string(c.req.Body))
	if sql == "" {
		return c.fail(400, "the migration is empty")
	}
	if why := c.migrationRefusal(sql); why != "" {
		return c.fail(403, why)
	}
	var out *outcome
	switch {
	case c.req.Command != "":
		out = c.commandOutcome(nil)
	case c.jetstream():
		// Tried here first, under the guard and the time limit, and rolled
		// back: what every node will run must have passed both once.
		if tried := c.callerSQL(sql, true); tried.status >= 300 {
			return c.fail(tried.status, tried.msg)
		}
		if bad := c.newCommand(protocol.Command{Op: "migrate", SQL: sql}); bad.command == nil {
			return c.fail(bad.status, bad.msg)
		}
		return c.jsonAnswer(202, "command", c.command.ID, "status", "pending")
	default:
		out = c.runMigration(sql)
	}
	if out.pending != "" {
		return c.jsonAnswer(202, "command", out.pending, "status", "pending")
	}
	if out.status >= 300 {
		return c.fail(out.status, out.msg)
	}
	// The schema changed: reflect it now, so the answer carries the new DSID.
	if err := c.e.refresh(false); err != nil {
		return c.fail(500, "the migration ran, but reading the schema failed: "+err.Error())
	}
	c.st = c.e.st
	return c.jsonAnswer(200, "migrated", true)
}

// migrationRefusal says why a migration may not run (the store's words,
// on SQLite ddl.Refusal: nothing
// outside this database, nothing of nakedhtmx's or SQLite's own, nothing the
// config hides, by the words alone), or "". The names come from guard, the
// one reading of the config that the store's authorizer also gets.
func (c *ctx) migrationRefusal(sql string) string {
	tables, columns, guarded, readOnly := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	g := c.guard()
	for _, n := range g.ReadOnly {
		readOnly[strings.ToLower(n.Table)] = true
	}
	for _, n := range g.Hidden {
		if n.Column == "" {
			tables[strings.ToLower(n.Table)] = true
		} else {
			columns[strings.ToLower(n.Column)] = true
			guarded[strings.ToLower(n.Table)] = true
		}
	}
	in := func(set map[string]bool) func(string) bool {
		return func(name string) bool { return set[strings.ToLower(name)] }
	}
	return c.e.store.MigrationRefusal(sql, store.Rules{HiddenTable: in(tables), HiddenColumn: in(columns), Guarded: in(guarded), ReadOnly: in(readOnly)})
}

// runMigration runs a migration's SQL: all of it or none. Over HTTP it goes
// to the store as caller SQL (sqldb.Guard: the authorizer holds it to the
// config, the request's time limit stops it); applied from the stream, inside
// Apply's transaction, it runs as a script under ddl.Refusal alone, since a
// time limit there would let nodes reach different verdicts on the same
// command (the node that published it tried it under the guard first).
func (c *ctx) runMigration(sql string) *outcome {
	if c.inTx {
		return c.tx(nil, func() *outcome { // inside Apply's transaction: no lane
			if err := c.e.db.Script(sql); err != nil {
				return failed(422, "the migration failed and nothing of it was applied: "+c.scrub(err.Error()))
			}
			return &outcome{status: 200}
		})
	}
	return c.callerSQL(sql, false)
}

// callerSQL runs (or, dry, only tries) a migration as caller SQL.
func (c *ctx) callerSQL(sql string, dry bool) *outcome {
	c.cached = nil
	g := c.guard()
	g.Dry = dry
	if err := c.e.db.Caller(sql, g); err != nil {
		switch sqldb.Code(err) {
		case "SQLITE_AUTH":
			return failed(403, "the migration may not do that: "+c.scrub(err.Error()))
		case "SQLITE_BUSY", "SQLITE_LOCKED":
			return c.dbFailure(err)
		}
		return failed(422, "the migration failed and nothing of it was applied: "+c.scrub(err.Error()))
	}
	return &outcome{status: 200}
}

// guard is what the config keeps from caller SQL: hidden tables and
// columns, and rows of read-only ones.
func (c *ctx) guard() sqldb.Guard {
	var g sqldb.Guard
	for name, tc := range c.e.opts.Config.Tables {
		if tc == nil {
			continue
		}
		if tc.Hidden {
			g.Hidden = append(g.Hidden, sqldb.Name{Table: name})
		}
		if tc.ReadOnly {
			g.ReadOnly = append(g.ReadOnly, sqldb.Name{Table: name})
		}
		for col, cc := range tc.Columns {
			if cc == nil {
				continue
			}
			if cc.Hidden {
				g.Hidden = append(g.Hidden, sqldb.Name{Table: name, Column: col})
			}
			if cc.ReadOnly {
				g.ReadOnly = append(g.ReadOnly, sqldb.Name{Table: name, Column: col})
			}
		}
	}
	// Map order is random; the request the host sees is the same every time.
	// (sort.Slice, not slices.SortFunc: a generic sort of one more type is
	// about 20 KB of core.wasm.)
	sortNames(g.Hidden)
	sortNames(g.ReadOnly)
	return g
}

func sortNames(ns []sqldb.Name) {
	sort.Slice(ns, func(i, j int) bool {
		return cmp.Or(strings.Compare(ns[i].Table, ns[j].Table), strings.Compare(ns[i].Column, ns[j].Column)) < 0
	})
}

// commandSchemas answers GET /api/commands: the JSON Schema of every command
// this node would make now (for each visible table, the writes its rules
// allow, and migrations), with the subject each is published on, so that
// outside consumers of the stream can validate what they read.
func (c *ctx) commandSchemas() *protocol.Response {
	if c.req.Method != "GET" && c.req.Method != "HEAD" {
		return c.methodNotAllowed("GET")
	}
	tables := schema.NewObject()
	for _, t := range c.st.vis.Tables {
		if c.table(t.Name) == nil || t.View {
			continue
		}
		ops := schema.NewObject()
		for _, op := range config.Ops {
			if c.writable(t, op) == "" {
				ops.Set(op, newObj("subject", protocol.Subject(t.Name, op), "schema", c.commandSchema(t, op)))
			}
		}
		if ops.Len() > 0 {
			tables.Set(t.Name, ops)
		}
	}
	migrate := commandEnvelope("a migration: SQL every node runs at its place in the stream", "migrate")
	props, _ := migrate.Get("properties")
	props.(*schema.Object).Set("sql", newObj("type", "string", "minLength", 1))
	migrate.Set("required", []string{"id", "node", "op", "sql"})
	edit := commandEnvelope("a schema edit made from the app (POST /api/structure): every node plans and runs it at its place in the stream", "schemaEdit")
	props, _ = edit.Get("properties")
	props.(*schema.Object).Set("dsid", newObj("type", "string")).Set("table", newObj("type", "string")).
		Set("edit", newObj("type", "object", "required", []string{"op", "table"},
			"properties", newObj("op", newObj("enum", schemaedit.Ops), "table", newObj("type", "string", "minLength", 1))))
	edit.Set("required", []string{"id", "node", "op", "table", "edit"})
	batch := commandEnvelope("a batch: writes (each as the table's insert, update or delete command describes it, without id and node) applied in one transaction, all or none", "batch")
	props, _ = batch.Get("properties")
	props.(*schema.Object).Set("dsid", newObj("type", "string")).Set("table", newObj("const", "")).
		Set("ops", newObj("type", "array", "minItems", 1, "items", newObj("type", "object", "required", []string{"table", "op", "dsid"},
			"properties", newObj("op", newObj("enum", config.Ops),
				// An imported row's insert: what each node does with a row its key names there.
				"conflict", newObj("enum", []string{"skip", "update"}), "line", newObj("type", "integer", "minimum", 1)))))
	batch.Set("required", []string{"id", "node", "op", "ops"})
	return c.jsonAnswer(200, "tables", tables, "migrate", newObj("subject", protocol.Subject("", "migrate"), "schema", migrate),
		"schemaEdit", newObj("subject", "nakedhtmx.cmd.TABLE.schemaEdit", "schema", edit),
		"batch", newObj("subject", protocol.Subject("", "batch"), "schema", batch))
}

// commandSchema is the JSON Schema of one table's commands of one kind.
func (c *ctx) commandSchema(t *model.Table, op string) *schema.Object {
	s := commandEnvelope(op+" on "+t.Name, op)
	props, _ := s.Get("properties")
	p := props.(*schema.Object)
	p.Set("dsid", newObj("const", c.st.dsid))
	p.Set("table", newObj("const", t.Name))
	required := []string{"id", "node", "dsid", "table", "op"}
	if op != "insert" {
		p.Set("key", newObj("type", "string", "minLength", 1, "description", "the row's key as one URL path segment"))
		p.Set("version", newObj("type", "string", "description", "the row version the write was based on; empty for none"))
		required = append(required, "key")
	}
	if op != "delete" {
		values := schema.NewObject().Set("type", "object")
		ts := c.st.schemas[t.Name]
		tp, _ := ts.Get("properties")
		values.Set("properties", tp)
		if req, ok := ts.Get("required"); ok && op == "insert" {
			values.Set("required", req)
		}
		values.Set("additionalProperties", false)
		p.Set("values", values)
		required = append(required, "values")
	}
	s.Set("required", required)
	return s
}

// commandEnvelope is what every command has.
func commandEnvelope(title, op string) *schema.Object {
	return newObj("$schema", schema.Draft, "title", title, "type", "object",
		"properties", newObj(
			"id", newObj("type", "string", "pattern", "^[0-9a-f]{32}$", "description", "also the Nats-Msg-Id"),
			"node", newObj("type", "string", "description", "the node that took the write"),
			"op", newObj("const", op),
		),
		"additionalProperties", false)
}

// commandState is where one of this node's commands stands: applied or
// rejected (with what it came to), pending (still in the outbox), or unknown.
func (c *ctx) commandState(id string) (string, commandResult) {
	if r, ok, _ := c.storedResult(id); ok {
		if r.Status >= 300 {
			return "rejected", r
		}
		return "applied", r
	}
	if rs, err := c.e.db.Query(`SELECT 1 FROM "_nakedhtmx_outbox" WHERE id = ?`, id); err == nil && len(rs.Values) == 1 {
		return "pending", commandResult{}
	}
	return "", commandResult{}
}

// commandStatus answers GET /api/commands/ID and GET /commands/ID: how a
// write that became a command resolved, so that a pending one (202) is
// followed to applied or refused, visibly.
func (c *ctx) commandStatus(id string) *protocol.Response {
	if c.req.Method != "GET" && c.req.Method != "HEAD" {
		return c.methodNotAllowed("GET")
	}
	return c.commandAnswer(id)
}

// commandAnswer is commandStatus for any request: also the page a pending
// form post answers with, which then follows its command.
func (c *ctx) commandAnswer(id string) *protocol.Response {
	state, r := c.commandState(id)
	if state == "" {
		return c.fail(404, "no command "+id+" on this node")
	}
	if c.api {
		return c.jsonAnswer(200, "command", id, "state", state, "result", r)
	}
	data := render.CommandData{Page: c.page("Your change"), ID: id, State: state, Message: r.Message,
		Poll: c.e.opts.BasePath + "/commands/" + EncodeComponent(id)}
	for _, e := range r.Errors {
		data.Errors = append(data.Errors, render.FieldError(e))
	}
	if state == "rejected" && data.Message == "" && len(data.Errors) > 0 {
		data.Message = "the data is not valid for this table"
	}
	if state == "applied" && r.Key != "" && r.Status != 204 && c.table(r.Table) != nil {
		data.Href = c.tableURL(r.Table) + "/r/" + r.Key
	}
	if c.hx {
		return html(200, render.CommandStatus(&data))
	}
	return html(200, render.CommandPage(&data))
}
