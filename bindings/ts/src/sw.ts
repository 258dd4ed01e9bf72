// The offline service worker (issue 19; PROTOCOL.md, "Offline"). A page
// registers it when the server's pages name it (app.js); it then keeps a
// copy of what the signed-in caller may see (replica.ts: the same core.wasm
// on sqlite-wasm) and, when the server cannot be reached, answers the
// server's URLs from that copy: the same pages, byte for byte, with a banner
// saying so. While the server is there every request goes to it untouched.
//
// Storage: the copy lives in memory while the worker runs and is kept in
// IndexedDB as its database's bytes (sqlite-wasm's snapshot) and its state,
// written after every change. OPFS was weighed and refused: its synchronous
// handles exist only in dedicated workers, and a service worker answering a
// navigation with no page open has none to ask.
//
// The build (scripts/browser-set.mjs) serves this module as offline/sw.js
// with the modules it imports beside it and sqlite-wasm as ./sqlite3.mjs,
// and writes the set's version into SET_VERSION. A service worker cannot
// import() anything, so every import here is static.

import sqlite3InitModule from "@sqlite.org/sqlite-wasm";
import { errorMessage, NakedhtmxError } from "./errors.ts";
import type { Command, RequestHead, ResponseHead } from "./protocol.ts";
import {
  catchUpReplica,
  type CommandAnswer,
  openReplica,
  recopyTables,
  reopenReplica,
  type Replica,
  type ReplicaState,
  replicaState,
  sendCommand,
  type ServerGet,
  type ServerPost,
} from "./replica.ts";
import { openWasmDatabase, type SQLiteWasm } from "./sqlite_wasm.ts";

/** The browser set's version: its files' hash (the build writes it in). */
const SET_VERSION = "__NAKEDHTMX_SET_VERSION__";

// What this module uses of the service worker's global scope (the
// project's TypeScript lib is ES2023, with no DOM or WebWorker types).
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  request: Request & { mode: string };
  respondWith(r: Promise<Response> | Response): void;
}
interface CacheLike {
  match(url: string): Promise<Response | undefined>;
  put(url: string, r: Response): Promise<void>;
}
interface IDBRequestLike<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IDBStoreLike {
  get(key: string): IDBRequestLike<unknown>;
  put(value: unknown, key: string): IDBRequestLike<unknown>;
  delete(key: string): IDBRequestLike<unknown>;
}
interface IDBLike {
  createObjectStore(name: string): unknown;
  transaction(name: string, mode: "readonly" | "readwrite"): { objectStore(name: string): IDBStoreLike };
}
interface Scope {
  location: { href: string; origin: string; host: string };
  registration: { scope: string };
  caches: { open(name: string): Promise<CacheLike>; keys(): Promise<string[]>; delete(name: string): Promise<boolean> };
  indexedDB: {
    open(name: string, version: number): IDBRequestLike<IDBLike> & { onupgradeneeded: (() => void) | null };
  };
  clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: "install" | "activate", fn: (e: ExtendableEvent) => void): void;
  addEventListener(type: "fetch", fn: (e: FetchEvent) => void): void;
  addEventListener(type: "message", fn: (e: ExtendableEvent & { data: unknown }) => void): void;
}

const sw = globalThis as unknown as Scope;
/** The app's base path as its pages' links carry it ("" or "/admin"). */
const base = new URL(sw.registration.scope).pathname.replace(/\/$/, "");
const CACHE = `nakedhtmx-offline-${SET_VERSION}`;
/** The set's files the worker fetches itself (its modules the browser keeps). */
const WASM = ["core.wasm", "sqlite3.wasm"];
const setURL = (name: string) => new URL(name, sw.location.href).href;
/** A request the server leaves unanswered this long counts as the server being away. */
const NETWORK_WAIT_MS = 10_000;
/**
 * The most rows a copy holds: the worker keeps it whole, in memory and in
 * IndexedDB. Past it no copy is made (GET /offline/status says why) and
 * the app needs the server, as without the worker.
 */
