// Package engine is the core: given a host's connection to a store
// (core/store) it reflects the database, keeps the DSID, and answers HTTP requests (HTML and JSON API). It is
// pure and synchronous: every call does its work and returns; time, sockets and
// timers belong to the host (see bindings/PROTOCOL.md).
package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/config"
	"github.com/nakedhtmx/nakedhtmx/core/dsid"
	"github.com/nakedhtmx/nakedhtmx/core/hosts"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/rules"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
	"github.com/nakedhtmx/nakedhtmx/core/store/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/validate"
)

// Options configure an engine.
type Options struct {
	BasePath  string
	Config    *Config
	Host      string
	AuthToken string
	Log       func(format string, args ...any)
	// LiveAfter, when set, is where live messages resume (a log sequence)
	// instead of the log's end: a host re-opening after a trap passes the
	// last id it delivered, so open streams miss nothing.
	LiveAfter *int64
	// WriteMode is "direct" (or "") or "jetstream": writes become commands
	// (command.go) that the host publishes and every node applies.
	WriteMode string
	// Node names this node in the commands it makes.
	Node string
	// AllowedHosts are the Host names requests may carry besides the
	// loopback names (browser.go): --allowed-host and the listen address.
	AllowedHosts []string
	// Clock is the time sessions expire and the change log is pruned by (nil: the system clock).
	Clock func() time.Time
	// KeepJournalMode leaves the file's journal mode as it is instead of
	// switching it to WAL (the SQLite store's Install).
	KeepJournalMode bool
	// Store is what holds the data (core/store); nil: SQLite.
	Store store.Store
	// ConfigWritable: the host writes back the edits of ConfigText (the
	// config file's text, "" when it has none yet) that the core hands it
	// (a stored query saved from the SQL page; protocol.ResponseHead.ConfigText).
	ConfigWritable bool
	ConfigText     []byte
	// Replica opens the engine as a local copy of a server's (replica.go):
	// from the server's model and DSID, its tables made in db from them.
	Replica *Replica
	// Offline: the host serves the offline service worker (BasePath +
	// /offline/sw.js, PROTOCOL.md "Offline"), so pages register it unless
	// the config says "offline": false.
	Offline bool
}

// UninstallReport says what Uninstall took away.
type UninstallReport = store.UninstallReport

// Uninstall removes every object nakedhtmx added to the database and sets
// back what it changed (the store's Uninstall; nil: SQLite). It needs no
// open engine: it must not install anything first.
func Uninstall(db sqldb.DB, s store.Store) (UninstallReport, error) {
	if s == nil {
		s = sqlite.Store{}
	}
	return s.Uninstall(db)
}

// Config is the parsed nakedhtmx.json.
type Config = config.Config

// ParseConfig parses the config file's contents (nil or "null" for none).
func ParseConfig(raw json.RawMessage) (*Config, error) { return config.Parse(raw) }

// Engine answers requests for one database. It is not safe for concurrent use:
// hosts call it from one thread (the wasm module is single-threaded anyway).
type Engine struct {
	db    *watched    // the host's connection (timelimit.go)
	store store.Store // what db is a connection to
	opts  Options
	st    *state
	live  liveState
	cache dataCache
	// versionHint is the request's SchemaVersion until schemaVersion takes it.
	versionHint *int64
	// rowsHint sizes the buffer of the next JSON list: about the last one's
	// size, so a page of rows is written without regrowing its buffer.
	rowsHint atomic.Int64

	hosts      []hostPattern // Host names answered (browser.go)
	secHeaders [][2]string   // added to every answer
	tokenHash  string        // hashHex of the auth token: what its sessions are kept under
	dialect    rules.Dialect // how the store writes a row rule (rules.go)
	sessions   sessions
	guard      throttle // wrong tokens per client
	scans      scans    // list reads under way in windows (scan.go)
}

// state is everything derived from one schema version; it is rebuilt whole
// when the database's schema_version moves or the config changes.
type state struct {
	db            *model.Database
	dsid          string
	schemas       map[string]*schema.Object
	ui            map[string]*schema.Object
	fields        map[string][]*schema.Field
	validators    map[string]*validate.Schema
	schemaVersion int64
	// vis is db as callers may see it (model.Database.Visible): every
	// answer is made from it, so a hidden table or column cannot leak
	// through a path that forgot to check.
	vis *model.Database
	// plans: whether a list of this shape reads the whole table (scan.go).
	plans map[string]bool
	// suggested: the facets a table's list suggests (explore.go).
	suggested map[string][]*model.Column
	// fired: the tables a write to which may run triggers of the user's
	// (model.Database.Fired, of the whole database): such a write goes
	// where the time limit can stop it (sqldb.LaneWrites).
	fired map[string]bool
	// rules: each table's row rules, checked against its columns (rules.go).
	rules map[string]*tableRules
	// suspect: tables that came as a table with rules went (a rename the
	// config does not know yet), by why they are held (rules.go).
	suspect map[string]string
	// rulesProblem is what the config's rules get wrong about the
	// database (rules.go), or "": logged when it comes, an error at Open.
	rulesProblem string
}

