// WebAssembly plugins on the Extism plugin ABI (docs/plugins.md), run
// synchronously: the TypeScript twin of bindings/go/plugin, answering the
// same at every edge (the blocks, the errors and their words, what a plugin
// sees of the world), held to it by test/plugin.ts on the same plugins.
//
// It has no time limit of its own: a call that never ends cannot be stopped
// on the thread it runs on. A host runs it in a worker and gives up on the
// worker past the limit (not built yet: docs/plugins.md).

import { createWasi, ProcExit, type Senses } from "./wasi.ts";

/** What bounds one plugin; a missing field takes its default (as bindings/go/plugin's Limits). */
export interface PluginLimits {
  /** The most the plugin's memory may grow to, in 64 KiB pages (1024: 64 MiB). */
  memoryPages?: number;
  /** The most one call's blocks may hold together (16 MiB). */
  blockBytes?: number;
  /** The most the plugin's variables may hold (1 MiB). */
  varBytes?: number;
  /** The most one call may log (64 KiB; the rest is dropped). */
  logBytes?: number;
}

/** What the config gives one plugin beyond the Extism imports. */
export interface PluginGrants {
  /** wasi_snapshot_preview1, with no files, the plugins' clock and random bytes (docs/plugins.md). */
  wasi?: boolean;
  /** What config_get answers. */
  config?: Record<string, string>;
}

export type PluginErrorKind = "error" | "trap" | "timeout" | "memory" | "exit" | "limit" | "missing";

/** A call that did not answer: which plugin and function, why, and the words to show. */
export class PluginError extends Error {
  readonly plugin: string;
  readonly function: string;
  readonly kind: PluginErrorKind;
  readonly words: string;
  constructor(plugin: string, fn: string, kind: PluginErrorKind, words: string) {
    super(`plugin ${plugin}, ${fn}: ${words}`);
    this.name = "PluginError";
    this.plugin = plugin;
    this.function = fn;
    this.kind = kind;
    this.words = words;
  }
}

const ENV = "extism:host/env";
const WASI = "wasi_snapshot_preview1";
const EPOCH_NS = 1640995200n * 1_000_000_000n; // 2022-01-01T00:00:00Z

/** A trap of the host's: the call stops with these words. */
class HostTrap extends Error {}
/** A plugin past one of the host's limits. */
class LimitTrap extends HostTrap {}

const trap = (words: string): never => {
  throw new HostTrap(words);
};
const limit = (words: string): never => {
  throw new LimitTrap(`over a limit of this host: ${words}`);
};

/** The plugins' senses: the clock moves 1 ms a reading, random bytes are SplitMix64's from 0. */
function pluginSenses(): Senses {
  let ticks = 0n;
  let state = 0n;
  let pending: number[] = [];
  const M = 0xffffffffffffffffn;
  return {
    clock(id) {
      ticks++;
      return (id === 0 ? EPOCH_NS : 0n) + ticks * 1_000_000n;
    },
    random(into) {
      for (let i = 0; i < into.length; i++) {
        if (pending.length === 0) {
          state = (state + 0x9e3779b97f4a7c15n) & M;
          let z = state;
          z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
          z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
          z ^= z >> 31n;
          pending = [];
          for (let k = 0n; k < 8n; k++) pending.push(Number((z >> (8n * k)) & 0xffn));
        }
        into[i] = pending.shift()!;
      }
    },
  };
}

/** One call's blocks; a handle is (index+1) << 32 | offset. */
interface CallState {
  blocks: (Uint8Array | null)[];
  bytes: number;
  input: bigint;
  output: Uint8Array | null;
  error: string | null;
  logged: number;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A loaded plugin. Calls are one at a time (it is synchronous). */
export class AbiPlugin {
  readonly name: string;
  /** Receives what the plugin logs; unset: dropped. */
  log?: (level: string, message: string) => void;
  readonly #module: WebAssembly.Module;
  readonly #limits: Required<PluginLimits>;
  readonly #grants: PluginGrants;
  #instance: WebAssembly.Instance | null = null;
  #vars = new Map<string, Uint8Array>();
  #varBytes = 0;
  #call: CallState = emptyCall();
  #stderr = "";