const MAX_COPY_ROWS = 250_000;
/** What app.js posts when its page comes under the worker's control. */
const PAGE_MESSAGE = "nakedhtmx:page";
/** Catching up at most this often: pages come quicker than changes need reading. */
const CATCH_UP_EVERY_MS = 2_000;

sw.addEventListener("install", (e) => {
  e.waitUntil((async () => {
    const cache = await sw.caches.open(CACHE);
    for (const name of WASM) {
      const res = await fetch(setURL(name), { cache: "no-cache" });
      if (!res.ok) throw new Error(`offline: ${name}: ${res.status}`);
      await cache.put(setURL(name), res);
    }
    await sw.skipWaiting();
  })());
});

sw.addEventListener("activate", (e) => {
  e.waitUntil((async () => {
    for (const name of await sw.caches.keys()) {
      if (name.startsWith("nakedhtmx-offline-") && name !== CACHE) await sw.caches.delete(name);
    }
    await sw.clients.claim();
    await sync(); // the first online visit is what makes the copy
  })());
});

// A page that came under the worker's control after it loaded (the worker
// activated while it signed in, say) tells it so (app.js): the navigation
// that makes or catches up the copy went past the worker, and its own try at
// activation may have come before the session did. The message says only
// that a page is here; the copy is the signed-in person's, as always.
sw.addEventListener("message", (e) => {
  if (e.data === PAGE_MESSAGE) e.waitUntil(sync());
});

sw.addEventListener("fetch", (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (url.origin !== sw.location.origin) return;
  const path = url.pathname === base
    ? "/"
    : url.pathname.startsWith(base + "/")
    ? url.pathname.slice(base.length)
    : null;
  if (path === null) return;
  if (path === "/offline/status") return e.respondWith(status());
  if (path === "/offline/conflicts" || path.startsWith("/offline/conflicts/")) {
    return e.respondWith(conflictsRoute(req, path));
  }
  // The worker's own files, live streams and the copy's own reads are the
  // network's: never answered from a copy.
  if (path.startsWith("/offline/") || path.startsWith("/api/replica")) return;
  // The event streams, by their routes (every htmx request accepts
  // text/event-stream too, so the Accept header cannot tell them).
  if (path === "/live" || path === "/api/events" || /^\/t\/[^/]+\/live$/.test(path)) return;
  e.respondWith(answer(e, req, path, url.search.slice(1)));
});

async function answer(e: FetchEvent, req: Request & { mode: string }, path: string, query: string): Promise<Response> {
  // The body is read first: a request whose network fetch failed has spent it.
  const body = req.method === "GET" || req.method === "HEAD"
    ? undefined
    : new Uint8Array(await req.clone().arrayBuffer());
  const signs = (path === "/signin" || path === "/signout") && req.method === "POST";
  // Writes made offline go first: before a sign-in or sign-out (while the
  // person who made them is still the one signed in), and before any new
  // write (so the server gets them in the order they were made).
  if (signs || (body !== undefined && waitingWrites > 0)) await sync(true);
  let res: Response;
  try {
    res = await fetchWithin(req, NETWORK_WAIT_MS);
    // A proxy in front saying the app behind it cannot be reached is the
    // server being away, for a read (a write may have reached it: its
    // answer stands).
    if (body === undefined && (res.status === 502 || res.status === 504)) throw new Error(`${res.status}`);
  } catch {
    try {
      return await fromCopy(req, path, query, body);
    } catch (err) {
      lastError = errorMessage(err);
      return offlinePage(500, `The server cannot be reached, and this browser's copy could not answer: ${lastError}`);
    }
  }
  if (signs) {
    // A copy is one person's: whoever signs in next gets one of their own.
    e.waitUntil(forget());
  } else if (res.ok && (req.mode === "navigate" || waitingWrites > 0)) {
    // The server answers again: writes made offline go at once.
    e.waitUntil(sync(waitingWrites > 0));
  }
  return res;
}

async function fetchWithin(req: Request, ms: number): Promise<Response> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), ms);
  try {
    return await fetch(req, { signal: stop.signal });
  } finally {
    clearTimeout(timer);
  }
}

