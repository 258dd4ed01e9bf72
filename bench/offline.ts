// Offline use (issue 19): how long the first page takes when the server
// cannot be reached, answered by the offline service worker from the copy
// it keeps. A Chromium profile on disk visits the Node host once (the
// worker installs and copies what the caller may see), the server stops,
// then for each run the browser starts again on that profile and opens a
// list page: the worker starts, opens the kept copy (IndexedDB, core.wasm
// and sqlite-wasm from its cache, the core opened on the bytes) and renders
// the page. Also the next page, the worker running (warm).
//
//   node bench/offline.ts [--runs 5] [--json FILE]
//
// Times are the page's navigation timing, from the request to the answer's
// first byte; the worker's own steps (ms from its start) come from
// GET /offline/status. Medians of the runs.

import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import { firstByte, launchPersistent, offlineStatus, serve } from "../tests/browser/setup.ts";
import { chinookPath, fill, ITEMS } from "./data.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    json: { type: "string" },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
  },
});

export interface OfflineJSON {
  runs: number;
  table: string;
  /** Medians, ms: the first page after a restart, the next one (warm), and the worker's steps. */
  first: number;
  warm: number;
  steps: Record<string, number>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const tmp = mkdtempSync(join(tmpdir(), "nh-bench-offline-"));
const dbFile = join(tmp, "bench.sqlite");
const chinook = existsSync(chinookPath);
if (chinook) copyFileSync(chinookPath, dbFile);
else {
  const db = new DatabaseSync(dbFile);
  fill(db, "items_1k", ITEMS.items_1k);
  db.close();
}
const [table, next] = chinook ? ["Track", "Album"] : ["items_1k", "items_1k?sort=name"];

const firsts: number[] = [], warms: number[] = [];
const steps: Record<string, number[]> = {};
const server = await serve("bench offline", "node", tmp, dbFile);
const url = server.url;
const profile = join(tmp, "profile");
let ctx = await launchPersistent(values.chromium!, false, profile);
try {
  let page = ctx.pages()[0] ?? await ctx.newPage();
  await page.goto(new URL(`t/${table}`, url).href);
  for (let end = Date.now() + 120_000; !(await offlineStatus(page))?.copy;) {
    if (Date.now() > end) throw new Error("the worker made no copy in 2 minutes");
    await new Promise((r) => setTimeout(r, 200));
  }
  await server.stop();
  for (let i = 0; i < Number(values.runs); i++) {
    await ctx.close();
    ctx = await launchPersistent(values.chromium!, false, profile);
    page = ctx.pages()[0] ?? await ctx.newPage();
    const res = await page.goto(new URL(`t/${table}`, url).href);
    if (res?.status() !== 200 || res.headers()["x-nakedhtmx-offline"] !== "1") throw new Error(`offline page: ${res?.status()}`);
    firsts.push(await firstByte(page));
    for (const [k, v] of Object.entries((await offlineStatus(page))?.opening ?? {})) (steps[k] ??= []).push(v);
    await page.goto(new URL(`t/${next}`, url).href);
    warms.push(await firstByte(page));
  }
} finally {
  await ctx.close();
  rmSync(tmp, { recursive: true, force: true });
}
const out: OfflineJSON = {
  runs: firsts.length,
  table,
  first: Math.round(median(firsts)),
  warm: Math.round(median(warms)),
  steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, Math.round(median(v))])),
};
console.log(`offline: the first page of ${table} with the server away, after a browser restart, median of ${out.runs}: ` +
  `${out.first} ms to its first byte (the next page: ${out.warm} ms); the worker's steps, ms from its start: ${JSON.stringify(out.steps)}`);
if (values.json) writeFileSync(values.json, JSON.stringify(out));
