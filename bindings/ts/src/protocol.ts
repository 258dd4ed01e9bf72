// The TS side of the core/host seam. The one description of it is
// bindings/PROTOCOL.md (https://github.com/nakedhtmx/nakedhtmx/blob/main/bindings/PROTOCOL.md);
// its Go side is core/protocol/protocol.go. Change PROTOCOL.md first, then both.

/** The JSON head of a request frame. */
export interface RequestHead {
  method: string;
  /** Raw (still percent-encoded) path, base path removed. */
  path: string;
  /** Raw query string without `?`. */
  query: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  continue?: string;
  tooLarge?: boolean;
  /** Asking again about a write that became a command: its id (PROTOCOL.md, "Commands"). */
  command?: string;
  /** PRAGMA schema_version, read by the host on the core's connection just before the call. */
  schemaVersion?: number;
  /** The client's address as the socket saw it (wrong tokens are throttled per client). */
  remote?: string;
  /** Asks whether this caller may send a large body: 100 if so, else the refusal (PROTOCOL.md). */
  probe?: boolean;
  /** Asking again about an answer whose config could not be written: why (PROTOCOL.md, "Config"). */
  configError?: ConfigError;
}

/** Why a host did not write the config an answer carried: 409 changed meanwhile, 500 the write failed. */
export interface ConfigError {
  status: number;
  message: string;
}

/** The JSON head of a response frame. Continuation heads carry only `continue`. */
export interface ResponseHead {
  status?: number;
  headers?: [string, string][];
  continue?: string;
  /** The answer is an event stream the host keeps open (PROTOCOL.md, "Live"). */
  subscribe?: Subscribe;
  /** --write jetstream: the write this request became; publish it, then ask again. */
  command?: Command;
  /** The config's new text: write it, apply it, then send this answer (PROTOCOL.md, "Config"). */
  configText?: string;
}

/** One write on the stream (PROTOCOL.md, "Commands"). */
export interface Command {
  id: string;
  node: string;
  dsid: string;
  table: string;
  op: "insert" | "update" | "delete" | "migrate" | "schemaEdit" | "batch";
  key?: string;
  values?: Record<string, unknown>;
  version?: string;
  /** op "migrate": the DDL every node runs. */
  sql?: string;
  /** op "schemaEdit": a schema edit from the app, which every node plans and runs itself. */
  edit?: Record<string, unknown>;
  /** op "batch": writes applied in one transaction, all or none. */
  ops?: Command[];
}

/** What applying one command came to on this node (`nh_apply`). */
export interface ApplyResult {
  id: string;
  seq: number;
  status: number;
  skipped?: boolean;
  error?: string;
}

/** Which live messages a stream gets: one table's (or every table's, `""`) in one format. */
export interface Subscribe {
  table: string;
  /** "api" or "page". */
  format: string;
  /** The signed-in user row rules hold the stream to; absent: every message (PROTOCOL.md, "Live"). */
  viewer?: string;
}

/** One live message, rendered once per format; `""` means nothing for that format. */
export interface TickMessage {
  id: number;
  /** `""`: a schema change, for every stream. */
  table: string;
  api: string;
  page: string;
  /**
   * Row rules decide who gets it: a stream with a viewer gets `api`/`page`
   * when its viewer is in `only`, `goneApi`/`gonePage` (a removal) when in
   * `gone`, else nothing.
   */
  held?: boolean;
  only?: string[];
  gone?: string[];
  goneApi?: string;
  gonePage?: string;
}

/** What `nh_tick` answers. */
export interface TickResult {
  messages?: TickMessage[];
}

export interface Frame<H> {
  head: H;
  body: Uint8Array;
}

const utf8 = new TextEncoder();

/** The first byte of a binary SQL message (PROTOCOL.md, "SQL messages in binary"); JSON never starts with it. */
export const BINARY_MESSAGE = 0x01;
/** The flags byte of a binary SQL request (protocol.FlagScript, protocol.FlagUnbounded in Go). */
const FLAG_SCRIPT = 1, FLAG_UNBOUNDED = 2, FLAG_THEN = 4, FLAG_ROWS_ONLY = 8, FLAG_KEEP = 16;
/** The first byte of an answer of several results (PROTOCOL.md, "Statements in one call"). */
const RESULTS_MESSAGE = 0x03;

