package sqlite

import (
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/readsql"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
)

// A caller's read is checked by its program: EXPLAIN compiles it without
// running it and lists every step (bindings' hosts differ in what hooks
// their SQLite offers, but all of them can EXPLAIN, so the verdict is the
// same everywhere). A step that could write, a function that reaches
// outside the database, a cursor on the project's own tables or on what
// the config hides, or a column of a table the config hides columns of
// that the program reads, refuses the statement. The host then runs it
// read-only as a second wall (sqldb.Read).

// writeOps are steps only a statement that changes something compiles to
// (a read's temporary tables use Insert and IdxInsert, never OpenWrite).
var writeOps = map[string]bool{
	"OpenWrite": true, "VUpdate": true, "VCreate": true, "VDestroy": true, "VBegin": true, "VRename": true,
	"Vacuum": true, "IncrVacuum": true, "JournalMode": true, "ParseSchema": true, "CreateBtree": true,
	"Destroy": true, "Clear": true, "DropTable": true, "DropIndex": true, "DropTrigger": true,
	"AutoCommit": true, "Savepoint": true, "SqlExec": true, "Checkpoint": true, "Program": true,
	"LoadAnalysis": true, "Expire": true, "FkCheck": true, "TableLock": true,
}

// refusedFunction says why a read may not call name: the authorizer's
// list (sqldb.DeniedFunction), and the functions ATTACH and DETACH
// compile to.
func refusedFunction(name string) string {
	if sqldb.DeniedFunction(name) != "" || strings.EqualFold(name, "sqlite_attach") || strings.EqualFold(name, "sqlite_detach") {
		return "the function " + name + " is not allowed: it reaches outside the database"
	}
	return ""
}

// object is one entry of sqlite_schema with a b-tree.
type object struct {
	kind, name, table string
}

// cursor is what one of the program's cursors reads.
type cursor struct {
	table string // the table whose b-tree (or an index of it) it reads
	index string // the index, when it reads one
	cols  []int  // an index's columns as table column numbers (-1 the rowid)
	// keyHidden names a hidden column the index holds: its order would
	// tell its values, so the program may only count such an index's rows.
	keyHidden string
}

// revealing are steps that read a cursor's entries, or compare with its
// keys (P1 the cursor).
var revealing = map[string]bool{
	"Column": true, "IdxRowid": true, "Rowid": true, "DeferredSeek": true, "RowData": true,
	"SeekGE": true, "SeekGT": true, "SeekLE": true, "SeekLT": true, "SeekScan": true, "SeekHit": true,
	"IdxGE": true, "IdxGT": true, "IdxLE": true, "IdxLT": true,
	"Found": true, "NotFound": true, "NoConflict": true, "IfNoHope": true,
}

// InspectRead: see store.Store.
func (Store) InspectRead(db sqldb.DB, st *readsql.Statement, args []any, r store.ReadRules) (store.Inspection, error) {
	// By the text first: a host whose SQLite lacks a function (ncruces has
	// no load_extension) would otherwise word the refusal its own way.
	for _, f := range st.Calls {
		if why := refusedFunction(f); why != "" {
			return store.Inspection{Refusal: why}, nil
		}
	}
	prog, err := db.Query("EXPLAIN "+st.SQL, args...)
	if err != nil {
		return store.Inspection{}, err
	}
	objs, err := db.Query("SELECT type, name, tbl_name, rootpage FROM sqlite_schema WHERE rootpage > 0")
	if err != nil {
		return store.Inspection{}, err
	}
	roots := map[int64]object{1: {kind: "table", name: "sqlite_schema", table: "sqlite_schema"}}
	for _, o := range objs.Values {
		root, _ := sqldb.Int(o[3])
		roots[root] = object{kind: sqldb.Text(o[0]), name: sqldb.Text(o[1]), table: sqldb.Text(o[2])}
	}
	ins := &inspector{db: db, r: r, cursors: map[int64]*cursor{}, layouts: map[string]*layout{}, seen: map[string]bool{}}
	col := func(name string) int {
		for i, c := range prog.Columns {
			if c == name {
				return i
			}
		}
		return -1
	}
	cAddr, cOp, cP1, cP2, cP3, cP4, cP5 := col("addr"), col("opcode"), col("p1"), col("p2"), col("p3"), col("p4"), col("p5")
	if cOp < 0 || cP1 < 0 || cP2 < 0 {
		return store.Inspection{}, &sqldb.Error{Code: "SQLITE_ERROR", Message: "EXPLAIN gave no program"}
	}
	for i, op := range prog.Values {
		if cAddr >= 0 {
			if a, _ := sqldb.Int(op[cAddr]); a != int64(i) {
				break // a trigger's program: none runs for a read
			}
		}
		p1, _ := sqldb.Int(op[cP1])
		p2, _ := sqldb.Int(op[cP2])
		var p3, p5 int64
		var p4 string
		if cP3 >= 0 {
			p3, _ = sqldb.Int(op[cP3])
		}
		if cP4 >= 0 {
			p4 = sqldb.Text(op[cP4])
		}
		if cP5 >= 0 {
			p5, _ = sqldb.Int(op[cP5])
		}
		why, err := ins.step(sqldb.Text(op[cOp]), p1, p2, p3, p4, p5, roots)
		if err != nil {
			return store.Inspection{}, err
		}
		if ins.hit != nil {
			return store.Inspection{Hidden: ins.hit}, nil
		}
		if why != "" {
			return store.Inspection{Refusal: why}, nil
		}
	}
	return store.Inspection{Tables: ins.tables}, nil
}

