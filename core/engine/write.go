package engine

import (
	"bytes"
	"math"
	"slices"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/capture"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// outcome is what a write came to, for the JSON API and the HTML forms alike.
type outcome struct {
	status  int // 200/201/204 on success
	row     *row
	errs    []fieldError // 422
	current *row         // 409: the row as it is now
	msg     string       // a message for any failure
	remap   *remapped    // set when the write was made against an older schema
	// importErrs: an import refused by line and field (importrows.go).
	importErrs []importError
	command    *protocol.Command // 202 in jetstream mode: the write, to be published
	pending    string            // 202: the id of a command not applied here yet
}

func failed(status int, msg string) *outcome { return &outcome{status: status, msg: msg} }

// tx runs fn in one IMMEDIATE transaction, so a version check and the write
// it guards cannot be split by another connection.
func (c *ctx) tx(t *model.Table, fn func() *outcome) *outcome {
	// What the request read through the data cache is keyed by the log's
	// sequence before this write: ask again after it.
	c.cached = nil
	c.writing = true
	defer func() {
		c.cached, c.writing = nil, false
		c.e.db.FlushAhead() // nothing queued outlives the write (every path ends in a statement)
	}()
	if c.inTx {
		// Inside Apply's transaction: a failed write is undone to here, and
		// the transaction goes on to record the failure.
		if _, err := c.e.db.Exec("SAVEPOINT nakedhtmx_write"); err != nil {
			return c.dbFailure(err)
		}
		mark := c.files.mark()
		out := fn()
		if out.status >= 300 {
			c.e.db.Exec("ROLLBACK TO nakedhtmx_write")
			c.undoFiles(mark)
		}
		c.e.db.Exec("RELEASE nakedhtmx_write")
		return out
	}
	if t != nil && c.st.fired[t.Name] {
		// Triggers of the user's may run: the whole write, begin to end,
		// goes where the time limit can stop it.
		sqldb.LaneWrites(c.e.db, true)
		defer sqldb.LaneWrites(c.e.db, false)
	}
	// BEGIN goes ahead of the schema check, in one call to the store; a
	// failed BEGIN is then that check's failure.
	if err := c.e.store.BeginWrite(aheadOf{c.e.db}); err != nil {
		return c.dbFailure(err)
	}
	// The write lock is held now, so the schema cannot move until COMMIT:
	// if it moved since this request was mapped and validated against it,
	// the request is planned again on the new schema (Handle), never
	// written half to the old one.
	if v, err := c.e.schemaVersion(); err != nil || v != c.st.schemaVersion {
		c.e.db.Exec("ROLLBACK")
		if err != nil {
			return c.dbFailure(err)
		}
		c.schemaMoved = true
		return failed(503, "the schema changed while this write was made; try again")
	}
	out := fn()
	if out.status >= 300 {
		c.e.db.Exec("ROLLBACK")
		c.settleFiles(false)
		if out.status == 500 {
			// On a store whose write lock does not hold off another
			// session's DDL (Postgres: the ALTER may commit between the
			// check above and a statement here, which then names a column
			// that is gone), a failure with the schema moved is that move:
			// the request is planned again (Handle), as above.
			if v, err := c.e.schemaVersion(); err == nil && v != c.st.schemaVersion {
				c.schemaMoved = true
				return failed(503, "the schema changed while this write was made; try again")
			}
		}
		return out
	}
	if _, err := c.e.db.Exec("COMMIT"); err != nil {
		c.e.db.Exec("ROLLBACK")
		c.settleFiles(false)
		return c.dbFailure(err)
	}
	c.settleFiles(true)
	return out
}

// dbFailure turns a SQLite error from a write into an answer.
func (c *ctx) dbFailure(err error) *outcome {
	msg := c.scrub(err.Error())
	switch sqldb.Code(err) {
	case "SQLITE_BUSY", "SQLITE_LOCKED":
		return failed(503, "the database is busy, try again: "+msg)
	case "SQLITE_READONLY":
		return failed(503, "the database is read-only: "+msg)
	case "SQLITE_CONSTRAINT":
		// SQLite says "UNIQUE constraint failed", Postgres "duplicate key
		// value violates unique constraint".
		if l := strings.ToLower(msg); strings.Contains(l, "unique") || strings.Contains(l, "primary key") {
			return &outcome{status: 409, msg: msg}
		}
		return &outcome{status: 422, msg: msg, errs: []fieldError{{Path: "", Message: msg}}}
	case "SQLITE_MISMATCH":
		return &outcome{status: 422, msg: msg, errs: []fieldError{{Path: "", Message: msg}}}
	case "SQLITE_FULL":
		return failed(507, "the disk is full: "+msg)
	case "SQLITE_IOERR":
		return failed(503, "the database cannot be reached just now, try again: "+msg)
	}
	return failed(500, msg)
}

// scrub keeps what the caller may not see out of a database's own message
// ("NOT NULL constraint failed: t.hidden_column", a trigger's RAISE text
// naming a hidden table): such a message is replaced whole, with what kind of
// failure it was.
func (c *ctx) scrub(msg string) string {
	for name, tc := range c.e.opts.Config.Tables {
		if tc == nil {
			continue
		}
		if tc.Hidden && strings.Contains(msg, name) {
			return "the database refused the write (" + failureKind(msg) + ")"
		}
		for col, cc := range tc.Columns {
			if cc != nil && cc.Hidden && strings.Contains(msg, col) {
				return "the database refused the write (" + failureKind(msg) + ")"
			}
		}
	}
	return msg
}

func failureKind(msg string) string {
	for _, k := range []string{"NOT NULL", "UNIQUE", "CHECK", "FOREIGN KEY", "PRIMARY KEY"} {
		if strings.Contains(msg, k) {
			return "a " + k + " constraint failed"
		}
	}
	return "a constraint or trigger said no"
}

// writable says why a table does not take this write ("insert", "update" or
// "delete"), or "".
func (c *ctx) writable(t *model.Table, op string) string {
	if t.View && !slices.Contains(t.ViewWrites, op) {
		if len(t.ViewWrites) == 0 {
			return t.Name + " is a view and cannot be written"
		}
		return t.Name + " is a view without an INSTEAD OF " + strings.ToUpper(op) + " trigger (or, for updates and deletes, without an id column)"
	}
	tc := c.e.opts.Config.Table(t.Name)
	if tc.ReadOnly || (tc.Allow != nil && len(tc.Allow) == 0) {
		return t.Name + " is read-only"
	}
	if !tc.Allows(op) {
		return t.Name + " does not allow " + op + "s"
	}
	if rop := ruleOp(op); c.mayNone(t, rop) {
		return c.refusal(t, rop)
	}
	return ""
}

// ruleOp is the rule a write answers to: insert is create.
func ruleOp(op string) string {
	if op == "insert" {
		return "create"
	}
	return op
}

// insert validates and inserts one row.
func (c *ctx) insert(t *model.Table, inst map[string]any, rm *remapped) (out *outcome) {
	defer func() { out.remap = rm }()
	if c.req.Command != "" {
		return c.commandOutcome(t)
	}
	if why := c.writable(t, "insert"); why != "" {
		return failed(403, why)
	}
	c.fillDefaults(t, inst)
	if bad := c.judge(t, inst, nil); bad != nil {
		return bad
	}
	if c.jetstream() {
		return c.writeCommand(t, "insert", nil, inst, "")
	}
	return c.tx(t, func() *outcome {
		inst, bad := c.storeFiles(t, inst, nil)
		if bad != nil {
			return bad
		}
		sql, args := insertSQL(t, inst)
		if cols, vals := c.hiddenDefaults(t); cols != nil {
			sql, args = insertWith(t, inst, cols, vals)
		}
		r, bad := c.writeReturning(t, sql, args, 500, "the insert returned no row")
		if bad != nil {
			return bad
		}
		if why := c.ruleRefuses(t, "create", r.key()); why != "" {
			return failed(403, why)
		}
		if t.AutoKey != nil && inst[t.AutoKey.Name] != nil {
			if after := c.e.store.KeyGiven(t); after != "" {
				if _, err := c.e.db.Query(after); err != nil {
					return c.dbFailure(err)
				}
			}
		}
		if t.View {
			r = c.viewRow(t, r)
		}
		c.logOwn(t, nil, r)
		if err := c.keepOrphans(t, rm, r.pkObject()); err != nil {
			return c.dbFailure(err)
		}
		return &outcome{status: 201, row: r}
	})
}

// writeReturning runs a write whose RETURNING gives the one row it wrote;
// no row is the given failure.
func (c *ctx) writeReturning(t *model.Table, sql string, args []any, noRowStatus int, noRow string) (*row, *outcome) {
	rs, err := c.e.db.Query(sql, args...)
	if err != nil {
		return nil, c.dbFailure(err)
	}
	rows := readRows(t, rs)
	if len(rows) != 1 {
		return nil, failed(noRowStatus, noRow)
	}
	return rows[0], nil
}

// viewRow is the row a write through a view's INSTEAD OF trigger left: its
// RETURNING gives the values as written, not the view's own (computed ones,
// defaults the base table filled), so the view is read again by its key when
// the write gave one.
func (c *ctx) viewRow(t *model.Table, written *row) *row {
	if !t.Addressable() {
		return written
	}
	key := written.key()
	for _, k := range key {
		if k == nil {
			return written
		}
	}
	if r, err := c.readRow(t, key); err == nil && r != nil {
		return r
	}
	return written
}

// logOwn stores the exact values of this engine's own write in the change
// log entry its trigger just made (same transaction), and marks the engine
// dirty so the host's next tick announces it at once.
func (c *ctx) logOwn(t *model.Table, old, new *row) {
	if !c.e.live.enabled {
		return
	}
	c.e.live.dirty = true
	var o, n string
	if old != nil {
		o = string(old.objectJSON())
	}
	if new != nil {
		n = string(new.objectJSON())
	}
	// Our write's entry is the newest of its table's: we hold the write
	// lock, and only a cascade can have logged other tables after it. The
	// statement goes with the next one (the COMMIT, or the next write of a
	// batch); when it fails, so does the write.
	capture.FillNewest(aheadOf{c.e.db}, t.Name, o, n)
}

// judge validates the whole row a write would leave (inst) against the
// schema. For an update (changed is the patch) only what the write changes
// counts: a value stored long ago that the schema would refuse must not block
// an edit elsewhere. It returns the 422 outcome, or nil to go ahead.
func (c *ctx) judge(t *model.Table, inst, changed map[string]any) *outcome {
	errs, err := c.validate(t, inst)
	if err != nil {
		return failed(500, err.Error())
	}
	if changed != nil {
		errs = onlyPatched(errs, changed)
	} else {
		changed = inst
	}
	errs = blobRefErrors(t, errs, changed)
	errs = append(errs, c.unwritableErrors(t, changed)...)
	if errs == nil {
		errs = c.checkReferences(t, changed)
	}
	if errs != nil {
		return &outcome{status: 422, errs: errs}
	}
	return nil
}

// assignments lists the written columns (quoted, with suffix) and their
// bound values, in column order; generated columns are SQLite's to fill.
func assignments(t *model.Table, values map[string]any, suffix string) (cols []string, args []any) {
	for _, col := range t.Columns {
		v, ok := values[col.Name]
		if !ok || col.Generated {
			continue
		}
		cols = append(cols, sqldb.Ident(col.Name)+suffix)
		args = append(args, sqlValue(col, v))
	}
	return cols, args
}

// unwritableErrors refuses values for columns no write may set: generated
// ones (SQLite computes them), those the config makes read-only (on every
// path: forms, the JSON API, NATS commands), and those that reference a
// table the caller may not see (whether such a write succeeds would say
// whether a key exists there). A write that carries such a column's current
// value unchanged never gets here: it is no change (checkUpdate).
func (c *ctx) unwritableErrors(t *model.Table, values map[string]any) []fieldError {
	var errs []fieldError
	tc := c.e.opts.Config.Table(t.Name)
	for _, col := range t.Columns {
		if _, ok := values[col.Name]; !ok {
			continue
		}
		switch {
		case col.Generated:
			errs = append(errs, fieldError{Path: "/" + col.Name, Message: "is computed by the database and cannot be written"})
		case tc.Column(col.Name).ReadOnly:
			errs = append(errs, fieldError{Path: "/" + col.Name, Message: "is read-only"})
		case col.RefHidden:
			errs = append(errs, fieldError{Path: "/" + col.Name, Message: "refers to a table that is not shown, and cannot be written"})
		}
	}
	return errs
}

// blobRefErrors names what is wrong with a {"$blob": ...} a body sends (one
// that is not the row's own value, which checkUpdate took as no change):
// the schema's "must be text" would not say it.
func blobRefErrors(t *model.Table, errs []fieldError, changed map[string]any) []fieldError {
	for _, col := range t.Columns { // in column order, as the schema's errors come
		name := col.Name
		if !isBlobRef(changed[name]) {
			continue
		}
		msg := `{"$blob": ...} stands only for the value the row already holds; send new bytes as base64 text`
		found := false
		for i := range errs {
			if errs[i].Path == "/"+name {
				errs[i].Message, found = msg, true
			}
		}
		if !found {
			errs = append(errs, fieldError{Path: "/" + name, Message: msg})
		}
	}
	return errs
}

func onlyPatched(errs []fieldError, patch map[string]any) []fieldError {
	var out []fieldError
	for _, e := range errs {
		if _, ok := patch[strings.TrimPrefix(e.Path, "/")]; ok || e.Path == "" {
			out = append(out, e)
		}
	}
	return out
}

// checkReferences names the field whose foreign key points at no row, which
// SQLite's own "FOREIGN KEY constraint failed" does not.
func (c *ctx) checkReferences(t *model.Table, values map[string]any) []fieldError {
	var stmts []sqldb.Stmt
	var misses []fieldError // each read's error, when it finds no row
	for _, fk := range t.ForeignKeys {
		if len(fk.From) != 1 {
			continue
		}
		col := t.Column(fk.From[0])
		v, ok := values[fk.From[0]]
		if col == nil || !ok || v == nil || c.st.vis.Table(fk.Table) == nil {
			continue
		}
		// A row the caller may not view is no row to refer to: the answer
		// is the same as for one that is not there.
		where, args := c.andRule(c.st.db.Table(fk.Table), "view", " WHERE "+sqldb.Ident(fk.To[0])+" = ?", []any{sqlValue(col, v)})
		stmts = append(stmts, sqldb.Stmt{SQL: "SELECT 1 FROM " + sqldb.Ident(fk.Table) + where + " LIMIT 1", Args: args})
		misses = append(misses, fieldError{Path: "/" + col.Name, Message: "no row of " + fk.Table + " has " + fk.To[0] + " " + sqldb.Text(sqlValue(col, v))})
	}
	if len(stmts) == 0 {
		return nil
	}
	// Every reference in one call to the store (sqldb.Batcher).
	rss, err := c.e.db.QueryBatch(stmts)
	if err != nil {
		return nil // the write itself meets the store's failure
	}
	var errs []fieldError
	for i, rs := range rss {
		if len(rs.Values) == 0 {
			errs = append(errs, misses[i])
		}
	}
	return errs
}

// readRow reads one row by key; nil when there is none (or the caller's
// view rule holds it back).
func (c *ctx) readRow(t *model.Table, key []any) (*row, error) { return c.readRowAs(t, key, "view") }

// readRowAs is readRow held to the caller's rule for op ("view", or "list"
// where a row must be one the caller's lists show).
func (c *ctx) readRowAs(t *model.Table, key []any, op string) (*row, error) {
	q := matching(c.e.db.Query)
	if !c.writing && !c.inTx {
		// Outside a write a view's row may be read where the time limit
		// stops it; inside one it must see the write's own changes.
		q = tableQuery(c.e.db, t)
	}
	where, args := c.andRule(t, op, " WHERE "+keyWhere(t), append([]any(nil), key...))
	rs, err := q("SELECT "+selectList(t)+" FROM "+sqldb.Ident(t.Name)+where, args...)
	if err != nil {
		return nil, err
	}
	rows := readRows(t, rs)
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0], nil
}

