package httphost

// Tests of the live hub over real HTTP on loopback, with a fake core that
// answers subscriptions and hands out messages on Tick the way the engine
// does (PROTOCOL.md, "Live").

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// liveCore is a fake core. GET /events?table=&format= subscribes; its
// backlog is the messages after ?after= up to the last one ticked, then a
// "start" event naming that id, so a test can tell where the live part
// begins. A write to /rows makes a message. Tick hands out the messages made
// since the last tick, like the engine's change log.
type liveCore struct {
	mu      sync.Mutex
	all     []protocol.Message // every message made; all[i].ID == i+1
	ticked  int                // how many of all the ticks have handed out
	calls   []string           // "GET /events", "tick", ...
	ticks   int
	tickErr error
	formats []protocol.Formats // what each tick asked for
	viewers [][]string         // what each tick named
}

func (c *liveCore) Handle(r *protocol.Request) (*protocol.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, r.Method+" "+r.Path)
	switch {
	case r.Path == "/events":
		q, _ := url.ParseQuery(r.Query)
		after := c.ticked // no ?after=: no backlog
		if s := q.Get("after"); s != "" {
			after, _ = strconv.Atoi(s)
		}
		sub := &protocol.Subscribe{Table: q.Get("table"), Format: q.Get("format"), Viewer: q.Get("viewer")}
		var b strings.Builder
		b.WriteString("retry: 1000\n\n")
		for _, m := range c.all[:c.ticked] {
			if int(m.ID) <= after || (m.Table != "" && sub.Table != "" && m.Table != sub.Table) {
				continue
			}
			if sub.Format == "api" {
				b.WriteString(m.API)
			} else {
				b.WriteString(m.Page)
			}
		}
		fmt.Fprintf(&b, "id: %d\nevent: start\ndata: {}\n\n", c.ticked)
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200,
			Headers:   [][2]string{{"content-type", "text/event-stream"}, {"cache-control", "no-store"}},
			Subscribe: sub}, Body: []byte(b.String())}, nil
	case r.Path == "/rows" && r.Method != "GET":
		c.makeLocked("Album", 10)
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 201}, Body: []byte("made")}, nil
	}
	return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200}, Body: []byte("page")}, nil
}

func (c *liveCore) TickFor(f protocol.Formats, viewers []string) (protocol.TickResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "tick")
	c.formats = append(c.formats, f)
	c.viewers = append(c.viewers, viewers)
	c.ticks++
	if c.tickErr != nil {
		return protocol.TickResult{}, c.tickErr
	}
	res := protocol.TickResult{Messages: append([]protocol.Message{}, c.all[c.ticked:]...)}
	c.ticked = len(c.all)
	return res, nil
}

// make adds a message for table ("" for a schema change) whose texts are
// padded to about size bytes.
func (c *liveCore) make(table string, size int) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.makeLocked(table, size)
}

func (c *liveCore) makeLocked(table string, size int) int64 {
	id := int64(len(c.all) + 1)
	pad := strings.Repeat("x", size)
	c.all = append(c.all, protocol.Message{ID: id, Table: table,
		API:  fmt.Sprintf("id: %d\nevent: change\ndata: {\"table\":%q,\"pad\":%q}\n\n", id, table, pad),
		Page: fmt.Sprintf("id: %d\nevent: nh-change\ndata: {\"table\":%q,\"pad\":%q}\n\n", id, table, pad)})
	return id
}

// add adds a message as is.
func (c *liveCore) add(m protocol.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m.ID = int64(len(c.all) + 1)
	c.all = append(c.all, m)
}

func (c *liveCore) tickCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ticks
}

func (c *liveCore) callLog() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

// event is one server-sent event, or a comment.
type event struct {
	id, name, data, comment string
}

// stream is an open event stream read by a goroutine.
type stream struct {
	res    *http.Response
	events chan event
	err    chan error // the read error that ended the stream (io.EOF: a clean end)
}

