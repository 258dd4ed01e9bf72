// Caller SQL on the TS hosts (bindings/PROTOCOL.md, "Caller SQL"): a
// migration runs in a child process of the same runtime, on a connection of
// its own, under SQLite's authorizer, and is killed past the time limit.
//
// Why a process: none of node:sqlite (Node 24, Deno) or bun:sqlite can stop a
// statement while it runs (no progress handler, no interrupt), and a worker
// thread stuck inside sqlite3_step cannot be stopped either; it would keep
// the write lock for ever. A killed process gives its locks back at once, and
// SQLite drops the transaction it left unfinished (the WAL frames it never
// committed, or the hot journal). The cost, a process start (tens of ms), is
// paid only by migrations.
//
// The authorizer's rule is sqldb.Guard.Authorize in Go (core/sqldb/guard.go);
// `authorize` below is the same rule, action by action.

import { spawnSync } from "node:child_process";
import process from "node:process";
import { errorMessage } from "./errors.ts";
import type { Guard, SQLRequest, SQLResult } from "./protocol.ts";
import { codeFromMessage, codeName } from "./sqlite.ts";

/** What the child reads on stdin. */
interface ChildInput {
  path: string;
  sql: string;
  guard: Guard;
}

/** What the child writes on stdout, one JSON line. */
interface ChildOutput {
  ok?: boolean;
  error?: string;
  /** SQLite's result code number, when it gave one. */
  errcode?: number;
  /** The authorizer refused: why. */
  denied?: string;
  /** False where the runtime's node:sqlite has no setAuthorizer (Node 22). */
  authorizer?: boolean;
}

/**
 * The child's program. It is sent as source (Function.prototype.toString), so
 * it must not close over anything: every name it uses is its own or a global.
 */