type inspector struct {
	db      sqldb.DB
	r       store.ReadRules
	cursors map[int64]*cursor
	layouts map[string]*layout
	tables  []string
	seen    map[string]bool
	hit     *store.Hidden
}

// hide notes the hidden thing the program reaches, and stops the walk.
func (ins *inspector) hide(column bool, name string) string {
	ins.hit = &store.Hidden{Column: column, Name: name}
	return "hidden"
}

const onlyReads = "only a read may run here: this statement would change the database"

func (ins *inspector) step(op string, p1, p2, p3 int64, p4 string, p5 int64, roots map[int64]object) (string, error) {
	if c := ins.cursors[p1]; c != nil && c.keyHidden != "" && revealing[op] {
		return ins.hide(true, c.keyHidden), nil
	}
	switch {
	case writeOps[op]:
		return onlyReads, nil
	case op == "Transaction" && p2 != 0:
		return onlyReads, nil
	case op == "Function" || op == "PureFunc" || op == "AggStep" || op == "AggStep1" || op == "AggFinal":
		name := p4
		if i := strings.IndexByte(name, '('); i >= 0 {
			name = name[:i]
		}
		return refusedFunction(name), nil
	case op == "VOpen":
		if ins.r.Hides {
			return "virtual tables cannot be read here while the config hides tables or columns", nil
		}
	case op == "OpenDup":
		if c := ins.cursors[p2]; c != nil {
			ins.cursors[p1] = c
		}
	case op == "OpenRead" || op == "ReopenIdx":
		if p3 != 0 || p5&0x10 != 0 { // another database, or OPFLAG_P2ISREG: a root page not known here
			return "only the main database may be read", nil
		}
		o, ok := roots[p2]
		if !ok {
			return "the statement reads a b-tree this server does not know (page " + sqldb.FormatNumber(p2) + ")", nil
		}
		return ins.open(p1, o)
	case op == "Column":
		return ins.column(p1, p2)
	case op == "Rowid" || op == "IdxRowid":
		return ins.column(p1, -1)
	}
	return "", nil
}

// open checks a cursor on a table or an index, and notes what it reads.
func (ins *inspector) open(cur int64, o object) (string, error) {
	t := o.table
	low := strings.ToLower(t)
	switch {
	case strings.HasPrefix(low, strings.ToLower(model.Prefix)):
		return store.OwnTables, nil
	case strings.HasPrefix(low, "sqlite_"):
		if ins.r.Hides {
			return "SQLite's own tables (" + t + ") cannot be read here while the config hides tables or columns", nil
		}
		ins.cursors[cur] = &cursor{table: t}
		return "", nil
	case ins.r.HiddenTable(t):
		return ins.hide(false, t), nil
	}
	if !ins.seen[t] {
		ins.seen[t] = true
		ins.tables = append(ins.tables, t)
	}
	c := &cursor{table: t}
	ins.cursors[cur] = c
	l, why, err := ins.layout(t)
	if err != nil || why != "" || l == nil {
		return why, err
	}
	if o.kind != "index" {
		return "", nil
	}
	c.index = o.name
	rows, err := ins.db.Query("SELECT cid FROM pragma_index_xinfo(?)", o.name)
	if err != nil {
		return "", err
	}
	for _, v := range rows.Values {
		cid, _ := sqldb.Int(v[0])
		if cid == -2 {
			return "an index on an expression of " + t + " (" + o.name + ") cannot be read here: the config hides some of its columns", nil
		}
		if l.hidden(int(cid)) && c.keyHidden == "" {
			c.keyHidden = l.name(int(cid))
		}
		c.cols = append(c.cols, int(cid))
	}
	return "", nil
}

