package engine

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/capture"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// historyEntry is one change as a person reads it (render's page model).
type (
	historyEntry = render.HistoryEntry
	fieldChange  = render.FieldChange
)

// describeEntry turns a log entry into what changed, field by field.
func (c *ctx) describeEntry(t *model.Table, en capture.Entry, withRow bool) historyEntry {
	h := historyEntry{Seq: en.Seq, At: en.At, Op: en.Op}
	old, new := decodeValues(en.Old), decodeValues(en.New)
	if key, ok := decodeKey(t, en.Key); ok {
		path := keyPath(key)
		if withRow {
			h.Row = path
			if en.Op != "delete" {
				h.RowHref = c.tableURL(t.Name) + "/r/" + path
			}
		}
		if en.New != "" {
			h.AsOf = c.tableURL(t.Name) + "/r/" + path + "?asof=" + strconv.FormatInt(en.Seq, 10)
		}
	}
	switch {
	case en.Op == "insert" && new == nil, en.Op == "update" && (new == nil || old == nil), en.Op == "delete" && old == nil:
		h.Unknown = true
	}
	for _, col := range t.Columns {
		o, hadOld := old[col.Name]
		n, hadNew := new[col.Name]
		was, is := historyText(col, o, hadOld), historyText(col, n, hadNew)
		switch en.Op {
		case "insert":
			if hadNew && n != nil {
				h.Fields = append(h.Fields, fieldChange{Name: col.Name, Is: is})
			}
		case "delete":
			if hadOld && o != nil {
				h.Fields = append(h.Fields, fieldChange{Name: col.Name, Was: was})
			}
		default:
			switch {
			case hadOld && hadNew && was != is:
				h.Fields = append(h.Fields, fieldChange{Name: col.Name, Was: was, Is: is})
			case old == nil && hadNew:
				// The earlier values were not captured: say what the row became.
				h.Fields = append(h.Fields, fieldChange{Name: col.Name, Was: "?", Is: is})
			}
		}
	}
	return h
}

// decodeValues reads a logged row image, keeping numbers exact.
func decodeValues(s string) map[string]any {
	if s == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

// historyText is a logged value as the history shows it. Bytes are never
// inlined (the log holds a BLOB as base64, a file column's value as its
// key): what they are and their size, as the list names them.
func historyText(col *model.Column, v any, present bool) string {
	if !present || v == nil {
		return "—"
	}
	switch x := v.(type) {
	case string:
		if col.Kind == model.Blob {
			if size, mime, ok := valueBytes(col, x); ok {
				return bytesLabel(size, mime)
			}
			if b, err := base64.StdEncoding.DecodeString(x); err == nil && !col.File {
				return blobKind(b)
			}
		}
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// rowHistory is the history section of a row page.
func (c *ctx) rowHistory(t *model.Table, r *row) []historyEntry {
	if !c.e.live.enabled {
		return nil
	}
	key := string(jsonBody(protocol.Values(r.key())))
	entries, err := capture.ForRow(c.e.db, t.Name, key, 50)
	if err != nil {
		return nil
	}
	out := make([]historyEntry, 0, len(entries))
	for _, en := range entries {
		if c.entryVisible(t, en) {
			out = append(out, c.describeEntry(t, en, false))
		}
	}
	return out
}

// changesPage lists a table's recent changes, newest first.
func (c *ctx) changesPage(t *model.Table) *protocol.Response {
	entries, _ := capture.ForTable(c.e.db, t.Name, 100)
	var hs []historyEntry
	for _, en := range entries {
		if c.entryVisible(t, en) {
			hs = append(hs, c.describeEntry(t, en, true))
		}
	}
	d := render.ChangesData{Page: c.page("Recent changes · "+c.label(t), link{Text: c.label(t), Href: c.tableURL(t.Name)}, link{Text: "Recent changes"}),
		Label: c.label(t), Back: c.tableURL(t.Name), History: hs}
	return html(200, render.ChangesPage(&d))
}

// asOf shows a row as it was right after a logged change (time travel, while
// the log holds it).
func (c *ctx) asOf(t *model.Table, keyRaw string, seqText string) *protocol.Response {
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if err != nil {
		return c.fail(400, "asof must be a change number")
	}
	rs, err := c.e.db.Query(`SELECT seq, tbl, op, key, coalesce(old_key, ''), coalesce(old, ''), coalesce(new, ''), at, coalesce(dsid, '') FROM "_nakedhtmx_changes" WHERE seq = ? AND tbl = ?`, seq, t.Name)
	if err != nil || len(rs.Values) == 0 {
		return c.fail(404, "the change log no longer holds change "+seqText+" of "+t.Name)
	}
	v := rs.Values[0]
	newJSON := sqldb.Text(v[6])
	key, ok := decodeKey(t, sqldb.Text(v[3]))
	if !ok || newJSON == "" || keyPath(key) != keyRaw {
		return c.fail(404, "change "+seqText+" holds no values for this row")
	}
	if tr := c.held(t); tr != nil && !c.valuesVisible(tr, "view", decodeValues(newJSON)) {
		return c.fail(404, "change "+seqText+" holds no values for this row") // as for a row the rule hides
	}
	r := rowFromJSON(t, newJSON, key)
	fd := c.buildForm(t, r, nil, nil, false)
	fd.ReadOnly = true
	for i := range fd.Fields {
		fd.Fields[i].ReadOnly = true
	}
	fd.Notice, fd.NoticeClass = "As of "+sqldb.Text(v[7])+" (change "+seqText+", "+sqldb.Text(v[2])+"). This is history: nothing here can be saved.", "warn"
	heading := c.rowHeading(t, r)
	d := rowData{Page: c.page(heading+" as of "+sqldb.Text(v[7]), link{Text: c.label(t), Href: c.tableURL(t.Name)},
		link{Text: heading, Href: c.tableURL(t.Name) + "/r/" + keyRaw}, link{Text: "as of change " + seqText}),
		Label: c.label(t), Heading: heading + " (history)", Form: fd}
	return html(200, render.RowPage(&d))
}

// historyFragment answers the row page's lazily loaded history section:
// it holds times, so it stays out of the page itself (and out of the
// golden corpus, which must not depend on the clock).
func (c *ctx) historyFragment(t *model.Table, r *row) *protocol.Response {
	return html(200, render.HistorySection(c.rowHistory(t, r)))
}
