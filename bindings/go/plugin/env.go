package plugin

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero/api"
)

// envModule is where the Extism ABI's imports come from.
const envModule = "extism:host/env"

// errLimit is a plugin past one of the host's limits; wrapped with which.
var errLimit = errors.New("over a limit of this host")

// trap stops the call: wazero answers a host function's panic as the
// call's error.
func trap(format string, args ...any) { panic(fmt.Errorf(format, args...)) }

func trapLimit(format string, args ...any) {
	panic(fmt.Errorf("%w: %s", errLimit, fmt.Sprintf(format, args...)))
}

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// envFunc is one import of the ABI: its wasm type and what it does.
type envFunc struct {
	params, results []api.ValueType
	fn              func(p *Plugin, stack []uint64)
}

// env is the ABI's imports (docs/plugins.md). What the host does not grant
// (HTTP) traps with a message saying so.
var env = map[string]envFunc{
	"alloc": {[]api.ValueType{i64}, []api.ValueType{i64}, func(p *Plugin, s []uint64) {
		n := s[0]
		if n == 0 {
			s[0] = 0 // as the kernel answers: no block
			return
		}
		if n > uint64(p.lim.BlockBytes-p.call.bytes) {
			trapLimit("the call's blocks would hold more than %d bytes", p.lim.BlockBytes)
		}
		s[0] = p.newBlock(make([]byte, n))
	}},
	"free": {[]api.ValueType{i64}, nil, func(p *Plugin, s []uint64) {
		if i, ok := p.blockAt(s[0]); ok && s[0] != p.call.input {
			p.call.bytes -= len(p.call.blocks[i])
			p.call.blocks[i] = nil
		}
	}},
	"length":        {[]api.ValueType{i64}, []api.ValueType{i64}, lengthOf},
	"length_unsafe": {[]api.ValueType{i64}, []api.ValueType{i64}, lengthOf},
	"load_u8": {[]api.ValueType{i64}, []api.ValueType{i32}, func(p *Plugin, s []uint64) {
		s[0] = uint64(p.bytesAt(s[0], 1)[0])
	}},
	"load_u64": {[]api.ValueType{i64}, []api.ValueType{i64}, func(p *Plugin, s []uint64) {
		s[0] = binary.LittleEndian.Uint64(p.bytesAt(s[0], 8))
	}},
	"store_u8": {[]api.ValueType{i64, i32}, nil, func(p *Plugin, s []uint64) {
		p.bytesAt(s[0], 1)[0] = byte(s[1])
	}},
	"store_u64": {[]api.ValueType{i64, i64}, nil, func(p *Plugin, s []uint64) {
		binary.LittleEndian.PutUint64(p.bytesAt(s[0], 8), s[1])
	}},
	"input_length": {nil, []api.ValueType{i64}, func(p *Plugin, s []uint64) {
		s[0] = uint64(len(p.input()))
	}},
	"input_offset": {nil, []api.ValueType{i64}, func(p *Plugin, s []uint64) { s[0] = p.call.input }},
	"input_load_u8": {[]api.ValueType{i64}, []api.ValueType{i32}, func(p *Plugin, s []uint64) {
		s[0] = uint64(p.bytesAt(p.call.input+s[0], 1)[0])
	}},
	"input_load_u64": {[]api.ValueType{i64}, []api.ValueType{i64}, func(p *Plugin, s []uint64) {
		s[0] = binary.LittleEndian.Uint64(p.bytesAt(p.call.input+s[0], 8))
	}},
	"output_set": {[]api.ValueType{i64, i64}, nil, func(p *Plugin, s []uint64) {
		if s[0] == 0 && s[1] == 0 {
			p.call.output, p.call.outputSet = []byte{}, true // alloc(0) gave no block
			return
		}
		p.call.output = append([]byte(nil), p.bytesAt(s[0], s[1])...)
		p.call.outputSet = true
	}},
	"error_set": {[]api.ValueType{i64}, nil, func(p *Plugin, s []uint64) {
		if s[0] == 0 {
			p.call.errMsg, p.call.errSet = "", false
			return
		}
		i, ok := p.blockAt(s[0])
		if !ok {
			trap("error_set: %#x is not a block", s[0])
		}
		msg := p.call.blocks[i]
		if len(msg) > 4096 {
			msg = msg[:4096] // a page shows it: long enough to say why
		}
		p.call.errMsg, p.call.errSet = string(msg), true
	}},
	"error_get": {nil, []api.ValueType{i64}, func(p *Plugin, s []uint64) {
		s[0] = 0
		if p.call.errSet {
			s[0] = p.newBlock([]byte(p.call.errMsg))
		}
	}},
	"config_get": {[]api.ValueType{i64}, []api.ValueType{i64}, func(p *Plugin, s []uint64) {
		v, ok := p.grants.Config[string(p.block(s[0]))]
		s[0] = 0
		if ok {
			s[0] = p.newBlock([]byte(v))
		}
	}},
	"var_get": {[]api.ValueType{i64}, []api.ValueType{i64}, func(p *Plugin, s []uint64) {
		v, ok := p.vars[string(p.block(s[0]))]
		s[0] = 0
		if ok {
			s[0] = p.newBlock(append([]byte(nil), v...))
		}
	}},
	"var_set": {[]api.ValueType{i64, i64}, nil, func(p *Plugin, s []uint64) {
		key := string(p.block(s[0]))
		old, had := p.vars[key]
		if s[1] == 0 {
			if had {
				p.varBytes -= len(key) + len(old)
				delete(p.vars, key)
			}
			return
		}
		v := p.block(s[1])
		size := p.varBytes + len(v) + len(key)
		if had {
			size -= len(key) + len(old)
		}
		if size > p.lim.VarBytes {
			trapLimit("its variables would hold more than %d bytes", p.lim.VarBytes)
		}
		p.vars[key] = append([]byte(nil), v...)
		p.varBytes = size
	}},
	"http_request": {[]api.ValueType{i64, i64}, []api.ValueType{i64}, func(p *Plugin, s []uint64) {
		trap("http_request: this host grants plugins no network")
	}},
	"http_status_code": {nil, []api.ValueType{i32}, func(p *Plugin, s []uint64) { s[0] = 0 }},
	"http_headers":     {nil, []api.ValueType{i64}, func(p *Plugin, s []uint64) { s[0] = 0 }},
	"log_trace":        {[]api.ValueType{i64}, nil, logAt("trace")},
	"log_debug":        {[]api.ValueType{i64}, nil, logAt("debug")},
	"log_info":         {[]api.ValueType{i64}, nil, logAt("info")},
	"log_warn":         {[]api.ValueType{i64}, nil, logAt("warn")},
	"log_error":        {[]api.ValueType{i64}, nil, logAt("error")},
	// Logging is asked for level by level: info and above (2).
	"get_log_level": {nil, []api.ValueType{i32}, func(p *Plugin, s []uint64) { s[0] = 2 }},
}

