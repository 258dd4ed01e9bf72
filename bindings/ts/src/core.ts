// Loads core.wasm and speaks bindings/PROTOCOL.md to it: memory ownership,
// the `sql` and `log` imports, frames, and re-instantiation after a trap.
//
// Portable: nothing here imports a runtime's own module, so the same file
// runs the core in a browser or service worker (issue 19) as on a server.
// What only a server has comes in through CoreOptions (caller SQL, files)
// or is imported when asked for (a core.wasm read from a file: URL).

import type { FileDir } from "./files.ts";
import { errorMessage, NakedhtmxError } from "./errors.ts";
import {
  AnswerWriter,
  type ApplyResult,
  type Command,
  decodeFrame,
  decodeSQLRequestsBytes,
  encodeFrame,
  encodeResults,
  type OpenRequest,
  type OpenResult,
  type RequestHead,
  type ResponseHead,
  type SQLRequest,
  type SQLResult,
  type TickResult,
} from "./protocol.ts";
import { type AsyncDatabase, type Database, SCHEMA_VERSION_SQL } from "./sqlite.ts";
import { createWasi, type FdWriter } from "./wasi.ts";

/** Where core.wasm comes from: a path, a URL, its bytes, or a compiled module. */
export type WasmSource = string | URL | Uint8Array | WebAssembly.Module;

export interface CoreResponse {
  head: ResponseHead;
  body: Uint8Array;
}

/** What the HTTP handlers need from a core; tests substitute their own. */
export interface CoreHandler {
  /** The answer, or its promise when the store answers later. */
  handle(head: RequestHead, body: Uint8Array): CoreResponse | Promise<CoreResponse>;
}

interface CoreExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  nh_alloc(size: number): number;
  nh_free(ptr: number): void;
  nh_open(ptr: number, len: number): bigint;
  nh_handle(ptr: number, len: number): bigint;
  nh_start?(kind: number, ptr: number, len: number): bigint;
  nh_resume?(ptr: number, len: number): bigint;
  nh_tick(ptr: number, len: number): bigint;
  nh_apply(ptr: number, len: number): bigint;
  nh_outbox(): bigint;
  nh_uninstall?(): bigint;
}

export interface CoreOptions {
  /** The store: one that answers at once, or later (then use the async calls). */
  db: Database | AsyncDatabase;
  /** The runtime's name, for the core's diagnostics. */
  host: string;
  wasm?: WasmSource;
  /** Lines the core logs through its `log` import. Default: stderr. */
  log?: (line: string) => void;
  /** The module's own fd 1/2 output (Go runtime panics). Default: the process's. */
  write?: FdWriter;
  /** Where file columns keep their files (PROTOCOL.md, "Files"); none: such requests fail. */
  files?: FileDir;
  /**
   * Runs a caller's SQL (PROTOCOL.md, "Caller SQL") on a connection of its
   * own within the time limit (caller.ts, runCaller); none: the store runs
   * them itself (Postgres, in a transaction of its own) or refuses them.
   */
  caller?: (req: SQLRequest, limitMs: number) => SQLResult;
}

/**
 * The default core.wasm: next to the compiled dist/*.js, or, from the
 * TypeScript sources (bindings/ts/src/*.ts, as Deno and JSR run them), in
 * the repository's dist/.
 */
