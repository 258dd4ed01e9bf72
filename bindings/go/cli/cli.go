// Package cli is the command line shared by the Go hosts: the native host
// (core/cmd/nakedhtmx, engine linked in) and the wazero host
// (bindings/go/cmd/nakedhtmx-wasm). It implements the flags, exit codes and
// the one stdout line of the contract (CONTRACT.md, "Launching") once, over a
// Backend that each command opens its own way. It must not import the engine
// or wazero: each command brings its backend, so neither links the other's.
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/browserset"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/filedir"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/httphost"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/natsbus"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/core/hosts"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nats-io/nats.go"
)

// Backend is an opened core over one database.
type Backend interface {
	httphost.Handler
	// Ticker reports live messages; the server's hub calls it every 20 ms
	// and after each write (PROTOCOL.md, "Live").
	httphost.Ticker
	// SetConfig applies a changed nakedhtmx.json (nil: none); on error the
	// previous config stays in force.
	SetConfig(json.RawMessage) error
	DSID() string
	// Apply runs one command from the stream (--write jetstream); Outbox
	// lists the commands this node made and has not applied yet.
	Apply(cmd *protocol.Command, seq uint64) (protocol.ApplyResult, error)
	Outbox() (protocol.Outbox, error)
	// Close closes the database.
	Close() error
}

// OpenOptions is what a Program's Open receives, decided from the flags.
type OpenOptions struct {
	DB     string
	Config json.RawMessage // nil when there is no config file
	// ConfigWritable: the CLI writes back the config edits the core hands
	// it (PROTOCOL.md, "Config"); Config is then the file's text, as is.
	ConfigWritable bool
	AuthToken      string
	// AllowedHosts are the Host names answered besides loopback ones: every
	// --allowed-host and the listen address (unless it is a wildcard).
	AllowedHosts []string
	Log          io.Writer // stderr: log lines only, never stdout
	// Write is "direct" or "jetstream" (writes become commands); Node names
	// this node in them.
	Write, Node string
	// KeepJournalMode: --keep-journal-mode.
	KeepJournalMode bool
	// PGSchema: --pg-schema, the Postgres schema served ("" is public).
	PGSchema string
	// FilesDir is where file columns keep their files (filedir.Default).
	FilesDir string
	// BrowserSet is the offline service worker's files this host serves
	// (Program.BrowserSet); nil: none, and pages do not offer offline use.
	BrowserSet *browserset.Set
}

// Program is one command: its name and how it opens a backend.
type Program struct {
	Name string // as typed, for messages: "nakedhtmx"
	// Flags registers flags of this command only (the wazero host's --wasm);
	// they apply to both serving and the schema subcommand.
	Flags func(*flag.FlagSet)
	// ExtraHelp documents those flags, one "  --flag ..." line each.
	ExtraHelp string
	Open      func(ctx context.Context, o OpenOptions) (Backend, error)
	// Uninstall removes what nakedhtmx added to the database (the
	// `uninstall` subcommand): the names removed and the journal mode set
	// back ("" when unchanged).
	Uninstall func(ctx context.Context, db, pgSchema string) (removed []string, journalMode string, err error)
	// ConfigPoll is how often the config file is checked for changes;
	// 0 means once a second.
	ConfigPoll time.Duration
	// Stdin is where `user add` reads the password (nil: os.Stdin).
	Stdin io.Reader
	// BrowserSet finds the browser set (PROTOCOL.md, "Offline") once the
	// flags are read: nil (or a nil set) when this build has none.
	BrowserSet func() (*browserset.Set, error)
}

// MinTokenLength is the shortest --auth-token taken (CONTRACT, "Launching").
const MinTokenLength = 16

// Exit codes (CONTRACT.md).
const (
	exitOK    = 0
	exitError = 1 // a failure while running (the port is taken, ...)
	exitUsage = 2 // a bad flag or value, an unreadable database or config
)

// failure is an error with the exit code it ends the program with.
type failure struct {
	code int
	err  error
}

func (f *failure) Error() string { return f.err.Error() }

func usage(format string, args ...any) error {
	return &failure{exitUsage, fmt.Errorf(format, args...)}
}

