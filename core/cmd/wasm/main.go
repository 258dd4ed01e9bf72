//go:build wasip1

// Command wasm is the core compiled as a WASI reactor (see bindings/PROTOCOL.md):
//
//	make build (the go build line with its flags is in bindings/PROTOCOL.md, "Build")
//
// It only moves bytes between the host and core/engine; everything else lives
// in the engine, which the native Go host links directly.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"unsafe"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
	"github.com/nakedhtmx/nakedhtmx/core/store/postgres"
)

func main() {}

// Collect between calls, not during them. The core allocates per request
// and keeps little, and a wasm module has one thread: Go's background mark
// worker only runs when the core's goroutine yields, which it never does
// inside an export. A collection the pacer started mid-request therefore
// crept along on allocation assists across many requests, with the write
// barrier on for all of them; on a list page that barrier was 18% of the
// time. So the pacer is off, and after each call that allocated more than
// collectEvery since the last collection, one whole collection runs at
// once. The soft limit stays the backstop: one call that allocates past it
// is collected inside the call, and the module's memory (which wasm never
// gives back) stays bounded as before.
func init() {
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(192 << 20)
}

const (
	collectEvery = 16 << 20
	checkEvery   = 8
)

var (
	callsSince int
	mem        runtime.MemStats
	lastCollAt uint64
)

// collectBetween runs a collection when the calls since the last one
// allocated collectEvery bytes; the exports that do work call it last.
// Reading the count is itself a few percent of a small call's time in the
// wasm core, so it is read every checkEvery calls: a collection comes at
// most that many calls late, and the soft limit still bounds a call that
// allocates much. ReadMemStats, not runtime/metrics: the metrics' table is
// 29 KB of code in a module with a 2 MiB gzipped budget, and with one
// thread its stop-the-world stops nothing.
func collectBetween() {
	if callsSince++; callsSince < checkEvery {
		return
	}
	callsSince = 0
	runtime.ReadMemStats(&mem)
	if mem.TotalAlloc-lastCollAt >= collectEvery {
		runtime.GC()
		runtime.ReadMemStats(&mem)
		lastCollAt = mem.TotalAlloc
	}
}

// buffers keeps every buffer handed to the host reachable until nh_free, so the
// Go GC does not reclaim memory the host is still reading or writing.
var buffers = map[uintptr][]byte{}

//go:wasmexport nh_alloc
func nhAlloc(size uint32) uint32 {
	if size == 0 {
		size = 1
	}
	b := make([]byte, size)
	p := uintptr(unsafe.Pointer(&b[0]))
	buffers[p] = b
	return uint32(p)
}

//go:wasmexport nh_free
func nhFree(ptr uint32) { delete(buffers, uintptr(ptr)) }

// take returns an input buffer's bytes and releases it from the map; the slice
// stays valid because it is still referenced by the caller.
func take(ptr, size uint32) []byte {
	b := buffers[uintptr(ptr)]
	delete(buffers, uintptr(ptr))
	if b == nil || uint32(len(b)) < size {
		return nil
	}
	return b[:size]
}

// give hands out bytes to the host as a packed (ptr << 32 | len).
func give(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	p := uintptr(unsafe.Pointer(&b[0]))
	buffers[p] = b
	return uint64(p)<<32 | uint64(len(b))
}

//go:wasmimport nakedhtmx sql
func hostSQL(ptr, size uint32) uint64

//go:wasmimport nakedhtmx log
func hostLog(ptr, size uint32)

func logf(format string, args ...any) {
	b := []byte(fmt.Sprintf(format, args...))
	if len(b) > 0 {
		hostLog(uint32(uintptr(unsafe.Pointer(&b[0]))), uint32(len(b)))
	}
}

// hostDB is sqldb.DB over the `sql` import.
type hostDB struct{}

// reqBuf is reused for every SQL request: the host reads it during the call
// and the core is single-threaded, so nothing else can be using it.
var reqBuf []byte

// laneWrites: every statement goes to the host marked unbounded, so the TS
// hosts run it on their lane's connection (sqldb.Laned).
var laneWrites bool

// LaneWrites marks the statements of a write for the host's lane.
func (hostDB) LaneWrites(on bool) { laneWrites = on }

// laneFlag is FlagUnbounded while a write goes to the host's lane.
func laneFlag() byte {
	if laneWrites {
		return protocol.FlagUnbounded
	}
	return 0
}

// ahead holds the statements queued ahead of the next one (sqldb.Ahead).
var ahead []sqldb.Stmt

