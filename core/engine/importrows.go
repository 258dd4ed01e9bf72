package engine

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"github.com/nakedhtmx/nakedhtmx/core/jsonw"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nakedhtmx/nakedhtmx/core/capture"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// An import (issue 18; CONTRACT, "Explore and import"): POST
// /api/tables/T/rows with a CSV (text/csv, a header row of column names),
// TSV (text/tab-separated-values), NDJSON (application/x-ndjson) or JSON
// array body (the page's). Every row is read and checked as a create would be (the same
// JSON Schema, read-only columns, references), the bad ones listed by line
// and field; only when none is bad are they written, in one transaction, so
// readers and live screens see all of it or none. ?conflict= says what a row
// whose key exists does: fail (the default), skip, or update that row.

// Bounds of one import: its rows, and the errors an answer lists.
const (
	maxImportRows   = 100_000
	maxImportErrors = 100
)

// importFormat is the import a request's content type asks for ("" for
// none: a plain create).
func importFormat(contentType string) string {
	mt, _, err := parseMediaType(contentType)
	if err != nil {
		return ""
	}
	switch mt {
	case "text/csv":
		return "csv"
	case "text/tab-separated-values":
		return "tsv"
	case "application/x-ndjson", "application/jsonl", "application/jsonlines":
		return "ndjson"
	}
	// application/json stays one row's object (CONTRACT): an array there is
	// a malformed create, not an import. The page imports JSON arrays.
	return ""
}

// importRow is one row of the file: the line it begins on and its values
// (column name: value as a create's body would carry it).
type importRow struct {
	line   int
	values map[string]any
}

// importError is one refusal: a line (0: the file as a whole), a field ("":
// the row), why.
type importError struct {
	line           int
	field, message string
}

func (e importError) object() *schema.Object {
	return schema.NewObject().Set("line", e.line).Set("field", e.field).Set("message", e.message)
}

var errTooManyRows = errors.New("too many rows")

// importPlan is an import read and checked, not yet written.
type importPlan struct {
	mode  string // fail, skip or update
	rows  []importRow
	insts []map[string]any
	// columns are the file's, in its order (a CSV's header; the members of
	// JSON objects as they first appear).
	columns []string
}

// planImport reads and checks an import without writing: the rows, or
// what is wrong with them (by line and field), or why the request as a
// whole is refused (o).
func (c *ctx) planImport(t *model.Table, format string, body []byte, mode string) (*importPlan, []importError, *outcome) {
	switch mode {
	case "":
		mode = "fail"
	case "fail", "skip", "update":
	default:
		return nil, nil, failed(400, "conflict must be fail, skip or update")
	}
	if mode == "update" {
		if why := c.writable(t, "update"); why != "" {
			return nil, nil, failed(403, why)
		}
	}
	if !utf8.Valid(body) {
		return nil, []importError{{line: lineOf(body, firstInvalidUTF8(body)), message: "the file is not valid UTF-8"}}, nil
	}
	p := &importPlan{mode: mode}
	var errs []importError
	var err error
	switch format {
	case "csv", "tsv":
		p.rows, p.columns, errs, err = c.readDelimited(t, body, format == "tsv")
	default:
		p.rows, p.columns, errs, err = readJSONRows(body, format == "json", c.importCap())
	}
	if errors.Is(err, errTooManyRows) {
		return nil, nil, failed(413, "an import takes at most "+strconv.Itoa(c.importCap())+" rows in one body: split the file, or import it in parts (/api/tables/T/imports)")
	}
	if len(errs) > 0 {
		return p, errs, nil
	}
	// Each row as a create would take it, checked before anything is
	// written (a row that may update one that exists is checked then).
	p.insts = make([]map[string]any, len(p.rows))
	for i, r := range p.rows {
		inst, _, _ := instance(t, r.values)
		p.insts[i] = inst
		if mode == "fail" || !c.hasKey(t, inst) {
			c.fillDefaults(t, inst)
			if bad := c.judge(t, inst, nil); bad != nil {
				errs = appendImportErrors(errs, r.line, bad)
			}
		}
		if len(errs) >= maxImportErrors {
			break
		}
	}
	return p, errs, nil
}

// importCounts are what an import did.
type importCounts struct{ inserted, updated, skipped int }

