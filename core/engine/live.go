package engine

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/capture"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/rules"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// liveState is where the engine is in the change log.
type liveState struct {
	enabled     bool
	lastSeq     int64  // the newest log entry turned into messages
	lastErr     string // the last refresh error logged by a tick
	dataVersion int64
	dirty       bool // this engine wrote since the last tick
	// notOwn: something besides this engine's own row writes is waiting
	// (a schema event it logged, a resumed backlog, a full batch), so a
	// tick must read the log even when nobody listens.
	notOwn     bool
	sincePrune int
	// renamed maps old table names to new ones, learned from schema events:
	// a write made right after an outside RENAME TABLE is logged under the old
	// name until the triggers are re-created.
	renamed map[string]string
	// viewers are the users of the host's open streams that row rules
	// hold (Subscribe.Viewer), by name, in name order (SetViewers).
	viewers []viewer
}

// viewer is one user open streams are for, as the host names it.
type viewer struct {
	name string
	who  principal
}

// tableOf resolves a logged table name, following renames.
func (e *Engine) tableOf(name string) *model.Table {
	for i := 0; i < 16; i++ {
		if t := e.st.db.Table(name); t != nil {
			return t
		}
		next, ok := e.live.renamed[name]
		if !ok {
			return nil
		}
		name = next
	}
	return nil
}

// learnRenames reads table renames out of schema events.
func (e *Engine) learnRenames(entries []Entry) {
	for _, en := range entries {
		if en.Op != "schema" {
			continue
		}
		var data struct {
			Changes []schema.Change `json:"changes"`
		}
		json.Unmarshal([]byte(en.New), &data)
		for _, ch := range data.Changes {
			if ch.Kind == "table-renamed" {
				if e.live.renamed == nil {
					e.live.renamed = map[string]string{}
				}
				e.live.renamed[ch.From] = ch.Table
			}
		}
	}
}

// batch bounds the entries one tick turns into messages; the next tick
// goes on where it stopped.
const batch = 500

// Backlog bounds for a resuming stream (see events).
const (
	backlogAPI  = 50000
	backlogPage = 500
)

func (l *liveState) start(e *Engine) {
	if !l.enabled {
		return
	}
	if _, last, err := capture.Bounds(e.db, e.store.LogFloor); err == nil {
		l.lastSeq = last
		if a := e.opts.LiveAfter; a != nil && *a >= 0 && *a < last {
			l.lastSeq = *a
			l.dirty, l.notOwn = true, true // data_version has not moved for what is already logged
		}
	}
	l.dataVersion = e.dataVersion()
	e.prune(l.lastSeq)
}

// prune keeps the log within the config's limits (capture.Prune).
func (e *Engine) prune(sent int64) {
	maxRows, maxAge := e.opts.Config.LogLimits()
	before := e.now().UTC().Add(-time.Duration(maxAge) * time.Hour).Format(capture.AtFormat)
	capture.Prune(e.db, maxRows, before, sent)
}

func (e *Engine) dataVersion() int64 {
	n, err := e.store.DataVersion(e.db)
	if err != nil {
		return 0
	}
	return n
}

// renames are the config's rename hints in the diff's terms.
func (e *Engine) renames() schema.Renames {
	r := schema.Renames{"": e.opts.Config.RenamedTables}
	for name, t := range e.opts.Config.Tables {
		if t != nil && len(t.RenamedColumns) > 0 {
			r[name] = t.RenamedColumns
		}
	}
	return r
}

// announceSchema records a schema event in the log, inside the transaction
// that stored the new DSID.
func (e *Engine) announceSchema(prevID string, prevSnap []byte, id string, snap []byte) error {
	changes := []schema.Change{}
	if prevSnap != nil {
		if c, err := schema.Diff(prevSnap, snap, e.renames()); err == nil && c != nil {
			changes = c
		}
	}
	data := jsonBody(newObj("dsid", id, "previous", prevID, "changes", changes))
	// Our own write to the log does not move data_version, which a tick may
	// already have read after the outside DDL committed: without this, the
	// event would wait for the next outside write.
	e.live.dirty, e.live.notOwn = true, true
	return capture.AddSchema(e.db, id, string(data))
}

