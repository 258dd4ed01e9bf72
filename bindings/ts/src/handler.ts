// HTTP in, frames out: a fetch handler `(Request) => Promise<Response>` for
// Deno.serve, Bun.serve and Hono, and a node:http handler `(req, res, next?)`
// for Node's http server and Express. Both only move bytes: every answer is
// the core's (bindings/PROTOCOL.md, "Frames"). An answer that subscribes
// stays open on the live hub (live.ts; PROTOCOL.md, "Live"), which both
// handlers also tick right after every write.

import type { BrowserSet } from "./browserset.ts";
import type { IncomingMessage, ServerResponse } from "node:http";
import { errorMessage, NakedhtmxError } from "./errors.ts";
import type { CoreHandler, CoreResponse } from "./core.ts";
import { isWrite, type Live } from "./live.ts";
import type { Command, ConfigError, RequestHead } from "./protocol.ts";

export const DEFAULT_MAX_BODY = 10 * 1024 * 1024;

/** The largest body read before the caller is known (CONTRACT: 64 KiB). */
export const SIGNED_OUT_MAX_BODY = 64 * 1024;

/**
 * Whether a body must wait for the core's word that its caller may send
 * one; the answer to give instead when it may not.
 */
function probe(
  core: CoreHandler,
  head: RequestHead,
  opts: HandlerOptions,
  declared: number | undefined,
): CoreResponse | null | Promise<CoreResponse | null> {
  const over = opts.probeBodiesOver;
  if (over === undefined || (declared !== undefined && declared <= over)) return null;
  const answer = (r: CoreResponse) => (r.head.status ?? 200) === 100 ? null : r;
  const r = call(core, { ...head, probe: true }, EMPTY);
  return r instanceof Promise ? r.then(answer) : answer(r);
}

