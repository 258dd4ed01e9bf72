// Package corpus reads the golden corpus (testdata/corpus, format in its
// README.md), formats the core's answers the way the expected files are
// written, and compares them with a readable diff. It is shared by every Go
// runner: the native one (core/engine, the only one that writes, with
// -update) and the wazero one (bindings/go). It knows nothing about how a
// runner opens the database or the core; it only moves requests and text.
package corpus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// Request is one entry of requests.json.
type Request struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// Protocol returns the request as the core receives it.
func (r Request) Protocol() *protocol.Request {
	h := make(map[string]string, len(r.Headers)+1)
	for k, v := range r.Headers {
		h[k] = v
	}
	// A browser always sends Host; a case that does not say sends the
	// loopback name the server answers to (a case may send another).
	if _, ok := r.Headers["host"]; !ok {
		h["host"] = "localhost"
	}
	return &protocol.Request{
		RequestHead: protocol.RequestHead{Method: r.Method, Path: r.Path, Query: r.Query, Headers: h},
		Body:        []byte(r.Body),
	}
}

// Case is one folder of the corpus.
type Case struct {
	Name     string // folder name
	Dir      string
	Schema   string          // schema.sql, run as one script on a fresh database
	Config   json.RawMessage // config.json, or nil when the folder has none
	Open     Open            // open.json: how the engine is opened beyond the config
	Requests []Request
}

// Open is open.json: the options a case opens the engine with (zero values
// when the folder has none).
type Open struct {
	// BasePath is the mount point; every URL the answers carry must start
	// with it (Test checks that, whatever the judge).
	BasePath string `json:"basePath"`
	// Offline: the host serves the offline service worker (engine.Options
	// Offline), so the pages name it.
	Offline bool `json:"offline"`
	// Load names a database copied in before schema.sql runs, in the
	// Postgres leg only (PostgresDir): "chinook" is
	// ../shared/testdata/chinook.sqlite, converted as pgtest.LoadSQLite
	// does; the case is skipped where that file is absent.
	Load string `json:"load"`
}

// Dir finds testdata/corpus by walking up from the working directory to the
// module root, so runners in any package (and any test binary's working
// directory) find the same corpus.
func Dir() string {
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join("testdata", "corpus")
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "corpus")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join("testdata", "corpus")
		}
		dir = parent
	}
}

// PostgresDir is the corpus's Postgres leg, testdata/corpus/postgres: the
// same format, the cases' schema.sql in Postgres's dialect (or a Load), the
// expected answers written by the native runner on Postgres
// (core/store/postgres, -update) and held to by wazero and the JS hosts.
func PostgresDir() string { return filepath.Join(Dir(), "postgres") }

// ChinookCopy copies ../shared/testdata/chinook.sqlite (beside the
// repository) into a temporary directory and returns the copy's path, or
// skips the test or benchmark when the file is absent.
func ChinookCopy(tb testing.TB) string {
	src := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(Dir()))), "shared", "testdata", "chinook.sqlite")
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Skip("chinook.sqlite is not in ../shared/testdata")
	}
	dst := filepath.Join(tb.TempDir(), "chinook.db")
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// Load reads every case under root (folders holding a requests.json), in name
// order.
func Load(root string) ([]*Case, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var cases []*Case
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "requests.json")); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		c, err := LoadCase(dir)
		if err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases, nil
}

// LoadCase reads one case folder.
func LoadCase(dir string) (*Case, error) {
	c := &Case{Name: filepath.Base(dir), Dir: dir}
	schema, err := os.ReadFile(filepath.Join(dir, "schema.sql"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	c.Schema = string(schema)
	if cfg, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
		if !json.Valid(cfg) {
			return nil, fmt.Errorf("%s: config.json is not valid JSON", c.Name)
		}
		c.Config = cfg
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "open.json")); err == nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c.Open); err != nil {
			return nil, fmt.Errorf("%s: open.json: %w", c.Name, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "requests.json"))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a misspelt field would silently test less
	if err := dec.Decode(&c.Requests); err != nil {
		return nil, fmt.Errorf("%s: requests.json: %w", c.Name, err)
	}
	for i, r := range c.Requests {
		if r.Method == "" || !strings.HasPrefix(r.Path, "/") {
			return nil, fmt.Errorf("%s: request %d needs a method and a path starting with /", c.Name, i)
		}
	}
	return c, nil
}

// OutPath is the expected-answer file of request i.
func (c *Case) OutPath(i int) string {
	return filepath.Join(c.Dir, "out", fmt.Sprintf("%03d.txt", i))
}

// HandleFunc is the core as a runner sees it (engine.Handle, or a host's).
type HandleFunc func(*protocol.Request) (*protocol.Response, error)

// Collect runs one request through all its continuations and returns the
// first response with every part's body appended.
func Collect(handle HandleFunc, req *protocol.Request) (*protocol.Response, error) {
	res, err := handle(req)
	if err != nil {
		return nil, err
	}
	out := &protocol.Response{ResponseHead: res.ResponseHead, Body: append([]byte(nil), res.Body...)}
	for token := res.Continue; token != ""; {
		next := &protocol.Request{RequestHead: req.RequestHead}
		next.Continue = token
		part, err := handle(next)
		if err != nil {
			return nil, fmt.Errorf("continuation %q: %w", token, err)
		}
		out.Body = append(out.Body, part.Body...)
		token = part.Continue
	}
	out.Continue = ""
	return out, nil
}

