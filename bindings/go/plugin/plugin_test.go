package plugin

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// built holds each plugin built in this test run, by what it was built from.
var built sync.Map

// build compiles a plugin package of this module with Go's wasip1 port,
// once per test run, as a user builds one.
func build(t testing.TB, pkg string) []byte {
	return buildOnce(t, pkg, func(out string) *exec.Cmd {
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		return cmd
	})
}

// buildAS compiles an AssemblyScript plugin with the asc of the npm
// devDependencies (make build installs them), as a user builds one.
func buildAS(t testing.TB, source string) []byte {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	asc := filepath.Join(root, "node_modules", ".bin", "asc")
	if _, err := os.Stat(asc); err != nil {
		t.Skipf("no asc to build %s with (npm install first): %v", source, err)
	}
	return buildOnce(t, source, func(out string) *exec.Cmd {
		cmd := exec.Command(asc, source, "--outFile", out, "--optimize",
			"--use", "abort="+strings.TrimSuffix(source, ".ts")+"/abort")
		cmd.Dir = root
		return cmd
	})
}

// buildOnce runs the command that writes the plugin from what to out, the
// first time it is asked for.
func buildOnce(t testing.TB, what string, command func(out string) *exec.Cmd) []byte {
	t.Helper()
	if b, ok := built.Load(what); ok {
		return b.([]byte)
	}
	out := filepath.Join(t.TempDir(), "plugin.wasm")
	if msg, err := command(out).CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", what, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	built.Store(what, b)
	return b
}

func load(t *testing.T, pkg string, lim Limits, g Grants) *Plugin {
	t.Helper()
	p, err := Load(context.Background(), filepath.Base(pkg), build(t, pkg), lim, g)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// The Go example of examples/plugins: its manifest, and a validator's
// answers for a good row and a bad one.
func TestGoExample(t *testing.T) {
	p := load(t, "../../../examples/plugins/go", Limits{}, Grants{WASI: true})
	out, err := p.Call(context.Background(), "nakedhtmx_manifest", nil)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Name  string `json:"name"`
		Hooks []struct {
			Kind, Function string
		} `json:"hooks"`
	}
	if err := json.Unmarshal(out, &m); err != nil || m.Name != "email-check" || len(m.Hooks) != 1 || m.Hooks[0].Function != "check_email" {
		t.Fatalf("manifest %s: %+v %v", out, m, err)
	}
	for _, c := range []struct{ row, want string }{
		{`{"row": {"email": "ann@example.com"}}`, `{"errors":{}}`},
		{`{"row": {"email": "ann.example.com"}}`, `{"errors":{"email":"is not an email address"}}`},
		{`{"row": {"email": "a@b@c"}}`, `{"errors":{"email":"is not an email address"}}`},
		{`{"row": {"name": "no email"}}`, `{"errors":{}}`},
	} {
		out, err := p.Call(context.Background(), "check_email", []byte(c.row))
		if err != nil || string(out) != c.want {
			t.Errorf("%s: %s %v, want %s", c.row, out, err, c.want)
		}
	}
	_, err = p.Call(context.Background(), "check_email", []byte(`not json`))
	if e := (*Error)(nil); !errors.As(err, &e) || e.Kind != "error" || e.Plugin != "go" || e.Function != "check_email" {
		t.Errorf("a body that is not JSON: %v", err)
	}
}