// begin starts a message in reqBuf with what is queued ahead, each flagged
// FlagThen but the last when ends (they are the whole message), and
// empties the queue. A value the binary form cannot carry fails the
// message, so the statement that would have followed fails with it.
func begin(ends bool) ([]byte, error) {
	in := reqBuf[:0]
	var err error
	for i, st := range ahead {
		f := laneFlag() | protocol.FlagThen
		if ends && i == len(ahead)-1 {
			f &^= protocol.FlagThen
		}
		if in, err = protocol.AppendSQLRequestBinary(in, st.SQL, st.Args, f); err != nil {
			break
		}
	}
	clear(ahead)
	ahead = ahead[:0]
	return in, err
}

func (h hostDB) call(sql string, params []any, flags byte) (protocol.SQLAnswer, error) {
	// What is queued ahead goes first, in the same message (sqldb.Ahead).
	in, err := begin(false)
	if err == nil {
		in, err = protocol.AppendSQLRequestBinary(in, sql, params, flags|laneFlag())
	}
	if err != nil {
		return protocol.SQLAnswer{}, err
	}
	reqBuf = in
	return h.send(in)
}

// QueryBatch sends the reads in one message, each kept (FlagKeep), and
// reads the answer of several results (sqldb.Batcher).
func (h hostDB) QueryBatch(stmts []sqldb.Stmt) ([]*sqldb.Rows, error) {
	in, err := begin(false)
	for i, st := range stmts {
		if err != nil {
			return nil, err
		}
		f := protocol.FlagRowsOnly | laneFlag()
		if i < len(stmts)-1 {
			f |= protocol.FlagThen | protocol.FlagKeep
		}
		in, err = protocol.AppendSQLRequestBinary(in, st.SQL, st.Args, f)
	}
	if err != nil {
		return nil, err
	}
	reqBuf = in
	out, err := h.sendRaw(in)
	if err != nil {
		return nil, err
	}
	parts, err := protocol.SplitResults(out)
	if err == nil && len(parts) == 1 && len(stmts) > 1 {
		if _, err := answerOf(parts[0]); err != nil {
			return nil, err // a failure is answered alone
		}
	}
	if err != nil || len(parts) != len(stmts) {
		return nil, fmt.Errorf("host SQL results: %d for %d reads (%v)", len(parts), len(stmts), err)
	}
	rows := make([]*sqldb.Rows, len(parts))
	for i, p := range parts {
		res, err := answerOf(p)
		if err != nil {
			return nil, err
		}
		rows[i] = &sqldb.Rows{Columns: res.Columns, Values: res.Rows}
	}
	return rows, nil
}

// Ahead queues a statement to go with the next one (sqldb.Ahead).
func (hostDB) Ahead(sql string, args []any) { ahead = append(ahead, sqldb.Stmt{SQL: sql, Args: args}) }

// FlushAhead sends what is queued on its own.
func (h hostDB) FlushAhead() error {
	if len(ahead) == 0 {
		return nil
	}
	in, err := begin(true)
	if err != nil {
		return err
	}
	reqBuf = in
	_, err = h.send(in)
	return err
}

// DropAhead forgets what is queued.
func (hostDB) DropAhead() {
	clear(ahead)
	ahead = ahead[:0]
}

// send passes one encoded SQL message to the host and reads its answer.
func (h hostDB) send(in []byte) (protocol.SQLAnswer, error) {
	out, err := h.sendRaw(in)
	if err != nil {
		return protocol.SQLAnswer{}, err
	}
	return answerOf(out)
}

// sendRaw passes one encoded SQL message to the host and returns the bytes
// of its answer, parking when the store answers later.
func (hostDB) sendRaw(in []byte) ([]byte, error) {
	packed := hostSQL(uint32(uintptr(unsafe.Pointer(&in[0]))), uint32(len(in)))
	out := take(uint32(packed>>32), uint32(packed))
	if len(out) == 1 && out[0] == laterAnswer {
		// The store answers later: park until nh_resume brings it.
		j := parked
		if j == nil {
			return nil, &sqldb.Error{Code: "SQLITE_MISUSE", Message: "the store answered later to a call made without nh_start"}
		}
		j.needIO <- struct{}{}
		out = <-j.resume
	}
	if out == nil {
		return nil, &sqldb.Error{Code: "SQLITE_ERROR", Message: "host returned no SQL result"}
	}
	return out, nil
}

