package engine

// Schema editing from the app (issue 18): a table's structure page
// (/t/{table}/structure), the new-table page (/structure/new), their form
// posts (/structure) and the JSON API (POST /api/structure). Every edit is
// planned by the store (store.PlanEdit), run once in a transaction that is
// rolled back to show its DDL and count what it would lose (the preview),
// and applied only when nothing is lost or the caller confirmed the loss.
// Applied, it is a schema change like any other: the capture sees it, the
// DSID moves, open pages follow, stale forms remap.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/schemaedit"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// schemaEditor says why the caller may not edit the structure, or "".
func (c *ctx) schemaEditor() string {
	switch {
	case !c.e.opts.Config.SchemaEditEnabled(c.guarded()):
		return `schema editing is off on this server (the config's "schema": {"edit": true} turns it on)`
	case c.e.opts.AuthToken != "" && !c.authed:
		return "only a caller with the server's token may change the structure"
	case !c.admin():
		return "only an administrator may change the structure"
	case !c.e.live.enabled:
		return "the database is read-only"
	}
	return ""
}

// editableTable says why t's structure may not be edited, or "": the
// config makes it read-only or hides some of its columns (its DDL would
// show them).
func (c *ctx) editableTable(t *model.Table) string {
	tc := c.e.opts.Config.Table(t.Name)
	if tc.ReadOnly || (tc.Allow != nil && len(tc.Allow) == 0) {
		return t.Name + " is read-only"
	}
	for _, cc := range tc.Columns {
		if cc != nil && (cc.Hidden || cc.ReadOnly) {
			return "the config hides or guards columns of " + t.Name + ": change its structure with SQL"
		}
	}
	return ""
}

// editResult is what running an edit found.
type editResult struct {
	plan   *schemaedit.Plan
	losses []string
	done   bool
}

// runEdit plans e and runs it in a transaction: rolled back when only a
// preview is asked for (or something would be lost unconfirmed), else
// committed and the schema read again.
func (c *ctx) runEdit(t *model.Table, e *schemaedit.Edit) (*editResult, *outcome) {
	if err := e.Check(); err != nil {
		return nil, failed(422, err.Error())
	}
	if e.Op == schemaedit.CreateTable {
		t = nil
	} else if why := c.editableTable(t); why != "" {
		return nil, failed(403, why)
	}
	for _, col := range append(e.Columns, derefColumn(e.Def)...) {
		if r := col.References; r != nil {
			rt := c.table(r.Table)
			if rt == nil || rt.View {
				return nil, failed(422, "no such table to refer to: "+r.Table)
			}
			r.Table = rt.Name
		}
	}
	plan, err := c.e.store.PlanEdit(c.e.db, c.st.db, t, e)
	if err != nil {
		if _, ok := err.(*schemaedit.Error); ok {
			return nil, failed(422, err.Error())
		}
		return nil, c.dbFailure(err)
	}
	res := &editResult{plan: plan}
	apply := !e.DryRun
	c.cached, c.writing = nil, true
	defer func() { c.cached, c.writing = nil, false }()
	db := c.e.db
	// The whole edit goes where the time limit can stop it: a rebuild
	// copies every row.
	sqldb.LaneWrites(db, true)
	defer sqldb.LaneWrites(db, false)
	if plan.Rebuild {
		if _, err := db.Exec("PRAGMA foreign_keys = OFF"); err != nil {
			return nil, c.dbFailure(err)
		}
		defer db.Exec("PRAGMA foreign_keys = ON")
	}
	if err := c.e.store.BeginWrite(db); err != nil {
		return nil, c.dbFailure(err)
	}
	if v, err := c.e.schemaVersion(); err != nil || v != c.st.schemaVersion {
		db.Exec("ROLLBACK")
		if err != nil {
			return nil, c.dbFailure(err)
		}
		c.schemaMoved = true
		return nil, failed(503, "the schema changed while this edit was made; try again")
	}
	losses, o := c.runSteps(plan)
	res.losses = losses
	if o != nil {
		db.Exec("ROLLBACK")
		return nil, o
	}
	if !apply || (len(res.losses) > 0 && !e.Confirm) || c.jetstream() {
		db.Exec("ROLLBACK")
		if apply && c.jetstream() && (len(res.losses) == 0 || e.Confirm) {
			// Tried here; every node plans and runs it itself at its place
			// in the stream (the same schema and rows there, so the same
			// plan), a rebuild too.
			edit := *e
			edit.Confirm, edit.DryRun = true, false
			body, _ := json.Marshal(&edit)
			if bad := c.newCommand(protocol.Command{DSID: c.st.dsid, Table: e.Table, Op: "schemaEdit", Edit: body}); bad.command == nil {
				return nil, bad
			}
			res.done = true
		}
		return res, nil
	}
	if _, err := db.Exec("COMMIT"); err != nil {
		db.Exec("ROLLBACK")
		return nil, c.dbFailure(err)
	}
	res.done = true
	if err := c.e.refresh(false); err != nil {
		return nil, failed(500, "the change was made, but reading the schema failed: "+err.Error())
	}
	c.st = c.e.st
	return res, nil
}