// Open reflects the database and stores the DSID.
func Open(db sqldb.DB, opts Options) (*Engine, error) {
	if opts.Config == nil {
		opts.Config = &Config{}
	}
	opts.BasePath = strings.TrimRight(opts.BasePath, "/")
	for _, h := range opts.AllowedHosts {
		if why := hosts.Check(h); why != "" {
			return nil, fmt.Errorf("allowed host %q: %s", h, why)
		}
	}
	if opts.Store == nil {
		opts.Store = sqlite.Store{}
	}
	e := &Engine{db: &watched{DB: db}, store: opts.Store, opts: opts, dialect: dialectOf(opts.Store)}
	e.applyBrowserOptions()
	if opts.Config.HasFileColumns() && opts.Config.Files == nil && e.store.Name() != "sqlite" {
		// Beside a SQLite file is the default place; a server has no such place.
		return nil, fmt.Errorf("config: file columns on a %s database need files.dir (the directory their files are kept in)", e.store.Name())
	}
	if opts.WriteMode == "jetstream" && e.store.CommandsSetup() == "" {
		return nil, fmt.Errorf("a %s database cannot take commands from a NATS cluster yet", e.store.Name())
	}
	if err := e.store.Prepare(db); err != nil {
		return nil, err
	}
	// The change log is ours to create; a read-only database has none and
	// its pages are simply not live.
	if r, err := e.store.Install(e.db, store.InstallOptions{KeepJournalMode: opts.KeepJournalMode}); err != nil {
		return nil, err
	} else if !r.Writable {
		e.logf("nakedhtmx: the database is read-only: no change log, pages are not live")
	} else {
		if r.Message != "" {
			e.logf("%s", r.Message)
		}
		e.live.enabled = true
	}
	if opts.Replica != nil {
		if e.store.Name() != "sqlite" || opts.Replica.Model == nil {
			return nil, fmt.Errorf("a copy is a SQLite database opened from a server's model")
		}
		for _, sql := range replicaTables(opts.Replica.Model) {
			if _, err := e.db.Exec(sql); err != nil {
				return nil, fmt.Errorf("replica: %w", err)
			}
		}
	}
	if err := e.refresh(true); err != nil {
		return nil, err
	}
	if p := e.st.rulesProblem; p != "" {
		return nil, fmt.Errorf("%s", p) // a config error, as the others are at start
	}
	e.live.start(e)
	return e, nil
}

// SetOptions applies a changed config, base path or token.
func (e *Engine) SetOptions(opts Options) {
	if opts.Config == nil {
		opts.Config = &Config{}
	}
	opts.BasePath = strings.TrimRight(opts.BasePath, "/")
	if opts.Log == nil {
		opts.Log = e.opts.Log
	}
	if opts.AuthToken != e.opts.AuthToken {
		for id, s := range e.sessions.mem {
			if s.user == 0 {
				delete(e.sessions.mem, id) // a new token ends every sign-in made with the old one
			}
		}
	}
	e.opts = opts
	e.applyBrowserOptions()
	if e.st != nil {
		e.st.build(opts.Config, e.logf) // UI schemas depend on the config; the DSID does not
		if p := e.st.rulesProblem; p != "" {
			e.logf("nakedhtmx: %s", p)
		}
	}
}

func (e *Engine) applyBrowserOptions() {
	e.hosts = hostPatterns(e.opts.AllowedHosts)
	e.secHeaders = securityHeaders(e.opts.Config.EmbedOrigins)
	e.tokenHash = hashHex(e.opts.AuthToken)
}

// DSID is the current database schema id.
func (e *Engine) DSID() string {
	if e.st == nil {
		return ""
	}
	return e.st.dsid
}

// LiveSeq is the id of the last change turned into live messages: the next
// tick starts after it.
func (e *Engine) LiveSeq() int64 { return e.live.lastSeq }

// Tick is called by the host's timer and after its own writes (PROTOCOL.md,
// "Live"): it reads what changed since the last tick and renders the messages.
func (e *Engine) Tick() protocol.TickResult { return e.tick(protocol.AllFormats) }

