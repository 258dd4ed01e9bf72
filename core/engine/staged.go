package engine

// Large imports (issue 18: "large files stream and show progress; the import
// is one transaction"): a file beyond one request's body is sent in parts,
// each checked as an import is and kept in the project's own tables (the
// rows as the checks left them, by line); the commit then writes every row
// in one transaction, reading the kept rows a page at a time, so neither
// the file nor its rows are ever held whole, and readers and live screens
// see all of it or none.
//
//	POST   /api/tables/T/imports            {"format", "conflict"}: 201 {"id"}
//	POST   /api/tables/T/imports/ID?line=L  one part (its own header line for CSV and TSV; L is the file's line of its first row): 200 {"staged"}, or 422 with the file's lines
//	POST   /api/tables/T/imports/ID/commit  201 {"inserted", "updated", "skipped"}, or 422 by line, nothing written
//	DELETE /api/tables/T/imports/ID         204: what was kept is dropped

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

const (
	// maxStagedRows bounds one large import (100,000 at most in one body).
	maxStagedRows = 5_000_000
	// maxStagedPart is the most rows one part may hold (a part is bounded
	// by its bytes too: the page sends 1 MiB at most).
	maxStagedPart = 1_000_000
	// stagedPage is how many kept rows the commit reads at once.
	stagedPage = 1000
	// stagedHours: an import left unfinished this long is dropped at the
	// next one's start.
	stagedHours = 24
)

type stagedImport struct {
	table, dsid, format, conflict string
}

// importsRoute answers /api/tables/T/imports (segs: what follows it).
func (c *ctx) importsRoute(t *model.Table, rest []string) *protocol.Response {
	if c.jetstream() {
		return c.fail(409, "with --write jetstream a large import is not staged yet: send it in imports of at most 900 KB each (one command on the stream)")
	}
	if why := c.writable(t, "insert"); why != "" {
		return c.fail(403, why)
	}
	if setup := c.e.store.ImportsSetup(); setup != "" {
		if err := c.e.db.Script(setup); err != nil {
			return c.answer(c.dbFailure(err))
		}
	}
	if len(rest) == 0 {
		if c.req.Method != "POST" {
			return c.methodNotAllowed("POST")
		}
		return c.stageStart(t)
	}
	imp, ok, err := c.stagedImport(rest[0])
	switch {
	case err != nil:
		return c.answer(c.dbFailure(err))
	case !ok || imp.table != t.Name:
		return c.fail(404, "no such import: "+rest[0])
	case c.req.Method == "DELETE" && len(rest) == 1:
		c.dropStaged(rest[0])
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 204}}
	case c.req.Method != "POST":
		return c.methodNotAllowed("POST, DELETE")
	case imp.dsid != c.st.dsid:
		c.dropStaged(rest[0])
		return c.fail(409, "the table's schema changed during the import: start it again")
	case len(rest) == 2:
		return c.stageCommit(t, rest[0], imp)
	}
	return c.stagePart(t, rest[0], imp)
}

