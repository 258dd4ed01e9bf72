package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

func TestEncodeURIComponent(t *testing.T) {
	// Expected values are what JavaScript's encodeURIComponent returns.
	tests := []struct{ in, want string }{
		{"", ""},
		{"Album", "Album"},
		{"az-AZ_09.!~*'()", "az-AZ_09.!~*'()"},
		{"a b", "a%20b"},
		{"a/b", "a%2Fb"},
		{"a+b=c&d", "a%2Bb%3Dc%26d"},
		{"#?%", "%23%3F%25"},
		{`"quoted" [x] {y}`, "%22quoted%22%20%5Bx%5D%20%7By%7D"},
		{"a,b;c:d@e$f", "a%2Cb%3Bc%3Ad%40e%24f"},
		{"back\\slash|pipe^caret`tick", "back%5Cslash%7Cpipe%5Ecaret%60tick"},
		{"<script>", "%3Cscript%3E"},
		{"é", "%C3%A9"},
		{"日本", "%E6%97%A5%E6%9C%AC"},
		{"𝄞", "%F0%9D%84%9E"},
		{"tab\tnl\n", "tab%09nl%0A"},
		{"nul\x00", "nul%00"},
		{"..", ".."},
		{"\x7f", "%7F"},
	}
	for _, tt := range tests {
		if got := EncodeURIComponent(tt.in); got != tt.want {
			t.Errorf("EncodeURIComponent(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "::1": true, "localhost": true, "LOCALHOST": true,
		"0.0.0.0": false, "::": false, "192.168.1.2": false, "example.com": false, "": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v", host, got)
		}
	}
}

// The hosts a server answers to: every --allowed-host and the listen address,
// never a wildcard one.
func TestHostsToAnswer(t *testing.T) {
	for _, c := range []struct {
		listen  string
		allowed []string
		want    string
	}{
		{"127.0.0.1", nil, "127.0.0.1"},
		{"192.168.1.5", []string{"lan.example"}, "lan.example 192.168.1.5"},
		{"::1", nil, "[::1]"},
		{"fd00::5", nil, "[fd00::5]"},
		{"0.0.0.0", []string{"lan.example"}, "lan.example"},
		{"::", nil, ""},
	} {
		f := &serveFlags{host: c.listen, allowedHosts: c.allowed}
		if got := strings.Join(f.hostsToAnswer(), " "); got != c.want {
			t.Errorf("listen %s, allowed %v: %q, want %q", c.listen, c.allowed, got, c.want)
		}
	}
}

// fake is a Backend that answers like the core's schema routes, and
// subscribes /events; writes to /rows make a live message.
type fake struct {
	mu        sync.Mutex
	tables    map[string]string // name -> "ui" JSON
	configs   []string
	closed    int
	reject    bool
	pending   []protocol.Message
	seq       int64
	ticks     int
	lateTicks int // ticks after Close
}

func (f *fake) TickFor(protocol.Formats, []string) (protocol.TickResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ticks++
	if f.closed > 0 {
		f.lateTicks++
		return protocol.TickResult{}, errors.New("closed")
	}
	res := protocol.TickResult{Messages: f.pending}
	f.pending = nil
	return res, nil
}

func (f *fake) tickCounts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ticks, f.lateTicks
}

func (f *fake) Handle(r *protocol.Request) (*protocol.Response, error) {
	if r.Path == "/events" {
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200,
			Headers:   [][2]string{{"content-type", "text/event-stream"}},
			Subscribe: &protocol.Subscribe{Format: "api"}}, Body: []byte("retry: 1000\n\n")}, nil
	}
	if r.Path == "/rows" && r.Method == "POST" {
		f.mu.Lock()
		f.seq++
		f.pending = append(f.pending, protocol.Message{ID: f.seq, Table: "t",
			API: fmt.Sprintf("id: %d\nevent: change\ndata: {}\n\n", f.seq)})
		f.mu.Unlock()
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 201}}, nil
	}
	ok := func(body string) (*protocol.Response, error) {
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200,
			Headers: [][2]string{{"content-type", "application/json"}}}, Body: []byte(body)}, nil
	}
	if r.Path == "/api/schema" {
		doc := map[string]map[string]json.RawMessage{}
		for name, ui := range f.tables {
			doc[name] = map[string]json.RawMessage{"schema": json.RawMessage(`{}`), "ui": json.RawMessage(ui)}
		}
		b, _ := json.Marshal(map[string]any{"dsid": "1-x", "tables": doc})
		return ok(string(b))
	}
	if name, found := strings.CutPrefix(r.Path, "/api/schema/"); found {
		for t := range f.tables {
			if EncodeURIComponent(t) == name {
				b, _ := json.Marshal(map[string]string{"title": t})
				return ok(string(b))
			}
		}
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 404}}, nil
	}
	return ok(`{"path":` + strconvQuote(r.Path) + `}`)
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

