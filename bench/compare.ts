// `make bench`: nakedhtmx side by side with Datasette and PocketBase, on the
// same data, the same machine, in one run, and one Markdown table of the
// results (printed, and written outside git).
//
//   node bench/compare.ts [--hosts go,deno,bun,node] [--peers datasette,pocketbase]
//                         [--runs 3] [--seconds 4] [--connections 16] [--quick]
//                         [--skip core,plugins,cold,live,stall,browser,offline,nats] [--works create,...] [--out FILE]
//
// Everything it needs it prepares itself: the data (bench/data.ts), Datasette
// in a virtual environment (scripts/ensure-datasette.sh), PocketBase from its
// Go module (scripts/ensure-pocketbase.sh), wrk (scripts/ensure-wrk.sh).
// A missing part is skipped with a line saying why, never faked.
//
// Throughput: wrk, one thread, a fixed number of connections, a warm-up run
// and then several timed runs per cell; the cell is the median run's
// requests per second (its p50 latency beside it). Every server gets its own
// copy of the data and the machine to itself while it is measured.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parseArgs } from "node:util";
import { freePort, type HostCommand, type HostName, prepareHost, runToExit, startServer } from "../tests/http/hosts.ts";
import type { BrowserJSON } from "./browser.ts";
import type { OfflineJSON } from "./offline.ts";
import { ensureData, root } from "./data.ts";
import { type Cluster, sharedCluster } from "../tests/http/pg.ts";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "go,deno,bun,node" },
    peers: { type: "string", default: "datasette,pocketbase" },
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "4" },
    connections: { type: "string", default: "16" },
    quick: { type: "boolean", default: false },
    skip: { type: "string", default: "" },
    stores: { type: "string", default: "sqlite,postgres" },
    works: { type: "string", default: "" },
    out: { type: "string" },
  },
});
const RUNS = values.quick ? 1 : Number(values.runs);
const SECONDS = values.quick ? 2 : Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const SKIP = new Set(values.skip!.split(",").filter(Boolean));
const HOST_NAMES = values.hosts!.split(",").filter(Boolean) as HostName[];
const PEERS = values.peers!.split(",").filter(Boolean);
const STORES = values.stores!.split(",").filter(Boolean);
/** The throughput rows measured (by id, e.g. create); all when empty. */
const WORKS = values.works!.split(",").filter(Boolean);

const sh = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8" });
  return { ok: r.status === 0, out: (r.stdout ?? "").trim(), err: (r.stderr ?? "").trim() || String(r.error ?? "") };
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (s: string) => console.error(`bench: ${s}`);

// ---------- what is measured ----------

interface Req {
  method: "GET" | "POST";
  path: string;
  body?: string;
  /** Sent with every request (a session cookie). */
  headers?: Record<string, string>;
}
/** A row of the table: what each kind of server is asked for it (null: it has no such thing). */
interface Work {
  id: string;
  label: string;
  nh: Req;
  datasette: Req | null;
  pocketbase: Req | null;
}

function works(chinook: boolean): Work[] {
  // Without Chinook the "50 rows of a real table" rows use items_1k.
  const T = chinook ? "Track" : "items_1k";
  const one = chinook ? 1000 : 500;
  const pbId = (n: number) => String(n).padStart(15, "0");
  const item = JSON.stringify({ name: "bench row", qty: 7, price: 12.5, note: "made by wrk" });
  return [
    { id: "html50", label: `HTML list page, 50 rows (${T})`, nh: { method: "GET", path: `/t/${T}` },
      datasette: { method: "GET", path: `/bench/${T}?_size=50` }, pocketbase: null },
    { id: "json50", label: `JSON list, 50 rows (${T})`, nh: { method: "GET", path: `/api/tables/${T}/rows?limit=50` },
      datasette: { method: "GET", path: `/bench/${T}.json?_size=50&_shape=objects` },
      pocketbase: { method: "GET", path: `/api/collections/${T}/records?perPage=50` } },
    { id: "row", label: `one row, JSON (${T} ${one})`, nh: { method: "GET", path: `/api/tables/${T}/rows/${one}` },
      datasette: { method: "GET", path: `/bench/${T}/${one}.json?_shape=objects` },
      pocketbase: { method: "GET", path: `/api/collections/${T}/records/${pbId(one)}` } },
    { id: "html1k", label: "HTML list page, items_1k (1,000 rows)", nh: { method: "GET", path: "/t/items_1k" },
      datasette: { method: "GET", path: "/bench/items_1k?_size=50" }, pocketbase: null },
    { id: "html1m", label: "HTML list page, items_1m (1,000,000 rows)", nh: { method: "GET", path: "/t/items_1m" },
      datasette: { method: "GET", path: "/bench/items_1m?_size=50" }, pocketbase: null },
    { id: "json1k", label: "JSON list, 50 of items_1k", nh: { method: "GET", path: "/api/tables/items_1k/rows?limit=50" },
      datasette: { method: "GET", path: "/bench/items_1k.json?_size=50&_shape=objects" },
      pocketbase: { method: "GET", path: "/api/collections/items_1k/records?perPage=50" } },
    { id: "json1m", label: "JSON list, 50 of items_1m", nh: { method: "GET", path: "/api/tables/items_1m/rows?limit=50" },
      datasette: { method: "GET", path: "/bench/items_1m.json?_size=50&_shape=objects" },
      pocketbase: { method: "GET", path: "/api/collections/items_1m/records?perPage=50" } },
    // Explore (issue 17): a list page with facets, beside Datasette's faceted
    // table page. nakedhtmx keeps the counts until the data changes;
    // Datasette counts on every request, giving up on a facet past its
    // facet_time_limit_ms (200 ms by default).
    { id: "facet50", label: `HTML list page with 2 facets (${T})`,
      nh: { method: "GET", path: chinook ? "/t/Track?facet=GenreId&facet=MediaTypeId" : "/t/items_1k?facet=qty" },
      datasette: { method: "GET", path: chinook ? "/bench/Track?_size=50&_facet=GenreId&_facet=MediaTypeId" : "/bench/items_1k?_size=50&_facet=qty" },
      pocketbase: null },
    { id: "facet1m", label: "HTML list page with a facet, items_1m", nh: { method: "GET", path: "/t/items_1m?facet=qty" },
      datasette: { method: "GET", path: "/bench/items_1m?_size=50&_facet=qty" }, pocketbase: null },
    // The SQL page (issue 17): one caller's GROUP BY, checked (EXPLAIN) and
    // run read-only on every request, beside Datasette's arbitrary SQL.
    { id: "sqlhtml", label: `SQL page, a GROUP BY (${T})`, nh: { method: "GET", path: `/sql?sql=${encodeURIComponent(groupBy(T, chinook))}` },
      datasette: { method: "GET", path: `/bench?sql=${encodeURIComponent(groupBy(T, chinook))}` }, pocketbase: null },
    { id: "sqljson", label: `/api/sql, a GROUP BY (${T})`, nh: { method: "GET", path: `/api/sql?sql=${encodeURIComponent(groupBy(T, chinook))}` },
      datasette: { method: "GET", path: `/bench.json?_shape=objects&sql=${encodeURIComponent(groupBy(T, chinook))}` }, pocketbase: null },
    // Last: it grows items_1k. Datasette 0.65 has no write API.
    { id: "create", label: "create a row, JSON (items_1k)", nh: { method: "POST", path: "/api/tables/items_1k/rows", body: item },
      datasette: null, pocketbase: { method: "POST", path: "/api/collections/items_1k/records", body: item } },
  ];
}