// Every way a plugin can misbehave is stopped with words that say which
// plugin and why, and the plugin answers again afterwards.
func TestHostile(t *testing.T) {
	// A time limit long enough for the rest on a busy machine; the endless
	// loop gets a short one of its own.
	lim := Limits{Timeout: 30 * time.Second, MemoryPages: 512, VarBytes: 256 << 10, BlockBytes: 1 << 20}
	p := load(t, "./testdata/hostile", lim, Grants{WASI: true, Config: map[string]string{"greeting": "hi"}})
	short := lim
	short.Timeout = 300 * time.Millisecond
	spinning := load(t, "./testdata/hostile", short, Grants{WASI: true})
	ctx := context.Background()
	for _, c := range []struct {
		fn, kind, words string
	}{
		{"spin", "timeout", "stopped after 300ms, its time limit"},
		{"bomb", "memory", "it ran out of memory (32768 KiB at most)"},
		{"boom", "trap", "panic: boom (wasm error: unreachable)"},
		{"huge", "limit", "over a limit of this host: the call's blocks would hold more than 1048576 bytes"},
		{"refuse", "error", "no, said the plugin"},
		{"nonzero", "error", "it returned 7"},
		{"fat_vars", "limit", "over a limit of this host: its variables would hold more than 262144 bytes"},
		{"network", "trap", "grants plugins no network"},
		{"missing", "missing", `no function "missing"`},
		{"_initialize", "missing", ""}, // not a plugin function: a reactor's start, with no i32 back
	} {
		q := p
		if c.fn == "spin" {
			q = spinning
		}
		_, err := q.Call(ctx, c.fn, nil)
		var e *Error
		if !errors.As(err, &e) || e.Kind != c.kind || !strings.Contains(e.Message, c.words) || e.Plugin != "hostile" || e.Function != c.fn {
			t.Errorf("%s: %v (kind %v), want %s with %q", c.fn, err, kindOf(err), c.kind, c.words)
		}
		// And it answers again, in a new instance where the last one closed.
		out, err := q.Call(ctx, "echo", []byte("still here "+c.fn))
		if err != nil || string(out) != "still here "+c.fn {
			t.Errorf("after %s: %q %v", c.fn, out, err)
		}
	}
}

func kindOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return "not an *Error"
}

// Variables persist between calls of one plugin; config answers config_get;
// logs reach the host.
func TestVarsConfigLogs(t *testing.T) {
	p := load(t, "./testdata/hostile", Limits{}, Grants{WASI: true, Config: map[string]string{"greeting": "hi"}})
	var got []string
	p.Log = func(level, msg string) { got = append(got, level+": "+msg) }
	ctx := context.Background()
	for _, want := range []string{"hi:x", "hi:xx", "hi:xxx"} {
		if out, err := p.Call(ctx, "vars", nil); err != nil || string(out) != want {
			t.Errorf("vars: %q %v, want %q", out, err, want)
		}
	}
	if _, err := p.Call(ctx, "logs", nil); err != nil || len(got) != 1 || got[0] != "info: hello from the plugin" {
		t.Errorf("logs: %v %q", err, got)
	}
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	if out, err := p.Call(ctx, "echo", big); err != nil || string(out) != string(big) {
		t.Errorf("a 1 MiB echo: %d bytes, %v", len(out), err)
	}
}

// With WASI granted, a plugin still sees no files, no real clock and no
// real randomness (wazero's defaults): two plugins started apart see the
// same time and the same random bytes.
func TestNoSenses(t *testing.T) {
	var seen []string
	for range 2 {
		p := load(t, "./testdata/hostile", Limits{}, Grants{WASI: true})
		out, err := p.Call(context.Background(), "senses", nil)
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Now  int64  `json:"now"`
			Rand string `json:"rand"`
			File bool   `json:"file"`
		}
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatal(err)
		}
		if !s.File || s.Now != epoch {
			t.Errorf("the plugin saw the host's file (%v) or its clock (%v)", !s.File, time.Unix(s.Now, 0))
		}
		seen = append(seen, s.Rand)
	}
	if seen[0] != seen[1] {
		t.Errorf("random bytes differ between two plugins: %q", seen)
	}
}

// A plugin that imports WASI is refused unless the config grants it, and
// one that imports what no plugin gets is refused whatever is granted.
func TestImportsChecked(t *testing.T) {
	_, err := Load(context.Background(), "hostile", build(t, "./testdata/hostile"), Limits{}, Grants{})
	if err == nil || !strings.Contains(err.Error(), "plugin hostile: imports WASI") {
		t.Errorf("WASI not granted: %v", err)
	}
	// A module importing a function from elsewhere (hand-assembled: the
	// type (func), an import env.f of it).
	mod := []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 4, 1, 0x60, 0, 0, // type section: one type, () -> ()
		2, 9, 1, 3, 'e', 'n', 'v', 1, 'f', 0, 0, // import section: env.f of type 0
	}
	_, err = Load(context.Background(), "odd", mod, Limits{}, Grants{WASI: true})
	if err == nil || !strings.Contains(err.Error(), "imports what this host does not give plugins: env.f") {
		t.Errorf("a foreign import: %v", err)
	}
}