// Value tags of the binary SQL messages.
const TAG_NULL = 0;
const TAG_INTEGER = 1;
const TAG_REAL = 2;
const TAG_TEXT = 3;
const TAG_BLOB = 4;

const utf8Decoder = new TextDecoder();

/** A frame: 4-byte little-endian head length, JSON head, raw body. */
export function encodeFrame(head: RequestHead | ResponseHead, body: Uint8Array): Uint8Array {
  const h = utf8.encode(JSON.stringify(head));
  const out = new Uint8Array(4 + h.length + body.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 4);
  out.set(body, 4 + h.length);
  return out;
}

/** Splits a frame; the body is a view into `bytes`. */
export function decodeFrame<H>(bytes: Uint8Array): Frame<H> {
  if (bytes.length < 4) throw new Error("frame shorter than its length prefix");
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (n > bytes.length - 4) throw new Error(`frame head length ${n} exceeds frame size ${bytes.length - 4}`);
  const head = JSON.parse(utf8Decoder.decode(bytes.subarray(4, 4 + n))) as H;
  return { head, body: bytes.subarray(4 + n) };
}

// ---------------------------------------------------------------------------
// SQL messages

/**
 * One SQLite value as the host handles it: a `bigint` is an INTEGER, a `number`
 * is a REAL (even when integral), a `Uint8Array` a BLOB. Keeping the two
 * numeric types apart is what lets an integral REAL survive a round trip.
 */
export type SQLValue = null | bigint | number | string | Uint8Array;

export interface SQLRequest {
  sql: string;
  params: SQLValue[];
  script: boolean;
  /** A read the core cannot bound (a view's), or a statement of a write whose triggers it cannot bound: run where the time limit can stop it (PROTOCOL.md, "Time limit"). */
  unbounded?: boolean;
  /** The core reads only the rows: changes and lastInsertRowid may be answered 0 (no statement more after a RETURNING). */
  rowsOnly?: boolean;
  /** A request before the last of its message whose result is part of the answer too (PROTOCOL.md, "Statements in one call"). */
  keep?: boolean;
  /** SQL a caller sent (PROTOCOL.md, "Caller SQL"): its own transaction, the guard, the time limit. */
  caller?: Guard;
  /** A caller's read-only statement (PROTOCOL.md, "Caller reads"). */
  read?: ReadRules;
  /** No SQL: a file column's file to put, get or delete (PROTOCOL.md, "Files"). */
  file?: FileRequest;
}

/** A file request (protocol.FileRequest in Go): `data` only for a put. */
export interface FileRequest {
  op: "put" | "get" | "delete";
  key: string;
  data?: Uint8Array;
}

/** How a caller's read runs (sqldb.Read in Go). */
export interface ReadRules {
  /** Answer at most this many rows and one more (the core tells a truncated answer by it). */
  maxRows: number;
  /** Stop it past this many milliseconds. */
  limitMs: number;
  /** What the config hides, for the authorizer where the runtime has one. */
  hidden: GuardName[];
}

/** A table, or one column of it (column "" for the whole table). */
export interface GuardName {
  table: string;
  column: string;
}

/** What caller SQL may not touch (sqldb.Guard in Go). */
export interface Guard {
  hidden: GuardName[];
  readOnly: GuardName[];
  /** Roll back at the end: tried, nothing kept. */
  dry: boolean;
}

function guardNames(v: unknown): GuardName[] {
  if (!Array.isArray(v)) return [];
  return v.map((n: { table?: unknown; column?: unknown }) => ({
    table: typeof n.table === "string" ? n.table : "",
    column: typeof n.column === "string" ? n.column : "",
  }));
}

function decodeGuard(v: unknown): Guard | undefined {
  if (v === null || typeof v !== "object") return undefined;
  const g = v as { hidden?: unknown; readOnly?: unknown; dry?: unknown };
  // The reviver below reads JSON booleans as 1n / 0n.
  return { hidden: guardNames(g.hidden), readOnly: guardNames(g.readOnly), dry: g.dry === 1n || g.dry === true };
}

export interface SQLRows {
  columns: string[];
  rows: SQLValue[][];
  changes: number | bigint;
  lastInsertRowid: number | bigint;
}

export interface SQLFailure {
  error: string;
  code: string;
}

export type SQLResult = SQLRows | SQLFailure;

interface ParseContext {
  source?: string;
}

