// Package plugin runs WebAssembly plugins built for the Extism plugin ABI
// (docs/plugins.md) on wazero, synchronously: a call returns when the
// plugin has answered, failed or run out of time, so a host can make it
// from inside a call of the core.
//
// It is a host of the ABI of its own rather than github.com/extism/go-sdk
// (which pins an older wazero and links observe-sdk, protobuf and OTLP),
// and keeps the blocks a plugin allocates in Go memory, as the JS SDK does;
// the TypeScript host is to answer the same way at every edge.
//
// A plugin gets no filesystem, network, clock or randomness: only the
// Extism imports, and WASI when granted (Grants.WASI: no files, stdout and
// stderr discarded, a clock that is not the real one and random bytes from
// a fixed seed, wazero's defaults; what Go's runtime needs to start).
// Every call is bounded: the plugin's memory (Limits.MemoryPages), its
// time (Limits.Timeout: the instance is closed where it runs and made
// again for the next call), and the bytes it may hold in blocks, keep in
// variables and log.
package plugin

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// Limits bound what one plugin may use; a zero field takes its default.
type Limits struct {
	// MemoryPages is the most the plugin's own memory may grow to, in 64 KiB
	// pages (default 1024: 64 MiB).
	MemoryPages uint32
	// Timeout is the longest one call may run (default 1 s).
	Timeout time.Duration
	// BlockBytes is the most the blocks of one call may hold together: its
	// input, its output and what the plugin allocates (default 16 MiB).
	BlockBytes int
	// VarBytes is the most the plugin's variables may hold (default 1 MiB).
	VarBytes int
	// LogBytes is the most one call may log (default 64 KiB; the rest is dropped).
	LogBytes int
}

// Defaults of Limits.
const (
	DefaultMemoryPages = 1024
	DefaultTimeout     = time.Second
	DefaultBlockBytes  = 16 << 20
	DefaultVarBytes    = 1 << 20
	DefaultLogBytes    = 64 << 10
)

