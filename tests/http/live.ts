// Live conformance suite: CONTRACT.md's "Live events" and the remapping of
// stale writes, checked against one real host process (and, for the shared
// file case, a second host on another runtime) over loopback HTTP. The writer
// "from outside" is a second SQLite connection in this process (node:sqlite)
// on the same file, as the sqlite3 shell or another program would be.
//
//   node tests/http/live.ts --host go|wasm|deno|bun|node|all   (a comma list runs several)
//
// Options: --partner HOST (the host on another runtime that shares the file;
// default: go↔deno, wasm→bun, bun→node, node→bun, node22→go), --only TEXT, --keep, --verbose.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { request, formBody, enc, pkPath, type Answer } from "./client.ts";
import { check, eq, clip, runTests, Failure, type Result, type Test } from "./harness.ts";
import { HOSTS, prepareHost, startServer, staleBuild, type HostCommand, type HostName, type Server } from "./hosts.ts";
import { openDB } from "./fixture.ts";
import { escapingProblems, fieldNames, forms } from "./html.ts";
import { parseCSV } from "./cases.ts";
import { SSE, ResumingSSE, StalledClient, data, type SSEEvent } from "./sse.ts";

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    partner: { type: "string" },
    only: { type: "string" },
    keep: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
  },
});

type Json = any;

/** The host on another runtime that shares the database file in the two-host case. */
const PARTNER: Record<string, HostName> = { go: "deno", wasm: "bun", deno: "go", bun: "node", node: "bun", node22: "go" };

export const LIVE_SCHEMA = `
CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT, n INTEGER NOT NULL DEFAULT 0);
INSERT INTO notes VALUES (1, 'first', 'one', 0), (2, 'second', NULL, 0), (3, 'third', 'three', 3);
CREATE TABLE pairs (a TEXT NOT NULL, b INTEGER NOT NULL, v TEXT, PRIMARY KEY (a, b));
INSERT INTO pairs VALUES ('plain', 1, 'one');
CREATE TABLE loose (name TEXT, qty INTEGER);
INSERT INTO loose (rowid, name, qty) VALUES (1, 'one', 1);
CREATE TABLE codes (code TEXT PRIMARY KEY, label TEXT) WITHOUT ROWID;
INSERT INTO codes VALUES ('ok', 'plain');
CREATE TABLE wide (id INTEGER PRIMARY KEY, body TEXT);
CREATE TABLE quiet (id INTEGER PRIMARY KEY, x TEXT);
CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, nick TEXT, age TEXT, fax TEXT);
INSERT INTO people VALUES (1, 'Ann', 'annie', '40', '111'), (2, 'Bob', 'bobby', '50', '222');
CREATE TABLE old_name (id INTEGER PRIMARY KEY, v TEXT);
INSERT INTO old_name VALUES (1, 'kept');
CREATE TABLE doomed (id INTEGER PRIMARY KEY, v TEXT);
INSERT INTO doomed VALUES (1, 'bye');
CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL);
INSERT INTO tasks VALUES (1, 'write tests');
CREATE TABLE spare (id INTEGER PRIMARY KEY, keep TEXT, gone TEXT);
INSERT INTO spare VALUES (1, 'k', 'g');
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An outside writer: a second connection on the same file. */
type Outside = ReturnType<typeof openDB>;

function openOutside(file: string): Outside {
  // DatabaseSync's timeout is SQLite's busy timeout: the host holds the write lock now and then.
  const { DatabaseSync } = process.getBuiltinModule("node:sqlite") as typeof import("node:sqlite");
  return new DatabaseSync(file, { timeout: 10000 });
}

class LiveCtx {
  readonly host: HostName;
  readonly hc: HostCommand;
  readonly tmp: string;
  readonly db: string;
  server: Server;
  readonly out: Outside;
  /** Opened first and read to the end: every event the suite causes. */
  all!: SSE;
  /** A stream on a table nothing writes to, for the keep-alive check. */
  quiet!: SSE;
  quietOpened = 0;
  readonly streams: SSE[] = [];
  constructor(host: HostName, hc: HostCommand, tmp: string, db: string, server: Server) {
    this.host = host;
    this.hc = hc;
    this.tmp = tmp;
    this.db = db;
    this.server = server;
    this.out = openOutside(db);
  }
  get base(): URL { return this.server.url; }

  async stream(path: string, headers: Record<string, string> = {}, base = this.base): Promise<SSE> {
    const s = await SSE.open(base, path, headers);
    this.streams.push(s);
    check(s.status === 200, `GET ${path}: status ${s.status}, want 200; body: ${clip(s.body)}`);
    check((s.headers["content-type"] ?? "").startsWith("text/event-stream"),
      `GET ${path}: content-type ${s.headers["content-type"]}, want text/event-stream`);
    return s;
  }

  async api(method: string, path: string, body?: unknown, base = this.base): Promise<{ a: Answer; j: Json }> {
    const headers: Record<string, string> = { accept: "application/json" };
    let b: string | undefined;
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      b = JSON.stringify(body);
    }
    const a = await request(base, method, path, { headers, body: b });
    let j: Json = null;
    if (/json/.test(a.headers["content-type"] ?? "") && a.text !== "") {
      try {
        j = JSON.parse(a.text);
      } catch {
        throw new Failure(`${method} ${path}: body is not JSON: ${clip(a.text)}`);
      }
    }
    return { a, j };
  }

  postForm(path: string, fields: [string, string][]): Promise<Answer> {
    return request(this.base, "POST", path, {
      headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded" },
      body: formBody(fields),
    });
  }

  async dsid(base = this.base): Promise<string> {
    const { a, j } = await this.api("GET", "/api/schema", undefined, base);
    want(a, 200, "GET /api/schema");
    return j.dsid;
  }

  /**
   * Waits until the control stream has every event the log holds so far, and
   * gives the position after them: a test that reads "the first change after
   * its mark" must not be handed an earlier test's write whose event was still
   * on its way (CI once saw that on Bun).
   */
  async mark(): Promise<number> {
    const last = Number(this.rows(`SELECT coalesce(max(seq), 0) AS n FROM "_nakedhtmx_changes"`)[0]?.n ?? 0);
    if (last > 0 && !this.all.events.some((e) => Number(e.id) >= last)) {
      await this.all.waitFor(0, (e) => Number(e.id) >= last, `event ${last} (the log's newest) on the control stream`);
    }
    return this.all.events.length;
  }

  /** Runs SQL from outside; it must succeed. */
  exec(sql: string): void {
    try {
      this.out.exec(sql);
    } catch (e) {
      throw new Failure(`outside SQL failed: ${e instanceof Error ? e.message : e}\n  ${sql.trim().replace(/\n\s*/g, "\n  ")}`);
    }
  }

  rows(sql: string, ...params: (string | number | null)[]): Record<string, unknown>[] {
    return this.out.prepare(sql).all(...params) as Record<string, unknown>[];
  }

  close(): void {
    for (const s of this.streams) s.close();
    try {
      this.out.close();
    } catch {
      // already closed
    }
  }
}

function want(a: Answer, status: number | number[], what: string): void {
  const ok = Array.isArray(status) ? status.includes(a.status) : a.status === status;
  if (!ok) throw new Failure(`${what}: status ${a.status}, want ${status}; body: ${clip(a.text, 500)}`);
}

/** What a change event must say. */
interface WantChange {
  table: string;
  op: "insert" | "update" | "delete";
  pk: Record<string, unknown>;
}

/** Checks an event's framing: id is a decimal, data.seq equals it. */
function framing(e: SSEEvent, what: string): Json {
  check(/^\d+$/.test(e.id), `${what}: event ${e.event} has id ${JSON.stringify(e.id)}, want a number`);
  const d = data(e);
  check(d.seq === Number(e.id), `${what}: data.seq ${d.seq} is not the event id ${e.id}`);
  return d;
}

function isChange(e: SSEEvent, table: string, op?: string, pk?: Record<string, unknown>): boolean {
  if (e.event !== "change") return false;
  const d = JSON.parse(e.data);
  return d.table === table && (op === undefined || d.op === op) && (pk === undefined || JSON.stringify(d.pk) === JSON.stringify(pk));
}