// ---- the copy ------------------------------------------------------------

/** A write made offline that the server would not take as it was: the user decides. */
interface Conflict {
  command: Command;
  /** What the server answered (its status, its message, the row as it is now). */
  answer: CommandAnswer;
  at: number;
}

interface Kept {
  version: string;
  state: ReplicaState;
  bytes: Uint8Array;
  savedAt: number;
  /** Writes made offline, in order, not yet sent. */
  pending: Command[];
  conflicts: Conflict[];
}

interface Copy {
  replica: Replica;
  db: ReturnType<typeof openWasmDatabase>;
  savedAt: number;
  pending: Command[];
  conflicts: Conflict[];
}

let copy: Promise<Copy | null> | null = null;
let syncing: Promise<void> = Promise.resolve();
let lastSync = 0;
let lastError = "";
/** When each step of opening the kept copy ended, in ms from the start (status). */
const opening: Record<string, number> = {};
/** Whether a copy is held (in memory or kept), as last known. */
let haveCopy = false;
/** How many writes made offline wait to be sent (as last kept). */
let waitingWrites = 0;
/** Writes to the copy, one at a time (each is applied, kept, then answered). */
let writing: Promise<unknown> = Promise.resolve();

/** The copy, from memory or from what IndexedDB kept (null: none yet). */
function current(): Promise<Copy | null> {
  copy ??= (async () => {
    // Each step of opening the kept copy, timed (GET /offline/status says
    // them; make bench reports them): the first answer offline waits for all.
    const t0 = performance.now();
    const step = (name: string) => (opening[name] = Math.round(performance.now() - t0));
    const [kept, , ,] = await Promise.all([
      idb<Kept | undefined>("readonly", (s) => s.get(base || "/")).finally(() => step("read")),
      wasmModule("core.wasm").finally(() => step("core")), // compiled meanwhile
      sqlite().finally(() => step("sqlite")),
    ]);
    if (!kept || kept.version !== SET_VERSION) return null; // made by another core: copied again once online
    const db = openWasmDatabase(await sqlite(), kept.bytes);
    step("bytes");
    const replica = await reopenReplica({ ...(await coreOptions()), db, state: kept.state, step });
    step("open");
    waitingWrites = kept.pending?.length ?? 0;
    haveCopy = true;
    return { replica, db, savedAt: kept.savedAt, pending: kept.pending ?? [], conflicts: kept.conflicts ?? [] };
  })().catch((err) => {
    lastError = errorMessage(err);
    copy = null;
    return null;
  });
  return copy;
}

/**
 * Sends the writes made offline, makes the copy or brings it current, and
 * keeps it; one at a time. now: even if it ran a moment ago.
 */
function sync(now = false): Promise<void> {
  // Only catching up waits its turn: a copy not made yet (the last try was
  // refused: signed out, the server away) is tried again at every page.
  if (!now && haveCopy && Date.now() - lastSync < CATCH_UP_EVERY_MS) return syncing;
  lastSync = Date.now();
  syncing = syncing.then(async () => {
    try {
      const had = await current();
      if (had) {
        try {
          const touched = await flush(had);
          const seq = had.replica.seq;
          if (touched.size > 0) await recopyTables(had.replica, get, touched);
          if (await catchUpReplica(had.replica, get) !== seq || had.savedAt === 0 || touched.size > 0) await keep(had);
          lastError = "";
          return;
        } catch (err) {
          // 409 (the schema moved), 410 (the log no longer reaches back):
          // copied again; 401/403: signed out, so the copy waits (what it
          // keeps to send is that person's) until they are back.
          const status = statusOf(err);
          if (status !== 409 && status !== 410) throw err;
        }
      }
      const db = openWasmDatabase(await sqlite());
      let replica: Replica;
      try {
        replica = await openReplica({ ...(await coreOptions()), db, get, maxRows: MAX_COPY_ROWS });
      } catch (err) {
        db.close(); // nothing of a copy not made stays in memory
        throw err;
      }
      const made: Copy = { replica, db, savedAt: 0, pending: had?.pending ?? [], conflicts: had?.conflicts ?? [] };
      if (had) had.db.close();
      // Writes its owner left waiting when they signed out come back to them.
      const key = waitingKey(ownerOf(replica));
      const waiting = await idb<Waiting | undefined>("readonly", (s) => s.get(key));
      if (waiting && waiting.owner === ownerOf(replica)) {
        made.pending.push(...waiting.pending);
        made.conflicts.push(...waiting.conflicts);
      }
      await keep(made);
      if (waiting) await idb("readwrite", (s) => s.delete(key));
      copy = Promise.resolve(made);
      lastError = "";
    } catch (err) {
      lastError = errorMessage(err);
    }
  });
  return syncing;
}