  private constructor(name: string, module: WebAssembly.Module, limits: Required<PluginLimits>, grants: PluginGrants) {
    this.name = name;
    this.#module = module;
    this.#limits = limits;
    this.#grants = grants;
  }

  /** Compiles a plugin and checks its imports and memory; it starts at its first call. */
  static load(name: string, wasm: Uint8Array, limits: PluginLimits = {}, grants: PluginGrants = {}): AbiPlugin {
    const lim: Required<PluginLimits> = {
      memoryPages: limits.memoryPages || 1024,
      blockBytes: limits.blockBytes || 16 << 20,
      varBytes: limits.varBytes || 1 << 20,
      logBytes: limits.logBytes || 64 << 10,
    };
    const fail = (words: string): never => {
      throw new Error(`plugin ${name}: ${words}`);
    };
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(boundMemory(wasm, lim.memoryPages) as Uint8Array<ArrayBuffer>);
    } catch (e) {
      return fail(e instanceof Error ? e.message : String(e));
    }
    const bad: string[] = [];
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind === "function" && imp.module === ENV && ENV_NAMES.has(imp.name)) continue;
      if (imp.module === WASI && imp.kind === "function") {
        if (!grants.wasi) fail("imports WASI (wasi_snapshot_preview1), which the config does not grant it");
        continue;
      }
      bad.push(`${imp.module}.${imp.name}` + (imp.kind === "memory" ? " (a memory)" : ""));
    }
    if (bad.length > 0) fail(`imports what this host does not give plugins: ${bad.sort().join(", ")}`);
    return new AbiPlugin(name, module, lim, grants);
  }

  /** Runs `fn` with `input`; throws PluginError when the plugin does not answer. */
  call(fn: string, input: Uint8Array): Uint8Array {
    const fail = (kind: PluginErrorKind, words: string): never => {
      throw new PluginError(this.name, fn, kind, words);
    };
    if (input.length > this.#limits.blockBytes) {
      fail("limit", `its input of ${input.length} bytes is over the ${this.#limits.blockBytes} a call may hold`);
    }
    this.#stderr = "";
    if (!this.#instance) {
      try {
        this.#instantiate();
      } catch (e) {
        this.#drop();
        const [kind, words] = this.#failure(e);
        fail(kind, `could not start: ${words}`);
      }
    }
    const f = fn === "_initialize" || fn === "_start" ? undefined : this.#instance!.exports[fn];
    if (typeof f !== "function") return fail("missing", `the plugin has no function ${JSON.stringify(fn)}`);
    if (f.length !== 0) {
      fail("missing", `${JSON.stringify(fn)} is not a plugin function (no parameters, an i32 or nothing back)`);
    }
    this.#call = emptyCall();
    this.#call.input = this.#newBlock(input.slice());
    let rc: unknown;
    try {
      rc = (f as () => unknown)();
    } catch (e) {
      this.#call = emptyCall();
      this.#drop();
      const [kind, words] = this.#failure(e);
      return fail(kind, words);
    }
    const c = this.#call;
    this.#call = emptyCall();
    if (c.error !== null) return fail("error", c.error);
    if (typeof rc === "number" && rc !== 0) return fail("error", `it returned ${rc | 0}`);
    return c.output ?? new Uint8Array(0);
  }

  #instantiate(): void {
    const wasi = createWasi((fd, bytes) => {
      if (fd === 2 && this.#stderr.length < 4096) {
        this.#stderr += fromUtf8.decode(bytes).slice(0, 4096 - this.#stderr.length);
      }
    }, pluginSenses());
    const env: Record<string, (...args: never[]) => unknown> = {};
    for (const [name, f] of Object.entries(ENV_FUNCS)) env[name] = (...args: never[]) => f(this.#abi, ...args);
    const imports: Record<string, Record<string, (...args: never[]) => unknown>> = { [ENV]: env };
    if (this.#grants.wasi) imports[WASI] = wasi.imports(this.#module);
    const instance = new WebAssembly.Instance(this.#module, imports);
    const memory = instance.exports["memory"];
    if (memory instanceof WebAssembly.Memory) wasi.bind(memory);
    this.#instance = instance;
    const init = instance.exports["_initialize"];
    if (typeof init === "function") {
      this.#call = emptyCall();
      try {
        (init as () => void)();
      } finally {
        this.#call = emptyCall();
      }
    }
  }

  /** After a failure: the instance goes, with its variables. */
  #drop(): void {
    this.#instance = null;
    this.#vars.clear();
    this.#varBytes = 0;
  }

  /** Why a call failed, and its words, as bindings/go/plugin says them. */
  #failure(e: unknown): [PluginErrorKind, string] {
    const said = this.#stderr.trim().split("\n")[0] ?? "";
    let kind: PluginErrorKind;
    let words: string;
    if (e instanceof ProcExit) {
      kind = "exit";
      words = `it exited with code ${e.exitCode}`;
    } else if (e instanceof HostTrap) {
      kind = e instanceof LimitTrap ? "limit" : "trap";
      words = e.message;
    } else {
      kind = "trap";
      words = trapWords(e);
    }
    if (said.includes("out of memory") || words.includes("out of memory")) {
      return ["memory", `it ran out of memory (${this.#limits.memoryPages * 64} KiB at most)`];
    }
    return [kind, said !== "" ? `${said} (${words})` : words];
  }

  #newBlock(b: Uint8Array): bigint {
    const c = this.#call;
    if (c.bytes + b.length > this.#limits.blockBytes) {
      limit(`the call's blocks would hold more than ${this.#limits.blockBytes} bytes`);
    }
    c.blocks.push(b);
    c.bytes += b.length;
    return BigInt(c.blocks.length) << 32n;
  }

  #blockAt(h: bigint): number {
    const i = Number(h >> 32n) - 1;
    if ((h & 0xffffffffn) !== 0n || i < 0 || i >= this.#call.blocks.length || !this.#call.blocks[i]) return -1;
    return i;
  }

  #block(h: bigint): Uint8Array {
    const i = this.#blockAt(h);
    if (i < 0) trap(`${hex(h)} is not a block`);
    return this.#call.blocks[i]!;
  }

  #bytesAt(a: bigint, n: number): Uint8Array {
    const i = Number(a >> 32n) - 1;
    const off = Number(a & 0xffffffffn);
    const b = i >= 0 && i < this.#call.blocks.length ? this.#call.blocks[i] : null;
    if (!b || off + n > b.length) trap(`${n} bytes at ${hex(a)} are outside every block`);
    return b!.subarray(off, off + n);
  }

  /** What ENV_FUNCS reach of this plugin. */
  readonly #abi: Abi = {
    alloc: (n) => {
      if (n === 0n) return 0n;
      if (n > BigInt(this.#limits.blockBytes - this.#call.bytes)) {
        limit(`the call's blocks would hold more than ${this.#limits.blockBytes} bytes`);
      }
      return this.#newBlock(new Uint8Array(Number(n)));
    },
    free: (h) => {
      const i = this.#blockAt(h);
      if (i >= 0 && h !== this.#call.input) {
        this.#call.bytes -= this.#call.blocks[i]!.length;
        this.#call.blocks[i] = null;
      }
    },
    length: (h) => {
      const i = this.#blockAt(h);
      return i < 0 ? 0n : BigInt(this.#call.blocks[i]!.length);
    },
    bytesAt: (a, n) => this.#bytesAt(a, n),
    input: () => this.#call.input,
    inputLength: () => {
      const i = this.#blockAt(this.#call.input);
      return i < 0 ? 0n : BigInt(this.#call.blocks[i]!.length);
    },
    outputSet: (h, n) => {
      if (h === 0n && n === 0n) {
        this.#call.output = new Uint8Array(0); // alloc(0) gave no block
        return;
      }
      this.#call.output = this.#bytesAt(h, Number(n)).slice();
    },
    errorSet: (h) => {
      if (h === 0n) {
        this.#call.error = null;
        return;
      }
      const msg = this.#block(h);
      this.#call.error = fromUtf8.decode(msg.subarray(0, 4096)); // a page shows it: long enough to say why
    },
    errorGet: () => this.#call.error === null ? 0n : this.#newBlock(utf8.encode(this.#call.error)),
    config: (h) => {
      const key = fromUtf8.decode(this.#block(h));
      const v = Object.hasOwn(this.#grants.config ?? {}, key) ? this.#grants.config![key] : undefined;
      return v === undefined ? 0n : this.#newBlock(utf8.encode(v));
    },
    varGet: (h) => {
      const v = this.#vars.get(fromUtf8.decode(this.#block(h)));
      return v === undefined ? 0n : this.#newBlock(v.slice());
    },
    varSet: (hk, hv) => {
      const key = fromUtf8.decode(this.#block(hk));
      const keyBytes = utf8.encode(key).length;
      const old = this.#vars.get(key);
      if (hv === 0n) {
        if (old) {
          this.#varBytes -= keyBytes + old.length;
          this.#vars.delete(key);
        }
        return;
      }
      const v = this.#block(hv);
      let size = this.#varBytes + v.length + keyBytes;
      if (old) size -= keyBytes + old.length;
      if (size > this.#limits.varBytes) limit(`its variables would hold more than ${this.#limits.varBytes} bytes`);
      this.#vars.set(key, v.slice());
      this.#varBytes = size;
    },
    logAt: (level, h) => {
      const msg = this.#block(h);
      this.#call.logged += msg.length;
      if (this.#call.logged > this.#limits.logBytes || !this.log) return;
      this.log(level, fromUtf8.decode(msg));
    },
  };
}

function emptyCall(): CallState {
  return { blocks: [], bytes: 0, input: 0n, output: null, error: null, logged: 0 };
}

const hex = (v: bigint) => "0x" + v.toString(16);

/** The ABI's functions, over what they need of the plugin. */
interface Abi {
  alloc(n: bigint): bigint;
  free(h: bigint): void;
  length(h: bigint): bigint;
  bytesAt(a: bigint, n: number): Uint8Array;
  input(): bigint;
  inputLength(): bigint;
  outputSet(h: bigint, n: bigint): void;
  errorSet(h: bigint): void;
  errorGet(): bigint;
  config(h: bigint): bigint;
  varGet(h: bigint): bigint;
  varSet(k: bigint, v: bigint): void;
  logAt(level: string, h: bigint): void;
}

const u64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);

/** extism:host/env, as bindings/go/plugin/env.go answers it. */
const ENV_FUNCS: Record<string, (abi: Abi, ...args: never[]) => unknown> = {
  alloc: (abi, n: bigint) => abi.alloc(n),
  free: (abi, h: bigint) => abi.free(h),
  length: (abi, h: bigint) => abi.length(h),
  length_unsafe: (abi, h: bigint) => abi.length(h),
  load_u8: (abi, a: bigint) => abi.bytesAt(a, 1)[0]!,
  load_u64: (abi, a: bigint) => u64(abi.bytesAt(a, 8)),
  store_u8: (abi, a: bigint, v: number) => {
    abi.bytesAt(a, 1)[0] = v;
  },
  store_u64: (abi, a: bigint, v: bigint) => {
    const b = abi.bytesAt(a, 8);
    new DataView(b.buffer, b.byteOffset, 8).setBigUint64(0, BigInt.asUintN(64, v), true);
  },
  input_length: (abi) => abi.inputLength(),
  input_offset: (abi) => abi.input(),
  input_load_u8: (abi, off: bigint) => abi.bytesAt(abi.input() + off, 1)[0]!,
  input_load_u64: (abi, off: bigint) => u64(abi.bytesAt(abi.input() + off, 8)),
  output_set: (abi, h: bigint, n: bigint) => abi.outputSet(h, n),
  error_set: (abi, h: bigint) => abi.errorSet(h),
  error_get: (abi) => abi.errorGet(),
  config_get: (abi, h: bigint) => abi.config(h),
  var_get: (abi, h: bigint) => abi.varGet(h),
  var_set: (abi, k: bigint, v: bigint) => abi.varSet(k, v),
  http_request: () => trap("http_request: this host grants plugins no network"),
  http_status_code: () => 0,
  http_headers: () => 0n,
  log_trace: (abi, h: bigint) => abi.logAt("trace", h),
  log_debug: (abi, h: bigint) => abi.logAt("debug", h),
  log_info: (abi, h: bigint) => abi.logAt("info", h),
  log_warn: (abi, h: bigint) => abi.logAt("warn", h),
  log_error: (abi, h: bigint) => abi.logAt("error", h),
  get_log_level: () => 2, // info and above
};
const ENV_NAMES = new Set(Object.keys(ENV_FUNCS));

/**
 * A trap's words as wazero says them ("wasm error: unreachable"), whatever
 * the runtime's engine calls it, so every host answers alike.
 */
function trapWords(e: unknown): string {
  const m = (e instanceof Error ? e.message : String(e)).toLowerCase();
  const kinds: [RegExp, string][] = [
    [/unreachable/, "unreachable"],
    [/out of bounds memory|memory access out of bounds/, "out of bounds memory access"],
    [/divide by zero|division by zero/, "integer divide by zero"],
    [/integer overflow/, "integer overflow"],
    [/invalid conversion|float unrepresentable|truncat/, "invalid conversion to integer"],
    [/call stack|stack overflow|recursion/, "stack overflow"],
    [/signature mismatch|indirect call/, "indirect call type mismatch"],
    [/table/, "invalid table access"],
  ];
  for (const [re, words] of kinds) if (re.test(m)) return `wasm error: ${words}`;
  return `wasm error: ${m}`;
}

/**
 * The module with its memory's maximum set to at most `pages` (the engine
 * then refuses to grow it further, as wazero's limit does); a memory that
 * starts above the limit, or a 64-bit or shared one, is refused.
 */
export function boundMemory(wasm: Uint8Array, pages: number): Uint8Array {
  if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) {
    throw new Error("not a WebAssembly module");
  }
  let p = 8;
  const leb = (): number => {
    let r = 0, shift = 0, b: number;
    do {
      if (p >= wasm.length) throw new Error("a truncated WebAssembly module");
      b = wasm[p++]!;
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return r;
  };
  while (p < wasm.length) {
    const start = p;
    const id = wasm[p++]!;
    const size = leb();
    const body = p;
    if (id !== 5) {
      p = body + size;
      continue;
    }
    const count = leb();
    const out: number[] = [...encodeLeb(count)];
    for (let i = 0; i < count; i++) {
      const flags = leb();
      if (flags > 1) throw new Error("a 64-bit or shared memory, which plugins may not have");
      const min = leb();
      const max = flags === 1 ? leb() : Infinity;
      if (min > pages) throw new Error(`its memory starts at ${min} pages, above the limit of ${pages}`);
      out.push(1, ...encodeLeb(min), ...encodeLeb(Math.min(max, pages)));
    }
    if (p !== body + size) throw new Error("a malformed memory section");
    const section = [5, ...encodeLeb(out.length), ...out];
    const res = new Uint8Array(wasm.length - (p - start) + section.length);
    res.set(wasm.subarray(0, start), 0);
    res.set(section, start);
    res.set(wasm.subarray(p), start + section.length);
    return res;
  }
  return wasm;
}

function encodeLeb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