// Main runs the program on os.Args and exits. SIGINT and SIGTERM shut the
// server down gracefully, then it exits 0.
func (p *Program) Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := p.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Run runs the program with args until ctx is done (serving) or the
// subcommand finishes, and returns the exit code. Every error is one line on
// stderr.
func (p *Program) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var err error
	if len(args) > 0 && args[0] == "schema" {
		err = p.schema(ctx, args[1:], stdout, stderr)
	} else if len(args) > 0 && args[0] == "uninstall" {
		err = p.uninstall(ctx, args[1:], stdout, stderr)
	} else if len(args) > 0 && args[0] == "user" {
		in := p.Stdin
		if in == nil {
			in = os.Stdin
		}
		err = p.user(ctx, args[1:], in, stdout)
	} else if len(args) > 0 && args[0] == "migrate" {
		err = p.migrate(ctx, args[1:], stdout, stderr)
	} else {
		err = p.serve(ctx, args, stdout, stderr)
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	}
	// One line, whatever the error carried: scripts and the contract read it so.
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
	fmt.Fprintf(stderr, "%s: %s\n", p.Name, msg)
	var f *failure
	if errors.As(err, &f) {
		return f.code
	}
	return exitError
}

// serveFlags are the serving flags of CONTRACT.md.
type serveFlags struct {
	db, host, authToken, config, nats, node, write, pgSchema string
	port                                                     int
	insecure, keepJournal                                    bool
	configSet                                                bool // --config given explicitly
	allowedHosts                                             []string
}

// hostsToAnswer: every --allowed-host, and the listen address unless it is
// a wildcard (0.0.0.0 or ::, which no browser should send as Host: a page
// on the Internet can still reach 0.0.0.0 in some browsers).
func (f *serveFlags) hostsToAnswer() []string {
	hosts := append([]string(nil), f.allowedHosts...)
	if ip := net.ParseIP(f.host); ip != nil && ip.IsUnspecified() {
		return hosts
	}
	if strings.Contains(f.host, ":") {
		return append(hosts, "["+f.host+"]")
	}
	return append(hosts, f.host)
}

const defaultDB, defaultConfig = "./nakedhtmx.db", "./nakedhtmx.json"

func (p *Program) newFlagSet(name string) *flag.FlagSet {
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package prints its error and the whole usage; the contract
	// wants one line, which Run writes.
	flags.SetOutput(io.Discard)
	if p.Flags != nil {
		p.Flags(flags)
	}
	return flags
}

// parse parses args, printing help to stdout for -h/--help.
func (p *Program) parse(flags *flag.FlagSet, args []string, stdout io.Writer, help string) error {
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, help)
			return err
		}
		return usage("%v (see --help)", err)
	}
	if flags.NArg() > 0 {
		if flags.Arg(0) == "schema" {
			return usage("the schema subcommand comes first: %s schema --db FILE --out DIR", p.Name)
		}
		return usage("unexpected argument %q (see --help)", flags.Arg(0))
	}
	return nil
}

func (p *Program) serveHelp() string {
	return fmt.Sprintf(`Usage: %[1]s [flags]
       %[1]s schema --db FILE --out DIR
       %[1]s uninstall --db FILE
       %[1]s user add|list|remove --db FILE [--email EMAIL] [--role ROLE]
       %[1]s migrate --nats URL [--node NAME] FILE.sql

Serves a SQLite database as a web app (HTML and JSON API).

  --db FILE           SQLite database file, created when missing (default %[2]s),
                      or a postgres:// URL (PG* variables fill what it leaves out)
  --pg-schema NAME    Postgres: the schema served (default public)
  --port N            port to listen on; 0 picks a free one (default 8080)
  --host ADDR         address to listen on (default 127.0.0.1); any non-loopback
                      address needs --auth-token or --insecure
  --auth-token TOKEN  require "Authorization: Bearer TOKEN" (pages: a sign-in form)
  --allowed-host NAME a further Host name requests may carry (repeatable): a proxy's
                      or a LAN name; loopback names and the listen address always are
  --config FILE       labels, hidden columns, widgets, read-only tables; re-read when
                      it changes (default %[3]s when present)
  --insecure          allow a non-loopback --host without --auth-token
  --keep-journal-mode leave the database's journal mode as it is (default: switch
                      to WAL, so other processes can read while it writes)
  --nats URL          join a scale-out cluster through this NATS server (with
                      --write jetstream)
  --node NAME         this node's name in the cluster (default: the host name)
  --write MODE        direct (default), or jetstream: every write becomes a command
                      on a JetStream stream that every node applies in order
%[4]s  -h, --help          show this help

Once it accepts connections it prints one line with its URL. SIGINT or SIGTERM
stop it. Exit codes: 0 done, 1 failed while running, 2 bad flag or database.
`, p.Name, defaultDB, defaultConfig, p.ExtraHelp)
}

