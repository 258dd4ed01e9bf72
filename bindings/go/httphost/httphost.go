// Package httphost is the one net/http adapter of the Go hosts: it turns an
// *http.Request into a protocol request for the core, and the core's response
// (with its continuations) back into HTTP. The native host (core/cmd/nakedhtmx)
// and the wazero host (bindings/go) both serve through it, so the two cannot
// differ in how they move bytes. See bindings/PROTOCOL.md, "Frames". live.go
// is the other half: the event streams of PROTOCOL.md, "Live".
package httphost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/browserset"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// DefaultMaxBody is the request body cap PROTOCOL.md sets for every host.
const DefaultMaxBody = 10 << 20

// Handler is the core as the adapter sees it: the wazero host, or the native
// engine wrapped to return an error (it never does).
type Handler interface {
	Handle(*protocol.Request) (*protocol.Response, error)
}

// Adapter serves a Handler over net/http.
type Adapter struct {
	Handler Handler
	// BasePath is removed from every request path before the core sees it
	// ("" or "/admin": leading slash, no trailing slash). Requests outside it
	// get 404 without reaching the core.
	BasePath string
	// MaxBody caps request bodies; 0 means DefaultMaxBody.
	MaxBody int64
	// BodyReadTimeout is how long a body may take to arrive; 0 means
	// DefaultBodyReadTimeout.
	BodyReadTimeout time.Duration
	// ProbeBodiesOver: a body larger than this (or of unknown length) is
	// read only after the core said the caller may send one (PROTOCOL.md,
	// "probe"). 0: never asked; the CLI sets it when a token is required.
	ProbeBodiesOver int64
	// ErrorLog receives core failures (a trapped module); nil discards them.
	ErrorLog func(format string, args ...any)
	// Offline is the browser set served at BasePath/offline/ (PROTOCOL.md,
	// "Offline"); nil: none, and the core's pages do not name the worker.
	Offline *browserset.Set
	// Live holds the event streams (PROTOCOL.md, "Live"): answers that
	// subscribe are kept open on it, and it ticks right after every POST,
	// PUT, PATCH and DELETE. Its Ticker must be the same core as Handler.
	// Without it such answers send their backlog and end.
	Live *Hub
	// Commands takes the writes the core turned into commands (--write
	// jetstream, PROTOCOL.md "Commands"): it publishes one and waits until
	// this node has applied it. Nil: such an answer goes out as it is (202).
	Commands CommandSink
	// Config writes the config edits the core hands over (a stored query
	// saved from the SQL page; PROTOCOL.md, "Config"). Nil: such an answer
	// is asked again as a failed write.
	Config ConfigSink
}

// ConfigSink writes a config's new text where the config lives and applies
// it before the answer goes out; nil when it did, else why not (409: the
// file changed since the core read it; 500: the write failed).
type ConfigSink interface {
	SaveConfig(text []byte) *protocol.ConfigError
}

// saveConfig writes the config an answer carries, or asks the core again
// with why it could not (it then answers the request as a failure).
func (a *Adapter) saveConfig(req *protocol.Request, res *protocol.Response) (*protocol.Response, error) {
	failure := &protocol.ConfigError{Status: 500, Message: "this server does not write its config"}
	if a.Config != nil {
		failure = a.Config.SaveConfig([]byte(*res.ConfigText))
	}
	if failure == nil {
		res.ConfigText = nil
		return res, nil
	}
	again := &protocol.Request{RequestHead: req.RequestHead, Body: req.Body}
	again.ConfigError = failure
	return a.Handler.Handle(again)
}

// CommandSink publishes a command and waits for this node to apply it; it
// reports whether it was applied. A command it cannot publish yet stays in
// the core's outbox (pending); an error only means ctx ended.
type CommandSink interface {
	Submit(ctx context.Context, cmd *protocol.Command) (applied bool, err error)
}

