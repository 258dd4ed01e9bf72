// Runs the golden corpus (testdata/corpus, format in its README.md) through
// core.wasm on this runtime and compares every answer byte for byte with the
// expected files. It only compares; `go test ./core/engine -run Corpus -update`
// writes them.
//
//   deno run -A bindings/ts/test/corpus.ts [CASE...]
//   bun bindings/ts/test/corpus.ts
//   node bindings/ts/test/corpus.ts
//
// NAKEDHTMX_WASM=path runs another core.wasm.
//
// --postgres runs the Postgres leg (testdata/corpus/postgres) instead, each
// case on the database NAKEDHTMX_CORPUS_PG names for it ({"case": "postgres://…"},
// set up by bindings/go's TestCorpusPostgresOnJSHosts, which runs this).

import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Core } from "../src/core.ts";
import type { RequestHead } from "../src/protocol.ts";
import { check, run, runtimeName, test } from "./harness.ts";
import { openDatabaseForRuntime } from "./runtime.ts";
import type { AsyncDatabase, Database } from "../src/sqlite.ts";
import { openPostgres } from "../src/postgres.ts";
import { openWasmDatabase, type SQLiteWasm } from "../src/sqlite_wasm.ts";
import { compareCase, type CorpusAnswer, readCase } from "./golden.ts";

// --store wasm: every case on SQLite compiled to WebAssembly (sqlite-wasm,
// in memory), the store a browser runs the core on (sqlite_wasm.ts).
const onWasmSQLite = process.argv.includes("--store") && process.argv[process.argv.indexOf("--store") + 1] === "wasm";
const pgCases = process.argv.includes("--postgres")
  ? JSON.parse(process.env["NAKEDHTMX_CORPUS_PG"] ?? "{}") as Record<string, string>
  : null;
const root = fileURLToPath(
  new URL(pgCases ? "../../../testdata/corpus/postgres/" : "../../../testdata/corpus/", import.meta.url),
);
const utf8 = new TextEncoder();

const openDatabase = await openDatabaseForRuntime();
const wasm = process.env["NAKEDHTMX_WASM"] || undefined;
const only = process.argv.slice(2).filter((a, i, all) => !a.startsWith("-") && all[i - 1] !== "--store");
const sqliteWasm = onWasmSQLite ? (await import("@sqlite.org/sqlite-wasm")).default : undefined;
const wasmSQLite = sqliteWasm ? await sqliteWasm() : undefined;

const cases = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, d.name, "requests.json")))
  .map((d) => d.name)
  .filter((name) => only.length === 0 || only.includes(name))
  .filter((name) => pgCases === null || name in pgCases)
  .sort();

// Every case twice: with the store answering at once, as node:sqlite and
// bun:sqlite do, and with the same SQLite answering later (a promise, as
// Postgres or a browser store will), through nh_start and nh_resume: the
// answers must be the same bytes (PROTOCOL.md, "Stores that answer later").
for (const name of cases) {
  // On Postgres the store answers later, always.
  for (const later of pgCases ? [true] : [false, true]) {
    test(later ? `${name} (the store answering later)` : name, async () => {
      const dir = join(root, name);
      const c = readCase(dir);

      const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-corpus-"));
      // On Postgres the database is set up already (schema.sql in its dialect, or a load).
      const pg = pgCases ? await openPostgres(pgCases[name]!, "") : null;
      const db = pg ??
        (wasmSQLite ? openWasmDatabase(wasmSQLite as unknown as SQLiteWasm) : openDatabase(join(tmp, "corpus.db")));
      try {
        if (pg === null && c.schema !== "") {
          const r = (db as Database).run({ sql: c.schema, params: [], script: true });
          if ("error" in r) throw new Error(`schema.sql: ${r.error}`);
        }
        // The core's log lines (a recovered panic prints its stack) only matter when a case fails.
        const logged: string[] = [];
        const store = pg ?? (later ? answeringLater(db as Database) : db as Database);
        const core = await Core.load({ db: store, host: runtimeName, wasm, log: (line) => logged.push(line) });
        const openReq = {
          basePath: c.basePath,
          offline: c.offline,
          config: c.config,
          host: runtimeName,
          authToken: "",
          // A database in memory keeps its journal mode ("memory"): there is no WAL without a file.
          ...(wasmSQLite ? { keepJournalMode: true } : {}),
          ...(pg ? { store: "postgres" as const, pgSchema: pg.schema } : {}),
        };
        if (later) await core.openAsync(openReq);
        else core.open(openReq);
        const handle = (head: RequestHead, body: Uint8Array) =>
          later ? core.handleAsync(head, body) : core.handle(head, body);
        const answers: CorpusAnswer[] = [];
        for (const r of c.requests) {
          const head: RequestHead = {
            method: r.method,
            path: r.path,
            query: r.query ?? "",
            headers: { host: "localhost", ...r.headers },
          };
          const first = await handle(head, utf8.encode(r.body ?? ""));
          const parts = [first.body];
          let total = first.body.length;
          for (let token = first.head.continue; token;) {
            const next = await handle({ ...head, continue: token }, new Uint8Array(0));
            parts.push(next.body);
            total += next.body.length;
            token = next.head.continue;
          }
          const body = new Uint8Array(total);
          let off = 0;
          for (const p of parts) {
            body.set(p, off);
            off += p.length;
          }
          answers.push({ status: first.head.status ?? 0, headers: first.head.headers ?? [], body });
        }
        const regenerate = `go test ./core/${pgCases ? "store/postgres" : "engine"} -run Corpus -update`;
        const problems = compareCase(name, dir, c, answers, regenerate);
        if (problems.length && logged.length) problems.push(`the core logged:\n${logged.join("\n")}`);
        check(problems.length === 0, problems.join("\n"));
      } finally {
        await db.close();
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }
}

/** The same SQLite, answering every statement later: after the current task. */
function answeringLater(db: Database): AsyncDatabase {
  return {
    answersLater: true,
    path: db.path,
    run: (req) => new Promise((resolve) => setTimeout(() => resolve(db.run(req)), 0)),
    close: () => db.close(),
  };
}

process.exit(await run("corpus"));
