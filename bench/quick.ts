// A quick throughput loop (issue 2's figures; the full harness with peers
// comes with the benchmark issue). For each host: start it on a private copy
// of Chinook, measure cold start (spawn to the URL line), then hammer the
// 50-row list page with fixed concurrency for a few seconds, three runs, and
// report the median requests per second. Run: node bench/quick.ts [hosts...]
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const chinook = resolve(root, "..", "shared", "testdata", "chinook.sqlite");
const hosts: Record<string, string[]> = {
  go: [join(root, "dist", "bench", "nakedhtmx")],
  wasm: [join(root, "dist", "bench", "nakedhtmx-wasm"), "--wasm", join(root, "dist", "core.wasm")],
  deno: ["deno", "run", "-A", join(root, "deno", "serve.ts")],
  bun: ["bun", join(root, "npm", "bin", "nakedhtmx.js")],
  node: ["node", join(root, "npm", "bin", "nakedhtmx.js")],
};
const CONCURRENCY = 16;
const SECONDS = 3;
const RUNS = 3;
const PATHS = ["/t/Track", "/api/tables/Track/rows?limit=50"];

function start(cmd: string[], db: string): Promise<{ proc: ChildProcess; url: string; ms: number }> {
  const t0 = performance.now();
  const proc = spawn(cmd[0], [...cmd.slice(1), "--db", db, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((ok, fail) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d;
      const m = out.match(/http:\/\/[^\s]+\//);
      if (m) ok({ proc, url: m[0].replace(/\/$/, ""), ms: performance.now() - t0 });
    });
    proc.stderr!.on("data", (d: Buffer) => process.stderr.write(d));
    proc.on("exit", (code) => fail(new Error(`${cmd.join(" ")} exited ${code}`)));
  });
}

async function load(url: string): Promise<number> {
  let done = 0;
  const until = performance.now() + SECONDS * 1000;
  async function worker() {
    while (performance.now() < until) {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
      done++;
    }
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return done / ((performance.now() - t0) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!existsSync(chinook)) {
  console.log("bench: ../shared/testdata/chinook.sqlite is absent; skipped");
  process.exit(0);
}
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(hosts);
const rows: string[] = [];
for (const name of wanted) {
  const dir = mkdtempSync(join(tmpdir(), "nh-bench-"));
  const db = join(dir, "chinook.db");
  copyFileSync(chinook, db);
  const { proc, url, ms } = await start(hosts[name], db);
  const figures: string[] = [];
  for (const path of PATHS) {
    await load(url + path); // warm-up run, not counted
    const runs: number[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await load(url + path));
    figures.push(`${median(runs).toFixed(0)} (${runs.map((r) => r.toFixed(0)).join("/")})`);
  }
  proc.kill("SIGTERM");
  await new Promise((r) => proc.on("exit", r));
  rows.push(`| ${name} | ${ms.toFixed(0)} | ${figures.join(" | ")} |`);
}
console.log(`\nconcurrency ${CONCURRENCY}, ${SECONDS}s runs, median of ${RUNS} (runs in brackets), req/s\n`);
console.log(`| host | cold start ms | HTML list /t/Track | JSON list 50 rows |`);
console.log(`| --- | --- | --- | --- |`);
for (const r of rows) console.log(r);