func (p *Program) parseServe(args []string, stdout io.Writer) (*serveFlags, error) {
	f := &serveFlags{}
	flags := p.newFlagSet(p.Name)
	flags.StringVar(&f.db, "db", defaultDB, "")
	flags.StringVar(&f.pgSchema, "pg-schema", "", "")
	flags.IntVar(&f.port, "port", 8080, "")
	flags.StringVar(&f.host, "host", "127.0.0.1", "")
	flags.StringVar(&f.authToken, "auth-token", "", "")
	flags.StringVar(&f.config, "config", defaultConfig, "")
	flags.StringVar(&f.nats, "nats", "", "")
	flags.StringVar(&f.node, "node", "", "")
	flags.StringVar(&f.write, "write", "direct", "")
	flags.BoolVar(&f.insecure, "insecure", false, "")
	flags.BoolVar(&f.keepJournal, "keep-journal-mode", false, "")
	flags.Func("allowed-host", "", func(v string) error {
		f.allowedHosts = append(f.allowedHosts, v)
		return nil
	})
	if err := p.parse(flags, args, stdout, p.serveHelp()); err != nil {
		return nil, err
	}
	tokenSet := false
	flags.Visit(func(fl *flag.Flag) {
		f.configSet = f.configSet || fl.Name == "config"
		tokenSet = tokenSet || fl.Name == "auth-token"
	})

	switch {
	case f.port < 0 || f.port > 65535:
		return nil, usage("invalid --port %d: want 0 to 65535", f.port)
	case f.db == "":
		return nil, usage("--db needs a file name")
	case f.host == "":
		return nil, usage("--host needs an address")
	case tokenSet && f.authToken == "":
		// An empty token would silently mean "no authentication".
		return nil, usage("--auth-token must not be empty")
	case tokenSet && utf8.RuneCountInString(f.authToken) < MinTokenLength:
		return nil, usage("--auth-token is %d characters; at least %d are needed (a short token is guessed quickly)", utf8.RuneCountInString(f.authToken), MinTokenLength)
	case f.write != "direct" && f.write != "jetstream":
		return nil, usage("invalid --write %q: want direct or jetstream", f.write)
	case f.write == "jetstream" && f.nats == "":
		return nil, usage("--write jetstream needs --nats URL: the commands travel on a JetStream stream")
	}
	for _, h := range f.allowedHosts {
		if why := hosts.Check(h); why != "" {
			return nil, usage("invalid --allowed-host %q: %s", h, why)
		}
	}
	f.host = strings.TrimSuffix(strings.TrimPrefix(f.host, "["), "]")
	if !isLoopback(f.host) && f.authToken == "" && !f.insecure {
		return nil, usage("refusing to listen on %s without --auth-token: anyone who can reach it could change the database (add --insecure to allow it)", f.host)
	}
	if f.node == "" {
		f.node, _ = os.Hostname()
	}
	return f, nil
}

// isLoopback reports whether host only accepts connections from this machine.
// Names other than localhost are not resolved: they count as non-loopback.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readConfig returns the config file's contents, nil when the default file
// is absent. An explicit --config must exist.
func readConfig(path string, explicit bool) (json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			return nil, nil
		}
		return nil, usage("config %s: %v", path, unwrapPath(err))
	}
	if !json.Valid(b) {
		return nil, usage("config %s: not valid JSON", path)
	}
	return b, nil
}