// Run sends every request of the case, in order, and returns the formatted
// answers. The caller has opened the core on a fresh database prepared with
// c.Schema and c.Config.
func Run(c *Case, handle HandleFunc) ([][]byte, error) {
	out := make([][]byte, len(c.Requests))
	for i, r := range c.Requests {
		res, err := Collect(handle, r.Protocol())
		if err != nil {
			return nil, fmt.Errorf("%s: request %03d (%s %s): %w", c.Name, i, r.Method, r.Path, err)
		}
		out[i] = Format(res)
	}
	return out, nil
}

// Format writes a (collected) response as the expected files hold it: the
// status, each header as "name: value" in the core's order, an empty line,
// then the body bytes as they are.
func Format(res *protocol.Response) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d\n", res.Status)
	for _, h := range res.Headers {
		fmt.Fprintf(&b, "%s: %s\n", h[0], h[1])
	}
	b.WriteString("\n")
	b.Write(res.Body)
	return b.Bytes()
}

// Check compares answers with the case's expected files and returns one
// readable problem per differing, missing or extra file: what the runners
// that only compare (every one but the native runner) report.
func (c *Case) Check(got [][]byte) []string {
	var problems []string
	for i, g := range got {
		want, err := os.ReadFile(c.OutPath(i))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v (regenerate with `go test ./core/engine -run Corpus -update`)", c.relOut(i), err))
			continue
		}
		if d := Diff(want, g); d != "" {
			r := c.Requests[i]
			problems = append(problems, fmt.Sprintf("%s (%s %s?%s):\n%s", c.relOut(i), r.Method, r.Path, r.Query, d))
		}
	}
	for _, extra := range c.stale(len(got)) {
		problems = append(problems, fmt.Sprintf("%s/out/%s: no such request in requests.json", c.Name, extra))
	}
	return problems
}

// Test runs every case of the corpus as a subtest of t: open gives the core
// on a fresh database built from the case (schema.sql, config.json), and
// judge decides about its answers (Compare, or the native runner's -update).
// A 500 is never a golden answer, whatever the judge.
func Test(t *testing.T, open func(t *testing.T, c *Case) HandleFunc, judge func(t *testing.T, c *Case, answers [][]byte)) {
	t.Helper()
	TestIn(t, Dir(), open, judge)
}

// TestIn is Test on the cases under root (Dir or PostgresDir).
func TestIn(t *testing.T, root string, open func(t *testing.T, c *Case) HandleFunc, judge func(t *testing.T, c *Case, answers [][]byte)) {
	t.Helper()
	cases, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("the corpus is empty")
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Open.Load != "" && root != PostgresDir() {
				t.Fatalf("open.json's load is for the Postgres leg (%s) only", PostgresDir())
			}
			answers, err := Run(c, open(t, c))
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range answers {
				if bytes.HasPrefix(a, []byte("500\n")) {
					t.Errorf("%s answered 500: a crash is never a golden answer:\n%s", c.relOut(i), a)
				}
				for _, u := range OutsideBase(a, c.Open.BasePath) {
					t.Errorf("%s: URL %q does not start with the base path %q", c.relOut(i), u, c.Open.BasePath)
				}
			}
			judge(t, c, answers)
		})
	}
}

// Compare is the judge of the runners that only compare.
func Compare(t *testing.T, c *Case, answers [][]byte) {
	t.Helper()
	if problems := c.Check(answers); len(problems) > 0 {
		t.Error(strings.Join(problems, "\n"))
	}
}

// Writer is the judge of a runner that writes (-update) or else compares.
func Writer(update bool) func(t *testing.T, c *Case, answers [][]byte) {
	return func(t *testing.T, c *Case, answers [][]byte) {
		t.Helper()
		if !update {
			Compare(t, c, answers)
		} else if err := c.Write(answers); err != nil {
			t.Fatal(err)
		}
	}
}

// Write replaces the case's expected answers.
func (c *Case) Write(answers [][]byte) error {
	out := filepath.Join(c.Dir, "out")
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for i, a := range answers {
		if err := os.WriteFile(c.OutPath(i), a, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// stale lists out/NNN.txt files with no matching request.
func (c *Case) stale(n int) []string {
	entries, _ := os.ReadDir(filepath.Join(c.Dir, "out"))
	var out []string
	for _, e := range entries {
		var i int
		if _, err := fmt.Sscanf(e.Name(), "%03d.txt", &i); err == nil && i >= n && e.Name() == fmt.Sprintf("%03d.txt", i) {
			out = append(out, e.Name())
		}
	}
	return out
}

func (c *Case) relOut(i int) string { return fmt.Sprintf("%s/out/%03d.txt", c.Name, i) }

// urlAttr finds the URLs an answer points at: attributes that hold one in
// HTML (href, src, action, formaction, hx-get/post/put/patch/delete, the
// hx-sse connect URL), and the Location header.
var urlAttr = regexp.MustCompile(`(?i)(?:\b(?:href|src|action|formaction|hx-(?:get|post|put|patch|delete)|hx-sse:connect|sse-connect)="([^"]*)"|\nlocation: ([^\n]*))`)

// OutsideBase lists the site-absolute URLs in an answer (those starting with
// a single "/") that do not start with basePath. With basePath "" nothing is
// outside.
func OutsideBase(answer []byte, basePath string) []string {
	if basePath == "" {
		return nil
	}
	var out []string
	for _, m := range urlAttr.FindAllSubmatch(answer, -1) {
		u := string(m[1]) + string(m[2])
		if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
			continue // relative, absolute with a scheme, or a fragment
		}
		if u != basePath && !strings.HasPrefix(u, basePath+"/") && !strings.HasPrefix(u, basePath+"?") {
			out = append(out, u)
		}
	}
	return out
}
