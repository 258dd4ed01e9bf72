// Faults and races, on every host, each on a server and database of its own
// (so the recorded answers that --compare checks are not disturbed):
// simultaneous edits of one row, another process holding the write lock, and
// kill -9 in the middle of a write load.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Answer, request } from "./client.ts";
import { openDB } from "./fixture.ts";
import { check, clip, eq, type Test } from "./harness.ts";
import { type HostCommand, type Server, startServer } from "./hosts.ts";

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
  const api = (s: Server, method: string, path: string, body?: unknown): Promise<Answer> =>
    request(s.url, method, path, { headers: json, body: body === undefined ? undefined : JSON.stringify(body) });

  test("30 simultaneous edits of one row with the same version: exactly one applied, the rest 409", async () => {
    const { server, file } = await serve("CREATE TABLE race (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO race VALUES (1, 'start');");
    try {
      const cur = JSON.parse((await api(server, "GET", "/api/tables/race/rows/1")).text) as { version: string };
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) =>
        api(server, "PATCH", "/api/tables/race/rows/1", { v: `edit ${i}`, _version: cur.version })));
      const statuses = answers.map((a) => a.status);
      eq(statuses.filter((s) => s === 200).length, 1, `one applied (statuses: ${statuses.join(",")})`);
      eq(statuses.filter((s) => s === 409).length, 29, "the rest are conflicts");
      const winner = answers.findIndex((a) => a.status === 200);
      const db = openDB(file, true);
      const row = db.prepare("SELECT v FROM race WHERE id = 1").get() as { v: string };
      db.close();
      eq(row.v, `edit ${winner}`, "the row holds the applied edit");
      for (const a of answers.filter((a) => a.status === 409)) {
        check(a.text.includes(`"v":"edit ${winner}"`), `a 409 shows the row as it is now: ${clip(a.text)}`);
      }
    } finally {
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

/** Every process below pid (children, their children, ...), from /proc (Linux). */
function descendants(pid: number): number[] {
  const kids = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    kids.set(ppid, [...(kids.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of kids.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}
