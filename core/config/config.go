// Package config is nakedhtmx.json: what a user may override of what
// reflection chose. The file is optional; every field is optional.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/rules"
)

// Config is the whole file.
type Config struct {
	// PageSize is the default number of rows on a list page (default 50, at most 1000).
	PageSize int `json:"pageSize,omitempty"`
	// Title replaces "nakedhtmx" in the page header.
	Title  string            `json:"title,omitempty"`
	Tables map[string]*Table `json:"tables,omitempty"`
	// RenamedTables names table renames reflection cannot tell (old: new).
	RenamedTables map[string]string `json:"renamedTables,omitempty"`
	// ChangeLog bounds the change log (live events, history, resume).
	ChangeLog *ChangeLog `json:"changeLog,omitempty"`
	// EmbedOrigins are the origins (scheme://host[:port]) whose pages may
	// show the app in a frame; none by default (frame-ancestors 'none').
	EmbedOrigins []string `json:"embedOrigins,omitempty"`
	// SessionHours is how long a sign-in lasts (default 12; fractions allowed).
	SessionHours float64 `json:"sessionHours,omitempty"`
	// Limits bound the work of one request (CONTRACT, "What nakedhtmx
	// writes"); zero means the default.
	Limits *Limits `json:"limits,omitempty"`
	// SQL is the SQL page (/sql, /api/sql).
	SQL *SQL `json:"sql,omitempty"`
	// Schema is editing the structure from the app (the structure pages,
	// /api/structure).
	Schema *Schema `json:"schema,omitempty"`
	// Queries are stored queries, by name: each has a page (/q/NAME) and
	// a JSON API (/api/queries/NAME).
	Queries map[string]*Query `json:"queries,omitempty"`
	// Files is where file columns keep their bytes (Column.File).
	Files *Files `json:"files,omitempty"`
	// TrustedProxies are the addresses (an IP, or a CIDR prefix) of reverse
	// proxies in front of the server: from them, and only from them,
	// X-Forwarded-For names the client (whom wrong sign-ins are counted
	// against) and X-Forwarded-Proto https marks the session cookie Secure.
	TrustedProxies []string `json:"trustedProxies,omitempty"`
	// Offline: false stops the pages registering the service worker that
	// keeps a copy for use offline (issue 19), and takes away one a
	// browser already has. Default: on, where the host serves the worker.
	Offline *bool `json:"offline,omitempty"`
	proxies []prefix
}

// OfflineEnabled says whether the config lets the pages register the
// offline service worker (on unless "offline": false).
func (c *Config) OfflineEnabled() bool {
	return c == nil || c.Offline == nil || *c.Offline
}

// TrustedProxy says whether addr (as a host saw it, no port) is one of
// TrustedProxies.
func (c *Config) TrustedProxy(addr string) bool {
	if c == nil || len(c.proxies) == 0 {
		return false
	}
	if len(addr) > 1 && addr[0] == '[' && addr[len(addr)-1] == ']' {
		addr = addr[1 : len(addr)-1]
	}
	a, _, ok := parseAddr(addr)
	if !ok {
		return false
	}
	for _, p := range c.proxies {
		if p.contains(a) {
			return true
		}
	}
	return false
}

// SQL is the SQL page's settings.
type SQL struct {
	// Enabled turns the page and /api/sql on or off. Unset: on, unless
	// the server has an --auth-token (CONTRACT: off there unless allowed).
	Enabled *bool `json:"enabled,omitempty"`
	// TimeLimitMs is how long one caller's statement (the page's and the
	// stored queries') may run (default 1000).
	TimeLimitMs int64 `json:"timeLimitMs,omitempty"`
	// Save: false keeps the app from saving stored queries into the config
	// file (the SQL page's "Save as a query", PUT /api/queries/NAME).
	Save *bool `json:"save,omitempty"`
	// Roles are the users' roles (besides the administrator's) allowed the
	// SQL page where the database has users.
	Roles []string `json:"roles,omitempty"`
}

// Schema is the structure editor's settings.
type Schema struct {
	// Edit turns schema editing on or off. Unset: on, unless the server
	// has an --auth-token (then only the config turns it on: it is the
	// permission to change what every table is).
	Edit *bool `json:"edit,omitempty"`
}

