package engine

// A new table from a file (issue 18, "New table from this file"): the
// new-table page takes a CSV, TSV, NDJSON or JSON file, reads its columns
// and infers each one's type from every value it holds, and offers them as
// the new table's columns, to be changed before anything is made. "Create
// and import" then makes the table (a schema edit like any other) and
// imports the file into it (an import like any other); when the import is
// refused, the table it was made for is dropped again, so nothing is left
// half done.

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/schemaedit"
)

// fileColumns are a file's columns in order, the type each one's values
// fit, and its first rows as text.
type fileColumns struct {
	names, types []string
	sample       [][]string
	// unique: the column's values are all there and all different (a key).
	unique []bool
}

// maxSampleRows are the rows the page shows.
const maxSampleRows = 10

// readFileColumns reads a file's header (CSV, TSV) or its objects' members
// (NDJSON, JSON) and infers each column's type.
func readFileColumns(format, text string) (*fileColumns, string) {
	var names []string
	var rows [][]any
	switch format {
	case "csv", "tsv":
		r := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\uFEFF")))
		if format == "tsv" {
			r.Comma = '\t'
		}
		r.FieldsPerRecord = -1
		head, err := r.Read()
		if err != nil {
			return nil, "the first line must name the columns: " + errText(err)
		}
		names = append(names, head...)
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, errText(err)
			}
			if len(rows) == maxImportRows {
				return nil, errTooManyRows.Error()
			}
			row := make([]any, len(names))
			for i := range row {
				if i < len(rec) && rec[i] != "" {
					row[i] = rec[i]
				}
			}
			rows = append(rows, row)
		}
	case "ndjson", "json":
		objs, keys, errs, err := readJSONRows([]byte(text), format == "json", maxImportRows)
		if err != nil {
			return nil, err.Error()
		}
		if len(errs) > 0 {
			return nil, "line " + strconv.Itoa(errs[0].line) + ": " + errs[0].message
		}
		names = keys
		for _, o := range objs {
			row := make([]any, len(names))
			for i, n := range names {
				row[i] = o.values[n]
			}
			rows = append(rows, row)
		}
	default:
		return nil, "format must be csv, tsv, ndjson or json"
	}
	for _, n := range names {
		if err := schemaedit.Name("column", n); err != nil {
			return nil, err.Error()
		}
	}
	fc := &fileColumns{names: names}
	fc.types, fc.unique = schemaedit.Infer(len(names), rows)
	for _, row := range rows[:min(len(rows), maxSampleRows)] {
		cells := make([]string, len(row))
		for i, v := range row {
			if v != nil {
				cells[i] = schemaedit.CellText(v)
			}
		}
		fc.sample = append(fc.sample, cells)
	}
	return fc, ""
}

func errText(err error) string {
	if pe, ok := err.(*csv.ParseError); ok {
		return "line " + strconv.Itoa(pe.Line) + ": " + pe.Err.Error()
	}
	return err.Error()
}

