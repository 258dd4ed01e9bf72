package engine

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nakedhtmx/nakedhtmx/core/config"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

func (c *ctx) methodNotAllowed(allow string) *protocol.Response {
	res := c.fail(405, "method "+c.req.Method+" is not allowed here; use "+allow)
	res.Headers = append(res.Headers, [2]string{"allow", allow})
	return res
}

// answer turns an outcome into a JSON API answer.
func (c *ctx) answer(o *outcome) *protocol.Response {
	res := c.answerPlain(o)
	if o.remap != nil && res.Status != 204 && len(res.Body) > 0 && res.Body[len(res.Body)-1] == '}' {
		// Append "remapped" to the object: the answer's other members stay as they are.
		extra := jsonBody(newObj("remapped", o.remap.report()))
		res.Body = append(append(res.Body[:len(res.Body)-1:len(res.Body)-1], ','), extra[1:]...)
	}
	return res
}

// rowAnswer answers with a row, its version, then more members.
func (c *ctx) rowAnswer(status int, r *row, more ...any) *protocol.Response {
	body, version := c.rowJSON(r)
	return c.jsonAnswer(status, append([]any{"row", body, "version", version}, more...)...)
}

func (c *ctx) answerPlain(o *outcome) *protocol.Response {
	switch {
	case o.command != nil:
		return c.jsonAnswer(202, "command", o.command.ID, "status", "pending")
	case o.pending != "":
		return c.jsonAnswer(202, "command", o.pending, "status", "pending")
	case o.status == 204:
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 204, Headers: [][2]string{{"x-dsid", c.st.dsid}}}}
	case o.status == 201:
		return c.rowAnswer(201, o.row, "pk", o.row.pkObject())
	case o.status < 300:
		return c.rowAnswer(o.status, o.row)
	case o.status == 422 && len(o.errs) > 0:
		return c.jsonAnswer(422, "error", "the data is not valid for this table", "errors", errorObjects(o.errs))
	case o.status == 409 && o.current != nil:
		return c.jsonAnswer(409, "error", o.msg, "row", c.answerObject(o.current), "version", o.current.version())
	}
	return c.fail(o.status, o.msg)
}

func (c *ctx) apiList(t *model.Table) *protocol.Response {
	lq, err := c.parseList(t)
	if err != nil {
		return c.listFail(err)
	}
	rows, next, _, _, answer, err := c.listRead(lq, false)
	if answer != nil {
		return answer
	}
	if err != nil {
		return c.answer(c.dbFailure(err))
	}
	body, err := c.appendRowsJSON(make([]byte, 0, c.e.rowsHint.Load()), t, rows)
	if err != nil {
		return c.fail(500, err.Error())
	}
	c.e.rowsHint.Store(int64(len(body)) + int64(len(body))/8) // the next page is likely as big
	var nextVal any
	if next != "" {
		nextVal = next
	}
	members := []any{"rows", schema.RawJSON(body), "next", nextVal}
	if len(lq.facets) > 0 {
		members = append(members, "facets", facetsJSON(c.facetsOut(lq, lq.explored)))
	}
	if lq.aggregates {
		members = append(members, "aggregates", c.aggregatesJSON(lq, lq.explored[len(lq.explored)-1]))
	}
	return c.jsonAnswer(200, members...)
}

// jsonBodyObject reads a JSON API body: JSON media type, valid UTF-8, one object.
func (c *ctx) jsonBodyObject() (map[string]any, *protocol.Response) {
	mt, _, err := parseMediaType(c.header("content-type"))
	if err != nil || (mt != "application/json" && mt != "application/merge-patch+json" && !strings.HasSuffix(mt, "+json")) {
		return nil, c.fail(415, "send the body as application/json")
	}
	body := c.req.Body
	if !utf8.Valid(body) {
		return nil, c.fail(400, "the body is not valid UTF-8")
	}
	obj, msg := bodyObject(body)
	if msg != "" {
		return nil, c.fail(400, msg)
	}
	if most := c.e.opts.Config.MemberLimit(); len(obj) > most {
		return nil, c.fail(413, "the body has "+strconv.Itoa(len(obj))+" members; at most "+strconv.Itoa(most)+" are taken")
	}
	return obj, nil
}

// Limits on what one request may ask (CONTRACT, "What nakedhtmx writes"):
// past them the answer is 413, never a part of the request silently dropped.
// Members and parameters are the defaults of the config's "limits".
const (
	MaxMembers     = config.DefaultMembers     // members of a JSON body
	MaxQueryParams = config.DefaultQueryParams // query parameters
	MaxFilters     = 100                       // f.COL and null=COL filters of one list
	MaxSearch      = 1000                      // characters of a search (q)
)

