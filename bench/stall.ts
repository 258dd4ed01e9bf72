// Stalls: the latency of a one-row read (GET /api/tables/items_1k/rows/ID) on
// an idle server, and again while heavy requests run beside it: a CSV export
// of the 1M-row table (streamed, read as fast as it comes), and in turn a
// search with no index over it (q=..., a LIKE over every row) and a sort by a
// column with no index, each in a loop. Issue 23
// asks that the read stay within a few times its idle figure on every host.
//
//   node bench/stall.ts [--hosts go,node,deno,bun] [--reads 60] [--json FILE]
//
// Reads go one at a time, 20 ms apart, on a connection of their own; the
// heavy requests each have their own connection. Times are performance.now()
// around a full request and answer.

import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureData } from "./data.ts";
import { HOSTS, prepareHost, startServer, type HostName } from "../tests/http/hosts.ts";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "go,node,deno,bun" },
    reads: { type: "string", default: "60" },
    load: { type: "string", default: "export,search" },
    json: { type: "string" },
  },
});
const READS = Number(values.reads);
const LOAD = new Set(values.load!.split(","));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** One GET read to its end; resolves with the status and the ms it took. */
function fetchAll(agent: http.Agent, base: URL, path: string): Promise<{ status: number; ms: number; bytes: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: base.hostname, port: base.port, path, agent, headers: { accept: "application/json" } }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, bytes }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

async function reads(agent: http.Agent, base: URL, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await fetchAll(agent, base, `/api/tables/items_1k/rows/${1 + (i % 1000)}`);
    if (r.status !== 200) throw new Error(`a one-row read answered ${r.status}`);
    out.push(r.ms);
    await sleep(20);
  }
  return out;
}

interface Row {
  host: string;
  idle50: number;
  idle99: number;
  busy50: number;
  busy99: number;
  exports: number;
  searches: number;
  searchMs: number;
}

async function setting(host: HostName, binDir: string, data: string): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), "nh-bench-stall-"));
  const db = join(dir, "bench.sqlite");
  copyFileSync(data, db);
  const hc = prepareHost(host, binDir);
  const server = await startServer(hc, ["--db", db, "--port", "0", "--host", "127.0.0.1"]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const heavy = new http.Agent({ keepAlive: true, maxSockets: 2 });
  try {
    await reads(agent, server.url, 10); // warm-up
    const idle = await reads(agent, server.url, READS);
    let running = true;
    let exports = 0;
    let searches = 0;
    const searchTimes: number[] = [];
    const exporter = (async () => {
      while (running && LOAD.has("export")) {
        const r = await fetchAll(heavy, server.url, "/api/tables/items_1m/rows.csv");
        if (r.status === 200) exports++;
      }
    })();
    const searcher = (async () => {
      for (let i = 0; running && LOAD.has("search"); i++) {
        // A search and a sort that no index serves, in turn.
        const r = await fetchAll(heavy, server.url, i % 2 ? `/api/tables/items_1m/rows?q=zz${i % 10}qq` : "/api/tables/items_1m/rows?sort=price&desc=1");
        if (r.status === 200) {
          searches++;
          searchTimes.push(r.ms);
        }
      }
    })();
    await sleep(300); // both under way
    const busy = await reads(agent, server.url, READS);
    running = false;
    await Promise.race([Promise.all([exporter, searcher]), sleep(60_000)]);
    return {
      host, idle50: pct(idle, 50), idle99: pct(idle, 99), busy50: pct(busy, 50), busy99: pct(busy, 99),
      exports, searches, searchMs: pct(searchTimes, 50),
    };
  } finally {
    agent.destroy();
    heavy.destroy();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const hosts = values.hosts!.split(",") as HostName[];
for (const h of hosts) {
  if (!(HOSTS as readonly string[]).includes(h)) {
    console.error(`unknown host ${h}`);
    process.exit(2);
  }
}
const { path: data } = ensureData();
const rows: Row[] = [];
const binDir = mkdtempSync(join(tmpdir(), "nh-bench-stall-bin-"));
try {
  for (const h of hosts) {
    process.stdout.write(`stall bench: ${h}… `);
    const r = await setting(h, binDir, data);
    rows.push(r);
    console.log(`idle p50 ${r.idle50.toFixed(1)} ms, beside an export and a search p50 ${r.busy50.toFixed(1)} ms`);
  }
} finally {
  rmSync(binDir, { recursive: true, force: true });
}
const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "–");
console.log(`\nOne-row read latency in ms (${READS} reads, one at a time), idle and beside a CSV export of 1M rows and an unindexed search over them, each in a loop:\n`);
console.log("| host | idle p50 | idle p99 | busy p50 | busy p99 | busy/idle p50 | exports done | searches done (p50 ms) |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(`| ${r.host} | ${f(r.idle50)} | ${f(r.idle99)} | ${f(r.busy50)} | ${f(r.busy99)} | ${(r.busy50 / r.idle50).toFixed(1)}x | ${r.exports} | ${r.searches} (${f(r.searchMs)}) |`);
}
if (values.json) writeFileSync(values.json, JSON.stringify({ reads: READS, rows }));
process.exit(0);