/**
 * Parses an SQLRequest. Numbers are taken from their source text (JSON.parse
 * source access, present in V8 and JavaScriptCore): digits only is an INTEGER,
 * bound exactly however large; anything with a fraction or exponent is a REAL.
 */
export function decodeSQLRequest(text: string): SQLRequest {
  const raw = JSON.parse(text, (_key: string, value: unknown, ctx?: ParseContext): unknown => {
    if (typeof value === "number") {
      const src = ctx?.source;
      if (src === undefined) return Number.isInteger(value) ? BigInt(value) : value;
      return /^-?\d+$/.test(src) ? BigInt(src) : value;
    }
    if (typeof value === "boolean") return value ? 1n : 0n;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const blob = (value as { $blob?: unknown }).$blob;
      if (typeof blob === "string") return decodeBase64(blob);
      const real = (value as { $real?: unknown }).$real;
      if (real === "Infinity") return Infinity;
      if (real === "-Infinity") return -Infinity;
    }
    return value;
  }) as {
    sql?: unknown;
    params?: unknown;
    script?: unknown;
    unbounded?: unknown;
    caller?: unknown;
    read?: unknown;
    file?: unknown;
  };
  const file = raw.file as { op?: unknown; key?: unknown; data?: unknown } | null | undefined;
  if (file !== null && typeof file === "object") {
    if ((file.op !== "put" && file.op !== "get" && file.op !== "delete") || typeof file.key !== "string") {
      throw new Error("a file request needs op (put, get or delete) and key");
    }
    const f: FileRequest = { op: file.op, key: file.key };
    if (typeof file.data === "string") f.data = decodeBase64(file.data);
    return { sql: "", params: [], script: false, file: f };
  }
  if (typeof raw.sql !== "string") throw new Error("SQL request without sql");
  const params = Array.isArray(raw.params) ? (raw.params as SQLValue[]) : [];
  const req: SQLRequest = { sql: raw.sql, params, script: raw.script === 1n || raw.script === true };
  if (raw.unbounded === 1n || raw.unbounded === true) req.unbounded = true;
  const caller = decodeGuard(raw.caller);
  if (caller) req.caller = caller;
  const read = raw.read as { maxRows?: unknown; limitMs?: unknown; hidden?: unknown } | null | undefined;
  if (read !== null && typeof read === "object") {
    req.read = {
      maxRows: Number(read.maxRows ?? 0),
      limitMs: Number(read.limitMs ?? 0),
      hidden: guardNames(read.hidden),
    };
  }
  return req;
}

/**
 * Reads an SQLRequest from the bytes of the `sql` import: binary (PROTOCOL.md,
 * "SQL messages in binary"; what the core sends) or JSON. The bytes may be a
 * view of the module's memory: everything is copied out before it returns.
 * A message of several requests (FLAG_THEN) is refused: see decodeSQLRequestsBytes.
 */
export function decodeSQLRequestBytes(b: Uint8Array): SQLRequest {
  const reqs = decodeSQLRequestsBytes(b);
  if (reqs.length !== 1) throw new Error("malformed binary SQL request");
  return reqs[0]!;
}

/**
 * Reads the requests of one message of the `sql` import: one in JSON, or one
 * or more in binary, each but the last flagged FLAG_THEN (PROTOCOL.md,
 * "Statements in one call"): run in order until one fails.
 */