// instance splits the meta fields (_dsid, _version) off a body and converts
// its values for validation.
func instance(t *model.Table, body map[string]any) (inst map[string]any, dsid, version string) {
	inst = map[string]any{}
	for k, v := range body {
		switch k {
		case "_dsid":
			dsid, _ = v.(string)
			continue
		case "_version":
			version, _ = v.(string)
			continue
		}
		inst[k] = fromJSON(t.Column(k), v)
	}
	if t.UsesRowKey() {
		delete(inst, rowidName)
	}
	return inst, dsid, version
}

func (c *ctx) apiCreate(t *model.Table) *protocol.Response {
	if why := c.writable(t, "insert"); why != "" && c.req.Command == "" {
		return c.fail(403, why) // before reading a byte of the body
	}
	if f := importFormat(c.header("content-type")); f != "" {
		return c.apiImport(t, f) // asked again (c.req.Command), its batch command's answer
	}
	body, bad := c.jsonBodyObject()
	if bad != nil {
		return bad
	}
	inst, from, _ := instance(t, body)
	var rm *remapped
	if plan := c.planFor(t, from); plan != nil {
		rm = plan.apply(inst)
	}
	o := c.insert(t, inst, rm)
	res := c.answer(o)
	if o.status == 201 && o.row.found() {
		res.Headers = append(res.Headers, [2]string{"location", c.e.opts.BasePath + "/api/tables/" + EncodeComponent(t.Name) + "/rows/" + o.row.pkPath()})
	}
	return res
}

func (c *ctx) apiUpdate(t *model.Table, key []any) *protocol.Response {
	if why := c.writable(t, "update"); why != "" && c.req.Command == "" {
		return c.fail(403, why)
	}
	body, bad := c.jsonBodyObject()
	if bad != nil {
		return bad
	}
	inst, from, version := instance(t, body)
	if version == "" {
		version = c.header("if-match")
	}
	var rm *remapped
	if plan := c.planFor(t, from); plan != nil {
		rm = plan.apply(inst)
	}
	return c.answer(c.update(t, key, inst, version, rm))
}

// csvChunk is how many rows one continuation of a CSV export carries.
const csvChunk = 500

// csvExport streams every row as CSV, one chunk per continuation call (see
// PROTOCOL.md), so a large table never sits in memory whole.
func (c *ctx) csvExport(t *model.Table) *protocol.Response {
	lq, err := c.parseList(t)
	if err != nil {
		return c.listFail(err)
	}
	lq.limit = csvChunk
	lq.after, lq.offset = nil, 0
	first := c.req.Continue == ""
	if !first {
		if err := lq.decodeCursor(c.req.Continue); err != nil {
			return c.fail(400, "bad continuation")
		}
	}
	var rows []*row
	var next string
	windowed := c.windowed(lq)
	if lq.sort != nil && windowed {
		// Sorted by a column no index serves, each part sorts the table
		// again (one pass, keeping the part's rows): parts of a window's
		// size make that twenty times fewer passes than parts of csvChunk.
		lq.limit = scanWindow
	}
	if lq.sort == nil && windowed {
		// One window per part (scan.go): a part may hold no row, and the
		// next one goes on from the window's end.
		st := &scanState{}
		_, err = lq.rowsStep(c.e.db, st)
		rows, next = st.rows, st.next
		if next == "" && !st.rowsDone {
			next = lq.keyCursor(st.from)
		}
	} else {
		rows, next, err = lq.run(c.e.db)
	}
	if err != nil {
		return c.answer(c.dbFailure(err))
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if first {
		var head []string
		if t.UsesRowKey() {
			head = append(head, rowidName)
		}
		for _, col := range t.Columns {
			head = append(head, csvSafe(col.Name))
		}
		w.Write(head)
	}
	for _, r := range rows {
		var rec []string
		if t.UsesRowKey() {
			rec = append(rec, sqldb.Text(r.rowid))
		}
		for _, col := range t.Columns {
			rec = append(rec, csvCell(col, r.get(col)))
		}
		w.Write(rec)
	}
	w.Flush()
	res := &protocol.Response{Body: b.Bytes()}
	if first {
		res.Status = 200
		res.Headers = [][2]string{{"content-type", "text/csv; charset=utf-8"},
			{"content-disposition", `attachment; filename="` + EncodeComponent(t.Name) + `.csv"`},
			{"x-dsid", c.st.dsid}}
	}
	res.Continue = next
	return res
}

// csvCell is one value's CSV text, never a formula when a spreadsheet opens
// the file (CONTRACT, "Browser safety"): numbers stay as they are, any other
// text goes through csvSafe. The JSON API answers values unchanged.
func csvCell(col *model.Column, v any) string {
	s := csvText(jsonValue(col, v))
	switch v.(type) {
	case int64, float64: // what SQLite holds as a number, -Infinity included
		return s
	}
	return csvSafe(s)
}

// csvSafe prefixes a single quote to text a spreadsheet would read as a
// formula (OWASP's rule: it begins with =, +, -, @, a tab or a carriage
// return), so =HYPERLINK(...) or +cmd|... shows as the text it is.
func csvSafe(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}

func csvText(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return sqldb.Text(v)
}