// runSteps runs a plan's steps in the transaction under way, with their
// checks: what they lose, or why the edit is refused (the caller rolls
// back).
func (c *ctx) runSteps(plan *schemaedit.Plan) ([]string, *outcome) {
	db := c.e.db
	var losses []string
	check := func(k *schemaedit.Check) *outcome {
		r, err := db.Query(k.Query)
		if err != nil {
			return c.editFailure(err)
		}
		n := schemaedit.Int(r.Values[0][0])
		switch {
		case k.Refuse && n != 0:
			return failed(422, k.Message)
		case !k.Refuse && n > 0:
			losses = append(losses, fmt.Sprintf(k.Message, n))
		}
		return nil
	}
	for _, s := range plan.Steps {
		if s.Check != nil && s.Check.Before {
			if o := check(s.Check); o != nil {
				return nil, o
			}
		}
		if _, err := db.Exec(s.SQL); err != nil {
			return nil, c.editFailure(err)
		}
		if s.Check != nil && !s.Check.Before {
			if o := check(s.Check); o != nil {
				return nil, o
			}
		}
	}
	return losses, nil
}

// planCommand reads and plans a schemaEdit command from the stream, before
// its transaction begins (a rebuild turns foreign key enforcement off
// first): the same checks as the request that made it.
func (c *ctx) planCommand(cmd *protocol.Command) (*schemaedit.Edit, *model.Table, *schemaedit.Plan, *outcome) {
	var e schemaedit.Edit
	if err := json.Unmarshal(cmd.Edit, &e); err != nil {
		return nil, nil, nil, failed(400, "the schema edit is not valid JSON: "+err.Error())
	}
	if err := e.Check(); err != nil {
		return nil, nil, nil, failed(422, err.Error())
	}
	var t *model.Table
	if e.Op != schemaedit.CreateTable {
		if t = c.table(e.Table); t == nil {
			return nil, nil, nil, failed(404, "no such table: "+e.Table)
		}
		if why := c.editableTable(t); why != "" {
			return nil, nil, nil, failed(403, why)
		}
	}
	plan, err := c.e.store.PlanEdit(c.e.db, c.st.db, t, &e)
	if err != nil {
		if _, ok := err.(*schemaedit.Error); ok {
			return nil, nil, nil, failed(422, err.Error())
		}
		return nil, nil, nil, c.dbFailure(err)
	}
	return &e, t, plan, nil
}

// editCommand answers the host's asking again about an edit's command:
// done once this node applied it (the schema read again), else the answer
// to give (202 while pending, the failure).
func (c *ctx) editCommand() (bool, *protocol.Response) {
	out := c.commandOutcome(nil)
	switch {
	case out.pending != "":
		return false, c.jsonAnswer(202, "command", out.pending, "status", "pending")
	case out.status >= 300:
		return false, c.fail(out.status, out.msg)
	}
	if err := c.e.refresh(false); err != nil {
		return false, c.fail(500, "the change was made, but reading the schema failed: "+err.Error())
	}
	c.st = c.e.st
	return true, nil
}

func derefColumn(c *schemaedit.Column) []schemaedit.Column {
	if c == nil {
		return nil
	}
	return []schemaedit.Column{*c}
}

// editFailure is a statement of an edit that the store refused: the
// user's to fix (422), unless the database itself failed.
func (c *ctx) editFailure(err error) *outcome {
	switch sqldb.Code(err) {
	case "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_INTERRUPT", "SQLITE_READONLY":
		return c.dbFailure(err)
	}
	return failed(422, "the database refused the change, and nothing of it was applied: "+c.scrub(err.Error()))
}

