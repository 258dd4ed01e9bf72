// A local copy of what one caller may see of a server (issue 19;
// PROTOCOL.md, "Replicas"): the same core.wasm, opened from the server's
// GET /api/replica (its model, DSID and config as the copy needs them) on a
// SQLite of the host's own (sqlite-wasm in a browser), filled a page at a
// time from GET /api/replica/tables/{table}/rows. It answers the server's
// URLs with the server's pages for the same data. Like core.ts, this module
// imports no runtime module: a page or a worker loads it as it is.

import { Core, type CoreOptions } from "./core.ts";
import { NakedhtmxError } from "./errors.ts";
import type { RequestHead } from "./protocol.ts";

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
}

/** The copy, and how far it is current: the server's change-log position and DSID. */
export interface Replica {
  core: Core;
  dsid: string;
  seq: number;
  /** Rows copied, by table. */
  rows: Record<string, number>;
}

interface ReplicaPayload {
  dsid: string;
  seq: number;
  model: { tables: { name: string }[] };
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
  const first = await opts.get("/api/replica");
  if (first.status !== 200) {
    throw new NakedhtmxError("REPLICA", `GET /api/replica: ${first.status} ${utf8.decode(first.body).slice(0, 300)}`);
  }
  const text = utf8.decode(first.body);
  const payload = JSON.parse(text) as ReplicaPayload;
  const core = await Core.load(opts);
  core.open({
    basePath: opts.basePath ?? "",
    config: null,
    host: opts.host,
    authToken: "",
    keepJournalMode: true,
    allowedHosts: opts.allowedHosts,
    replica: payload,
  });
  const size = Math.min(1000, Math.max(1, opts.pageSize ?? 1000));
  const rows: Record<string, number> = {};
  for (const t of payload.model.tables) {
    const path = `/api/replica/tables/${encodeURIComponent(t.name)}/rows`;
    let copied = 0;
    let after: string | null = null;
    for (;;) {
      const q: string = `limit=${size}` + (after === null ? "" : `&after=${encodeURIComponent(after)}`);
      const page = await opts.get(`${path}?${q}`);
      if (page.status !== 200) {
        throw new NakedhtmxError("REPLICA", `GET ${path}: ${page.status} ${utf8.decode(page.body).slice(0, 300)}`);
      }
      const head: RequestHead = {
        method: "POST",
        path,
        query: "",
        headers: { host: "localhost", "content-type": "application/json", accept: "application/json" },
      };
      const stored = core.handle(head, page.body);
      if (stored.head.status !== 200) {
        throw new NakedhtmxError(
          "REPLICA",
          `storing ${t.name}'s rows: ${stored.head.status} ${utf8.decode(stored.body).slice(0, 300)}`,
        );
      }
      const p = JSON.parse(utf8.decode(page.body)) as RowsPage & { rows: unknown[] };
      copied += p.rows.length;
      if (p.next === null) break;
      after = p.next;
    }
    rows[t.name] = copied;
  }
  return { core, dsid: payload.dsid, seq: payload.seq, rows };
}