/**
 * Waits for exactly the wanted change events after mark (nothing else
 * writes meanwhile), in order, with increasing ids and the given dsid.
 */
async function expectChanges(s: SSE, mark: number, wantList: WantChange[], dsid: string | null, what: string): Promise<SSEEvent[]> {
  const got = await s.waitN(mark, wantList.length, ["change"], `${wantList.length} change event(s) for ${what}`);
  await sleep(150); // nothing more may come
  const changes = s.since(mark, "change");
  const norm = (c: WantChange | Json) => ({ table: c.table, op: c.op, pk: c.pk });
  eq(changes.map((e) => norm(framing(e, what))), wantList.map(norm), `change events for ${what}`);
  let last = -1;
  for (const e of got) {
    const d = data(e);
    check(Number(e.id) > last, `${what}: id ${e.id} after ${last}: ids must increase`);
    last = Number(e.id);
    check(typeof d.dsid === "string" && d.dsid !== "", `${what}: change event without dsid: ${e.data}`);
    if (dsid !== null) eq(d.dsid, dsid, `${what}: dsid of change #${e.id}`);
  }
  return changes;
}

/** A change as the contract lists it, without the details a kind may add. */
function changeKey(c: Json): string {
  const o: Record<string, unknown> = { kind: c.kind, table: c.table };
  if (c.from !== undefined) o.from = c.from;
  if (c.column !== undefined) o.column = c.column;
  return JSON.stringify(o);
}

interface SchemaStep {
  before: string;
  after: string;
  changes: Json[];
  event: SSEEvent;
}

/**
 * Runs DDL from outside and checks the schema event it must cause: the
 * changes listed, previous = the DSID before, a new DSID, and /api/schema
 * following.
 */
async function ddl(ctx: LiveCtx, sql: string, wantChanges: Json[], what: string): Promise<SchemaStep> {
  const before = await ctx.dsid();
  const mark = await ctx.mark();
  const lastBefore = Number(ctx.all.lastId() || "0");
  ctx.exec(sql);
  const e = await ctx.all.waitFor(mark, (e) => e.event === "schema", `a schema event after ${what}`);
  const d = framing(e, what);
  check(Number(e.id) > lastBefore, `${what}: schema event id ${e.id} not after ${lastBefore}`);
  eq(d.previous, before, `${what}: "previous" is the DSID before`);
  check(typeof d.dsid === "string" && d.dsid !== "" && d.dsid !== before, `${what}: the DSID did not move (${d.dsid})`);
  check(Array.isArray(d.changes), `${what}: "changes" is not a list: ${e.data}`);
  eq(d.changes.map(changeKey).sort(), wantChanges.map(changeKey).sort(), `${what}: "changes"`);
  await sleep(200);
  const more = ctx.all.since(mark, "schema");
  check(more.length === 1, `${what}: ${more.length} schema events, want one: ${more.map((x) => x.data).join(" | ")}`);
  eq(await ctx.dsid(), d.dsid, `${what}: /api/schema's dsid after the event`);
  return { before, after: d.dsid, changes: d.changes, event: e };
}

async function schemaOf(ctx: LiveCtx, table: string): Promise<Json> {
  const { a, j } = await ctx.api("GET", `/api/schema/${enc(table)}`);
  want(a, 200, `GET /api/schema/${table}`);
  return j;
}

/** Finds the orphan kept for a value, whatever the columns of the orphans table are called. */
function orphan(ctx: LiveCtx, table: string, col: string, value: string, dsid: string): Record<string, unknown> | undefined {
  let rows: Record<string, unknown>[] = [];
  try {
    rows = ctx.rows(`SELECT * FROM "_nakedhtmx_orphans"`);
  } catch (e) {
    throw new Failure(`reading _nakedhtmx_orphans: ${e instanceof Error ? e.message : e}`);
  }
  return rows.find((r) => {
    const vs = Object.values(r).map((v) => String(v));
    return vs.includes(table) && vs.includes(col) && vs.includes(dsid) && vs.some((v) => v === value || v === JSON.stringify(value));
  });
}

function remappedOf(j: Json, what: string, from: string, to: string): Json {
  check(j && typeof j.remapped === "object" && j.remapped !== null, `${what}: no "remapped" in ${clip(JSON.stringify(j))}`);
  eq(j.remapped.from, from, `${what}: remapped.from`);
  eq(j.remapped.to, to, `${what}: remapped.to`);
  return j.remapped;
}

