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

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
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

const pgCases = process.argv.includes("--postgres")
  ? JSON.parse(process.env["NAKEDHTMX_CORPUS_PG"] ?? "{}") as Record<string, string>
  : null;
const root = fileURLToPath(
  new URL(pgCases ? "../../../testdata/corpus/postgres/" : "../../../testdata/corpus/", import.meta.url),
);
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

interface CorpusRequest {
  method: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** The answer as the expected files hold it: status, headers, empty line, body. */
function format(status: number, headers: [string, string][], body: Uint8Array): Uint8Array {
  let head = `${status}\n`;
  for (const [k, v] of headers) head += `${k}: ${v}\n`;
  head += "\n";
  const h = utf8.encode(head);
  const out = new Uint8Array(h.length + body.length);
  out.set(h);
  out.set(body, h.length);
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A unified-ish line diff (LCS), saying where each changed line parts from the expected one. */
export function diff(want: string, got: string, context = 2): string {
  const a = want.split("\n");
  const b = got.split("\n");
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) return `(too long to diff: ${n} vs ${m} lines)`;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: { op: " " | "-" | "+"; line: string }[] = [];
  for (let i = 0, j = 0; i < n || j < m;) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ op: " ", line: a[i]! });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ op: "-", line: a[i++]! });
    else ops.push({ op: "+", line: b[j++]! });
  }
  const show = ops.map(() => false);
  ops.forEach((o, k) => {
    if (o.op === " ") return;
    for (let c = Math.max(0, k - context); c <= Math.min(ops.length - 1, k + context); c++) show[c] = true;
  });
  const clip = (s: string) => (s.length > 300 ? s.slice(0, 300) + `… (${s.length} chars)` : s);
  const out: string[] = [];
  let gap = false;
  ops.forEach((o, k) => {
    if (!show[k]) {
      gap = true;
      return;
    }
    if (gap && out.length) out.push("  ...");
    gap = false;
    const prev = ops[k - 1];
    if (o.op === "+" && prev?.op === "-") {
      // A changed line: where the two part matters more than either whole line.
      let col = 0;
      while (col < prev.line.length && prev.line[col] === o.line[col]) col++;
      const from = Math.max(0, col - 40);
      out.push(`+ ${clip(o.line)}`);
      out.push(
        `  (parts at column ${col + 1}: want …${JSON.stringify(prev.line.slice(from, col + 60))}, got …${
          JSON.stringify(o.line.slice(from, col + 60))
        })`,
      );
      return;
    }
    out.push(`${o.op} ${clip(o.line)}`);
  });
  return out.join("\n");
}

const openDatabase = await openDatabaseForRuntime();
const wasm = process.env["NAKEDHTMX_WASM"] || undefined;
const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));

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
      const requests = JSON.parse(readFileSync(join(dir, "requests.json"), "utf8")) as CorpusRequest[];
      const schemaPath = join(dir, "schema.sql");
      const schema = existsSync(schemaPath) ? readFileSync(schemaPath, "utf8") : "";
      const configPath = join(dir, "config.json");
      const config: unknown = existsSync(configPath) ? JSON.parse(readFileSync(configPath, "utf8")) : null;
      const openPath = join(dir, "open.json");
      const opened = existsSync(openPath) ? JSON.parse(readFileSync(openPath, "utf8")) as { basePath?: string } : {};

      const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-corpus-"));
      // On Postgres the database is set up already (schema.sql in its dialect, or a load).
      const pg = pgCases ? await openPostgres(pgCases[name]!, "") : null;
      const db = pg ?? openDatabase(join(tmp, "corpus.db"));
      try {
        if (pg === null && schema !== "") {
          const r = (db as Database).run({ sql: schema, params: [], script: true });
          if ("error" in r) throw new Error(`schema.sql: ${r.error}`);
        }
        // The core's log lines (a recovered panic prints its stack) only matter when a case fails.
        const logged: string[] = [];
        const store = pg ?? (later ? answeringLater(db as Database) : db as Database);
        const core = await Core.load({ db: store, host: runtimeName, wasm, log: (line) => logged.push(line) });
        const openReq = {
          basePath: opened.basePath ?? "",
          config,
          host: runtimeName,
          authToken: "",
          ...(pg ? { store: "postgres" as const, pgSchema: pg.schema } : {}),
        };
        if (later) await core.openAsync(openReq);
        else core.open(openReq);
        const handle = (head: RequestHead, body: Uint8Array) =>
          later ? core.handleAsync(head, body) : core.handle(head, body);
        const problems: string[] = [];
        for (const [i, r] of requests.entries()) {
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
          const got = format(first.head.status ?? 0, first.head.headers ?? [], body);
          const outPath = join(dir, "out", `${String(i).padStart(3, "0")}.txt`);
          const label = `${name}/out/${String(i).padStart(3, "0")}.txt (${r.method} ${r.path}${
            r.query ? "?" + r.query : ""
          })`;
          if (!existsSync(outPath)) {
            problems.push(
              `${label}: missing (regenerate with \`go test ./core/${
                pgCases ? "store/postgres" : "engine"
              } -run Corpus -update\`)`,
            );
            continue;
          }
          const want = new Uint8Array(readFileSync(outPath));
          if (!equalBytes(want, got)) {
            problems.push(`${label} differs:\n${diff(utf8Decoder.decode(want), utf8Decoder.decode(got))}`);
          }
        }
        const outDir = join(dir, "out");
        const extra = existsSync(outDir)
          ? readdirSync(outDir).filter((f) => /^\d{3}\.txt$/.test(f) && Number(f.slice(0, 3)) >= requests.length)
          : [];
        for (const f of extra) problems.push(`${name}/out/${f}: no request for it`);
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
