package cli

// These tests run the real commands as a user or a supervisor would: built
// once in TestMain, started as subprocesses on real database files, talked to
// over loopback HTTP, stopped with signals.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
)

// command is one built host binary.
type command struct {
	name  string
	bin   string
	args  []string // flags it always gets (the wasm host's --wasm)
	skip  string   // why it cannot run here
	build string   // build failure output
}

var commands []*command

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse() // testing.Short needs the flags parsed
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		panic(err)
	}
	tmp, err := os.MkdirTemp("", "nakedhtmx-cli-test")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(tmp)
	wasm := filepath.Join(root, "dist", "core.wasm")
	native := &command{name: "native", bin: filepath.Join(tmp, "nakedhtmx")}
	onWasm := &command{name: "wazero", bin: filepath.Join(tmp, "nakedhtmx-wasm"), args: []string{"--wasm", wasm}}
	if _, err := os.Stat(wasm); err != nil {
		onWasm.skip = "dist/core.wasm is missing: build it with `make build` to test the wazero command"
	}
	commands = []*command{native, onWasm}
	if testing.Short() {
		return m.Run() // only the in-process tests
	}
	var wg sync.WaitGroup
	for _, c := range []struct {
		cmd *command
		pkg string
	}{{native, "./core/cmd/nakedhtmx"}, {onWasm, "./bindings/go/cmd/nakedhtmx-wasm"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			build := exec.Command("go", "build", "-o", c.cmd.bin, c.pkg)
			build.Dir = root
			if out, err := build.CombinedOutput(); err != nil {
				c.cmd.build = fmt.Sprintf("go build %s: %v\n%s", c.pkg, err, out)
			}
		}()
	}
	wg.Wait()
	// A stable cache outside the user's own: the wazero command compiles the
	// core once per machine, not once per test.
	os.Setenv("XDG_CACHE_HOME", filepath.Join(os.TempDir(), "nakedhtmx-test-xdg-cache"))
	return m.Run()
}

// eachCommand runs f as a subtest on every host command.
func eachCommand(t *testing.T, f func(t *testing.T, c *command)) {
	if testing.Short() {
		t.Skip("builds and runs the commands; skipped with -short")
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			if c.build != "" {
				t.Fatal(c.build)
			}
			if c.skip != "" {
				t.Skip(c.skip)
			}
			t.Parallel()
			f(t, c)
		})
	}
}

// run runs the command to completion and returns its exit code and output.
func (c *command) run(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	all := append(append([]string(nil), c.args...), args...)
	if len(args) > 0 && args[0] == "schema" {
		// The subcommand comes first, then every flag.
		all = append(append([]string{"schema"}, c.args...), args[1:]...)
	}
	cmd := exec.Command(c.bin, all...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// server is a running command.
type server struct {
	cmd    *exec.Cmd
	url    string
	stdout *bytes.Buffer // everything after the URL line
	stderr *bytes.Buffer
	done   chan struct{}
	err    error
	mu     sync.Mutex
}

var urlLine = regexp.MustCompile(`http://([^/\s]+):(\d+)/`)

// start runs the command and waits for its URL line.
func (c *command) start(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(c.bin, append(append([]string(nil), c.args...), args...)...)
	cmd.Dir = dir
	s := &server{cmd: cmd, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = lockedWriter{&s.mu, s.stderr}
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(pipe)
		line, _ := r.ReadString('\n')
		lines <- line
		rest, _ := io.ReadAll(r)
		s.mu.Lock()
		s.stdout.Write(rest)
		s.mu.Unlock()
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
	})
	select {
	case line := <-lines:
		if urlLine.FindString(line) == "" {
			<-s.done
			t.Fatalf("first stdout line %q; stderr %s", line, s.stderrText())
		}
		s.url = urlLine.FindString(line)
	case <-time.After(90 * time.Second): // a cold wazero compile on a slow machine
		t.Fatalf("no URL line; stderr %s", s.stderrText())
	}
	return s
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (s *server) stderrText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// stop sends sig and returns the exit code.
func (s *server) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after %v", sig)
	}
	if ee, ok := s.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	return 0
}