// runImport writes a checked import in one transaction: all of it, or
// (a row the database refuses, by line) none.
func (c *ctx) runImport(t *model.Table, p *importPlan) (importCounts, *outcome) {
	var n importCounts
	o := c.tx(t, func() *outcome {
		n = importCounts{}
		lines := make([]int, len(p.rows))
		for i, r := range p.rows {
			lines[i] = r.line
		}
		if bad := c.importRows(t, p.mode, lines, p.insts, &n); bad != nil {
			return bad
		}
		if bad := c.keysGiven(t); bad != nil {
			return bad
		}
		return &outcome{status: 201}
	})
	return n, o
}

// importRows writes checked rows of an import, in its transaction: several
// per statement when it adds rows only (importInserts), else one by one.
func (c *ctx) importRows(t *model.Table, mode string, lines []int, insts []map[string]any, n *importCounts) *outcome {
	if mode == "fail" {
		return c.importInserts(t, lines, insts, n)
	}
	for i, inst := range insts {
		if bad := c.importOne(t, mode, lines[i], inst, n); bad != nil {
			return bad
		}
	}
	return nil
}

// keysGiven ends an import's writes: keys the file gave move the key's
// sequence past them, as a create's does (Postgres; insert), so the next
// row the database numbers does not collide. Never backwards: it is asked
// whether or not the file gave keys. nil when done.
func (c *ctx) keysGiven(t *model.Table) *outcome {
	if after := c.e.store.KeyGiven(t); after != "" {
		if _, err := c.e.db.Query(after); err != nil {
			return c.dbFailure(err)
		}
	}
	return nil
}

// importInserts writes checked rows of an import that adds rows only
// (mode fail): runs of rows with the same columns go in one INSERT of
// several rows each (a crossing and, on Postgres, a round trip per run
// instead of per row), each row logged as importOne logs it. A run the
// database refuses is written again row by row, so the refusal names its
// line exactly as importOne's would. Views, and tables with file columns,
// go row by row.
func (c *ctx) importInserts(t *model.Table, lines []int, insts []map[string]any, n *importCounts) *outcome {
	// Rows held to row rules go one by one: each is filled and checked as
	// a create is (importOne).
	many := !t.View && c.held(t) == nil
	for _, col := range t.Columns {
		many = many && !col.File
	}
	for i := 0; i < len(insts); {
		cols, _ := assignments(t, insts[i], "")
		j := i + 1
		if many && len(cols) > 0 {
			most := min(maxInsertRows, maxInsertParams/len(cols))
			for j < len(insts) && j-i < most && sameColumns(t, insts[i], insts[j]) {
				j++
			}
		}
		if j-i > 1 && c.insertMany(t, cols, insts[i:j]) {
			n.inserted += j - i
			i = j
			continue
		}
		for ; i < j; i++ {
			if bad := c.importOne(t, "fail", lines[i], insts[i], n); bad != nil {
				return bad
			}
		}
	}
	return nil
}

// Bounds of one INSERT of several rows: SQLite takes at most 32,766
// parameters, Postgres 65,535.
const (
	maxInsertRows   = 256
	maxInsertParams = 30000
)

// sameColumns: a and b set the same columns of t.
func sameColumns(t *model.Table, a, b map[string]any) bool {
	for _, col := range t.Columns {
		_, inA := a[col.Name]
		_, inB := b[col.Name]
		if inA != inB {
			return false
		}
	}
	return true
}