// answerOf decodes one result. out is that answer's own buffer: nothing
// writes it again, so the answer may share it.
func answerOf(out []byte) (protocol.SQLAnswer, error) {
	res, err := protocol.DecodeSQLResultShared(out)
	if err != nil {
		return protocol.SQLAnswer{}, fmt.Errorf("host SQL result: %w", err)
	}
	if res.Error != "" {
		code := res.Code
		if code == "" {
			code = "SQLITE_ERROR"
		}
		return protocol.SQLAnswer{}, &sqldb.Error{Code: code, Message: res.Error}
	}
	return res, nil
}

func (h hostDB) Query(sql string, args ...any) (*sqldb.Rows, error) {
	return h.query(sql, args, 0)
}

// QueryUnbounded marks the read for the host (sqldb.Unbounded).
func (h hostDB) QueryUnbounded(sql string, args ...any) (*sqldb.Rows, error) {
	return h.query(sql, args, protocol.FlagUnbounded)
}

func (h hostDB) query(sql string, args []any, flags byte) (*sqldb.Rows, error) {
	res, err := h.call(sql, args, flags|protocol.FlagRowsOnly)
	if err != nil {
		return nil, err
	}
	return &sqldb.Rows{Columns: res.Columns, Values: res.Rows}, nil
}

func (h hostDB) Exec(sql string, args ...any) (sqldb.Result, error) {
	res, err := h.call(sql, args, 0)
	if err != nil {
		return sqldb.Result{}, err
	}
	return sqldb.Result{Changes: res.Changes, LastInsertID: res.LastInsertRowid}, nil
}

func (h hostDB) Script(sql string) error {
	_, err := h.call(sql, nil, protocol.FlagScript)
	return err
}

// Caller sends the script as JSON with its guard (PROTOCOL.md, "Caller
// SQL"): rare enough that the binary encoding has no room for it.
func (h hostDB) Caller(sql string, g sqldb.Guard) error {
	if err := h.FlushAhead(); err != nil { // JSON carries one request: what is queued goes first
		return err
	}
	in, err := json.Marshal(protocol.SQLRequest{SQL: sql, Script: true, Caller: &g})
	if err != nil {
		return err
	}
	_, err = h.send(in)
	return err
}

// Read sends a caller's read as JSON with its rules (PROTOCOL.md, "Caller
// reads"), as Caller does.
func (h hostDB) Read(sql string, args []any, r sqldb.Read) (*sqldb.Rows, error) {
	if err := h.FlushAhead(); err != nil {
		return nil, err
	}
	in, err := json.Marshal(protocol.SQLRequest{SQL: sql, Params: protocol.Values(args), Read: &r})
	if err != nil {
		return nil, err
	}
	res, err := h.send(in)
	if err != nil {
		return nil, err
	}
	return &sqldb.Rows{Columns: res.Columns, Values: res.Rows}, nil
}

// file sends a file request (PROTOCOL.md, "Files"): JSON, {"file": ...}
// and nothing else.
func (h hostDB) file(f protocol.FileRequest) (protocol.SQLAnswer, error) {
	if err := h.FlushAhead(); err != nil {
		return protocol.SQLAnswer{}, err
	}
	in, err := json.Marshal(protocol.SQLRequest{File: &f})
	if err != nil {
		return protocol.SQLAnswer{}, err
	}
	return h.send(in)
}

// PutFile keeps a file column's file (sqldb.Files).
func (h hostDB) PutFile(key string, data []byte) error {
	_, err := h.file(protocol.FileRequest{Op: "put", Key: key, Data: data})
	return err
}

// GetFile reads one back; sqldb.ErrNoFile when the host has none.
func (h hostDB) GetFile(key string) ([]byte, error) {
	res, err := h.file(protocol.FileRequest{Op: "get", Key: key})
	if sqldb.Code(err) == "NOT_FOUND" {
		return nil, sqldb.ErrNoFile
	}
	if err != nil {
		return nil, err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return nil, fmt.Errorf("host file answer: want one value")
	}
	switch b := res.Rows[0][0].(type) {
	case []byte:
		return bytes.Clone(b), nil // the answer's buffer is shared (DecodeSQLResultShared)
	case nil:
		return []byte{}, nil
	}
	return nil, fmt.Errorf("host file answer: not bytes")
}

// DeleteFile lets a file go.
func (h hostDB) DeleteFile(key string) error {
	_, err := h.file(protocol.FileRequest{Op: "delete", Key: key})
	return err
}

var eng *engine.Engine

