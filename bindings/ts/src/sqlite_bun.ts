// SQLite through bun:sqlite: Bun.

import { Database as BunDatabase, type Statement } from "bun:sqlite";
import { errorMessage } from "./errors.ts";
import type { SQLRequest, SQLResult, SQLValue } from "./protocol.ts";
import {
  callerElsewhere,
  codeName,
  type Database,
  noLaneForRead,
  primaryCodeName,
  type Reader,
  returningRe,
  setUpConnection,
  StatementCache,
  unreadable,
} from "./sqlite.ts";
import { withLane } from "./lane.ts";

interface Prepared {
  stmt: Statement;
  hasRows: boolean;
  returning: boolean;
}

function failure(e: unknown): SQLResult {
  const { errno, code } = e as { errno?: unknown; code?: unknown };
  const name = typeof errno === "number"
    ? codeName(errno)
    : primaryCodeName(typeof code === "string" ? code : undefined);
  return { error: errorMessage(e), code: name };
}

/**
 * bun:sqlite binds every integral JS number as an INTEGER, so a REAL such as
 * 2.0 would arrive as 2. For the (rare) statements that bind one, the
 * parameter is wrapped as CAST(? AS REAL). Returns null when the SQL uses
 * numbered or named parameters, which this simple scan does not count.
 */
export function castRealParams(sql: string, realAt: ReadonlySet<number>): string | null {
  let out = "";
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === "`" || c === "[") {
      const close = c === "[" ? "]" : c;
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === close) {
          if (close !== "]" && sql[j + 1] === close) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === "-" && sql[i + 1] === "-") {
      const j = sql.indexOf("\n", i);
      const end = j < 0 ? sql.length : j + 1;
      out += sql.slice(i, end);
      i = end;
    } else if (c === "/" && sql[i + 1] === "*") {
      const j = sql.indexOf("*/", i + 2);
      const end = j < 0 ? sql.length : j + 2;
      out += sql.slice(i, end);
      i = end;
    } else if (c === "?") {
      if (/[0-9]/.test(sql[i + 1] ?? "")) return null;
      out += realAt.has(n) ? "CAST(? AS REAL)" : "?";
      n++;
      i++;
    } else if ((c === ":" || c === "@" || c === "$") && /[A-Za-z_]/.test(sql[i + 1] ?? "")) {
      return null;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const explainRe = /^\s*EXPLAIN\b/i;

/**
 * A read-only connection for a caller's reads (sqlite.ts, Reader). bun:sqlite
 * has no authorizer: the core's EXPLAIN check (store/sqlite InspectRead),
 * SQLite's own verdict that the statement writes nothing, and the read-only
 * connection are the walls.
 */
export function openReader(path: string): Reader {
  const db = new BunDatabase(path, { readonly: true, safeIntegers: true });
  return {
    read(req: SQLRequest): SQLResult {
      try {
        const stmt = db.prepare(req.sql);
        try {
          if ((stmt as { readonly?: boolean }).readonly === false) {
            return { error: "only a read may run here: one SELECT, WITH or VALUES statement", code: "SQLITE_AUTH" };
          }
          stmt.safeIntegers(true);
          const params = req.params as Exclude<SQLValue, undefined>[];
          // bun:sqlite reads rows as arrays only all at once: the time limit
          // (the process killed) bounds what a huge result costs.
          const rows = (stmt.values(...params) as SQLValue[][]).slice(0, req.read!.maxRows + 1);
          return { columns: stmt.columnNames, rows, changes: 0, lastInsertRowid: 0 };
        } finally {
          stmt.finalize();
        }
      } catch (e) {
        return failure(e);
      }
    },
    close() {
      db.close();
    },
  };
}

export function openDatabase(path: string): Database {
  let db: BunDatabase;
  try {
    db = new BunDatabase(path, { create: true, readwrite: true, safeIntegers: true });
  } catch (e) {
    throw unreadable(path, e);
  }
  // Each set-up statement is finalized at once: bun's get() leaves a
  // statement that read the file (PRAGMA schema_version) in progress, and
  // its read transaction would stay open until the GC finalized it. A write
  // on this connection after another connection's commit (the read lane's
  // writes, another process) then fails at once with SQLITE_BUSY_SNAPSHOT,
  // "database is locked".
  setUpConnection(path, (sql) => {
    const stmt = db.prepare(sql);
    try {
      return stmt.get();
    } finally {
      stmt.finalize();
    }
  }, () => db.close());

  const cache = new StatementCache<Prepared>(256, (p) => p.stmt.finalize());
  const prepare = (sql: string): Prepared => {
    const stmt = db.prepare(sql);
    stmt.safeIntegers(true); // INTEGERs as bigint: exact, and told apart from REALs
    return { stmt, hasRows: stmt.columnNames.length > 0, returning: returningRe.test(sql) };
  };
  let changesStmt: Statement | undefined;
  let closed = false;

  return withLane({
    path,
    run(req: SQLRequest): SQLResult {
      if (req.read) return noLaneForRead; // withLane runs those
      if (req.caller) return callerElsewhere;
      try {
        if (req.script) {
          db.run(req.sql);
          return { columns: [], rows: [], changes: 0, lastInsertRowid: 0 };
        }
        let sql = req.sql;
        let realAt: Set<number> | undefined;
        req.params.forEach((v, i) => {
          if (typeof v === "number" && Number.isInteger(v)) (realAt ??= new Set()).add(i);
        });
        if (realAt) sql = castRealParams(sql, realAt) ?? sql;
        const params = req.params as Exclude<SQLValue, undefined>[];
        if (explainRe.test(sql)) {
          // bun leaves an EXPLAIN statement in progress after values(), which
          // holds the connection's read transaction open (until the GC
          // finalizes it): a write after another connection's commit then
          // fails at once, "database is locked" (SQLITE_BUSY_SNAPSHOT). So
          // each runs on a statement of its own, finalized at once.
          const stmt = db.prepare(sql);
          try {
            stmt.safeIntegers(true);
            return {
              columns: stmt.columnNames,
              rows: stmt.values(...params) as SQLValue[][],
              changes: 0,
              lastInsertRowid: 0,
            };
          } finally {
            stmt.finalize();
          }
        }
        const p = cache.get(sql, prepare);
        if (!p.hasRows) {
          const r = p.stmt.run(...params);
          return { columns: [], rows: [], changes: r.changes, lastInsertRowid: r.lastInsertRowid };
        }
        const rows = p.stmt.values(...params) as SQLValue[][];
        const columns = p.stmt.columnNames;
        if (!p.returning || req.rowsOnly) return { columns, rows, changes: 0, lastInsertRowid: 0 };
        changesStmt ??= db.prepare("SELECT changes(), last_insert_rowid()");
        changesStmt.safeIntegers(true);
        const c = changesStmt.values()[0] as [bigint, bigint];
        return { columns, rows, changes: c[0], lastInsertRowid: c[1] };
      } catch (e) {
        return failure(e);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      cache.clear();
      changesStmt?.finalize();
      db.close();
    },
  }, import.meta.url);
}