// envFuncs: the names env answers, for checking a plugin's imports.
var envFuncs = func() map[string]bool {
	m := make(map[string]bool, len(env))
	for name := range env {
		m[name] = true
	}
	return m
}()

func lengthOf(p *Plugin, s []uint64) {
	if i, ok := p.blockAt(s[0]); ok {
		s[0] = uint64(len(p.call.blocks[i]))
		return
	}
	s[0] = 0 // not the start of a live block, as the kernel answers
}

func logAt(level string) func(p *Plugin, s []uint64) {
	return func(p *Plugin, s []uint64) {
		msg := p.block(s[0])
		if p.call.logged += len(msg); p.call.logged > p.lim.LogBytes || p.Log == nil {
			return
		}
		p.Log(level, string(msg))
	}
}

// hostModule instantiates env for this plugin's runtime.
func (p *Plugin) hostModule(ctx context.Context) error {
	b := p.rt.NewHostModuleBuilder(envModule)
	for name, f := range env {
		fn := f.fn
		b.NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) { fn(p, stack) }),
				f.params, f.results).
			Export(name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

// newBlock keeps b as a block of this call and answers its handle.
func (p *Plugin) newBlock(b []byte) uint64 {
	if p.call.bytes+len(b) > p.lim.BlockBytes {
		trapLimit("the call's blocks would hold more than %d bytes", p.lim.BlockBytes)
	}
	p.call.blocks = append(p.call.blocks, b)
	p.call.bytes += len(b)
	return uint64(len(p.call.blocks)) << 32
}

// blockAt is the index of the live block that starts at handle h.
func (p *Plugin) blockAt(h uint64) (int, bool) {
	i := int(h>>32) - 1
	if h&0xffffffff != 0 || i < 0 || i >= len(p.call.blocks) || p.call.blocks[i] == nil {
		return 0, false
	}
	return i, true
}

// block is the bytes of the live block that starts at h; anything else traps.
func (p *Plugin) block(h uint64) []byte {
	i, ok := p.blockAt(h)
	if !ok {
		trap("%#x is not a block", h)
	}
	return p.call.blocks[i]
}

// bytesAt is n bytes at address a, inside one live block; anything else
// traps (the kernel would let a plugin read and write past its block).
func (p *Plugin) bytesAt(a, n uint64) []byte {
	i := int(a>>32) - 1
	off := a & 0xffffffff
	if i < 0 || i >= len(p.call.blocks) || p.call.blocks[i] == nil || off+n > uint64(len(p.call.blocks[i])) {
		trap("%d bytes at %#x are outside every block", n, a)
	}
	return p.call.blocks[i][off : off+n]
}

func (p *Plugin) input() []byte {
	if i, ok := p.blockAt(p.call.input); ok {
		return p.call.blocks[i]
	}
	return nil
}