// update applies the changed fields of patch to a row, checking its version
// when one is given.
func (c *ctx) update(t *model.Table, key []any, patch map[string]any, version string, rm *remapped) (out *outcome) {
	defer func() { out.remap = rm }()
	if rm != nil {
		c.stale = rm.plan
		defer func() { c.stale = nil }()
	}
	if c.req.Command != "" {
		return c.commandOutcome(t)
	}
	if why := c.writable(t, "update"); why != "" {
		return failed(403, why)
	}
	if c.jetstream() {
		// Checked here as it would be written, so a bad write is answered at
		// once; applying checks again on the data as it is then.
		cur, bad := c.checkUpdate(t, key, patch, version)
		if bad != nil {
			return bad
		}
		return c.writeCommand(t, "update", key, patch, nowVersion(cur, version))
	}
	return c.tx(t, func() *outcome {
		cur, bad := c.checkUpdate(t, key, patch, version)
		if bad != nil {
			return bad
		}
		patch, bad := c.storeFiles(t, patch, cur)
		if bad != nil {
			return bad
		}
		sets, args := assignments(t, patch, " = ?")
		if err := c.keepOrphans(t, rm, cur.pkObject()); err != nil {
			return c.dbFailure(err)
		}
		if len(sets) == 0 {
			return &outcome{status: 200, row: cur}
		}
		args = append(args, key...)
		r, bad := c.writeReturning(t, "UPDATE "+sqldb.Ident(t.Name)+" SET "+strings.Join(sets, ", ")+
			" WHERE "+keyWhere(t)+" RETURNING "+selectList(t), args, 404, "no such row")
		if bad != nil {
			return bad
		}
		if why := c.ruleRefuses(t, "update", r.key()); why != "" {
			return failed(403, why+" (as the row would be after this change)")
		}
		if t.View {
			r = c.viewRow(t, r)
		}
		c.logOwn(t, cur, r)
		return &outcome{status: 200, row: r}
	})
}