// stageStart begins a large import.
func (c *ctx) stageStart(t *model.Table) *protocol.Response {
	var body struct {
		Format   string `json:"format"`
		Conflict string `json:"conflict"`
	}
	if why := decodeStrict(c.req.Body, &body); why != "" {
		return c.fail(400, `the body must be JSON: {"format": "csv", "conflict": "fail"}: `+why)
	}
	switch body.Format {
	case "csv", "tsv", "ndjson":
	default:
		return c.fail(400, "format must be csv, tsv or ndjson (a JSON array is one body: NDJSON streams)")
	}
	switch body.Conflict {
	case "":
		body.Conflict = "fail"
	case "fail", "skip":
	case "update":
		if why := c.writable(t, "update"); why != "" {
			return c.fail(403, why)
		}
	default:
		return c.fail(400, "conflict must be fail, skip or update")
	}
	id, err := protocol.NewCommandID()
	if err != nil {
		return c.fail(500, err.Error())
	}
	now := c.e.now().UTC()
	stale := now.Add(-stagedHours * time.Hour).Format(time.RFC3339)
	if rs, err := c.e.db.Query(`SELECT id FROM "_nakedhtmx_imports" WHERE at < ?`, stale); err == nil {
		for _, r := range rs.Values {
			c.dropStaged(sqldb.Text(r[0]))
		}
	}
	if _, err := c.e.db.Exec(`INSERT INTO "_nakedhtmx_imports" (id, tbl, dsid, format, conflict, at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, t.Name, c.st.dsid, body.Format, body.Conflict, now.Format(time.RFC3339)); err != nil {
		return c.answer(c.dbFailure(err))
	}
	return c.jsonAnswer(201, "id", id)
}

func (c *ctx) stagedImport(id string) (stagedImport, bool, error) {
	rs, err := c.e.db.Query(`SELECT tbl, dsid, format, conflict FROM "_nakedhtmx_imports" WHERE id = ?`, id)
	if err != nil || len(rs.Values) == 0 {
		return stagedImport{}, false, err
	}
	v := rs.Values[0]
	return stagedImport{sqldb.Text(v[0]), sqldb.Text(v[1]), sqldb.Text(v[2]), sqldb.Text(v[3])}, true, nil
}

// dropStaged forgets an import and its kept rows.
func (c *ctx) dropStaged(id string) {
	c.e.db.Exec(`DELETE FROM "_nakedhtmx_import_rows" WHERE import = ?`, id)
	c.e.db.Exec(`DELETE FROM "_nakedhtmx_imports" WHERE id = ?`, id)
}

// stagePart checks one part and keeps its rows.
func (c *ctx) stagePart(t *model.Table, id string, imp stagedImport) *protocol.Response {
	if c.req.TooLarge {
		return c.fail(413, "a part of an import is at most one request's body: send smaller parts")
	}
	line, err := strconv.Atoi(c.query.Get("line"))
	if err != nil || line < 1 {
		return c.fail(400, "line must be the file's line number of the part's first row")
	}
	// The part's own lines are its file's from line on (its header, when it
	// has one, is line 1 of the part, its first row line 2).
	shift := line - 2
	if imp.format == "ndjson" {
		shift = line - 1
	}
	c.staging = true
	p, errs, o := c.planImport(t, imp.format, c.req.Body, imp.conflict)
	if o != nil {
		return c.answer(o)
	}
	if len(errs) > 0 {
		for i := range errs {
			if errs[i].line > 1 || imp.format == "ndjson" {
				errs[i].line += shift
			}
		}
		return c.importFailed(errs)
	}
	var staged int64
	out := c.tx(nil, func() *outcome {
		rs, err := c.e.db.Query(`SELECT count(*), coalesce(max(n), 0) FROM "_nakedhtmx_import_rows" WHERE import = ?`, id)
		if err != nil {
			return c.dbFailure(err)
		}
		have, last := whole(rs.Values[0][0]), whole(rs.Values[0][1])
		if have+int64(len(p.insts)) > maxStagedRows {
			return failed(413, "an import takes at most "+strconv.Itoa(maxStagedRows)+" rows")
		}
		// Kept a few hundred rows per statement: one crossing (on Postgres,
		// one round trip) for each.
		const perInsert = 250
		for from := 0; from < len(p.insts); from += perInsert {
			to := min(from+perInsert, len(p.insts))
			args := make([]any, 0, 4*(to-from))
			for i := from; i < to; i++ {
				vals, err := json.Marshal(p.insts[i])
				if err != nil {
					return failed(500, "a row cannot be kept: "+err.Error())
				}
				args = append(args, id, last+int64(i)+1, int64(p.rows[i].line+shift), string(vals))
			}
			if _, err := c.e.db.Exec(`INSERT INTO "_nakedhtmx_import_rows" (import, n, line, vals) VALUES `+
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", to-from), ", "), args...); err != nil {
				return c.dbFailure(err)
			}
		}
		staged = have + int64(len(p.insts))
		return &outcome{status: 200}
	})
	if out.status != 200 {
		return c.answer(out)
	}
	return c.jsonAnswer(200, "staged", staged)
}

// stageCommit writes every kept row in one transaction, a page at a time.
func (c *ctx) stageCommit(t *model.Table, id string, imp stagedImport) *protocol.Response {
	var n importCounts
	o := c.tx(t, func() *outcome {
		n = importCounts{}
		after := int64(0)
		for {
			rs, err := c.e.db.Query(`SELECT n, line, vals FROM "_nakedhtmx_import_rows" WHERE import = ? AND n > ? ORDER BY n LIMIT `+
				strconv.Itoa(stagedPage), id, after)
			if err != nil {
				return c.dbFailure(err)
			}
			var lines []int
			var insts []map[string]any
			for _, r := range rs.Values {
				after = whole(r[0])
				var inst map[string]any
				dec := json.NewDecoder(bytes.NewReader([]byte(sqldb.Text(r[2]))))
				dec.UseNumber()
				if err := dec.Decode(&inst); err != nil {
					return failed(500, "a kept row cannot be read: "+err.Error())
				}
				// Numbers as the checks left them: integers exact, the rest floats.
				for k, v := range inst {
					if num, ok := v.(json.Number); ok {
						if i, err := num.Int64(); err == nil {
							inst[k] = i
						} else if f, err := num.Float64(); err == nil {
							inst[k] = f
						}
					}
				}
				lines, insts = append(lines, int(whole(r[1]))), append(insts, inst)
			}
			if bad := c.importRows(t, imp.conflict, lines, insts, &n); bad != nil {
				return bad
			}
			if len(rs.Values) < stagedPage {
				break
			}
		}
		if n == (importCounts{}) {
			return failed(422, "nothing was sent to import")
		}
		if _, err := c.e.db.Exec(`DELETE FROM "_nakedhtmx_import_rows" WHERE import = ?`, id); err != nil {
			return c.dbFailure(err)
		}
		if _, err := c.e.db.Exec(`DELETE FROM "_nakedhtmx_imports" WHERE id = ?`, id); err != nil {
			return c.dbFailure(err)
		}
		if bad := c.keysGiven(t); bad != nil {
			return bad
		}
		return &outcome{status: 201}
	})
	switch {
	case o.importErrs != nil:
		c.dropStaged(id)
		return c.importFailed(o.importErrs)
	case o.status != 201:
		if o.status != 503 {
			c.dropStaged(id)
		}
		return c.answer(o)
	}
	return c.jsonAnswer(201, "inserted", n.inserted, "updated", n.updated, "skipped", n.skipped)
}

// whole is a count or a number the store answered as an int64.
func whole(v any) int64 {
	n, _ := sqldb.Int(v)
	return n
}