// tick reads the log past the last entry seen and renders the messages.
func (e *Engine) tick(formats protocol.Formats) (res protocol.TickResult) {
	res.Messages = []protocol.Message{}
	if e.st == nil || !e.live.enabled {
		return res
	}
	if err := e.refresh(false); err != nil {
		// Said once per distinct error: the next tick tries again, 50 times a second.
		if msg := err.Error(); msg != e.live.lastErr {
			e.live.lastErr = msg
			e.logf("nakedhtmx: live: reading the schema: %v", err)
		}
		return res
	}
	e.live.lastErr = ""
	dv := e.dataVersion()
	if dv == e.live.dataVersion && !e.live.dirty {
		return res
	}
	quiet := formats == 0 && dv == e.live.dataVersion && !e.live.notOwn
	e.live.dataVersion, e.live.dirty, e.live.notOwn = dv, false, false
	if quiet && e.skipOwn() {
		return res
	}
	entries, err := capture.After(e.db, e.live.lastSeq, batch)
	if err != nil || len(entries) == 0 {
		return res
	}
	if len(entries) == batch {
		e.live.dirty, e.live.notOwn = true, true // more to read on the next tick
	}
	if e.schemaMovedUnder(entries) {
		// Read again on the next tick, which reflects first: the schema
		// event then comes in the same batch, and a rename is learned
		// before the writes logged under the old name are told.
		e.live.dirty, e.live.notOwn = true, true
		return res
	}
	e.learnRenames(entries)
	e.fillOutside(entries)
	c := e.liveCtx()
	for _, en := range entries {
		m := c.message(en, formats)
		if t := c.heldTable(m.Table); t != nil {
			e.audience(c, t, en, &m, formats)
		}
		res.Messages = append(res.Messages, m)
	}
	e.advance(entries[len(entries)-1].Seq)
	return res
}

// SetViewers takes the viewers of the host's open streams (TickRequest):
// each name is what events gave Subscribe.Viewer, the user as JSON.
func (e *Engine) SetViewers(names []string) {
	if len(names) == len(e.live.viewers) {
		same := true
		for i, v := range e.live.viewers {
			same = same && v.name == names[i]
		}
		if same {
			return // as they were (a native host names them every tick)
		}
	}
	e.live.viewers = e.live.viewers[:0]
	seen := map[string]bool{}
	for _, n := range names {
		var u protocol.CommandUser
		if seen[n] || n == "" || json.Unmarshal([]byte(n), &u) != nil {
			continue
		}
		seen[n] = true
		e.live.viewers = append(e.live.viewers, viewer{name: n, who: principal{user: &rules.User{ID: u.ID, Email: u.Email, Role: u.Role}}})
	}
	sort.Slice(e.live.viewers, func(i, j int) bool { return e.live.viewers[i].name < e.live.viewers[j].name })
}

// viewerName is how a stream of this request names its viewer to the host,
// or "" when it sees every message (an administrator, no rules at all).
func (c *ctx) viewerName() string {
	if c.admin() || c.who.user == nil || len(c.st.rules) == 0 {
		return ""
	}
	u := c.who.user
	return string(jsonBody(&protocol.CommandUser{ID: u.ID, Email: u.Email, Role: u.Role}))
}

// heldTable is the table of a message when row rules decide who gets it.
func (c *ctx) heldTable(name string) *model.Table {
	if name == "" || c.st.rules[name] == nil {
		return nil
	}
	return c.table(name)
}

// audience marks a message of a table row rules hold: the viewers whose
// list rule the row as it is now meets get it (Only); those it met before
// the change and no longer does get a removal (Gone), which says nothing
// of the row but its key they already had.
func (e *Engine) audience(c *ctx, t *model.Table, en Entry, m *protocol.Message, formats protocol.Formats) {
	m.Held = true
	tr := c.st.rules[t.Name]
	now, before := decodeValues(en.New), decodeValues(en.Old)
	for _, v := range e.live.viewers {
		vc := &ctx{e: e, st: c.st, who: v.who}
		switch show, gone := vc.sees(tr, en, now, before); {
		case show:
			m.Only = append(m.Only, v.name)
		case gone:
			m.Gone = append(m.Gone, v.name)
		}
	}
	if len(m.Gone) > 0 {
		g := c.message(removal(en), formats)
		m.GoneAPI, m.GonePage = g.API, g.Page
	}
}