// unwrapPath drops the path an *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (p *Program) serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := p.parseServe(args, stdout)
	if err != nil {
		return err
	}
	// The stamp is taken before the read: a change in between is then
	// applied (again) rather than missed.
	configStamp := stamp(f.config)
	config, err := readConfig(f.config, f.configSet)
	if err != nil {
		return err
	}
	// Listen before opening: a taken port then fails without touching the
	// database.
	ln, err := net.Listen("tcp", net.JoinHostPort(f.host, strconv.Itoa(f.port)))
	if err != nil {
		return fmt.Errorf("cannot listen: %w", err)
	}
	defer ln.Close()

	var nc *nats.Conn
	if f.nats != "" {
		// The cluster first: an unreachable one must not leave a new database behind.
		if nc, err = natsbus.Dial(f.nats, f.node); err != nil {
			return &failure{exitUsage, err}
		}
		defer nc.Close() // the bus drains it first; this is for the failures before it
	}
	// Without NATS the config is the file's, which a stored query saved
	// from the app is written into (with NATS it is the cluster's).
	var set *browserset.Set
	if p.BrowserSet != nil {
		if set, err = p.BrowserSet(); err != nil {
			return &failure{exitUsage, err}
		}
	}
	backend, err := p.Open(ctx, OpenOptions{DB: f.db, Config: config, ConfigWritable: f.nats == "", AuthToken: f.authToken, Log: stderr,
		Write: f.write, Node: f.node, AllowedHosts: f.hostsToAnswer(), KeepJournalMode: f.keepJournal, PGSchema: f.pgSchema,
		FilesDir: filedir.Default(f.db, config, filepath.Dir(f.config)), BrowserSet: set})
	if err != nil {
		return &failure{exitUsage, err}
	}
	defer backend.Close()
	if ctx.Err() != nil {
		// Stopped while opening (a cold wazero compile takes seconds): never
		// announce a URL that is about to go away.
		return backend.Close()
	}

	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	ticker := &announcer{Ticker: backend}
	live := &httphost.Hub{Ticker: ticker, ErrorLog: logf}
	if postgres.IsURL(f.db) {
		// Postgres says when its log grows (LISTEN/NOTIFY): the hub ticks
		// then, not on a 20 ms timer asking it.
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		if err := postgres.Wake(wctx, f.db, postgres.DefaultPace, func() { live.Tick() }); err == nil {
			live.Interval = -1
		}
	}
	live.Start()
	defer live.Close() // before the deferred backend.Close: a tick must not outlive it
	adapter := &httphost.Adapter{Handler: backend, ErrorLog: logf, Live: live, Offline: set}
	cf := &configFile{path: f.config, text: config, stamp: configStamp, backend: backend}
	if f.nats == "" {
		adapter.Config = cf
	}
	if f.authToken != "" {
		// CONTRACT: 64 KiB until the caller is known.
		adapter.ProbeBodiesOver = httphost.SignedOutMaxBody
	}
	if f.nats != "" {
		bus, err := natsbus.Open(ctx, nc, natsbus.Options{Node: f.node, Applier: backend,
			Commands: f.write == "jetstream",
			Applied:  func(protocol.ApplyResult) { live.Tick() },
			Remote:   func() { live.Tick() }, // another node's change: this node's screens follow at once
			Log:      logf,
			Describe: func() (string, json.RawMessage, error) { return describe(backend, f.authToken) },
			// With --nats the config lives in the cluster's KV bucket (this
			// node's file seeds it when it is empty), not in the file.
			Config: backend.SetConfig, Seed: config})
		if err != nil {
			return &failure{exitUsage, err}
		}
		defer bus.Close() // after the server stops, before the database closes
		ticker.bus.Store(bus)
		if f.write == "jetstream" {
			adapter.Commands = bus
		}
	}
	srv := &http.Server{
		Handler:           adapter,
		ReadHeaderTimeout: 10 * time.Second,
	}
	// Event streams never end on their own: Shutdown ends them first, so it
	// only waits for ordinary requests.
	srv.RegisterOnShutdown(live.Close)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if f.nats == "" {
		go p.watchConfig(watchCtx, cf, logf)
	}

	port := ln.Addr().(*net.TCPAddr).Port
	fmt.Fprintf(stdout, "%s: serving %s at http://%s/\n", p.Name, postgres.Shown(f.db), net.JoinHostPort(f.host, strconv.Itoa(port)))

	select {
	case err := <-served:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	stopWatch()
	// Give requests in flight a moment (the hub has ended the event
	// streams); after that the connections are closed.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	live.Close() // Shutdown does not wait for its hooks; no tick may follow
	if err := backend.Close(); err != nil {
		return fmt.Errorf("closing the database: %w", err)
	}
	return nil
}

// watchConfig re-reads the config file whenever its modification time or
// size changes from last (or it appears or disappears) and hands it to the
// backend.
// Polling, not inotify: it works the same on every OS and on network
// filesystems, and a second of delay is fine for a config file.
func (p *Program) watchConfig(ctx context.Context, cf *configFile, logf func(string, ...any)) {
	interval := p.ConfigPoll
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	path := cf.path
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		raw, changed, err := cf.reload()
		if !changed {
			continue
		}
		switch {
		case err != nil:
			logf("%s: config %s not applied, keeping the previous one: %v", p.Name, path, err)
		case raw == nil:
			logf("%s: config %s removed; using defaults", p.Name, path)
		default:
			logf("%s: config %s reloaded", p.Name, path)
		}
	}
}

