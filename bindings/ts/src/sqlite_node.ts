// SQLite through node:sqlite (DatabaseSync): Node >= 22.5 and Deno 2.

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { errorMessage, NakedhtmxError } from "./errors.ts";
import type { SQLRequest, SQLResult, SQLValue } from "./protocol.ts";
import { codeName, type Database, returningRe, StatementCache } from "./sqlite.ts";

interface Prepared {
  stmt: StatementSync;
  hasRows: boolean;
  returning: boolean;
}

function failure(e: unknown): SQLResult {
  const code = (e as { errcode?: unknown }).errcode;
  return { error: errorMessage(e), code: codeName(typeof code === "number" ? code : undefined) };
}

export function openDatabase(path: string): Database {
  let db: DatabaseSync;
  try {
    // Node's defaults differ from SQLite's (and Bun's): foreign keys on,
    // double-quoted strings refused. Keep SQLite's, so every host reads a
    // legacy schema the same way; the core can turn foreign keys on itself.
    db = new DatabaseSync(path, { enableForeignKeyConstraints: false, enableDoubleQuotedStringLiterals: true });
  } catch (e) {
    throw new NakedhtmxError("DB_UNREADABLE", `cannot open database ${path}: ${errorMessage(e)}`, { cause: e });
  }
  try {
    db.exec("PRAGMA busy_timeout=5000");
    // The first statement that reads the file: a directory or garbage fails here.
    db.prepare("PRAGMA journal_mode=WAL").get();
  } catch (e) {
    db.close();
    throw new NakedhtmxError("DB_UNREADABLE", `cannot open database ${path}: ${errorMessage(e)}`, { cause: e });
  }

  // setReturnArrays and columns() arrived in Node 22.16 / 23.11; rows as
  // objects would merge same-named columns (SELECT a.x, b.x), so there is no fallback.
  const probe = db.prepare("SELECT 1") as Partial<Pick<StatementSync, "setReturnArrays" | "columns">>;
  if (typeof probe.setReturnArrays !== "function" || typeof probe.columns !== "function") {
    db.close();
    throw new NakedhtmxError("NOT_SUPPORTED", "this runtime's node:sqlite is too old: Node >= 22.16 is needed");
  }

  const cache = new StatementCache<Prepared>(256);
  const prepare = (sql: string): Prepared => {
    const stmt = db.prepare(sql);
    stmt.setReadBigInts(true); // INTEGERs as bigint: exact, and told apart from REALs
    stmt.setReturnArrays(true);
    return { stmt, hasRows: stmt.columns().length > 0, returning: returningRe.test(sql) };
  };
  let changesStmt: StatementSync | undefined;
  let closed = false;

  return {
    run(req: SQLRequest): SQLResult {
      try {
        if (req.script) {
          db.exec(req.sql);
          return { columns: [], rows: [], changes: 0, lastInsertRowid: 0 };
        }
        const p = cache.get(req.sql, prepare);
        const params = req.params;
        if (!p.hasRows) {
          const r = p.stmt.run(...params);
          return { columns: [], rows: [], changes: r.changes, lastInsertRowid: r.lastInsertRowid };
        }
        const rows = p.stmt.all(...params) as unknown as SQLValue[][];
        const columns = p.stmt.columns().map((c) => c.name);
        if (!p.returning) return { columns, rows, changes: 0, lastInsertRowid: 0 };
        changesStmt ??= db.prepare("SELECT changes(), last_insert_rowid()");
        changesStmt.setReadBigInts(true);
        changesStmt.setReturnArrays(true);
        const c = changesStmt.get() as unknown as [bigint, bigint];
        return { columns, rows, changes: c[0], lastInsertRowid: c[1] };
      } catch (e) {
        return failure(e);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      cache.clear();
      db.close();
    },
  };
}
