// Package protocol is the Go side of the core/host seam described in
// bindings/PROTOCOL.md: request and response frames, and the SQL messages the
// core sends through its `sql` import. The wasm entry point (core/cmd/wasm) and
// the wazero host (bindings/go) both use it, so the two sides cannot drift.
package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nakedhtmx/nakedhtmx/core/entropy"
	"math"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// RequestHead is the JSON head of a request frame.
type RequestHead struct {
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Query    string            `json:"query"`
	Headers  map[string]string `json:"headers"`
	Continue string            `json:"continue,omitempty"`
	TooLarge bool              `json:"tooLarge,omitempty"`
	// Command is set when the host asks again about a write that became a
	// command: its id, once this node applied it or gave up waiting.
	Command string `json:"command,omitempty"`
	// SchemaVersion is PRAGMA schema_version as the host read it on the
	// core's connection just before this call (PROTOCOL.md, "Frames"):
	// the core then need not ask for it, which was a fifth of a single-row
	// read on the JS hosts. Absent, the core asks.
	SchemaVersion *int64 `json:"schemaVersion,omitempty"`
	// Remote is the client's address as the host's socket saw it (no port),
	// never a header a client could write: wrong tokens are throttled per
	// client by it.
	Remote string `json:"remote,omitempty"`
	// Probe asks, before a large body is read, whether this caller may send
	// one: the core answers status 100 when it may, else the refusal it
	// would give (401, 403, 413, 421, 429), and the host reads no body.
	Probe bool `json:"probe,omitempty"`
	// ConfigError is set when the host asks again about an answer that
	// carried a config to write (ResponseHead.ConfigText) and it could not:
	// the core then answers the request with this failure.
	ConfigError *ConfigError `json:"configError,omitempty"`
}

// ConfigError is why a host did not write the config the core gave it: 409
// when the file changed since the text the core edited, 500 when the write
// failed.
type ConfigError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// ResponseHead is the JSON head of a response frame.
type ResponseHead struct {
	Status    int         `json:"status,omitempty"`
	Headers   [][2]string `json:"headers,omitempty"`
	Continue  string      `json:"continue,omitempty"`
	Subscribe *Subscribe  `json:"subscribe,omitempty"`
	// Command: in jetstream write mode, the write this request became. The
	// host publishes it and asks again (RequestHead.Command) once applied.
	Command *Command `json:"command,omitempty"`
	// ConfigText: the request saved a stored query (or took one out) and
	// this is the config file's new text, an edit of OpenRequest.ConfigText.
	// The host writes it where the config lives, applies it (nh_open), and
	// then sends this answer; when it cannot, it asks again with
	// RequestHead.ConfigError.
	ConfigText *string `json:"configText,omitempty"`
}

// Command is one write on the stream (--write jetstream): made by the node
// that took the request, applied by every node in stream order.
type Command struct {
	ID      string         `json:"id"` // also the Nats-Msg-Id: a retried publish is stored once
	Node    string         `json:"node"`
	DSID    string         `json:"dsid"` // the schema the write was checked against
	Table   string         `json:"table"`
	Op      string         `json:"op"`            // insert, update, delete, migrate, schemaEdit or batch
	Key     string         `json:"key,omitempty"` // update, delete: the key as one path segment
	Values  map[string]any `json:"values,omitempty"`
	Version string         `json:"version,omitempty"` // the row version the write was based on
	SQL     string         `json:"sql,omitempty"`     // op "migrate": the DDL every node runs
	// Edit is op "schemaEdit": a schema edit made from the app (the JSON of
	// core/schemaedit.Edit), which every node plans and runs itself.
	Edit json.RawMessage `json:"edit,omitempty"`
	// Ops is op "batch": writes (insert, update, delete) applied in one
	// transaction, all of them or none (an import, a batch, a bulk edit).
	Ops []Command `json:"ops,omitempty"`
	// Conflict is an imported row's insert ("skip" or "update"): what each
	// node does when a row with its key exists there by then (none: the
	// insert fails). Line is the row's line in the file, for messages.
	Conflict string `json:"conflict,omitempty"`
	Line     int    `json:"line,omitempty"`
	// By is the signed-in user who made the write (none: an administrator
	// by the token, or an app without users): the node that applies it
	// holds it to the row rules for that user.
	By *CommandUser `json:"by,omitempty"`
}

// CommandUser is who made a command.
type CommandUser struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