func (f *fake) SetConfig(raw json.RawMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reject {
		return errors.New("rejected")
	}
	f.configs = append(f.configs, string(raw))
	return nil
}

func (f *fake) DSID() string { return "1-x" }

func (f *fake) Outbox() (protocol.Outbox, error) { return protocol.Outbox{}, nil }

func (f *fake) Apply(cmd *protocol.Command, seq uint64) (protocol.ApplyResult, error) {
	return protocol.ApplyResult{ID: cmd.ID, Seq: seq, Status: 500, Error: "the fake applies nothing"}, nil
}

func (f *fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed++
	return nil
}

func (f *fake) configsSeen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.configs...)
}

// program returns a Program over b that records whether Open was called.
func program(b *fake, opened *OpenOptions) *Program {
	return &Program{Name: "nakedhtmx", ConfigPoll: 20 * time.Millisecond,
		Open: func(_ context.Context, o OpenOptions) (Backend, error) {
			if opened != nil {
				*opened = o
			}
			if o.DB == "fail.db" {
				return nil, errors.New("database fail.db: file is not a database")
			}
			return b, nil
		}}
}

func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	badJSON := filepath.Join(dir, "bad.json")
	os.WriteFile(badJSON, []byte("{nope"), 0o644)
	tests := []struct {
		name string
		args []string
		want string // in the one stderr line
	}{
		{"unknown flag", []string{"--nope"}, "flag provided but not defined: -nope"},
		{"port not a number", []string{"--port", "http"}, `invalid value "http" for flag -port`},
		{"port too large", []string{"--port", "65536"}, "invalid --port 65536"},
		{"negative port", []string{"--port=-1"}, "invalid --port -1"},
		{"missing value", []string{"--db"}, "flag needs an argument: -db"},
		{"stray argument", []string{"serve"}, `unexpected argument "serve"`},
		{"empty db", []string{"--db", ""}, "--db needs a file name"},
		{"empty token", []string{"--auth-token", ""}, "--auth-token must not be empty"},
		{"short token", []string{"--auth-token", "fifteen-chars-x"}, "--auth-token is 15 characters; at least 16"},
		{"bad write mode", []string{"--write", "sometimes"}, `invalid --write "sometimes"`},
		{"allowed host with a scheme", []string{"--allowed-host", "http://lan.example/"}, `invalid --allowed-host "http://lan.example/"`},
		{"empty allowed host", []string{"--allowed-host", ""}, `invalid --allowed-host ""`},
		{"jetstream without nats", []string{"--write", "jetstream"}, "needs --nats"},
		{"nats unreachable", []string{"--nats", "nats://127.0.0.1:1"}, "NATS nats://127.0.0.1:1"},
		{"any address without token", []string{"--host", "0.0.0.0"}, "refusing to listen on 0.0.0.0"},
		{"public IPv6 without token", []string{"--host", "[::]"}, "refusing to listen on ::"},
		{"named host without token", []string{"--host", "example.com"}, "refusing to listen on example.com"},
		{"missing explicit config", []string{"--config", filepath.Join(dir, "none.json")}, "no such file or directory"},
		{"config not JSON", []string{"--config", badJSON}, "not valid JSON"},
		{"schema without out", []string{"schema", "--db", badJSON}, "schema needs --out"},
		{"schema on a missing db", []string{"schema", "--db", filepath.Join(dir, "none.db"), "--out", dir}, "no such file"},
		{"schema stray argument", []string{"schema", "x"}, `unexpected argument "x"`},
		{"schema after flags", []string{"--db", "x.db", "schema"}, "the schema subcommand comes first"},
		{"unreadable database", []string{"--db", "fail.db", "--port", "0"}, "file is not a database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			var opened OpenOptions
			code := program(&fake{}, &opened).Run(context.Background(), tt.args, &stdout, &stderr)
			if code != 2 {
				t.Fatalf("exit %d, stderr %q", code, stderr.String())
			}
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "nakedhtmx: ") || !strings.Contains(lines[0], tt.want) {
				t.Fatalf("stderr %q, want one line containing %q", stderr.String(), tt.want)
			}
			if stdout.Len() != 0 {
				t.Fatalf("stdout %q", stdout.String())
			}
			// Nothing may touch the database on a bad flag: Open never runs.
			if opened.DB != "" && opened.DB != "fail.db" {
				t.Fatalf("the database was opened: %+v", opened)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"schema", "--help"}} {
		var stdout, stderr bytes.Buffer
		code := program(&fake{}, nil).Run(context.Background(), args, &stdout, &stderr)
		if code != 0 || !strings.Contains(stdout.String(), "Usage: nakedhtmx") || stderr.Len() != 0 {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
	var stdout bytes.Buffer
	program(&fake{}, nil).Run(context.Background(), []string{"--help"}, &stdout, io.Discard)
	for _, flag := range []string{"--db", "--port", "--host", "--auth-token", "--config", "--insecure", "--nats", "--node", "--write"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("help does not mention %s", flag)
		}
	}
}

