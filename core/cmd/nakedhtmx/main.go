// Command nakedhtmx is the native Go host: the engine linked directly (no
// wasm), SQLite through bindings/go/sqlite or PostgreSQL through
// bindings/go/postgres (--db postgres://...), and the command line every
// host shares (bindings/go/cli, flags in CONTRACT.md).
//
//	go run ./core/cmd/nakedhtmx --db app.db
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/browserset"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/cli"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
	"github.com/nakedhtmx/nakedhtmx/core/store"
	pgstore "github.com/nakedhtmx/nakedhtmx/core/store/postgres"
)

func main() {
	(&cli.Program{Name: "nakedhtmx", Open: open, Uninstall: uninstall, BrowserSet: browserset.Embedded}).Main()
}

// native adapts the engine to cli.Backend. The engine is not safe for
// concurrent use, and net/http serves each request on its own goroutine, so
// every call takes the lock, as the wasm host's single thread does.
type native struct {
	mu     sync.Mutex
	db     conn
	eng    *engine.Engine
	opts   engine.Options
	closed bool
}

// conn is a store's connection as this host holds it.
type conn interface {
	sqldb.DB
	SetFilesDir(path string)
	Limit(time.Duration)
	Close() error
}

// connect opens the database --db names: a Postgres URL, or a SQLite file.
func connect(db, pgSchema string) (conn, store.Store, error) {
	if postgres.IsURL(db) {
		c, err := postgres.Open(db, pgSchema)
		if err != nil {
			return nil, nil, err
		}
		return c, pgstore.New(c.Schema()), nil
	}
	c, err := sqlite.Open(db)
	if err != nil {
		return nil, nil, err
	}
	return c, nil, nil
}

func open(_ context.Context, o cli.OpenOptions) (cli.Backend, error) {
	cfg, err := engine.ParseConfig(o.Config)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	db, st, err := connect(o.DB, o.PGSchema)
	if err != nil {
		return nil, err
	}
	db.SetFilesDir(o.FilesDir)
	opts := engine.Options{Config: cfg, Host: "go", AuthToken: o.AuthToken, Log: logTo(o.Log), WriteMode: o.Write, Node: o.Node,
		AllowedHosts: o.AllowedHosts, KeepJournalMode: o.KeepJournalMode, Store: st,
		ConfigWritable: o.ConfigWritable, ConfigText: o.Config, Offline: o.BrowserSet != nil}
	eng, err := engine.Open(db, opts)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", postgres.Shown(o.DB), err)
	}
	return &native{db: db, eng: eng, opts: opts}, nil
}

func uninstall(_ context.Context, path, pgSchema string) ([]string, string, error) {
	db, st, err := connect(path, pgSchema)
	if err != nil {
		return nil, "", err
	}
	defer db.Close()
	rep, err := engine.Uninstall(db, st)
	return rep.Removed, rep.JournalMode, err
}

func logTo(w io.Writer) func(string, ...any) {
	return func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
}

// errClosed is what every call answers once the backend is closed.
var errClosed = errors.New("nakedhtmx: the database is closed")

// locked runs one engine call under the backend's lock, unless closed.
func locked[T any](n *native, call func(*engine.Engine) T) (T, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		var zero T
		return zero, errClosed
	}
	return call(n.eng), nil
}

func (n *native) Handle(req *protocol.Request) (*protocol.Response, error) {
	return locked(n, func(e *engine.Engine) *protocol.Response {
		// A request's statements run under the core's time limit; ticks,
		// commands from the stream and opening do not (PROTOCOL.md, "Time limit").
		n.db.Limit(time.Duration(e.StatementLimitMs()) * time.Millisecond)
		defer n.db.Limit(0)
		return e.Handle(req)
	})
}

// Tick reads the change log (PROTOCOL.md, "Live"); the CLI's hub calls it on
// its timer and after every write, under the same lock as Handle.
func (n *native) Tick() (protocol.TickResult, error) { return n.TickFor(protocol.AllFormats, nil) }

// TickFor is Tick rendering only the formats asked for (the hub's streams'),
// for the viewers of its streams.
func (n *native) TickFor(f protocol.Formats, viewers []string) (protocol.TickResult, error) {
	return locked(n, func(e *engine.Engine) protocol.TickResult {
		e.SetViewers(viewers)
		return e.TickFor(f)
	})
}

// Apply runs one command from the stream, under the same lock.
func (n *native) Apply(cmd *protocol.Command, seq uint64) (protocol.ApplyResult, error) {
	return locked(n, func(e *engine.Engine) protocol.ApplyResult { return e.Apply(cmd, seq) })
}

// Outbox lists the commands this node has not applied yet, under the lock.
func (n *native) Outbox() (protocol.Outbox, error) {
	return locked(n, (*engine.Engine).Outbox)
}

func (n *native) SetConfig(raw json.RawMessage) error {
	cfg, err := engine.ParseConfig(raw)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.opts.Config, n.opts.ConfigText = cfg, raw
	n.eng.SetOptions(n.opts)
	return nil
}

func (n *native) DSID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.eng.DSID()
}

func (n *native) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	return n.db.Close()
}