// ServeHTTP implements http.Handler.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, ok := a.request(w, r)
	if !ok {
		return
	}
	var res *protocol.Response
	var sub *subscriber
	var err error
	if a.Live != nil {
		res, sub, err = a.Live.handle(a.Handler, req, w)
		if err == nil && isWrite(r.Method) {
			// Before the answer goes out: when the client has it, the
			// events of its write are already queued on every stream.
			a.Live.Tick()
		}
	} else {
		res, err = a.Handler.Handle(req)
	}
	if err == nil && res.Command != nil && a.Commands != nil {
		if _, perr := a.Commands.Submit(r.Context(), res.Command); perr != nil {
			return // the client went away; the command is kept and still goes out
		}
		// Applied here (or still on its way): the core answers as a direct write would.
		again := &protocol.Request{RequestHead: req.RequestHead, Body: req.Body}
		again.Command = res.Command.ID
		res, err = a.Handler.Handle(again)
		if err == nil && a.Live != nil {
			a.Live.Tick()
		}
	}
	if err == nil && res.ConfigText != nil {
		res, err = a.saveConfig(req, res)
	}
	// An answer without a status is the core yielding before it has one (a
	// long search read in windows; PROTOCOL.md, "Frames"): others go first,
	// then it is asked again.
	for err == nil && sub == nil && res.Status == 0 && res.Continue != "" {
		if r.Context().Err() != nil {
			return
		}
		runtime.Gosched()
		again := &protocol.Request{RequestHead: req.RequestHead}
		again.TooLarge, again.Continue = false, res.Continue
		res, err = a.Handler.Handle(again)
	}
	if err != nil {
		a.logf("nakedhtmx: %s %s: %v", r.Method, r.URL.Path, err)
		http.Error(w, "internal error: the core failed (see the server log)", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	for _, kv := range res.Headers {
		h.Add(kv[0], kv[1])
	}
	status := res.Status
	if status == 0 {
		status = http.StatusOK
	}
	if sub != nil {
		a.Live.serve(w, r, sub, status, res.Body)
		return
	}
	w.WriteHeader(status)
	w.Write(res.Body)
	// A subscribing answer without a hub, or after it closed (shutting
	// down), is its backlog alone.
	if res.Continue != "" && res.Subscribe == nil {
		a.stream(w, r, req, res.Continue)
	}
}

// stream sends the continuation parts of an answer, flushing after each so
// the client gets rows while the core is still producing them.
func (a *Adapter) stream(w http.ResponseWriter, r *http.Request, req *protocol.Request, token string) {
	flusher := http.NewResponseController(w)
	next := &protocol.Request{RequestHead: req.RequestHead}
	next.TooLarge = false
	for token != "" {
		if err := flusher.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return // the client is gone; there is no one to send the rest to
		}
		if err := r.Context().Err(); err != nil {
			return
		}
		next.Continue = token
		res, err := a.Handler.Handle(next)
		if err != nil {
			a.logf("nakedhtmx: %s %s (continuation): %v", r.Method, r.URL.Path, err)
			// The status line is already sent; aborting the connection is the
			// only way to tell the client the body is incomplete.
			panic(http.ErrAbortHandler)
		}
		if a.Live != nil && isWrite(r.Method) {
			a.Live.Tick() // every nh_handle of a write, continuations too
		}
		if len(res.Body) > 0 {
			if _, err := w.Write(res.Body); err != nil {
				return
			}
		}
		// Every part is bounded work (a chunk, or a window read with nothing
		// found); other requests go first before the next. (Event streams
		// do not use continuations: they subscribe, see live.go.)
		runtime.Gosched()
		token = res.Continue
	}
}