func fetch(t *testing.T, method, url string, header map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var asJSON = map[string]string{"accept": "application/json"}

func makeDB(t *testing.T, path, schema string) {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Script(schema); err != nil {
		t.Fatal(err)
	}
}

func TestCommandServesAndStops(t *testing.T) {
	eachCommand(t, func(t *testing.T, c *command) {
		for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
			t.Run(fmt.Sprint(sig), func(t *testing.T) {
				dir := t.TempDir()
				// The default --db is created in the working directory.
				s := c.start(t, dir, "--port", "0")
				if m := urlLine.FindStringSubmatch(s.url); m[1] != "127.0.0.1" || m[2] == "0" || m[2] == "8080" {
					t.Fatalf("URL %s", s.url)
				}
				if status, body := fetch(t, "GET", s.url, nil, ""); status != 200 || !strings.Contains(body, "<html") {
					t.Fatalf("GET /: %d %.200s", status, body)
				}
				status, body := fetch(t, "GET", s.url+"api/schema", asJSON, "")
				if status != 200 || !strings.Contains(body, `"dsid"`) {
					t.Fatalf("GET /api/schema: %d %.200s", status, body)
				}
				if code := s.stop(t, sig); code != 0 {
					t.Fatalf("exit %d after %v; stderr %s", code, sig, s.stderrText())
				}
				if s.stdout.Len() != 0 {
					t.Fatalf("more than one stdout line: %q", s.stdout.String())
				}
				if _, err := os.Stat(filepath.Join(dir, "nakedhtmx.db")); err != nil {
					t.Fatal(err)
				}
				// The last connection to close a WAL database removes the WAL:
				// its absence shows the database was closed, not abandoned.
				if _, err := os.Stat(filepath.Join(dir, "nakedhtmx.db-wal")); err == nil {
					t.Fatal("the -wal file is left behind: the database was not closed")
				}
			})
		}
	})
}

func TestCommandRefuses(t *testing.T) {
	eachCommand(t, func(t *testing.T, c *command) {
		dir := t.TempDir()
		garbage := filepath.Join(dir, "garbage.db")
		content := bytes.Repeat([]byte("not a database\n"), 100)
		os.WriteFile(garbage, content, 0o644)
		tests := []struct {
			name string
			args []string
			want string
		}{
			{"bad flag", []string{"--db", "new.db", "--nope"}, "-nope"},
			{"bad port", []string{"--db", "new.db", "--port", "99999"}, "--port"},
			{"non-loopback without token", []string{"--db", "new.db", "--host", "0.0.0.0", "--port", "0"}, "--auth-token"},
			{"garbage database", []string{"--db", garbage, "--port", "0"}, "file is not a database"},
			{"directory database", []string{"--db", dir, "--port", "0"}, "is a directory"},
			{"nats unreachable", []string{"--db", "new.db", "--nats", "nats://127.0.0.1:1"}, "NATS nats://127.0.0.1:1"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, stdout, stderr := c.run(t, dir, tt.args...)
				if code != 2 {
					t.Fatalf("exit %d; stderr %q", code, stderr)
				}
				if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) || stdout != "" {
					t.Fatalf("stderr %q (want one line with %q), stdout %q", stderr, tt.want, stdout)
				}
			})
		}
		if _, err := os.Stat(filepath.Join(dir, "new.db")); err == nil {
			t.Error("a refused start created the database")
		}
		if b, _ := os.ReadFile(garbage); !bytes.Equal(b, content) {
			t.Error("the garbage database was written to")
		}
		for _, suffix := range []string{"-wal", "-shm", "-journal"} {
			if _, err := os.Stat(garbage + suffix); err == nil {
				t.Errorf("%s created next to the garbage database", suffix)
			}
		}
	})
}

func TestCommandHelp(t *testing.T) {
	eachCommand(t, func(t *testing.T, c *command) {
		code, stdout, stderr := c.run(t, t.TempDir(), "--help")
		if code != 0 || !strings.Contains(stdout, "--auth-token") || stderr != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
}

func TestCommandInsecureAndAuthToken(t *testing.T) {
	eachCommand(t, func(t *testing.T, c *command) {
		dir := t.TempDir()
		s := c.start(t, dir, "--db", "a.db", "--port", "0", "--host", "0.0.0.0", "--insecure", "--auth-token", "s3cret-token-of-20ch")
		m := urlLine.FindStringSubmatch(s.url)
		if m[1] != "0.0.0.0" {
			t.Fatalf("URL %s", s.url)
		}
		local := "http://127.0.0.1:" + m[2] + "/api/schema"
		if status, _ := fetch(t, "GET", local, asJSON, ""); status != 401 {
			t.Fatalf("no token: status %d", status)
		}
		if status, body := fetch(t, "GET", local, map[string]string{"accept": "application/json", "authorization": "Bearer s3cret-token-of-20ch"}, ""); status != 200 {
			t.Fatalf("with token: status %d %s", status, body)
		}
		if code := s.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("exit %d", code)
		}
	})
}

func TestCommandConfigReload(t *testing.T) {
	eachCommand(t, func(t *testing.T, c *command) {
		dir := t.TempDir()
		makeDB(t, filepath.Join(dir, "a.db"), "CREATE TABLE Album (AlbumId INTEGER PRIMARY KEY, Title TEXT)")
		config := filepath.Join(dir, "nakedhtmx.json")
		write := func(label string) {
			b, _ := json.Marshal(map[string]any{"tables": map[string]any{"Album": map[string]any{
				"columns": map[string]any{"Title": map[string]any{"label": label}}}}})
			if err := os.WriteFile(config, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("First label")
		// The default ./nakedhtmx.json is picked up without --config.
		s := c.start(t, dir, "--db", "a.db", "--port", "0")
		if _, body := fetch(t, "GET", s.url+"api/schema", asJSON, ""); !strings.Contains(body, "First label") {
			t.Fatalf("config not applied at start: %.300s", body)
		}
		write("Second label, longer")
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, body := fetch(t, "GET", s.url+"api/schema", asJSON, "")
			if strings.Contains(body, "Second label, longer") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("config change not applied: %.300s\nstderr %s", body, s.stderrText())
			}
			time.Sleep(100 * time.Millisecond)
		}
		if code := s.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("exit %d", code)
		}
		if !strings.Contains(s.stderrText(), "reloaded") {
			t.Errorf("no reload logged: %s", s.stderrText())
		}
	})
}