export function defaultWasmURL(): URL {
  return import.meta.url.endsWith(".ts")
    ? new URL("../../../dist/core.wasm", import.meta.url)
    : new URL("./core.wasm", import.meta.url);
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

async function wasmBytes(url: URL): Promise<Uint8Array> {
  if (url.protocol === "file:") {
    // Only a server reads a file: URL; a browser never gets here.
    const [{ readFile }, { fileURLToPath }] = await Promise.all([import("node:fs/promises"), import("node:url")]);
    return await readFile(fileURLToPath(url));
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Compiles core.wasm once per process and source. */
export async function loadModule(source: WasmSource = defaultWasmURL()): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof Uint8Array) {
    return await compile(() => Promise.resolve(source), "the given bytes");
  }
  const url = typeof source === "string" ? new URL(source, pathBase()) : source;
  const key = url.href;
  let p = compiled.get(key);
  if (!p) {
    p = compile(() => wasmBytes(url), url.protocol === "file:" ? decodeURIComponent(url.pathname) : key);
    compiled.set(key, p);
    p.catch(() => compiled.delete(key));
  }
  return await p;
}

function pathBase(): URL {
  // Relative paths are relative to the working directory, like every CLI path.
  const cwd = globalThis.process?.cwd?.() ?? ".";
  return new URL(`file://${cwd.endsWith("/") ? cwd : cwd + "/"}`);
}

async function compile(read: () => Promise<Uint8Array>, name: string): Promise<WebAssembly.Module> {
  let bytes: Uint8Array;
  try {
    bytes = await read();
  } catch (e) {
    throw new NakedhtmxError("WASM_LOAD", `cannot read core.wasm (${name}): ${errorMessage(e)}; run "make build"`, {
      cause: e,
    });
  }
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new NakedhtmxError("WASM_LOAD", `core.wasm (${name}) is not a valid module: ${errorMessage(e)}`, {
      cause: e,
    });
  }
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
const SCHEMA_VERSION: SQLRequest = { sql: SCHEMA_VERSION_SQL, params: [], script: false };
const ROLLBACK: SQLRequest = { sql: "ROLLBACK", params: [], script: false };

/** The `sql` import's answer meaning "the store answers later" (PROTOCOL.md). */
const LATER = 0x02;
/** nh_start's calls, and the first byte of its and nh_resume's answers. */
const JOB_OPEN = 0, JOB_HANDLE = 1, JOB_TICK = 2, JOB_UNINSTALL = 5;

/** What nh_uninstall answers: what went, or why nothing did. */
function uninstalled(out: Uint8Array): { removed: string[]; journalMode?: string } {
  const res = JSON.parse(utf8Decoder.decode(out)) as { removed?: string[]; journalMode?: string; error?: string };
  if (res.error) throw new NakedhtmxError("CORE_OPEN", res.error);
  return { removed: res.removed ?? [], journalMode: res.journalMode };
}
const JOB_DONE = 0, JOB_NEED_IO = 1;

/** The process's stdout or stderr where there is one (written at once on Linux), else the console. */
function defaultWrite(fd: 1 | 2, bytes: Uint8Array): void {
  const p = (globalThis as { process?: { stdout?: Writable; stderr?: Writable } }).process;
  const out = fd === 1 ? p?.stdout : p?.stderr;
  if (out) out.write(bytes);
  else if (fd === 1) console.log(utf8Decoder.decode(bytes));
  else console.error(utf8Decoder.decode(bytes));
}

interface Writable {
  write(b: Uint8Array): unknown;
}

/** One instance of the core over one database. Single-threaded, like the core. */
export class Core implements CoreHandler {
  private readonly module: WebAssembly.Module;
  private readonly opts: CoreOptions;
  private ex: CoreExports | undefined;
  private lastOpen: OpenRequest | undefined;
  /** Inside nh_start or nh_resume: the store may answer later. */
  private inJob = false;
  /** The answer the parked call waits for. */
  /** The encoded answer to the message the parked call waits for (a copy of its own). */
  private pending: Promise<Uint8Array> | undefined;
  /** SQL messages the core has sent (calls of its `sql` import), and the statements in them: for tests and `bench/core.ts`. */
  readonly sqlCalls = { messages: 0, statements: 0 };
  /** Async calls, one at a time: each starts when the one before is done. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Async calls queued or under way: synchronous calls must not slip in between. */
  private jobs = 0;
  /** The core's time limit on caller SQL (OpenResult.statementMs). */
  private statementMs = 0;
  /** The id of the last live message handed out, or where the core started. */
  private delivered = 0;
  private calling = false;
  /** Writes the `sql` import's answers (one buffer, reused: the host copies each into the module). */
  private readonly answers = new AnswerWriter();
  private recovering = false;

  private constructor(module: WebAssembly.Module, opts: CoreOptions) {
    this.module = module;
    this.opts = opts;
    this.recovering = true; // a first start that fails is an error, not something to retry
    try {
      this.instantiate();
    } catch (e) {
      throw new NakedhtmxError("WASM_LOAD", `core.wasm did not start: ${errorMessage(e)}`, { cause: e });
    } finally {
      this.recovering = false;
    }
  }

  /** The core's time limit on each statement of a request (OpenResult.statementMs; 0 before opening). */
  get statementLimitMs(): number {
    return this.statementMs;
  }

  static async load(opts: CoreOptions): Promise<Core> {
    return new Core(await loadModule(opts.wasm), opts);
  }

  private log(line: string): void {
    if (this.opts.log) this.opts.log(line);
    else defaultWrite(2, utf8.encode(`nakedhtmx: ${line}\n`));
  }

  private instantiate(): void {
    this.ex = undefined;
    const wasi = createWasi(this.opts.write ?? defaultWrite);
    const imports = {
      wasi_snapshot_preview1: wasi.imports(this.module),
      nakedhtmx: {
        sql: (ptr: number, len: number): bigint => this.sqlImport(ptr, len),
        log: (ptr: number, len: number): void => {
          this.log(utf8Decoder.decode(this.view(ptr, len)));
        },
      },
    };
    const inst = new WebAssembly.Instance(this.module, imports);
    const ex = inst.exports as unknown as CoreExports;
    wasi.bind(ex.memory);
    this.ex = ex;
    this.guard("_initialize", () => ex._initialize());
  }

  // Views on memory.buffer are made fresh for every access: memory can grow in
  // any call, which detaches the old buffer.
  private view(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.exports().memory.buffer, ptr, len);
  }

  private exports(): CoreExports {
    if (!this.ex) throw new NakedhtmxError("CORE_TRAP", "the core is not running");
    return this.ex;
  }

  private sqlImport(ptr: number, len: number): bigint {
    // One message may carry several statements (PROTOCOL.md, "Statements
    // in one call"): run in order; the answer is the last one's (with every
    // kept one's before it), or the first failure, after which nothing more
    // runs. A store's failure is an answer; an answer that cannot be
    // encoded is a bug of ours, and traps the call.
    let reqs: SQLRequest[];
    try {
      reqs = decodeSQLRequestsBytes(this.view(ptr, len));
    } catch (e) {
      return this.give(this.answers.encode({ error: errorMessage(e), code: "SQLITE_ERROR" }));
    }
    this.sqlCalls.messages++;
    this.sqlCalls.statements += reqs.length;
    const r = this.runAll(reqs);
    if (!(r instanceof Promise)) return this.give(r);
    if (!this.inJob) {
      r.catch(() => {}); // nobody waits for it
      return this.give(this.answers.encode({
        error: "the store answers later: use the core's async calls",
        code: "SQLITE_MISUSE",
      }));
    }
    // The core parks this call until nh_resume brings the answer.
    this.pending = r.then((b) => b.slice());
    const p = this.exports().nh_alloc(1);
    this.view(p, 1)[0] = LATER;
    return (BigInt(p) << 32n) | 1n;
  }

  /** An answer, copied into the module's memory, as the import returns it. */
  private give(out: Uint8Array): bigint {
    const p = this.exports().nh_alloc(out.length);
    this.view(p, out.length).set(out);
    return (BigInt(p) << 32n) | BigInt(out.length);
  }

  /** A message's requests, run in order, as its encoded answer; a promise of it once one answers later. */
  private runAll(reqs: SQLRequest[], from = 0, kept: Uint8Array[] = []): Uint8Array | Promise<Uint8Array> {
    for (let i = from; i < reqs.length; i++) {
      let r: SQLResult | Promise<SQLResult>;
      try {
        r = this.runOne(reqs[i]!);
      } catch (e) {
        r = { error: errorMessage(e), code: "SQLITE_ERROR" };
      }
      if (r instanceof Promise) return r.then((res) => this.keep(reqs, i, res, kept) ?? this.runAll(reqs, i + 1, kept));
      const done = this.keep(reqs, i, r, kept);
      if (done) return done;
    }
    return encodeResults(kept); // unreachable: the last request always ends the message
  }

  /** Keeps request i's result; the encoded answer when the message ends with it. */
  private keep(reqs: SQLRequest[], i: number, r: SQLResult, kept: Uint8Array[]): Uint8Array | undefined {
    const last = i === reqs.length - 1;
    if ("error" in r || (last && kept.length === 0)) return this.answers.encode(r);
    if (reqs[i]!.keep || last) kept.push(this.answers.encode(r).slice()); // a copy: the writer reuses its buffer
    return last ? encodeResults(kept) : undefined;
  }

  /** One request of a message, on the store, the file directory, a caller's connection or the lane. */
  private runOne(req: SQLRequest): SQLResult | Promise<SQLResult> {
    const db = this.opts.db;
    const caller = req.caller ? this.opts.caller : undefined;
    const lane = req.unbounded && "lane" in db ? db.lane : undefined;
    // Another connection (or the file directory) goes next: what a group
    // commit holds open is committed first (group.ts).
    if ((req.file || caller || lane) && "flush" in db) db.flush?.();
    return req.file
      ? (this.opts.files?.run(req.file) ?? { error: "this host keeps no files", code: "SQLITE_MISUSE" })
      : caller
      ? caller(req, this.statementMs)
      : lane
      ? lane.run(req, this.statementMs)
      : db.run(req);
  }

  /**
   * Runs one export. A trap (or proc_exit) leaves the instance unusable: log
   * it, build a fresh instance, re-open it with the last OpenRequest, and
   * throw a CORE_TRAP error for the call that failed.
   */
  private guard<T>(what: string, fn: () => T): T {
    if (this.calling) throw new Error(`core re-entered (${what}): the core is single-threaded`);
    if (this.jobs > 0 && !this.inJob) throw new Error(`core busy (${what}): a call is waiting for its store`);
    this.calling = true;
    try {
      return fn();
    } catch (e) {
      if (e instanceof NakedhtmxError) throw e;
      const msg = `core trapped in ${what}: ${errorMessage(e)}`;
      this.ex = undefined;
      if (this.recovering) throw new NakedhtmxError("CORE_TRAP", msg, { cause: e });
      this.log(msg);
      this.calling = false;
      this.recover();
      throw new NakedhtmxError("CORE_TRAP", msg, { cause: e });
    } finally {
      this.calling = false;
    }
  }

  /**
   * A fresh instance, opened again as the last one was: for when the store
   * took back writes the core already counted (a group commit that failed,
   * group.ts), so nothing it remembers (the log's position, the data cache)
   * runs ahead of the database. Inside a call, it runs right after it,
   * before anything waiting for that call's turn asks the core again.
   */
  restart(): void {
    if (this.calling) queueMicrotask(() => this.recover());
    else this.recover();
  }

  private recover(): void {
    this.recovering = true;
    try {
      // A call that trapped inside a write left its transaction open (with
      // group commit, its savepoint: only that write goes). Undone before
      // the new instance asks anything; "no transaction is active" is fine.
      const db = this.opts.db;
      if (!("answersLater" in db)) db.run(ROLLBACK);
      this.instantiate();
      if (this.lastOpen) this.open(this.lastOpen);
      this.log("core re-instantiated");
    } catch (e) {
      this.ex = undefined;
      this.log(`core could not be re-instantiated: ${errorMessage(e)}`);
    } finally {
      this.recovering = false;
    }
  }

  private callBytes(what: string, fn: (ptr: number, len: number) => bigint, input: Uint8Array): Uint8Array {
    return this.guard(what, () => {
      const ex = this.exports();
      const ptr = ex.nh_alloc(input.length);
      this.view(ptr, input.length).set(input);
      return this.take(fn(ptr, input.length));
    });
  }

  /** Copies an export's result out of the module and frees it. */
  private take(packed: bigint): Uint8Array {
    if (packed === 0n) return EMPTY;
    const ptr = Number(packed >> 32n);
    const len = Number(packed & 0xffffffffn);
    const out = this.view(ptr, len).slice();
    this.exports().nh_free(ptr);
    return out;
  }

  /** nh_open: returns the DSID; throws CORE_OPEN with the core's message. */
  open(req: OpenRequest): string {
    const ex = this.exports();
    const out = this.callBytes("nh_open", (p, n) => ex.nh_open(p, n), this.openInput(req));
    return this.opened(req, out);
  }

  /**
   * nh_open's input. After the first open, it tells the core where live
   * messages stand: a fresh instance after a trap then goes on from there
   * instead of the log's end.
   */
  private openInput(req: OpenRequest): Uint8Array {
    const sent: OpenRequest = this.lastOpen ? { ...req, liveAfter: this.delivered } : req;
    return utf8.encode(JSON.stringify(sent));
  }

  /** Takes nh_open's answer: the DSID, or CORE_OPEN with the core's message. */
  private opened(req: OpenRequest, out: Uint8Array): string {
    const res = JSON.parse(utf8Decoder.decode(out)) as OpenResult;
    if (res.error !== undefined && res.error !== "") throw new NakedhtmxError("CORE_OPEN", res.error);
    this.lastOpen = req;
    this.delivered = res.seq ?? 0;
    this.statementMs = res.statementMs ?? 0;
    return res.dsid ?? "";
  }

  handle(head: RequestHead, body: Uint8Array): CoreResponse {
    if (!this.ex) this.recover();
    const ex = this.exports();
    const sv = this.schemaVersion();
    const sent = sv === undefined ? head : { ...head, schemaVersion: sv };
    const out = this.callBytes("nh_handle", (p, n) => ex.nh_handle(p, n), encodeFrame(sent, body));
    return decodeFrame<ResponseHead>(out);
  }

  /**
   * PRAGMA schema_version on the core's connection, sent with each request
   * so the core need not ask for it through a crossing (PROTOCOL.md,
   * "Frames"). Undefined when SQLite cannot say: the core then asks, and
   * answers the error itself.
   */
  private schemaVersion(): number | undefined {
    if ("answersLater" in this.opts.db) return undefined; // the core asks, waiting as it must
    const r = this.opts.db.run(SCHEMA_VERSION);
    if ("error" in r) return undefined;
    const v = r.rows[0]?.[0];
    return typeof v === "bigint" || typeof v === "number" ? Number(v) : undefined;
  }

  /**
   * nh_uninstall, instead of open (never after it): removes every object
   * nakedhtmx added and sets back the journal mode it found.
   */
  uninstall(): { removed: string[]; journalMode?: string } {
    const ex = this.exports();
    const fn = ex.nh_uninstall;
    if (!fn) throw new NakedhtmxError("CORE_OPEN", "this core has no nh_uninstall export");
    return uninstalled(this.guard("nh_uninstall", () => this.take(fn.call(ex))));
  }

  /** nh_uninstall through nh_start, for a store that answers later (`store`: "postgres", its schema). */
  async uninstallAsync(req: { store: "postgres"; pgSchema: string }): Promise<{ removed: string[] }> {
    return uninstalled(await this.job(JOB_UNINSTALL, "nh_uninstall", utf8.encode(JSON.stringify(req))));
  }

  /** nh_outbox: the commands this node made and has not applied yet (oldest first), and the last sequence applied. */
  outbox(): { commands: Command[]; applied: number } {
    if (!this.ex) this.recover();
    const ex = this.exports();
    const out = this.guard("nh_outbox", () => this.take(ex.nh_outbox()));
    return JSON.parse(utf8Decoder.decode(out)) as { commands: Command[]; applied: number };
  }

  /** nh_apply: runs one command from the stream with its stream sequence. */
  apply(command: Command, seq: number): ApplyResult {
    if (!this.ex) this.recover();
    const ex = this.exports();
    const out = this.callBytes("nh_apply", (p, n) => ex.nh_apply(p, n), utf8.encode(JSON.stringify({ command, seq })));
    return JSON.parse(utf8Decoder.decode(out)) as ApplyResult;
  }

  /**
   * nh_tick: the live messages since the last tick. A core that is not
   * running (a trap it could not recover from) has nothing to say; the next
   * request re-instantiates it. `formats`: render only these texts of each
   * message ("api", "page"; PROTOCOL.md, "Live"), the others come back
   * empty; without it, every format.
   */
  tick(formats?: readonly string[], viewers?: readonly string[]): TickResult {
    if (!this.ex) return {};
    const ex = this.ex;
    // Without formats, every format; the schema version saves the tick a
    // crossing, as it does a request (PROTOCOL.md, "Frames").
    const input = { formats, schemaVersion: this.schemaVersion(), viewers: this.viewersToTell(viewers) };
    const res = this.ticked(this.callBytes("nh_tick", (p, n) => ex.nh_tick(p, n), utf8.encode(JSON.stringify(input))));
    if (input.viewers) this.viewersTold = { ex, names: input.viewers.join("\n") };
    return res;
  }

  /** The viewers already told to which instance (a fresh one has heard none). */
  private viewersTold?: { ex: unknown; names: string };

  /** `viewers` when this instance has not heard them yet, else undefined (PROTOCOL.md, "Live"). */
  private viewersToTell(viewers?: readonly string[]): string[] | undefined {
    const v = viewers ?? [];
    const told = this.viewersTold;
    if (told && told.ex === this.ex && told.names === v.join("\n")) return undefined;
    return [...v];
  }

  /** Takes nh_tick's answer, remembering the last message handed out. */
  private ticked(out: Uint8Array): TickResult {
    const res = out.length ? JSON.parse(utf8Decoder.decode(out)) as TickResult : {};
    const last = res.messages?.at(-1);
    if (last !== undefined) this.delivered = Math.max(this.delivered, last.id);
    return res;
  }

  // -------------------------------------------------------------------------
  // Stores that answer later (PROTOCOL.md): the same calls, through nh_start
  // and nh_resume, one at a time.

  /** nh_open through nh_start: for a store that answers later. */
  async openAsync(req: OpenRequest): Promise<string> {
    return this.opened(req, await this.job(JOB_OPEN, "nh_open", this.openInput(req)));
  }

  /** nh_handle through nh_start. */
  async handleAsync(head: RequestHead, body: Uint8Array): Promise<CoreResponse> {
    return decodeFrame<ResponseHead>(await this.job(JOB_HANDLE, "nh_handle", encodeFrame(head, body)));
  }

  /** nh_tick through nh_start. */
  async tickAsync(formats?: readonly string[], viewers?: readonly string[]): Promise<TickResult> {
    const told = this.viewersToTell(viewers);
    const ex = this.ex;
    const res = this.ticked(
      await this.job(JOB_TICK, "nh_tick", utf8.encode(JSON.stringify({ formats, viewers: told }))),
    );
    if (told) this.viewersTold = { ex, names: told.join("\n") };
    return res;
  }

  /** Queues one call: it starts when the one before it is done. */
  private job(kind: number, what: string, input: Uint8Array): Promise<Uint8Array> {
    this.jobs++;
    const run = this.queue.then(() => this.runJob(kind, what, input)).finally(() => this.jobs--);
    this.queue = run.catch(() => {});
    return run;
  }

  private async runJob(kind: number, what: string, input: Uint8Array): Promise<Uint8Array> {
    const ex = this.exports();
    const start = ex.nh_start;
    const resume = ex.nh_resume;
    if (!start || !resume) {
      throw new NakedhtmxError("WASM_LOAD", "this core.wasm cannot wait for a store (no nh_start)");
    }
    try {
      let out = this.inside(() => this.callBytes(what, (p, n) => start.call(ex, kind, p, n), input));
      for (;;) {
        if (out[0] === JOB_DONE) return out.subarray(1);
        if (out[0] !== JOB_NEED_IO || !this.pending) {
          throw new NakedhtmxError(
            "CORE_TRAP",
            `${what}: ${utf8Decoder.decode(out.subarray(1)) || "the core waits for no answer"}`,
          );
        }
        const wait = this.pending;
        this.pending = undefined;
        let answer: Uint8Array;
        try {
          answer = await wait;
        } catch (e) {
          answer = this.answers.encode({ error: errorMessage(e), code: "SQLITE_ERROR" });
        }
        out = this.inside(() => this.callBytes(what, (p, n) => resume.call(ex, p, n), answer));
      }
    } finally {
      this.pending = undefined;
    }
  }

  /** Runs fn as part of an async call: the store may answer later meanwhile. */
  private inside<T>(fn: () => T): T {
    this.inJob = true;
    try {
      return fn();
    } finally {
      this.inJob = false;
    }
  }
}