export function decodeSQLRequestsBytes(b: Uint8Array): SQLRequest[] {
  if (b[0] !== BINARY_MESSAGE) return [decodeSQLRequest(utf8Decoder.decode(b))];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > b.length) throw new Error("malformed binary SQL request");
  };
  const u32 = (): number => {
    need(4);
    const n = view.getUint32(pos, true);
    pos += 4;
    return n;
  };
  const bytes = (): Uint8Array => {
    const n = u32();
    need(n);
    pos += n;
    return b.subarray(pos - n, pos);
  };
  const reqs: SQLRequest[] = [];
  for (;;) {
    need(1);
    if (b[pos++] !== BINARY_MESSAGE) throw new Error("malformed binary SQL request");
    const sql = utf8Decoder.decode(bytes());
    need(1);
    const flags = b[pos++]!;
    const script = (flags & FLAG_SCRIPT) !== 0;
    const count = u32();
    need(count); // each value takes at least its tag
    const params: SQLValue[] = [];
    for (let i = 0; i < count; i++) {
      need(1);
      switch (b[pos++]) {
        case TAG_NULL:
          params.push(null);
          break;
        case TAG_INTEGER:
          need(8);
          params.push(view.getBigInt64(pos, true));
          pos += 8;
          break;
        case TAG_REAL:
          need(8);
          params.push(view.getFloat64(pos, true));
          pos += 8;
          break;
        case TAG_TEXT:
          params.push(utf8Decoder.decode(bytes()));
          break;
        case TAG_BLOB:
          params.push(bytes().slice()); // a copy: the module's memory can move
          break;
        default:
          throw new Error("malformed binary SQL request");
      }
    }
    const req: SQLRequest = { sql, params, script };
    if ((flags & FLAG_UNBOUNDED) !== 0) req.unbounded = true;
    if ((flags & FLAG_ROWS_ONLY) !== 0) req.rowsOnly = true;
    if ((flags & FLAG_KEEP) !== 0 && (flags & FLAG_THEN) !== 0) req.keep = true;
    reqs.push(req);
    if ((flags & FLAG_THEN) === 0) break;
  }
  if (pos !== b.length) throw new Error("malformed binary SQL request");
  return reqs;
}

/** Encodes one value: INTEGERs as exact digits, REALs always with a fraction or exponent. */
export function encodeSQLValue(v: SQLValue): string {
  return JSON.stringify(jsonValue(v)) ?? "null";
}

function encodeCount(n: number | bigint): unknown {
  return typeof n === "bigint" ? jsonValue(n) : Math.trunc(n);
}

// JSON.rawJSON (V8, JavaScriptCore) lets JSON.stringify write exact digits;
// everything that needs no special form stays a plain value, so the native
// serializer does nearly all the work.
const rawJSON = (JSON as unknown as { rawJSON: (text: string) => unknown }).rawJSON;

/** A value JSON.stringify writes in the protocol's encoding. */
function jsonValue(v: SQLValue): unknown {
  switch (typeof v) {
    case "bigint":
      return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : rawJSON(v.toString());
    case "number":
      if (v === Infinity || v === -Infinity) return { $real: v > 0 ? "Infinity" : "-Infinity" };
      // An integral REAL keeps a fraction, so it is read back as a REAL.
      return Number.isInteger(v) && Math.abs(v) < 1e21 ? rawJSON(v.toFixed(1)) : v;
    case "object":
      return v === null ? null : { $blob: encodeBase64(v) };
    default:
      return v;
  }
}

/** Encodes an SQLResult as the JSON the core reads. Converts the rows in place. */
export function encodeSQLResult(r: SQLResult): string {
  if ("error" in r) return JSON.stringify({ error: r.error, code: r.code });
  const rows = r.rows as unknown[][];
  for (const row of rows) {
    for (let j = 0; j < row.length; j++) {
      const v = row[j];
      if (typeof v !== "string") row[j] = jsonValue(v as SQLValue);
    }
  }
  return JSON.stringify({
    columns: r.columns,
    rows,
    changes: encodeCount(r.changes),
    lastInsertRowid: encodeCount(r.lastInsertRowid),
  });
}

const utf8Encoder = new TextEncoder();

/**
 * Writes binary SQL answers into one growing buffer; each answer is a view of
 * it, valid until the next. The core reads rows out of this several times
 * faster than out of JSON (it takes TEXT as it is, with no scanning).
 */
