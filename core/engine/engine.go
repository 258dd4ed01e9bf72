// Package engine is the core: given a host's SQLite connection it reflects the
// database, keeps the DSID, and answers HTTP requests (HTML and JSON API). It is
// pure and synchronous: every call does its work and returns; time, sockets and
// timers belong to the host.
package engine

import (
	"encoding/json"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// Options configure an engine.
type Options struct {
	BasePath  string
	Config    *Config
	Host      string
	AuthToken string
	Log       func(format string, args ...any)
}

// Engine answers requests for one database.
type Engine struct {
	db   sqldb.DB
	opts Options
}

// Config is the parsed nakedhtmx.json.
type Config struct{}

// ParseConfig parses the config file's contents (nil or "null" for none).
func ParseConfig(raw json.RawMessage) (*Config, error) { return &Config{}, nil }

// Open reflects the database and stores the DSID.
func Open(db sqldb.DB, opts Options) (*Engine, error) {
	return &Engine{db: db, opts: opts}, nil
}

// SetOptions applies a changed config or base path.
func (e *Engine) SetOptions(opts Options) { e.opts = opts }

// DSID is the current database schema id.
func (e *Engine) DSID() string { return "0-stub" }

// Tick is reserved for live updates.
func (e *Engine) Tick() any { return struct{}{} }

// Handle answers one request.
func (e *Engine) Handle(req *protocol.Request) *protocol.Response {
	rows, err := e.db.Query("SELECT sqlite_version() AS v, ? AS echo", req.Path)
	if err != nil {
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 500}, Body: []byte(err.Error())}
	}
	b, _ := json.Marshal(map[string]any{"columns": rows.Columns, "rows": rows.Values, "method": req.Method})
	return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}}, Body: b}
}