/** Rows of the import figure's CSV, and how many times each host imports it. */
const IMPORT_ROWS = 50_000;
const IMPORT_RUNS = 3;

/** An items CSV (the columns a create gives) of n rows. */
function importCSV(n: number): string {
  const lines = ["name,qty,price,note"];
  for (let i = 0; i < n; i++) lines.push(`"imported ${i}, a row",${i % 97},${(i % 1000) / 4},"note ""${i}"""`);
  return lines.join("\n") + "\n";
}

/** The SQL rows' statement: counts and a sum per group of the table (quoted: Postgres folds case). */
function groupBy(T: string, chinook: boolean): string {
  return chinook
    ? `SELECT "GenreId", count(*) AS tracks, sum("Milliseconds") AS ms FROM "${T}" GROUP BY "GenreId" ORDER BY tracks DESC`
    : `SELECT qty, count(*) AS n, sum(price) AS total FROM "${T}" GROUP BY qty ORDER BY n DESC`;
}

// ---------- wrk ----------

interface Load {
  rps: number;
  p50: number;
  p99: number;
  runs: number[];
  errors: number;
}

function wrkOnce(wrk: string, base: string, r: Req, seconds: number, luaDir: string): { rps: number; p50: number; p99: number; errors: number } {
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency"];
  if (r.method === "POST") {
    const lua = join(luaDir, "post.lua");
    writeFileSync(lua, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(r.body ?? "")}\n` +
      `wrk.headers["Content-Type"] = "application/json"\nwrk.headers["Accept"] = "application/json"\n`);
    args.push("-s", lua);
  }
  for (const [k, v] of Object.entries(r.headers ?? {})) args.push("-H", `${k}: ${v}`);
  args.push(base + r.path);
  const res = spawnSync(wrk, args, { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`wrk failed: ${res.stderr}`);
  const out = res.stdout;
  const unit = (v: string, u: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[u] ?? NaN);
  const lat = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(out);
    return m ? unit(m[1], m[2]) : NaN;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) +
    [...out.matchAll(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/g)]
      .reduce((a, m) => a + Number(m[1]) + Number(m[2]) + Number(m[3]) + Number(m[4]), 0);
  return { rps, p50: lat("50"), p99: lat("99"), errors };
}

async function check(base: string, r: Req, what: string): Promise<string | null> {
  // Once more on a network error: a server may close a kept-alive connection
  // that a wrk run left idle just as fetch reuses it.
  const res = await get(base, r).catch(() => get(base, r));
  const text = await res.text();
  if (res.status >= 300) return `${what} ${r.method} ${r.path}: status ${res.status}: ${text.slice(0, 200)}`;
  return null;
}

function get(base: string, r: Req): Promise<Response> {
  return fetch(base + r.path, {
    method: r.method,
    body: r.body,
    headers: { ...(r.body ? { "content-type": "application/json", accept: "application/json" } : { accept: "text/html" }), ...r.headers },
  });
}

function measure(wrk: string, base: string, r: Req, luaDir: string): Load {
  wrkOnce(wrk, base, r, Math.min(2, SECONDS), luaDir); // warm-up, not counted
  const rs = Array.from({ length: RUNS }, () => wrkOnce(wrk, base, r, SECONDS, luaDir));
  const mid = [...rs].sort((a, b) => a.rps - b.rps)[Math.floor(rs.length / 2)];
  return { rps: mid.rps, p50: mid.p50, p99: mid.p99, runs: rs.map((x) => x.rps), errors: rs.reduce((a, x) => a + x.errors, 0) };
}

// ---------- servers ----------

interface Target {
  name: string;
  kind: "nh" | "nhpg" | "nhrules" | "datasette" | "pocketbase";
  /** nakedhtmx's hosts: which, and the command that starts it (cold start spawns it itself). */
  host?: HostName;
  hc?: HostCommand;
  /** The work it is asked (by id); all when unset. */
  only?: string[];
  /** nakedhtmx on Postgres: a new database of the data, loaded as a user would before a first start. */
  fresh?: () => string;
  start(dir: string, data: string): Promise<{ base: string; stop: () => Promise<void>; headers?: Record<string, string> }>;
}

async function waitHTTP(url: string, proc: ChildProcess, what: string, timeoutMs = 60000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms`);
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      proc.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      proc.kill("SIGTERM");
    });
}