// SchemaEditEnabled says whether schema editing is on; guarded: the server
// has an --auth-token.
func (c *Config) SchemaEditEnabled(guarded bool) bool {
	if c != nil && c.Schema != nil && c.Schema.Edit != nil {
		return *c.Schema.Edit
	}
	return !guarded
}

// Query is one stored query.
type Query struct {
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// SQL is one read, with :named parameters.
	SQL string `json:"sql"`
	// Params are the parameters' default values.
	Params map[string]string `json:"params,omitempty"`
	// Chart chooses its chart; unset, the result's shape does.
	Chart *Chart `json:"chart,omitempty"`
	// Public: served to callers who have not signed in, where the server
	// has an --auth-token (what it reads stays held to the config's rules).
	Public bool `json:"public,omitempty"`
}

// Chart is a stored query's chart: its kind and the columns it draws.
type Chart struct {
	Type  string `json:"type"`            // "bar", "line", "pie" or "none"
	Label string `json:"label,omitempty"` // the column of labels (default: the first)
	Value string `json:"value,omitempty"` // the column of numbers (default: the first numeric one)
}

// ChartTypes a config may name.
var ChartTypes = []string{"bar", "line", "pie", "none"}

// DefaultSQLTimeLimitMs is how long a caller's statement may run (CONTRACT).
const DefaultSQLTimeLimitMs = 1000

// SQLTimeLimit is a caller's statement's time limit in ms, with the default.
func (c *Config) SQLTimeLimit() int64 {
	if c != nil && c.SQL != nil && c.SQL.TimeLimitMs > 0 {
		return c.SQL.TimeLimitMs
	}
	return DefaultSQLTimeLimitMs
}

// SQLEnabled says whether the SQL page is on; guarded: the server has an
// --auth-token.
func (c *Config) SQLEnabled(guarded bool) bool {
	if c != nil && c.SQL != nil && c.SQL.Enabled != nil {
		return *c.SQL.Enabled
	}
	return !guarded
}

// Limits bound one request's work; zero means the default.
type Limits struct {
	// StatementMs is how long one SQL statement of a request may run
	// before the host stops it and the request is answered 503.
	StatementMs int64 `json:"statementMs,omitempty"`
	// Members is how many members one JSON object of a body may have.
	Members int `json:"members,omitempty"`
	// QueryParams is how many query parameters one request may carry.
	QueryParams int `json:"queryParams,omitempty"`
	// FileBytes is the largest file a form may upload into a BLOB column.
	FileBytes int `json:"fileBytes,omitempty"`
}

// Default limits (CONTRACT, "What nakedhtmx writes").
const (
	DefaultStatementMs = 5000
	DefaultMembers     = 10000
	DefaultQueryParams = 1000
	// DefaultFileBytes is under the hosts' default body cap (10 MiB), so
	// a file too large is the form's field error, with what was typed kept.
	DefaultFileBytes = 8 << 20
)

// StatementLimit is the time one statement of a request may run, in
// milliseconds, with the default applied.
func (c *Config) StatementLimit() int64 {
	if c != nil && c.Limits != nil && c.Limits.StatementMs > 0 {
		return c.Limits.StatementMs
	}
	return DefaultStatementMs
}

// MemberLimit is the most members one JSON object may have.
func (c *Config) MemberLimit() int {
	if c != nil && c.Limits != nil && c.Limits.Members > 0 {
		return c.Limits.Members
	}
	return DefaultMembers
}

// FileLimit is the largest file a form may upload, in bytes.
func (c *Config) FileLimit() int {
	if c != nil && c.Limits != nil && c.Limits.FileBytes > 0 {
		return c.Limits.FileBytes
	}
	return DefaultFileBytes
}

// QueryParamLimit is the most query parameters one request may carry.
func (c *Config) QueryParamLimit() int {
	if c != nil && c.Limits != nil && c.Limits.QueryParams > 0 {
		return c.Limits.QueryParams
	}
	return DefaultQueryParams
}

// DefaultSessionHours is how long a sign-in lasts unless the config says.
const DefaultSessionHours = 12

