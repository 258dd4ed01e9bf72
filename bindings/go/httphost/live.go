package httphost

// Live updates, the host's half (bindings/PROTOCOL.md, "Live"): the core finds
// changes and renders them, the hub holds the connections. It keeps every
// open event stream, calls the core's Tick on a timer and after the host's
// own writes, and hands each message to the streams it is for. One hub serves
// one core; both Go hosts use this one.

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// Defaults of PROTOCOL.md, "Live".
const (
	DefaultTickInterval = 20 * time.Millisecond
	DefaultHeartbeat    = 15 * time.Second
	DefaultMaxQueue     = 1 << 20 // unsent bytes per stream
)

// keepAlive is the comment line written to every stream on each heartbeat.
const keepAlive = ": keep-alive\n\n"

// closeGrace is how long Close lets a write in progress finish before it
// cuts the connection: a reader gets a clean end, a stuck client does not
// hold up the shutdown.
const closeGrace = time.Second

// Ticker is a core that reports live messages: the wazero host's TickFor,
// or the native engine's wrapped to return an error. The hub asks only for
// the formats its streams are in, and names the viewers of its streams
// (Subscribe.Viewer, sorted, each once): the core is told when they
// changed (PROTOCOL.md, "Live").
type Ticker interface {
	TickFor(formats protocol.Formats, viewers []string) (protocol.TickResult, error)
}

// Hub keeps the event streams of one core open and feeds them from its
// ticks. Set the fields, then Start it; an Adapter whose Live is the hub
// hands it every answer that subscribes. The zero values of the fields are
// PROTOCOL.md's. Close ends every stream; call it when the server shuts
// down (http.Server.RegisterOnShutdown), or Shutdown waits for streams that
// never end on their own.
type Hub struct {
	Ticker Ticker
	// Interval is the timer of Start: 0 means DefaultTickInterval; negative
	// means no timer (only Tick calls and the Adapter's after-write ticks).
	Interval time.Duration
	// Heartbeat is how often a `: keep-alive` comment goes to every stream;
	// 0 means DefaultHeartbeat.
	Heartbeat time.Duration
	// MaxQueue is how many unsent bytes a stream may hold before it is
	// closed (its client comes back with Last-Event-ID); 0 means
	// DefaultMaxQueue.
	MaxQueue int
	// ErrorLog receives tick failures; nil discards them.
	ErrorLog func(format string, args ...any)

	// order is held across a Handle that may subscribe and the subscriber's
	// registration, and across a Tick and its fan-out, so a new stream
	// receives every message after its backlog, no gap and no repeat.
	order   sync.Mutex
	mu      sync.Mutex // guards the fields below
	subs    map[*subscriber]struct{}
	closed  bool
	started bool
	stop    chan struct{} // closed by Close: ends the timer loop
	loop    chan struct{} // closed when the timer loop has returned
	lastErr string        // the last tick error logged, to log each once
}

// subscriber is one open event stream. The handler goroutine serving it (its
// writer) sends what is queued; the hub only appends to the queue.
type subscriber struct {
	table, format string
	viewer        string // Subscribe.Viewer: "" gets every message
	rc            *http.ResponseController
	wake          chan struct{} // capacity 1: "the queue is not empty"
	done          chan struct{} // closed when the hub ends the stream

	mu       sync.Mutex
	queue    []string
	unsent   int  // bytes queued or being written
	writing  bool // the writer is inside a write
	dropped  bool // ended for falling behind: the connection is aborted
	graced   bool // ended by Close inside a write, which has closeGrace left
	ended    bool // done is closed
	finished bool // the handler is returning; rc must not be used any more
}

// Start starts the timer that ticks the core every Interval. It returns at
// once; calling it again does nothing.
func (h *Hub) Start() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started || h.closed {
		return
	}
	h.started = true
	h.init()
	if h.Interval < 0 {
		close(h.loop)
		return
	}
	interval := h.Interval
	if interval == 0 {
		interval = DefaultTickInterval
	}
	go h.run(interval)
}

// init makes the channels and map; callers hold h.mu.
func (h *Hub) init() {
	if h.subs == nil {
		h.subs = map[*subscriber]struct{}{}
		h.stop = make(chan struct{})
		h.loop = make(chan struct{})
	}
}