// TickFor is Tick rendering only the formats someone is listening to: each
// message still comes with its id and table, with the other texts empty.
func (e *Engine) TickFor(f protocol.Formats) protocol.TickResult { return e.tick(f) }

// TickWith is TickFor with the schema version the host read just before
// (RequestHead.SchemaVersion): the tick then need not ask for it.
func (e *Engine) TickWith(f protocol.Formats, schemaVersion *int64) protocol.TickResult {
	e.versionHint = schemaVersion
	defer func() { e.versionHint = nil }()
	return e.tick(f)
}

func (e *Engine) logf(format string, args ...any) {
	if e.opts.Log != nil {
		e.opts.Log(format, args...)
	}
}

// refresh re-reflects when the schema changed since the last look (by anyone:
// PRAGMA schema_version moves on every DDL of every connection).
func (e *Engine) refresh(force bool) error {
	for try := 0; ; try++ {
		err := e.reflect(force, try == 3)
		if !errors.Is(err, errSchemaMoved) {
			return err
		}
		force = true
	}
}

// errSchemaMoved: another connection changed the schema after it was
// reflected and before its DSID was stored.
var errSchemaMoved = errors.New("the schema changed while it was reflected")

// reflect rebuilds the state when the schema version moved (or when forced).
// last: the final try, which goes on with what it saw rather than fail.
func (e *Engine) reflect(force, last bool) error {
	v, err := e.schemaVersion()
	if err != nil {
		return err
	}
	if !force && e.st != nil && e.st.schemaVersion == v {
		return nil
	}
	// Reflection is many statements; another connection's DDL can commit in
	// between. Only a reflection with the same version before and after is
	// known to show that version.
	if r := e.opts.Replica; r != nil {
		return e.reflectReplica(r, v)
	}
	d, err := e.store.Reflect(e.db)
	if err != nil {
		return err
	}
	if now, err := e.schemaVersion(); err != nil {
		return err
	} else if now != v {
		if !last {
			return errSchemaMoved
		}
		v = -1 // still moving: use this reflection, and reflect again on the next call
	}
	_, canonical := schema.Set(d)
	// A database that may only be read has no DSID history of ours: its
	// DSIDs are numbered 0.
	id := dsid.Format(0, schema.Hash(canonical))
	if e.live.enabled {
		id, err = dsid.Ensure(e.db, e.store.BeginWrite, schema.Hash(canonical), canonical, e.onNewDSID(v, last, canonical))
	}
	if errors.Is(err, errSchemaMoved) {
		return err
	}
	if err != nil {
		return fmt.Errorf("dsid: %w", err)
	}
	if e.live.enabled {
		if _, err := e.store.SyncCapture(e.db, d); err != nil {
			e.logf("nakedhtmx: cannot install change capture triggers: %v", err)
		}
	}
	// Ensure and Sync may have changed our own objects and so the version:
	// adopt the new version, so the next call does not reflect again for our
	// own DDL, but only when the user's schema is still the one reflected
	// (another connection's DDL may have come in meanwhile; then the next
	// call reflects again).
	if after, err := e.schemaVersion(); err == nil && after != v && v >= 0 {
		if d2, err := e.store.Reflect(e.db); err == nil {
			if _, again := schema.Set(d2); bytes.Equal(again, canonical) {
				v = after
			}
		}
	}
	d.SchemaVersion = v
	st := &state{db: d, dsid: id, schemaVersion: v, fired: d.Fired()}
	if e.st != nil {
		st.suspect = suspectTables(e.st, d, e.opts.Config)
	}
	st.build(e.opts.Config, e.logf)
	if p := st.rulesProblem; p != "" && e.st != nil {
		e.logf("nakedhtmx: %s", p) // at Open it is Open's error
	}
	e.st = st
	return nil
}

// onNewDSID runs inside Ensure's write transaction when the schema reflected
// at version v is new.
func (e *Engine) onNewDSID(v int64, last bool, canonical []byte) dsid.NewFunc {
	return func(prevID string, prevSnap []byte, id string) error {
		// Inside Ensure's write transaction nobody else can change the
		// schema: a version that moved since the reflection means this
		// schema is already stale, and storing it as the newest DSID would
		// announce a change back to it (two hosts would flip-flop).
		if now, err := e.schemaVersion(); err != nil || (now != v && !last) {
			return errSchemaMoved
		}
		if !e.live.enabled || prevID == "" {
			return nil
		}
		return e.announceSchema(prevID, prevSnap, id, canonical)
	}
}

func (e *Engine) schemaVersion() (int64, error) {
	if v := e.versionHint; v != nil {
		e.versionHint = nil
		return *v, nil
	}
	return e.store.SchemaVersion(e.db)
}