// checkUpdate reads the row an update is about, checks the version the
// writer read, and validates the row the update would leave.
func (c *ctx) checkUpdate(t *model.Table, key []any, patch map[string]any, version string) (*row, *outcome) {
	cur, bad := c.current(t, key, version, "update")
	if bad != nil {
		return nil, bad
	}
	// A member that carries the column's value as the API shows it is no
	// change: GET then PATCH of the same body writes nothing (a value the
	// schema would refuse, such as text a non-STRICT INTEGER column holds,
	// is not judged again either), bytes' {"$blob": ...} included.
	for k, v := range patch {
		if col := t.Column(k); col != nil && (sameJSON(v, jsonValue(col, cur.get(col))) || c.sameBlobRef(cur, col, v)) {
			delete(patch, k)
		}
	}
	inst := map[string]any{}
	for _, col := range t.Columns {
		inst[col.Name] = jsonValue(col, cur.get(col))
	}
	if cur.t.UsesRowKey() {
		delete(inst, rowidName)
	}
	for k, v := range patch {
		inst[k] = v
	}
	if bad := c.judge(t, inst, patch); bad != nil {
		return nil, bad
	}
	return cur, nil
}

// sameJSON: a and b are written as the same JSON text (a body's number
// 1.0 and a stored 1 are; 1 and true are not).
func sameJSON(a, b any) bool {
	if fa, ok := a.(float64); ok && math.IsInf(fa, 0) {
		a = jsonValue(nil, fa) // "Infinity" or "-Infinity", as answers spell it
	}
	return bytes.Equal(jsonBody(a), jsonBody(b))
}