/**
 * Sends the writes made offline, in order (PROTOCOL.md, "Offline writes").
 * A write the server judged leaves the queue: made, or, refused (someone
 * else changed the row, the data no longer fits), kept as a conflict for
 * the user to decide. It stops at the first the server did not judge (it
 * cannot be reached, the person is signed out): those stay, in order.
 * Answers the tables written, which the copy reads again.
 */
async function flush(c: Copy): Promise<Set<string>> {
  const touched = new Set<string>();
  while (c.pending.length > 0) {
    const cmd = c.pending[0]!;
    let a: CommandAnswer;
    try {
      a = await sendCommand(post, cmd);
    } catch (err) {
      const status = statusOf(err);
      if (status !== 400 && status !== 404 && status !== 403) throw err;
      // Refused before it was judged (no such table, not the caller's to
      // write): it never will be; the user sees it, with its values.
      a = { id: cmd.id, status, error: errorMessage(err).replace(/^\d{3}: /, "") };
    }
    for (const w of cmd.op === "batch" ? cmd.ops ?? [] : [cmd]) touched.add(w.table);
    c.pending.shift();
    if (a.status >= 300) c.conflicts.push({ command: cmd, answer: a, at: Date.now() });
    await keep(c); // after each: one sent is never sent as new again
  }
  return touched;
}

async function keep(c: Copy): Promise<void> {
  c.savedAt = Date.now();
  waitingWrites = c.pending.length;
  haveCopy = true;
  const kept: Kept = {
    version: SET_VERSION,
    state: replicaState(c.replica),
    bytes: c.db.snapshot(),
    savedAt: c.savedAt,
    pending: c.pending,
    conflicts: c.conflicts,
  };
  await idb("readwrite", (s) => s.put(kept, base || "/"));
}

/**
 * Drops the copy (a sign-in or sign-out: a copy is one person's, and the
 * next person must not be shown it). Writes of its owner's still waiting
 * (unsent, or conflicts to decide) are never dropped: they are kept apart
 * under the owner's name, without the copy, and come back with the next
 * copy made for that same person.
 */
function forget(): Promise<void> {
  // In the same line as syncing: a sync asked for after the sign-in (the
  // page it leads to) must not catch the old person's copy up as the new one.
  syncing = syncing.then(dropCopy, dropCopy);
  lastSync = 0; // the next page makes the new person's copy at once
  return syncing;
}

async function dropCopy(): Promise<void> {
  const c = await current();
  copy = Promise.resolve(null);
  waitingWrites = 0;
  haveCopy = false;
  if (c && (c.pending.length > 0 || c.conflicts.length > 0)) {
    const w: Waiting = { owner: ownerOf(c.replica), pending: c.pending, conflicts: c.conflicts };
    await idb("readwrite", (s) => s.put(w, waitingKey(w.owner)));
  }
  c?.db.close();
  await idb("readwrite", (s) => s.delete(base || "/"));
}

/** Writes kept for a person while no copy of theirs is (forget). */
interface Waiting {
  owner: string;
  pending: Command[];
  conflicts: Conflict[];
}

const waitingKey = (owner: string) => `${base || "/"}\u0000waiting\u0000${owner}`;

/** Whom a copy is for: the signed-in user's email ("" for the token, or an app without users). */
function ownerOf(r: Replica): string {
  return r.payload.who?.user?.email ?? "";
}