// newTableFromFile answers POST /structure/new: the file read and its
// columns offered (create unset), or the table made and the file imported.
func (c *ctx) newTableFromFile() *protocol.Response {
	if why := c.schemaEditor(); why != "" {
		return c.fail(403, why)
	}
	form, text, name, bad := c.postedFile()
	if bad != nil {
		return bad
	}
	d := &render.StructureData{Page: c.page("New table", link{Text: "New table"}), Action: c.e.opts.BasePath + "/structure", New: true,
		FileAction: c.e.opts.BasePath + "/structure/new"}
	ff := &render.FromFile{Action: c.e.opts.BasePath + "/structure/new", Table: strings.TrimSpace(form.Get("table")), Text: text, Format: form.Get("format")}
	d.FromFile = ff
	page := func(status int, msg string) *protocol.Response {
		ff.Message = msg
		return html(status, render.StructurePage(d))
	}
	if strings.TrimSpace(text) == "" {
		return page(422, "choose a file or paste its text")
	}
	if ff.Format == "" {
		ff.Format = detectImportFormat(name, text)
	}
	fc, msg := readFileColumns(ff.Format, text)
	if msg != "" {
		return page(422, msg)
	}
	ff.Sample, ff.Names = fc.sample, fc.names
	if form.Get("create") != "1" {
		// The columns offered: the file's, with the inferred types; a
		// column named id whose values are all there and all different
		// integers is the key, else the database numbers one.
		ff.AutoKey, ff.AutoKeyName = true, "id"
		for i, n := range fc.names {
			col := render.StructureColumn{Name: n, Type: fc.types[i]}
			if strings.EqualFold(n, "id") {
				if fc.types[i] == "INTEGER" && fc.unique[i] {
					col.Key, ff.AutoKey = true, false
				} else {
					ff.AutoKeyName = "row_id"
				}
			}
			ff.Columns = append(ff.Columns, col)
		}
		if ff.Table == "" {
			ff.Table = name
			if i := strings.LastIndexByte(name, '.'); i > 0 {
				ff.Table = name[:i]
			}
		}
		return page(200, "")
	}
	// The file's columns as the form named them (CSV and TSV: renamed in
	// its header too; a JSON file's members are its names).
	e := editFromForm(form)
	e.Op, e.Table, e.Confirm = schemaedit.CreateTable, ff.Table, true
	var given []string
	for _, col := range e.Columns {
		if !col.AutoKey {
			given = append(given, col.Name)
		}
	}
	if len(given) != len(fc.names) {
		return page(422, "the table needs one column for each of the file's "+strconv.Itoa(len(fc.names)))
	}
	if ff.Format == "csv" || ff.Format == "tsv" {
		text = withHeader(text, ff.Format == "tsv", given)
	} else if strings.Join(given, "\x00") != strings.Join(fc.names, "\x00") {
		return page(422, "a JSON file's columns keep the names of its members")
	}
	res, out := c.runEdit(nil, e)
	if out != nil {
		return page(out.status, out.msg)
	}
	t := c.table(res.plan.Renamed)
	if t == nil {
		return page(500, "the new table cannot be found")
	}
	drop := func() { c.runEdit(t, &schemaedit.Edit{Op: schemaedit.DropTable, Table: t.Name, Confirm: true}) }
	p, errs, o := c.planImport(t, ff.Format, []byte(text), "fail")
	if o == nil && len(errs) == 0 {
		_, o = c.runImport(t, p)
		if o.importErrs != nil {
			errs, o = o.importErrs, nil
		} else if o.status == 201 {
			return c.redirect(c.tableURL(t.Name))
		}
	}
	drop()
	d.Page.DSID = c.st.dsid
	if o != nil {
		return page(o.status, "the table was not made: "+o.msg)
	}
	var lines []string
	for _, e := range errs[:min(len(errs), 5)] {
		lines = append(lines, "line "+strconv.Itoa(e.line)+" "+e.field+": "+e.message)
	}
	return page(422, "the table was not made: its rows do not fit the columns: "+strings.Join(lines, "; "))
}

// withHeader is a CSV or TSV text with its first record replaced by names.
func withHeader(text string, tabs bool, names []string) string {
	body := strings.TrimPrefix(text, "\uFEFF")
	r := csv.NewReader(strings.NewReader(body))
	if tabs {
		r.Comma = '\t'
	}
	r.FieldsPerRecord = -1
	if _, err := r.Read(); err != nil {
		return text
	}
	sep := ","
	if tabs {
		sep = "\t"
	}
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(sep)
		}
		// Quoted as CSV quotes: always, the quotes doubled.
		b.WriteString(`"` + strings.ReplaceAll(n, `"`, `""`) + `"`)
	}
	b.WriteString("\n")
	return b.String() + body[r.InputOffset():]
}
