// A local copy of what one caller may see of a server (issue 19;
// PROTOCOL.md, "Replicas"): the same core.wasm, opened from the server's
// GET /api/replica (its model, DSID and config as the copy needs them) on a
// SQLite of the host's own (sqlite-wasm in a browser), filled a page at a
// time from GET /api/replica/tables/{table}/rows. It answers the server's
// URLs with the server's pages for the same data. Like core.ts, this module
// imports no runtime module: a page or a worker loads it as it is.

import { Core, type CoreOptions } from "./core.ts";
import { NakedhtmxError } from "./errors.ts";
import type { Command, RequestHead } from "./protocol.ts";

/** What a copy needs of its server: GET a path (with its query) as the copy's caller. */
export type ServerGet = (pathAndQuery: string) => Promise<{ status: number; body: Uint8Array }>;

export interface ReplicaOptions extends CoreOptions {
  /** Reads the server as the user the copy is for (the page's own fetch, with its cookie). */
  get: ServerGet;
  /** Host names the copy answers besides the loopback ones (a browser's location.host). */
  allowedHosts?: string[];
  /** The server's base path ("" or "/admin"), as the pages' links carry it. */
  basePath?: string;
  /** Rows per page read from the server (at most 1000). */
  pageSize?: number;
  /**
   * Takes writes as commands (PROTOCOL.md, "Offline writes"): a write
   * answers with the command (ResponseHead.command), which the host applies
   * to the copy (core.apply), keeps, and sends to the server once it can
   * (sendCommand). Without it a copy refuses every write.
   */
  commands?: boolean;
  /**
   * The most rows a copy may hold: past it, making the copy stops with
   * NakedhtmxError("REPLICA", "413: ...") (a browser keeps a copy whole, in
   * memory and in its storage). Default: no limit.
   */
  maxRows?: number;
  /** Called as opening the copy passes each step ("instantiate"): for timing it. */
  step?: (name: string) => void;
}

/** The copy, and how far it is current: the server's change-log position and DSID. */
export interface Replica {
  core: Core;
  dsid: string;
  seq: number;
  /** Rows copied, by table. */
  rows: Record<string, number>;
  /** The views, read again whole when the data changed (views are not logged). */
  views: string[];
  /** GET /api/replica's answer, as the copy was opened from it. */
  payload: ReplicaPayload;
}

/**
 * What a copy needs besides its database's bytes to be opened again after a
 * restart (reopenReplica): plain JSON, to keep beside the bytes.
 */
export interface ReplicaState {
  payload: ReplicaPayload;
  seq: number;
}

export interface ReplicaPayload {
  dsid: string;
  seq: number;
  suggested?: unknown;
  /** Who the copy is for, as the server saw them. */
  who?: { user: { id: number; email: string; role: string } | null };
  model: { tables: { name: string; view?: boolean }[] };
}

interface RowsPage {
  next: string | null;
}

const utf8 = new TextDecoder();

/**
 * Makes a copy: asks the server for its model, opens a core on `db` from
 * it, and copies every table's rows the caller may list. Throws
 * NakedhtmxError("REPLICA", ...) with the server's answer when it refuses.
 */
export async function openReplica(opts: ReplicaOptions): Promise<Replica> {
  const payload = JSON.parse(utf8.decode(await fetchOK(opts.get, "/api/replica"))) as ReplicaPayload;
  const r = await openCore(opts, payload, payload.seq);
  const size = Math.min(1000, Math.max(1, opts.pageSize ?? 1000));
  let total = 0;
  // Past opts.maxRows a copy is not made (413): a browser holds it whole.
  for (const t of payload.model.tables) {
    r.rows[t.name] = await copyTable(
      r.core,
      opts.get,
      t.name,
      size,
      false,
      opts.maxRows === undefined ? Infinity : opts.maxRows - total,
    );
    total += r.rows[t.name]!;
  }
  return r;
}

/** What to keep beside the copy's bytes (its store's snapshot) to open it again. */
export function replicaState(r: Replica): ReplicaState {
  return { payload: r.payload, seq: r.seq };
}

/**
 * Opens a copy again after a restart: `db` holds its bytes as they were
 * kept (sqlite-wasm's snapshot), `state` what replicaState gave. Nothing is
 * asked of the server: the copy answers as it did, and catchUpReplica
 * brings it current once the server can be reached.
 */
export async function reopenReplica(
  opts: Omit<ReplicaOptions, "get" | "pageSize"> & { state: ReplicaState },
): Promise<Replica> {
  return await openCore(opts, opts.state.payload, opts.state.seq);
}

async function openCore(
  opts: Omit<ReplicaOptions, "get" | "pageSize">,
  payload: ReplicaPayload,
  seq: number,
): Promise<Replica> {
  const core = await Core.load(opts);
  opts.step?.("instantiate");
  core.open({
    basePath: opts.basePath ?? "",
    config: null,
    host: opts.host,
    authToken: "",
    keepJournalMode: true,
    allowedHosts: opts.allowedHosts,
    replica: { ...payload, seq }, // the copy's pages resume after where it is current to
    ...(opts.commands ? { write: "jetstream" as const, node: "copy" } : {}),
  });
  const views = payload.model.tables.filter((t) => t.view).map((t) => t.name);
  return { core, dsid: payload.dsid, seq, rows: {}, views, payload };
}