/** Reads the server as the page's user: the worker's fetch carries their cookie. */
const get: ServerGet = async (pathAndQuery) => {
  const res = await fetch(base + pathAndQuery, { headers: { accept: "application/json" }, credentials: "same-origin" });
  return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
};

const post: ServerPost = async (path, body) => {
  const res = await fetch(base + path, {
    method: "POST",
    body: body as Uint8Array<ArrayBuffer>,
    headers: { "content-type": "application/json", accept: "application/json" },
    credentials: "same-origin",
  });
  return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
};

async function coreOptions() {
  return {
    host: "browser",
    wasm: await wasmModule("core.wasm"),
    log: () => {},
    allowedHosts: [sw.location.host],
    basePath: base,
    commands: true,
  };
}

const modules = new Map<string, Promise<WebAssembly.Module>>();

/** A wasm file of the set, compiled from the cache the worker filled at install. */
function wasmModule(name: string): Promise<WebAssembly.Module> {
  let m = modules.get(name);
  if (!m) {
    m = (async () => {
      const cache = await sw.caches.open(CACHE);
      const res = (await cache.match(setURL(name))) ?? await fetch(setURL(name));
      if (!res.ok) throw new Error(`offline: ${name}: ${res.status}`);
      // Streaming from a cached answer lets the browser keep the compiled code.
      return await WebAssembly.compileStreaming(res);
    })();
    m.catch(() => modules.delete(name));
    modules.set(name, m);
  }
  return m;
}

let sqlite3: Promise<SQLiteWasm> | null = null;

function sqlite(): Promise<SQLiteWasm> {
  sqlite3 ??= (async () => {
    const module = await wasmModule("sqlite3.wasm");
    const init = sqlite3InitModule as unknown as (o: unknown) => Promise<SQLiteWasm>;
    return await init({
      instantiateWasm(
        imports: Record<string, Record<string, unknown>>,
        done: (i: WebAssembly.Instance, m: WebAssembly.Module) => void,
      ) {
        void WebAssembly.instantiate(module, imports as never).then((inst) => done(inst, module));
        return {};
      },
    });
  })();
  return sqlite3;
}

// ---- answering -------------------------------------------------------------

/** Answers a request the server could not take from the copy. */
async function fromCopy(req: Request, path: string, query: string, body: Uint8Array | undefined): Promise<Response> {
  const c = await current();
  if (!c) {
    return offlinePage(503, "The server cannot be reached, and this browser holds no copy of the app yet.");
  }
  const headers: Record<string, string> = { host: sw.location.host };
  req.headers.forEach((v, k) => {
    if (k !== "host" && k !== "cookie") headers[k] = v;
  });
  const head: RequestHead = { method: req.method, path, query, headers };
  if (body === undefined) {
    const res = await c.replica.core.handle(head, new Uint8Array(0));
    return toResponse(res.head, withBanner(res.head, res.body, c));
  }
  // A write: the copy's core checks it as the server would and answers with
  // the command it comes to, which is applied to the copy, kept to send,
  // and then answered as a direct write would be (PROTOCOL.md, "Offline writes").
  const done = writing.then(async () => {
    const first = await c.replica.core.handle(head, body);
    const cmd = first.head.command;
    if (!cmd) return toResponse(first.head, withBanner(first.head, first.body, c)); // refused, or not a write
    const applied = c.replica.core.apply(cmd, c.replica.core.outbox().applied + 1);
    if (applied.status < 300) {
      c.pending.push(cmd);
      await keep(c);
    }
    const again = await c.replica.core.handle({ ...head, command: cmd.id }, body);
    return toResponse(again.head, withBanner(again.head, again.body, c));
  });
  writing = done.catch(() => {});
  return await done;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A full page answered from the copy gets the banner, right after <body>. */
function withBanner(head: ResponseHead, body: Uint8Array, c: Copy): Uint8Array {
  const type = (head.headers ?? []).find(([k]) => k.toLowerCase() === "content-type")?.[1] ?? "";
  if (!type.startsWith("text/html")) return body;
  const html = dec.decode(body);
  const at = html.indexOf("<body>\n");
  if (!html.startsWith("<!doctype html>") || at < 0) return body;
  const end = at + "<body>\n".length;
  return enc.encode(html.slice(0, end) + banner(c) + "\n" + html.slice(end));
}

/** The banner: offline, how current the copy is, and what waits (PROTOCOL.md, "Offline"). */
function banner(c: Copy): string {
  const when = new Date(c.savedAt).toISOString().replace("T", " ").slice(0, 16) + " UTC";
  const n = c.pending.length;
  const waiting = n === 0
    ? "Changes made now are kept here and sent when the server is back."
    : `${n} change${n === 1 ? "" : "s"} made here ${n === 1 ? "is" : "are"} waiting to be sent.`;
  return `<div class="offline-banner" role="status" id="nh-offline-banner">Offline: this is the copy this browser keeps, as of ${when}. ${waiting}</div>`;
}

function toResponse(head: ResponseHead, body: Uint8Array): Response {
  const h = new Headers();
  for (const [k, v] of head.headers ?? []) {
    if (k.toLowerCase() !== "content-length") h.append(k, v);
  }
  h.set("x-nakedhtmx-offline", "1");
  return new Response(body as Uint8Array<ArrayBuffer>, { status: head.status ?? 200, headers: h });
}

/** Headers of the pages the worker writes itself: the server's own rules. */
const OWN_PAGE = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "x-nakedhtmx-offline": "1",
};