// configFile is the config file the server serves: read at start, re-read
// when it changes (watchConfig), and written when the core saves into it
// (httphost.ConfigSink). One lock orders the two, so a save never writes
// over an edit it did not see.
type configFile struct {
	mu      sync.Mutex
	path    string
	text    []byte // as last given to the backend (nil: no file)
	stamp   fileStamp
	backend Backend
}

// reload applies the file when it changed since last seen.
func (cf *configFile) reload() (raw json.RawMessage, changed bool, err error) {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	now := stamp(cf.path)
	if now == cf.stamp {
		return nil, false, nil
	}
	cf.stamp = now
	raw, err = readConfig(cf.path, false)
	if err == nil {
		err = cf.backend.SetConfig(raw)
	}
	if err == nil {
		cf.text = raw
	}
	return raw, true, err
}

// SaveConfig writes text over the file when it still holds what the core
// edited, then applies it: the answer that follows (the saved query's page)
// sees it.
func (cf *configFile) SaveConfig(text []byte) *protocol.ConfigError {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	cur, err := os.ReadFile(cf.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &protocol.ConfigError{Status: 500, Message: "cannot read the config file: " + unwrapPath(err).Error()}
	}
	if !bytes.Equal(cur, cf.text) {
		return &protocol.ConfigError{Status: 409, Message: "the config file changed since the server read it: reload and try again"}
	}
	if err := replaceFile(cf.path, text); err != nil {
		return &protocol.ConfigError{Status: 500, Message: "cannot write the config file: " + err.Error()}
	}
	cf.stamp = stamp(cf.path)
	if err := cf.backend.SetConfig(text); err != nil {
		return &protocol.ConfigError{Status: 500, Message: "the config was written but not applied: " + err.Error()}
	}
	cf.text = text
	return nil
}

// replaceFile writes data as the file at path all at once: into a new file
// beside it, synced, then renamed over it, so a reader (or a crash) sees
// the old text or the new, never half. A symbolic link stays one: its
// target is what is replaced. The file keeps its permissions.
func replaceFile(path string, data []byte) error {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return unwrapPath(err)
	}
	defer os.Remove(tmp.Name()) // gone by the rename when all went well
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return unwrapPath(err)
}

// fileStamp identifies one version of a file well enough to notice edits.
type fileStamp struct {
	exists  bool
	modTime int64 // nanoseconds: comparable with ==, unlike time.Time
	size    int64
}

func stamp(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{true, fi.ModTime().UnixNano(), fi.Size()}
}

// describe is this node's current schema version for the registry: the
// DSID, and the JSON Schema of every table and every command, as the API
// serves them.
func describe(h httphost.Handler, token string) (string, json.RawMessage, error) {
	get := func(path string) (json.RawMessage, error) {
		// The node's own question, asked in-process: the loopback Host.
		headers := map[string]string{"accept": "application/json", "host": "localhost"}
		if token != "" {
			headers["authorization"] = "Bearer " + token
		}
		res, err := h.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: path, Headers: headers}})
		if err != nil {
			return nil, err
		}
		if res.Status != 200 {
			return nil, fmt.Errorf("GET %s: %d", path, res.Status)
		}
		return res.Body, nil
	}
	tables, err := get("/api/schema")
	if err != nil {
		return "", nil, err
	}
	commands, err := get("/api/commands")
	if err != nil {
		return "", nil, err
	}
	var head struct{ DSID string }
	if err := json.Unmarshal(commands, &head); err != nil {
		return "", nil, err
	}
	doc, err := json.Marshal(map[string]json.RawMessage{"tables": tables, "commands": commands})
	return head.DSID, doc, err
}

// announcer passes the backend's live messages to the hub, publishes them on
// the cluster's events subjects, and tells the bus when the schema moved
// (once a bus is there).
type announcer struct {
	httphost.Ticker
	bus atomic.Pointer[natsbus.Bus] // set once the bus is open; the hub ticks meanwhile
}

func (a *announcer) TickFor(f protocol.Formats, viewers []string) (protocol.TickResult, error) {
	if a.bus.Load() != nil {
		f |= protocol.FormatAPI // what the bus announces
	}
	res, err := a.Ticker.TickFor(f, viewers)
	if bus := a.bus.Load(); err == nil && bus != nil && len(res.Messages) > 0 {
		bus.Announce(res.Messages)
		for _, m := range res.Messages {
			if m.Table == "" { // a schema event
				bus.SchemaChanged()
				break
			}
		}
	}
	return res, err
}