// removal is a change as a delete of the row as it was: what a user it
// took the row away from is told.
func removal(en Entry) Entry {
	en.Op, en.New = "delete", ""
	if en.OldKey != "" {
		en.Key = en.OldKey
	}
	return en
}

// visibleEntry says whether a stream of this request gets a log entry it
// missed (its backlog): as audience decides for the viewer it is.
func (c *ctx) visibleEntry(en Entry) (show, gone bool) {
	t := c.heldTable(en.Table)
	if t == nil || c.admin() {
		return true, false
	}
	return c.sees(c.st.rules[t.Name], en, decodeValues(en.New), decodeValues(en.Old))
}

// schemaMovedUnder: another connection changed the schema since this tick
// reflected it, and wrote too (an outside RENAME TABLE and a write right
// after it, between the tick's schema check and its read of the log: the
// write is logged under the old name and the rename's schema event is not
// logged yet). Only batches holding outside writes ask: this engine's own
// writes cannot fall between the two.
func (e *Engine) schemaMovedUnder(entries []Entry) bool {
	for _, en := range entries {
		if en.Op != "schema" && en.New == "" && en.Old == "" {
			v, err := e.schemaVersion()
			return err == nil && v != e.st.schemaVersion
		}
	}
	return false
}

// skipOwn moves past entries nobody will be told of (the tick's formats are
// none: no stream, no bus) that are all this engine's own row writes: no
// other connection committed (data_version held) and nothing else is
// waiting. Their values were logged exact by the writes themselves, so
// there is nothing to fill, learn or render, and the log's counter says how
// far to go without reading them back, which was most of a write's tick.
// False when the counter cannot be read: the tick reads the log instead.
func (e *Engine) skipOwn() bool {
	seq, ok, err := capture.Sequence(e.db, e.store.LogFloor)
	if err != nil || !ok || seq < e.live.lastSeq {
		return false
	}
	e.advance(seq)
	return true
}

// advance records that the log was read up to seq, pruning it now and then.
func (e *Engine) advance(seq int64) {
	e.live.sincePrune += int(seq - e.live.lastSeq)
	e.live.lastSeq = seq
	if e.live.sincePrune >= 1000 {
		e.live.sincePrune = 0
		e.prune(e.live.lastSeq)
	}
}

// liveCtx is a request context for rendering messages: no request, the
// engine's base path and config.
func (e *Engine) liveCtx() *ctx {
	c := newCtx(e, &protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Headers: map[string]string{}}})
	c.who = principal{admin: true} // the rows are held to rules per stream (audience)
	c.forAll = true
	return c
}

// fillOutside stores the values of changes made by others: the row as it is
// now for the newest change of each row, and the row's previous image as the
// old values. Intermediate states another process went through between two
// ticks are not known, and stay empty rather than wrong.
func (e *Engine) fillOutside(entries []Entry) {
	newest := map[string]int64{}
	for _, en := range entries {
		if en.Op != "schema" {
			newest[en.Table+"\x00"+en.Key] = en.Seq
		}
	}
	began := false
	for i := range entries {
		en := &entries[i]
		if en.Op == "schema" || (en.New != "" && en.Old != "") || en.Op == "delete" && en.Old != "" {
			continue
		}
		t := e.tableOf(en.Table)
		if t == nil {
			continue
		}
		old, new := en.Old, en.New
		if old == "" && en.Op != "insert" {
			k := en.Key
			if en.OldKey != "" {
				k = en.OldKey
			}
			old, _ = capture.PreviousImage(e.db, en.Table, k, en.Seq)
		}
		if new == "" && en.Op != "delete" && newest[en.Table+"\x00"+en.Key] == en.Seq {
			if key, ok := decodeKey(t, en.Key); ok {
				if r, err := (&ctx{e: e, st: e.st, who: principal{admin: true}}).readRow(t, key); err == nil && r != nil {
					new = string(r.objectJSON())
				}
			}
		}
		if old == en.Old && new == en.New {
			continue
		}
		if !began {
			// Never wait on another process's write lock here: a tick runs on
			// the host's only thread. Busy now means the values stay unknown;
			// the events still go out.
			if err := e.store.TryBeginWrite(e.db); err != nil {
				return
			}
			began = true
		}
		if capture.Fill(e.db, en.Seq, old, new) == nil {
			en.Old, en.New = old, new
		}
	}
	if began {
		if _, err := e.db.Exec("COMMIT"); err != nil {
			e.db.Exec("ROLLBACK")
		}
	}
}