function liveTests(ctx: LiveCtx): Test[] {
  const T: Test[] = [];
  const test = (name: string, fn: () => Promise<void>) => T.push({ name, fn });
  let dsid0 = "";
  let dsidBeforeDDL = ""; // the schema before any DDL: the oldest DSID stale writes use
  const steps: Record<string, SchemaStep> = {};

  test("GET /api/events is an open text/event-stream", async () => {
    ctx.quiet = await ctx.stream("/api/events?table=quiet");
    ctx.quietOpened = performance.now();
    ctx.all = await ctx.stream("/api/events");
    eq(ctx.all.headers["content-type"]?.split(";")[0], "text/event-stream", "content-type");
    dsid0 = dsidBeforeDDL = await ctx.dsid();
    await sleep(300);
    check(!ctx.all.ended, "the stream ended by itself");
    eq(ctx.all.since(0).length, 0, "events on a fresh stream with nothing written (no Last-Event-ID)");
  });

  test("outside insert, update, delete: change events with op, pk, dsid, increasing ids", async () => {
    const mark = await ctx.mark();
    ctx.exec(`INSERT INTO notes (id, title) VALUES (10, 'outside')`);
    ctx.exec(`UPDATE notes SET title = 'outside, edited' WHERE id = 10`);
    ctx.exec(`DELETE FROM notes WHERE id = 10`);
    await expectChanges(ctx.all, mark, [
      { table: "notes", op: "insert", pk: { id: 10 } },
      { table: "notes", op: "update", pk: { id: 10 } },
      { table: "notes", op: "delete", pk: { id: 10 } },
    ], dsid0, "outside writes to notes");
  });

  test("outside writes: composite, text, rowid keys; several rows in one transaction", async () => {
    const mark = await ctx.mark();
    ctx.exec(`INSERT INTO pairs VALUES ('a,b/c', 2, 'x')`);
    ctx.exec(`UPDATE pairs SET v = 'y' WHERE a = 'a,b/c' AND b = 2`);
    ctx.exec(`INSERT INTO codes VALUES ('50% ünï', 'odd')`);
    ctx.exec(`INSERT INTO loose (rowid, name) VALUES (77, 'seventy-seven')`);
    ctx.exec(`BEGIN; INSERT INTO loose (rowid, name) VALUES (78, 'a'); UPDATE loose SET qty = 2 WHERE rowid = 1; DELETE FROM codes WHERE code = '50% ünï'; COMMIT`);
    await expectChanges(ctx.all, mark, [
      { table: "pairs", op: "insert", pk: { a: "a,b/c", b: 2 } },
      { table: "pairs", op: "update", pk: { a: "a,b/c", b: 2 } },
      { table: "codes", op: "insert", pk: { code: "50% ünï" } },
      { table: "loose", op: "insert", pk: { rowid: 77 } },
      { table: "loose", op: "insert", pk: { rowid: 78 } },
      { table: "loose", op: "update", pk: { rowid: 1 } },
      { table: "codes", op: "delete", pk: { code: "50% ünï" } },
    ], dsid0, "outside writes to pairs, codes, loose");
  });

  test("an outside update that changes the key reports the new key", async () => {
    const mark = await ctx.mark();
    ctx.exec(`UPDATE notes SET id = 200 WHERE id = 2`);
    const [e] = await ctx.all.waitN(mark, 1, ["change"], "the key change");
    const d = data(e);
    eq({ table: d.table, op: d.op, pk: d.pk }, { table: "notes", op: "update", pk: { id: 200 } }, "the key change event");
    ctx.exec(`UPDATE notes SET id = 2 WHERE id = 200`);
    await ctx.all.waitN(mark, 2, ["change"], "the key changed back");
  });

  test("own writes through the JSON API: insert, update, delete events", async () => {
    const mark = await ctx.mark();
    const c = await ctx.api("POST", "/api/tables/notes/rows", { title: "via API", _dsid: dsid0 });
    want(c.a, 201, "POST");
    const id = c.j.pk.id;
    eq(c.j.pk, { id }, "pk of the new row");
    const p = await ctx.api("PATCH", `/api/tables/notes/rows/${id}`, { title: "via API, patched", _version: c.j.version });
    want(p.a, 200, "PATCH");
    const pp = await ctx.api("POST", "/api/tables/pairs/rows", { a: "api", b: 9, v: "z" });
    want(pp.a, 201, "POST pairs");
    const d = await ctx.api("DELETE", `/api/tables/notes/rows/${id}`);
    want(d.a, 204, "DELETE");
    await expectChanges(ctx.all, mark, [
      { table: "notes", op: "insert", pk: { id } },
      { table: "notes", op: "update", pk: { id } },
      { table: "pairs", op: "insert", pk: { a: "api", b: 9 } },
      { table: "notes", op: "delete", pk: { id } },
    ], dsid0, "own API writes");
  });

  test("own writes through HTML forms: create and update events", async () => {
    const mark = await ctx.mark();
    const c = await ctx.postForm("/t/notes/new", [["_dsid", dsid0], ["title", "via form"], ["body", ""], ["n", "4"]]);
    want(c, 303, "POST /t/notes/new");
    const id = Number((c.headers.location ?? "").split("/").pop());
    check(Number.isInteger(id) && id > 0, `location ${c.headers.location}`);
    const row = await ctx.api("GET", `/api/tables/notes/rows/${id}`);
    const u = await ctx.postForm(`/t/notes/r/${id}`, [["_dsid", dsid0], ["_version", row.j.version], ["title", "via form, edited"], ["body", "b"], ["n", "5"]]);
    want(u, 303, `POST /t/notes/r/${id}`);
    await expectChanges(ctx.all, mark, [
      { table: "notes", op: "insert", pk: { id } },
      { table: "notes", op: "update", pk: { id } },
    ], dsid0, "own form writes");
  });

  test("?table=T follows one table; /t/T/live sends nh-change for that table only", async () => {
    const one = await ctx.stream("/api/events?table=pairs");
    const page = await ctx.stream("/t/pairs/live");
    const mark = await ctx.mark();
    ctx.exec(`INSERT INTO notes (id, title) VALUES (11, 'not pairs')`);
    ctx.exec(`INSERT INTO pairs VALUES ('filter', 1, 'yes')`);
    ctx.exec(`INSERT INTO codes VALUES ('filter', 'no')`);
    await ctx.all.waitN(mark, 3, ["change"], "the three writes on the unfiltered stream");
    await one.waitN(0, 1, ["change"], "the pairs write on ?table=pairs");
    await page.waitN(0, 1, ["nh-change"], "the pairs write on /t/pairs/live");
    await sleep(300);
    const tables = one.since(0).map((e) => `${e.event}:${data(e).table}`);
    eq(tables, ["change:pairs"], "events on /api/events?table=pairs");
    eq(page.since(0).map((e) => e.event), ["nh-change"], "events on /t/pairs/live");
    const pd = framing(page.events[0], "/t/pairs/live");
    eq(pd.table, "pairs", "nh-change table");
    const allIns = ctx.all.since(mark, "change").find((e) => data(e).table === "pairs")!;
    eq(page.events[0].id, allIns.id, "the page stream and /api/events share ids");
    one.close();
    page.close();
  });

  test("Last-Event-ID and ?after= resume after a disconnect: exactly the missed events", async () => {
    const a = await ctx.stream("/api/events");
    let mark = ctx.all.events.length;
    ctx.exec(`INSERT INTO notes (id, title) VALUES (20, 'before the break')`);
    await a.waitN(0, 1, ["change"], "the first write");
    await ctx.all.waitN(mark, 1, ["change"], "the first write on the control stream");
    const lastSeen = a.lastId();
    a.close();
    await sleep(100);
    mark = ctx.all.events.length;
    ctx.exec(`UPDATE notes SET title = 'in the break' WHERE id = 20`);
    ctx.exec(`INSERT INTO pairs VALUES ('break', 1, NULL)`);
    const own = await ctx.api("POST", "/api/tables/codes/rows", { code: "break", label: "own" });
    want(own.a, 201, "own write during the break");
    ctx.exec(`DELETE FROM notes WHERE id = 20`);
    const missed = await ctx.all.waitN(mark, 4, ["change"], "the writes during the break on the control stream");
    await sleep(200);
    const wantEvents = ctx.all.since(mark).map((e) => `${e.id} ${e.event} ${e.data}`);
    eq(missed.length, 4, "writes during the break");

    const b = await ctx.stream("/api/events", { "last-event-id": lastSeen });
    await b.waitN(0, 4, ["change"], "the missed events after Last-Event-ID");
    await sleep(300);
    eq(b.since(0).map((e) => `${e.id} ${e.event} ${e.data}`), wantEvents, `events after Last-Event-ID: ${lastSeen}`);

    const c = await ctx.stream(`/api/events?after=${lastSeen}`);
    await c.waitN(0, 4, ["change"], "the missed events after ?after=");
    await sleep(300);
    eq(c.since(0).map((e) => `${e.id} ${e.event} ${e.data}`), wantEvents, `events after ?after=${lastSeen}`);

    // and both go on live, with no repeat
    mark = ctx.all.events.length;
    ctx.exec(`INSERT INTO notes (id, title) VALUES (21, 'after the break')`);
    const [live] = await ctx.all.waitN(mark, 1, ["change"], "the write after the break");
    await b.waitFor(4, (e) => e.id === live.id, "the write after the break on the resumed stream");
    await c.waitFor(4, (e) => e.id === live.id, "the write after the break on the ?after= stream");
    await sleep(200);
    eq(b.since(0).length, 5, "events on the resumed stream");
    b.close();
    c.close();
  });

  test("resume while writes keep coming: no gap, no repeat", async () => {
    // Reconnect several times while an outside writer keeps writing; the
    // events seen across the connections must be the control stream's.
    const mark = await ctx.mark();
    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing) {
        ctx.exec(`INSERT INTO loose (name, qty) VALUES ('churn', ${n++})`);
        await sleep(3);
      }
    })();
    const seen: SSEEvent[] = [];
    let last = ctx.all.lastId();
    for (let i = 0; i < 8; i++) {
      const s = await ctx.stream("/api/events", last ? { "last-event-id": last } : {});
      await sleep(40 + i * 15);
      s.close();
      seen.push(...s.events);
      if (s.lastId()) last = s.lastId();
    }
    writing = false;
    await writer;
    const s = await ctx.stream("/api/events", { "last-event-id": last });
    const total = n;
    await ctx.all.waitN(mark, total, ["change"], `${total} churn writes on the control stream`);
    const lastControl = ctx.all.events[ctx.all.events.length - 1].id;
    // The last reconnection may already have seen the last write: then the
    // final stream has nothing to send, and rightly so.
    if (last !== lastControl) await s.waitFor(0, (e) => e.id === lastControl, `the last churn write (${lastControl}) on the final stream resumed after ${last}`);
    else await sleep(200);
    s.close();
    seen.push(...s.events);
    const ids = seen.map((e) => e.id);
    const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
    check(dup.length === 0, `events seen twice across reconnects: ${dup.slice(0, 10).join(", ")}`);
    eq(seen.map((e) => `${e.id} ${e.data}`), ctx.all.since(mark).map((e) => `${e.id} ${e.data}`), "events across reconnects vs the control stream");
  });

  test("resume after 1500 missed events gives all 1500 (the log holds them)", async () => {
    const a = await ctx.stream("/api/events");
    ctx.exec(`INSERT INTO loose (name) VALUES ('mark')`);
    await a.waitN(0, 1, ["change"], "the mark write");
    const lastSeen = a.lastId();
    await ctx.all.waitFor(0, (e) => e.id === lastSeen, "the mark write on the control stream");
    a.close();
    const mark = await ctx.mark();
    ctx.exec("BEGIN");
    for (let i = 0; i < 1500; i++) ctx.out.prepare(`INSERT INTO loose (name, qty) VALUES ('many', ?)`).run(i);
    ctx.exec("COMMIT");
    await ctx.all.waitN(mark, 1500, ["change"], "1500 writes on the control stream", 30000);
    const wantIds = ctx.all.since(mark).map((e) => e.id);
    const b = await ctx.stream("/api/events", { "last-event-id": lastSeen });
    await b.until(() => b.events.some((e) => e.event === "reset") || b.since(0, "change").length >= 1500,
      "1500 events after Last-Event-ID", 30000);
    const reset = b.events.find((e) => e.event === "reset");
    check(!reset, `a reset instead of the 1500 missed events the log still holds (reset after ${b.since(0, "change").length} change events)`);
    await sleep(200);
    eq(b.since(0).map((e) => e.id), wantIds, "ids after Last-Event-ID");
    b.close();
  });

  test("30 concurrent PATCHes with the same _version: one 200, 29 409", async () => {
    const cur = await ctx.api("GET", "/api/tables/notes/rows/3");
    want(cur.a, 200, "GET notes/3");
    const mark = await ctx.mark();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      ctx.api("PATCH", "/api/tables/notes/rows/3", { title: `racer ${i}`, n: i, _version: cur.j.version })));
    const codes = answers.map((x) => x.a.status);
    const won = answers.filter((x) => x.a.status === 200);
    const lost = answers.filter((x) => x.a.status === 409);
    check(won.length === 1 && lost.length === 29, `statuses: ${JSON.stringify(codes.sort())}; bodies of others: ${answers.filter((x) => ![200, 409].includes(x.a.status)).map((x) => clip(x.a.text, 200)).slice(0, 3).join(" | ")}`);
    const winner = won[0].j;
    check(/^racer \d+$/.test(winner.row.title), `winner's row ${JSON.stringify(winner.row)}`);
    for (const l of lost) {
      check(l.j && typeof l.j.error === "string", `409 without error: ${clip(l.a.text)}`);
      eq(l.j.row?.title, winner.row.title, "a 409 carries the current row");
      eq(l.j.version, winner.version, "a 409 carries the current version");
    }
    const now = await ctx.api("GET", "/api/tables/notes/rows/3");
    eq(now.j.row, winner.row, "the row is the winner's");
    await ctx.all.waitN(mark, 1, ["change"], "the winning update");
    await sleep(400);
    eq(ctx.all.since(mark, "change").map((e) => { const d = data(e); return `${d.op} ${JSON.stringify(d.pk)}`; }), ['update {"id":3}'], "one update event");
  });

  test("a stalled SSE client does not hold back a fast one (2000 writes)", async () => {
    // Two clients that never read (an /api/events and a page stream of wide
    // rows, ~8 KB an event), two that read; 2000 outside writes at a steady
    // pace. The readers get every event, in order and on time. A reader is
    // allowed to resume by Last-Event-ID as EventSource does: on a loaded
    // machine even a reading client can fall 1 MiB behind and be closed,
    // which is the contract, not a failure; the count of resumes is printed.
    const N = 2000;
    const body = "w".repeat(4000);
    const stalledApi = await StalledClient.open(ctx.base, "/api/events");
    const stalledPage = await StalledClient.open(ctx.base, "/t/wide/live");
    const fastR = await ResumingSSE.open(ctx.base, "/api/events?table=wide");
    const fastPageR = await ResumingSSE.open(ctx.base, `/t/wide/live?after=${ctx.all.lastId() || "0"}`);
    const fast = fastR.all;
    const fastPage = fastPageR.all;
    const mark = await ctx.mark();
    const t0 = performance.now();
    const ins = ctx.out.prepare(`INSERT INTO wide (id, body) VALUES (?, ?)`);
    for (let i = 1; i <= N; i++) {
      ins.run(i, body);
      if (i % 25 === 0) await sleep(60);
    }
    const writeMs = performance.now() - t0;
    await fast.waitN(0, N, ["change"], `${N} change events on the fast client`, 60000);
    await fastPage.waitN(0, N, ["nh-change"], `${N} nh-change events on the fast page client`, 60000);
    const gotMs = performance.now() - t0;
    eq(fast.since(0, "change").map((e) => data(e).pk.id), Array.from({ length: N }, (_, i) => i + 1), "keys on the fast client, in order");
    eq(fastPage.since(0, "nh-change").map((e) => e.id), fast.since(0, "change").map((e) => e.id), "ids on the fast page client");
    const ping = await ctx.api("GET", "/api/tables/wide/rows?limit=1");
    want(ping.a, 200, "the server still answers");
    // What the stalled clients got must be a prefix of the events, with no gap;
    // one the server dropped comes back by id.
    const control = ctx.all.events.map((e) => `${e.id} ${e.event} ${e.data}`);
    const sa = await stalledApi.drain();
    const startA = sa.events.length ? control.indexOf(`${sa.events[0].id} ${sa.events[0].event} ${sa.events[0].data}`) : -1;
    check(sa.events.length === 0 || startA >= mark, `the stalled api client's first event is not one of the test's (${sa.events[0]?.id})`);
    eq(sa.events.map((e) => `${e.id} ${e.event} ${e.data}`), control.slice(startA, startA + sa.events.length), "the stalled api client's events");
    if (sa.closed || sa.events.length < N) {
      const lastId = sa.events.length ? sa.events[sa.events.length - 1].id : ctx.all.events[mark - 1]?.id ?? "0";
      const back = await ctx.stream("/api/events", { "last-event-id": lastId });
      const rest = control.slice(startA < 0 ? mark : startA + sa.events.length);
      await back.until(() => back.events.length >= rest.length || back.events.some((e) => e.event === "reset"),
        `${rest.length} events resuming the stalled api client`, 30000);
      check(!back.events.some((e) => e.event === "reset"), `resuming the stalled api client after ${lastId} answered reset (${rest.length} events behind)`);
      eq(back.events.slice(0, rest.length).map((e) => `${e.id} ${e.event} ${e.data}`), rest, "the stalled api client's resumed events");
      back.close();
    }
    const sp = await stalledPage.drain();
    const pageIds = fastPage.since(0).map((e) => e.id);
    eq(sp.events.map((e) => e.id), pageIds.slice(0, sp.events.length), "the stalled page client's events are a prefix, no gap");
    stalledApi.close();
    stalledPage.close();
    fastR.close();
    fastPageR.close();
    if (values.verbose || fastR.reconnects + fastPageR.reconnects > 0) {
      console.log(`        reading clients resumed ${fastR.reconnects} (api) and ${fastPageR.reconnects} (page) time(s)`);
    }
    if (values.verbose) {
      console.log(`        ${N} writes in ${writeMs.toFixed(0)} ms; fast clients had all after ${gotMs.toFixed(0)} ms; ` +
        `stalled api client: ${sa.events.length} events, ${sa.closed ? "dropped" : "open"}; ` +
        `stalled page client: ${sp.events.length} events (${(sp.raw / 1048576).toFixed(1)} MiB read), ${sp.closed ? "dropped" : "open"}`);
    }
  });

  test("a burst of 300 wide rows at once: a page client that gets closed catches up by Last-Event-ID", async () => {
    // One tick renders ~2.5 MB for the page stream, more than a host buffers
    // for one client (1 MiB). Closing it is allowed; what it missed must come
    // back when it reconnects as EventSource does, with no gap and no reset.
    // as a page does: the stream's URL carries ?after= the newest id when the page was made
    const page = await ResumingSSE.open(ctx.base, `/t/wide/live?after=${ctx.all.lastId() || "0"}`);
    const api = await ctx.stream("/api/events?table=wide");
    const body = "b".repeat(4000);
    ctx.exec("BEGIN");
    const ins = ctx.out.prepare(`INSERT INTO wide (id, body) VALUES (?, ?)`);
    for (let i = 1; i <= 300; i++) ins.run(5000 + i, body);
    ctx.exec("COMMIT");
    await api.waitN(0, 300, ["change"], "300 change events", 30000);
    await page.all.until(() => page.all.since(0, "nh-change").length >= 300 || page.all.events.some((e) => e.event === "reset"),
      "300 nh-change events across reconnects", 30000);
    check(!page.all.events.some((e) => e.event === "reset"), `a reset after ${page.reconnects} reconnect(s)`);
    await sleep(200);
    eq(page.all.since(0, "nh-change").map((e) => e.id), api.since(0, "change").map((e) => e.id), `page events across ${page.reconnects} reconnect(s)`);
    page.close();
    api.close();
    if (values.verbose) console.log(`        the page client reconnected ${page.reconnects} time(s)`);
  });

  // ---- schema changes from outside, and stale writes against each ----

  test("outside ADD COLUMN: schema event column-added, DSID moves, /api/schema follows", async () => {
    const mark = await ctx.mark();
    ctx.exec(`INSERT INTO people (id, name) VALUES (3, 'Cy')`); // capture is on for people
    await ctx.all.waitFor(mark, (e) => isChange(e, "people", "insert"), "an event for people");
    const st = await ddl(ctx, `ALTER TABLE people ADD COLUMN email TEXT`,
      [{ kind: "column-added", table: "people", column: "email" }], "ADD COLUMN");
    steps.add = st;
    const s = await schemaOf(ctx, "people");
    check("email" in s.properties, `/api/schema/people has no email: ${Object.keys(s.properties)}`);
    eq(s["x-dsid"], st.after, "x-dsid");
    // writes from now on carry the new DSID
    const m2 = await ctx.mark();
    ctx.exec(`UPDATE people SET email = 'ann@example.com' WHERE id = 1`);
    await expectChanges(ctx.all, m2, [{ table: "people", op: "update", pk: { id: 1 } }], st.after, "a write after ADD COLUMN");
  });

  test("stale write after ADD COLUMN: accepted, remapped reported", async () => {
    const st = steps.add;
    check(st, "needs the ADD COLUMN step");
    const c = await ctx.api("POST", "/api/tables/people/rows", { name: "Di", nick: "d", _dsid: st.before });
    want(c.a, 201, "stale POST");
    remappedOf(c.j, "stale POST", st.before, st.after);
    eq(c.j.row.email, null, "the new column");
    const p = await ctx.api("PATCH", `/api/tables/people/rows/${c.j.pk.id}`, { nick: "dee", _dsid: st.before });
    want(p.a, 200, "stale PATCH");
    remappedOf(p.j, "stale PATCH", st.before, st.after);
    eq(p.j.row.nick, "dee", "PATCHed value");
  });

  test("outside RENAME COLUMN: schema event column-renamed", async () => {
    steps.rename = await ddl(ctx, `ALTER TABLE people RENAME COLUMN nick TO handle`,
      [{ kind: "column-renamed", table: "people", from: "nick", column: "handle" }], "RENAME COLUMN");
    const s = await schemaOf(ctx, "people");
    check("handle" in s.properties && !("nick" in s.properties), `people's columns: ${Object.keys(s.properties)}`);
  });

  test("stale writes after RENAME COLUMN: the value lands in the renamed column", async () => {
    const st = steps.rename;
    check(st, "needs the RENAME COLUMN step");
    const c = await ctx.api("POST", "/api/tables/people/rows", { name: "Ed", nick: "eddie", _dsid: st.before });
    want(c.a, 201, "stale POST with the old column name");
    const r = remappedOf(c.j, "stale POST", st.before, st.after);
    eq(r.renamed, { nick: "handle" }, "remapped.renamed");
    eq(c.j.row.handle, "eddie", "the value under the new name");
    eq(ctx.rows(`SELECT handle FROM people WHERE id = ?`, c.j.pk.id)[0]?.handle, "eddie", "stored in the renamed column");
    const p = await ctx.api("PATCH", "/api/tables/people/rows/1", { nick: "ann-2", _dsid: st.before });
    want(p.a, 200, "stale PATCH with the old column name");
    eq(remappedOf(p.j, "stale PATCH", st.before, st.after).renamed, { nick: "handle" }, "remapped.renamed (PATCH)");
    eq(ctx.rows(`SELECT handle FROM people WHERE id = 1`)[0]?.handle, "ann-2", "PATCH stored in the renamed column");
    // a form made before the rename
    const f = await ctx.postForm("/t/people/new", [["_dsid", st.before], ["name", "Flo"], ["nick", "flo-form"], ["age", ""], ["fax", ""], ["email", ""]]);
    want(f, 303, "stale form POST");
    const fid = Number((f.headers.location ?? "").split("/").pop());
    eq(ctx.rows(`SELECT handle FROM people WHERE id = ?`, fid)[0]?.handle, "flo-form", "the form's value in the renamed column");
  });

  test("outside DROP COLUMN succeeds (triggers do not block it): column-dropped", async () => {
    steps.drop = await ddl(ctx, `ALTER TABLE people DROP COLUMN fax`,
      [{ kind: "column-dropped", table: "people", column: "fax" }], "DROP COLUMN on people");
    const s = await schemaOf(ctx, "people");
    check(!("fax" in s.properties), `people still has fax`);
    // a rowid table and a composite-key table too, each with its capture triggers
    await ddl(ctx, `ALTER TABLE loose DROP COLUMN qty`, [{ kind: "column-dropped", table: "loose", column: "qty" }], "DROP COLUMN on loose");
    await ddl(ctx, `ALTER TABLE pairs DROP COLUMN v`, [{ kind: "column-dropped", table: "pairs", column: "v" }], "DROP COLUMN on pairs");
    const mark = await ctx.mark();
    ctx.exec(`INSERT INTO people (id, name) VALUES (7, 'Gus')`);
    ctx.exec(`INSERT INTO pairs VALUES ('after drop', 1)`);
    await expectChanges(ctx.all, mark, [
      { table: "people", op: "insert", pk: { id: 7 } },
      { table: "pairs", op: "insert", pk: { a: "after drop", b: 1 } },
    ], null, "writes after DROP COLUMN");
  });

  test("stale writes after DROP COLUMN: the value is kept in _nakedhtmx_orphans and reported", async () => {
    const st = steps.drop;
    check(st, "needs the DROP COLUMN step");
    const c = await ctx.api("POST", "/api/tables/people/rows", { name: "Hal", fax: "555-0100", _dsid: st.before });
    want(c.a, 201, "stale POST with a dropped column");
    const now = await ctx.dsid();
    const r = remappedOf(c.j, "stale POST", st.before, now);
    eq(r.orphaned, { fax: "555-0100" }, "remapped.orphaned");
    check(!("fax" in c.j.row), "the row has no fax");
    check(orphan(ctx, "people", "fax", "555-0100", st.before), `no orphan kept for fax=555-0100: ${clip(JSON.stringify(ctx.rows(`SELECT * FROM "_nakedhtmx_orphans"`)))}`);
    const p = await ctx.api("PATCH", "/api/tables/people/rows/2", { name: "Bobby", fax: "555-0199", _dsid: st.before });
    want(p.a, 200, "stale PATCH with a dropped column");
    eq(remappedOf(p.j, "stale PATCH", st.before, now).orphaned, { fax: "555-0199" }, "remapped.orphaned (PATCH)");
    eq(p.j.row.name, "Bobby", "the rest of the PATCH applied");
    check(orphan(ctx, "people", "fax", "555-0199", st.before), "no orphan kept for the PATCH");
  });

  test("a stale write across three schema changes: renamed and dropped together", async () => {
    const first = steps.add?.before;
    check(first, "needs the earlier steps");
    const c = await ctx.api("POST", "/api/tables/people/rows", { name: "Ivy", nick: "ivy-old", fax: "999", _dsid: first });
    want(c.a, 201, "POST with the DSID from before ADD, RENAME and DROP");
    const r = remappedOf(c.j, "old POST", first, await ctx.dsid());
    eq(r.renamed, { nick: "handle" }, "remapped.renamed");
    eq(r.orphaned, { fax: "999" }, "remapped.orphaned");
    eq(c.j.row.handle, "ivy-old", "the value under the new name");
    check(orphan(ctx, "people", "fax", "999", first), "no orphan kept");
  });

  test("outside retype the SQLite way (new table, copy, drop, rename): column-retyped", async () => {
    const st = await ddl(ctx, `
      BEGIN;
      CREATE TABLE people_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, handle TEXT, age INTEGER, email TEXT);
      INSERT INTO people_new (id, name, handle, age, email) SELECT id, name, handle, CAST(age AS INTEGER), email FROM people;
      DROP TABLE people;
      ALTER TABLE people_new RENAME TO people;
      COMMIT;`, [{ kind: "column-retyped", table: "people", column: "age" }], "retype age TEXT -> INTEGER");
    steps.retype = st;
    const ch = st.changes[0];
    check(ch.was !== undefined && ch.is !== undefined && JSON.stringify(ch.was) !== JSON.stringify(ch.is),
      `column-retyped should say what it was and is: ${JSON.stringify(ch)}`);
    const s = await schemaOf(ctx, "people");
    const t = s.properties.age.type;
    check(t === "integer" || (Array.isArray(t) && t.includes("integer")), `age's type is ${JSON.stringify(t)}`);
    // the rebuilt table is captured again
    const mark = await ctx.mark();
    ctx.exec(`UPDATE people SET age = 41 WHERE id = 1`);
    await expectChanges(ctx.all, mark, [{ table: "people", op: "update", pk: { id: 1 } }], st.after, "a write to the rebuilt table");
  });

  test("stale writes after the retype: validated by the new type, remapped reported", async () => {
    const st = steps.retype;
    check(st, "needs the retype step");
    const ok = await ctx.api("POST", "/api/tables/people/rows", { name: "Jo", age: 33, _dsid: st.before });
    want(ok.a, 201, "stale POST with an integer age");
    remappedOf(ok.j, "stale POST", st.before, st.after);
    const bad = await ctx.api("POST", "/api/tables/people/rows", { name: "Kit", age: "old", _dsid: st.before });
    want(bad.a, 422, "stale POST with a text age");
    check(Array.isArray(bad.j.errors) && bad.j.errors.some((e: Json) => e.path === "/age"), `no error on /age: ${clip(bad.a.text)}`);
    remappedOf(bad.j, "the 422", st.before, st.after);
  });

  test("outside RENAME TABLE: table-renamed; a write in the same breath follows the rename", async () => {
    const before = await ctx.dsid();
    const mark = await ctx.mark();
    // no await in between: the insert lands before the host has seen the rename
    ctx.exec(`ALTER TABLE old_name RENAME TO new_name`);
    ctx.exec(`INSERT INTO new_name (id, v) VALUES (2, 'right after')`);
    const se = await ctx.all.waitFor(mark, (e) => e.event === "schema", "the schema event");
    const d = framing(se, "RENAME TABLE");
    eq(d.previous, before, "previous");
    eq(d.changes.map(changeKey), [changeKey({ kind: "table-renamed", table: "new_name", from: "old_name" })], "changes");
    steps.renameTable = { before, after: d.dsid, changes: d.changes, event: se };
    const ce = await ctx.all.waitFor(mark, (e) => e.event === "change", "the insert's event");
    const cd = framing(ce, "the insert");
    eq({ table: cd.table, op: cd.op, pk: cd.pk }, { table: "new_name", op: "insert", pk: { id: 2 } }, "the insert right after the rename");
    const all = (await ctx.api("GET", "/api/schema")).j;
    eq(all.dsid, d.dsid, "/api/schema dsid");
    check("new_name" in all.tables && !("old_name" in all.tables), `tables: ${Object.keys(all.tables)}`);
    const m2 = await ctx.mark();
    ctx.exec(`UPDATE new_name SET v = 'later' WHERE id = 1`);
    await expectChanges(ctx.all, m2, [{ table: "new_name", op: "update", pk: { id: 1 } }], d.dsid, "a later write to the renamed table");
  });

  test("stale write after RENAME TABLE, to the table's new path: accepted, remapped", async () => {
    const st = steps.renameTable;
    check(st, "needs the RENAME TABLE step");
    const c = await ctx.api("POST", "/api/tables/new_name/rows", { v: "stale", _dsid: st.before });
    want(c.a, 201, "stale POST to the renamed table");
    remappedOf(c.j, "stale POST", st.before, st.after);
  });

  test("outside CREATE TABLE: table-added, and the new table is captured", async () => {
    const st = await ddl(ctx, `CREATE TABLE fresh (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`,
      [{ kind: "table-added", table: "fresh" }], "CREATE TABLE");
    steps.create = st;
    const all = (await ctx.api("GET", "/api/schema")).j;
    check("fresh" in all.tables, "fresh is not in /api/schema");
    const mark = await ctx.mark();
    ctx.exec(`INSERT INTO fresh VALUES (1, 'new')`);
    await expectChanges(ctx.all, mark, [{ table: "fresh", op: "insert", pk: { id: 1 } }], st.after, "a write to the new table");
    const c = await ctx.api("POST", "/api/tables/notes/rows", { title: "stale, other table", _dsid: st.before });
    want(c.a, 201, "stale POST to another table");
    remappedOf(c.j, "stale POST", st.before, st.after);
  });

  test("outside DROP TABLE: table-dropped; a stale write to it is 404", async () => {
    const st = await ddl(ctx, `DROP TABLE doomed`, [{ kind: "table-dropped", table: "doomed" }], "DROP TABLE");
    const all = (await ctx.api("GET", "/api/schema")).j;
    check(!("doomed" in all.tables), "doomed is still in /api/schema");
    const c = await ctx.api("POST", "/api/tables/doomed/rows", { v: "too late", _dsid: st.before });
    want(c.a, 404, "stale POST to a dropped table");
  });

  test("hostile names from outside: created, written, announced, exported and extended, exact and escaped", async () => {
    const T1 = `<script>alert("t")</script>\n🎉 עברית; [x] \`y\` 'z'`;
    const C1 = `<img src=x onerror=alert(1)>\n"q" ; -- 🎉`;
    const C2 = `שם "ב" <b>`;
    const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const st = await ddl(ctx, `CREATE TABLE ${q(T1)} (${q(C1)} TEXT PRIMARY KEY, ${q(C2)} TEXT)`,
      [{ kind: "table-added", table: T1 }], "CREATE TABLE with a hostile name");
    const page = await ctx.stream(`/t/${enc(T1)}/live`);
    const mark = await ctx.mark();
    const k1 = `<k>&"1" \u202e`, k2 = "k2\n'", k3 = "k3 🎉 ;--";
    ctx.out.prepare(`INSERT INTO ${q(T1)} VALUES (?, ?)`).run(k1, "v<1>");
    const c = await ctx.api("POST", `/api/tables/${enc(T1)}/rows`, { [C1]: k2, [C2]: "</textarea><script>alert(2)</script>" });
    want(c.a, 201, "POST to the hostile table");
    eq(c.j.pk, { [C1]: k2 }, "pk names the hostile column");
    const f = await ctx.postForm(`/t/${enc(T1)}/new`, [["_dsid", st.after], [C1, k3], [C2, "<svg/onload=alert(3)>"]]);
    want(f, 303, "form POST to the hostile table");
    await expectChanges(ctx.all, mark, [k1, k2, k3].map((k) => ({ table: T1, op: "insert" as const, pk: { [C1]: k } })),
      st.after, "writes to the hostile table");
    const frags = await page.waitN(0, 3, ["nh-change"], "three row fragments on the table's page stream");
    for (const e of frags) {
      const problems = escapingProblems(e.data);
      check(problems.length === 0, `a page-stream fragment is not escaped: ${problems.join("; ")}`);
    }
    page.close();
    const csv = await request(ctx.base, "GET", `/api/tables/${enc(T1)}/rows.csv`);
    want(csv, 200, "CSV of the hostile table");
    const recs = parseCSV(csv.text);
    eq(recs[0], [C1, C2], "CSV header: the column names exactly");
    eq(recs.slice(1).map((r) => r[0]).sort(), [k1, k2, k3].sort(), "CSV keys exactly");
    for (const path of ["/", `/t/${enc(T1)}`, `/t/${enc(T1)}/new`, `/t/${enc(T1)}/r/${enc(k1)}`, `/t/${enc(T1)}/r/${enc(k2)}`]) {
      const a = await request(ctx.base, "GET", path, { headers: { accept: "text/html" } });
      want(a, 200, `GET ${path}`);
      const problems = escapingProblems(a.text);
      check(problems.length === 0, `GET ${path}: ${problems.join("; ")}`);
      if (path !== "/") check(a.text.includes("&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;"), `GET ${path}: the table name is not shown escaped`);
    }
    const C3 = `new <col>\n"🎉" ${"\u05e9"}`;
    const st2 = await ddl(ctx, `ALTER TABLE ${q(T1)} ADD COLUMN ${q(C3)} TEXT`,
      [{ kind: "column-added", table: T1, column: C3 }], "ADD COLUMN with a hostile name");
    const form = await request(ctx.base, "GET", `/t/${enc(T1)}/new`, { headers: { accept: "text/html" } });
    const names = fieldNames(forms(form.text).find((x) => x.method === "post")!);
    check(names.has(C3) && names.has(C1) && names.has(C2), `the form's fields: ${[...names].map((n) => JSON.stringify(n)).join(", ")}`);
    const stale = await ctx.api("POST", `/api/tables/${enc(T1)}/rows`, { [C1]: "k4", [C2]: "stale", _dsid: st.after });
    want(stale.a, 201, "a write against the DSID before the hostile column");
    remappedOf(stale.j, "the stale write", st.after, st2.after);
    const fresh = await ctx.api("POST", `/api/tables/${enc(T1)}/rows`, { [C1]: "k5", [C3]: "into the new column" });
    want(fresh.a, 201, "a write to the hostile new column");
    eq(ctx.rows(`SELECT ${q(C3)} AS v FROM ${q(T1)} WHERE ${q(C1)} = 'k5'`)[0]?.v, "into the new column", "stored in the new column");
  });

  test("a NOT NULL column without default added (by rebuild): stale write is 422 and still reports remapped", async () => {
    const st = await ddl(ctx, `
      BEGIN;
      CREATE TABLE tasks_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL, owner TEXT NOT NULL);
      INSERT INTO tasks_new SELECT id, title, 'nobody' FROM tasks;
      DROP TABLE tasks;
      ALTER TABLE tasks_new RENAME TO tasks;
      COMMIT;`, [{ kind: "column-added", table: "tasks", column: "owner" }], "adding owner NOT NULL");
    const s = await schemaOf(ctx, "tasks");
    check(Array.isArray(s.required) && s.required.includes("owner"), `owner is not required: ${JSON.stringify(s.required)}`);
    const c = await ctx.api("POST", "/api/tables/tasks/rows", { title: "stale task", _dsid: st.before });
    want(c.a, 422, "stale POST without the new required column");
    check(Array.isArray(c.j.errors) && c.j.errors.some((e: Json) => e.path === "/owner"), `no error on /owner: ${clip(c.a.text)}`);
    remappedOf(c.j, "the 422", st.before, st.after);
    const f = await ctx.postForm("/t/tasks/new", [["_dsid", st.before], ["title", "stale form task"]]);
    want(f, 422, "stale form without the new required column");
    check(f.text.includes("stale form task"), "the 422 form lost the typed title");
  });

  test("the page stream gets nh-schema for a change to any table", async () => {
    const page = await ctx.stream("/t/notes/live");
    const mark = await ctx.mark();
    ctx.exec(`ALTER TABLE spare DROP COLUMN gone`);
    const se = await ctx.all.waitFor(mark, (e) => e.event === "schema", "the schema event");
    const pe = await page.waitFor(0, (e) => e.event === "nh-schema", "nh-schema on /t/notes/live");
    eq(pe.id, se.id, "same id on both streams");
    eq(data(pe).dsid, data(se).dsid, "same dsid");
    page.close();
  });

  test("resume across a schema change: the backlog has the schema event and the changes in id order", async () => {
    const a = await ctx.stream("/api/events");
    ctx.exec(`INSERT INTO notes (id, title) VALUES (30, 'before')`);
    await a.waitN(0, 1, ["change"], "the first write");
    const last = a.lastId();
    await ctx.all.waitFor(0, (e) => e.id === last, "the first write on the control stream");
    a.close();
    const mark = await ctx.mark();
    ctx.exec(`ALTER TABLE notes ADD COLUMN tag TEXT`);
    await ctx.all.waitFor(mark, (e) => e.event === "schema", "the schema event");
    ctx.exec(`UPDATE notes SET tag = 't' WHERE id = 30`);
    await ctx.all.waitFor(mark, (e) => e.event === "change", "the write after it");
    await sleep(200);
    const wantEvents = ctx.all.since(mark).map((e) => `${e.id} ${e.event} ${e.data}`);
    const b = await ctx.stream("/api/events", { "last-event-id": last });
    await b.waitN(0, wantEvents.length, [], `the backlog (want: ${wantEvents.map((e) => e.split(" ").slice(0, 2).join(" ")).join(", ")})`);
    await sleep(200);
    eq(b.since(0).map((e) => `${e.id} ${e.event} ${e.data}`), wantEvents, "backlog after Last-Event-ID");
    b.close();
  });

  test("two hosts on different runtimes share the file: each sees the other's writes, one schema event", async () => {
    const partner = (values.partner ?? PARTNER[ctx.host]) as HostName;
    let other: Server | null = null;
    try {
      const hc = prepareHost(partner, ctx.tmp);
      other = await startServer(hc, ["--db", ctx.db, "--port", "0", "--host", "127.0.0.1"]);
      eq(await ctx.dsid(other.url), await ctx.dsid(), `${partner}'s DSID`);
      const here = await ctx.stream("/api/events");
      const there = await ctx.stream("/api/events", {}, other.url);
      // a write through this host appears on the partner
      const c = await ctx.api("POST", "/api/tables/notes/rows", { title: `through ${ctx.host}` });
      want(c.a, 201, `POST through ${ctx.host}`);
      const pk = c.j.pk;
      const e1 = await there.waitFor(0, (e) => isChange(e, "notes", "insert", pk), `${ctx.host}'s insert on ${partner}'s /api/events`);
      const h1 = await here.waitFor(0, (e) => isChange(e, "notes", "insert", pk), `${ctx.host}'s insert on its own stream`);
      eq(e1.id, h1.id, "same id on both hosts");
      eq(data(e1).dsid, data(h1).dsid, "same dsid on both hosts");
      // and the other way round
      const p = await ctx.api("PATCH", `/api/tables/notes/rows/${pk.id}`, { title: `through ${partner}` }, other.url);
      want(p.a, 200, `PATCH through ${partner}`);
      const h2 = await here.waitFor(0, (e) => isChange(e, "notes", "update", pk), `${partner}'s update on ${ctx.host}'s /api/events`);
      const e2 = await there.waitFor(0, (e) => isChange(e, "notes", "update", pk), `${partner}'s update on its own stream`);
      eq(h2.id, e2.id, "same id on both hosts");
      eq((await ctx.api("GET", `/api/tables/notes/rows/${pk.id}`)).j.row.title, `through ${partner}`, "the row as this host reads it");
      // an outside schema change: one schema event, the same on both
      ctx.exec(`ALTER TABLE quiet ADD COLUMN y TEXT`);
      const s1 = await here.waitFor(0, (e) => e.event === "schema", `the schema event on ${ctx.host}`);
      const s2 = await there.waitFor(0, (e) => e.event === "schema", `the schema event on ${partner}`);
      await sleep(700);
      eq(here.since(0, "schema").length, 1, `schema events on ${ctx.host}`);
      eq(there.since(0, "schema").length, 1, `schema events on ${partner}`);
      eq(s2.id, s1.id, "same schema event id");
      eq(s2.data, s1.data, "same schema event data");
      eq(await ctx.dsid(other.url), await ctx.dsid(), "both hosts' DSIDs after the change");
      // every event either saw, the other saw with the same id and data
      await sleep(300);
      eq(there.since(0).map((e) => `${e.id} ${e.event} ${e.data}`), here.since(0).map((e) => `${e.id} ${e.event} ${e.data}`), "both streams");
      here.close();
      there.close();
    } finally {
      const code = await other?.stop();
      if (other && code !== 0) console.log(`        (${partner} exited with ${code}: ${clip(other.stderr().trim(), 400)})`);
    }
  });

  test("a Last-Event-ID the log no longer holds answers event: reset", async () => {
    // its own server: a config that keeps 200 log rows; the writes are paced
    // so that every tick has read what it prunes
    const db = join(ctx.tmp, "reset.db");
    const cfg = join(ctx.tmp, "reset.json");
    writeFileSync(cfg, JSON.stringify({ changeLog: { maxRows: 200 } }));
    const d = openDB(db);
    d.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`);
    d.close();
    const srv = await startServer(ctx.hc, ["--db", db, "--port", "0", "--host", "127.0.0.1", "--config", cfg]);
    const w = openOutside(db);
    try {
      const s = await SSE.open(srv.url, "/api/events");
      const ins = w.prepare(`INSERT INTO t (v) VALUES (?)`);
      for (let i = 0; i < 1200; i++) {
        ins.run(`v${i}`);
        if (i % 50 === 49) await sleep(60);
      }
      await s.waitN(0, 1200, ["change"], "1200 change events", 30000);
      const first = s.events[0].id;
      const last = s.lastId();
      s.close();
      const r = await SSE.open(srv.url, "/api/events", { "last-event-id": first });
      await r.waitFor(0, () => true, "an answer to an id long pruned");
      await sleep(300);
      check(r.events[0].event === "reset", `first event after a pruned id is ${r.events[0].event}#${r.events[0].id}, want reset`);
      check(!r.events.some((e) => e.event === "change" && Number(e.id) <= Number(first) + 1000),
        "change events from the pruned part of the log were sent");
      r.close();
      // an id the log still holds resumes normally
      const back = String(Number(last) - 5);
      const ok = await SSE.open(srv.url, "/api/events", { "last-event-id": back });
      await ok.waitN(0, 5, ["change"], "the 5 newest events");
      await sleep(200);
      eq(ok.events.map((e) => e.event + "#" + e.id), Array.from({ length: 5 }, (_, i) => `change#${Number(back) + i + 1}`), "resume from a held id");
      ok.close();
    } finally {
      w.close();
      await srv.stop();
    }
  });

  test("a quiet stream gets ': keep-alive' comments (every 15 s)", async () => {
    const waited = performance.now() - ctx.quietOpened;
    await ctx.quiet.until(() => ctx.quiet.comments.length > 0, "a comment line", Math.max(1000, 17000 - waited));
    check(!ctx.quiet.ended, "the quiet stream ended");
  });

  test("every event on the long-lived stream: one id sequence, seq = id, well-formed", async () => {
    const es = ctx.all.events;
    if (!values.only) check(es.length > 3500, `only ${es.length} events`);
    let last = 0;
    for (const e of es) {
      const d = framing(e, "the long-lived stream");
      check(Number(e.id) > last, `id ${e.id} after ${last}`);
      last = Number(e.id);
      if (e.event === "change") {
        check(["insert", "update", "delete"].includes(d.op), `op ${d.op}`);
        check(d.pk && typeof d.pk === "object" && !Array.isArray(d.pk), `pk ${JSON.stringify(d.pk)}`);
        check(typeof d.table === "string" && !d.table.startsWith("_nakedhtmx_"), `table ${d.table}`);
        check(typeof d.dsid === "string" && d.dsid !== "", `dsid ${d.dsid}`);
      } else {
        eq(e.event, "schema", "event kind");
        check(typeof d.dsid === "string" && typeof d.previous === "string" && Array.isArray(d.changes), `schema event ${e.data}`);
      }
    }
    check(!es.some((e) => e.data.includes("_nakedhtmx_")), "an event names a _nakedhtmx_ object");
  });

  test("SIGTERM with open streams: the streams end and the host exits 0", async () => {
    const s1 = await ctx.stream("/api/events");
    const s2 = await ctx.stream("/t/notes/live");
    const t0 = performance.now();
    const code = await ctx.server.stop("SIGTERM");
    const ms = performance.now() - t0;
    eq(code, 0, `exit code (after ${ms.toFixed(0)} ms)`);
    check(ms < 9000, `took ${ms.toFixed(0)} ms to exit`);
    await s1.until(() => s1.ended, "the api stream to end", 2000);
    await s2.until(() => s2.ended, "the page stream to end", 2000);
  });

  return T;
}