function nhTarget(host: HostName, hc: HostCommand): Target {
  return {
    name: `nakedhtmx ${host}`,
    kind: "nh",
    host,
    hc,
    async start(dir, data) {
      const db = join(dir, "bench.db");
      copyFileSync(data, db);
      const s = await startServer(hc, ["--db", db, "--port", "0"]);
      return { base: s.url.origin, stop: async () => void (await s.stop()) };
    },
  };
}

/**
 * nakedhtmx with a user signed in and a row rule on the 50-row table (issue
 * 20): the same pages as nhTarget on the same data, so the two columns side
 * by side are what users and a rule cost (a session looked up, the rule
 * bound into each read). The rule lets every row through, so the pages
 * hold the same rows.
 */
function nhRulesTarget(host: HostName, hc: HostCommand, chinook: boolean): Target {
  const T = chinook ? "Track" : "items_1k";
  const key = chinook ? "TrackId" : "id";
  return {
    name: `nakedhtmx ${host} + rule`,
    kind: "nhrules",
    hc,
    only: ["html50", "json50"],
    async start(dir, data) {
      const db = join(dir, "bench.db");
      copyFileSync(data, db);
      const config = join(dir, "rules.json");
      const rule = `${key} >= @user.id OR @user.role = 'editor'`;
      writeFileSync(config, JSON.stringify({ tables: { [T]: { rules: { list: rule, view: rule } } } }));
      const add = await runToExit(hc, ["user", "add", "--db", db, "--email", "bench@example.com", "--role", "user"], 60000, "bench-password\n");
      if (add.code !== 0) throw new Error(`user add: ${add.stderr}`);
      const s = await startServer(hc, ["--db", db, "--port", "0", "--config", config]);
      const res = await fetch(`${s.url.origin}/signin`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: s.url.origin },
        body: "email=bench%40example.com&password=bench-password",
      });
      const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
      if (res.status !== 303 || !cookie) throw new Error(`sign-in: ${res.status}`);
      return { base: s.url.origin, stop: async () => void (await s.stop()), headers: { cookie } };
    },
  };
}

/**
 * The works a host is asked on Postgres: the tables of the 50-row and 1k
 * rows (pgload copies them, and what the 50 rows' labels come from); the
 * 1M-row table is left out, its copy would take longer than the runs.
 */
const PG_WORKS = ["html50", "json50", "row", "html1k", "json1k", "facet50", "create"];

function nhPgTarget(host: HostName, hc: HostCommand, cluster: Cluster, pgload: string, data: string, chinook: boolean): Target {
  const tables = [...(chinook ? ["Track", "Album", "Artist", "Genre", "MediaType"] : []), "items_1k"];
  const t: Target = {
    name: `nakedhtmx ${host} on Postgres`,
    kind: "nhpg",
    hc,
    only: PG_WORKS,
    fresh() {
      const db = cluster.createDatabase();
      const l = spawnSync(pgload, ["--from", data, "--to", db, ...tables.flatMap((x) => ["--table", x])], { encoding: "utf8" });
      if (l.status !== 0) throw new Error(`pgload failed: ${l.stderr}`);
      return db;
    },
    async start() {
      const s = await startServer(hc, ["--db", t.fresh!(), "--port", "0"]);
      return { base: s.url.origin, stop: async () => void (await s.stop()) };
    },
  };
  return t;
}

function datasetteTarget(bin: string): Target {
  return {
    name: "Datasette",
    kind: "datasette",
    async start(dir, data) {
      const db = join(dir, "bench.db");
      copyFileSync(data, db);
      const port = await freePort();
      // Datasette at its fastest: -i (immutable: counts computed once, no
      // change checks) and no facet suggestions (by default every table page
      // runs extra queries to suggest facets, which more than halves its rate).
      const proc = spawn(bin, ["serve", "-i", db, "-h", "127.0.0.1", "-p", String(port), "--setting", "suggest_facets", "off"], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let err = "";
      proc.stderr!.on("data", (d) => (err += d));
      const base = `http://127.0.0.1:${port}`;
      await waitHTTP(`${base}/-/versions.json`, proc, "datasette").catch((e) => {
        throw new Error(`${e.message}\n${err}`);
      });
      return { base, stop: stopper(proc) };
    },
  };
}

function pocketbaseTarget(bin: string, tables: string[]): Target {
  return {
    name: "PocketBase",
    kind: "pocketbase",
    async start(dir, data) {
      const pbDir = join(dir, "pb_data");
      const args = ["load", "--dir", pbDir, "--from", data, ...tables.flatMap((t) => ["--table", t])];
      const l = spawnSync(bin, args, { encoding: "utf8" });
      if (l.status !== 0) throw new Error(`pocketbase load failed: ${l.stderr}${l.stdout}`);
      const port = await freePort();
      const proc = spawn(bin, ["serve", "--http", `127.0.0.1:${port}`, "--dir", pbDir], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      proc.stderr!.on("data", (d) => (err += d));
      const base = `http://127.0.0.1:${port}`;
      await waitHTTP(`${base}/api/health`, proc, "pocketbase").catch((e) => {
        throw new Error(`${e.message}\n${err}`);
      });
      return { base, stop: stopper(proc) };
    },
  };
}

// ---------- the other figures ----------

/** Cold start to first answer on a copy of a SQLite file (coldStartOn). */
async function coldStart(hc: HostCommand, name: string, data: string, times = 5): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), "nh-bench-cold-"));
  try {
    const db = join(dir, "bench.db");
    copyFileSync(data, db);
    chmodSync(db, 0o644);
    return await coldStartOn(hc, name, db, times);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Cold start to first answer: spawn on --db db, then GET / until it answers; the first start (which sets the database up) is not counted. */
async function coldStartOn(hc: HostCommand, name: string, db: string, times = 5): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i <= times; i++) {
    const port = await freePort();
    const t0 = performance.now();
    const proc = spawn(hc.cmd, [...hc.args, "--db", db, "--port", String(port)], { cwd: root, stdio: "ignore" });
    const ms = await waitHTTP(`http://127.0.0.1:${port}/`, proc, name).then(() => performance.now() - t0);
    await stopper(proc)();
    if (i > 0) out.push(ms);
  }
  return out;
}