// SessionSeconds is the sign-in lifetime with the default applied.
func (c *Config) SessionSeconds() int64 {
	h := float64(DefaultSessionHours)
	if c != nil && c.SessionHours > 0 {
		h = c.SessionHours
	}
	return int64(h * 3600)
}

// ChangeLog limits; zero means the default.
type ChangeLog struct {
	MaxRows     int64 `json:"maxRows,omitempty"`     // default 100000
	MaxAgeHours int64 `json:"maxAgeHours,omitempty"` // default 720 (30 days)
}

// LogLimits returns the change log limits with defaults applied.
func (c *Config) LogLimits() (maxRows, maxAgeHours int64) {
	maxRows, maxAgeHours = 100000, 720
	if c != nil && c.ChangeLog != nil {
		if c.ChangeLog.MaxRows > 0 {
			maxRows = c.ChangeLog.MaxRows
		}
		if c.ChangeLog.MaxAgeHours > 0 {
			maxAgeHours = c.ChangeLog.MaxAgeHours
		}
	}
	return maxRows, maxAgeHours
}

// Table overrides one table.
type Table struct {
	Label    string `json:"label,omitempty"`
	Hidden   bool   `json:"hidden,omitempty"`
	ReadOnly bool   `json:"readOnly,omitempty"`
	// Allow lists the writes the table takes, of "insert", "update" and
	// "delete"; nil allows all three, [] none (the same as readOnly).
	Allow       []string           `json:"allow,omitempty"`
	Order       []string           `json:"order,omitempty"`       // columns shown first, in this order
	LabelColumn string             `json:"labelColumn,omitempty"` // the column that names a row
	PageSize    int                `json:"pageSize,omitempty"`
	Columns     map[string]*Column `json:"columns,omitempty"`
	// RenamedColumns names column renames reflection cannot tell (old: new).
	RenamedColumns map[string]string `json:"renamedColumns,omitempty"`
	// Rules are the row rules (core/rules), by operation: list, view,
	// create, update, delete. A missing one lets any signed-in user.
	Rules map[string]string `json:"rules,omitempty"`
	// Defaults fill columns on create with the signed-in user's values
	// ("@user.id", "@user.email", "@user.role"); a body cannot override them.
	Defaults map[string]string `json:"defaults,omitempty"`
	parsed   map[string]*rules.Rule
}

// Rule is the table's parsed rule for op, or nil.
func (t *Table) Rule(op string) *rules.Rule { return t.parsed[op] }

// HasRules: the table has a rule or a default.
func (t *Table) HasRules() bool { return len(t.parsed) > 0 || len(t.Defaults) > 0 }

// UserValues are what a default may name.
var UserValues = []string{"@user.id", "@user.email", "@user.role"}

// Column overrides one column.
type Column struct {
	Label    string `json:"label,omitempty"`
	Widget   string `json:"widget,omitempty"`
	Hidden   bool   `json:"hidden,omitempty"`
	ReadOnly bool   `json:"readOnly,omitempty"`
	Help     string `json:"help,omitempty"`
	// File keeps the column's bytes in a file of the host's files
	// directory and only the file's key in the row (issue 18; README,
	// "File columns"): the column holds text, the app shows and takes
	// bytes as it does a BLOB column's.
	File bool `json:"file,omitempty"`
}

// Files is where file columns keep their bytes.
type Files struct {
	// Dir is the directory (relative to the config file's); unset: beside
	// a SQLite database file, DB-files. A Postgres store needs it.
	Dir string `json:"dir,omitempty"`
}

// Widgets a config may name.
var Widgets = map[string]bool{
	"text": true, "textarea": true, "email": true, "url": true, "tel": true, "date": true,
	"datetime": true, "checkbox": true, "select": true, "reference": true, "number": true,
	"integer": true, "file": true, "password": true, "color": true,
}

