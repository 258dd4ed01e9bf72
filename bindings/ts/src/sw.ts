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
import { errorMessage } from "./errors.ts";
import type { ResponseHead } from "./protocol.ts";
import {
  catchUpReplica,
  openReplica,
  reopenReplica,
  type Replica,
  type ReplicaState,
  replicaState,
  type ServerGet,
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
  // The worker's own files, live streams and the copy's own reads are the
  // network's: never answered from a copy.
  if (path.startsWith("/offline/") || path.startsWith("/api/replica")) return;
  if ((req.headers.get("accept") ?? "").includes("text/event-stream")) return;
  e.respondWith(answer(e, req, path, url.search.slice(1)));
});

async function answer(e: FetchEvent, req: Request & { mode: string }, path: string, query: string): Promise<Response> {
  // The body is read first: a request whose network fetch failed has spent it.
  const body = req.method === "GET" || req.method === "HEAD"
    ? undefined
    : new Uint8Array(await req.clone().arrayBuffer());
  let res: Response;
  try {
    res = await fetchWithin(req, NETWORK_WAIT_MS);
  } catch {
    return await fromCopy(req, path, query, body);
  }
  if ((path === "/signin" || path === "/signout") && req.method === "POST") {
    // A copy is one person's: whoever signs in next gets one of their own.
    e.waitUntil(forget());
  } else if (req.mode === "navigate" && res.ok) {
    e.waitUntil(sync());
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

interface Kept {
  version: string;
  state: ReplicaState;
  bytes: Uint8Array;
  savedAt: number;
}

interface Copy {
  replica: Replica;
  db: ReturnType<typeof openWasmDatabase>;
  savedAt: number;
}

let copy: Promise<Copy | null> | null = null;
let syncing: Promise<void> = Promise.resolve();
let lastSync = 0;
let lastError = "";

/** The copy, from memory or from what IndexedDB kept (null: none yet). */
function current(): Promise<Copy | null> {
  copy ??= (async () => {
    const kept = await idb<Kept | undefined>("readonly", (s) => s.get(base || "/"));
    if (!kept || kept.version !== SET_VERSION) return null; // made by another core: copied again once online
    const db = openWasmDatabase(await sqlite(), kept.bytes);
    const replica = await reopenReplica({ ...(await coreOptions()), db, state: kept.state });
    return { replica, db, savedAt: kept.savedAt };
  })().catch((err) => {
    lastError = errorMessage(err);
    copy = null;
    return null;
  });
  return copy;
}

/** Makes the copy, or brings it current, and keeps it; one at a time. */
function sync(): Promise<void> {
  if (Date.now() - lastSync < CATCH_UP_EVERY_MS) return syncing;
  lastSync = Date.now();
  syncing = syncing.then(async () => {
    try {
      const had = await current();
      if (had) {
        try {
          const seq = had.replica.seq;
          if (await catchUpReplica(had.replica, get) !== seq || had.savedAt === 0) await keep(had);
          return;
        } catch (err) {
          // 409 (the schema moved), 410 (the log no longer reaches back):
          // copied again; 401/403: signed out, so the copy goes.
          const status = /^(\d{3}):/.exec(errorMessage(err))?.[1];
          if (status === "401" || status === "403") return await forget();
          if (status !== "409" && status !== "410") throw err;
        }
      }
      const db = openWasmDatabase(await sqlite());
      const replica = await openReplica({ ...(await coreOptions()), db, get });
      const made: Copy = { replica, db, savedAt: 0 };
      await keep(made);
      copy = Promise.resolve(made);
      lastError = "";
    } catch (err) {
      lastError = errorMessage(err);
    }
  });
  return syncing;
}

async function keep(c: Copy): Promise<void> {
  c.savedAt = Date.now();
  const kept: Kept = {
    version: SET_VERSION,
    state: replicaState(c.replica),
    bytes: c.db.snapshot(),
    savedAt: c.savedAt,
  };
  await idb("readwrite", (s) => s.put(kept, base || "/"));
}

async function forget(): Promise<void> {
  copy = Promise.resolve(null);
  await idb("readwrite", (s) => s.delete(base || "/"));
}

/** Reads the server as the page's user: the worker's fetch carries their cookie. */
const get: ServerGet = async (pathAndQuery) => {
  const res = await fetch(base + pathAndQuery, { headers: { accept: "application/json" }, credentials: "same-origin" });
  return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
};

async function coreOptions() {
  return {
    host: "browser",
    wasm: await wasmModule("core.wasm"),
    log: () => {},
    allowedHosts: [sw.location.host],
    basePath: base,
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
  if (body !== undefined) {
    // Until offline writes exist (issue 19, point 2), nothing is written to
    // a copy its server never hears of: the form stays as the user left it.
    return offlinePage(
      503,
      "The server cannot be reached, so this change was not saved. What you typed is still in the form: save again once the server is back.",
    );
  }
  const headers: Record<string, string> = { host: sw.location.host };
  req.headers.forEach((v, k) => {
    if (k !== "host" && k !== "cookie") headers[k] = v;
  });
  const res = await c.replica.core.handle({ method: req.method, path, query, headers }, new Uint8Array(0));
  return toResponse(res.head, withBanner(res.head, res.body, c));
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

/** The banner: offline, and how current the copy is (PROTOCOL.md, "Offline"). */
function banner(c: { savedAt: number }): string {
  const when = new Date(c.savedAt).toISOString().replace("T", " ").slice(0, 16) + " UTC";
  return `<div class="offline-banner" role="status" id="nh-offline-banner">Offline: this is the copy this browser keeps, as of ${when}. Changes cannot be saved until the server is back.</div>`;
}

function toResponse(head: ResponseHead, body: Uint8Array): Response {
  const h = new Headers();
  for (const [k, v] of head.headers ?? []) {
    if (k.toLowerCase() !== "content-length") h.append(k, v);
  }
  h.set("x-nakedhtmx-offline", "1");
  return new Response(body as Uint8Array<ArrayBuffer>, { status: head.status ?? 200, headers: h });
}

function offlinePage(status: number, text: string): Response {
  const page =
    `<!doctype html>\n<html lang="en"><meta charset="utf-8"><title>Offline · nakedhtmx</title><p role="alert">${text}</p></html>\n`;
  return new Response(page, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-nakedhtmx-offline": "1" },
  });
}

/** GET /offline/status, answered by the worker: what it holds (tests and the curious). */
async function status(): Promise<Response> {
  const c = await current();
  const out = {
    version: SET_VERSION,
    copy: c ? { dsid: c.replica.dsid, seq: c.replica.seq, rows: c.replica.rows, savedAt: c.savedAt } : null,
    pending: 0,
    error: lastError || undefined,
  };
  return new Response(JSON.stringify(out), {
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
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
