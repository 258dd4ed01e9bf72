// The golden corpus in a real browser (issue 19, "the same HTML byte for byte
// as the server would send for the same data"): Chromium loads the same
// core.wasm and the TypeScript host's portable modules (dist/core.js,
// dist/sqlite_wasm.js) from a loopback server, runs every case on SQLite
// compiled to WebAssembly (sqlite-wasm, in memory, in the page), and hands the
// answers back; each is compared byte for byte with testdata/corpus/*/out.
//
//   node tests/browser/corpus.ts [--chromium PATH] [CASE...]
//
// Needs make build (dist/) and Chromium (scripts/ensure-chromium.sh).

import { existsSync, readdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { compareCase, type CorpusCase, readCase } from "../../bindings/ts/test/golden.ts";
import { repoRoot } from "../http/fixture.ts";
import { hostFiles, launch, serveFiles } from "./setup.ts";

const { values, positionals } = parseArgs({
  options: {
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
    headed: { type: "boolean", default: false },
  },
  allowPositionals: true,
});

const corpusDir = join(repoRoot, "testdata", "corpus");

/** An answer as it crosses from the page: the body in base64. */
interface Answer {
  status: number;
  headers: [string, string][];
  body: string; // base64
}

/**
 * Runs in the page: one case, every request in order on one core, as
 * bindings/ts/test/corpus.ts does on a server runtime. Nothing here may name
 * anything outside the function (it is sent as its source).
 */
async function runInPage(c: CorpusCase): Promise<Answer[] | string> {
  type Mod = Record<string, unknown>;
  const importURL = (u: string) => import(new URL(u, location.href).href) as Promise<Mod>;
  const [coreMod, storeMod, sqliteMod] = await Promise.all([
    importURL("/dist/core.js"),
    importURL("/dist/sqlite_wasm.js"),
    importURL("/sqlite/index.mjs"),
  ]);
  type Head = { method: string; path: string; query: string; headers: Record<string, string>; continue?: string };
  type Res = { head: { status?: number; headers?: [string, string][]; continue?: string }; body: Uint8Array };
  type Store = { run(r: { sql: string; params: unknown[]; script: boolean }): { error?: string }; close(): void };
  const sqlite3 = await (sqliteMod.default as () => Promise<unknown>)();
  const db = (storeMod.openWasmDatabase as (s: unknown) => Store)(sqlite3);
  const logged: string[] = [];
  try {
    if (c.schema !== "") {
      const r = db.run({ sql: c.schema, params: [], script: true });
      if (r.error) return `schema.sql: ${r.error}`;
    }
    const Core = coreMod.Core as {
      load(o: unknown): Promise<{ open(r: unknown): string; handle(h: Head, b: Uint8Array): Res }>;
    };
    const core = await Core.load({
      db,
      host: "browser",
      wasm: new URL("/dist/core.wasm", location.href),
      log: (l: string) => logged.push(l),
    });
    core.open({ basePath: c.basePath, offline: c.offline, config: c.config, host: "browser", authToken: "", keepJournalMode: true });
    const enc = new TextEncoder();
    const b64 = (b: Uint8Array) => {
      let s = "";
      for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
      return btoa(s);
    };
    const out: Answer[] = [];
    for (const r of c.requests) {
      const head: Head = {
        method: r.method,
        path: r.path,
        query: r.query ?? "",
        headers: { host: "localhost", ...r.headers },
      };
      const first = core.handle(head, enc.encode(r.body ?? ""));
      const parts = [first.body];
      for (let token = first.head.continue; token;) {
        const next = core.handle({ ...head, continue: token }, new Uint8Array(0));
        parts.push(next.body);
        token = next.head.continue;
      }
      const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) {
        body.set(p, off);
        off += p.length;
      }
      out.push({ status: first.head.status ?? 0, headers: first.head.headers ?? [], body: b64(body) });
    }
    return out;
  } catch (e) {
    return `${String(e)}${logged.length ? `\nthe core logged:\n${logged.join("\n")}` : ""}`;
  } finally {
    db.close();
  }
}

const cases = readdirSync(corpusDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(corpusDir, d.name, "requests.json")))
  .map((d) => d.name)
  .filter((n) => positionals.length === 0 || positionals.includes(n))
  .sort();

for (const need of ["core.wasm", "core.js", "sqlite_wasm.js"]) {
  if (!existsSync(join(repoRoot, "dist", need))) {
    console.error(`browser corpus: dist/${need} is missing: run make build`);
    process.exit(1);
  }
}

const server = await serveFiles(hostFiles());
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
const browser = await launch(values.chromium!, values.headed!);
let failed = 0, passed = 0;
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(base);
  const userAgent = await page.evaluate(() => navigator.userAgent);
  console.log(`browser corpus: ${userAgent.match(/(Headless)?Chrom(e|ium)\/[\d.]+/)?.[0] ?? userAgent}`);
  for (const name of cases) {
    const dir = join(corpusDir, name);
    const c = readCase(dir);
    const started = Date.now();
    const got = await page.evaluate(runInPage, c);
    const problems = typeof got === "string" ? [got] : compareCase(
      name,
      dir,
      c,
      got.map((a) => ({ ...a, body: new Uint8Array(Buffer.from(a.body, "base64")) })),
      "go test ./core/engine -run Corpus -update",
    );
    if (problems.length) {
      failed++;
      console.log(`  FAIL  ${name}\n        ${problems.join("\n").replaceAll("\n", "\n        ")}`);
    } else {
      passed++;
      console.log(`  ok    ${name} (${Date.now() - started} ms)`);
    }
  }
} finally {
  await browser.close();
  server.close();
}
console.log(`browser corpus: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