func (h *Hub) run(interval time.Duration) {
	defer close(h.loop)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.Tick()
		}
	}
}

// Tick asks the core for what changed and queues each message on the
// streams it is for, in the order the core gave. It never waits for a
// client. After Close it does nothing.
func (h *Hub) Tick() error {
	h.order.Lock()
	defer h.order.Unlock()
	h.mu.Lock()
	closed := h.closed
	var formats protocol.Formats // what the streams are in: only that is rendered
	var viewers []string
	for s := range h.subs {
		formats |= protocol.FormatOf(s.format)
		if s.viewer != "" {
			viewers = append(viewers, s.viewer)
		}
	}
	h.mu.Unlock()
	if closed || h.Ticker == nil {
		return nil
	}
	slices.Sort(viewers)
	res, err := h.Ticker.TickFor(formats, slices.Compact(viewers))
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		if msg := err.Error(); msg != h.lastErr {
			h.lastErr = msg
			h.logf("nakedhtmx: live tick: %v", err)
		}
		return err
	}
	h.lastErr = ""
	if len(res.Messages) == 0 || len(h.subs) == 0 {
		return nil
	}
	limit := h.MaxQueue
	if limit <= 0 {
		limit = DefaultMaxQueue
	}
	var texts []string
	audiences := make([]audience, len(res.Messages))
	for s := range h.subs {
		texts = texts[:0]
		for i, m := range res.Messages {
			if m.Table != "" && s.table != "" && m.Table != s.table {
				continue
			}
			if m.Held && s.viewer != "" {
				// Row rules decide: the message, its removal, or nothing.
				a := &audiences[i]
				a.fill(m)
				switch {
				case a.only[s.viewer]:
				case a.gone[s.viewer]:
					m.API, m.Page = m.GoneAPI, m.GonePage
				default:
					continue
				}
			}
			if text := s.pick(m); text != "" {
				texts = append(texts, text)
			}
		}
		if len(texts) > 0 && !s.push(texts, limit) {
			delete(h.subs, s)
		}
	}
	return nil
}

// audience is a held message's Only and Gone as sets, made at its first
// stream with a viewer.
type audience struct {
	only, gone map[string]bool
}

func (a *audience) fill(m protocol.Message) {
	if a.only != nil {
		return
	}
	a.only, a.gone = make(map[string]bool, len(m.Only)), make(map[string]bool, len(m.Gone))
	for _, v := range m.Only {
		a.only[v] = true
	}
	for _, v := range m.Gone {
		a.gone[v] = true
	}
}

// pick is the text of m for this stream's format ("" for nothing).
func (s *subscriber) pick(m protocol.Message) string {
	switch s.format {
	case "api":
		return m.API
	case "page":
		return m.Page
	}
	return ""
}