// Entry is a change log entry.
type Entry = capture.Entry

// decodeKey reads a log key (a JSON array) into SQL values.
func decodeKey(t *model.Table, key string) ([]any, bool) {
	vals, err := protocol.DecodeValues([]byte(key))
	if err != nil {
		return nil, false
	}
	want := len(t.PK)
	if t.UsesRowKey() {
		want = 1
	}
	if len(vals) != want {
		return nil, false
	}
	return vals, true
}

// keyObject is CONTRACT's "pk" object of a logged key.
func keyObject(t *model.Table, key []any) *schema.Object {
	o := schema.NewObject()
	if t.UsesRowKey() {
		return o.Set(rowidName, key[0])
	}
	for i, c := range t.PK {
		o.Set(c.Name, jsonValue(c, key[i]))
	}
	return o
}

func keyPath(key []any) string {
	parts := make([]string, len(key))
	for i, v := range key {
		parts[i] = EncodeComponent(sqldb.Text(v))
	}
	return strings.Join(parts, ",")
}

// sse formats one server-sent event.
func sse(id int64, event string, data []byte) string {
	return "id: " + strconv.FormatInt(id, 10) + "\nevent: " + event + "\ndata: " + string(data) + "\n\n"
}

// message renders one log entry in the formats asked for (a schema event,
// rare and small, always in both).
func (c *ctx) message(en Entry, formats protocol.Formats) protocol.Message {
	m := protocol.Message{ID: en.Seq, Table: en.Table}
	if en.Op == "schema" {
		var data map[string]json.RawMessage
		json.Unmarshal([]byte(en.New), &data)
		body := jsonBody(newObj("seq", en.Seq, "dsid", data["dsid"], "previous", data["previous"], "changes", c.visibleChanges(data["changes"])))
		m.Table = ""
		m.API = sse(en.Seq, "schema", body)
		m.Page = sse(en.Seq, "nh-schema", body)
		return m
	}
	t := c.e.tableOf(en.Table)
	if t != nil {
		t = c.table(t.Name) // what the caller may see of it
	}
	if t == nil {
		return m // a table gone since, or hidden: nothing to say
	}
	m.Table = t.Name
	key, ok := decodeKey(t, en.Key)
	if !ok {
		return m
	}
	if formats&protocol.FormatAPI != 0 {
		m.API = sse(en.Seq, "change", jsonBody(newObj("seq", en.Seq, "table", t.Name, "op", en.Op, "pk", keyObject(t, key), "dsid", en.DSID)))
	}
	if formats&protocol.FormatPage == 0 {
		return m // the page text, with its row rendered, is most of a message's cost
	}
	page := newObj("seq", en.Seq, "table", t.Name, "op", en.Op, "key", keyPath(key))
	if en.OldKey != "" {
		if old, ok := decodeKey(t, en.OldKey); ok {
			page.Set("oldKey", keyPath(old))
		}
	}
	if en.Op != "delete" && en.New != "" {
		if r := rowFromJSON(t, en.New, key); r != nil {
			page.Set("row", string(c.listRowHTML(t, r)))
			page.Set("values", c.formTexts(t, r))
			page.Set("version", r.version())
		}
	}
	m.Page = sse(en.Seq, "nh-change", jsonBody(page))
	return m
}

// rowFromJSON rebuilds a row from the JSON object the log holds.
func rowFromJSON(t *model.Table, obj string, key []any) *row {
	m, ok := protocol.DecodeObject([]byte(obj))
	if !ok {
		dec := json.NewDecoder(strings.NewReader(obj))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return nil
		}
	}
	r := &row{t: t, vals: make([]any, len(t.Columns))}
	if t.UsesRowKey() && len(key) > 0 {
		r.rowid = key[0]
	}
	for _, col := range t.Columns {
		v, ok := m[col.Name]
		if !ok {
			continue
		}
		r.vals[col.Index] = sqlValue(col, fromJSON(col, v))
	}
	return r
}