/** Copies one table's rows, page by page; replace: the copy's rows of it go first. */
async function copyTable(
  core: Core,
  get: ServerGet,
  table: string,
  size: number,
  replace: boolean,
  room = Infinity,
): Promise<number> {
  const path = `/api/replica/tables/${encodeURIComponent(table)}/rows`;
  let copied = 0;
  let after: string | null = null;
  for (;;) {
    const q: string = `limit=${size}` + (after === null ? "" : `&after=${encodeURIComponent(after)}`);
    const page = await fetchOK(get, `${path}?${q}`);
    post(core, path, replace && after === null ? "replace=1" : "", page, `storing ${table}'s rows`);
    const p = JSON.parse(utf8.decode(page)) as RowsPage & { rows: unknown[] };
    copied += p.rows.length;
    if (copied > room) {
      throw new NakedhtmxError("REPLICA", `413: ${table} takes the copy past the most rows it may hold`, {
        status: 413,
      });
    }
    if (p.next === null) return copied;
    after = p.next;
  }
}

/**
 * Brings a copy current (PROTOCOL.md, "Replicas"): the server's changes
 * since the copy's seq, a page at a time, applied to the copy, then its
 * views read again. Answers the new seq. Throws NakedhtmxError("REPLICA")
 * whose message starts with the status when the copy must be made again:
 * 409 (the schema moved) or 410 (the server's log no longer reaches back).
 */
export async function catchUpReplica(r: Replica, get: ServerGet): Promise<number> {
  let changed = false;
  for (;;) {
    const page = await fetchOK(get, `/api/replica/changes?after=${r.seq}`);
    post(r.core, "/api/replica/changes", "", page, "catching up");
    const p = JSON.parse(utf8.decode(page)) as { seq: number; more: boolean; views: boolean; suggested?: unknown };
    r.seq = p.seq;
    // Kept with the state too: a copy opened again suggests what its server did last.
    if (p.suggested !== undefined) r.payload.suggested = p.suggested;
    changed ||= p.views;
    if (!p.more) break;
  }
  if (changed) { for (const v of r.views) r.rows[v] = await copyTable(r.core, get, v, 1000, true); }
  return r.seq;
}

/** Reads tables of a copy again whole (after its own writes went to the server). */
export async function recopyTables(r: Replica, get: ServerGet, tables: Iterable<string>): Promise<void> {
  for (const t of tables) {
    if (r.payload.model.tables.some((m) => m.name === t)) r.rows[t] = await copyTable(r.core, get, t, 1000, true);
  }
}

/** What the server answers for a copy's command (PROTOCOL.md, "Offline writes"). */
export interface CommandAnswer {
  id: string;
  /** The write's own status, as the JSON API would have answered it. */
  status: number;
  replayed?: boolean;
  error?: string;
  row?: Record<string, unknown>;
  /** 409: the row as it is on the server now, and its version. */
  current?: Record<string, unknown>;
  version?: string;
  key?: string;
  errors?: { path: string; message: string }[];
  remapped?: unknown;
}

/** What POSTs a body to the server as the copy's caller. */
export type ServerPost = (path: string, body: Uint8Array) => Promise<{ status: number; body: Uint8Array }>;

/**
 * Sends one command a copy made to its server (POST /api/replica/commands).
 * Throws NakedhtmxError("REPLICA") with the route's status when the server
 * did not judge the write (signed out, malformed, unavailable): the command
 * is then still to send.
 */
export async function sendCommand(post: ServerPost, command: Command): Promise<CommandAnswer> {
  const res = await post("/api/replica/commands", new TextEncoder().encode(JSON.stringify(command)));
  if (res.status !== 200) {
    throw new NakedhtmxError(
      "REPLICA",
      `${res.status}: sending ${command.id}: ${utf8.decode(res.body).slice(0, 300)}`,
      {
        status: res.status,
      },
    );
  }
  return JSON.parse(utf8.decode(res.body)) as CommandAnswer;
}

async function fetchOK(get: ServerGet, pathAndQuery: string): Promise<Uint8Array> {
  const res = await get(pathAndQuery);
  if (res.status !== 200) {
    throw new NakedhtmxError("REPLICA", `${res.status}: GET ${pathAndQuery}: ${utf8.decode(res.body).slice(0, 300)}`, {
      status: res.status,
    });
  }
  return res.body;
}

/** POSTs one of the server's pages to the copy; throws with the copy's answer unless it took it. */
function post(core: Core, path: string, query: string, body: Uint8Array, what: string): void {
  const head: RequestHead = {
    method: "POST",
    path,
    query,
    headers: { host: "localhost", "content-type": "application/json", accept: "application/json" },
  };
  const res = core.handle(head, body);
  if (res.head.status !== 200) {
    throw new NakedhtmxError("REPLICA", `${res.head.status}: ${what}: ${utf8.decode(res.body).slice(0, 300)}`, {
      status: res.head.status,
    });
  }
}
