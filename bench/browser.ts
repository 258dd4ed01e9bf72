// The core in the browser (issue 19): how long a page takes from nothing to
// the core's first answer, running the core itself beside it: the host's
// modules imported, sqlite-wasm started, a database file's bytes fetched and
// opened in memory, core.wasm fetched and compiled, the core opened on it
// (reflection, its own tables), and one list page rendered. Each run is a new
// browser context (no cache of the last one), in Debian's Chromium.
//
//   node bench/browser.ts [--db FILE] [--table NAME] [--runs 7] [--json FILE]
//
// Medians of the runs, per phase, in ms.

import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { AddressInfo } from "node:net";
import { hostFiles, launch, serveFiles } from "../tests/browser/setup.ts";
import { DatabaseSync } from "node:sqlite";
import { chinookPath, fill, ITEMS } from "./data.ts";

const { values } = parseArgs({
  options: {
    db: { type: "string" },
    table: { type: "string" },
    runs: { type: "string", default: "7" },
    json: { type: "string" },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
  },
});

export interface BrowserJSON {
  runs: number;
  table: string;
  bytes: number;
  /** Median ms per phase, and of the whole (each run's own sum, not the sum of medians). */
  phases: Record<string, number>;
}

// The local copy is what a user opened, not the benchmark's million rows:
// Chinook when it is there, else a file of items_1k alone.
function defaultData(): { path: string; chinook: boolean } {
  if (existsSync(chinookPath)) return { path: chinookPath, chinook: true };
  const path = join(mkdtempSync(join(tmpdir(), "nh-bench-items-")), "items.sqlite");
  const db = new DatabaseSync(path);
  fill(db, "items_1k", ITEMS.items_1k);
  db.close();
  return { path, chinook: false };
}
const data = values.db ? { path: values.db, chinook: false } : defaultData();
const table = values.table ?? (data.chinook ? "Track" : "items_1k");
const tmp = mkdtempSync(join(tmpdir(), "nh-bench-browser-"));
copyFileSync(data.path, join(tmp, "bench.sqlite"));
const server = await serveFiles({ ...hostFiles(), "/data/": tmp });
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
const browser = await launch(values.chromium!, false);

/** Runs in the page; names nothing outside itself. */
async function firstAnswer(table: string): Promise<Record<string, number>> {
  const t: Record<string, number> = {};
  let last = performance.now();
  const mark = (name: string) => {
    const now = performance.now();
    t[name] = now - last;
    last = now;
  };
  const importURL = (u: string) => import(new URL(u, location.href).href) as Promise<Record<string, unknown>>;
  const [coreMod, storeMod, sqliteMod] = await Promise.all([
    importURL("/dist/core.js"),
    importURL("/dist/sqlite_wasm.js"),
    importURL("/sqlite/index.mjs"),
  ]);
  mark("modules");
  const sqlite3 = await (sqliteMod.default as () => Promise<unknown>)();
  mark("sqlite-wasm");
  const bytes = new Uint8Array(await (await fetch("/data/bench.sqlite")).arrayBuffer());
  type Store = { close(): void };
  const db = (storeMod.openWasmDatabase as (s: unknown, b: Uint8Array) => Store)(sqlite3, bytes);
  mark("database");
  type Core = {
    open(r: unknown): string;
    handle(h: unknown, b: Uint8Array): { head: { status?: number } };
  };
  const core = await (coreMod.Core as { load(o: unknown): Promise<Core> }).load({
    db,
    host: "browser",
    wasm: new URL("/dist/core.wasm", location.href),
    log: () => {},
  });
  mark("core.wasm");
  core.open({ basePath: "", config: null, host: "browser", authToken: "", keepJournalMode: true });
  mark("open");
  const r = core.handle({ method: "GET", path: `/t/${table}`, query: "", headers: { host: "localhost", accept: "text/html" } }, new Uint8Array());
  mark("first page");
  if (r.head.status !== 200) throw new Error(`GET /t/${table}: ${r.head.status}`);
  db.close();
  return t;
}

const runs: Record<string, number>[] = [];
try {
  for (let i = 0; i < Number(values.runs); i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base);
    const t = await page.evaluate(firstAnswer, table);
    t["total"] = Object.values(t).reduce((a, b) => a + b, 0);
    runs.push(t);
    await context.close();
  }
} finally {
  await browser.close();
  server.close();
  rmSync(tmp, { recursive: true, force: true });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const phases: Record<string, number> = {};
for (const k of Object.keys(runs[0] ?? {})) phases[k] = Math.round(median(runs.map((r) => r[k]!)));
const { size } = statSync(data.path);
const out: BrowserJSON = { runs: runs.length, table, bytes: size, phases };
console.log(`browser: the core's first answer in Chromium (${table}, a ${(size / 2 ** 20).toFixed(1)} MiB file), median of ${runs.length}, ms:`);
for (const [k, v] of Object.entries(phases)) console.log(`  ${k.padEnd(12)} ${v}`);
if (values.json) writeFileSync(values.json, JSON.stringify(out));
