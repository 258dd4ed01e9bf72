// Package nakedhtmx runs the nakedhtmx core (dist/core.wasm) in a Go program
// through wazero, with SQLite from bindings/go/sqlite: the Go counterpart of
// the Deno, Bun and Node hosts in bindings/ts. A Host is an http.Handler:
//
//	h, err := nakedhtmx.New(ctx, nakedhtmx.Options{DB: "app.db", BasePath: "/admin"})
//	...
//	http.Handle("/admin/", h)
//	srv.RegisterOnShutdown(h.EndStreams) // live event streams end on shutdown
//
// The seam between this package and the core is bindings/PROTOCOL.md; read it
// before changing anything here. Programs that can link the core directly
// should rather use the native host (core/cmd/nakedhtmx), which skips wasm.
package nakedhtmx

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/browserset"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/filedir"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/httphost"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// DefaultWasmPath is where `make build` puts the core, relative to the
// repository root.
const DefaultWasmPath = "dist/core.wasm"

// HostName is what this host calls itself in the core's OpenRequest.
const HostName = "go-wazero"

// Options configure a Host. They mirror the CLI flags.
type Options struct {
	// Wasm is the core module; when nil it is read from WasmPath
	// (DefaultWasmPath when empty).
	Wasm     []byte
	WasmPath string
	// DB is the SQLite database file, created when missing, or a
	// postgres:// URL (PGSchema names the schema served; "" is public).
	DB       string
	PGSchema string
	// BasePath is the path the app is mounted under ("" or "/admin"); every
	// URL the core emits starts with it.
	BasePath string
	// Config is the contents of nakedhtmx.json, passed to the core as is
	// (nil for none).
	Config json.RawMessage
	// ConfigWritable: the embedder writes back the config edits the core
	// hands it (a stored query saved from the SQL page; PROTOCOL.md,
	// "Config"), so Config is passed as the file's text.
	ConfigWritable bool
	// AuthToken, when set, is required on every request (see CONTRACT.md).
	AuthToken string
	// AllowedHosts are the Host names requests may carry besides localhost,
	// 127.0.0.1 and [::1] (NAME or NAME:PORT): the names an embedding
	// server is reached by. Any other Host is answered 421 (DNS rebinding).
	AllowedHosts []string
	// KeepJournalMode leaves the file's journal mode as it is instead of
	// switching it to WAL.
	KeepJournalMode bool
	// CacheDir holds wazero's compiled code between runs, which turns a cold
	// start of over a second into tens of milliseconds. Empty means
	// os.UserCacheDir()/nakedhtmx/wazero; NoCache disables the file cache.
	CacheDir string
	NoCache  bool
	// Log receives the core's log lines and anything the module prints;
	// nil means os.Stderr. Never stdout: stdout belongs to the CLI's URL line.
	Log io.Writer
	// MaxBody caps request bodies in ServeHTTP; 0 means 10 MiB.
	MaxBody int64
	// Write is "direct" (default) or "jetstream": writes become commands
	// (protocol.Command) that the embedder publishes and every node applies
	// through Apply. Node names this node in them.
	Write, Node string
	// FilesDir is where file columns keep their files; empty: the
	// config's files.dir (relative to the working directory), else beside
	// the SQLite file (filedir.Default).
	FilesDir string
	// BrowserSet is the offline service worker's files (browserset.Beside
	// the core.wasm): served at BasePath/offline/, and the pages register
	// the worker unless the config says "offline": false. Nil: none.
	BrowserSet *browserset.Set
}

// store is the connection the core's SQL runs on: SQLite
// (bindings/go/sqlite) or Postgres (bindings/go/postgres).
type store interface {
	HandleSQL(in []byte) []byte
	SetFilesDir(path string)
	Query(sql string, args ...any) (*sqldb.Rows, error)
	Limit(time.Duration)
	Close() error
}