func (l Limits) withDefaults() Limits {
	if l.MemoryPages == 0 {
		l.MemoryPages = DefaultMemoryPages
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.BlockBytes <= 0 {
		l.BlockBytes = DefaultBlockBytes
	}
	if l.VarBytes <= 0 {
		l.VarBytes = DefaultVarBytes
	}
	if l.LogBytes <= 0 {
		l.LogBytes = DefaultLogBytes
	}
	return l
}

// Grants are what the config gives one plugin beyond the Extism imports.
type Grants struct {
	// WASI lets the plugin import wasi_snapshot_preview1 (a plugin built
	// with Go's wasip1 port needs it): no files, no network, a clock that
	// is not the real one, random bytes from a fixed seed.
	WASI bool
	// Config answers the plugin's config_get.
	Config map[string]string
}

// Error is a call that did not answer: which plugin and function, what
// kind of failure, and the words to show.
type Error struct {
	Plugin, Function string
	// Kind is "error" (the plugin said so), "trap", "timeout", "memory"
	// (out of its memory), "exit" (it exited), "limit" (past a host limit)
	// or "missing" (no such function).
	Kind    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("plugin %s, %s: %s", e.Plugin, e.Function, e.Message)
}

// Plugin is one loaded plugin. Calls are one at a time.
type Plugin struct {
	name   string
	lim    Limits
	grants Grants
	// Log receives what the plugin logs (level "debug" ... "error"); nil: dropped.
	Log func(level, message string)

	mu       sync.Mutex
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	mod      api.Module // nil until made, and after a call closed it
	// funcs keeps the instance's functions by name: wazero makes each
	// api.Function with a call stack of its own, which was a quarter of a
	// small call.
	funcs    map[string]api.Function
	vars     map[string][]byte
	varBytes int
	call     callState
	// stderr keeps the start of what the plugin wrote there (with WASI): the
	// words of a Go plugin's panic or its "out of memory" before it exits.
	stderr capped
}

// capped keeps the first bytes written to it, up to 4 KiB.
type capped struct{ b []byte }

func (c *capped) Write(b []byte) (int, error) {
	if room := 4096 - len(c.b); room > 0 {
		c.b = append(c.b, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

// callState is one call's blocks, input, output and error. Handles are
// (index+1)<<32 | offset: an address inside a block is its handle plus the
// offset, as the PDKs compute it, and 0 is no block.
type callState struct {
	blocks    [][]byte // nil once freed
	bytes     int
	input     uint64 // the input's handle (a block like the others)
	output    []byte
	outputSet bool
	errMsg    string
	errSet    bool
	logged    int
}

var errNotWASI = errors.New("imports WASI (wasi_snapshot_preview1), which the config does not grant it")

// Load compiles a plugin and checks its imports; it is instantiated at its
// first call. name is how errors name it.
func Load(ctx context.Context, name string, wasm []byte, lim Limits, g Grants) (*Plugin, error) {
	lim = lim.withDefaults()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithMemoryLimitPages(lim.MemoryPages).
		WithCloseOnContextDone(true))
	p := &Plugin{name: name, lim: lim, grants: g, rt: rt, vars: map[string][]byte{}}
	fail := func(err error) (*Plugin, error) {
		rt.Close(ctx)
		return nil, fmt.Errorf("plugin %s: %w", name, err)
	}
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return fail(err)
	}
	p.compiled = compiled
	if err := p.checkImports(); err != nil {
		return fail(err)
	}
	if g.WASI {
		if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
			return fail(err)
		}
	}
	if err := p.hostModule(ctx); err != nil {
		return fail(err)
	}
	return p, nil
}

// checkImports refuses a plugin that imports what no plugin gets: anything
// but the ABI's functions, and WASI unless granted.
func (p *Plugin) checkImports() error {
	var bad []string
	for _, f := range p.compiled.ImportedFunctions() {
		mod, fn, _ := f.Import()
		switch {
		case mod == envModule && envFuncs[fn]:
		case mod == wasi_snapshot_preview1.ModuleName:
			if !p.grants.WASI {
				return errNotWASI
			}
		default:
			bad = append(bad, mod+"."+fn)
		}
	}
	for _, m := range p.compiled.ImportedMemories() {
		mod, n, _ := m.Import()
		bad = append(bad, mod+"."+n+" (a memory)")
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("imports what this host does not give plugins: %s", strings.Join(bad, ", "))
	}
	return nil
}

// Close lets the plugin go.
func (p *Plugin) Close(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mod = nil
	return p.rt.Close(ctx)
}

// Call runs function with input and answers its output. A plugin that
// failed answers *Error.
func (p *Plugin) Call(ctx context.Context, function string, input []byte) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fail := func(kind, format string, args ...any) ([]byte, error) {
		return nil, &Error{Plugin: p.name, Function: function, Kind: kind, Message: fmt.Sprintf(format, args...)}
	}
	if len(input) > p.lim.BlockBytes {
		return fail("limit", "its input of %d bytes is over the %d a call may hold", len(input), p.lim.BlockBytes)
	}
	ctx, cancel := context.WithTimeout(ctx, p.lim.Timeout)
	defer cancel()
	p.stderr.b = p.stderr.b[:0]
	if p.mod == nil {
		if err := p.instantiate(ctx); err != nil {
			kind := failureKind(ctx, err, p.stderr.b)
			return fail(kind, "could not start: %s", words(err, kind, p.lim, p.stderr.b))
		}
	}
	fn, ok := p.funcs[function]
	if !ok {
		fn = p.mod.ExportedFunction(function)
		if function == "_initialize" || function == "_start" {
			fn = nil // the module's start, run once by the host, never a hook
		}
		p.funcs[function] = fn
	}
	if fn == nil {
		return fail("missing", "the plugin has no function %q", function)
	}
	if def := fn.Definition(); len(def.ParamTypes()) != 0 || len(def.ResultTypes()) > 1 ||
		(len(def.ResultTypes()) == 1 && def.ResultTypes()[0] != api.ValueTypeI32) {
		return fail("missing", "%q is not a plugin function (no parameters, an i32 or nothing back)", function)
	}
	p.call = callState{}
	p.stderr.b = p.stderr.b[:0]
	p.call.input = p.newBlock(append([]byte(nil), input...))
	res, err := fn.Call(ctx)
	c := p.call
	p.call = callState{}
	if err != nil {
		// A trap can leave the plugin's own state half changed (a Go
		// plugin's runtime, stopped inside its allocator, deadlocks at the
		// next call): the instance goes, with its variables (a host that
		// runs plugins in a worker loses them with it), and the next call
		// makes another.
		p.mod.Close(context.Background())
		p.mod = nil
		p.vars, p.varBytes = map[string][]byte{}, 0
		kind := failureKind(ctx, err, p.stderr.b)
		return fail(kind, "%s", words(err, kind, p.lim, p.stderr.b))
	}
	if c.errSet {
		return fail("error", "%s", c.errMsg)
	}
	if len(res) == 1 && uint32(res[0]) != 0 {
		return fail("error", "it returned %d", int32(res[0]))
	}
	if !c.outputSet {
		return []byte{}, nil
	}
	return c.output, nil
}