// Parse reads a config. Unknown keys are errors, so a typo is not silently ignored.
func Parse(raw []byte) (*Config, error) {
	c := &Config{}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	// encoding/json matches field names case-insensitively; a config key must
	// be spelled exactly, so check the names once more by hand.
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := exactKeys(generic, configKeys, "config"); err != nil {
		return nil, err
	}
	if c.PageSize < 0 || c.PageSize > 1000 {
		return nil, fmt.Errorf("config: pageSize must be between 1 and 1000")
	}
	if c.SessionHours < 0 || c.SessionHours > 24*366 {
		return nil, fmt.Errorf("config: sessionHours must be between 0 and 8784 (a year)")
	}
	if l := c.Limits; l != nil {
		switch {
		case l.StatementMs < 0 || l.StatementMs > 3600_000:
			return nil, fmt.Errorf("config: limits.statementMs must be between 1 and 3600000 (an hour)")
		case l.Members < 0 || l.Members > 1_000_000:
			return nil, fmt.Errorf("config: limits.members must be between 1 and 1000000")
		case l.QueryParams < 0 || l.QueryParams > 100_000:
			return nil, fmt.Errorf("config: limits.queryParams must be between 1 and 100000")
		}
	}
	for _, o := range c.EmbedOrigins {
		if !validOrigin(o) {
			return nil, fmt.Errorf("config: embedOrigins: %q is not an origin (scheme://host or scheme://host:port, nothing after it)", o)
		}
	}
	for _, p := range c.TrustedProxies {
		pre, ok := parsePrefix(p)
		if !ok {
			return nil, fmt.Errorf("config: trustedProxies: %q is not an address or a prefix (10.0.0.0/8)", p)
		}
		c.proxies = append(c.proxies, pre)
	}
	if c.Files != nil && (c.Files.Dir == "" || strings.ContainsRune(c.Files.Dir, 0)) {
		return nil, fmt.Errorf("config: files.dir must name a directory")
	}
	if c.SQL != nil && (c.SQL.TimeLimitMs < 0 || c.SQL.TimeLimitMs > 600_000) {
		return nil, fmt.Errorf("config: sql.timeLimitMs must be between 1 and 600000 (ten minutes)")
	}
	for qn, q := range c.Queries {
		switch {
		case q == nil:
			return nil, fmt.Errorf("config: query %q: null", qn)
		case qn == "" || strings.ContainsAny(qn, "/\\?#%") || strings.TrimSpace(qn) != qn:
			return nil, fmt.Errorf("config: query %q: a query's name is a path segment: no slash, ?, #, %%, or blank at either end", qn)
		case strings.TrimSpace(q.SQL) == "":
			return nil, fmt.Errorf("config: query %q: sql is empty", qn)
		case q.Chart != nil && !slices.Contains(ChartTypes, q.Chart.Type):
			return nil, fmt.Errorf("config: query %q: chart type %q (want bar, line, pie or none)", qn, q.Chart.Type)
		}
	}
	for tn, t := range c.Tables {
		if t == nil {
			return nil, fmt.Errorf("config: table %q: null", tn)
		}
		for op, text := range t.Rules {
			if !slices.Contains(rules.Ops, op) {
				return nil, fmt.Errorf("config: table %q: rules: unknown operation %q (want list, view, create, update or delete)", tn, op)
			}
			r, err := rules.Parse(text)
			if err != nil {
				return nil, fmt.Errorf("config: table %q: rules.%s: %v", tn, op, err)
			}
			if t.parsed == nil {
				t.parsed = map[string]*rules.Rule{}
			}
			t.parsed[op] = r
		}
		for col, v := range t.Defaults {
			if !slices.Contains(UserValues, v) {
				return nil, fmt.Errorf("config: table %q: defaults.%s: %q is none of @user.id, @user.email, @user.role", tn, col, v)
			}
		}
		for _, op := range t.Allow {
			if !slices.Contains(Ops, op) {
				return nil, fmt.Errorf("config: table %q: allow: unknown write %q (want insert, update or delete)", tn, op)
			}
		}
		for cn, col := range t.Columns {
			if col == nil {
				return nil, fmt.Errorf("config: table %q column %q: null", tn, cn)
			}
			if col.Widget != "" && !Widgets[col.Widget] {
				return nil, fmt.Errorf("config: table %q column %q: unknown widget %q", tn, cn, col.Widget)
			}
			if col.File && col.Hidden {
				return nil, fmt.Errorf("config: table %q column %q: a file column cannot be hidden (its files would be kept but never shown)", tn, cn)
			}
		}
	}
	return c, nil
}