//go:wasmexport nh_open
func nhOpen(ptr, size uint32) uint64 { return give(openJob(take(ptr, size))) }

func openJob(in []byte) (out []byte) {
	defer func() {
		if r := recover(); r != nil {
			out = mustJSON(protocol.OpenResult{Error: fmt.Sprint("core panic: ", r)})
		}
	}()
	var req protocol.OpenRequest
	if err := json.Unmarshal(in, &req); err != nil {
		return mustJSON(protocol.OpenResult{Error: "open request: " + err.Error()})
	}
	raw := req.Config
	if req.ConfigText != nil {
		raw = []byte(*req.ConfigText)
	}
	cfg, err := engine.ParseConfig(raw)
	if err != nil {
		return mustJSON(protocol.OpenResult{Error: err.Error()})
	}
	opts := engine.Options{BasePath: req.BasePath, Config: cfg, Host: req.Host, AuthToken: req.AuthToken, Log: logf,
		LiveAfter: req.LiveAfter, WriteMode: req.Write, Node: req.Node, AllowedHosts: req.AllowedHosts,
		KeepJournalMode: req.KeepJournalMode, ConfigWritable: req.ConfigText != nil, Offline: req.Offline}
	if req.ConfigText != nil {
		opts.ConfigText = raw
	}
	if opts.Store, err = storeOf(req); err != nil {
		return mustJSON(protocol.OpenResult{Error: err.Error()})
	}
	if len(req.Replica) > 0 {
		if opts.Replica, opts.Config, err = engine.ParseReplica(req.Replica); err != nil {
			return mustJSON(protocol.OpenResult{Error: err.Error()})
		}
	}
	if eng != nil {
		eng.SetOptions(opts)
		return mustJSON(protocol.OpenResult{DSID: eng.DSID(), Seq: eng.LiveSeq(), StatementMs: eng.StatementLimitMs()})
	}
	e, err := engine.Open(hostDB{}, opts)
	if err != nil {
		return mustJSON(protocol.OpenResult{Error: err.Error()})
	}
	eng = e
	return mustJSON(protocol.OpenResult{DSID: e.DSID(), Seq: e.LiveSeq(), StatementMs: e.StatementLimitMs()})
}

//go:wasmexport nh_handle
func nhHandle(ptr, size uint32) uint64 {
	defer collectBetween() // after give: the answer is reachable from buffers
	return give(handleJob(take(ptr, size)))
}

func handleJob(in []byte) []byte {
	if eng == nil {
		return protocol.EncodeFrame(protocol.ResponseHead{Status: 503}, []byte("core not opened"))
	}
	req, err := protocol.DecodeRequest(in)
	if err != nil {
		return protocol.EncodeFrame(protocol.ResponseHead{Status: 400,
			Headers: [][2]string{{"content-type", "text/plain; charset=utf-8"}}}, []byte(err.Error()))
	}
	res := eng.Handle(req)
	return protocol.EncodeFrame(res.ResponseHead, res.Body)
}

// applyRequest is nh_apply's input: one command from the stream and its
// stream sequence.
type applyRequest struct {
	Command *protocol.Command `json:"command"`
	Seq     uint64            `json:"seq"`
}

//go:wasmexport nh_apply
func nhApply(ptr, size uint32) uint64 {
	defer collectBetween() // after give: the answer is reachable from buffers
	return give(applyJob(take(ptr, size)))
}

func applyJob(in []byte) []byte {
	var req applyRequest
	if err := json.Unmarshal(in, &req); err != nil || req.Command == nil {
		return mustJSON(protocol.ApplyResult{Status: 400, Error: fmt.Sprint("apply request: ", err)})
	}
	if eng == nil {
		return mustJSON(protocol.ApplyResult{ID: req.Command.ID, Seq: req.Seq, Status: 503, Error: "the core is not open"})
	}
	return mustJSON(eng.Apply(req.Command, req.Seq))
}

// storeOf is the store an open or uninstall request names (nil: SQLite,
// the engine's default).
func storeOf(req protocol.OpenRequest) (store.Store, error) {
	switch req.Store {
	case "", "sqlite":
		return nil, nil
	case "postgres":
		return postgres.New(req.PGSchema), nil
	}
	return nil, errors.New("unknown store " + strconv.Quote(req.Store) + ": want sqlite or postgres")
}

// nh_uninstall removes what nakedhtmx added to the database (engine.Uninstall);
// called instead of nh_open, never after it.
//
//go:wasmexport nh_uninstall
func nhUninstall() uint64 { return give(uninstallJob(nil)) }