// build derives what callers see from the reflected database and the
// config: vis, the one model every answer is made from (hidden tables and
// columns are not in it), and its schemas, UI schemas and form fields. The
// DSID is the full database's (reflect); the served schemas are vis's, with
// what the config makes read-only marked readOnly.
func (st *state) build(cfg *Config, logf func(string, ...any)) {
	st.schemas = map[string]*schema.Object{}
	st.ui = map[string]*schema.Object{}
	st.fields = map[string][]*schema.Field{}
	st.validators = map[string]*validate.Schema{} // they check the served schemas, which follow the config
	st.vis = st.db.Visible(
		func(t string) bool { return model.IsInternal(t) || cfg.Table(t).Hidden },
		func(t, c string) bool { return cfg.Table(t).Column(c).Hidden })
	markFileColumns(st.vis, cfg, logf)
	st.rules = checkRules(st.db, cfg)
	for name, why := range st.suspect {
		if cfg.Table(name).Rules == nil {
			st.rules[name] = &tableRules{Broken: why}
		}
	}
	st.rulesProblem = rulesProblem(st, cfg)
	for _, t := range st.vis.Tables {
		s := schema.JSONSchema(t)
		tc := cfg.Table(t.Name)
		if props, ok := s.Get("properties"); ok {
			for _, col := range t.Columns {
				if p, ok := props.(*schema.Object).Get(col.Name); ok && (tc.Column(col.Name).ReadOnly || col.RefHidden) {
					p.(*schema.Object).Set("readOnly", true)
				}
			}
		}
		if !t.View && !tc.Allows("insert") && !tc.Allows("update") {
			s.Set("readOnly", true)
		}
		st.schemas[t.Name] = s
		st.ui[t.Name] = schema.UISchema(st.vis, t, cfg)
		st.fields[t.Name] = schema.Fields(st.vis, t, cfg)
	}
}

// Handle answers one request. It never panics: a panic becomes a 500.
func (e *Engine) Handle(req *protocol.Request) (res *protocol.Response) {
	// DNS rebinding: a Host that is not ours is refused before anything else
	// (no SQL, not even the schema check).
	if !e.hostAllowed(req.Headers["host"]) {
		return misdirected()
	}
	defer func() {
		if r := recover(); r != nil {
			e.logf("core panic: %v\n%s", r, debug.Stack())
			// A panic inside a write leaves its transaction open, and every
			// write after it would fail to begin: undone here ("no
			// transaction is active" when there was none).
			e.db.Exec("ROLLBACK")
			res = e.fail(req, 500, fmt.Sprintf("internal error: %v", r))
		}
		if res.Status != 0 { // a continuation's part, or a yield, has no head of its own
			res = e.secure(res)
		}
	}()
	// The host's schema version stands for the first question only: the
	// reflection's own checks, and every later one, ask SQLite.
	e.versionHint = req.SchemaVersion
	defer func() { e.versionHint = nil }()
	e.db.stopped = false
	defer func() {
		if e.db.stopped {
			e.db.stopped = false
			if req.Continue == "" {
				res = e.fail(req, 503, e.stoppedMessage())
			} else {
				res = &protocol.Response{} // a stream's head is sent: it ends here
			}
		}
	}()
	path := parsePath(req.Path)
	if name, ok := path.asset(req.Method); ok {
		return asset(name)
	}
	var c *ctx
	for try := 0; ; try++ {
		if err := e.refresh(false); err != nil {
			switch sqldb.Code(err) {
			case "SQLITE_BUSY":
				return e.fail(req, 503, "the database is busy: "+err.Error())
			case "SQLITE_IOERR":
				// A store across a network went away (a server restart):
				// the next request connects again.
				return e.fail(req, 503, "the database cannot be reached just now: "+err.Error())
			}
			return e.fail(req, 500, "cannot read the database schema: "+err.Error())
		}
		c = newCtx(e, req)
		res = e.route(c, path)
		// A write whose schema moved under it wrote nothing: plan it again
		// on the new schema (a few times; then the 503 it carries stands).
		if !c.schemaMoved || try == 3 {
			break
		}
	}
	switch {
	case c.command != nil:
		// The host publishes the command, waits for this node to apply it,
		// and asks again with its id; this answer is what a client gets if
		// the host cannot wait.
		res = c.jsonAnswer(202, "command", c.command.ID, "status", "pending")
		res.Command = c.command
	case c.pending != "":
		if c.api || !wantsHTML(req) {
			res = c.jsonAnswer(202, "command", c.pending, "status", "pending")
		} else {
			// A page that follows the command until it is applied or refused.
			res = c.commandAnswer(c.pending)
			res.Status = 202
		}
	}
	return res
}