async function runHost(host: HostName): Promise<Result[]> {
  const tmp = mkdtempSync(join(tmpdir(), `nakedhtmx-live-${host}-`));
  const log = (s: string) => { if (values.verbose || !s.startsWith("  ok")) console.log(s); };
  const results: Result[] = [];
  const fail = (name: string, e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    results.push({ name, ok: false, error: msg, ms: 0 });
    console.log(`  FAIL  ${name}\n        ${msg.replace(/\n/g, "\n        ")}`);
  };
  console.log(`live(${host}): preparing`);
  const stale = staleBuild(host);
  if (stale) console.log(`live(${host}): warning: ${stale}`);
  let ctx: LiveCtx | null = null;
  try {
    let hc: HostCommand;
    try {
      hc = prepareHost(host, tmp);
    } catch (e) {
      fail(`${host} host builds`, e);
      return results;
    }
    const db = join(tmp, "live.db");
    const d = openDB(db);
    d.exec(LIVE_SCHEMA);
    d.close();
    let server: Server;
    try {
      server = await startServer(hc, ["--db", db, "--port", "0", "--host", "127.0.0.1"]);
    } catch (e) {
      fail(`${host} host starts`, e);
      return results;
    }
    running.add(server);
    console.log(`live(${host}): serving ${server.url}`);
    ctx = new LiveCtx(host, hc, tmp, db, server);
    let tests = liveTests(ctx);
    if (values.only) tests = tests.filter((t) => t.name.includes(values.only!) || t.name.startsWith("GET /api/events is"));
    try {
      results.push(...await runTests(tests, log));
    } finally {
      ctx.close();
      running.delete(server);
      const errs = server.stderr().trim();
      await server.stop("SIGKILL");
      if (errs && results.some((r) => !r.ok)) console.log(`live(${host}): host stderr (last lines):\n${errs.split("\n").slice(-15).join("\n")}`);
    }
  } finally {
    if (!values.keep) rmSync(tmp, { recursive: true, force: true });
    else console.log(`live(${host}): kept ${tmp}`);
  }
  return results;
}