// insertMany inserts rows that set the same columns (cols, quoted) in one
// statement, in a savepoint, and logs each; false (nothing written) when the
// database refuses any of them.
func (c *ctx) insertMany(t *model.Table, cols []string, insts []map[string]any) bool {
	if _, err := c.e.db.Exec("SAVEPOINT nakedhtmx_rows"); err != nil {
		return false
	}
	ok := false
	defer func() {
		if !ok {
			c.e.db.Exec("ROLLBACK TO nakedhtmx_rows")
		}
		c.e.db.Exec("RELEASE nakedhtmx_rows")
	}()
	var before int64
	if c.e.live.enabled {
		seq, _, err := capture.Sequence(c.e.db, c.e.store.LogFloor)
		if err != nil {
			return false
		}
		before = seq
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	args := make([]any, 0, len(cols)*len(insts))
	for _, inst := range insts {
		_, a := assignments(t, inst, "")
		args = append(args, a...)
	}
	rs, err := c.e.db.Query("INSERT INTO "+sqldb.Ident(t.Name)+" ("+strings.Join(cols, ", ")+") VALUES "+
		strings.TrimSuffix(strings.Repeat(row+", ", len(insts)), ", ")+" RETURNING "+selectList(t), args...)
	if err != nil || len(rs.Values) != len(insts) {
		return false
	}
	if c.e.live.enabled {
		c.e.live.dirty = true
		rows := readRows(t, rs)
		keys, news := make([]string, len(rows)), make([]string, len(rows))
		for i, r := range rows {
			keys[i], news[i] = string(jsonBody(protocol.Values(r.key()))), string(r.objectJSON())
		}
		if capture.FillAfter(c.e.db, t.Name, before, keys, news) != nil {
			return false
		}
	}
	ok = true
	return true
}

// importOne writes one checked row of an import, inside its transaction:
// an insert, or, when its key exists, nothing (mode skip) or an update
// (mode update).
func (c *ctx) importOne(t *model.Table, mode string, line int, inst map[string]any, n *importCounts) *outcome {
	if mode != "fail" && c.hasKey(t, inst) {
		key := c.keyOf(t, inst)
		cur, err := c.readRow(t, key)
		if err != nil {
			return c.importRowFailure(line, c.dbFailure(err))
		}
		if cur != nil {
			if mode == "skip" {
				n.skipped++
				return nil
			}
			if _, bad := c.checkUpdate(t, key, inst, ""); bad != nil {
				return c.importRowFailure(line, bad)
			}
			inst, bad := c.storeFiles(t, inst, cur)
			if bad != nil {
				return c.importRowFailure(line, bad)
			}
			sets, args := assignments(t, inst, " = ?")
			if len(sets) > 0 {
				r, bad := c.writeReturning(t, "UPDATE "+sqldb.Ident(t.Name)+" SET "+strings.Join(sets, ", ")+
					" WHERE "+keyWhere(t)+" RETURNING "+selectList(t), append(args, key...), 404, "no such row")
				if bad != nil {
					return c.importRowFailure(line, bad)
				}
				if why := c.ruleRefuses(t, "update", r.key()); why != "" {
					return c.importRowFailure(line, failed(403, why+" (as the row would be after this change)"))
				}
				c.logOwn(t, cur, r)
			}
			n.updated++
			return nil
		}
		c.fillDefaults(t, inst)
		if bad := c.judge(t, inst, nil); bad != nil {
			return c.importRowFailure(line, bad)
		}
	}
	c.fillDefaults(t, inst) // a staged row, too: the user's values, whatever the file said
	inst, bad := c.storeFiles(t, inst, nil)
	if bad != nil {
		return c.importRowFailure(line, bad)
	}
	sql, args := insertSQL(t, inst)
	if cols, vals := c.hiddenDefaults(t); cols != nil {
		sql, args = insertWith(t, inst, cols, vals)
	}
	r, bad := c.writeReturning(t, sql, args, 500, "the insert returned no row")
	if bad != nil {
		return c.importRowFailure(line, bad)
	}
	if why := c.ruleRefuses(t, "create", r.key()); why != "" {
		return c.importRowFailure(line, failed(403, why))
	}
	c.logOwn(t, nil, r)
	n.inserted++
	return nil
}

// apiImport answers an import through the API.
func (c *ctx) apiImport(t *model.Table, format string) *protocol.Response {
	if c.req.Command != "" {
		// The scale-out mode: the import was one batch command.
		return c.batchCommandAnswer(func(r *commandResult) *protocol.Response {
			var rs []struct {
				Status int `json:"status"`
			}
			json.Unmarshal(r.Results, &rs)
			var n importCounts
			for _, x := range rs {
				n.count(x.Status)
			}
			return c.jsonAnswer(201, "inserted", n.inserted, "updated", n.updated, "skipped", n.skipped)
		})
	}
	p, errs, o := c.planImport(t, format, c.req.Body, c.query.Get("conflict"))
	switch {
	case o != nil:
		return c.answer(o)
	case len(errs) > 0:
		return c.importFailed(errs)
	}
	if c.jetstream() {
		if o := c.importCommand(t, p); o.status >= 300 {
			return c.answer(o)
		}
		return c.jsonAnswer(202, "command", c.command.ID, "status", "pending")
	}
	n, o := c.runImport(t, p)
	switch {
	case o.importErrs != nil:
		return c.importFailed(o.importErrs)
	case o.status != 201:
		return c.answer(o)
	}
	return c.jsonAnswer(201, "inserted", n.inserted, "updated", n.updated, "skipped", n.skipped)
}

// importFailed is the 422 that lists what is wrong; nothing was written.
func (c *ctx) importFailed(errs []importError) *protocol.Response {
	out := make([]any, len(errs))
	for i, e := range errs {
		out[i] = e.object()
	}
	return c.jsonAnswer(422, "error", "nothing was imported: "+strconv.Itoa(len(errs))+" problem(s) in the file", "errors", out)
}

// importRowFailure is a row refused while writing (a key that exists, a
// constraint the database holds): the whole import is undone.
func (c *ctx) importRowFailure(line int, o *outcome) *outcome {
	if o.status == 503 {
		return o // busy, a time limit: the import as a whole is answered so
	}
	out := failed(422, "")
	out.importErrs = appendImportErrors(nil, line, o)
	return out
}

func appendImportErrors(errs []importError, line int, o *outcome) []importError {
	if len(o.errs) == 0 {
		return append(errs, importError{line: line, message: o.msg})
	}
	for _, e := range o.errs {
		errs = append(errs, importError{line: line, field: strings.TrimPrefix(e.Path, "/"), message: e.Message})
	}
	return errs
}

// hasKey: the row gives every column of the table's key (so it may name a
// row that exists).
func (c *ctx) hasKey(t *model.Table, inst map[string]any) bool {
	if t.UsesRowKey() || len(t.PK) == 0 {
		return false
	}
	for _, col := range t.PK {
		if v, ok := inst[col.Name]; !ok || v == nil {
			return false
		}
	}
	return true
}

func (c *ctx) keyOf(t *model.Table, inst map[string]any) []any {
	key := make([]any, len(t.PK))
	for i, col := range t.PK {
		key[i] = sqlValue(col, inst[col.Name])
	}
	return key
}

// insertSQL is the statement that creates a row with these values and
// returns it.
func insertSQL(t *model.Table, inst map[string]any) (string, []any) {
	return insertWith(t, inst, nil, nil)
}

// insertWith is insertSQL with more columns (quoted) and values: those the
// config fills for a user that the caller does not see (rules.go).
func insertWith(t *model.Table, inst map[string]any, more []string, moreArgs []any) (string, []any) {
	cols, args := assignments(t, inst, "")
	cols, args = append(cols, more...), append(args, moreArgs...)
	sql := "INSERT INTO " + sqldb.Ident(t.Name)
	if len(cols) == 0 {
		sql += " DEFAULT VALUES"
	} else {
		sql += " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	}
	return sql + " RETURNING " + selectList(t), args
}

// readDelimited reads a CSV or TSV file: a header row of the table's column
// names, then one row per record, each cell as the form's field of that
// column would be read.
func (c *ctx) readDelimited(t *model.Table, body []byte, tabs bool) (rows []importRow, names []string, errs []importError, err error) {
	body = bytes.TrimPrefix(body, []byte("\uFEFF")) // a spreadsheet's byte order mark
	r := csv.NewReader(bytes.NewReader(body))
	if tabs {
		r.Comma = '\t'
	}
	r.FieldsPerRecord = -1 // counted here, with the line in the message
	r.ReuseRecord = true
	head, err := r.Read()
	if err == io.EOF {
		return nil, nil, []importError{{line: 1, message: "the file is empty: the first line names the columns"}}, nil
	}
	if err != nil {
		return nil, nil, []importError{csvError(err)}, nil
	}
	if len(head) > len(t.Columns) {
		return nil, nil, []importError{{line: 1, message: "the header names " + strconv.Itoa(len(head)) + " columns; the table has " + strconv.Itoa(len(t.Columns))}}, nil
	}
	cols := make([]*model.Column, len(head))
	seen := map[string]bool{}
	for i, name := range head {
		name = strings.TrimSpace(name)
		names = append(names, name)
		col := t.Column(name)
		switch {
		case col == nil:
			errs = append(errs, importError{line: 1, field: name, message: "no such column"})
		case seen[name]:
			errs = append(errs, importError{line: 1, field: name, message: "named twice in the header"})
		}
		seen[name] = true
		cols[i] = col
	}
	// Rows are read on after a bad header, for the preview (an unknown
	// column's cells kept as text); the import itself is refused.
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, names, append(errs, csvError(err)), nil
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && rec[0] == "" && len(cols) > 1 {
			continue // a blank line
		}
		if len(rec) != len(cols) {
			errs = append(errs, importError{line: line, message: "has " + strconv.Itoa(len(rec)) + " cells; the header names " + strconv.Itoa(len(cols))})
			if len(errs) >= maxImportErrors {
				break
			}
			continue
		}
		if len(rows) == c.importCap() {
			return nil, nil, nil, errTooManyRows
		}
		values := make(map[string]any, len(cols))
		for i, col := range cols {
			s := unescapeFormula(rec[i])
			if col == nil {
				values[names[i]] = s
				continue
			}
			if strings.IndexByte(s, 0) >= 0 {
				errs = append(errs, importError{line: line, field: col.Name, message: "holds a NUL byte"})
				continue
			}
			v, ok := cellValue(t, col, s)
			if ok {
				values[col.Name] = v
			}
		}
		rows = append(rows, importRow{line: line, values: values})
		if len(errs) >= maxImportErrors {
			break
		}
	}
	if len(rows) == 0 && len(errs) == 0 {
		errs = append(errs, importError{line: 2, message: "the file has a header and no rows"})
	}
	return rows, names, errs, nil
}

// cellValue is a CSV cell as a create's body would carry it: an empty cell
// is the column's default when it has one, else NULL (or, for text, an
// empty string where NULL is not allowed); ok false leaves the column out.
func cellValue(t *model.Table, col *model.Column, s string) (any, bool) {
	if s == "" {
		switch {
		case col.Default != nil:
			return nil, false
		case col.Nullable():
			return nil, true
		case col.Kind == model.String && !schema.Required(t, col):
			return "", true
		}
		return nil, true // the validator names what is missing
	}
	return toJSONish(fromForm(col, s, true)), true
}

// toJSONish turns a form value into what a JSON body would hold, so the
// row goes through instance() as a create's body does.
func toJSONish(v any) any {
	switch x := v.(type) {
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	}
	return v
}

// unescapeFormula undoes the export's guard (csvSafe): a cell the export
// prefixed with ' so a spreadsheet shows it as text comes back as it was.
func unescapeFormula(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.IndexByte("=+-@\t\r'", s[1]) >= 0 {
		return s[1:]
	}
	return s
}

func csvError(err error) importError {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return importError{line: pe.Line, message: "is not valid CSV: " + pe.Err.Error()}
	}
	return importError{message: err.Error()}
}