// instantiate makes the plugin's instance and runs its initializer (a Go
// or C reactor's _initialize).
func (p *Plugin) instantiate(ctx context.Context) error {
	var clock senses
	mod, err := p.rt.InstantiateModule(ctx, p.compiled, wazero.NewModuleConfig().
		WithName("").WithStartFunctions().WithStderr(&p.stderr).
		WithWalltime(clock.walltime, sys.ClockResolution(1e6)).
		WithNanotime(clock.nanotime, sys.ClockResolution(1e6)).
		WithNanosleep(func(int64) {}).
		WithRandSource(&clock))
	if err != nil {
		return err
	}
	p.mod = mod
	p.funcs = map[string]api.Function{}
	if init := mod.ExportedFunction("_initialize"); init != nil {
		p.call = callState{}
		_, err := init.Call(ctx)
		p.call = callState{}
		if err != nil {
			mod.Close(ctx)
			p.mod = nil
			return err
		}
	}
	return nil
}

// failureKind names why a call failed.
func failureKind(ctx context.Context, err error, stderr []byte) string {
	var exit *sys.ExitError
	switch {
	case ctx.Err() != nil:
		return "timeout"
	case strings.Contains(err.Error(), "out of memory") || strings.Contains(string(stderr), "out of memory"):
		return "memory"
	case errors.Is(err, errLimit):
		return "limit"
	case errors.As(err, &exit):
		return "exit"
	}
	return "trap"
}

// words is a failure's message: the first line of wazero's (its wasm
// stack trace is not for the page), the time limit, or an exit with the
// first line the plugin wrote to stderr.
func words(err error, kind string, lim Limits, stderr []byte) string {
	switch kind {
	case "timeout":
		return fmt.Sprintf("stopped after %v, its time limit", lim.Timeout)
	case "memory":
		return fmt.Sprintf("it ran out of memory (%d KiB at most)", lim.MemoryPages*64)
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	s = strings.TrimSuffix(s, " (recovered by wazero)") // a host function's trap
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		s = fmt.Sprintf("it exited with code %d", exit.ExitCode())
	}
	// What the plugin said before it stopped (a Go panic's words) says more.
	if line, _, _ := strings.Cut(strings.TrimSpace(string(stderr)), "\n"); line != "" {
		s = strings.ToValidUTF8(line, "\uFFFD") + " (" + s + ")"
	}
	return s
}

// senses is what a plugin with WASI sees of the world, the same on every
// host (docs/plugins.md): a clock that moves 1 ms at each reading, from
// 2022-01-01T00:00:00Z (monotonic: from 0), and random bytes from
// SplitMix64 seeded with 0, each output little-endian. Both start again
// with each instance.
type senses struct {
	ticks   int64
	state   uint64
	pending []byte
}

const epoch = 1640995200 // 2022-01-01T00:00:00Z, as wazero's own fake clock

func (s *senses) nanotime() int64 {
	s.ticks++
	return s.ticks * 1e6
}

func (s *senses) walltime() (int64, int32) {
	ns := s.nanotime()
	return epoch + ns/1e9, int32(ns % 1e9)
}

func (s *senses) Read(b []byte) (int, error) {
	for i := range b {
		if len(s.pending) == 0 {
			s.state += 0x9e3779b97f4a7c15
			z := s.state
			z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
			z = (z ^ z>>27) * 0x94d049bb133111eb
			z ^= z >> 31
			s.pending = binary.LittleEndian.AppendUint64(s.pending[:0], z)
		}
		b[i] = s.pending[0]
		s.pending = s.pending[1:]
	}
	return len(b), nil
}