function offlinePage(status: number, text: string): Response {
  const page =
    `<!doctype html>\n<html lang="en"><meta charset="utf-8"><title>Offline · nakedhtmx</title><p role="alert">${
      esc(text)
    }</p></html>\n`;
  return new Response(page, { status, headers: OWN_PAGE });
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** GET /offline/status, answered by the worker: what it holds (app.js, tests). */
async function status(): Promise<Response> {
  const c = await current();
  const out = {
    version: SET_VERSION,
    copy: c ? { dsid: c.replica.dsid, seq: c.replica.seq, rows: c.replica.rows, savedAt: c.savedAt } : null,
    pending: c?.pending.length ?? 0,
    conflicts: c?.conflicts.length ?? 0,
    opening,
    error: lastError || undefined,
  };
  return new Response(JSON.stringify(out), {
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

// ---- conflicts -------------------------------------------------------------

/**
 * A secret of this worker's, in every form of the conflicts page: a form
 * posted from another site (which the worker would see as a navigation to
 * this origin) cannot carry it, so it cannot decide anything for the user.
 */
const formToken = randomHex();

/**
 * BASE/offline/conflicts: the writes made offline that the server did not
 * take, each with the user's values beside the server's, to keep mine
 * (sent again, against the row as it is now) or take theirs (dropped).
 */
async function conflictsRoute(req: Request, path: string): Promise<Response> {
  const c = await current();
  if (req.method === "POST") {
    const m = /^\/offline\/conflicts\/([0-9a-f]{32})\/(keep|take)$/.exec(path);
    const form = new URLSearchParams(dec.decode(await req.arrayBuffer()));
    if (!m || !c || form.get("token") !== formToken) return offlinePage(403, "This form is not one of this page's.");
    const i = c.conflicts.findIndex((x) => x.command.id === m[1]);
    if (i >= 0) {
      const [x] = c.conflicts.splice(i, 1);
      if (m[2] === "keep" && x) c.pending.push(again(x));
      await keep(c);
      if (m[2] === "keep") await sync(true);
    }
    return new Response(null, { status: 303, headers: { location: base + "/offline/conflicts" } });
  }
  const list = c?.conflicts ?? [];
  let html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Changes made offline · nakedhtmx</title><link rel="stylesheet" href="${esc(base)}/assets/style.css"></head>
<body>
<header class="top"><nav aria-label="Breadcrumb"><ol class="crumbs"><li><a class="brand" href="${
    esc(base)
  }/">nakedhtmx</a></li><li><span aria-current="page">Changes made offline</span></li></ol></nav></header>
<main id="main">
<h1>Changes made offline</h1>
`;
  if (list.length === 0) html += `<p>None waits for you: every change made offline has reached the server.</p>\n`;
  if (c && c.pending.length > 0) html += `<p class="notice warn">${c.pending.length} still to send.</p>\n`;
  for (const x of list) {
    const cmd = x.command;
    const rowLink = cmd.key
      ? `${base}/t/${encodeURIComponent(cmd.table)}/r/${cmd.key}`
      : `${base}/t/${encodeURIComponent(cmd.table)}`;
    const what = cmd.op === "insert" ? "a new row" : cmd.op === "delete" ? `deleting row ${cmd.key}` : `row ${cmd.key}`;
    html += `<section class="conflict"><h2><a href="${esc(rowLink)}">${esc(cmd.table)}</a>: ${esc(what)}</h2>
<p class="notice error">${esc(x.answer.error ?? `the server answered ${x.answer.status}`)}</p>
`;
    const mine = cmd.values ?? {};
    const theirs = x.answer.current ?? {};
    const cols = [...new Set([...Object.keys(mine), ...Object.keys(theirs)])];
    if (cols.length > 0) {
      html +=
        `<div class="scroll"><table class="grid"><thead><tr><th>Column</th><th>Mine</th><th>On the server now</th></tr></thead><tbody>\n`;
      for (const k of cols) {
        const a = k in mine ? `<ins>${esc(shown(mine[k]))}</ins>` : `<span class="null">unchanged</span>`;
        const b = k in theirs ? esc(shown(theirs[k])) : "";
        html += `<tr><td>${esc(k)}</td><td>${a}</td><td>${b}</td></tr>\n`;
      }
      html += `</tbody></table></div>\n`;
    }
    for (const e of x.answer.errors ?? []) html += `<p class="notice error">${esc(e.path)}: ${esc(e.message)}</p>\n`;
    const canKeep = x.answer.status === 409 && x.answer.version !== undefined;
    html += `<div class="actions">`;
    for (
      const [act, label] of canKeep ? [["keep", "Keep mine"], ["take", "Take theirs"]] : [["take", "Discard mine"]]
    ) {
      html += `<form method="post" action="${
        esc(base)
      }/offline/conflicts/${cmd.id}/${act}"><input type="hidden" name="token" value="${formToken}"><button type="submit"${
        act === "keep" ? ` class="primary"` : ""
      }>${label}</button></form>`;
    }
    html += `</div>\n`;
    html += `</section>\n`;
  }
  html += `</main>\n</body>\n</html>\n`;
  return new Response(html, { headers: OWN_PAGE });
}

/** A value as the conflicts page shows it: text as it is, anything else as JSON. */
function shown(v: unknown): string {
  return typeof v === "string" ? v : v === null ? "NULL" : JSON.stringify(v);
}

/** Keep mine: the same write as a new command, against the row as the server has it now. */
function again(x: Conflict): Command {
  const id = randomHex(); // a command id's form (protocol.CommandIDOK)
  return { ...x.command, id, version: x.answer.version ?? x.command.version };
}

/** 16 random bytes in hex: a command id, the conflicts page's secret. */
function randomHex(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The HTTP status a failure of replica.ts carries (undefined: not the server's answer). */
function statusOf(err: unknown): number | undefined {
  return err instanceof NakedhtmxError ? err.status : undefined;
}

// ---- IndexedDB -------------------------------------------------------------

let opened: Promise<IDBLike> | null = null;

function idb<T>(mode: "readonly" | "readwrite", op: (s: IDBStoreLike) => IDBRequestLike<unknown>): Promise<T> {
  opened ??= new Promise((ok, fail) => {
    const r = sw.indexedDB.open("nakedhtmx-offline", 1);
    r.onupgradeneeded = () => r.result.createObjectStore("copies");
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  return opened.then((db) =>
    new Promise<T>((ok, fail) => {
      const r = op(db.transaction("copies", mode).objectStore("copies"));
      r.onsuccess = () => ok(r.result as T);
      r.onerror = () => fail(r.error);
    })
  );
}