function declaredLength(v: string | null | undefined): number | undefined {
  if (v === null || v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export interface HandlerOptions {
  /** "" or "/prefix" without a trailing slash. */
  basePath: string;
  /** Request bodies over this many bytes are not read (default 10 MiB). */
  maxBodyBytes?: number;
  /** How long a request body may take to arrive, in ms (default 30 s): then 408. */
  bodyReadTimeoutMs?: number;
  /**
   * A body larger than this (or of unknown length) is read only after the
   * core said the caller may send one (a probe, PROTOCOL.md); undefined:
   * never asked. The library sets it when a token is required.
   */
  probeBodiesOver?: number;
  /**
   * Holds the event streams and is ticked after every write; it must tick the
   * same core. Without it (or once it is closed) an answer that subscribes
   * sends its backlog and ends.
   */
  live?: Live;
  /**
   * --write jetstream: takes the writes the core turned into commands
   * (PROTOCOL.md, "Commands"), publishes each and waits until this node has
   * applied it. Without it such an answer goes out as it is (202).
   */
  commands?: CommandSink;
  /**
   * Writes the config an answer carries (a stored query saved from the
   * SQL page; PROTOCOL.md, "Config") and applies it. Unset: such an
   * answer is asked again as a failed write.
   */
  config?: ConfigSink;
  /**
   * Group commit (group.ts): undefined when no commit is pending, else a
   * promise that settles when the writes made so far are committed. Every
   * answer waits for it, so none shows a write before it is durable.
   */
  settled?: () => Promise<void> | undefined;
  /**
   * The browser set, served at basePath/offline/ (PROTOCOL.md, "Offline");
   * undefined: none (the core was opened without `offline`).
   */
  offline?: BrowserSet;
}

/** Writes and applies a config's new text: undefined when done, else why not. */
export interface ConfigSink {
  save(text: string): Promise<ConfigError | undefined>;
}

/**
 * Publishes a command and waits for this node to apply it (true), or gives up
 * waiting (false); a command it cannot publish yet stays in the core's outbox.
 */
export interface CommandSink {
  submit(command: Command): Promise<boolean>;
}

/**
 * `server` is what a fetch server passes second (Bun.serve: the server;
 * Deno.serve: connection info): only a `timeout(request, seconds)` method is
 * used, when there is one, to lift an idle timeout from an event stream.
 */
export type FetchHandler = (request: Request, server?: unknown) => Promise<Response>;

/**
 * The client's address: Deno.serve passes `{remoteAddr: {hostname}}`, Bun.serve
 * the server, whose `requestIP(req)` knows it. Unknown (a Request made
 * in-process, another server): undefined.
 */
function remoteOf(server: unknown, req: Request): string | undefined {
  const s = server as
    | {
      remoteAddr?: { hostname?: unknown };
      requestIP?: (r: Request) => { address?: unknown } | null;
    }
    | null
    | undefined;
  try {
    const deno = s?.remoteAddr?.hostname;
    if (typeof deno === "string") return deno;
    if (typeof s?.requestIP === "function") {
      const a = s.requestIP(req)?.address;
      if (typeof a === "string") return a;
    }
  } catch {
    // a server object of another kind
  }
  return undefined;
}

/** Bun.serve's server: `timeout(req, 0)` lifts its idle timeout (10 s by default) for one request. */
function keepOpen(server: unknown, req: Request): void {
  const timeout = (server as { timeout?: unknown } | null | undefined)?.timeout;
  if (typeof timeout !== "function") return;
  try {
    (timeout as (r: Request, s: number) => void).call(server, req, 0);
  } catch {
    // a server whose timeout() means something else: keep its own limits
  }
}

/** Express adds these to node's request when it mounts a handler. */
export type NodeRequest = IncomingMessage & { baseUrl?: string; body?: unknown };
export type NodeNext = (err?: unknown) => void;
export type NodeHandler = (req: NodeRequest, res: ServerResponse, next?: NodeNext) => void;

const EMPTY = new Uint8Array(0);
const TOO_LARGE = Symbol("tooLarge");

/** The path and query of a URL or request-target, both still percent-encoded. */
export function splitTarget(target: string): { path: string; query: string } {
  let start = 0;
  const scheme = target.indexOf("://");
  if (scheme >= 0 && scheme < target.indexOf("/")) {
    start = target.indexOf("/", scheme + 3);
    if (start < 0) return { path: "/", query: "" };
  }
  let end = target.indexOf("#", start);
  if (end < 0) end = target.length;
  const q = target.indexOf("?", start);
  if (q >= 0 && q < end) return { path: target.slice(start, q) || "/", query: target.slice(q + 1, end) };
  return { path: target.slice(start, end) || "/", query: "" };
}

/** The path with basePath removed, or null when the path is outside it. */
export function stripBasePath(path: string, basePath: string): string | null {
  if (basePath === "") return path;
  if (path === basePath) return "/";
  if (path.startsWith(basePath) && path[basePath.length] === "/") return path.slice(basePath.length);
  return null;
}

function noBody(status: number, method: string): boolean {
  return method === "HEAD" || status === 101 || status === 204 || status === 205 || status === 304;
}

/** A host's own answer (the core gave none): one line of plain text. */
function plain(status: number, text: string, headers: [string, string][] = []): CoreResponse {
  return {
    head: { status, headers: [["content-type", "text/plain; charset=utf-8"], ...headers] },
    body: new TextEncoder().encode(`nakedhtmx: ${text}\n`),
  };
}

function failure(e: unknown): CoreResponse {
  const closed = e instanceof NakedhtmxError && e.code === "CLOSED";
  return plain(closed ? 503 : 500, errorMessage(e));
}

function call(
  core: CoreHandler,
  head: RequestHead,
  body: Uint8Array,
  opts?: HandlerOptions,
  again = false,
): CoreResponse | Promise<CoreResponse> {
  let r: CoreResponse | Promise<CoreResponse>;
  try {
    r = core.handle(head, body);
  } catch (e) {
    return failure(e);
  }
  // Before the answer goes out: when the client has it, the events of its
  // write are already queued on every stream.
  const live = opts?.live;
  const tick = live && !head.continue && isWrite(head.method) && live.wantsWriteTick();
  if (r instanceof Promise) {
    return r.then(async (res) => {
      if (tick) await live.tick();
      return res;
    }, failure);
  }
  // Nothing read or written inside an open group leaves before its commit.
  // When that commit fails nothing of the group is kept, and the request is
  // asked again (the store runs it alone now): its answer is its own outcome.
  const settled = opts?.settled?.();
  if (settled) {
    const res = r;
    return settled.then(async () => {
      if (tick) await live.tick();
      return res;
    }, (e: unknown) => again ? uncommitted(e) : call(core, head, body, opts, true));
  }
  if (tick) {
    const t = live.tick();
    if (t) return t.then(() => r as CoreResponse);
  }
  return r;
}

/** The answer to every request of a group whose commit failed: nothing of it was kept. */
function uncommitted(e: unknown): CoreResponse {
  return plain(503, `${errorMessage(e)}; nothing of it was kept, try again`, [["retry-after", "1"]]);
}

/**
 * Answers a request; a write that became a command is published first, and
 * the core is asked again once this node applied it (read-your-writes).
 */
async function respond(
  core: CoreHandler,
  head: RequestHead,
  body: Uint8Array,
  opts: HandlerOptions,
): Promise<CoreResponse> {
  let first = await call(core, head, body, opts);
  const command = first.head.command;
  if (command && opts.commands) {
    await opts.commands.submit(command).catch(() => false); // pending: the answer says so
    first = await call(core, { ...head, command: command.id }, body, opts);
  }
  const configText = first.head.configText;
  if (configText !== undefined) {
    const failure = opts.config
      ? await opts.config.save(configText)
      : { status: 500, message: "this server does not write its config" };
    if (failure) first = await call(core, { ...head, configError: failure }, body, opts);
  }
  // An answer without a status is the core yielding before it has one (a
  // long search read in windows; PROTOCOL.md, "Frames"): others go first,
  // then it is asked again.
  while (!first.head.status && first.head.continue) {
    await yieldTurn();
    first = await call(core, { ...head, continue: first.head.continue }, EMPTY, opts);
  }
  return first;
}

/**
 * Lets the event loop run what is waiting (other requests) before going on:
 * setImmediate (node:http's own, so on every runtime that runs this handler)
 * runs after pending I/O without a timer's 1 ms floor.
 */
function yieldTurn(): Promise<void> {
  if (inDeno) return denoTurn();
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Deno runs setImmediate callbacks, and MessageChannel messages, before it
 * polls for new connections and requests: two long answers taking turns that
 * way starved the server on Deno (a one-row read beside an export and a search
 * waited 100 to 160 ms). Only a timer lets its I/O run, and a timer costs
 * about 2 ms: a 1M-row export took 8 s instead of 3.4 s with one per part.
 * So on Deno long answers run in slices: parts follow each other at once for
 * DENO_SLICE_MS, then a timer turn lets everything else in (2 ms slices: the
 * export 6 s, a one-row read beside it and a search 1.5x its idle time).
 */
const inDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const DENO_SLICE_MS = 2;
let sliceStart = 0;
function denoTurn(): Promise<void> {
  const now = performance.now();
  if (now - sliceStart < DENO_SLICE_MS) return Promise.resolve();
  return new Promise((resolve) =>
    setTimeout(() => {
      sliceStart = performance.now();
      resolve();
    }, 0)
  );
}

/** How long a request body may take to arrive (the Go hosts' BodyReadTimeout). */
export const BODY_READ_TIMEOUT_MS = 30_000;
const TOO_SLOW = Symbol("tooSlow");

async function readFetchBody(
  req: Request,
  max: number,
  timeoutMs: number,
): Promise<Uint8Array | typeof TOO_LARGE | typeof TOO_SLOW> {
  if (!req.body) return EMPTY;
  const declared = Number(req.headers.get("content-length") ?? "");
  if (declared > max) {
    req.body.cancel().catch(() => {});
    return TOO_LARGE;
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  // A client that trickles its body must not hold the request open (and
  // its memory) for ever: Deno.serve and Bun.serve have no such limit.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof TOO_SLOW>((resolve) => {
    timer = setTimeout(() => resolve(TOO_SLOW), timeoutMs);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), late]);
      if (next === TOO_SLOW) {
        reader.cancel().catch(() => {});
        return TOO_SLOW;
      }
      const { done, value } = next;
      if (done) break;
      total += value.length;
      if (total > max) {
        reader.cancel().catch(() => {});
        return TOO_LARGE;
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  return concat(chunks, total);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

export function createFetchHandler(core: CoreHandler, opts: HandlerOptions): FetchHandler {
  const max = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  return async (req: Request, server?: unknown): Promise<Response> => {
    const target = splitTarget(req.url);
    const path = stripBasePath(target.path, opts.basePath);
    if (path === null) return new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } });
    // Only /offline/ waits on the set: every other request goes on at once.
    const file = opts.offline && path.startsWith("/offline/")
      ? await opts.offline.answer(req.method, path, opts.basePath, req.headers.get("if-none-match"))
      : null;
    if (file) {
      return new Response(file.status === 200 ? file.body as Uint8Array<ArrayBuffer> : null, {
        status: file.status,
        headers: file.headers,
      });
    }
    const headers: Record<string, string> = {};
    req.headers.forEach((value, name) => {
      headers[name] = value;
    });
    // A Request made in-process (a test, the schema subcommand, an app that
    // builds its own) has no Host header: its URL's authority stands for it,
    // as the servers themselves build req.url from Host.
    if (headers["host"] === undefined) headers["host"] = hostOf(req.url);
    const head: RequestHead = { method: req.method, path, query: target.query, headers };
    const remote = remoteOf(server, req);
    if (remote) head.remote = remote;
    if (req.body) {
      const refused = await probe(core, head, opts, declaredLength(req.headers.get("content-length")));
      if (refused) {
        req.body.cancel().catch(() => {});
        const out = (refused.head.headers ?? []).filter(([k]) => k.toLowerCase() !== "connection");
        out.push(["connection", "close"]);
        return new Response(refused.body as Uint8Array<ArrayBuffer>, {
          status: refused.head.status ?? 200,
          headers: out,
        });
      }
    }
    let body = await readFetchBody(req, max, opts.bodyReadTimeoutMs ?? BODY_READ_TIMEOUT_MS);
    if (body === TOO_SLOW) {
      return new Response("nakedhtmx: the request body took too long to arrive\n", {
        status: 408,
        headers: { "content-type": "text/plain; charset=utf-8", connection: "close" },
      });
    }
    if (body === TOO_LARGE) {
      head.tooLarge = true;
      body = EMPTY;
    }
    const first = await respond(core, head, body, opts);
    const status = first.head.status ?? 200;
    // The pairs as they are: a Headers built by append() cost Deno about
    // 30 us for an answer's six headers (Response copies pairs faster).
    const out = first.head.headers ?? [];
    if (noBody(status, req.method)) return new Response(null, { status, headers: out });
    if (first.head.subscribe && opts.live && !opts.live.closed) {
      // Registered now, in the same step as the core's answer: no tick between.
      const stream = opts.live.subscribe(first.head.subscribe, first.body);
      // Between keep-alives (15 s) a stream is idle longer than Bun.serve allows by default.
      keepOpen(server, req);
      return new Response(stream as ReadableStream<Uint8Array<ArrayBuffer>>, { status, headers: out });
    }
    let token = first.head.continue;
    if (!token) return new Response(first.body as Uint8Array<ArrayBuffer>, { status, headers: out });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (first.body.length) controller.enqueue(first.body);
      },
      async pull(controller) {
        while (token) {
          // Other requests go first between two parts: a consumer that
          // reads as fast as parts come would otherwise keep calling pull
          // without the event loop ever getting a turn.
          await yieldTurn();
          if (!token) break; // cancelled meanwhile
          const next = await call(core, { ...head, continue: token }, EMPTY, opts);
          token = next.head.continue;
          if (next.body.length) controller.enqueue(next.body);
          if (!token) break;
          if (next.body.length) return;
        }
        controller.close();
      },
      cancel() {
        token = undefined;
      },
    });
    return new Response(stream as ReadableStream<Uint8Array<ArrayBuffer>>, { status, headers: out });
  };
}