func TestCommandSchema(t *testing.T) {
	eachCommand(t, func(t *testing.T, c *command) {
		dir := t.TempDir()
		db := filepath.Join(dir, "a.db")
		makeDB(t, db, `CREATE TABLE Album (AlbumId INTEGER PRIMARY KEY, Title TEXT NOT NULL);
			CREATE TABLE "a b/c" (x TEXT);
			CREATE TABLE "Ünï" (y INTEGER);
			CREATE VIEW titles AS SELECT Title FROM Album;`)
		out := filepath.Join(dir, "out")
		code, _, stderr := c.run(t, dir, "schema", "--db", db, "--out", out)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		entries, _ := os.ReadDir(out)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		want := []string{
			"%C3%9Cn%C3%AF.schema.json", "%C3%9Cn%C3%AF.ui.json",
			"Album.schema.json", "Album.ui.json",
			"a%20b%2Fc.schema.json", "a%20b%2Fc.ui.json",
			"titles.schema.json", "titles.ui.json",
		}
		if strings.Join(names, " ") != strings.Join(want, " ") {
			t.Fatalf("files %v, want %v", names, want)
		}
		var schema map[string]any
		b, _ := os.ReadFile(filepath.Join(out, "a%20b%2Fc.schema.json"))
		if err := json.Unmarshal(b, &schema); err != nil || schema["title"] != "a b/c" || schema["x-dsid"] == nil {
			t.Fatalf("schema %s %v", b, err)
		}
		var ui map[string]any
		b, _ = os.ReadFile(filepath.Join(out, "Album.ui.json"))
		if err := json.Unmarshal(b, &ui); err != nil || ui["type"] != "VerticalLayout" {
			t.Fatalf("ui %s %v", b, err)
		}
	})
}

// Live on the real commands: an /api/events stream announces the server's
// own write at once and another connection's write within a tick or two,
// and SIGTERM ends the stream instead of waiting for it.
func TestCommandLive(t *testing.T) {
	eachCommand(t, func(t *testing.T, c *command) {
		dir := t.TempDir()
		db := filepath.Join(dir, "a.db")
		makeDB(t, db, "CREATE TABLE Album (AlbumId INTEGER PRIMARY KEY, Title TEXT)")
		s := c.start(t, dir, "--db", "a.db", "--port", "0")
		res, err := http.Get(s.url + "api/events")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("status %d, content-type %q", res.StatusCode, res.Header.Get("Content-Type"))
		}
		lines := make(chan string, 100)
		go func() {
			defer close(lines)
			br := bufio.NewReader(res.Body)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					if err != io.EOF {
						lines <- "error: " + err.Error()
					}
					return
				}
				lines <- strings.TrimSuffix(line, "\n")
			}
		}()
		// change waits for the next change event and returns its data.
		change := func() map[string]any {
			t.Helper()
			timeout := time.After(10 * time.Second)
			seen := false
			for {
				select {
				case line, ok := <-lines:
					if !ok {
						t.Fatal("the stream ended")
					}
					if line == "event: change" {
						seen = true
					} else if seen && strings.HasPrefix(line, "data: ") {
						var ev map[string]any
						if err := json.Unmarshal([]byte(line[6:]), &ev); err != nil {
							t.Fatal(err)
						}
						return ev
					}
				case <-timeout:
					t.Fatalf("no change event in 10 s; stderr %s", s.stderrText())
				}
			}
		}

		status, body := fetch(t, "POST", s.url+"api/tables/Album/rows", map[string]string{"content-type": "application/json", "accept": "application/json"}, `{"Title": "Abbey Road"}`)
		if status != 201 {
			t.Fatalf("POST: %d %s", status, body)
		}
		if ev := change(); ev["table"] != "Album" || ev["op"] != "insert" {
			t.Fatalf("change %v", ev)
		}

		other, err := sqlite.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if err := other.Script("INSERT INTO Album (AlbumId, Title) VALUES (40, 'From the shell')"); err != nil {
			t.Fatal(err)
		}
		ev := change()
		if pk, _ := ev["pk"].(map[string]any); ev["op"] != "insert" || pk["AlbumId"] != float64(40) {
			t.Fatalf("change %v", ev)
		}

		start := time.Now()
		if code := s.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("exit %d; stderr %s", code, s.stderrText())
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("stopping took %v: the open stream held it up", d)
		}
		for line := range lines {
			if strings.HasPrefix(line, "error: ") {
				t.Fatalf("the stream was cut: %s", line)
			}
		}
	})
}
