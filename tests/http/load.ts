// Stream load, on one real host process over loopback: 1,000 event-stream
// clients while 100 writes go through the API. Every reading client must see
// every event, in order; a client that stops reading must be dropped (its
// buffer is bounded) without holding back the others; the server's memory is
// sampled throughout and reported (RSS of the host's process tree).
//
//   node tests/http/load.ts --host go|wasm|deno|bun|node|node22 (a comma list runs several)
//
// Options: --clients N (1000), --writes N (100), --keep. Timings are printed,
// never asserted (speed belongs to make bench); what is asserted is that
// nothing is lost and that memory stays bounded.

import http from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "./client.ts";
import { openDB } from "./fixture.ts";
import { check, clip, eq, runTests, type Result, type Test } from "./harness.ts";
import { descendants, HOSTS, prepareHost, type HostName, type Server, startServer } from "./hosts.ts";
import { StalledClient } from "./sse.ts";

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    clients: { type: "string", default: "1000" },
    writes: { type: "string", default: "100" },
    keep: { type: "boolean", default: false },
  },
});
const CLIENTS = Number(values.clients);
const WRITES = Number(values.writes);
/** Of the clients, this many follow the table's page stream (rendered rows); the rest /api/events. */
const PAGE_CLIENTS = 10;
/** Each row is this wide, so the stalled page client's backlog outgrows any buffer (kernel's included). */
const ROW_BYTES = 64 * 1024;

/**
 * A lean event-stream reader: it keeps only the ids of the events it is
 * counting, so a thousand of them stay small. When the server closes it
 * (a client that fell behind is dropped, by contract), it resumes by
 * Last-Event-ID, as EventSource does, and counts the resumption.
 */
class Counter {
  readonly ids: number[] = [];
  resumes = 0;
  private req: http.ClientRequest | null = null;
  private closed = false;
  private lastId = "";
  private readonly base: URL;
  private readonly path: string;
  private readonly kind: string;
  private constructor(base: URL, path: string, kind: string) {
    this.base = base;
    this.path = path;
    this.kind = kind;
  }

  static async open(base: URL, path: string, kind: string): Promise<Counter> {
    const c = new Counter(base, path, kind);
    await c.connect();
    return c;
  }