// ---------------------------------------------------------------------------
// node:http

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}

function nodeHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(name === "cookie" ? "; " : ", ") : value;
  }
  // node:http keeps the first of several Host headers and drops the rest;
  // the core must see them all to refuse the request (which Host would a
  // proxy in front have used?).
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === "host") hosts++;
  if (hosts > 1) {
    const all: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === "host") all.push(raw[i + 1]!);
    out["host"] = all.join(", ");
  }
  return out;
}

function readNodeBody(req: NodeRequest, max: number): Promise<Uint8Array | typeof TOO_LARGE> {
  // Mounted after a raw body parser (Express), the stream is already drained.
  if (req.readableEnded) {
    const b = req.body;
    if (b instanceof Uint8Array) return Promise.resolve(b.length > max ? TOO_LARGE : b);
    if (typeof b === "string") {
      const bytes = new TextEncoder().encode(b);
      return Promise.resolve(bytes.length > max ? TOO_LARGE : bytes);
    }
    return Promise.resolve(EMPTY);
  }
  const declared = Number(req.headers["content-length"] ?? "");
  if (declared > max) return Promise.resolve(TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const onData = (chunk: Uint8Array) => {
      total += chunk.length;
      if (total > max) {
        // Keep draining (nothing kept) so the 413 can still be sent.
        req.off("data", onData);
        req.on("data", () => {});
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve(concat(chunks, total)));
    req.on("error", reject);
  });
}

