// Live latency: how long from a write's commit until its event reaches an
// open /api/events stream, with 1, 100 and 1000 streams open, for an outside
// writer (a second SQLite connection in this process, as the sqlite3 shell or
// another program) and for the server's own writes (POST through the API);
// and how long from an outside schema change to its schema event.
//
//   node bench/live.ts [--hosts node,go] [--writes 200] [--streams 1,100,1000] [--schema 30] [--json FILE]
//
// Writes go one at a time, each after a random pause of 20-80 ms (so they fall
// anywhere in the hosts' 50 ms tick), and the next waits until every measured
// stream has the event. Ten streams spread over the opening order are parsed
// and timed; the others read and discard. Times are performance.now() in this
// one process, so commit and arrival share a clock.
//
// Outside writes: commit = when the INSERT (autocommit) returned. Own writes:
// the server commits somewhere inside the request, so the figure is from
// sending the POST to the event (an upper bound); the POST's own round trip is
// printed next to it.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SSE } from "../tests/http/sse.ts";
import { request } from "../tests/http/client.ts";
import { openDB } from "../tests/http/fixture.ts";
import { HOSTS, prepareHost, startServer, type HostName, type Server } from "../tests/http/hosts.ts";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "node,go" },
    writes: { type: "string", default: "200" },
    streams: { type: "string", default: "1,100,1000" },
    schema: { type: "string", default: "30" },
    json: { type: "string" },
    warmup: { type: "string", default: "20" },
  },
});
const WRITES = Number(values.writes);
const WARMUP = Number(values.warmup);
const SCHEMA_N = Number(values.schema);
const STREAMS = values.streams!.split(",").map(Number);
const MEASURED = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pause = () => sleep(20 + Math.random() * 60);

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "–");

/** A stream that reads and throws away what it gets (so the host never drops it). */
function passive(base: URL, path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: base.hostname, port: Number(base.port) });
    let head = "";
    let ok = false;
    sock.setEncoding("latin1");
    sock.on("data", (c: string) => {
      if (ok) return;
      head += c;
      if (head.includes("\r\n\r\n")) {
        ok = true;
        if (!/^HTTP\/1\.[01] 200/.test(head)) reject(new Error(`stream answered ${head.split("\r\n")[0]}`));
        else resolve(sock);
      }
    });
    sock.once("error", reject);
    sock.once("connect", () => sock.write(`GET ${path} HTTP/1.1\r\nhost: ${base.host}\r\naccept: text/event-stream\r\n\r\n`));
  });
}

/** Measured streams: the arrival time of each change by its key. */
class Timed {
  readonly s: SSE;
  readonly arrived = new Map<string, number>();
  readonly schemas: number[] = [];
  constructor(s: SSE) {
    this.s = s;
    s.onevent = (e) => {
      if (e.event === "change") this.arrived.set(JSON.parse(e.data).pk.k, e.at);
      else if (e.event === "schema") this.schemas.push(e.at);
    };
  }
}

interface Row {
  host: string;
  streams: number;
  outside: number[];
  own: number[];
  rtt: number[];
  schema: number[];
  lost: number;
}

async function waitAll(ts: Timed[], key: string): Promise<number[] | null> {
  try {
    await Promise.all(ts.map((t) => t.s.until(() => t.arrived.has(key), `event ${key}`, 10000)));
  } catch {
    return null;
  }
  return ts.map((t) => t.arrived.get(key)!);
}