// validOrigin accepts what a CSP frame-ancestors source may name of an
// origin: an http(s) scheme, a host (letters, digits, '-', '.', or a
// bracketed IPv6 literal), an optional port, and nothing else: the value goes
// into a header, so a space, ';' or ',' must never pass.
func validOrigin(o string) bool {
	rest, ok := strings.CutPrefix(o, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(o, "http://"); !ok {
			return false
		}
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
		if port == "" || len(port) > 5 {
			return false
		}
		for _, r := range port {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	if host == "" {
		return false
	}
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") || len(host) < 3 {
			return false
		}
		for _, r := range host[1 : len(host)-1] {
			if !(r == ':' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				return false
			}
		}
		return true
	}
	for _, r := range host {
		if !(r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// keySet describes the exact member names allowed at one level; "*" maps any
// name (a table or column name) to the set its value must follow.
type keySet map[string]keySet

var (
	columnKeys = keySet{"label": nil, "widget": nil, "hidden": nil, "readOnly": nil, "help": nil, "file": nil}
	tableKeys  = keySet{"label": nil, "hidden": nil, "readOnly": nil, "allow": nil, "order": nil, "labelColumn": nil,
		"pageSize": nil, "columns": keySet{"*": columnKeys}, "renamedColumns": nil, "rules": nil, "defaults": nil}
	configKeys = keySet{"pageSize": nil, "title": nil, "tables": keySet{"*": tableKeys}, "renamedTables": nil,
		"changeLog": keySet{"maxRows": nil, "maxAgeHours": nil}, "embedOrigins": nil, "sessionHours": nil,
		"schema": keySet{"edit": nil}, "files": keySet{"dir": nil}, "trustedProxies": nil, "offline": nil,
		"limits": keySet{"statementMs": nil, "members": nil, "queryParams": nil, "fileBytes": nil},
		"sql":    keySet{"enabled": nil, "timeLimitMs": nil, "save": nil, "roles": nil},
		"queries": keySet{"*": keySet{"title": nil, "description": nil, "sql": nil, "params": nil, "public": nil,
			"chart": keySet{"type": nil, "label": nil, "value": nil}}}}
)

func exactKeys(v any, allowed keySet, where string) error {
	obj, ok := v.(map[string]any)
	if !ok || allowed == nil {
		return nil
	}
	for k, child := range obj {
		next, known := allowed[k]
		if !known {
			if sub, wild := allowed["*"]; wild {
				next, known = sub, true
			}
		}
		if !known {
			return fmt.Errorf("config: unknown field %q in %s", k, where)
		}
		if err := exactKeys(child, next, where+"."+k); err != nil {
			return err
		}
	}
	return nil
}

// Table returns a table's overrides (never nil).
func (c *Config) Table(name string) *Table {
	if c != nil && c.Tables != nil {
		if t := c.Tables[name]; t != nil {
			return t
		}
	}
	return &Table{}
}

// Ops are the writes a table's "allow" can list.
var Ops = []string{"insert", "update", "delete"}

// Allows says whether the table takes this write ("insert", "update" or
// "delete"): not when it is read-only, and only the listed ones when it has
// an allow list.
func (t *Table) Allows(op string) bool {
	if t.ReadOnly {
		return false
	}
	return t.Allow == nil || slices.Contains(t.Allow, op)
}

// Column returns a column's overrides (never nil).
func (t *Table) Column(name string) *Column {
	if t.Columns != nil {
		if c := t.Columns[name]; c != nil {
			return c
		}
	}
	return &Column{}
}

// PageSizeFor returns the page size for a table.
func (c *Config) PageSizeFor(table string) int {
	if t := c.Table(table); t.PageSize > 0 {
		return t.PageSize
	}
	if c != nil && c.PageSize > 0 {
		return c.PageSize
	}
	return 50
}

// HasFileColumns: some table keeps a column's bytes in files.
func (c *Config) HasFileColumns() bool {
	if c == nil {
		return false
	}
	for _, t := range c.Tables {
		for _, col := range t.Columns {
			if col != nil && col.File {
				return true
			}
		}
	}
	return false
}