// Outbox is what nh_outbox answers: the commands this node made and has not
// applied yet, oldest first; the host publishes them.
type Outbox struct {
	Commands []Command `json:"commands"`
	// Applied is the stream sequence of the last command applied here: a
	// node starts its consumer after it (its file may be older than the
	// consumer thinks, restored from a backup).
	Applied uint64 `json:"applied"`
}

// NewCommandID makes a command id: 16 random bytes in hex (32 characters),
// also the command's Nats-Msg-Id.
func NewCommandID() (string, error) {
	var id [16]byte
	if err := entropy.Read(id[:]); err != nil {
		return "", fmt.Errorf("no randomness for a command id: %w", err)
	}
	return hex.EncodeToString(id[:]), nil
}

// CommandIDOK says whether id has NewCommandID's form: 32 lower-case hex
// digits (a copy's commands carry their own, PROTOCOL.md "Offline writes").
func CommandIDOK(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !('0' <= id[i] && id[i] <= '9' || 'a' <= id[i] && id[i] <= 'f') {
			return false
		}
	}
	return true
}

// Subject is where a command on this table with this operation is published
// (PROTOCOL.md, "Commands"): nakedhtmx.cmd.<table>.<op>, each a Token.
func Subject(table, op string) string {
	return "nakedhtmx.cmd." + Token(table) + "." + Token(op)
}

// Token encodes a name as one NATS subject token: [A-Za-z0-9_-] as is, every
// other byte as ~XX (hex), "" as "~". Different names stay different.
func Token(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-' {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "~%02X", ch)
		}
	}
	if b.Len() == 0 {
		return "~"
	}
	return b.String()
}

// ApplyResult is what applying one command came to on this node.
type ApplyResult struct {
	ID      string `json:"id"`
	Seq     uint64 `json:"seq"`
	Status  int    `json:"status"`            // the write's status: 201, 200, 204, or the failure's
	Skipped bool   `json:"skipped,omitempty"` // at or below the last sequence applied
	Error   string `json:"error,omitempty"`
}

// Subscribe marks an answer as an event stream the host keeps open (PROTOCOL.md, "Live").
type Subscribe struct {
	Table  string `json:"table"`
	Format string `json:"format"` // "api" or "page"
	// Viewer names the signed-in user the stream is for when row rules
	// hold them ("": sees every message): the host passes the viewers of
	// its open streams with each tick whose set changed (TickRequest), and
	// delivers a message marked Held only as its Only and Gone lists say.
	Viewer string `json:"viewer,omitempty"`
}

// Message is one live message of a tick, rendered once per format.
type Message struct {
	ID    int64  `json:"id"`
	Table string `json:"table"`
	API   string `json:"api"`
	Page  string `json:"page"`
	// Held: the table's row rules decide who gets it. A stream with a
	// Viewer gets API and Page when its viewer is in Only, GoneAPI and
	// GonePage (the row left what the viewer may see: a removal) when in
	// Gone, and nothing otherwise; a stream without one gets API and Page.
	Held     bool     `json:"held,omitempty"`
	Only     []string `json:"only,omitempty"`
	Gone     []string `json:"gone,omitempty"`
	GoneAPI  string   `json:"goneApi,omitempty"`
	GonePage string   `json:"gonePage,omitempty"`
}

// OpenRequest is what nh_open takes (PROTOCOL.md, "OpenRequest / OpenResult").
type OpenRequest struct {
	BasePath  string          `json:"basePath"`
	Config    json.RawMessage `json:"config"`
	Host      string          `json:"host"`
	AuthToken string          `json:"authToken"`
	// LiveAfter is set only when a host re-opens a fresh instance after a
	// trap: the id of the last live message it delivered, so the new core
	// goes on from there and no open stream misses a change.
	LiveAfter *int64 `json:"liveAfter,omitempty"`
	// Write is the write mode: "direct" (or "") or "jetstream" (writes
	// become commands, see Command); Node names this node in them.
	Write string `json:"write,omitempty"`
	Node  string `json:"node,omitempty"`
	// AllowedHosts are the Host names answered besides the loopback ones
	// (--allowed-host and the listen address); any other gets 421.
	AllowedHosts []string `json:"allowedHosts,omitempty"`
	// KeepJournalMode: the core leaves the file's journal mode as it is
	// instead of switching it to WAL (--keep-journal-mode).
	KeepJournalMode bool `json:"keepJournalMode,omitempty"`
	// Store is what the host's SQL runs on: "sqlite" (or "") or
	// "postgres", serving the schema PGSchema ("" is public).
	Store    string `json:"store,omitempty"`
	PGSchema string `json:"pgSchema,omitempty"`
	// ConfigText is the config file's text as the host read it, when the
	// host will write the core's edits of it back there (ResponseHead.
	// ConfigText): "" for a file that does not exist yet. Given, it is the
	// config (Config is not read); absent, the app cannot change the config.
	ConfigText *string `json:"configText,omitempty"`
	// Replica opens the core as a local copy of a server's (issue 19): the
	// server's GET /api/replica answer, as it came. Its config is the
	// copy's (Config is not read), and the store is SQLite.
	Replica json.RawMessage `json:"replica,omitempty"`
	// Offline: the host serves the offline service worker (PROTOCOL.md,
	// "Offline"); pages then register it unless the config opts out.
	Offline bool `json:"offline,omitempty"`
}