function writeHead(res: ServerResponse, r: CoreResponse): void {
  const grouped = new Map<string, string[]>();
  for (const [k, v] of r.head.headers ?? []) {
    const list = grouped.get(k);
    if (list) list.push(v);
    else grouped.set(k, [v]);
  }
  res.statusCode = r.head.status ?? 200;
  for (const [k, v] of grouped) res.setHeader(k, v.length === 1 ? v[0]! : v);
}

function write(res: ServerResponse, chunk: Uint8Array): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Writes an event stream to a node:http response as fast as the connection
 * takes it: it asks the hub for the next chunk only once the last one is
 * written (or buffered below node's high-water mark), so while it waits for
 * "drain" the hub's messages stay in the hub's queue, where they count against
 * the stream's limit. When the hub ends the stream (shutdown, or the client
 * fell too far behind), the response ends; when the client goes, the stream
 * is cancelled and the hub forgets it.
 */
async function pump(stream: ReadableStream<Uint8Array>, res: ServerResponse): Promise<void> {
  const reader = stream.getReader();
  const gone = () => {
    reader.cancel().catch(() => {});
  };
  res.on("close", gone);
  res.flushHeaders();
  // Settles when the hub ends the stream (a client that fell behind, or
  // shutdown) even while a write waits for a client that stopped reading:
  // that connection is cut at once instead of waiting for it to read again.
  const ended = reader.closed.then(() => {
    throw new Error("the stream ended while a write waited");
  });
  ended.catch(() => {});
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      await Promise.race([write(res, value), ended]);
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    res.off("close", gone);
    gone(); // unregisters a stream still open (the connection went first); a no-op otherwise
  }
}