// readJSONRows reads NDJSON (one object per line) or a JSON array of
// objects; a line is where its object begins.
func readJSONRows(body []byte, array bool, most int) (rows []importRow, names []string, errs []importError, _ error) {
	seen := map[string]bool{}
	add := func(raw []byte, at int) error {
		line := lineOf(body, at)
		obj, msg := bodyObject(raw)
		if msg != "" {
			errs = append(errs, importError{line: line, message: msg})
			return nil
		}
		if len(rows) == most {
			return errTooManyRows
		}
		rows = append(rows, importRow{line: line, values: obj})
		for _, k := range objectKeys(raw) {
			if !seen[k] && !strings.HasPrefix(k, "_") {
				seen[k] = true
				names = append(names, k)
			}
		}
		return nil
	}
	if array {
		dec := json.NewDecoder(bytes.NewReader(body))
		if _, err := dec.Token(); err != nil {
			return nil, nil, []importError{{line: 1, message: "is not a JSON array: " + err.Error()}}, nil
		}
		for dec.More() && len(errs) < maxImportErrors {
			var raw json.RawMessage
			at := int(dec.InputOffset())
			if err := dec.Decode(&raw); err != nil {
				return nil, names, append(errs, importError{line: lineOf(body, at), message: "is not valid JSON: " + err.Error()}), nil
			}
			if err := add(raw, at+len(body[at:])-len(bytes.TrimLeft(body[at:], " \t\r\n,"))); err != nil {
				return nil, nil, nil, err
			}
		}
	} else {
		at := 0
		for _, l := range bytes.SplitAfter(body, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				if err := add(l, at); err != nil {
					return nil, nil, nil, err
				}
				if len(errs) >= maxImportErrors {
					break
				}
			}
			at += len(l)
		}
	}
	if len(rows) == 0 && len(errs) == 0 {
		errs = append(errs, importError{line: 1, message: "the file has no rows"})
	}
	return rows, names, errs, nil
}