// Host is one instance of the core over one database. Its methods are safe
// for concurrent use; calls into the module are serialized because the module
// is single-threaded.
type Host struct {
	mu       sync.Mutex
	log      io.Writer
	db       store
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	inst     *instance // nil after a trap, until the next call re-creates it
	open     protocol.OpenRequest
	dsid     string
	// statementLimit is the core's time limit on a request's statements.
	statementLimit time.Duration
	// delivered is the id of the last live message handed out (or where the
	// core started); a core re-opened after a trap goes on from there.
	delivered int64
	opened    bool
	noOpen    bool // Uninstall: instantiate without nh_open
	http      *httphost.Adapter
	live      *httphost.Hub // ServeHTTP's event streams; ticks from the first ServeHTTP on
	closed    bool
	// viewers are the stream viewers viewersTold (an instance) last heard.
	viewers     []string
	viewersTold *instance
}

// instance is one instantiation of the module with its exports.
type instance struct {
	mod                       api.Module
	alloc, free, open, handle api.Function
	tick, apply, outbox       api.Function
}

// ErrClosed is returned by calls on a closed Host.
var ErrClosed = errors.New("nakedhtmx: host is closed")

// New opens the database, instantiates the core and opens it (which reflects
// the database and computes the DSID).
func New(ctx context.Context, opts Options) (*Host, error) {
	h, err := prepare(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err = h.instantiate(ctx); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// Uninstall removes everything nakedhtmx added to the database opts.DB names
// (nh_uninstall, PROTOCOL.md): the names removed and the journal mode set
// back ("" when unchanged). It never opens the core, which would install.
func Uninstall(ctx context.Context, opts Options) (removed []string, journalMode string, err error) {
	h, err := prepare(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	defer h.Close()
	h.noOpen = true
	if err := h.instantiate(ctx); err != nil {
		return nil, "", err
	}
	var out []byte
	if h.open.Store == "postgres" {
		// nh_uninstall takes no store: job 5 of nh_start does, and since
		// this host's sql import answers at once, it finishes in one call.
		start := h.inst.mod.ExportedFunction("nh_start")
		if start == nil {
			return nil, "", errors.New("core module: no nh_start export")
		}
		in, _ := json.Marshal(protocol.OpenRequest{Store: "postgres", PGSchema: h.open.PGSchema})
		if out, err = h.call(ctx, start, in, 5); err != nil {
			return nil, "", err
		}
		if len(out) == 0 || out[0] != 0 {
			return nil, "", fmt.Errorf("core module: nh_start did not finish the uninstall: %q", out)
		}
		out = out[1:]
	} else {
		fn := h.inst.mod.ExportedFunction("nh_uninstall")
		if fn == nil {
			return nil, "", errors.New("core module: no nh_uninstall export")
		}
		r, err := fn.Call(ctx)
		if err != nil {
			return nil, "", h.trapped(ctx, "nh_uninstall", err)
		}
		if out, err = h.take(ctx, r[0]); err != nil {
			return nil, "", err
		}
	}
	var res struct {
		Removed     []string `json:"removed"`
		JournalMode string   `json:"journalMode"`
		Error       string   `json:"error"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, "", fmt.Errorf("core uninstall result %.100q: %w", out, err)
	}
	if res.Error != "" {
		return nil, "", errors.New(res.Error)
	}
	return res.Removed, res.JournalMode, nil
}

// prepare opens the database and compiles the core, without instantiating it.
func prepare(ctx context.Context, opts Options) (_ *Host, err error) {
	wasm := opts.Wasm
	if wasm == nil {
		path := opts.WasmPath
		if path == "" {
			path = DefaultWasmPath
		}
		if wasm, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("core module: %w (build it with `make build`)", err)
		}
	}
	// "/admin/" and "/admin" mean the same mount point; the protocol wants
	// the form without the trailing slash.
	opts.BasePath = strings.TrimRight(opts.BasePath, "/")
	h := &Host{log: opts.Log}
	if h.log == nil {
		h.log = os.Stderr
	}
	config := opts.Config
	if len(config) == 0 {
		config = json.RawMessage("null")
	}
	h.open = protocol.OpenRequest{BasePath: opts.BasePath, Config: config, Host: HostName, AuthToken: opts.AuthToken,
		Write: opts.Write, Node: opts.Node, AllowedHosts: opts.AllowedHosts,
		KeepJournalMode: opts.KeepJournalMode, Offline: opts.BrowserSet != nil}
	if opts.ConfigWritable {
		h.open.ConfigText = configText(opts.Config)
	}
	h.live = &httphost.Hub{Ticker: h, ErrorLog: h.logf}
	h.http = &httphost.Adapter{Handler: h, BasePath: opts.BasePath, MaxBody: opts.MaxBody, ErrorLog: h.logf, Live: h.live,
		Offline: opts.BrowserSet}
	if opts.AuthToken != "" {
		h.http.ProbeBodiesOver = httphost.SignedOutMaxBody
	}

	if postgres.IsURL(opts.DB) {
		pg, err := postgres.Open(opts.DB, opts.PGSchema)
		if err != nil {
			return nil, err
		}
		h.db, h.open.Store, h.open.PGSchema = pg, "postgres", pg.Schema()
	} else if h.db, err = sqlite.Open(opts.DB); err != nil {
		return nil, err
	}
	if opts.FilesDir == "" {
		opts.FilesDir = filedir.Default(opts.DB, opts.Config, "")
	}
	h.db.SetFilesDir(opts.FilesDir)
	defer func() {
		if err != nil {
			h.Close()
		}
	}()

	rc := wazero.NewRuntimeConfig()
	if cache := compilationCache(opts); cache != nil {
		rc = rc.WithCompilationCache(cache)
	}
	h.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err = wasi_snapshot_preview1.Instantiate(ctx, h.rt); err != nil {
		return nil, fmt.Errorf("wasi: %w", err)
	}
	_, err = h.rt.NewHostModuleBuilder("nakedhtmx").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(h.sqlImport), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}).
		Export("sql").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(h.logImport), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, nil).
		Export("log").
		Instantiate(ctx)
	if err != nil {
		return nil, fmt.Errorf("host module: %w", err)
	}
	if h.compiled, err = h.rt.CompileModule(ctx, wasm); err != nil {
		return nil, fmt.Errorf("core module: %w", err)
	}
	return h, nil
}

// compilationCache returns the file cache, or nil when disabled or when no
// cache directory can be made (then every start compiles, which is slower
// but works).
func compilationCache(opts Options) wazero.CompilationCache {
	if opts.NoCache {
		return nil
	}
	dir := opts.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil
		}
		dir = filepath.Join(base, "nakedhtmx", "wazero")
	}
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil
	}
	return cache
}

// instantiate creates a fresh instance (running _initialize) and opens the
// core with the current OpenRequest.
func (h *Host) instantiate(ctx context.Context) error {
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous, so a re-instantiation after a trap never clashes
		WithStartFunctions("_initialize").
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader).
		// The module's stdout would corrupt the CLI's one-line stdout contract.
		WithStdout(h.log).
		WithStderr(h.log)
	mod, err := h.rt.InstantiateModule(ctx, h.compiled, cfg)
	if err != nil {
		return fmt.Errorf("core module: %w", err)
	}
	inst := &instance{mod: mod}
	for name, fn := range map[string]*api.Function{
		"nh_alloc": &inst.alloc, "nh_free": &inst.free, "nh_open": &inst.open,
		"nh_handle": &inst.handle, "nh_tick": &inst.tick, "nh_apply": &inst.apply, "nh_outbox": &inst.outbox,
	} {
		if *fn = mod.ExportedFunction(name); *fn == nil {
			mod.Close(ctx)
			return fmt.Errorf("core module: no %s export; is this a nakedhtmx core?", name)
		}
	}
	h.inst = inst
	if h.noOpen {
		return nil
	}
	if err := h.callOpen(ctx); err != nil {
		h.discard(ctx)
		return err
	}
	return nil
}

// callOpen sends the current OpenRequest to the core.
func (h *Host) callOpen(ctx context.Context) error {
	if h.opened {
		after := h.delivered
		h.open.LiveAfter = &after
	}
	in, err := json.Marshal(h.open)
	if err != nil {
		return fmt.Errorf("open request: %w", err)
	}
	out, err := h.call(ctx, h.inst.open, in)
	if err != nil {
		return err
	}
	var res protocol.OpenResult
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("core open result %q: %w", out, err)
	}
	if res.Error != "" {
		return errors.New(res.Error)
	}
	h.dsid = res.DSID
	h.delivered, h.opened = res.Seq, true
	h.statementLimit = time.Duration(res.StatementMs) * time.Millisecond
	return nil
}

// call passes in to an export taking (ptr, len) and returning packed bytes,
// following PROTOCOL.md's ownership rules: the export frees its input, the
// host frees the output. A wazero error means the module trapped; the
// instance is then discarded, and the next call makes a new one.
// lead are arguments before (ptr, len): nh_start's job kind.
func (h *Host) call(ctx context.Context, fn api.Function, in []byte, lead ...uint64) ([]byte, error) {
	inst := h.inst
	r, err := inst.alloc.Call(ctx, uint64(len(in)))
	if err != nil {
		return nil, h.trapped(ctx, "nh_alloc", err)
	}
	ptr := uint32(r[0])
	if !inst.mod.Memory().Write(ptr, in) {
		h.discard(ctx)
		return nil, fmt.Errorf("core module: nh_alloc returned %#x, outside memory", ptr)
	}
	r, err = fn.Call(ctx, append(lead, uint64(ptr), uint64(len(in)))...)
	if err != nil {
		return nil, h.trapped(ctx, fn.Definition().ExportNames()[0], err)
	}
	return h.take(ctx, r[0])
}

// take copies an output buffer out of module memory and frees it.
func (h *Host) take(ctx context.Context, packed uint64) ([]byte, error) {
	if packed == 0 {
		return nil, nil
	}
	ptr, size := uint32(packed>>32), uint32(packed)
	view, ok := h.inst.mod.Memory().Read(ptr, size)
	if !ok {
		h.discard(ctx)
		return nil, fmt.Errorf("core module: result %#x+%d outside memory", ptr, size)
	}
	out := append([]byte(nil), view...) // the view dies with the next memory growth
	if _, err := h.inst.free.Call(ctx, uint64(ptr)); err != nil {
		return nil, h.trapped(ctx, "nh_free", err)
	}
	return out, nil
}

func (h *Host) trapped(ctx context.Context, export string, err error) error {
	h.logf("nakedhtmx: the core trapped in %s and will be re-instantiated: %v", export, err)
	h.discard(ctx)
	// A call that trapped inside a write left its transaction open: undone
	// before the next instance asks anything ("no transaction is active" is
	// fine), or every write after it would fail to begin.
	h.db.HandleSQL(rollbackRequest)
	return fmt.Errorf("core trapped in %s: %w", export, err)
}

// rollbackRequest is ROLLBACK as an SQL request of the protocol (JSON form).
var rollbackRequest = []byte(`{"sql":"ROLLBACK","params":[]}`)

// discard closes the current instance; PROTOCOL.md: after a trap the module
// is unusable and the host must re-instantiate.
func (h *Host) discard(ctx context.Context) {
	if h.inst != nil {
		h.inst.mod.Close(ctx)
		h.inst = nil
	}
}

// ready makes sure there is a live instance; callers hold h.mu.
func (h *Host) ready(ctx context.Context) error {
	if h.closed {
		return ErrClosed
	}
	if h.inst == nil {
		return h.instantiate(ctx)
	}
	return nil
}

// sqlImport is the module's `sql` import: SQLRequest in, SQLResult out, in a
// buffer the core allocated (it frees it).
func (h *Host) sqlImport(ctx context.Context, m api.Module, stack []uint64) {
	ptr, size := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	var out []byte
	if in, ok := m.Memory().Read(ptr, size); ok {
		// HandleSQL decodes its input before anything can grow the memory,
		// so the view need not be copied.
		out = h.db.HandleSQL(in)
	} else {
		out = []byte(`{"error":"SQL request outside module memory","code":"SQLITE_MISUSE"}`)
	}
	// Calling back into the module's allocator from inside an import is
	// allowed (PROTOCOL.md); it is the only re-entry the core permits.
	r, err := m.ExportedFunction("nh_alloc").Call(ctx, uint64(len(out)))
	if err != nil {
		panic(err) // becomes a trap of the export that called us
	}
	dst := api.DecodeU32(r[0])
	if !m.Memory().Write(dst, out) {
		panic(fmt.Sprintf("nh_alloc returned %#x, outside memory", dst))
	}
	stack[0] = uint64(dst)<<32 | uint64(len(out))
}

// logImport is the module's `log` import.
func (h *Host) logImport(_ context.Context, m api.Module, stack []uint64) {
	ptr, size := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	if b, ok := m.Memory().Read(ptr, size); ok {
		h.logf("%s", b)
	}
}

func (h *Host) logf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if len(s) == 0 || s[len(s)-1] != '\n' {
		s += "\n"
	}
	io.WriteString(h.log, s)
}

// Handle answers one request frame. When the response carries Continue, call
// Handle again with the same head plus that token (httphost does this).
func (h *Host) Handle(req *protocol.Request) (*protocol.Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ctx := context.Background()
	if err := h.ready(ctx); err != nil {
		return nil, err
	}
	head := req.RequestHead
	if head.SchemaVersion == nil {
		head.SchemaVersion = h.schemaVersion()
	}
	// The request's statements run under the core's time limit; ticks,
	// commands from the stream and opening do not (PROTOCOL.md, "Time limit").
	h.db.Limit(h.statementLimit)
	out, err := h.call(ctx, h.inst.handle, protocol.EncodeFrame(head, req.Body))
	h.db.Limit(0)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("core returned no response frame")
	}
	return protocol.DecodeResponse(out)
}

// ServeHTTP serves the app, with the body cap, continuation streaming and
// live event streams of bindings/go/httphost. Mount it under
// Options.BasePath. The first call starts the ticks that feed the streams
// (see Tick); on shutdown, end the streams with EndStreams.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.live.Start()
	h.http.ServeHTTP(w, r)
}

// SetConfig gives the core a changed nakedhtmx.json (nil for none). On error
// (the core rejected it) the previous config stays in force.
func (h *Host) SetConfig(config json.RawMessage) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	ctx := context.Background()
	if err := h.ready(ctx); err != nil {
		return err
	}
	previous, previousText := h.open.Config, h.open.ConfigText
	if h.open.ConfigText != nil {
		h.open.ConfigText = configText(config)
	}
	if len(config) == 0 {
		config = json.RawMessage("null")
	}
	h.open.Config = config
	if err := h.callOpen(ctx); err != nil {
		h.open.Config, h.open.ConfigText = previous, previousText
		return err
	}
	return nil
}

// configText is a config file's bytes as the open request carries them
// for a core that may edit them ("" for no file).
func configText(raw json.RawMessage) *string {
	s := string(raw)
	return &s
}

// DSID is the database schema id the core reported when it was last opened.
func (h *Host) DSID() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dsid
}

// Tick calls the core's nh_tick: the live messages since the last tick
// (PROTOCOL.md, "Live"). ServeHTTP's hub calls it every 20 ms and after each
// write; a program that serves through its own httphost.Hub calls it from
// there instead, never from both.
func (h *Host) Tick() (protocol.TickResult, error) { return h.TickFor(protocol.AllFormats, nil) }

// TickFor is Tick rendering only the formats someone listens to (the hub's
// streams, the cluster's announcements); the other texts come back empty.
func (h *Host) TickFor(f protocol.Formats, viewers []string) (protocol.TickResult, error) {
	var res protocol.TickResult
	out, err := h.tickRaw(f, viewers)
	if err != nil {
		return res, err
	}
	if len(out) == 0 {
		return res, errors.New("core returned no tick result")
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("core tick result %.100q: %w", out, err)
	}
	if n := len(res.Messages); n > 0 {
		h.mu.Lock()
		h.delivered = max(h.delivered, res.Messages[n-1].ID)
		h.mu.Unlock()
	}
	return res, nil
}

func (h *Host) tickRaw(f protocol.Formats, viewers []string) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ctx := context.Background()
	if err := h.ready(ctx); err != nil {
		return nil, err
	}
	req := protocol.TickRequest{SchemaVersion: h.schemaVersion()}
	if f != protocol.AllFormats {
		req.Formats = f.Names() // absent: every format
	}
	// The viewers go when they changed since this instance last heard
	// (a fresh instance after a trap has heard none).
	if viewers == nil {
		viewers = []string{}
	}
	if h.viewersTold != h.inst || !slices.Equal(viewers, h.viewers) {
		req.Viewers = &viewers
	}
	in, _ := json.Marshal(req)
	out, err := h.call(ctx, h.inst.tick, in)
	if err == nil && req.Viewers != nil {
		h.viewers, h.viewersTold = slices.Clone(viewers), h.inst
	}
	return out, err
}

// schemaVersion is PRAGMA schema_version on the core's connection, sent with
// each call so the core need not ask through a crossing (PROTOCOL.md,
// "Frames"); nil when SQLite cannot say (the core then asks, and answers the
// error itself).
func (h *Host) schemaVersion() *int64 {
	if h.open.Store == "postgres" {
		return nil // the core asks its store (core/store/postgres)
	}
	rs, err := h.db.Query("PRAGMA schema_version")
	if err != nil || len(rs.Values) != 1 {
		return nil
	}
	v, ok := sqldb.Int(rs.Values[0][0])
	if !ok {
		return nil
	}
	return &v
}

// Apply runs one command from the stream (jetstream write mode) with its
// stream sequence: nh_apply (PROTOCOL.md, "Commands").
func (h *Host) Apply(cmd *protocol.Command, seq uint64) (protocol.ApplyResult, error) {
	var res protocol.ApplyResult
	in, err := json.Marshal(map[string]any{"command": cmd, "seq": seq})
	if err != nil {
		return res, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ctx := context.Background()
	if err := h.ready(ctx); err != nil {
		return res, err
	}
	out, err := h.call(ctx, h.inst.apply, in)
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("core apply result %.100q: %w", out, err)
	}
	return res, nil
}

// Outbox lists the commands this node made and has not applied yet, oldest
// first (nh_outbox): what its NATS side publishes.
func (h *Host) Outbox() (protocol.Outbox, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ctx := context.Background()
	if err := h.ready(ctx); err != nil {
		return protocol.Outbox{}, err
	}
	r, err := h.inst.outbox.Call(ctx)
	if err != nil {
		return protocol.Outbox{}, h.trapped(ctx, "nh_outbox", err)
	}
	out, err := h.take(ctx, r[0])
	if err != nil {
		return protocol.Outbox{}, err
	}
	var res protocol.Outbox
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("core outbox %.100q: %w", out, err)
	}
	return res, nil
}

// EndStreams ends every event stream ServeHTTP holds open and stops its
// ticks. Give it to http.Server.RegisterOnShutdown, or Shutdown waits for
// streams that never end on their own. Close calls it too.
func (h *Host) EndStreams() { h.live.Close() }

// Close ends the event streams, releases the module and closes the
// database. Calls after Close fail with ErrClosed.
func (h *Host) Close() error {
	h.live.Close() // first: its ticks take h.mu
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	ctx := context.Background()
	h.inst = nil
	var errs []error
	if h.rt != nil {
		errs = append(errs, h.rt.Close(ctx))
	}
	if h.db != nil {
		errs = append(errs, h.db.Close())
	}
	return errors.Join(errs...)
}