func openStream(t *testing.T, rawURL string) *stream {
	t.Helper()
	res, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, content-type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &stream{res: res, events: make(chan event, 1<<16), err: make(chan error, 1)}
	go func() {
		s.err <- readEvents(res.Body, s.events)
		close(s.events)
	}()
	return s
}

// readEvents parses SSE text into events; retry-only blocks are skipped.
func readEvents(r io.Reader, out chan<- event) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var ev event
	fields := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if fields {
				out <- ev
			}
			ev, fields = event{}, false
		case strings.HasPrefix(line, ":"):
			out <- event{comment: strings.TrimSpace(line[1:])}
		case strings.HasPrefix(line, "id: "):
			ev.id, fields = line[4:], true
		case strings.HasPrefix(line, "event: "):
			ev.name, fields = line[7:], true
		case strings.HasPrefix(line, "data: "):
			ev.data, fields = line[6:], true
		}
	}
}

// next returns the next event that is not a comment.
func (s *stream) next(t *testing.T) event {
	t.Helper()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("the stream ended: %v", <-s.err)
			}
			if ev.comment == "" {
				return ev
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5 s")
		}
	}
}

// ids reads events until the one with id last, and returns the ids seen.
func (s *stream) ids(t *testing.T, last string) []string {
	t.Helper()
	var got []string
	for {
		ev := s.next(t)
		got = append(got, ev.id)
		if ev.id == last {
			return got
		}
	}
}

// quiet fails if an event (not a comment) arrives within d.
func (s *stream) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			if ev.comment == "" {
				t.Fatalf("unexpected event %+v", ev)
			}
		case <-deadline:
			return
		}
	}
}

// ended waits for the stream to end and returns the read error.
func (s *stream) ended(t *testing.T, within time.Duration) error {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return <-s.err
			}
		case <-deadline:
			t.Fatalf("the stream is still open after %v", within)
		}
	}
}

func waitUntil(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// liveServer serves core through an Adapter with a hub that has no timer:
// the test ticks by hand (or through writes).
func liveServer(t *testing.T, core *liveCore, hub *Hub) *httptest.Server {
	t.Helper()
	hub.Ticker = core
	if hub.Interval == 0 {
		hub.Interval = -1
	}
	hub.ErrorLog = t.Logf
	hub.Start()
	srv := httptest.NewUnstartedServer(&Adapter{Handler: core, Live: hub, ErrorLog: t.Logf})
	srv.Config.RegisterOnShutdown(hub.Close)
	srv.Start()
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
	})
	return srv
}