function report(name: string, results: Result[]): boolean {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.filter((r) => !r.ok).length;
  if (failed > 0) {
    console.log(`failed on ${name}:`);
    for (const r of results.filter((r) => !r.ok)) console.log(`  - ${r.name}`);
  }
  console.log(`${name}: ${passed} passed, ${failed} failed`);
  return failed === 0;
}

const running = new Set<Server>();
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    for (const s of running) s.proc.kill("SIGKILL");
    process.exit(130);
  });
}

if (!values.host) {
  console.error("usage: node tests/http/live.ts --host go|wasm|deno|bun|node|all [--partner HOST] [--only TEXT] [--verbose] [--keep]");
  process.exit(2);
}
const list = values.host === "all" ? [...HOSTS] : values.host.split(",");
for (const h of [...list, ...(values.partner ? [values.partner] : [])]) {
  if (!(HOSTS as readonly string[]).includes(h)) {
    console.error(`unknown host ${h}; want one of ${HOSTS.join(", ")}`);
    process.exit(2);
  }
}
let ok = true;
const every: Result[] = [];
for (const h of list) {
  const r = await runHost(h as HostName);
  every.push(...r);
  ok = report(`live(${h})`, r) && ok;
}
if (list.length > 1) ok = report("live(all)", every) && ok;
process.exit(ok ? 0 : 1);