// objectKeys are a JSON object's member names in the order they are written.
func objectKeys(raw []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}

// lineOf is the 1-based line of byte offset at.
func lineOf(body []byte, at int) int {
	if at > len(body) {
		at = len(body)
	}
	return bytes.Count(body[:at], []byte("\n")) + 1
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// --- the import page ---

// importPreviewRows is how many rows a preview shows.
const importPreviewRows = 20

// importRoute answers /t/{table}/import: GET the form; POST a preview (the
// file read and checked, nothing written) or the import itself, which goes
// to the list when it is done and back to the form, with every bad row, when
// it is not.
func (c *ctx) importRoute(t *model.Table, _, _ []string) *protocol.Response {
	if why := c.writable(t, "insert"); why != "" {
		return c.fail(403, why)
	}
	d := c.importData(t)
	if c.get() {
		return html(200, render.ImportPage(d))
	}
	if c.req.Method != "POST" {
		return c.methodNotAllowed("GET, POST")
	}
	form, text, name, bad := c.postedFile()
	if bad != nil {
		return bad
	}
	d.Text, d.Format, d.Conflict = text, form.Get("format"), form.Get("conflict")
	if strings.TrimSpace(text) == "" {
		d.Status, d.Message = 422, "choose a file or paste its text"
		return html(d.Status, render.ImportPage(d))
	}
	format := d.Format
	if format == "" {
		format = detectImportFormat(name, text)
	} else if format != "csv" && format != "tsv" && format != "ndjson" && format != "json" {
		return c.fail(400, "format must be csv, tsv, ndjson or json")
	}
	p, errs, o := c.planImport(t, format, []byte(text), d.Conflict)
	if o != nil {
		d.Status, d.Message = o.status, o.msg
		return html(d.Status, render.ImportPage(d))
	}
	d.Preview = importPreview(t, p)
	if len(errs) == 0 && form.Get("preview") == "" && (c.jetstream() || c.req.Command != "") {
		return c.importCommandPage(t, p, d)
	}
	if len(errs) == 0 && form.Get("preview") == "" {
		_, o := c.runImport(t, p)
		switch {
		case o.importErrs != nil:
			errs = o.importErrs
		case o.status != 201:
			d.Status, d.Message = o.status, o.msg
			return html(d.Status, render.ImportPage(d))
		default:
			return c.redirect(c.tableURL(t.Name))
		}
	}
	for _, e := range errs {
		d.Errors = append(d.Errors, render.ImportError{Line: e.line, Field: e.field, Message: e.message})
	}
	if len(errs) > 0 {
		d.Status = 422
	}
	return html(d.Status, render.ImportPage(d))
}

// importCommand makes a checked import one batch command (the scale-out
// mode) every node applies in one transaction: each row an insert that
// carries its line and, unless the import fails on a key that exists, what
// to do then (skip, update), decided at each node's place in the stream,
// where the rows are.
func (c *ctx) importCommand(t *model.Table, p *importPlan) *outcome {
	c.collecting = true
	for i, inst := range p.insts {
		c.writeCommand(t, "insert", nil, inst, "")
		last := &c.collected[len(c.collected)-1]
		last.Line = p.rows[i].line
		if p.mode != "fail" {
			last.Conflict = p.mode
		}
	}
	return c.batchCommand()
}

// count adds one imported row by the status its command answered.
func (n *importCounts) count(status int) {
	switch status {
	case 200:
		n.updated++
	case 204:
		n.skipped++
	default:
		n.inserted++
	}
}

// importCommandPage is the import page's Import in the scale-out mode: the
// rows, checked here, go as one batch command every node applies in one
// transaction (as an API import's); asked again once it was applied, the
// list, or the page naming the line the database refused.
func (c *ctx) importCommandPage(t *model.Table, p *importPlan, d *render.ImportData) *protocol.Response {
	if c.req.Command == "" {
		if o := c.importCommand(t, p); o.status >= 300 {
			d.Status, d.Message = o.status, o.msg
			return html(d.Status, render.ImportPage(d))
		}
		return c.redirect(c.tableURL(t.Name)) // what a client sees if the host cannot wait
	}
	r, wait := c.appliedResult()
	switch {
	case wait != nil:
		return wait
	case r.Status < 300:
		return c.redirect(c.tableURL(t.Name))
	}
	d.Status, d.Message = r.Status, "nothing was imported: "+r.Message
	if i := r.Index; i != nil && *i >= 0 && *i < len(p.rows) {
		d.Message = "nothing was imported: line " + strconv.Itoa(p.rows[*i].line) + ": " + r.Message
	}
	return html(d.Status, render.ImportPage(d))
}

// postedFile reads a form that sends a file (its field "file") or its text
// pasted ("text"): the form, the file's text (the file when one was
// chosen) and the file's name ("" when pasted).
func (c *ctx) postedFile() (url.Values, string, string, *protocol.Response) {
	form, files, bad := c.formBodyFiles()
	if bad != nil {
		return nil, "", "", bad
	}
	if f, ok := files["file"]; ok && len(f.Data) > 0 {
		return form, string(f.Data), f.Name, nil
	}
	return form, form.Get("text"), "", nil
}

// importData is the import page before anything was posted.
func (c *ctx) importData(t *model.Table) *render.ImportData {
	d := &render.ImportData{Page: c.page("Import", link{Text: c.label(t), Href: c.tableURL(t.Name)}, link{Text: "Import"}),
		Status: 200, Label: c.label(t), Action: c.tableURL(t.Name) + "/import", DSID: c.st.dsid, Conflict: "fail",
		Staged: c.e.opts.BasePath + "/api/tables/" + EncodeComponent(t.Name) + "/imports", Done: c.tableURL(t.Name)}
	for _, col := range c.importColumns(t) {
		d.Columns = append(d.Columns, col.Name)
		if schema.Required(t, col) {
			d.Required = append(d.Required, col.Name)
		}
	}
	return d
}

// importCap is the most rows one body may hold: a part of a large import
// (bounded by its bytes) more than a whole one (held in memory whole).
func (c *ctx) importCap() int {
	if c.staging {
		return maxStagedPart
	}
	return maxImportRows
}

// importColumns are the columns an import may give, in the table's order.
func (c *ctx) importColumns(t *model.Table) []*model.Column {
	tc := c.e.opts.Config.Table(t.Name)
	var out []*model.Column
	for _, col := range t.Columns {
		if !col.Generated && !tc.Column(col.Name).ReadOnly && !col.RefHidden {
			out = append(out, col)
		}
	}
	return out
}

// pasteColumns is importColumns but the key the database numbers, as a
// JSON array of names, for the list page's paste (app.js): what pasted
// cells are read as when their first line does not name them.
func (c *ctx) pasteColumns(t *model.Table) string {
	b := []byte{'['}
	for _, col := range c.importColumns(t) {
		if t.AutoKey != nil && col.Name == t.AutoKey.Name {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = jsonw.String(b, col.Name, true)
	}
	return string(append(b, ']'))
}

// importPreview is the first rows of a plan as text, column by column.
func importPreview(t *model.Table, p *importPlan) *render.ImportPreview {
	pv := &render.ImportPreview{Columns: p.columns, Total: len(p.rows), Unknown: map[string]bool{}}
	for _, n := range p.columns {
		if t.Column(n) == nil {
			pv.Unknown[n] = true
		}
	}
	for _, r := range p.rows {
		if len(pv.Rows) == importPreviewRows {
			break
		}
		cells := make([]string, len(p.columns))
		for i, n := range p.columns {
			cells[i] = previewText(r.values[n])
		}
		pv.Rows = append(pv.Rows, cells)
	}
	return pv
}

func previewText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// detectImportFormat guesses a file's format from its name, else its text.
func detectImportFormat(name, text string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".tsv"), strings.HasSuffix(lower, ".tab"):
		return "tsv"
	case strings.HasSuffix(lower, ".ndjson"), strings.HasSuffix(lower, ".jsonl"):
		return "ndjson"
	case strings.HasSuffix(lower, ".csv"):
		return "csv"
	}
	trimmed := strings.TrimLeft(text, " \t\r\n\uFEFF")
	switch {
	case strings.HasPrefix(trimmed, "["):
		return "json"
	case strings.HasPrefix(trimmed, "{"):
		return "ndjson"
	}
	first, _, _ := strings.Cut(trimmed, "\n")
	if strings.Contains(first, "\t") && !strings.Contains(first, ",") {
		return "tsv"
	}
	return "csv"
}