// apiStructure answers POST /api/structure: one edit as JSON.
func (c *ctx) apiStructure() *protocol.Response {
	if c.req.Method != "POST" {
		return c.methodNotAllowed("POST")
	}
	if why := c.schemaEditor(); why != "" {
		return c.fail(403, why)
	}
	if c.req.TooLarge {
		return c.fail(413, "the body is too large")
	}
	var e schemaedit.Edit
	if msg := decodeStrict(c.req.Body, &e); msg != "" {
		return c.fail(400, msg)
	}
	if c.req.Command != "" {
		// The host asks again about the command this edit became (the
		// scale-out mode): its result, once this node has applied it.
		if done, resp := c.editCommand(); !done {
			return resp
		}
		return c.jsonAnswer(200, "sql", []string{}, "losses", []string{}, "table", e.Table)
	}
	t, resp := c.editTable(&e)
	if resp != nil {
		return resp
	}
	res, bad := c.runEdit(t, &e)
	if bad != nil {
		return c.fail(bad.status, bad.msg)
	}
	sql, losses := res.plan.SQL(), orEmpty(res.losses)
	notes := orEmpty(res.plan.Notes)
	switch {
	case e.DryRun:
		return c.jsonAnswer(200, "sql", sql, "losses", losses, "notes", notes)
	case !res.done:
		return c.jsonAnswer(409, "error", "the change would lose data: send it again with \"confirm\": true to make it", "sql", sql, "losses", losses)
	case c.jetstream():
		return c.jsonAnswer(202, "command", c.command.ID, "status", "pending", "sql", sql)
	}
	return c.jsonAnswer(200, "sql", sql, "losses", losses, "table", res.plan.Renamed)
}

func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// editTable is the table an edit changes, as the caller may see it.
func (c *ctx) editTable(e *schemaedit.Edit) (*model.Table, *protocol.Response) {
	if e.Op == schemaedit.CreateTable {
		return nil, nil
	}
	t := c.table(e.Table)
	if t == nil {
		return nil, c.fail(404, "no such table: "+e.Table)
	}
	return t, nil
}

// structurePage answers GET /t/{table}/structure.
func (c *ctx) structurePage(t *model.Table) *protocol.Response {
	st, err := c.e.store.Structure(c.e.db, t)
	if err != nil {
		return c.fail(500, c.scrub(err.Error()))
	}
	d := &render.StructureData{Page: c.page("Structure of "+c.label(t), link{Text: c.label(t), Href: c.tableURL(t.Name)}, link{Text: "Structure"}),
		Table: t.Name, Action: c.e.opts.BasePath + "/structure", View: t.View, Indexes: st.Indexes, Triggers: st.Triggers}
	d.Refusal = c.schemaEditor()
	if d.Refusal == "" {
		d.Refusal = c.editableTable(t)
	}
	if d.Refusal == "" {
		d.DDL = st.DDL
	} else {
		// What the config hides stays hidden: no index naming a column the
		// caller does not see, no trigger (its name may say anything).
		d.Triggers = nil
		d.Indexes = slices.DeleteFunc(slices.Clone(st.Indexes), func(ix schemaedit.IndexInfo) bool {
			return slices.ContainsFunc(ix.Columns, func(n string) bool { return schemaedit.Find(t, n, false) == nil })
		})
	}
	for _, tt := range c.st.vis.Tables {
		if !tt.View {
			d.Tables = append(d.Tables, tt.Name)
		}
	}
	for _, col := range t.Columns {
		cur := schemaedit.Current(col, st)
		sc := render.StructureColumn{Name: col.Name, Type: col.Type, NotNull: col.NotNull, Key: col.PK > 0, Generated: col.Generated,
			Unique: col.Unique, Check: cur.Check}
		if col.Default != nil {
			sc.Default = col.Default.SQL
			sc.DefaultValue = fmt.Sprint(cur.Default)
		}
		if r := cur.References; r != nil {
			sc.RefTable, sc.RefColumn = r.Table, r.Column
		}
		d.Columns = append(d.Columns, sc)
	}
	return html(200, render.StructurePage(d))
}

// newTablePage answers GET /structure/new.
func (c *ctx) newTablePage() *protocol.Response {
	d := &render.StructureData{Page: c.page("New table", link{Text: "New table"}), Action: c.e.opts.BasePath + "/structure", New: true,
		FileAction: c.e.opts.BasePath + "/structure/new"}
	d.Refusal = c.schemaEditor()
	return html(200, render.StructurePage(d))
}

