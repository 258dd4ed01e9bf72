package engine

import (
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// Bulk edits from a list (issue 18): rows selected by their checkboxes, then
// one column set to one value on all of them, or all of them deleted (after
// a confirmation page). Each row's write is the one its own form makes (the
// same rules, validation and change capture), all in one transaction: every
// row, or (the first refused, named on the page) none.

// maxBulk is the most rows one bulk change takes.
const maxBulk = 1000

// bulkable: the list offers a selection (rows have keys, and may be
// updated or deleted).
func (c *ctx) bulkable(t *model.Table) bool {
	return t.Addressable() && (c.writable(t, "update") == "" || c.writable(t, "delete") == "")
}

// bulkBar is the list's bulk form.
// A BLOB column is not offered: bytes come from a file, one row at a time.
func (c *ctx) bulkBar(t *model.Table, back string) *render.BulkBar {
	if !c.bulkable(t) {
		return nil
	}
	b := &render.BulkBar{Action: c.tableURL(t.Name) + "/bulk", Back: back, Delete: c.writable(t, "delete") == "", DSID: c.st.dsid}
	if c.writable(t, "update") == "" {
		for _, f := range c.st.fields[t.Name] {
			if f.ReadOnly || f.Column.RefHidden || f.Column == t.AutoKey || f.Column.Kind == model.Blob {
				continue
			}
			b.Columns = append(b.Columns, option{Value: f.Column.Name, Label: f.Label})
		}
	}
	return b
}

// bulkRoute answers POST /t/{table}/bulk.
func (c *ctx) bulkRoute(t *model.Table, _, _ []string) *protocol.Response {
	if c.req.Method != "POST" {
		return c.methodNotAllowed("POST")
	}
	if !c.bulkable(t) {
		return c.fail(403, t.Name+" cannot be changed in bulk here")
	}
	form, bad := c.formBody()
	if bad != nil {
		return bad
	}
	back := form.Get("back")
	if list := c.tableURL(t.Name); back != list && !strings.HasPrefix(back, list+"?") {
		back = list // only ever back to this table's list: never elsewhere
	}
	d := &render.BulkData{Page: c.page(c.label(t), link{Text: c.label(t), Href: c.tableURL(t.Name)}, link{Text: "Selected rows"}),
		Status: 200, Action: c.tableURL(t.Name) + "/bulk", Back: back, DSID: c.st.dsid}
	raw := form["k"]
	switch {
	case len(raw) == 0:
		d.Status, d.Heading, d.Message = 422, "Nothing selected", "Tick the rows to change first."
		return html(d.Status, render.BulkPage(d))
	case len(raw) > maxBulk:
		return c.fail(413, "at most "+strconv.Itoa(maxBulk)+" rows at once")
	}
	keys := make([][]any, len(raw))
	for i, k := range raw {
		key, err := parseKey(t, k)
		if err != nil {
			return c.fail(404, "no such row: "+k)
		}
		keys[i] = key
	}
	label := func(r *row) string {
		if lc := schema.LabelColumn(t, c.e.opts.Config.Table(t.Name)); lc != nil { // t is the visible table
			if v := sqldb.Text(r.get(lc)); v != "" {
				return v
			}
		}
		return keyText(r.key())
	}
	var patch map[string]any
	op := form.Get("action")
	switch op {
	case "delete":
		if why := c.writable(t, "delete"); why != "" {
			return c.fail(403, why)
		}
		if form.Get("confirm") == "" {
			d.Confirm, d.Keys = true, raw
			d.Heading = "Delete " + strconv.Itoa(len(raw)) + " rows of " + c.label(t) + "?"
			if len(raw) == 1 {
				d.Heading = "Delete 1 row of " + c.label(t) + "?"
			}
			d.Message = "This cannot be undone."
			for _, key := range keys {
				r, err := c.readRow(t, key)
				if err != nil {
					return c.failOutcome(c.dbFailure(err))
				}
				if r != nil {
					d.Rows = append(d.Rows, label(r))
				}
			}
			return html(200, render.BulkPage(d))
		}
	case "set":
		if why := c.writable(t, "update"); why != "" {
			return c.fail(403, why)
		}
		name := form.Get("column")
		// A form made against an older schema: the column it names, as it
		// is called now (a dropped one is no column to set).
		if plan := c.planFor(t, form.Get("_dsid")); plan != nil {
			m := map[string]any{name: ""}
			plan.apply(m)
			name = ""
			for k := range m {
				name = k
			}
		}
		var col *model.Column
		for _, o := range c.bulkBar(t, back).Columns {
			if o.Value == name {
				col = t.Column(name)
			}
		}
		if col == nil {
			return c.fail(422, "choose a column that can be written")
		}
		v, ok := cellValue(t, col, form.Get("value"))
		if !ok {
			v = nil // an empty value where the column has a default: NULL, as the form's empty box
		}
		patch, _, _ = instance(t, map[string]any{col.Name: v})
	default:
		return c.fail(400, "action must be set or delete")
	}
	var failure *outcome
	var failedRow string
	failedAt := func(i int, out *outcome) {
		failure, failedRow = out, keyText(keys[i])
		if r, err := c.readRow(t, keys[i]); err == nil && r != nil {
			failedRow = label(r)
		}
	}
	if c.req.Command != "" {
		// The scale-out mode, asked again once the batch was applied.
		r, wait := c.appliedResult()
		switch {
		case wait != nil:
			return wait
		case r.Status < 300:
			return c.redirect(back)
		}
		out := &outcome{status: r.Status, msg: r.Message, errs: r.Errors}
		if i := r.Index; i != nil && *i >= 0 && *i < len(keys) {
			failedAt(*i, out)
		} else {
			failure, failedRow = out, "?"
		}
		return c.bulkFailed(d, failure, failedRow)
	}
	// Each row's write, as its own form makes it; the first refused ends it.
	writeAll := func() *outcome {
		for i, key := range keys {
			var out *outcome
			if op == "delete" {
				out = c.remove(t, key, "")
			} else {
				out = c.update(t, key, patch, "", nil)
			}
			if out.status >= 300 {
				failedAt(i, out)
				return failed(out.status, out.msg)
			}
		}
		return &outcome{status: 200}
	}
	if c.jetstream() {
		// Each row's write checked here, and all sent as one command every
		// node applies in one transaction.
		c.collecting = true
		if writeAll().status >= 300 {
			c.collecting, c.collected = false, nil
			return c.bulkFailed(d, failure, failedRow)
		}
		if o := c.batchCommand(); o.status >= 300 {
			return c.failOutcome(o)
		}
		return c.redirect(back) // what a client sees if the host cannot wait for the command
	}
	o := c.tx(nil, func() *outcome {
		c.inTx = true
		defer func() { c.inTx = false }()
		return writeAll()
	})
	if failure != nil {
		return c.bulkFailed(d, failure, failedRow)
	}
	if o.status != 200 {
		return c.failOutcome(o)
	}
	return c.redirect(back)
}

// bulkFailed is the page of a bulk change refused at one row: nothing was
// changed.
func (c *ctx) bulkFailed(d *render.BulkData, failure *outcome, row string) *protocol.Response {
	d.Status, d.Heading = failure.status, "Nothing was changed"
	msg := failure.msg
	for _, e := range failure.errs {
		msg = strings.TrimPrefix(e.Path, "/") + " " + e.Message
		break
	}
	d.Message = "Row " + row + ": " + msg
	return html(d.Status, render.BulkPage(d))
}