/** The median ns/op of each benchmark `go test -bench PATTERN` runs 5 times in pkg; null when it failed. */
function goBenchMedians(pkg: string, pattern: string): Record<string, number> | null {
  const r = sh("go", ["test", "-run", "^$", "-bench", pattern, "-benchtime", "1s", "-count", "5", pkg]);
  if (!r.ok) {
    log(`${pkg}: go test -bench failed: ${r.err.slice(0, 300)}`);
    return null;
  }
  const per: Record<string, number[]> = {};
  for (const m of r.out.matchAll(/^Benchmark(\w+)-\d+\s+\d+\s+([\d.]+) ns\/op/gm)) (per[m[1]] ??= []).push(Number(m[2]));
  return Object.fromEntries(Object.entries(per).map(([k, v]) => [k, median(v)]));
}

/** What a bench script (its last line, `{"ns": ...}`) measured on each JS runtime, by the names given. */
function runtimeNs(script: string, names: [string, string, string]): Record<string, Record<string, number>> {
  const rows: Record<string, Record<string, number>> = {};
  for (const [name, cmd, args] of [
    [names[0], "node", ["--no-warnings", script]],
    [names[1], "deno", ["run", "-A", script]],
    [names[2], "bun", [script]],
  ] as const) {
    const r = sh(cmd, [...args]);
    if (!r.ok) {
      log(`${name}: ${script} failed: ${r.err.slice(0, 300)}`);
      continue;
    }
    rows[name] = JSON.parse(r.out.split("\n").pop()!).ns;
  }
  return rows;
}

/** Median ns per plugin call, per host, from bench/plugins.ts and bindings/go/plugin's benchmarks (issue 24). */
function pluginCost(): Record<string, Record<string, number>> {
  const go = goBenchMedians("./bindings/go/plugin/", "^BenchmarkCall");
  return { ...(go ? { "Go (wazero)": go } : {}), ...runtimeNs("bench/plugins.ts", ["Node", "Deno", "Bun"]) };
}

/** Median ns/op per request, per runtime, from bench/core.ts and the Go benchmarks. */
function coreCost(): { rows: Record<string, Record<string, number>>; note: string } {
  const rows: Record<string, Record<string, number>> = {};
  const requests = "^Benchmark(ListPageHTML|ListJSON|RowPage|RowJSON|Create)$";
  for (const [pkg, name] of [
    ["./core/engine/", "native Go"],
    // The same requests on Chinook loaded into a throw-away Postgres cluster
    // (core/store/postgres/bench_test.go): the store beside SQLite, in-process.
    ["./core/store/postgres/", "native Go, Postgres"],
    ["./bindings/go/", "wasm, Go (wazero)"],
  ]) {
    const r = goBenchMedians(pkg!, requests);
    if (r) rows[name!] = r;
  }
  Object.assign(rows, runtimeNs("bench/core.ts", ["wasm, Node", "wasm, Deno", "wasm, Bun"]));
  return { rows, note: "Go: median of 5 `go test -bench` runs; runtimes: median of 7 timed batches after 1 s of warm-up" };
}

/** Runs one of the other bench scripts with --json and reads what it wrote. */
function subBench<T>(script: string, args: string[]): T | null {
  const out = join(mkdtempSync(join(tmpdir(), "nh-bench-sub-")), "out.json");
  log(`running ${script} ${args.join(" ")}`);
  const r = spawnSync("node", ["--no-warnings", script, ...args, "--json", out], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) {
    log(`${script} failed (exit ${r.status})`);
    return null;
  }
  return JSON.parse(readFileSync(out, "utf8")) as T;
}

// ---------- the report ----------