/** The answer of several results, each already encoded: RESULTS_MESSAGE, a u32 count, each with its u32 size. */
export function encodeResults(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(5 + parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  out[0] = RESULTS_MESSAGE;
  view.setUint32(1, parts.length, true);
  let pos = 5;
  for (const p of parts) {
    view.setUint32(pos, p.length, true);
    out.set(p, pos + 4);
    pos += 4 + p.length;
  }
  return out;
}

export class AnswerWriter {
  private buf = new Uint8Array(64 * 1024);
  private view = new DataView(this.buf.buffer);
  private pos = 0;

  /**
   * An SQLResult as the core reads it: binary for rows, JSON (UTF-8) for an
   * error, and for rows of uneven width, which have no binary form.
   */
  encode(r: SQLResult): Uint8Array {
    const json = () => utf8Encoder.encode(encodeSQLResult(r));
    if ("error" in r) return json();
    this.pos = 0;
    this.room(9);
    this.buf[this.pos++] = BINARY_MESSAGE;
    this.u32(r.columns.length);
    for (const c of r.columns) this.text(c);
    this.u32(r.rows.length);
    for (const row of r.rows) {
      if (row.length !== r.columns.length) return json(); // checked as it goes: no second pass over the rows
      for (const v of row) this.value(v);
    }
    this.i64(r.changes);
    this.i64(r.lastInsertRowid);
    return this.buf.subarray(0, this.pos);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(2 * this.buf.length, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private u32(n: number): void {
    this.room(4);
    this.view.setUint32(this.pos, n, true);
    this.pos += 4;
  }

  private i64(n: number | bigint): void {
    this.room(8);
    this.view.setBigInt64(this.pos, typeof n === "bigint" ? n : BigInt(Math.trunc(n)), true);
    this.pos += 8;
  }

  /** A length and the UTF-8 bytes; ASCII is copied by hand, which beats encodeInto on short text. */
  private text(s: string): void {
    this.room(4 + 3 * s.length); // UTF-8 takes at most 3 bytes per UTF-16 unit
    const start = this.pos + 4;
    let j = start;
    let k = 0;
    for (; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c >= 0x80) break;
      this.buf[j++] = c;
    }
    if (k < s.length) j += utf8Encoder.encodeInto(k === 0 ? s : s.slice(k), this.buf.subarray(j)).written;
    this.view.setUint32(this.pos, j - start, true);
    this.pos = j;
  }

  private value(v: SQLValue): void {
    this.room(9);
    switch (typeof v) {
      case "bigint":
        this.buf[this.pos] = TAG_INTEGER;
        this.view.setBigInt64(this.pos + 1, v, true);
        this.pos += 9;
        return;
      case "number":
        if (Number.isNaN(v)) break; // SQLite holds no NaN; infinities go as REALs (the JSON answer tags them)
        this.buf[this.pos] = TAG_REAL;
        this.view.setFloat64(this.pos + 1, v, true);
        this.pos += 9;
        return;
      case "string":
        this.buf[this.pos++] = TAG_TEXT;
        this.text(v);
        return;
      case "object":
        if (v === null) break;
        this.buf[this.pos++] = TAG_BLOB;
        this.u32(v.length);
        this.room(v.length);
        this.buf.set(v, this.pos);
        this.pos += v.length;
        return;
    }
    this.buf[this.pos++] = TAG_NULL;
  }
}

/** Node's, Bun's and Deno's Buffer, when the runtime has one (a browser has not). */
const NodeBuffer = (globalThis as {
  Buffer?: {
    from(b: ArrayBufferLike, offset: number, length: number): { toString(enc: "base64"): string };
    from(s: string, enc: "base64"): Uint8Array;
  };
}).Buffer;

export function encodeBase64(b: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
  let bin = "";
  for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function decodeBase64(s: string): Uint8Array {
  if (NodeBuffer) {
    const b = NodeBuffer.from(s, "base64");
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// ---------------------------------------------------------------------------
// OpenRequest / OpenResult

export interface OpenRequest {
  basePath: string;
  config: unknown;
  host: string;
  authToken: string;
  /** Only when re-opening a fresh instance after a trap: the last live message id delivered. */
  liveAfter?: number;
  /** "direct" (default) or "jetstream": writes become commands. */
  write?: string;
  /** This node's name in the commands it makes. */
  node?: string;
  /** Host names answered besides the loopback ones (--allowed-host, the listen address). */
  allowedHosts?: string[];
  /** Leave the file's journal mode as it is (--keep-journal-mode). */
  keepJournalMode?: boolean;
  /** The host serves the offline service worker (PROTOCOL.md, "Offline"): pages register it unless the config opts out. */
  offline?: boolean;
  /** What the `sql` import runs on: "sqlite" (default) or "postgres", serving pgSchema. */
  store?: "sqlite" | "postgres";
  pgSchema?: string;
  /** The config file's text when the host writes the core's edits back (then `config` is not read). */
  configText?: string;
  /** Open as a local copy (replica.ts): the server's GET /api/replica answer; its config is the copy's. */
  replica?: unknown;
}

export interface OpenResult {
  dsid?: string;
  /** The id after which live messages start. */
  seq?: number;
  /** How long one statement of a request may run (PROTOCOL.md, "Time limit"). */
  statementMs?: number;
  error?: string;
}