// column checks that a cursor's column n (-1: the rowid) is one the caller may read.
func (ins *inspector) column(cur, n int64) (string, error) {
	c := ins.cursors[cur]
	if c == nil {
		return "", nil // a cursor of the program's own (a sorter, a temporary table)
	}
	l := ins.layouts[c.table]
	if l == nil {
		return "", nil // nothing of its table is hidden
	}
	cid := int(n)
	if c.index != "" {
		if n >= 0 && int(n) < len(c.cols) {
			cid = c.cols[n]
		} else if n >= 0 {
			cid = -1
		}
	} else if n >= 0 {
		var ok bool
		if cid, ok = l.fromStorage(int(n)); !ok {
			return "a column of " + c.table + " is read in a way this server cannot check: the config hides some of its columns", nil
		}
	}
	if cid == -1 {
		cid = l.rowidAlias
	}
	if cid >= 0 && l.hidden(cid) {
		return ins.hide(true, l.name(cid)), nil
	}
	return "", nil
}

// layout is how a table with hidden columns stores them.
type layout struct {
	names      []string
	virtual    []bool
	hide       []bool
	rowidAlias int // the INTEGER PRIMARY KEY column, or -1
}

func (l *layout) hidden(cid int) bool { return cid >= 0 && cid < len(l.hide) && l.hide[cid] }
func (l *layout) name(cid int) string {
	if cid >= 0 && cid < len(l.names) {
		return l.names[cid]
	}
	return "?"
}

// fromStorage turns a record's field number into a column number: stored
// columns in order, then the virtual ones (SQLite's
// sqlite3TableColumnToStorage, turned around).
func (l *layout) fromStorage(n int) (int, bool) {
	stored := 0
	for cid, v := range l.virtual {
		if !v {
			if stored == n {
				return cid, true
			}
			stored++
		}
	}
	virt := stored
	for cid, v := range l.virtual {
		if v {
			if virt == n {
				return cid, true
			}
			virt++
		}
	}
	return 0, false
}

// layout reads table t's columns when the config hides one of them (nil
// when it hides none). A WITHOUT ROWID table stores its columns in its
// key's order, which its program's column numbers follow; such a table
// with hidden columns is refused whole.
func (ins *inspector) layout(t string) (*layout, string, error) {
	if l, ok := ins.layouts[t]; ok {
		return l, "", nil
	}
	rows, err := ins.db.Query("SELECT name, hidden, pk, lower(type) FROM pragma_table_xinfo(?) ORDER BY cid", t)
	if err != nil {
		return nil, "", err
	}
	l := &layout{rowidAlias: -1}
	some, pks, intPK := false, 0, -1
	for i, v := range rows.Values {
		name := sqldb.Text(v[0])
		h, _ := sqldb.Int(v[1])
		pk, _ := sqldb.Int(v[2])
		hide := ins.r.HiddenColumn(t, name)
		some = some || hide
		l.names = append(l.names, name)
		l.virtual = append(l.virtual, h == 2)
		l.hide = append(l.hide, hide)
		if pk > 0 {
			pks++
			if sqldb.Text(v[3]) == "integer" {
				intPK = i
			}
		}
	}
	if !some {
		ins.layouts[t] = nil
		return nil, "", nil
	}
	wr, err := ins.db.Query("SELECT wr FROM pragma_table_list(?) WHERE schema = 'main'", t)
	if err != nil {
		return nil, "", err
	}
	if len(wr.Values) == 1 {
		if w, _ := sqldb.Int(wr.Values[0][0]); w != 0 {
			return nil, t + " is a WITHOUT ROWID table whose columns the config partly hides: it cannot be read here", nil
		}
	}
	if pks == 1 && intPK >= 0 {
		l.rowidAlias = intPK
	}
	ins.layouts[t] = l
	return l, "", nil
}

// RunRead: see store.Store. The host runs it where it can hold it to the
// rules (sqldb.Read).
func (Store) RunRead(db sqldb.DB, sql string, args []any, r sqldb.Read) (*sqldb.Rows, error) {
	return sqldb.RunRead(db, sql, args, r)
}
