// The core's own cost on one runtime: the wasm core, loaded in-process as the
// hosts load it, answers the same requests as core/engine's Go benchmarks
// (native) and bindings/go's (wazero), with no HTTP in between. Run it with
// each runtime: `node bench/core.ts`, `deno run -A bench/core.ts`,
// `bun bench/core.ts`. Prints one JSON line: {"runtime", "ns": {name: ns/op}},
// each the median of several timed batches.
//
// NAKEDHTMX_LATER=1: the same SQLite answers every statement later (a
// resolved promise), through nh_start/nh_resume (PROTOCOL.md, "Stores that
// answer later"): the cost of parking the core at every statement, with no
// store latency in it. The line then carries "later": true.
//
// Every line carries "calls": per request once warm, the SQL messages the
// core sent its host (crossings out of the module; PROTOCOL.md, "Statements
// in one call") and the statements in them.

import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Core, loadModule } from "../bindings/ts/src/core.ts";
import type { RequestHead } from "../bindings/ts/src/protocol.ts";
import type { AsyncDatabase, Database } from "../bindings/ts/src/sqlite.ts";
import { chinookPath, root } from "./data.ts";

declare const Bun: unknown;
declare const Deno: unknown;
const runtime = typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" ? "deno" : "node";

// The same requests as the Go benchmarks, with the status each answers.
const CORE_REQUESTS: Record<string, RequestHead & { status?: number; body?: string }> = {
  ListPageHTML: { method: "GET", path: "/t/Track", query: "", headers: { host: "localhost", accept: "text/html" } },
  ListJSON: {
    method: "GET",
    path: "/api/tables/Track/rows",
    query: "limit=50",
    headers: { host: "localhost", accept: "text/html" },
  },
  RowPage: { method: "GET", path: "/t/Track/r/1000", query: "", headers: { host: "localhost", accept: "text/html" } },
  RowJSON: {
    method: "GET",
    path: "/api/tables/Track/rows/1000",
    query: "",
    headers: { host: "localhost", accept: "text/html" },
  },
  Create: {
    method: "POST",
    path: "/api/tables/Genre/rows",
    query: "",
    headers: { host: "localhost", accept: "application/json", "content-type": "application/json" },
    body: `{"Name": "bench genre"}`,
    status: 201,
  },
};

async function openDatabase(path: string): Promise<Database> {
  if (runtime === "bun") return (await import("../bindings/ts/src/sqlite_bun.ts")).openDatabase(path);
  return (await import("../bindings/ts/src/sqlite_node.ts")).openDatabase(path);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "nh-bench-core-"));
  try {
    const file = join(dir, "chinook.db");
    copyFileSync(chinookPath, file);
    const db = await openDatabase(file);
    const later = process.env.NAKEDHTMX_LATER === "1";
    const store: Database | AsyncDatabase = later
      ? {
        answersLater: true,
        run: (req) => Promise.resolve(db.run(req)),
        close: () => db.close(),
      }
      : db;
    const core = await Core.load({
      db: store,
      host: runtime,
      wasm: await loadModule(process.env.NAKEDHTMX_WASM ?? join(root, "dist", "core.wasm")),
      log: () => {},
    });
    const openReq = { basePath: "", config: null, host: runtime, authToken: "", write: "direct", node: "bench" };
    if (later) await core.openAsync(openReq);
    else core.open(openReq);
    const perRequest: Record<string, { messages: number; statements: number }> = {};
    const ns: Record<string, number> = {};
    // NAKEDHTMX_ONLY=ListJSON: one request, for a profiler run.
    const only = process.env.NAKEDHTMX_ONLY;
    for (
      const [name, { status = 200, body = "", ...head }] of Object.entries(CORE_REQUESTS).filter(([n]) =>
        !only || n === only
      )
    ) {
      const bytes = new TextEncoder().encode(body);
      const check = (res: { head: { status?: number } }) => {
        if (res.head.status !== status) throw new Error(`${name}: status ${res.head.status}`);
      };
      // The synchronous loop stays free of promises: its figures are the hosts' own.
      const times = later
        ? async (k: number) => {
          for (let i = 0; i < k; i++) check(await core.handleAsync(head, bytes));
        }
        : (k: number) => {
          for (let i = 0; i < k; i++) check(core.handle(head, bytes));
        };
      await times(1);
      // Warm up until the JIT has settled (a second), then time batches of
      // about half a second each.
      const warmUntil = performance.now() + 1000;
      let n = 0;
      const before = { ...core.sqlCalls };
      while (performance.now() < warmUntil) {
        await times(10);
        n += 10;
      }
      // Per request, as it is once warm (the first one fills caches).
      perRequest[name] = {
        messages: (core.sqlCalls.messages - before.messages) / n,
        statements: (core.sqlCalls.statements - before.statements) / n,
      };
      const batch = Math.max(1, Math.round(n / 2));
      const per: number[] = [];
      for (let b = 0; b < 7; b++) {
        const t0 = performance.now();
        await times(batch);
        per.push(((performance.now() - t0) * 1e6) / batch);
      }
      ns[name] = Math.round(median(per));
    }
    db.close();
    console.log(JSON.stringify(later ? { runtime, later, ns, calls: perRequest } : { runtime, ns, calls: perRequest }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
