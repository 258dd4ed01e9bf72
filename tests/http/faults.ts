// Faults and races, on every host, each on a server and database of its own
// (so the recorded answers that --compare checks are not disturbed):
// simultaneous edits of one row, writers while the schema changes, another
// process holding the write lock, a read-only file, a full disk, and kill -9
// in the middle of a write load.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Answer, formBody, request } from "./client.ts";
import { openDB } from "./fixture.ts";
import { check, clip, eq, Failure, Skip, type Test } from "./harness.ts";
import { descendants, type HostCommand, type Server, startServer } from "./hosts.ts";

const json = { "content-type": "application/json", accept: "application/json" };

export function faultTests(hc: HostCommand, tmp: string, running: Set<Server>): Test[] {
  const T: Test[] = [];
  const test = (name: string, fn: () => Promise<void>) => T.push({ name, fn });
  let n = 0;

  /** A server of its own on a fresh file made from schema. */
  async function serve(schema: string): Promise<{ server: Server; file: string }> {
    const file = join(tmp, `faults-${n++}.db`);
    const db = openDB(file);
    db.exec(schema);
    db.close();
    const server = await startServer(hc, ["--db", file, "--port", "0", "--host", "127.0.0.1"]);
    running.add(server);
    return { server, file };
  }
  async function stop(server: Server): Promise<void> {
    running.delete(server);
    await server.stop("SIGKILL");
  }

  test("30 simultaneous edits of one row with the same version: exactly one applied, the rest 409", async () => {
    const { server, file } = await serve("CREATE TABLE race (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO race VALUES (1, 'start');");
    try {
      await simultaneousEdits(server, () => {
        const db = openDB(file, true);
        try {
          return (db.prepare("SELECT v FROM race WHERE id = 1").get() as { v: string }).v;
        } finally {
          db.close();
        }
      });
    } finally {
      await stop(server);
    }
  });

  test("writers while the schema changes: every write applied to the right column or refused, none half-applied", async () => {
    const { server, file } = await serve("CREATE TABLE w (id INTEGER PRIMARY KEY, a TEXT NOT NULL UNIQUE, b TEXT);");
    const { DatabaseSync } = process.getBuiltinModule("node:sqlite") as typeof import("node:sqlite");
    const out = new DatabaseSync(file, { timeout: 10000 });
    try {
      await writersWhileSchemaChanges(server, [
        `ALTER TABLE w ADD COLUMN c TEXT`,
        `ALTER TABLE w RENAME COLUMN b TO b2`,
        `ALTER TABLE w DROP COLUMN c`,
        // a retype the SQLite way, in one transaction
        `BEGIN; CREATE TABLE w_new (id INTEGER PRIMARY KEY, a TEXT NOT NULL UNIQUE, b2 TEXT, d INTEGER NOT NULL DEFAULT 0);
         INSERT INTO w_new (id, a, b2) SELECT id, a, b2 FROM w; DROP TABLE w; ALTER TABLE w_new RENAME TO w; COMMIT`,
        `ALTER TABLE w RENAME COLUMN b2 TO b`,
      ], (sql) => out.exec(sql), () => out.prepare("SELECT id, a, b FROM w").all() as unknown as WRow[]);
      eq((out.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check, "ok", "integrity_check");
    } finally {
      out.close();
      await stop(server);
    }
  });

  test("another process holds the write lock: the write waits, then 503 with nothing written; afterwards it succeeds", async () => {
    const { server, file } = await serve("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);");
    const other = openDB(file);
    try {
      other.exec("BEGIN IMMEDIATE");
      const t0 = performance.now();
      const held = (async () => {
        await sleep(7000); // longer than the hosts' 5 s busy timeout
        other.exec("COMMIT");
      })();
      const res = await api(server, "POST", "/api/tables/t/rows", { v: "while locked" });
      const waited = performance.now() - t0;
      eq(res.status, 503, `a write under another process's lock: ${clip(res.text)}`);
      check(/busy/i.test(res.text), `the answer says the database is busy: ${clip(res.text)}`);
      check(waited > 1000, `it waited for the lock first (${waited.toFixed(0)} ms)`);
      await held;
      const rows = (other.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n;
      eq(rows, 0, "nothing was written");
      const again = await api(server, "POST", "/api/tables/t/rows", { v: "after the lock" });
      eq(again.status, 201, `the same write once the lock is gone: ${clip(again.text)}`);
      const r = await api(server, "GET", "/api/tables/t/rows");
      check(r.text.includes("after the lock") && !r.text.includes("while locked"), `the rows: ${clip(r.text)}`);
    } finally {
      try {
        other.exec("ROLLBACK");
      } catch {
        // committed already
      }
      other.close();
      await stop(server);
    }
  });

  test("a read-only file: pages and the API read, writes answer 503 read-only, the file is unchanged", async () => {
    for (const seen of [true, false]) {
      const what = seen ? "a file nakedhtmx has served before" : "a file nakedhtmx has never seen";
      const file = join(tmp, `readonly-${n++}.db`);
      const db = openDB(file);
      db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL); INSERT INTO t VALUES (1, 'one');");
      db.close();
      if (seen) {
        const first = await startServer(hc, ["--db", file, "--port", "0", "--host", "127.0.0.1"]);
        const a = await api(first, "POST", "/api/tables/t/rows", { v: "two" });
        eq(a.status, 201, `${what}: a write before it became read-only`);
        eq(await first.stop("SIGTERM"), 0, "a clean stop");
      }
      const undo = makeReadOnly(file);
      if (!undo) throw new Skip("cannot make a file read-only here (neither permissions nor chattr +i hold)");
      let server: Server | null = null;
      try {
        const sum = digest(file);
        server = await startServer(hc, ["--db", file, "--port", "0", "--host", "127.0.0.1"]);
        running.add(server);
        const list = await api(server, "GET", "/api/tables/t/rows");
        eq(list.status, 200, `${what}: GET rows`);
        eq(JSON.parse(list.text).rows.map((r: { v: string }) => r.v), seen ? ["one", "two"] : ["one"], `${what}: the rows`);
        const page = await request(server.url, "GET", "/t/t/r/1", { headers: { accept: "text/html" } });
        eq(page.status, 200, `${what}: the row page`);
        check(page.text.includes("one"), `${what}: the row page shows the row`);
        for (const [method, path, body] of [["POST", "/api/tables/t/rows", { v: "three" }], ["PATCH", "/api/tables/t/rows/1", { v: "uno" }],
          ["DELETE", "/api/tables/t/rows/1", undefined]] as const) {
          const a = await api(server, method, path, body);
          eq(a.status, 503, `${what}: ${method} ${path}: ${clip(a.text)}`);
          check(/read-only/.test(JSON.parse(a.text).error), `${what}: the error says read-only: ${clip(a.text)}`);
        }
        const dsid = JSON.parse(list.text).dsid as string;
        const form = await request(server.url, "POST", "/t/t/new", {
          headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded" },
          body: formBody([["_dsid", dsid], ["v", "typed"]]),
        });
        eq(form.status, 503, `${what}: a form write`);
        check(/read-only/.test(form.text), `${what}: the page says read-only`);
        running.delete(server);
        eq(await server.stop("SIGTERM"), 0, `${what}: exit code`);
        server = null;
        eq(digest(file), sum, `${what}: the file is unchanged`);
      } finally {
        if (server) await stop(server);
        undo();
      }
    }
  });

  test("a full disk: writes answer 507 with nothing half-written, reads go on, writes resume once space is freed", async () => {
    const dir = join(tmp, `full-${n++}`);
    mkdirSync(dir);
    // A 3 MiB tmpfs of the server's own, in a mount namespace of its own
    // (unshare -r: no privileges needed where user namespaces are allowed);
    // a 1 MiB ballast file is the space the test frees later.
    const mount = `mount -t tmpfs -o size=3m nakedhtmx-full "$NH_DIR"`;
    const probe = spawnSync("unshare", ["-rm", "--propagation", "private", "sh", "-c", mount], { env: { ...process.env, NH_DIR: dir } });
    if (probe.status !== 0) throw new Skip(`cannot mount a small tmpfs here (unshare -rm): ${String(probe.stderr).trim()}`);
    const seed = join(tmp, `full-seed-${n++}.db`);
    const db = openDB(seed);
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);");
    db.close();
    const wrapped: HostCommand = {
      cmd: "unshare",
      args: ["-rm", "--propagation", "private", "sh", "-c",
        `${mount} && cp "$NH_SEED" "$NH_DIR/full.db" && head -c 1048576 /dev/zero > "$NH_DIR/ballast" && exec "$@"`,
        "sh", hc.cmd, ...hc.args],
      cwd: hc.cwd,
      env: { ...hc.env, NH_DIR: dir, NH_SEED: seed },
    };
    const server = await startServer(wrapped, ["--db", join(dir, "full.db"), "--port", "0", "--host", "127.0.0.1"]);
    running.add(server);
    const inside = `/proc/${server.proc.pid}/root${dir}`; // the server's view of its tmpfs
    try {
      const acked: number[] = [];
      let full: Answer | null = null;
      for (let i = 0; i < 1000 && !full; i++) {
        const a = await api(server, "POST", "/api/tables/t/rows", { v: `${i}:${"x".repeat(16 * 1024)}` });
        if (a.status === 201) acked.push(JSON.parse(a.text).pk.id);
        else if (a.status === 507) full = a;
        else throw new Failure(`write ${i}: status ${a.status}, want 201 or 507: ${clip(a.text)}`);
      }
      check(full !== null, "the disk never filled up");
      check(/disk is full/.test(JSON.parse(full.text).error), `the error says the disk is full: ${clip(full.text)}`);
      check(acked.length > 20, `only ${acked.length} writes fit before the disk was full`);
      for (let i = 0; i < 3; i++) {
        const a = await api(server, "POST", "/api/tables/t/rows", { v: `full:${"x".repeat(16 * 1024)}` });
        eq(a.status, 507, `the same write while the disk stays full: ${clip(a.text)}`);
      }
      const read = await api(server, "GET", "/api/tables/t/rows?limit=5");
      eq(read.status, 200, "reads go on while the disk is full");
      const page = await request(server.url, "GET", "/t/t", { headers: { accept: "text/html" } });
      eq(page.status, 200, "pages too");
      // A copy of what is on the server's disk now (the server is idle): SQLite
      // resolves /proc/PID/root to this process's own root, so it cannot open
      // the file in place.
      const copy = join(tmp, `full-copy-${n++}`);
      mkdirSync(copy);
      for (const f of ["full.db", "full.db-wal"]) {
        if (existsSync(`${inside}/${f}`)) copyFileSync(`${inside}/${f}`, join(copy, f));
      }
      const look = openDB(join(copy, "full.db"));
      try {
        const ids = (look.prepare("SELECT id FROM t ORDER BY id").all() as { id: number }[]).map((r) => r.id);
        eq(ids, [...acked].sort((a, b) => a - b), "the table holds exactly the acknowledged writes");
        eq((look.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check, "ok", "integrity_check");
      } finally {
        look.close();
      }
      rmSync(`${inside}/ballast`);
      const again = await api(server, "POST", "/api/tables/t/rows", { v: `freed:${"x".repeat(16 * 1024)}` });
      eq(again.status, 201, `the same write once space is freed, same process: ${clip(again.text)}`);
    } finally {
      await stop(server);
    }
  });

  test("kill -9 under write load: every acknowledged write is in the file, it is intact, and the server restarts", async () => {
    const { server, file } = await serve("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);");
    const acked: string[] = [];
    let next = 0;
    let killed = false;
    const workers = Array.from({ length: 8 }, async () => {
      while (!killed && next < 2000) {
        const v = `w${next++}`;
        const a = await api(server, "POST", "/api/tables/t/rows", { v }).catch(() => null);
        if (a?.status === 201) acked.push(v);
      }
    });
    while (acked.length < 150) await sleep(5);
    killed = true;
    // SIGKILL in the middle of the load, to the server itself: on Node 22.12
    // the launcher runs it as a child (with --experimental-sqlite), and a
    // killed launcher only makes the child stop gracefully.
    for (const pid of descendants(server.proc.pid!)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    await stop(server);
    await Promise.all(workers);
    const db = openDB(file);
    try {
      eq((db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check, "ok", "integrity_check");
      const have = new Set((db.prepare("SELECT v FROM t").all() as { v: string }[]).map((r) => r.v));
      const lost = acked.filter((v) => !have.has(v));
      eq(lost.length, 0, `acknowledged writes missing from the file: ${lost.slice(0, 5).join(", ")} (of ${acked.length})`);
    } finally {
      db.close();
    }
    const again = await startServer(hc, ["--db", file, "--port", "0", "--host", "127.0.0.1"]);
    running.add(again);
    try {
      const r = await api(again, "POST", "/api/tables/t/rows", { v: "after the restart" });
      eq(r.status, 201, `a write after the restart: ${clip(r.text)}`);
    } finally {
      await stop(again);
    }
  });

  return T;
}

/**
 * Makes a file unwritable for everyone, this process included: permissions
 * where they bind, the immutable attribute where they do not (root). Returns
 * how to undo it, or null when neither holds.
 */
function makeReadOnly(file: string): (() => void) | null {
  const writable = () => {
    try {
      closeSync(openSync(file, "r+"));
      return true;
    } catch {
      return false;
    }
  };
  chmodSync(file, 0o444);
  if (!writable()) return () => chmodSync(file, 0o644);
  if (spawnSync("chattr", ["+i", file]).status === 0 && !writable()) {
    return () => {
      spawnSync("chattr", ["-i", file]);
      chmodSync(file, 0o644);
    };
  }
  chmodSync(file, 0o644);
  return null;
}

function digest(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

const api = (s: Server, method: string, path: string, body?: unknown): Promise<Answer> =>
  request(s.url, method, path, { headers: json, body: body === undefined ? undefined : JSON.stringify(body) });

/**
 * 30 PATCHes of one row with the same _version at once: one 200, 29 409
 * that show the row as it is now, and the row holds the applied edit
 * (v() reads it from outside). Also run on Postgres (pgcases.ts).
 */
export async function simultaneousEdits(server: Server, v: () => unknown): Promise<void> {
  const cur = JSON.parse((await api(server, "GET", "/api/tables/race/rows/1")).text) as { version: string };
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) =>
    api(server, "PATCH", "/api/tables/race/rows/1", { v: `edit ${i}`, _version: cur.version })));
  const statuses = answers.map((a) => a.status);
  eq(statuses.filter((s) => s === 200).length, 1, `one applied (statuses: ${statuses.join(",")})`);
  eq(statuses.filter((s) => s === 409).length, 29, "the rest are conflicts");
  const winner = answers.findIndex((a) => a.status === 200);
  eq(v(), `edit ${winner}`, "the row holds the applied edit");
  for (const a of answers.filter((a) => a.status === 409)) {
    check(a.text.includes(`"v":"edit ${winner}"`), `a 409 shows the row as it is now: ${clip(a.text)}`);
  }
}

export interface WRow {
  id: number;
  a: string;
  b: string | null;
}

/**
 * Six writers POST to w (id, a UNIQUE, b) naming the columns as the first
 * schema had them (_dsid) while steps change the schema from outside: the
 * server maps b to wherever it is now, or refuses the write whole. Every
 * 201 is in the table with its b, every refusal is not, none is
 * half-applied. Also run on Postgres (pgcases.ts).
 */
export async function writersWhileSchemaChanges(server: Server, steps: string[], exec: (sql: string) => void, rowsNow: () => WRow[]): Promise<void> {
  const dsid0 = JSON.parse((await api(server, "GET", "/api/schema")).text).dsid as string;
  const answers: { i: number; a: Answer | null; error?: string }[] = [];
  let stopped = false;
  let next = 0;
  const writers = Array.from({ length: 6 }, async () => {
    while (!stopped) {
      const i = next++;
      try {
        answers.push({ i, a: await api(server, "POST", "/api/tables/w/rows", { a: `a${i}`, b: `b${i}`, _dsid: dsid0 }) });
      } catch (e) {
        answers.push({ i, a: null, error: e instanceof Error ? e.message : String(e) });
      }
    }
  });
  for (const sql of steps) {
    await sleep(400);
    exec(sql);
  }
  await sleep(400);
  stopped = true;
  await Promise.all(writers);
  const rows = rowsNow();
  const byA = new Map(rows.map((r) => [r.a, r]));
  const statuses = new Map<number, number>();
  for (const { i, a, error } of answers) {
    check(a !== null, `write ${i} got no answer: ${error}`);
    statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    const row = byA.get(`a${i}`);
    if (a.status === 201) {
      check(row !== undefined, `write ${i} was answered 201 but is not in the table`);
      eq(row.b, `b${i}`, `write ${i}: b's value in the column b is now`);
      eq(JSON.parse(a.text).pk, { id: row.id }, `write ${i}: the answer's pk`);
    } else {
      check([409, 422, 503].includes(a.status), `write ${i}: status ${a.status}, want 201 or a refusal (409, 422, 503): ${clip(a.text)}`);
      check(JSON.parse(a.text).error, `write ${i}: a refusal says why: ${clip(a.text)}`);
      check(row === undefined, `write ${i} was refused (${a.status}) but is in the table`);
    }
  }
  const applied = statuses.get(201) ?? 0;
  eq(rows.length, applied, `rows in the table = writes answered 201 (statuses: ${JSON.stringify([...statuses])})`);
  check(rows.every((r) => r.b === r.a.replace(/^a/, "b")), "no row lost its b (half-applied)");
  check(applied >= 50, `only ${applied} writes were applied during ${steps.length} schema changes`);
}