// request builds the protocol request, or answers the client itself and
// returns false.
func (a *Adapter) request(w http.ResponseWriter, r *http.Request) (*protocol.Request, bool) {
	path := r.URL.EscapedPath()
	if a.BasePath != "" {
		switch {
		case path == a.BasePath:
			path = "/"
		case strings.HasPrefix(path, a.BasePath+"/"):
			path = path[len(a.BasePath):]
		default:
			http.NotFound(w, r)
			return nil, false
		}
	}
	if path == "" {
		path = "/"
	}
	if a.Offline.Serve(w, r, path, a.BasePath) {
		return nil, false
	}
	req := &protocol.Request{RequestHead: protocol.RequestHead{
		Method:  r.Method,
		Path:    path,
		Query:   r.URL.RawQuery,
		Headers: headers(r),
		Remote:  remoteHost(r.RemoteAddr),
	}}

	limit := a.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if r.ContentLength > limit {
		// Declared too large: do not read a byte of it.
		req.TooLarge = true
		return req, true
	}
	// A body past ProbeBodiesOver (or of unknown length) is read only for a
	// caller the core knows: signed-out connections cannot make the server
	// hold megabytes each.
	if over := a.ProbeBodiesOver; over > 0 && r.Body != nil && r.Body != http.NoBody && (r.ContentLength < 0 || r.ContentLength > over) {
		probe := &protocol.Request{RequestHead: req.RequestHead}
		probe.Probe = true
		res, err := a.Handler.Handle(probe)
		if err != nil || res.Status != http.StatusContinue {
			w.Header().Set("connection", "close") // the body stays unread
			if err != nil {
				http.Error(w, "internal error: the core failed (see the server log)", http.StatusInternalServerError)
				return nil, false
			}
			for _, kv := range res.Headers {
				w.Header().Add(kv[0], kv[1])
			}
			w.WriteHeader(res.Status)
			w.Write(res.Body)
			return nil, false
		}
	}
	// A body has BodyReadTimeout to arrive: a client that trickles one
	// byte a minute must not hold a request open (and its memory) for ever.
	// The deadline is lifted once it is read, so a long answer is not cut.
	rc := http.NewResponseController(w)
	wait := a.BodyReadTimeout
	if wait <= 0 {
		wait = DefaultBodyReadTimeout
	}
	rc.SetReadDeadline(time.Now().Add(wait))
	// Reading one byte past the cap is how an undeclared (chunked) body
	// shows it is too large without the host buffering all of it.
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The connection's reads are spent: answer, then close it.
			w.Header().Set("connection", "close")
			http.Error(w, "the request body took too long to arrive", http.StatusRequestTimeout)
			return nil, false
		}
		http.Error(w, "cannot read the request body: "+err.Error(), http.StatusBadRequest)
		return nil, false
	}
	rc.SetReadDeadline(time.Time{}) // read: the answer may take its time
	if int64(len(body)) > limit {
		req.TooLarge = true
		return req, true
	}
	req.Body = body
	return req, true
}

// SignedOutMaxBody is the largest body read before the core says the caller
// is known (CONTRACT, "What nakedhtmx writes": 64 KiB).
const SignedOutMaxBody = 64 << 10

// DefaultBodyReadTimeout is how long a request body may take to arrive.
const DefaultBodyReadTimeout = 30 * time.Second

// remoteHost is the client's address without its port (wrong tokens are
// throttled per client).
func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// headers lower-cases names and joins repeated values the way HTTP allows:
// with ", ", except cookies, which HTTP/2 splits into several headers and
// which join with "; ". Go moves Host out of the header map; it goes back in.
func headers(r *http.Request) map[string]string {
	out := make(map[string]string, len(r.Header)+2)
	for name, values := range r.Header {
		name = strings.ToLower(name)
		sep := ", "
		if name == "cookie" {
			sep = "; "
		}
		out[name] = strings.Join(values, sep)
	}
	if r.Host != "" {
		out["host"] = r.Host
	}
	if _, ok := out["content-length"]; !ok && r.ContentLength >= 0 && r.Body != nil && r.Body != http.NoBody {
		out["content-length"] = strconv.FormatInt(r.ContentLength, 10)
	}
	return out
}

func (a *Adapter) logf(format string, args ...any) {
	if a.ErrorLog != nil {
		a.ErrorLog(format, args...)
	}
}

// Collect drives a request through all its continuations and returns the
// first response with every part's body appended: what a client would
// receive, for callers that want the whole answer (tests, the schema
// subcommand, the corpus runners).
func Collect(h Handler, req *protocol.Request) (*protocol.Response, error) {
	res, err := h.Handle(req)
	if err != nil {
		return nil, err
	}
	next := &protocol.Request{RequestHead: req.RequestHead}
	for res.Status == 0 && res.Continue != "" { // the core yielded before its head
		next.Continue = res.Continue
		if res, err = h.Handle(next); err != nil {
			return nil, fmt.Errorf("continuation: %w", err)
		}
	}
	out := &protocol.Response{ResponseHead: res.ResponseHead, Body: append([]byte(nil), res.Body...)}
	for token := res.Continue; token != ""; {
		next.Continue = token
		part, err := h.Handle(next)
		if err != nil {
			return nil, fmt.Errorf("continuation: %w", err)
		}
		out.Body = append(out.Body, part.Body...)
		token = part.Continue
	}
	out.Continue = ""
	return out, nil
}