function machine(): string {
  const cpu = cpus();
  const v = (cmd: string, args: string[]) => {
    const r = sh(cmd, args);
    return r.ok ? r.out.split("\n")[0] : "absent";
  };
  return [
    `${cpu[0]?.model ?? "unknown CPU"}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `Go ${v("go", ["env", "GOVERSION"])}, Node ${v("node", ["--version"])}, ${v("deno", ["--version"])}, Bun ${v("bun", ["--version"])}`,
  ].join("; ");
}

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "–");
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : "–");

async function main(): Promise<void> {
  const t0 = performance.now();
  const started = new Date();
  const { path: data, chinook } = ensureData();
  if (!chinook) log("../shared/testdata/chinook.sqlite is absent: Chinook rows use items_1k, core cost is skipped");
  const wrk = sh("bash", ["scripts/ensure-wrk.sh"]);
  if (!wrk.ok) {
    console.error(`bench: no wrk, no throughput figures: ${wrk.err}`);
    process.exit(1);
  }
  const binDir = mkdtempSync(join(tmpdir(), "nh-bench-bin-"));
  const targets: Target[] = [];
  const hcs = HOST_NAMES.map((h) => [h, prepareHost(h, binDir)] as const);
  if (STORES.includes("sqlite")) for (const [h, hc] of hcs) targets.push(nhTarget(h, hc), nhRulesTarget(h, hc, chinook));
  if (STORES.includes("postgres")) {
    sh("bash", ["scripts/ensure-postgres.sh"]);
    const c = sharedCluster(); // stopped when the process exits
    const pgload = join(binDir, "pgload");
    const b = sh("go", ["build", "-o", pgload, "./bindings/go/postgres/pgtest/pgload"]);
    if (typeof c === "string") log(`Postgres rows skipped: ${c}`);
    else if (!b.ok) log(`Postgres rows skipped: pgload does not build: ${b.err.slice(0, 300)}`);
    else for (const [h, hc] of hcs) targets.push(nhPgTarget(h, hc, c, pgload, data, chinook));
  }
  const versions: string[] = [];
  if (PEERS.includes("datasette")) {
    const ds = sh("bash", ["scripts/ensure-datasette.sh"]);
    if (ds.ok) {
      targets.push(datasetteTarget(ds.out.split("\n").pop()!));
      versions.push(sh(ds.out.split("\n").pop()!, ["--version"]).out);
    } else log(`Datasette skipped: ${ds.err.slice(-300)}`);
  }
  if (PEERS.includes("pocketbase")) {
    const pb = sh("bash", ["scripts/ensure-pocketbase.sh"]);
    if (pb.ok) {
      const bin = pb.out.split("\n").pop()!;
      targets.push(pocketbaseTarget(bin, [...(chinook ? ["Track"] : []), "items_1k", "items_1m"]));
      versions.push(`PocketBase ${sh(bin, ["--version"]).out.replace(/^.*version\s*/i, "")}`);
    } else log(`PocketBase skipped: ${pb.err.slice(-300)}`);
  }
  versions.push(sh("wrk", ["--version"]).out.split("\n")[0] || "wrk");

  // Cold start first, on a quiet machine: measured after the throughput
  // runs, every start was 50 to 100 ms slower on this two-core machine
  // (likely what they leave behind: Postgres's autovacuum and checkpoints
  // after thousands of creates, dirty pages written back), which is the
  // bench's state, not a user's first start.
  const cold: Record<string, number[]> = {};
  if (!SKIP.has("cold")) {
    for (const t of targets.filter((t) => t.kind === "nh")) {
      log(`${t.name}: cold start`);
      cold[t.name] = await coldStart(t.hc!, t.name, chinook ? join(root, "..", "shared", "testdata", "chinook.sqlite") : data);
    }
    // On Postgres: a new database of the data (Chinook's tables, items_1k),
    // set up by the first start, which is not counted.
    for (const t of targets.filter((t) => t.kind === "nhpg" && t.fresh)) {
      log(`${t.name}: cold start`);
      cold[t.name] = await coldStartOn(t.hc!, t.name, t.fresh!());
    }
    // PGlite (the JS hosts' embedded Postgres), on an empty database: its
    // own start is most of it, and the rows above say what Chinook adds.
    if (STORES.includes("postgres")) {
      for (const t of targets.filter((t) => t.kind === "nh" && t.host !== "go" && t.host !== "wasm")) {
        const dir = mkdtempSync(join(tmpdir(), "nh-bench-pglite-"));
        try {
          log(`${t.name} on PGlite: cold start`);
          cold[`${t.name} on PGlite (empty)`] = await coldStartOn(t.hc!, t.name, `pglite:${join(dir, "db")}`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  }

  const W = works(chinook).filter((w) => WORKS.length === 0 || WORKS.includes(w.id));
  const results = new Map<string, Map<string, Load | string>>(); // work id -> target -> load or why not
  const luaDir = mkdtempSync(join(tmpdir(), "nh-bench-lua-"));
  for (const t of targets) {
    const dir = mkdtempSync(join(tmpdir(), "nh-bench-srv-"));
    try {
      log(`${t.name}: starting`);
      const s = await t.start(dir, data);
      try {
        for (const w of W) {
          const plain = t.kind === "nh" || t.kind === "nhpg" || t.kind === "nhrules" ? w.nh : t.kind === "datasette" ? w.datasette : w.pocketbase;
          const r = plain && s.headers ? { ...plain, headers: s.headers } : plain;
          const cell = results.get(w.id) ?? new Map();
          results.set(w.id, cell);
          if (!r || (t.only && !t.only.includes(w.id))) continue;
          const bad = await check(s.base, r, t.name);
          if (bad) {
            log(bad);
            cell.set(t.name, "error");
            continue;
          }
          const m = measure(wrk.out, s.base, r, luaDir);
          cell.set(t.name, m);
          log(`${t.name}: ${w.id}: ${fmt(m.rps)} req/s (runs ${m.runs.map((x) => fmt(x)).join("/")}), p50 ${fmt(m.p50, 2)} ms${m.errors ? `, ${m.errors} errors` : ""}`);
        }
      } finally {
        await s.stop();
      }
    } catch (e) {
      log(`${t.name}: ${e instanceof Error ? e.message : e}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // Import (issue 18): one CSV of IMPORT_ROWS rows into items_1k, per host,
  // beside sqlite3's own .import of the same file into a copy.
  const imports: Record<string, number[]> = {};
  if (!SKIP.has("import")) {
    const csvFile = join(luaDir, "import.csv");
    writeFileSync(csvFile, importCSV(IMPORT_ROWS));
    const body = readFileSync(csvFile);
    for (const t of targets.filter((t) => t.kind === "nh" || t.kind === "nhpg")) {
      const dir = mkdtempSync(join(tmpdir(), "nh-bench-imp-"));
      try {
        const s = await t.start(dir, data);
        try {
          const times: number[] = [];
          for (let i = 0; i < IMPORT_RUNS; i++) {
            const t1 = performance.now();
            const r = await fetch(s.base + "/api/tables/items_1k/rows", { method: "POST", body, headers: { "content-type": "text/csv", accept: "application/json" } });
            const text = await r.text();
            if (r.status !== 201) throw new Error(`import: ${r.status} ${text.slice(0, 200)}`);
            times.push(performance.now() - t1);
          }
          imports[t.name] = times;
          log(`${t.name}: import of ${IMPORT_ROWS} rows: ${times.map((x) => fmt(x)).join("/")} ms`);
        } finally {
          await s.stop();
        }
      } catch (e) {
        log(`${t.name}: import: ${e instanceof Error ? e.message : e}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const sqlite3 = sh("sqlite3", ["--version"]);
    if (sqlite3.ok) {
      const times: number[] = [];
      try {
        for (let i = 0; i < IMPORT_RUNS; i++) {
          const dir = mkdtempSync(join(tmpdir(), "nh-bench-imp-"));
          try {
            const db = join(dir, "copy.db");
            copyFileSync(data, db);
            const t1 = performance.now();
            // A new table takes its column names from the file's first line.
            const r = sh("sqlite3", [db, ".import --csv " + csvFile + " items_import", "INSERT INTO items_1k (name, qty, price, note) SELECT name, qty, price, note FROM items_import"]);
            if (!r.ok) throw new Error(r.err);
            times.push(performance.now() - t1);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }
        imports["sqlite3 .import"] = times;
      } catch (e) {
        log(`sqlite3 .import: ${e instanceof Error ? e.message : e}`);
      }
    }
  }
  const core = !SKIP.has("core") && chinook ? coreCost() : null;
  const plugins = SKIP.has("plugins") ? null : pluginCost();
  const wasm = readFileSync(join(root, "dist", "core.wasm"));
  const live = SKIP.has("live") ? null : subBench<LiveJSON>("bench/live.ts", ["--hosts", HOST_NAMES.join(","), "--streams", "1,1000", "--writes", values.quick ? "30" : "100", "--schema", "10"]);
  const stall = SKIP.has("stall") ? null : subBench<StallJSON>("bench/stall.ts", ["--hosts", HOST_NAMES.join(","), "--reads", values.quick ? "20" : "60"]);
  const inBrowser = SKIP.has("browser") ? null : subBench<BrowserJSON>("bench/browser.ts", ["--runs", values.quick ? "3" : "7"]);
  const offline = SKIP.has("offline") ? null : subBench<OfflineJSON>("bench/offline.ts", ["--runs", values.quick ? "3" : "5"]);
  let natsFig: NatsJSON | null = null;
  if (!SKIP.has("nats")) {
    const ns = sh("bash", ["scripts/ensure-nats-server.sh"]);
    if (ns.ok) natsFig = subBench<NatsJSON>("bench/nats.ts", ["--hosts", HOST_NAMES.join(","), ...(values.quick ? ["--writes", "50", "--load", "500"] : [])]);
    else log(`NATS skipped: ${ns.err.slice(-300)}`);
  }

  // ----- Markdown -----
  const L: string[] = [];
  const names = targets.map((t) => t.name);
  L.push(`# nakedhtmx benchmarks, ${started.toISOString().slice(0, 16).replace("T", " ")} UTC`, "");
  L.push(`Machine: ${machine()}. Peers: ${versions.join(", ")}.`, "");
  L.push(`Throughput: wrk, 1 thread, ${CONNECTIONS} connections, loopback; a warm-up run, then ${RUNS} run(s) of ${SECONDS} s; ` +
    `each cell is the median run's requests per second, with its p50 latency (ms). ` +
    `Every server has its own copy of the same file: ${chinook ? "Chinook, plus " : ""}items_1k (1,000 rows) and items_1m (1,000,000 rows). ` +
    `Datasette serves it immutable (-i) without facet suggestions, its fastest set-up; PocketBase's records API is asked with its defaults (it counts totalItems).`, "");
  L.push(`| work | ${names.join(" | ")} |`);
  L.push(`| --- | ${names.map(() => "---:").join(" | ")} |`);
  const cellOf = (id: string, n: string) => results.get(id)?.get(n);
  for (const w of W) {
    L.push(`| ${w.label} | ${names.map((n) => {
      const c = cellOf(w.id, n);
      if (c === undefined) return "n/a";
      if (typeof c === "string") return c;
      return `${fmt(c.rps)} (${fmt(c.p50, 2)})${c.errors ? ` ⚠ ${c.errors} errors` : ""}`;
    }).join(" | ")} |`);
  }
  L.push("");
  const rps = (id: string, n: string) => {
    const c = cellOf(id, n);
    return c && typeof c !== "string" ? c.rps : NaN;
  };
  const nhNames = targets.filter((t) => t.kind === "nh").map((t) => t.name);
  if (nhNames.length) {
    L.push("Ratios (requests per second of nakedhtmx on each host over the peer's; ≥ 2x Datasette and ≥ 1x PocketBase are the goals):", "");
    L.push(`| work | ${nhNames.map((n) => `${n.replace("nakedhtmx ", "")} / Datasette | ${n.replace("nakedhtmx ", "")} / PocketBase`).join(" | ")} |`);
    L.push(`| --- | ${nhNames.map(() => "---: | ---:").join(" | ")} |`);
    for (const w of W) {
      L.push(`| ${w.id} | ${nhNames.map((n) => `${ratio(rps(w.id, n), rps(w.id, "Datasette"))} | ${ratio(rps(w.id, n), rps(w.id, "PocketBase"))}`).join(" | ")} |`);
    }
    L.push("");
    L.push("Flat with size: time per request on the 1M-row table over the 1k-row table (goal ≤ 1.5x):", "");
    const sized = targets.filter((t) => t.kind !== "nhpg").map((t) => t.name); // no 1M-row table on Postgres
    L.push(`| page | ${sized.join(" | ")} |`);
    L.push(`| --- | ${sized.map(() => "---:").join(" | ")} |`);
    for (const [label, a, b] of [["HTML list", "html1m", "html1k"], ["JSON list", "json1m", "json1k"]]) {
      L.push(`| ${label} | ${sized.map((n) => ratio(rps(b, n), rps(a, n))).join(" | ")} |`);
    }
    L.push("");
  }
  const pgPairs = HOST_NAMES.map((h) => [h, `nakedhtmx ${h}`, `nakedhtmx ${h} on Postgres`] as const)
    .filter(([, lite, pg]) => names.includes(lite) && names.includes(pg));
  if (pgPairs.length) {
    L.push("Postgres beside SQLite, per host, in this run: requests per second on the same tables (Chinook's and items_1k, copied into a database of the suite's own throw-away cluster over a Unix socket by `pgload`), and Postgres over SQLite:", "");
    L.push(`| work | ${pgPairs.map(([h]) => `${h} SQLite | ${h} Postgres | ratio`).join(" | ")} |`);
    L.push(`| --- | ${pgPairs.map(() => "---: | ---: | ---:").join(" | ")} |`);
    for (const w of W.filter((w) => PG_WORKS.includes(w.id))) {
      L.push(`| ${w.id} | ${pgPairs.map(([, lite, pg]) => `${fmt(rps(w.id, lite))} | ${fmt(rps(w.id, pg))} | ${ratio(rps(w.id, pg), rps(w.id, lite))}`).join(" | ")} |`);
    }
    L.push("");
  }
  if (core) {
    const base = core.rows["native Go"] ?? {};
    const reqs = Object.keys(base);
    L.push(`Core cost in-process, no HTTP (µs per request on Chinook; ratio to native Go on SQLite; goal ≤ 1.5x for the wasm hosts; the Postgres row is the same engine on Chinook loaded into Postgres, over a Unix socket). ${core.note}.`, "");
    L.push(`| core | ${reqs.join(" | ")} |`);
    L.push(`| --- | ${reqs.map(() => "---:").join(" | ")} |`);
    for (const [name, r] of Object.entries(core.rows)) {
      L.push(`| ${name} | ${reqs.map((q) => `${fmt((r[q] ?? NaN) / 1000)}${name === "native Go" ? "" : ` (${ratio(r[q] ?? NaN, base[q])})`}`).join(" | ")} |`);
    }
    L.push("");
  }
  if (plugins && Object.keys(plugins).length) {
    const calls = ["Go", "AssemblyScript", "Echo"];
    L.push("Plugins (issue 24; not wired into pages yet): µs per call of the example validator on one small row, in Go and in AssemblyScript, and a Go plugin's echo of it (the ABI's own cost); on the JS hosts in the calling thread and through the worker that gives a call its time limit (what a host runs). Go: median of 5 `go test -bench` runs, with its time limit; JS: median of 7 batches.", "");
    L.push(`| host | ${calls.map((c) => `${c} | ${c}, worker`).join(" | ")} |`);
    L.push(`| --- | ${calls.map(() => "---: | ---:").join(" | ")} |`);
    for (const [name, r] of Object.entries(plugins)) {
      const cell = (k: string) => r[k] === undefined ? "–" : fmt(r[k] / 1000, 1);
      L.push(`| ${name} | ${calls.map((c) => `${cell(`Call${c}`)} | ${cell(`Call${c}Worker`)}`).join(" | ")} |`);
    }
    L.push("");
  }
  if (Object.keys(cold).length) {
    L.push("Cold start, spawn to first answer of `/` on a prepared Chinook file, or on Postgres a new database of the same tables (the first start, which sets either up, not counted; measured before the throughput runs; median of 5, ms; goal < 300):", "");
    L.push(`| host | median | runs |`, `| --- | ---: | --- |`);
    for (const [n, xs] of Object.entries(cold)) L.push(`| ${n} | ${fmt(median(xs))} | ${xs.map((x) => fmt(x)).join(", ")} |`);
    L.push("");
  }
  if (Object.keys(imports).length) {
    const base = imports["sqlite3 .import"] ? IMPORT_ROWS / (median(imports["sqlite3 .import"]) / 1000) : NaN;
    L.push(`Import: one CSV of ${fmt(IMPORT_ROWS)} rows into items_1k (POST text/csv: read, checked like creates, written in one transaction), ${IMPORT_RUNS} times per server; sqlite3's own \`.import\` of the same file into a copy, then one INSERT ... SELECT into items_1k. Rows per second of the median run, and over sqlite3's:`, "");
    L.push(`| host | rows/s | over sqlite3 | runs (ms) |`, `| --- | ---: | ---: | --- |`);
    for (const [n, xs] of Object.entries(imports)) {
      const rate = IMPORT_ROWS / (median(xs) / 1000);
      L.push(`| ${n} | ${fmt(rate)} | ${ratio(rate, base)} | ${xs.map((x) => fmt(x)).join(", ")} |`);
    }
    L.push("");
  }
  // gzip -9, the tool people measure with. Node's own zlib (Chromium's,
  // tuned for speed) makes a file about 1 % larger; both are printed.
  const gzCli = spawnSync("gzip", ["-9", "-c", join(root, "dist", "core.wasm")], { maxBuffer: 64 * 2 ** 20 });
  const gzNode = gzipSync(wasm, { level: 9 }).length;
  const gz = gzCli.status === 0 ? gzCli.stdout.length : gzNode;
  L.push(`core.wasm: ${fmt(wasm.length)} bytes, ${fmt(gz)} gzipped by ${gzCli.status === 0 ? "gzip -9" : "Node's zlib, level 9"} (${(gz / 2 ** 20).toFixed(3)} MiB; goal < 2 MiB; Node's zlib at level 9: ${fmt(gzNode)}).`, "");
  if (live) {
    L.push(`Live: commit to event on /api/events, ms (${live.writes} writes per setting; bench/live.ts):`, "");
    L.push("| host | streams | outside write p50 | p99 | own write p50 | p99 |", "| --- | ---: | ---: | ---: | ---: | ---: |");
    for (const r of live.rows) L.push(`| ${r.host} | ${r.streams} | ${fmt(r.outside50, 1)} | ${fmt(r.outside99, 1)} | ${fmt(r.own50, 1)} | ${fmt(r.own99, 1)} |`);
    L.push("");
  }
  if (stall) {
    L.push(`Stalls: a one-row read's latency, ms, idle and beside a CSV export of items_1m and searches no index serves over it, each in a loop (${stall.reads} reads; bench/stall.ts; goal: within a few times idle):`, "");
    L.push("| host | idle p50 | p99 | busy p50 | p99 | busy/idle | search p50 |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const r of stall.rows) L.push(`| ${r.host} | ${fmt(r.idle50, 1)} | ${fmt(r.idle99, 1)} | ${fmt(r.busy50, 1)} | ${fmt(r.busy99, 1)} | ${ratio(r.busy50, r.idle50)} | ${fmt(r.searchMs)} |`);
    L.push("");
  }
  if (inBrowser) {
    const p = inBrowser.phases;
    L.push(`The core in the browser (bench/browser.ts): from a new Chromium context to the core's first list page of ${inBrowser.table}, run in the page on sqlite-wasm from a ${fmt(inBrowser.bytes / 2 ** 20, 1)} MiB file, median of ${inBrowser.runs}, ms:`, "");
    L.push("| modules | sqlite-wasm | database | core.wasm | open | first page | total |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    L.push(`| ${fmt(p.modules ?? 0)} | ${fmt(p["sqlite-wasm"] ?? 0)} | ${fmt(p.database ?? 0)} | ${fmt(p["core.wasm"] ?? 0)} | ${fmt(p.open ?? 0)} | ${fmt(p["first page"] ?? 0)} | ${fmt(p.total ?? 0)} |`, "");
  }
  if (offline) {
    const s = offline.steps;
    L.push(`Offline (bench/offline.ts): the first page of ${offline.table} with the server stopped, answered by the offline service worker after a browser restart (it starts, opens the copy it keeps, renders), to the answer's first byte, median of ${offline.runs}, ms; the worker's steps are ms from its start (read: IndexedDB; core, sqlite: the two wasm modules compiled from its cache, in parallel; bytes: the database opened; instantiate, open: the core started and opened on it):`, "");
    L.push("| first page | next page (warm) | read | core | sqlite | bytes | instantiate | open |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    L.push(`| ${fmt(offline.first)} | ${fmt(offline.warm)} | ${fmt(s.read ?? 0)} | ${fmt(s.core ?? 0)} | ${fmt(s.sqlite ?? 0)} | ${fmt(s.bytes ?? 0)} | ${fmt(s.instantiate ?? 0)} | ${fmt(s.open ?? 0)} |`, "");
  }
  if (natsFig) {
    L.push("Scale-out on NATS (--write jetstream, two nodes of a host, one nats-server; bench/nats.ts), ms and commands per second:", "");
    L.push("| host | A→B screen p50 | p99 | POST on A p50 | p99 | applied/s |", "| --- | ---: | ---: | ---: | ---: | ---: |");
    for (const r of natsFig.rows) L.push(`| ${r.host} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.rtt50, 1)} | ${fmt(r.rtt99, 1)} | ${fmt(r.rateB)} |`);
    L.push("");
  }
  L.push(`(${((performance.now() - t0) / 60000).toFixed(1)} min in all.)`);
  const md = L.join("\n") + "\n";
  console.log("\n" + md);
  const outFile = values.out ?? join(tmpdir(), "nakedhtmx-bench", `bench-${started.toISOString().slice(0, 19).replace(/[:T]/g, "-")}.md`);
  mkdirSync(join(outFile, ".."), { recursive: true });
  writeFileSync(outFile, md);
  cpSync(outFile, join(outFile, "..", "latest.md"));
  console.error(`bench: written to ${outFile}`);
  rmSync(binDir, { recursive: true, force: true });
  rmSync(luaDir, { recursive: true, force: true });
}

interface LiveJSON {
  writes: number;
  rows: { host: string; streams: number; outside50: number; outside99: number; own50: number; own99: number }[];
}
interface StallJSON {
  reads: number;
  rows: { host: string; idle50: number; idle99: number; busy50: number; busy99: number; searchMs: number }[];
}
interface NatsJSON {
  rows: { host: string; p50: number; p99: number; rtt50: number; rtt99: number; rateA: number; rateB: number }[];
}

await main();
process.exit(0);