// listRowHTML is a row as every list page of its table shows it.
func (c *ctx) listRowHTML(t *model.Table, r *row) []byte {
	fields := c.st.fields[t.Name]
	plans := c.cellPlans(fields, []*row{r})
	lr := c.listRow(t, plans, r, make([]cell, len(plans)))
	return render.ListRow(&lr)
}

// formTexts are a row's values as its edit form's fields hold them.
func (c *ctx) formTexts(t *model.Table, r *row) *schema.Object {
	o := schema.NewObject()
	for _, f := range c.st.fields[t.Name] {
		o.Set(f.Column.Name, fieldText(f, r.get(f.Column)))
	}
	return o
}

// events answers GET /api/events (format api, every table or ?table=) and
// GET /t/{table}/live (format page): the backlog since Last-Event-ID (or
// ?after=), then the host keeps the stream open (PROTOCOL.md, "Live").
func (c *ctx) events(table, format string) *protocol.Response {
	if !c.e.live.enabled {
		return c.fail(503, "live events need a writable database (the change log lives in it)")
	}
	after := int64(-1)
	if s := c.header("last-event-id"); s != "" {
		after, _ = strconv.ParseInt(s, 10, 64)
	} else if s := c.query.Get("after"); s != "" {
		after, _ = strconv.ParseInt(s, 10, 64)
	}
	var b strings.Builder
	b.WriteString("retry: 1000\n\n")
	// An API client gets everything it missed while the log holds it; a page
	// that missed more than a screenful reloads instead of replaying it.
	limit := backlogAPI
	if format == "page" {
		limit = backlogPage
	}
	if after >= 0 && after < c.e.live.lastSeq {
		first, _, _ := capture.Bounds(c.e.db, c.e.store.LogFloor)
		entries, err := capture.After(c.e.db, after, limit)
		switch {
		case err != nil || (first > after+1) || (len(entries) == limit && entries[limit-1].Seq < c.e.live.lastSeq):
			// The log no longer holds what the client missed: say so, and let
			// it reload rather than show a screen with a gap.
			b.WriteString(sse(c.e.live.lastSeq, "reset", jsonBody(newObj("seq", c.e.live.lastSeq, "dsid", c.st.dsid))))
		default:
			for _, en := range entries {
				if en.Seq > c.e.live.lastSeq {
					break // the next tick sends these
				}
				show, gone := c.visibleEntry(en)
				switch {
				case gone:
					en = removal(en)
				case !show:
					continue
				}
				m := c.message(en, protocol.AllFormats)
				if m.Table != "" && table != "" && m.Table != table {
					continue
				}
				if format == "api" {
					b.WriteString(m.API)
				} else {
					b.WriteString(m.Page)
				}
			}
		}
	}
	return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200,
		Headers:   [][2]string{{"content-type", "text/event-stream"}, {"cache-control", "no-store"}, {"x-dsid", c.st.dsid}},
		Subscribe: &protocol.Subscribe{Table: table, Format: format, Viewer: c.viewerName()}}, Body: []byte(b.String())}
}

// visibleChanges leaves out of a schema event what the config hides: changes
// to hidden tables and hidden columns would name them.
func (c *ctx) visibleChanges(raw json.RawMessage) any {
	var changes []schema.Change
	if json.Unmarshal(raw, &changes) != nil {
		return raw
	}
	cfg := c.e.opts.Config
	hidden := func(table, column string) bool {
		tc := cfg.Table(table)
		return model.IsInternal(table) || tc.Hidden || (column != "" && tc.Column(column).Hidden)
	}
	kept := changes[:0]
	for _, ch := range changes {
		if hidden(ch.Table, ch.Column) {
			continue
		}
		if ch.From != "" && (ch.Kind == "table-renamed" && hidden(ch.From, "") || ch.Kind == "column-renamed" && hidden(ch.Table, ch.From)) {
			continue
		}
		kept = append(kept, ch)
	}
	if len(kept) == len(changes) {
		return raw // as stored, byte for byte
	}
	return kept
}