async function setting(host: HostName, hcTmp: string, n: number, withSchema: boolean): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), "nh-bench-live-"));
  const db = join(dir, "bench.db");
  const d = openDB(db);
  d.exec(`CREATE TABLE bench (k TEXT PRIMARY KEY, v TEXT); CREATE TABLE other (id INTEGER PRIMARY KEY)`);
  d.close();
  const hc = prepareHost(host, hcTmp);
  const server: Server = await startServer(hc, ["--db", db, "--port", "0", "--host", "127.0.0.1"]);
  const row: Row = { host, streams: n, outside: [], own: [], rtt: [], schema: [], lost: 0 };
  const { DatabaseSync } = process.getBuiltinModule("node:sqlite") as typeof import("node:sqlite");
  const out = new DatabaseSync(db, { timeout: 10000 });
  const timed: Timed[] = [];
  const sockets: net.Socket[] = [];
  try {
    // the measured streams, spread over the opening order
    const measured = new Set(n <= MEASURED ? Array.from({ length: n }, (_, i) => i)
      : Array.from({ length: MEASURED }, (_, i) => Math.round((i * (n - 1)) / (MEASURED - 1))));
    for (let i = 0; i < n; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, n - i) }, async (_, j) => {
        if (measured.has(i + j)) timed.push(new Timed(await SSE.open(server.url, "/api/events")));
        else sockets.push(await passive(server.url, "/api/events"));
      }));
    }
    await sleep(300);
    const ins = out.prepare(`INSERT INTO bench (k, v) VALUES (?, 'x')`);
    for (let i = 0; i < WARMUP; i++) {
      ins.run(`w${i}`);
      await waitAll(timed, `w${i}`);
      await pause();
    }
    for (let i = 0; i < WRITES; i++) {
      await pause();
      const key = `o${i}`;
      ins.run(key);
      const commit = performance.now();
      const at = await waitAll(timed, key);
      if (!at) row.lost++;
      else row.outside.push(...at.map((t) => t - commit));
    }
    for (let i = 0; i < WRITES; i++) {
      await pause();
      const key = `s${i}`;
      const t0 = performance.now();
      const a = await request(server.url, "POST", "/api/tables/bench/rows", {
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ k: key, v: "x" }),
      });
      row.rtt.push(performance.now() - t0);
      if (a.status !== 201) throw new Error(`POST: ${a.status} ${a.text}`);
      const at = await waitAll(timed, key);
      if (!at) row.lost++;
      else row.own.push(...at.map((t) => t - t0));
    }
    if (withSchema) {
      for (let i = 0; i < SCHEMA_N; i++) {
        await pause();
        const before = timed.map((t) => t.schemas.length);
        out.exec(i % 2 === 0 ? `ALTER TABLE other ADD COLUMN c TEXT` : `ALTER TABLE other DROP COLUMN c`);
        const t0 = performance.now();
        try {
          await Promise.all(timed.map((t, j) => t.s.until(() => t.schemas.length > before[j], "schema event", 10000)));
          for (let j = 0; j < timed.length; j++) row.schema.push(timed[j].schemas[before[j]] - t0);
        } catch {
          row.lost++;
        }
      }
    }
  } finally {
    for (const t of timed) t.s.close();
    for (const s of sockets) s.destroy();
    out.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return row;
}

const hosts = values.hosts!.split(",") as HostName[];
for (const h of hosts) {
  if (!(HOSTS as readonly string[]).includes(h)) {
    console.error(`unknown host ${h}`);
    process.exit(2);
  }
}
const rows: Row[] = [];
const hcTmp = mkdtempSync(join(tmpdir(), "nh-bench-live-bin-"));
try {
  for (const h of hosts) {
    for (const n of STREAMS) {
      process.stdout.write(`live bench: ${h}, ${n} stream(s)… `);
      const t0 = performance.now();
      const r = await setting(h, hcTmp, n, n === STREAMS[0]);
      rows.push(r);
      console.log(`${((performance.now() - t0) / 1000).toFixed(0)} s${r.lost ? `, ${r.lost} event(s) never arrived` : ""}`);
    }
  }
} finally {
  rmSync(hcTmp, { recursive: true, force: true });
}

console.log(`\nCommit-to-event latency in ms over /api/events, ${WRITES} writes per writer and setting, ` +
  `timed on up to ${MEASURED} streams each (p50 / p99 over every delivery).\n` +
  `Own writes: from sending the POST (its round trip alone in the last column).\n`);
console.log("| host | open streams | outside write p50 | outside p99 | own write p50 | own p99 | POST round trip p50 |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(`| ${r.host} | ${r.streams} | ${ms(pct(r.outside, 50))} | ${ms(pct(r.outside, 99))} | ${ms(pct(r.own, 50))} | ${ms(pct(r.own, 99))} | ${ms(pct(r.rtt, 50))} |`);
}
const withSchema = rows.filter((r) => r.schema.length > 0);
if (withSchema.length) {
  console.log(`\nOutside schema change (ALTER TABLE ADD/DROP COLUMN, ${SCHEMA_N} times) to its schema event, ${STREAMS[0]} stream(s):\n`);
  console.log("| host | p50 | p99 |");
  console.log("| --- | ---: | ---: |");
  for (const r of withSchema) console.log(`| ${r.host} | ${ms(pct(r.schema, 50))} | ${ms(pct(r.schema, 99))} |`);
}
if (values.json) {
  writeFileSync(values.json, JSON.stringify({
    writes: WRITES,
    rows: rows.map((r) => ({
      host: r.host, streams: r.streams, outside50: pct(r.outside, 50), outside99: pct(r.outside, 99),
      own50: pct(r.own, 50), own99: pct(r.own, 99), schema50: pct(r.schema, 50), schema99: pct(r.schema, 99), lost: r.lost,
    })),
  }));
}
const lost = rows.reduce((a, r) => a + r.lost, 0);
if (lost) console.log(`\n${lost} event(s) never arrived within 10 s`);
process.exit(0);