// OpenResult is what nh_open answers: the DSID and the id after which live
// messages start, or an error.
type OpenResult struct {
	DSID string `json:"dsid,omitempty"`
	Seq  int64  `json:"seq,omitempty"`
	// StatementMs is how long one statement of a request may run: the
	// host stops it past that (PROTOCOL.md, "Time limit").
	StatementMs int64  `json:"statementMs,omitempty"`
	Error       string `json:"error,omitempty"`
}

// Formats are the texts of live messages a tick renders: a message nobody
// is listening to in a format is not rendered in it (PROTOCOL.md, "Live").
type Formats uint8

const (
	FormatAPI  Formats = 1 << iota // "api": the /api/events text
	FormatPage                     // "page": the pages' text
	AllFormats = FormatAPI | FormatPage
)

var formatNames = [...]string{"api", "page"}

// TickRequest is nh_tick's input; without one a tick renders every format.
type TickRequest struct {
	Formats []string `json:"formats"`
	// SchemaVersion is the host's PRAGMA schema_version, as in RequestHead.
	SchemaVersion *int64 `json:"schemaVersion,omitempty"`
	// Viewers are the Viewer names of the host's open streams (Subscribe),
	// sent when they changed since the last tick this core instance had
	// (and with its first): absent, they are as they were.
	Viewers *[]string `json:"viewers,omitempty"`
}

// FormatOf is the format a name stands for; 0 for an unknown name.
func FormatOf(name string) Formats {
	for i, known := range formatNames {
		if name == known {
			return 1 << i
		}
	}
	return 0
}

// ParseFormats reads format names; an unknown name is ignored.
func ParseFormats(names []string) Formats {
	var f Formats
	for _, n := range names {
		f |= FormatOf(n)
	}
	return f
}

// Names are the format names of f, for a TickRequest.
func (f Formats) Names() []string {
	names := []string{}
	for i, n := range formatNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return names
}

// TickResult is what nh_tick answers.
type TickResult struct {
	Messages []Message `json:"messages"`
}

// Request is a decoded request frame.
type Request struct {
	RequestHead
	Body []byte
}

// Response is a decoded response frame.
type Response struct {
	ResponseHead
	Body []byte
}