// The random bytes are SplitMix64's from 0 (its published first outputs).
func TestRandom(t *testing.T) {
	var s senses
	b := make([]byte, 20)
	s.Read(b[:3])
	s.Read(b[3:])
	for i, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4} {
		if got := binary.LittleEndian.Uint64(b[i*8:]); got != want {
			t.Errorf("output %d: %#x, want %#x", i, got, want)
		}
	}
}

// Addresses outside every block trap; a block's own bytes do not.
func TestBlocks(t *testing.T) {
	p := &Plugin{lim: Limits{}.withDefaults()}
	h := p.newBlock(make([]byte, 10))
	if got := p.bytesAt(h+2, 8); len(got) != 8 {
		t.Fatal(got)
	}
	for _, bad := range []struct{ a, n uint64 }{{h + 3, 8}, {h + 10, 1}, {0, 1}, {h + 1<<32, 1}, {h - 1, 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%#x, %d bytes: no trap", bad.a, bad.n)
				}
			}()
			p.bytesAt(bad.a, bad.n)
		}()
	}
	if i, ok := p.blockAt(h + 1); ok {
		t.Errorf("an address inside a block is not its start: %d", i)
	}
}

// cases is testdata/plugins/cases.json: what every plugin host answers alike.
type cases struct {
	Plugins map[string]struct {
		Package string `json:"package"`
		Source  string `json:"source"`
		Limits  struct {
			MemoryPages uint32 `json:"memoryPages"`
			BlockBytes  int    `json:"blockBytes"`
			VarBytes    int    `json:"varBytes"`
			TimeoutMs   int    `json:"timeoutMs"`
		} `json:"limits"`
		Grants struct {
			WASI   bool              `json:"wasi"`
			Config map[string]string `json:"config"`
		} `json:"grants"`
	} `json:"plugins"`
	Cases []struct {
		Plugin, Function, Input, Output, Kind, Words string
	} `json:"cases"`
}

// TestCases runs the shared cases; the TypeScript host runs the same file
// (bindings/ts/test/plugin.ts).
func TestCases(t *testing.T) {
	b, err := os.ReadFile("../../../testdata/plugins/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs cases
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	loaded := map[string]*Plugin{}
	for _, c := range cs.Cases {
		p := loaded[c.Plugin]
		if p == nil {
			d := cs.Plugins[c.Plugin]
			lim := Limits{MemoryPages: d.Limits.MemoryPages, BlockBytes: d.Limits.BlockBytes, VarBytes: d.Limits.VarBytes, Timeout: 30 * time.Second}
			if d.Limits.TimeoutMs > 0 {
				lim.Timeout = time.Duration(d.Limits.TimeoutMs) * time.Millisecond
			}
			var wasm []byte
			if d.Source != "" {
				wasm = buildAS(t, d.Source)
			} else {
				wasm = build(t, "../../../"+d.Package)
			}
			var err error
			if p, err = Load(context.Background(), c.Plugin, wasm, lim, Grants{WASI: d.Grants.WASI, Config: d.Grants.Config}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close(context.Background()) })
			loaded[c.Plugin] = p
		}
		out, err := p.Call(context.Background(), c.Function, []byte(c.Input))
		var e *Error
		switch {
		case c.Kind == "" && (err != nil || string(out) != c.Output):
			t.Errorf("%s %s(%q): %q %v, want %q", c.Plugin, c.Function, c.Input, out, err, c.Output)
		case c.Kind != "" && (!errors.As(err, &e) || e.Kind != c.Kind || e.Message != c.Words):
			t.Errorf("%s %s(%q): %q %v (%s), want %s %q", c.Plugin, c.Function, c.Input, out, err, kindOf(err), c.Kind, c.Words)
		}
	}
}