func TestLiveFanOut(t *testing.T) {
	core := &liveCore{}
	hub := &Hub{}
	srv := liveServer(t, core, hub)

	// A message ticked before anyone subscribed is backlog only.
	core.make("Album", 0)
	hub.Tick()

	type sub struct {
		name, query string
		want        []string // ids after the start event
	}
	subs := []*sub{
		{"api, every table", "format=api", []string{"2", "3", "4", "6"}},
		{"api, Album", "format=api&table=Album", []string{"2", "4", "6"}},
		{"page, every table", "format=page", []string{"2", "4", "5", "6"}},
		{"page, Album", "format=page&table=Album", []string{"2", "4", "5", "6"}},
		{"page, Track", "format=page&table=Track", []string{"4", "6"}},
	}
	streams := map[*sub]*stream{}
	for _, s := range subs {
		st := openStream(t, srv.URL+"/events?after=0&"+s.query)
		// The backlog comes first: message 1 for those whose table it is.
		first := st.next(t)
		if strings.Contains(s.query, "Track") {
			if first.name != "start" {
				t.Fatalf("%s: backlog %+v", s.name, first)
			}
		} else {
			if first.id != "1" {
				t.Fatalf("%s: backlog %+v", s.name, first)
			}
			st.next(t) // start
		}
		streams[s] = st
	}
	if n := hub.Subscribers(); n != len(subs) {
		t.Fatalf("%d subscribers", n)
	}

	core.add(protocol.Message{Table: "Album", API: "id: 2\nevent: change\ndata: a2\n\n", Page: "id: 2\nevent: nh-change\ndata: p2\n\n"})
	core.add(protocol.Message{Table: "Track", API: "id: 3\nevent: change\ndata: a3\n\n"}) // nothing for pages
	core.add(protocol.Message{Table: "", API: "id: 4\nevent: schema\ndata: a4\n\n", Page: "id: 4\nevent: nh-schema\ndata: p4\n\n"})
	hub.Tick()                                                                                // three messages in one tick
	core.add(protocol.Message{Table: "Album", Page: "id: 5\nevent: nh-change\ndata: p5\n\n"}) // nothing for the API
	core.add(protocol.Message{Table: "", API: "id: 6\nevent: schema\ndata: a6\n\n", Page: "id: 6\nevent: nh-schema\ndata: p6\n\n"})
	hub.Tick()

	for _, s := range subs {
		st := streams[s]
		got := st.ids(t, "6")
		if strings.Join(got, " ") != strings.Join(s.want, " ") {
			t.Errorf("%s: ids %v, want %v", s.name, got, s.want)
		}
		st.quiet(t, 20*time.Millisecond)
	}
	// Each format gets its own text.
	st := openStream(t, srv.URL+"/events?after=5&format=api")
	if ev := st.next(t); ev.name != "schema" || ev.data != "a6" {
		t.Fatalf("api backlog %+v", ev)
	}
	st = openStream(t, srv.URL+"/events?after=5&format=page")
	if ev := st.next(t); ev.name != "nh-schema" || ev.data != "p6" {
		t.Fatalf("page backlog %+v", ev)
	}
}

// A message row rules hold goes to a stream with a viewer only as its lists
// say (the message, its removal, or nothing); a stream without one gets it
// all. Ticks name the viewers of the open streams.
func TestLiveHeldByRules(t *testing.T) {
	core := &liveCore{}
	hub := &Hub{}
	srv := liveServer(t, core, hub)
	streams := map[string]*stream{}
	for _, v := range []string{"alice", "bob", "carol", ""} {
		st := openStream(t, srv.URL+"/events?format=api&viewer="+v)
		st.next(t) // start
		streams[v] = st
	}
	core.add(protocol.Message{Table: "notes", API: "id: 1\nevent: change\ndata: row\n\n", Held: true,
		Only: []string{"alice"}, Gone: []string{"bob"}, GoneAPI: "id: 1\nevent: change\ndata: gone\n\n"})
	core.add(protocol.Message{Table: "tags", API: "id: 2\nevent: change\ndata: tag\n\n"})
	hub.Tick()
	for v, want := range map[string]string{"alice": "row tag", "bob": "gone tag", "carol": "tag", "": "row tag"} {
		var got []string
		for len(got) < len(strings.Fields(want)) {
			got = append(got, streams[v].next(t).data)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("viewer %q: %v, want %s", v, got, want)
		}
	}
	core.mu.Lock()
	last := core.viewers[len(core.viewers)-1]
	core.mu.Unlock()
	if strings.Join(last, ",") != "alice,bob,carol" {
		t.Fatalf("viewers named: %v", last)
	}
}

// The hub asks the core only for the formats its streams are in: a message
// nobody reads in a format is not rendered in it.
func TestLiveTicksForSubscribedFormats(t *testing.T) {
	core := &liveCore{}
	hub := &Hub{}
	srv := liveServer(t, core, hub)
	asked := func() protocol.Formats {
		core.mu.Lock()
		defer core.mu.Unlock()
		return core.formats[len(core.formats)-1]
	}
	hub.Tick()
	if f := asked(); f != 0 {
		t.Fatalf("no streams: asked for %v", f.Names())
	}
	api := openStream(t, srv.URL+"/events?format=api")
	api.next(t) // start
	hub.Tick()
	if f := asked(); f != protocol.FormatAPI {
		t.Fatalf("one api stream: asked for %v", f.Names())
	}
	page := openStream(t, srv.URL+"/events?format=page&table=Album")
	page.next(t)
	hub.Tick()
	if f := asked(); f != protocol.AllFormats {
		t.Fatalf("api and page streams: asked for %v", f.Names())
	}
}