// lineWriter hands each stdout write to a channel, so the test can wait for
// the URL line the way a supervising script would.
type lineWriter struct{ lines chan string }

func (w lineWriter) Write(b []byte) (int, error) {
	w.lines <- string(b)
	return len(b), nil
}

func TestServeAndShutdown(t *testing.T) {
	dir := t.TempDir()
	b := &fake{}
	var opened OpenOptions
	ctx, cancel := context.WithCancel(context.Background())
	out := lineWriter{make(chan string, 4)}
	var stderr bytes.Buffer
	done := make(chan int)
	config := filepath.Join(dir, "config.json")
	os.WriteFile(config, []byte(`{"title":"one"}`), 0o644)
	args := []string{"--port", "0", "--db", filepath.Join(dir, "x.db"), "--auth-token", "s3cret-token-of-20ch", "--config", config}
	go func() { done <- program(b, &opened).Run(ctx, args, out, &stderr) }()

	var line string
	select {
	case line = <-out.lines:
	case code := <-done:
		t.Fatalf("exited %d: %s", code, stderr.String())
	case <-time.After(5 * time.Second):
		t.Fatal("no URL line")
	}
	m := regexp.MustCompile(`http://127\.0\.0\.1:(\d+)/`).FindString(line)
	if m == "" || m == "http://127.0.0.1:0/" || strings.Count(line, "\n") != 1 {
		t.Fatalf("URL line %q", line)
	}
	if opened.AuthToken != "s3cret-token-of-20ch" || string(opened.Config) != `{"title":"one"}` {
		t.Fatalf("opened with %+v", opened)
	}
	res, err := http.Get(m + "t/a%2Fb?x=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != `{"path":"/t/a%2Fb"}` {
		t.Fatalf("body %s", body)
	}

	// Live: the server ticks on its own, and a write's event is on the
	// stream by the time the write's answer arrives.
	stream, err := http.Get(m + "events")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	events := bufio.NewReader(stream.Body)
	if line, _ := events.ReadString('\n'); line != "retry: 1000\n" {
		t.Fatalf("stream starts with %q", line)
	}
	events.ReadString('\n')
	deadline := time.Now().Add(5 * time.Second)
	for n, _ := b.tickCounts(); n < 3; n, _ = b.tickCounts() {
		if time.Now().After(deadline) {
			t.Fatalf("%d ticks in 5 s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if res, err := http.Post(m+"rows", "text/plain", nil); err != nil || res.StatusCode != 201 {
		t.Fatalf("POST: %v %v", res, err)
	}
	if line, _ := events.ReadString('\n'); line != "id: 1\n" {
		t.Fatalf("event %q", line)
	}

	// Shutdown ends the open stream instead of waiting for it.
	start := time.Now()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no shutdown")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown took %v: the event stream held it up", d)
	}
	if rest, err := io.ReadAll(events); err != nil {
		t.Fatalf("stream ended with %v after %q", err, rest)
	}
	if b.closed == 0 {
		t.Fatal("database not closed")
	}
	if _, late := b.tickCounts(); late != 0 {
		t.Fatalf("%d ticks after the database was closed", late)
	}
	if len(out.lines) != 0 {
		t.Fatalf("more stdout: %q", <-out.lines)
	}
}