// uninstallJob: in is {"store", "pgSchema"} as in nh_open's request (empty:
// SQLite). Through nh_start (job 5) a store that answers later is uninstalled
// too: Postgres drops its schema "_nakedhtmx" and the capture triggers.
func uninstallJob(in []byte) (out []byte) {
	defer func() {
		if r := recover(); r != nil {
			out = mustJSON(engine.UninstallReport{Error: fmt.Sprint("core panic: ", r)})
		}
	}()
	if eng != nil {
		return mustJSON(engine.UninstallReport{Error: "uninstall after open"})
	}
	var req protocol.OpenRequest
	if len(in) > 0 {
		if err := json.Unmarshal(in, &req); err != nil {
			return mustJSON(engine.UninstallReport{Error: "uninstall request: " + err.Error()})
		}
	}
	s, err := storeOf(req)
	if err != nil {
		return mustJSON(engine.UninstallReport{Error: err.Error()})
	}
	rep, err := engine.Uninstall(hostDB{}, s)
	if err != nil {
		rep.Error = err.Error()
	}
	return mustJSON(rep)
}

//go:wasmexport nh_outbox
func nhOutbox() uint64 { return give(outboxJob()) }

func outboxJob() []byte {
	if eng == nil {
		return []byte(`{"commands":[]}`)
	}
	return mustJSON(eng.Outbox())
}

//go:wasmexport nh_tick
func nhTick(ptr, size uint32) uint64 {
	defer collectBetween() // after give: the answer is reachable from buffers
	var in []byte
	if size > 0 {
		in = take(ptr, size)
	}
	return give(tickJob(in))
}

func tickJob(in []byte) []byte {
	formats := protocol.AllFormats // no input: every format
	var version *int64
	if len(in) > 0 {
		if req, err := protocol.DecodeTickRequest(in); err == nil {
			if req.Formats != nil { // absent: every format
				formats = protocol.ParseFormats(req.Formats)
			}
			version = req.SchemaVersion
			if req.Viewers != nil && eng != nil {
				eng.SetViewers(*req.Viewers)
			}
		}
	}
	if eng == nil {
		return []byte(`{}`)
	}
	return protocol.AppendTickResult(nil, eng.TickWith(formats, version))
}

// Asynchronous stores (PROTOCOL.md, "Stores that answer later"): nh_start
// runs one of the calls above on a goroutine of its own; when the host's
// `sql` import answers "later" (laterAnswer), that goroutine parks and
// nh_start returns "needs I/O"; nh_resume hands it the answer and waits
// again. One call at a time: the host starts the next when this one is done.
const laterAnswer = 0x02

// Job kinds of nh_start, and what nh_start and nh_resume answer first.
var jobs = [...]func([]byte) []byte{
	0: openJob, 1: handleJob, 2: tickJob, 3: applyJob,
	4: func([]byte) []byte { return outboxJob() },
	5: uninstallJob,
}

const (
	jobDone   = 0 // the call's answer follows
	jobNeedIO = 1 // the store was asked and answers later: nh_resume with its answer
	jobFailed = 2 // the host misused the protocol: a message follows
)

type job struct {
	done   chan []byte
	needIO chan struct{}
	resume chan []byte
}

// parked is the call under way, or nil.
var parked *job

//go:wasmexport nh_start
func nhStart(kind, ptr, size uint32) uint64 {
	in := take(ptr, size)
	switch {
	case parked != nil:
		return give(append([]byte{jobFailed}, "a call is under way: finish it (nh_resume) first"...))
	case int(kind) >= len(jobs):
		return give(append([]byte{jobFailed}, "no such call"...))
	}
	j := &job{done: make(chan []byte, 1), needIO: make(chan struct{}), resume: make(chan []byte)}
	parked = j
	go func() { j.done <- jobs[kind](in) }()
	return j.wait()
}

//go:wasmexport nh_resume
func nhResume(ptr, size uint32) uint64 {
	in := take(ptr, size)
	if parked == nil {
		return give(append([]byte{jobFailed}, "no call is waiting for the store"...))
	}
	parked.resume <- in
	return parked.wait()
}

func (j *job) wait() uint64 {
	select {
	case out := <-j.done:
		parked = nil
		defer collectBetween() // after give: the answer is reachable from buffers
		return give(append([]byte{jobDone}, out...))
	case <-j.needIO:
		return give([]byte{jobNeedIO})
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