async function child(): Promise<void> {
  type Name = { table: string; column: string };
  type Input = { path: string; sql: string; guard: { hidden: Name[]; readOnly: Name[]; dry: boolean } };
  const g = globalThis as unknown as { Deno?: { stdin: { readable: ReadableStream<Uint8Array> } } };
  const text = g.Deno
    ? await new Response(g.Deno.stdin.readable).text()
    : (await import("node:fs")).readFileSync(0, "utf8");
  const input = JSON.parse(text) as Input;
  const guard = input.guard;

  const lower = (s: string | null | undefined): string => (s ?? "").toLowerCase();
  const own = (n: string | null | undefined): boolean => lower(n).startsWith("_nakedhtmx_");
  const schemaTables = [
    "sqlite_master",
    "sqlite_schema",
    "sqlite_temp_master",
    "sqlite_temp_schema",
    "sqlite_sequence",
  ];
  const deniedFunctions = ["load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "sqlite_dbpage"];
  const matches = (names: Name[], table: string, column: string): boolean =>
    table !== "" &&
    names.some((n) =>
      lower(n.table) === lower(table) && (n.column === "" || (column !== "" && lower(n.column) === lower(column)))
    );

  // sqldb.Guard.Authorize, the same rule (core/sqldb/guard.go).
  const authorize = (action: number, a1: string, a2: string, inner: string): string => {
    switch (action) {
      case 24:
      case 25:
        return "ATTACH and DETACH are not allowed: the SQL stays inside this database";
      case 19:
        return "PRAGMA is not allowed here";
      case 22:
      case 32:
        return "the SQL runs in a transaction of its own: BEGIN, COMMIT, ROLLBACK and SAVEPOINT are not allowed";
      case 3:
      case 4:
      case 5:
      case 6:
        return "TEMP objects are not allowed: they would outlive the SQL on the server's connection";
      case 31:
        return deniedFunctions.includes(lower(a2)) ? "the function " + a2 + " is not allowed" : "";
      case 21:
      case 33:
      case 28:
      case 27:
        return "";
    }
    if (action < 1 || action > 33) return "an operation SQLite added after this version of nakedhtmx is not allowed";
    if (own(inner)) return "";
    let table = "", object = "", column = "";
    switch (action) {
      case 20:
      case 23:
        table = a1;
        column = a2;
        break;
      case 18:
      case 9:
      case 11:
      case 2:
      case 13:
        table = a1;
        break;
      case 1:
      case 7:
      case 10:
      case 16:
      case 12:
      case 14:
        object = a1;
        table = a2;
        break;
      case 8:
      case 17:
      case 15:
      case 29:
      case 30:
        table = a1;
        break;
      case 26:
        table = a2;
        break;
    }
    for (const n of [table, object]) {
      if (own(n)) return "nakedhtmx's own objects (" + n + ") are not for caller SQL";
      if (lower(n).startsWith("sqlite_") && !schemaTables.includes(lower(n))) {
        return "SQLite's own tables (" + n + ") are not for caller SQL";
      }
    }
    if (matches(guard.hidden, table, column)) return "no such table or column";
    if ((action === 18 || action === 9) && matches(guard.readOnly, table, "")) return table + " is read-only";
    if (action === 23 && matches(guard.readOnly, table, column)) return table + "." + column + " is read-only";
    return "";
  };

  const out = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));
  type Conn = {
    exec(sql: string): void;
    close(): void;
    prepare(sql: string): { all(...params: unknown[]): unknown[] };
    setAuthorizer?: (
      cb:
        | ((action: number, a1: string | null, a2: string | null, db: string | null, inner: string | null) => number)
        | null,
    ) => void;
  };
  let db: Conn;
  try {
    const { DatabaseSync } = await import("node:sqlite");
    // The server's connection's settings: SQLite's quoting rules, foreign keys on.
    db = new DatabaseSync(input.path, { enableDoubleQuotedStringLiterals: true }) as unknown as Conn;
    db.exec("PRAGMA busy_timeout=5000");
    db.exec("PRAGMA foreign_keys=ON");
    db.exec("BEGIN IMMEDIATE");
  } catch (e) {
    out({ error: String((e as Error)?.message ?? e), errcode: (e as { errcode?: number }).errcode });
    return;
  }
  let denied = "";
  let probing = false;
  const authorizer = typeof db.setAuthorizer === "function";
  const watch = (): void => {
    db.setAuthorizer!((action, a1, a2, _db, inner) => {
      // A probe's own statement: only what it sets off counts.
      if (probing && (inner ?? "") === "") return 0;
      const no = authorize(action, a1 ?? "", a2 ?? "", inner ?? "");
      if (no !== "") denied = no;
      return no === "" ? 0 : 1; // SQLITE_OK, SQLITE_DENY
    });
  };
  // Views and triggers compile only when used, later, on the server's
  // connection: what the SQL creates or changes is compiled here, under the
  // authorizer, by statements that set each off (probes; the Go store's
  // DB.probes does the same).
  type Obj = { type: string; name: string; tbl_name: string; sql: string | null };
  const listObjects = (): Obj[] =>
    db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type IN ('view', 'trigger') ORDER BY name")
      .all() as Obj[];
  const quote = (n: string): string => '"' + n.replaceAll('"', '""') + '"';
  let before: Map<string, string | null>;
  try {
    before = new Map(listObjects().map((o) => [o.type + " " + o.name, o.sql]));
  } catch (e) {
    out({ error: String((e as Error)?.message ?? e), errcode: (e as { errcode?: number }).errcode });
    return;
  }
  const probes = (): string[] => {
    const list: string[] = [];
    for (const o of listObjects()) {
      const key = o.type + " " + o.name;
      if (before.has(key) && before.get(key) === o.sql) continue;
      if (o.type === "view") {
        list.push("SELECT * FROM " + quote(o.name));
        continue;
      }
      const t = quote(o.tbl_name);
      list.push("INSERT INTO " + t + " DEFAULT VALUES", "DELETE FROM " + t);
      const cols = db.prepare("SELECT name FROM pragma_table_info(?)").all(o.tbl_name) as { name: string }[];
      if (cols.length > 0) {
        list.push("UPDATE " + t + " SET " + cols.map((c) => quote(c.name) + " = " + quote(c.name)).join(", "));
      }
    }
    return list;
  };
  if (authorizer) watch();
  try {
    db.exec(input.sql);
    if (authorizer) {
      db.setAuthorizer!(null);
      const list = probes();
      probing = true;
      watch();
      for (const p of list) {
        try {
          db.prepare(p);
        } catch { /* only a denial counts: a probe that does not compile sets nothing off */ }
        if (denied !== "") throw new Error(denied);
      }
      probing = false;
    }
  } catch (e) {
    if (authorizer) db.setAuthorizer!(null);
    try {
      db.exec("ROLLBACK");
    } catch { /* rolled back by SQLite already */ }
    out({
      error: String((e as Error)?.message ?? e),
      errcode: (e as { errcode?: number }).errcode,
      denied,
      authorizer,
    });
    return;
  }
  if (authorizer) db.setAuthorizer!(null);
  try {
    db.exec(guard.dry ? "ROLLBACK" : "COMMIT");
  } catch (e) {
    out({ error: String((e as Error)?.message ?? e), errcode: (e as { errcode?: number }).errcode, authorizer });
    return;
  }
  db.close();
  out({ ok: true, authorizer });
}