// structurePost answers POST /structure: a form's edit, previewed first
// (its DDL, its notes, what it would lose), applied when the preview's
// form comes back with apply=1.
func (c *ctx) structurePost() *protocol.Response {
	if why := c.schemaEditor(); why != "" {
		return c.fail(403, why)
	}
	form, bad := c.formBody()
	if bad != nil {
		return bad
	}
	e := editFromForm(form)
	if c.req.Command != "" {
		if done, resp := c.editCommand(); !done {
			return resp
		}
		if c.table(e.Table) == nil {
			return c.redirect(c.e.opts.BasePath + "/")
		}
		return c.redirect(c.tableURL(c.table(e.Table).Name) + "/structure")
	}
	t, resp := c.editTable(e)
	if resp != nil {
		return resp
	}
	e.DryRun = form.Get("apply") != "1"
	e.Confirm = form.Get("confirm") == "1"
	back := c.e.opts.BasePath + "/structure/new"
	crumbs := []link{{Text: "New table", Href: back}}
	if t != nil {
		back = c.tableURL(t.Name) + "/structure"
		crumbs = []link{{Text: c.label(t), Href: c.tableURL(t.Name)}, {Text: "Structure", Href: back}}
	}
	d := &render.EditPreviewData{Page: c.page("Change the structure", append(crumbs, link{Text: "Preview"})...), Action: c.e.opts.BasePath + "/structure", Back: back, Form: form}
	res, out := c.runEdit(t, e)
	if out != nil {
		d.Status, d.Error = out.status, out.msg
		return html(out.status, render.EditPreviewPage(d))
	}
	if res.done {
		switch {
		case c.jetstream():
			return c.redirect(c.e.opts.BasePath + "/commands/" + EncodeComponent(c.command.ID))
		case res.plan.Renamed == "":
			return c.redirect(c.e.opts.BasePath + "/")
		}
		return c.redirect(c.tableURL(res.plan.Renamed) + "/structure")
	}
	d.Status, d.SQL, d.Notes, d.Losses = 200, res.plan.SQL(), res.plan.Notes, res.losses
	return html(200, render.EditPreviewPage(d))
}

// editFromForm reads an edit from the structure pages' form fields.
func editFromForm(f map[string][]string) *schemaedit.Edit {
	get := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	e := &schemaedit.Edit{Op: get("op"), Table: get("table"), Column: get("column"), To: get("to"), IndexName: get("index")}
	col := func(prefix string) *schemaedit.Column {
		c := &schemaedit.Column{Name: get(prefix + "name"), Type: strings.TrimSpace(get(prefix + "type")), NotNull: get(prefix+"notnull") == "1",
			Unique: get(prefix+"unique") == "1", Check: strings.TrimSpace(get(prefix + "check")), PrimaryKey: get(prefix+"pk") == "1"}
		if dv := get(prefix + "default"); dv != "" {
			c.Default = dv
			switch kindOfType(c.Type) {
			case model.Integer, model.Number:
				if n, err := strconv.ParseFloat(dv, 64); err == nil {
					c.Default = n
				}
			case model.Boolean:
				switch strings.ToLower(dv) {
				case "1", "true", "yes", "on":
					c.Default = true
				case "0", "false", "no", "off":
					c.Default = false
				}
			}
		}
		if rt := get(prefix + "reftable"); rt != "" {
			c.References = &schemaedit.Reference{Table: rt, Column: get(prefix + "refcolumn"), OnDelete: get(prefix + "ondelete")}
		}
		return c
	}
	switch e.Op {
	case schemaedit.AddColumn, schemaedit.AlterColumn:
		e.Def = col("")
	case schemaedit.AddIndex:
		e.Index = &schemaedit.Index{Name: get("ixname"), Columns: f["ix"], Unique: get("ixunique") == "1"}
	case schemaedit.CreateTable:
		if get("autokey") == "1" {
			e.Columns = append(e.Columns, schemaedit.Column{Name: strings.TrimSpace(get("autokeyname")), AutoKey: true})
			if e.Columns[0].Name == "" {
				e.Columns[0].Name = "id"
			}
		}
		for i := 0; i < 100; i++ {
			p := "c" + strconv.Itoa(i) + "."
			if _, ok := f[p+"name"]; !ok {
				break
			}
			if get(p+"name") == "" {
				continue
			}
			e.Columns = append(e.Columns, *col(p))
		}
	}
	return e
}

// kindOfType guesses a declared type's kind the way both stores read the
// common names, for a default typed into a form.
func kindOfType(t string) model.Kind {
	u := strings.ToUpper(t)
	switch {
	case strings.HasPrefix(u, "BOOL"):
		return model.Boolean
	case strings.Contains(u, "INT") || u == "SERIAL" || u == "BIGSERIAL":
		return model.Integer
	case strings.Contains(u, "REAL") || strings.Contains(u, "FLOA") || strings.Contains(u, "DOUB") || strings.Contains(u, "NUMERIC") || strings.Contains(u, "DECIMAL"):
		return model.Number
	}
	return model.String
}
