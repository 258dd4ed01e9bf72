package corpus

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		res  protocol.Response
		want string
	}{
		{"headers in order, body as is",
			protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200, Headers: [][2]string{{"content-type", "text/csv"}, {"x-a", "1"}}}, Body: []byte("a,b\n")},
			"200\ncontent-type: text/csv\nx-a: 1\n\na,b\n"},
		{"no headers, no body", protocol.Response{ResponseHead: protocol.ResponseHead{Status: 204}}, "204\n\n"},
		{"binary body kept", protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200}, Body: []byte{0, 255}}, "200\n\n\x00\xff"},
	}
	for _, tt := range tests {
		if got := string(Format(&tt.res)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCollect(t *testing.T) {
	handle := func(r *protocol.Request) (*protocol.Response, error) {
		switch r.Continue {
		case "":
			return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200, Continue: "x"}, Body: []byte("1")}, nil
		case "x":
			if r.Path != "/p" || r.Query != "q=1" {
				t.Errorf("continuation lost the head: %+v", r.RequestHead)
			}
			return &protocol.Response{Body: []byte("2")}, nil
		}
		return nil, nil
	}
	res, err := Collect(handle, Request{Method: "GET", Path: "/p", Query: "q=1"}.Protocol())
	if err != nil || string(res.Body) != "12" || res.Status != 200 || res.Continue != "" {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestDiff(t *testing.T) {
	if d := Diff([]byte("same"), []byte("same")); d != "" {
		t.Fatalf("equal inputs diff: %q", d)
	}
	want := "200\nh: 1\n\nline 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n"
	got := strings.Replace(want, "line 6", "line six", 1)
	d := Diff([]byte(want), []byte(got))
	for _, s := range []string{"-line 6\n", "+line six\n", " line 5\n", " line 7\n", "@@ want line 6, got line 6 @@\n line 3\n line 4\n line 5\n-line 6\n+line six\n"} {
		if !strings.Contains(d, s) {
			t.Errorf("diff lacks %q:\n%s", s, d)
		}
	}
	if strings.Contains(d, "h: 1") {
		t.Errorf("diff shows lines far from the change:\n%s", d)
	}
	d = Diff([]byte("a\n"), []byte("a"))
	if !strings.Contains(d, "only the final newline differs") {
		t.Errorf("final newline: %s", d)
	}
}

func TestLoadAndCheck(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "one")
	os.MkdirAll(filepath.Join(dir, "out"), 0o755)
	os.WriteFile(filepath.Join(dir, "schema.sql"), []byte("CREATE TABLE t (a);"), 0o644)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"title":"x"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "requests.json"), []byte(`[{"method":"GET","path":"/a"},{"method":"POST","path":"/b","body":"{}","headers":{"content-type":"application/json"}}]`), 0o644)
	os.WriteFile(filepath.Join(dir, "out", "000.txt"), []byte("200\n\nA"), 0o644)
	os.WriteFile(filepath.Join(dir, "out", "001.txt"), []byte("201\n\nB"), 0o644)
	os.WriteFile(filepath.Join(dir, "out", "002.txt"), []byte("stale"), 0o644)
	os.MkdirAll(filepath.Join(root, "not-a-case"), 0o755)

	cases, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 {
		t.Fatalf("%d cases", len(cases))
	}
	c := cases[0]
	if c.Name != "one" || c.Schema != "CREATE TABLE t (a);" || string(c.Config) != `{"title":"x"}` || len(c.Requests) != 2 {
		t.Fatalf("%+v", c)
	}
	if r := c.Requests[1].Protocol(); string(r.Body) != "{}" || r.Headers["content-type"] != "application/json" {
		t.Fatalf("%+v", r)
	}
	problems := c.Check([][]byte{[]byte("200\n\nA"), []byte("201\n\nb")})
	if len(problems) != 2 || !strings.Contains(problems[0], "one/out/001.txt (POST /b?)") || !strings.Contains(problems[1], "002.txt") {
		t.Fatalf("problems %q", problems)
	}

	// A misspelt field is an error, not a silently weaker test.
	os.WriteFile(filepath.Join(dir, "requests.json"), []byte(`[{"method":"GET","path":"/a","header":{}}]`), 0o644)
	if _, err := Load(root); err == nil || !strings.Contains(err.Error(), "header") {
		t.Fatalf("got %v", err)
	}
}

func TestDirFindsTheRepositoryCorpus(t *testing.T) {
	if _, err := os.Stat(filepath.Join(Dir(), "README.md")); err != nil {
		t.Fatal(err)
	}
}

func TestOutsideBase(t *testing.T) {
	for _, tc := range []struct {
		name, answer, base string
		want               []string
	}{
		{"no base path", `<a href="/t/x">`, "", nil},
		{"under it", `<a href="/admin/t/x"><script src="/admin/assets/a.js"></script><form action="/admin">`, "/admin", nil},
		{"query on the root", `<a href="/admin?x=1">`, "/admin", nil},
		{"outside", `<a href="/t/x">`, "/admin", []string{"/t/x"}},
		{"a longer segment is outside", `<img src="/administrator/a.png">`, "/admin", []string{"/administrator/a.png"}},
		{"htmx attributes", `<div hx-sse:connect="/t/x/live" hx-post="/admin/t/x">`, "/admin", []string{"/t/x/live"}},
		{"location header", "303\nlocation: /t/x/r/1\n\n", "/admin", []string{"/t/x/r/1"}},
		{"relative, fragment, scheme, protocol-relative", `<a href="r/1"><a href="#x"><a href="https://e.org/"><a href="//e.org/">`, "/admin", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OutsideBase([]byte(tc.answer), tc.base); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