func TestPortTaken(t *testing.T) {
	b := &fake{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := lineWriter{make(chan string, 4)}
	go program(b, nil).Run(ctx, []string{"--port", "0", "--db", filepath.Join(t.TempDir(), "a.db")}, out, io.Discard)
	line := <-out.lines
	port := regexp.MustCompile(`:(\d+)/`).FindStringSubmatch(line)[1]
	var opened OpenOptions
	var stderr bytes.Buffer
	code := program(b, &opened).Run(context.Background(), []string{"--port", port, "--db", "taken.db"}, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "cannot listen") {
		t.Fatalf("exit %d, %q", code, stderr.String())
	}
	if opened.DB != "" {
		t.Fatal("the database was opened although the port was taken")
	}
}

func TestConfigReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nakedhtmx.json")
	b := &fake{}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := program(b, nil)
	go p.watchConfig(ctx, &configFile{path: path, stamp: stamp(path), backend: b}, func(f string, a ...any) { logs.Printf(f, a...) })

	waitFor := func(want []string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			if got := b.configsSeen(); strings.Join(got, "|") == strings.Join(want, "|") {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("configs %q, want %q; log:\n%s", b.configsSeen(), want, logs.String())
	}
	// The default file may appear after start, change, and disappear.
	time.Sleep(50 * time.Millisecond)
	os.WriteFile(path, []byte(`{"title":"a"}`), 0o644)
	waitFor([]string{`{"title":"a"}`})
	os.WriteFile(path, []byte(`{"title":"bb"}`), 0o644)
	waitFor([]string{`{"title":"a"}`, `{"title":"bb"}`})
	// Invalid JSON is reported and not applied.
	os.WriteFile(path, []byte(`{"title":`), 0o644)
	time.Sleep(100 * time.Millisecond)
	waitFor([]string{`{"title":"a"}`, `{"title":"bb"}`})
	if !strings.Contains(logs.String(), "not valid JSON") {
		t.Fatalf("log %q", logs.String())
	}
	os.Remove(path)
	waitFor([]string{`{"title":"a"}`, `{"title":"bb"}`, ``})
	// A config the core rejects is logged; the previous one stays.
	b.mu.Lock()
	b.reject = true
	b.mu.Unlock()
	os.WriteFile(path, []byte(`{"tables":5}`), 0o644)
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(logs.String(), "rejected") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "keeping the previous one: rejected") {
		t.Fatalf("log %q", logs.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(strings.TrimSpace(fmt.Sprintf(format, args...)) + "\n")
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWriteSchemas(t *testing.T) {
	b := &fake{tables: map[string]string{
		"Album":      `{"type":"VerticalLayout","elements":[]}`,
		"a b/c":      `{"type":"VerticalLayout","n":1}`,
		"Ünïcødé":    `{"type":"VerticalLayout","n":2}`,
		"with'quote": `{"type":"VerticalLayout","n":3}`,
	}}
	dir := filepath.Join(t.TempDir(), "out", "nested")
	n, err := WriteSchemas(b, dir)
	if err != nil || n != 4 {
		t.Fatalf("%d %v", n, err)
	}
	for name, ui := range b.tables {
		base := filepath.Join(dir, EncodeURIComponent(name))
		got, err := os.ReadFile(base + ".ui.json")
		if err != nil || string(got) != ui {
			t.Errorf("%s.ui.json: %s %v", name, got, err)
		}
		schema, err := os.ReadFile(base + ".schema.json")
		if err != nil || !strings.Contains(string(schema), strconvQuote(name)) {
			t.Errorf("%s.schema.json: %s %v", name, schema, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 8 {
		t.Fatalf("%d files", len(entries))
	}
	if _, err := os.Stat(filepath.Join(dir, "a%20b%2Fc.schema.json")); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaSubcommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	os.WriteFile(db, nil, 0o644)
	b := &fake{tables: map[string]string{"t": `{}`}}
	var stdout, stderr bytes.Buffer
	code := program(b, nil).Run(context.Background(), []string{"schema", "--db", db, "--out", filepath.Join(dir, "o")}, &stdout, &stderr)
	if code != 0 || b.closed == 0 {
		t.Fatalf("exit %d (closed %d): %s", code, b.closed, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "o", "t.ui.json")); err != nil {
		t.Fatal(err)
	}
}

// A save from the app writes the file whole, through a symbolic link,
// keeping its permissions, and never over an edit the core did not see.
func TestConfigSave(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	path := filepath.Join(dir, "nakedhtmx.json")
	if err := os.WriteFile(real, []byte(`{"title": "a"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, path); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	b := &fake{}
	cf := &configFile{path: path, text: []byte(`{"title": "a"}`), stamp: stamp(path), backend: b}
	if e := cf.SaveConfig([]byte(`{"title": "b"}`)); e != nil {
		t.Fatal(e)
	}
	if got, _ := os.ReadFile(real); string(got) != `{"title": "b"}` {
		t.Fatalf("the link's target holds %s", got)
	}
	if fi, _ := os.Lstat(path); fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("the link was replaced by a file")
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	if got := b.configsSeen(); len(got) != 1 || got[0] != `{"title": "b"}` {
		t.Fatalf("applied %q", got)
	}
	// Someone edits the file; a save based on the old text is refused.
	os.WriteFile(real, []byte(`{"title": "theirs"}`), 0o600)
	if e := cf.SaveConfig([]byte(`{"title": "c"}`)); e == nil || e.Status != 409 {
		t.Fatalf("a save over an unseen edit: %+v", e)
	}
	if got, _ := os.ReadFile(real); string(got) != `{"title": "theirs"}` {
		t.Fatalf("their edit was overwritten: %s", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("left behind: %v", entries)
	}
	// No file yet: the save creates it.
	fresh := &configFile{path: filepath.Join(dir, "new.json"), backend: b}
	if e := fresh.SaveConfig([]byte(`{}`)); e != nil {
		t.Fatal(e)
	}
	if got, _ := os.ReadFile(fresh.path); string(got) != `{}` {
		t.Fatalf("new file: %s", got)
	}
}