// push queues texts, or, when that would put the stream over limit, ends it
// and returns false.
func (s *subscriber) push(texts []string, limit int) bool {
	n := 0
	for _, t := range texts {
		n += len(t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return false
	}
	if s.unsent+n > limit {
		s.dropped = true
		s.end()
		return false
	}
	s.queue = append(s.queue, texts...)
	s.unsent += n
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

// end closes done and unblocks the writer; callers hold s.mu. A dropped
// stream's connection is cut at once (a write deadline in the past fails
// the write the writer may be stuck in). On Close an idle writer just ends
// its response; one inside a write has closeGrace to finish it.
func (s *subscriber) end() {
	if s.ended {
		return
	}
	s.ended = true
	close(s.done)
	switch {
	case s.finished:
	case s.dropped:
		s.rc.SetWriteDeadline(time.Unix(1, 0))
	case s.writing:
		s.graced = true
		s.rc.SetWriteDeadline(time.Now().Add(closeGrace))
	}
}

// Close stops the timer and ends every stream. Answers that subscribe after
// it send their backlog and end. It waits for a tick in progress, so the
// core can be closed once it returns (whichever call of Close it is).
func (h *Hub) Close() {
	h.mu.Lock()
	h.init()
	first := !h.closed
	h.closed = true
	started := h.started
	subs := h.subs
	if first {
		close(h.stop)
		h.subs = map[*subscriber]struct{}{}
	}
	h.mu.Unlock()
	if first {
		for s := range subs {
			s.mu.Lock()
			s.end()
			s.mu.Unlock()
		}
	}
	if started {
		<-h.loop
	}
	h.order.Lock() // a tick after a write may still be running
	h.order.Unlock()
}

// Subscribers is the number of open streams.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// handle calls the core and, when its answer subscribes, registers the
// stream before any later tick can run. sub is nil when the answer is not a
// stream or the hub is closed.
func (h *Hub) handle(handler Handler, req *protocol.Request, w http.ResponseWriter) (res *protocol.Response, sub *subscriber, err error) {
	h.order.Lock()
	defer h.order.Unlock()
	if res, err = handler.Handle(req); err != nil || res.Subscribe == nil {
		return res, nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return res, nil, nil
	}
	h.init()
	sub = &subscriber{
		table:  res.Subscribe.Table,
		format: res.Subscribe.Format,
		viewer: res.Subscribe.Viewer,
		rc:     http.NewResponseController(w),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	// A server WriteTimeout would cut every stream after that long; a
	// stream is bounded by its queue instead. Cleared before any tick can
	// set a deadline of its own.
	sub.rc.SetWriteDeadline(time.Time{})
	if sub.format != "api" && sub.format != "page" {
		h.logf("nakedhtmx: %s %s: the core subscribed with unknown format %q; the stream gets only keep-alives", req.Method, req.Path, sub.format)
	}
	h.subs[sub] = struct{}{}
	return res, sub, nil
}

// serve is the writer of one stream: it sends the status, the backlog,
// then what the hub queues and a keep-alive every Heartbeat, until the
// client goes away or the hub ends the stream. The headers are set.
func (h *Hub) serve(w http.ResponseWriter, r *http.Request, s *subscriber, status int, backlog []byte) {
	defer func() {
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
		s.mu.Lock()
		s.finished = true
		dropped, graced := s.dropped, s.graced
		s.mu.Unlock()
		if graced {
			// The connection may outlive the hub (Close without a server
			// shutdown): it must not keep the deadline.
			s.rc.SetWriteDeadline(time.Time{})
		}
		if dropped {
			// Cut the connection rather than end the response: the client
			// must not take a stream with missing events for a complete one.
			panic(http.ErrAbortHandler)
		}
	}()
	// The backlog goes out even when Close came first; not when dropped.
	if !s.write(true, func() error {
		w.WriteHeader(status)
		_, err := w.Write(backlog)
		return err
	}) {
		return
	}
	every := h.Heartbeat
	if every <= 0 {
		every = DefaultHeartbeat
	}
	beat := time.NewTicker(every)
	defer beat.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-r.Context().Done():
			return
		case <-s.wake:
			if !s.send(w) {
				return
			}
		case <-beat.C:
			if !s.write(false, func() error {
				_, err := io.WriteString(w, keepAlive)
				return err
			}) {
				return
			}
		}
	}
}

// send writes everything queued, then flushes.
func (s *subscriber) send(w http.ResponseWriter) bool {
	s.mu.Lock()
	batch := s.queue
	s.queue = nil
	s.mu.Unlock()
	n := 0
	ok := s.write(false, func() error {
		for _, t := range batch {
			if _, err := io.WriteString(w, t); err != nil {
				return err
			}
			n += len(t)
		}
		return nil
	})
	s.mu.Lock()
	s.unsent -= n
	s.mu.Unlock()
	return ok
}

// write runs f (which writes to the response) and flushes, marked as
// writing so that end can interrupt it. It returns false when the stream is
// over: ended, or the client is gone. The first write (the backlog) runs
// even after the stream ended, unless it was dropped.
func (s *subscriber) write(first bool, f func() error) bool {
	s.mu.Lock()
	if s.dropped || s.ended && !first {
		s.mu.Unlock()
		return false
	}
	s.writing = true
	s.mu.Unlock()
	err := f()
	if err == nil {
		err = s.flushErr()
	}
	s.mu.Lock()
	s.writing = false
	s.mu.Unlock()
	return err == nil
}

func (s *subscriber) flushErr() error {
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

func (h *Hub) logf(format string, args ...any) {
	if h.ErrorLog != nil {
		h.ErrorLog(format, args...)
	}
}

// isWrite reports whether a request method writes: the host ticks right
// after those, so its own writes are announced without waiting.
func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}