// A new stream gets every message after its backlog: none lost between the
// core's answer and the hub's registration, none twice.
func TestLiveNoGapAtSubscribe(t *testing.T) {
	core := &liveCore{}
	hub := &Hub{Interval: time.Millisecond}
	srv := liveServer(t, core, hub)

	stop := make(chan struct{})
	made := make(chan struct{})
	go func() {
		defer close(made)
		for {
			select {
			case <-stop:
				return
			default:
			}
			core.make("Album", 0)
			time.Sleep(50 * time.Microsecond)
		}
	}()
	var streams []*stream
	var starts []int
	for range 20 {
		st := openStream(t, srv.URL+"/events?format=api")
		ev := st.next(t)
		if ev.name != "start" {
			t.Fatalf("first event %+v", ev)
		}
		n, _ := strconv.Atoi(ev.id)
		streams = append(streams, st)
		starts = append(starts, n)
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	<-made
	hub.Tick()
	last := strconv.Itoa(len(core.all))
	for i, st := range streams {
		got := st.ids(t, last)
		for j, id := range got {
			if id != strconv.Itoa(starts[i]+1+j) {
				t.Fatalf("stream %d (from %d): ids %v: gap or repeat at %d", i, starts[i], got[:j+1], j)
			}
		}
	}
}

// A client that never reads is closed once it holds MaxQueue unsent bytes;
// a client that reads gets every message in order, and ticks never wait.
func TestLiveSlowClientDropped(t *testing.T) {
	core := &liveCore{}
	hub := &Hub{} // the default MaxQueue: 1 MiB
	srv := liveServer(t, core, hub)

	fast := openStream(t, srv.URL+"/events?format=api")
	fast.next(t) // start

	slow, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	// Its receive buffer stays the default: a tiny one makes the kernel
	// trickle the rest of the data after the close, too slow for a test.
	fmt.Fprintf(slow, "GET /events?format=api HTTP/1.1\r\nHost: test\r\n\r\n")
	waitUntil(t, "the slow client's subscription", func() bool { return hub.Subscribers() == 2 })

	// The fast client reads on its own; it must see every id, in order.
	fastDone := make(chan error, 1)
	var fastLast string
	go func() {
		want := 1
		for ev := range fast.events {
			if ev.comment != "" {
				continue
			}
			if ev.id != strconv.Itoa(want) {
				fastDone <- fmt.Errorf("fast client: id %s, want %d", ev.id, want)
				return
			}
			fastLast = ev.id
			if ev.name == "last" {
				fastDone <- nil
				return
			}
			want++
		}
		fastDone <- errors.New("fast client: the stream ended")
	}()

	// 128 KiB per tick, at most 64 MB/s: the fast client keeps up.
	const size = 32 << 10
	ticks := 0
	for hub.Subscribers() == 2 {
		if ticks++; ticks > 800 { // 100 MiB: far past any socket buffer
			t.Fatal("the slow client was never dropped")
		}
		for range 4 {
			core.make("Album", size)
		}
		start := time.Now()
		hub.Tick()
		if d := time.Since(start); d > time.Second {
			t.Fatalf("a tick took %v: it waited for a client", d)
		}
		time.Sleep(2 * time.Millisecond)
	}
	// Messages after the drop still reach the fast client.
	for range 10 {
		core.make("Album", 100)
	}
	core.add(protocol.Message{Table: "Album", API: fmt.Sprintf("id: %d\nevent: last\ndata: {}\n\n", len(core.all)+1)})
	hub.Tick()
	select {
	case err := <-fastDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the fast client is stuck at %s", fastLast)
	}
	if fastLast != strconv.Itoa(len(core.all)) {
		t.Fatalf("fast client ended at %s of %d", fastLast, len(core.all))
	}

	// The slow client's connection is closed: reading it now ends (the
	// server cut it short), after a prefix of the messages in order.
	slow.SetReadDeadline(time.Now().Add(20 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan event, 1<<16)
	rerr := readEvents(res.Body, events)
	close(events)
	var netErr net.Error
	if errors.As(rerr, &netErr) && netErr.Timeout() {
		t.Fatal("the slow client's connection was not closed")
	}
	if rerr == io.EOF {
		t.Fatal("the slow client's stream ended cleanly; a dropped stream must be cut short")
	}
	want := 1
	for ev := range events {
		if ev.comment != "" || ev.name == "start" {
			continue
		}
		if ev.id != strconv.Itoa(want) {
			t.Fatalf("slow client: id %s, want %d", ev.id, want)
		}
		want++
	}
	if want > len(core.all) {
		t.Fatal("the slow client received everything: it was not behind")
	}
	t.Logf("slow client dropped after %d ticks having received %d messages (%v)", ticks, want-1, rerr)
}

func TestLiveHeartbeat(t *testing.T) {
	core := &liveCore{}
	hub := &Hub{Heartbeat: 20 * time.Millisecond}
	srv := liveServer(t, core, hub)
	st := openStream(t, srv.URL+"/events?format=page")
	beats := 0
	for beats < 3 {
		select {
		case ev := <-st.events:
			if ev.comment == "keep-alive" {
				beats++
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%d keep-alives in 5 s", beats)
		}
	}
	// Events and keep-alives interleave without corrupting each other.
	core.make("Album", 0)
	hub.Tick()
	if ev := st.next(t); ev.id != "1" {
		t.Fatalf("event %+v", ev)
	}
}

func TestLiveShutdownEndsStreams(t *testing.T) {
	core := &liveCore{}
	hub := &Hub{Interval: 10 * time.Millisecond, MaxQueue: 64 << 20}
	hub.Ticker = core
	hub.Start()
	srv := httptest.NewUnstartedServer(&Adapter{Handler: core, Live: hub, ErrorLog: t.Logf})
	srv.Config.RegisterOnShutdown(hub.Close)
	srv.Start()
	defer srv.Close()

	a := openStream(t, srv.URL+"/events?format=api")
	b := openStream(t, srv.URL+"/events?format=page&table=Album")
	a.next(t)
	b.next(t)
	// A client that never reads, with its writer stuck in a write.
	stuck, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	stuck.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(stuck, "GET /events?format=api&table=Track HTTP/1.1\r\nHost: test\r\n\r\n")
	waitUntil(t, "three subscribers", func() bool { return hub.Subscribers() == 3 })
	var s *subscriber
	hub.mu.Lock()
	for x := range hub.subs {
		if x.table == "Track" {
			s = x
		}
	}
	hub.mu.Unlock()
	for i := 0; ; i++ {
		s.mu.Lock()
		blocked := s.writing && s.unsent > 0 && len(s.queue) > 0
		s.mu.Unlock()
		if blocked {
			break
		}
		if i > 2000 {
			t.Fatal("the stuck client's writer never blocked")
		}
		core.make("Track", 64<<10)
		time.Sleep(time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > closeGrace+2*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	// Readers see the response end cleanly.
	for _, st := range []*stream{a, b} {
		if err := st.ended(t, 5*time.Second); err != io.EOF {
			t.Fatalf("stream ended with %v, want a clean end", err)
		}
	}
	// No tick after Close.
	n := core.tickCount()
	time.Sleep(50 * time.Millisecond)
	if core.tickCount() != n {
		t.Fatal("ticks go on after Close")
	}
}

func TestLiveAfterCloseSendsBacklogAndEnds(t *testing.T) {
	core := &liveCore{}
	hub := &Hub{}
	srv := liveServer(t, core, hub)
	core.make("Album", 0)
	hub.Tick()
	hub.Close()
	res, err := http.Get(srv.URL + "/events?format=api&after=0")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || !strings.Contains(string(body), "id: 1\n") || !strings.Contains(string(body), "event: start") {
		t.Fatalf("body %q %v", body, err)
	}
	if core.tickCount() != 1 {
		t.Fatal("Tick called the core after Close")
	}
	hub.Tick()
	if core.tickCount() != 1 {
		t.Fatal("Tick called the core after Close")
	}
}

func TestLiveClientGoneUnsubscribes(t *testing.T) {
	core := &liveCore{}
	hub := &Hub{}
	srv := liveServer(t, core, hub)
	st := openStream(t, srv.URL+"/events?format=api")
	st.next(t)
	if hub.Subscribers() != 1 {
		t.Fatal("not subscribed")
	}
	st.res.Body.Close()
	waitUntil(t, "the subscriber to go", func() bool { return hub.Subscribers() == 0 })
}

// Writes tick right after the core answers them, before the answer goes
// out; reads do not.
func TestLiveOwnWriteTicks(t *testing.T) {
	core := &liveCore{}
	hub := &Hub{} // no timer: only writes tick
	srv := liveServer(t, core, hub)
	st := openStream(t, srv.URL+"/events?format=api")
	st.next(t)

	for i, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		before := core.tickCount()
		req, _ := http.NewRequest(method, srv.URL+"/rows", strings.NewReader("a=1"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		// The tick is done when the answer arrives.
		if core.tickCount() != before+1 {
			t.Fatalf("%s: %d ticks, want %d", method, core.tickCount(), before+1)
		}
		calls := core.callLog()
		if n := len(calls); calls[n-2] != method+" /rows" || calls[n-1] != "tick" {
			t.Fatalf("%s: calls %v", method, calls)
		}
		if ev := st.next(t); ev.id != strconv.Itoa(i+1) {
			t.Fatalf("%s: event %+v", method, ev)
		}
	}
	before := core.tickCount()
	for _, method := range []string{"GET", "HEAD", "OPTIONS"} {
		req, _ := http.NewRequest(method, srv.URL+"/rows", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if core.tickCount() != before {
		t.Fatal("a read ticked")
	}
}

func TestLiveTimer(t *testing.T) {
	core := &liveCore{}
	hub := &Hub{Ticker: core, Interval: 5 * time.Millisecond}
	hub.Start()
	hub.Start() // once
	waitUntil(t, "ticks", func() bool { return core.tickCount() >= 5 })
	hub.Close()
	n := core.tickCount()
	time.Sleep(30 * time.Millisecond)
	if core.tickCount() != n {
		t.Fatal("ticks go on after Close")
	}
	hub.Close() // twice is fine
}

func TestLiveTickErrorsLoggedOnce(t *testing.T) {
	core := &liveCore{tickErr: errors.New("core trapped")}
	var mu sync.Mutex
	var logged []string
	hub := &Hub{Ticker: core, Interval: -1, ErrorLog: func(f string, a ...any) {
		mu.Lock()
		logged = append(logged, fmt.Sprintf(f, a...))
		mu.Unlock()
	}}
	for range 5 {
		if err := hub.Tick(); err == nil {
			t.Fatal("no error")
		}
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "core trapped") {
		t.Fatalf("logged %q", logged)
	}
}

// Without a hub a subscribing answer is its backlog and ends.
func TestLiveWithoutHub(t *testing.T) {
	core := &liveCore{}
	srv := httptest.NewServer(&Adapter{Handler: core})
	defer srv.Close()
	res, err := http.Get(srv.URL + "/events?format=api")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || !strings.Contains(string(body), "event: start") {
		t.Fatalf("%q %v", body, err)
	}
	// Writes do not tick without a hub.
	http.Post(srv.URL+"/rows", "text/plain", nil)
	if core.tickCount() != 0 {
		t.Fatal("ticked without a hub")
	}
}