export function createNodeHandler(core: CoreHandler, opts: HandlerOptions): NodeHandler {
  const max = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const serve = async (req: NodeRequest, res: ServerResponse, next?: NodeNext): Promise<void> => {
    // Express strips its mount path from req.url and keeps it in req.baseUrl.
    const mounted = typeof req.baseUrl === "string" ? req.baseUrl : "";
    const target = splitTarget(req.url ?? "/");
    // Mounted at basePath (or above it): strip basePath from the full path.
    // Mounted elsewhere: the part below the mount point is the app's path.
    const path = opts.basePath === "" && mounted
      ? target.path
      : (stripBasePath(mounted + target.path, opts.basePath) ?? (mounted ? target.path : null));
    if (path === null) {
      if (next) return next();
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    const method = req.method ?? "GET";
    const file = opts.offline && path.startsWith("/offline/")
      ? await opts.offline.answer(method, path, opts.basePath, req.headers["if-none-match"])
      : null;
    if (file) {
      res.writeHead(file.status, Object.fromEntries(file.headers)).end(file.body);
      return;
    }
    const head: RequestHead = { method, path, query: target.query, headers: nodeHeaders(req) };
    if (req.socket?.remoteAddress) head.remote = req.socket.remoteAddress;
    const hasBody = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
    if (hasBody && !req.readableEnded) {
      const refused = await probe(core, head, opts, declaredLength(req.headers["content-length"]));
      if (refused) {
        res.shouldKeepAlive = false; // the body stays unread
        writeHead(res, refused);
        res.end(refused.body);
        return;
      }
    }
    let body = await readNodeBody(req, max);
    if (body === TOO_LARGE) {
      head.tooLarge = true;
      body = EMPTY;
      res.shouldKeepAlive = false;
    }
    const first = await respond(core, head, body, opts);
    writeHead(res, first);
    const status = res.statusCode;
    if (first.head.subscribe && opts.live && !opts.live.closed && !noBody(status, method)) {
      await pump(opts.live.subscribe(first.head.subscribe, first.body), res);
      return;
    }
    let token = first.head.continue;
    if (noBody(status, method) || !token) {
      res.end(noBody(status, method) ? undefined : first.body);
      return;
    }
    let closed = false;
    res.on("close", () => {
      closed = true;
    });
    if (first.body.length) await write(res, first.body);
    while (token && !closed) {
      const r = await call(core, { ...head, continue: token }, EMPTY, opts);
      token = r.head.continue;
      if (r.body.length) await write(res, r.body);
      // Other requests get their turn between two parts of a long answer
      // (a million-row CSV, a search read in windows): a write the socket
      // takes at once resolves without giving the event loop back.
      await yieldTurn();
    }
    res.end();
  };
  return (req, res, next) => {
    serve(req, res, next).catch((e: unknown) => {
      if (!res.headersSent) {
        const f = failure(e);
        writeHead(res, f);
        res.end(f.body);
      } else {
        res.destroy(e instanceof Error ? e : undefined);
      }
    });
  };
}