// nowVersion is the version a command carries for a write checked against
// version: the row's version now (the same row: a stale writer's version
// matched it under its own schema, which the nodes applying the command do
// not know), or none when the writer gave none.
func nowVersion(cur *row, version string) string {
	if version == "" {
		return ""
	}
	return cur.version()
}

// current reads the row a write is about, inside the write's transaction,
// and checks the version the writer read when it gave one.
func (c *ctx) current(t *model.Table, key []any, version, op string) (*row, *outcome) {
	cur, err := c.readRow(t, key)
	if err != nil {
		return nil, c.dbFailure(err)
	}
	if cur == nil {
		return nil, failed(404, "no such row")
	}
	if why := c.ruleRefuses(t, op, key); why != "" {
		return nil, failed(403, why)
	}
	if version != "" && version != cur.version() && !c.stale.sameVersion(cur, version) {
		return nil, &outcome{status: 409, current: cur, msg: "the row was changed by someone else since you read it"}
	}
	return cur, nil
}

// remove deletes a row, checking its version when one is given.
func (c *ctx) remove(t *model.Table, key []any, version string) *outcome {
	if c.req.Command != "" {
		return c.commandOutcome(t)
	}
	if why := c.writable(t, "delete"); why != "" {
		return failed(403, why)
	}
	if c.jetstream() {
		cur, bad := c.current(t, key, version, "delete")
		if bad != nil {
			return bad
		}
		return c.writeCommand(t, "delete", key, nil, nowVersion(cur, version))
	}
	return c.tx(t, func() *outcome {
		cur, bad := c.current(t, key, version, "delete")
		if bad != nil {
			return bad
		}
		if _, err := c.e.db.Exec("DELETE FROM "+sqldb.Ident(t.Name)+" WHERE "+keyWhere(t), key...); err != nil {
			if strings.Contains(err.Error(), "FOREIGN KEY") {
				return failed(409, "other rows still reference this row: change or delete them first")
			}
			return c.dbFailure(err)
		}
		c.logOwn(t, cur, nil)
		c.dropFiles(cur)
		return &outcome{status: 204, row: cur}
	})
}

// errorObjects is the 422 body's "errors" list.
func errorObjects(errs []fieldError) []any {
	out := make([]any, len(errs))
	for i, e := range errs {
		out[i] = schema.NewObject().Set("path", e.Path).Set("message", e.Message)
	}
	return out
}