// Header returns the first value of a response header (case-sensitive, lower-case names).
func (r *Response) Header(name string) string {
	for _, h := range r.Headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

// EncodeFrame writes a frame: a 4-byte little-endian head length, the JSON head, the body.
func EncodeFrame(head any, body []byte) []byte {
	if rh, ok := head.(ResponseHead); ok {
		out := make([]byte, 4, 4+256+len(body))
		if out, ok := appendResponseHead(out, &rh); ok {
			binary.LittleEndian.PutUint32(out, uint32(len(out)-4))
			return append(out, body...)
		}
	}
	h, err := json.Marshal(head)
	if err != nil {
		panic(err) // heads are plain structs; a failure is a programming error
	}
	out := make([]byte, 4, 4+len(h)+len(body))
	binary.LittleEndian.PutUint32(out, uint32(len(h)))
	out = append(out, h...)
	return append(out, body...)
}

// SplitFrame returns a frame's JSON head and its body (aliasing b).
func SplitFrame(b []byte) (head, body []byte, err error) {
	if len(b) < 4 {
		return nil, nil, errors.New("frame shorter than its length prefix")
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, fmt.Errorf("frame head length %d exceeds frame size %d", n, len(b)-4)
	}
	return b[4 : 4+n], b[4+n:], nil
}

// DecodeRequest parses a request frame.
func DecodeRequest(b []byte) (*Request, error) {
	head, body, err := SplitFrame(b)
	if err != nil {
		return nil, err
	}
	h, err := requestHead(head)
	if err != nil {
		return nil, fmt.Errorf("request head: %w", err)
	}
	return &Request{RequestHead: h, Body: body}, nil
}

// DecodeResponse parses a response frame.
func DecodeResponse(b []byte) (*Response, error) {
	head, body, err := SplitFrame(b)
	if err != nil {
		return nil, err
	}
	r := &Response{Body: body}
	if err := json.Unmarshal(head, &r.ResponseHead); err != nil {
		return nil, fmt.Errorf("response head: %w", err)
	}
	return r, nil
}

// SQLRequest is what the core sends through the `sql` import.
type SQLRequest struct {
	SQL    string  `json:"sql"`
	Params []Value `json:"params,omitempty"`
	Script bool    `json:"script,omitempty"`
	// Unbounded marks a read whose work the core cannot bound (a view's
	// definition may take any time), or a statement of a write whose
	// triggers it cannot bound: a host that cannot stop a statement where it
	// runs runs this one where it can (PROTOCOL.md, "Time limit").
	Unbounded bool `json:"unbounded,omitempty"`
	// RowsOnly: the core reads only the rows; changes and the last insert
	// rowid may be answered 0 (binary FlagRowsOnly).
	RowsOnly bool `json:"rowsOnly,omitempty"`
	// Keep: a request before the last of its message whose result is part
	// of the answer (binary FlagKeep; PROTOCOL.md, "Statements in one call").
	Keep bool `json:"-"`
	// Caller, when set, makes the script SQL a caller sent (PROTOCOL.md,
	// "Caller SQL"): its own transaction, the guard, the time limit. Such
	// a request is always sent as JSON.
	Caller *sqldb.Guard `json:"caller,omitempty"`
	// Read, when set, makes SQL a caller's read-only statement
	// (PROTOCOL.md, "Caller reads"): read-only, within its time limit, at
	// most MaxRows+1 rows. Such a request is always sent as JSON.
	Read *sqldb.Read `json:"read,omitempty"`
	// File, when set, is no SQL but a file column's file (PROTOCOL.md,
	// "Files"): the request is {"file": {...}} and nothing else, as JSON.
	File *FileRequest `json:"file,omitempty"`
}

// FileRequest asks the host's files directory to put, get or delete the
// file a key names (sqldb.Files). Data is put's bytes (base64 in JSON). A
// get answers one row of one column, the bytes; a missing file is the
// error code NOT_FOUND.
type FileRequest struct {
	Op   string `json:"op"`
	Key  string `json:"key"`
	Data []byte `json:"data,omitempty"`
}

// SQLResult is what the host answers.
type SQLResult struct {
	Columns         []string  `json:"columns,omitempty"`
	Rows            [][]Value `json:"rows,omitempty"`
	Changes         int64     `json:"changes"`
	LastInsertRowid int64     `json:"lastInsertRowid"`
	Error           string    `json:"error,omitempty"`
	Code            string    `json:"code,omitempty"`
}

// Value wraps one SQLite value: nil, int64, float64, string or []byte.
type Value struct{ V any }

// MarshalJSON encodes a value as PROTOCOL.md says.
func (v Value) MarshalJSON() ([]byte, error) { return appendValue(nil, v.V) }

// UnmarshalJSON decodes a value; integral numbers become int64, others float64.
func (v *Value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("protocol: empty value")
	case b[0] == 'n':
		v.V = nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v.V = s
	case b[0] == '{':
		var m struct {
			Blob *string `json:"$blob"`
			Real *string `json:"$real"`
		}
		if err := json.Unmarshal(b, &m); err == nil && m.Blob == nil && m.Real != nil {
			switch *m.Real {
			case "Infinity":
				v.V = math.Inf(1)
				return nil
			case "-Infinity":
				v.V = math.Inf(-1)
				return nil
			}
		}
		if err := json.Unmarshal(b, &m); err != nil || m.Blob == nil {
			return fmt.Errorf("protocol: bad blob value %s", b)
		}
		raw, err := base64.StdEncoding.DecodeString(*m.Blob)
		if err != nil {
			return err
		}
		v.V = raw
	case b[0] == 't':
		v.V = int64(1)
	case b[0] == 'f':
		v.V = int64(0)
	default:
		if !bytes.ContainsAny(b, ".eE") {
			if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
				v.V = n
				return nil
			}
		}
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("protocol: bad number %s", b)
		}
		v.V = f
	}
	return nil
}

// Values wraps plain Go values.
func Values(args []any) []Value {
	out := make([]Value, len(args))
	for i, a := range args {
		out[i] = Value{a}
	}
	return out
}

// Unwrap turns Values back into plain Go values.
func Unwrap(vs []Value) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v.V
	}
	return out
}