  private connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (this.lastId) headers["last-event-id"] = this.lastId;
      const req = http.get({ host: this.base.hostname, port: this.base.port, path: this.path, headers, agent: false }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${this.path}: status ${res.statusCode}`));
          res.resume();
          return;
        }
        resolve();
        res.setEncoding("utf8");
        let buf = "";
        let id = "";
        let event = "message";
        res.on("data", (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).replace(/\r$/, "");
            buf = buf.slice(nl + 1);
            if (line === "") {
              if (id !== "") this.lastId = id;
              if (event === this.kind) this.ids.push(Number(id));
              id = "";
              event = "message";
            } else if (line.startsWith("id:")) id = line.slice(3).trim();
            else if (line.startsWith("event:")) event = line.slice(6).trim();
          }
        });
        res.on("close", () => {
          if (!this.closed) {
            this.resumes++;
            this.connect().catch(() => { /* the test's own check reports what is missing */ });
          }
        });
      });
      req.on("error", (e) => { if (!this.closed) reject(e); });
      this.req = req;
    });
  }

  close(): void {
    this.closed = true;
    this.req?.destroy();
  }
}

/** RSS of a process and everything below it, in bytes (Linux). */
function rss(pid: number): number {
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

const MiB = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;

function loadTests(host: HostName, server: Server, file: string): Test[] {
  const T: Test[] = [];
  T.push({
    name: `${CLIENTS} event-stream clients, ${WRITES} writes: every client sees every event; a stalled one is dropped; memory bounded`,
    fn: async () => {
      const base = server.url;
      const pid = server.proc.pid!;
      const idle = rss(pid);
      const stalled = await StalledClient.open(base, "/t/load/live");
      const clients: Counter[] = [];
      const t0 = performance.now();
      for (let i = 0; i < CLIENTS; i += 50) {
        clients.push(...await Promise.all(Array.from({ length: Math.min(50, CLIENTS - i) }, (_, k) =>
          i + k < PAGE_CLIENTS ? Counter.open(base, "/t/load/live", "nh-change") : Counter.open(base, "/api/events?table=load", "change"))));
      }
      const openMs = performance.now() - t0;
      await sleep(500);
      const connected = rss(pid);
      let peak = connected;
      const sampler = setInterval(() => { peak = Math.max(peak, rss(pid)); }, 100);
      const body = "r".repeat(ROW_BYTES);
      const t1 = performance.now();
      try {
        for (let i = 1; i <= WRITES; i++) {
          const a = await request(base, "POST", "/api/tables/load/rows", {
            headers: { "content-type": "application/json", accept: "application/json" },
            body: JSON.stringify({ id: i, v: `${i}:${body}` }),
          });
          eq(a.status, 201, `write ${i}: ${clip(a.text)}`);
        }
        const writeMs = performance.now() - t1;
        const deadline = Date.now() + 120000;
        while (clients.some((c) => c.ids.length < WRITES) && Date.now() < deadline) await sleep(100);
        const allMs = performance.now() - t1;
        // Every reader: exactly the writes' events, in order (a resumed
        // reader must neither miss nor repeat one).
        const db = openDB(file, true);
        const want = (db.prepare(`SELECT seq FROM "_nakedhtmx_changes" WHERE tbl = 'load' ORDER BY seq`).all() as { seq: number }[])
          .map((r) => Number(r.seq));
        db.close();
        eq(want.length, WRITES, "change log entries for the writes");
        const wrong = clients.filter((c) => c.ids.length !== WRITES || c.ids.some((id, i) => id !== want[i]));
        check(wrong.length === 0, `${wrong.length} of ${CLIENTS} clients did not see exactly the ${WRITES} events in order ` +
          `(first: ${wrong[0]?.ids.length} events, ${clip(JSON.stringify(wrong[0]?.ids.slice(0, 10)))})`);
        // The stalled client: dropped, and what it had been sent is a prefix.
        const st = await stalled.drain();
        check(st.closed || st.ended, `the client that stopped reading was not dropped (it had ${st.events.length} events, ${MiB(st.raw)})`);
        const got = st.events.filter((e) => e.event === "nh-change").map((e) => Number(e.id));
        eq(got, want.slice(0, got.length), "the stalled client's events are a prefix of the others'");
        check(got.length < WRITES, `the stalled client got all ${WRITES} events: nothing was buffered for it to drop`);
        const ping = await request(base, "GET", "/api/tables/load/rows?limit=1", { headers: { accept: "application/json" } });
        eq(ping.status, 200, "the server still answers");
        clearInterval(sampler);
        for (const c of clients) c.close();
        stalled.close();
        await sleep(1500);
        const after = rss(pid);
        const resumes = clients.reduce((n, c) => n + c.resumes, 0);
        // Bounded: a reader's buffer is capped, so memory follows the number
        // of connections, not the backlog: a generous 128 MiB plus 256 KiB a
        // connection, whatever the runtime.
        const limit = 128 * 1048576 + CLIENTS * 256 * 1024;
        check(peak - idle < limit, `RSS grew by ${MiB(peak - idle)} (bound ${MiB(limit)})`);
        console.log(`        ${host}: ${CLIENTS} clients open in ${openMs.toFixed(0)} ms; ${WRITES} writes in ${writeMs.toFixed(0)} ms; ` +
          `all clients had every event after ${allMs.toFixed(0)} ms; ${resumes} resumption(s); stalled client ${st.closed ? "cut" : "ended"} after ` +
          `${got.length} events (${MiB(st.raw)} read); RSS idle ${MiB(idle)}, ${CLIENTS} streams ${MiB(connected)}, ` +
          `peak ${MiB(peak)}, after closing ${MiB(after)}`);
      } finally {
        clearInterval(sampler);
        for (const c of clients) c.close();
        stalled.close();
      }
    },
  });
  return T;
}

async function runHost(host: HostName): Promise<boolean> {
  const tmp = mkdtempSync(join(tmpdir(), `nakedhtmx-load-${host}-`));
  let server: Server | null = null;
  try {
    const hc = prepareHost(host, tmp);
    const file = join(tmp, "load.db");
    const db = openDB(file);
    db.exec("CREATE TABLE load (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    db.close();
    server = await startServer(hc, ["--db", file, "--port", "0", "--host", "127.0.0.1"]);
    console.log(`load(${host}): serving ${server.url}`);
    const results: Result[] = await runTests(loadTests(host, server, file), (s) => console.log(s));
    const failed = results.filter((r) => !r.ok).length;
    console.log(`load(${host}): ${results.length - failed} passed, ${failed} failed`);
    if (failed > 0 || process.env.LOAD_STDERR) console.log(`load(${host}): host stderr (last lines):\n${server.stderr().trim().split("\n").slice(-10).join("\n")}`);
    return failed === 0;
  } finally {
    if (server) await server.stop("SIGKILL");
    if (!values.keep) rmSync(tmp, { recursive: true, force: true });
  }
}

if (!values.host) {
  console.error("usage: node tests/http/load.ts --host go|wasm|deno|bun|node|node22|all [--clients N] [--writes N]");
  process.exit(2);
}
let ok = true;
for (const h of values.host === "all" ? [...HOSTS] : values.host.split(",")) {
  if (!(HOSTS as readonly string[]).includes(h)) {
    console.error(`unknown host ${h}`);
    process.exit(2);
  }
  ok = (await runHost(h as HostName)) && ok;
}
process.exit(ok ? 0 : 1);