/** How to start the child on this runtime: the runtime's own executable. */
function childCommand(source: string): [string, string[]] {
  const program =
    `(${source})().catch((e) => { console.log(JSON.stringify({ error: String(e && e.message || e) })); });`;
  return runtimeCommand(["eval", "--quiet", program], ["-e", program]);
}

/**
 * A child process of this runtime: its own executable, with `deno` as
 * Deno's arguments, or `node` as Node's and Bun's. Node keeps its own
 * --experimental- flags (--experimental-sqlite, and --experimental-strip-types
 * to run .ts sources, on Node 22); Bun has none. The caller SQL child and the
 * read lane's (lane.ts) start so.
 */
export function runtimeCommand(deno: string[], node: string[]): [string, string[]] {
  const g = globalThis as unknown as { Deno?: { execPath(): string }; Bun?: unknown };
  if (g.Deno) return [g.Deno.execPath(), deno];
  const flags = g.Bun ? [] : process.execArgv.filter((f) => f.startsWith("--experimental-"));
  return [process.execPath, [...flags, "--no-warnings", ...node]];
}

let childSource: string | undefined;

/**
 * Runs one caller SQL request (PROTOCOL.md, "Caller SQL") on the database at
 * `path`, in a child process killed after `limitMs` (0: no limit). Never
 * throws: failures come back as `{error, code}`, a kill as SQLITE_INTERRUPT.
 */
export function runCaller(path: string | undefined, req: SQLRequest, limitMs: number): SQLResult {
  if (path === undefined || path === "" || path === ":memory:") {
    return { error: "caller SQL needs a database file", code: "SQLITE_MISUSE" };
  }
  const input: ChildInput = { path, sql: req.sql, guard: req.caller! };
  childSource ??= child.toString();
  const [cmd, args] = childCommand(childSource);
  const r = spawnSync(cmd, args, {
    input: JSON.stringify(input),
    encoding: "utf8",
    timeout: limitMs > 0 ? limitMs : undefined,
    killSignal: "SIGKILL",
    maxBuffer: 1 << 20,
    stdio: ["pipe", "pipe", "pipe"],
  });
  if (r.signal === "SIGKILL" || (r.error as { code?: string } | undefined)?.code === "ETIMEDOUT") {
    return { error: `stopped after ${limitMs} ms`, code: "SQLITE_INTERRUPT" };
  }
  if (r.error) return { error: "cannot start a process for the SQL: " + errorMessage(r.error), code: "SQLITE_ERROR" };
  const line = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  let o: ChildOutput;
  try {
    o = JSON.parse(line) as ChildOutput;
  } catch {
    const why = (r.stderr ?? "").trim().split("\n").slice(-3).join(" ");
    return {
      error: `the process for the SQL ended without an answer (status ${r.status}): ${why}`,
      code: "SQLITE_ERROR",
    };
  }
  if (o.ok) return { columns: [], rows: [], changes: 0, lastInsertRowid: 0 };
  if (o.denied) return { error: o.denied, code: "SQLITE_AUTH" };
  const error = o.error ?? "the SQL failed";
  // Deno's node:sqlite gives no errcode, only SQLite's text.
  return { error, code: o.errcode !== undefined ? codeName(o.errcode) : codeFromMessage(error) };
}
