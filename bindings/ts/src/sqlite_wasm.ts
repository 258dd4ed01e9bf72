// SQLite compiled to WebAssembly (@sqlite.org/sqlite-wasm, the SQLite
// project's own build): the store where no runtime SQLite is, first of all
// the browser (issue 19), where the same core.wasm renders pages beside the
// page. A database in memory, answering at once, like node:sqlite: the core
// takes its synchronous path. It may start from a snapshot of a file's bytes
// (sqlite3_deserialize) and be written back out as one (snapshot()).
//
// Only what this module uses of sqlite-wasm is named here (SQLiteWasm), so
// the library does not depend on its types; the caller loads sqlite-wasm
// (its default export, awaited) and hands it over.

import { errorMessage } from "./errors.ts";
import type { SQLRequest, SQLResult, SQLValue } from "./protocol.ts";
import { authorizeRead, codeFromMessage, codeName, type Database, returningRe, StatementCache } from "./sqlite.ts";

/** The parts of sqlite-wasm's `Sqlite3Static` this store uses. */
export interface SQLiteWasm {
  oo1: { DB: new (filename?: string, flags?: string) => WasmDB };
  capi: {
    SQLITE_INTEGER: number;
    SQLITE_FLOAT: number;
    SQLITE_TEXT: number;
    SQLITE_BLOB: number;
    SQLITE_NULL: number;
    sqlite3_column_type(stmt: number, i: number): number;
    sqlite3_bind_double(stmt: number, i: number, v: number): number;
    sqlite3_last_insert_rowid(db: number): bigint | number;
    sqlite3_changes64?(db: number): bigint | number;
    sqlite3_changes(db: number): number;
    sqlite3_deserialize(
      db: number,
      schema: string,
      data: number,
      size: number,
      bufSize: number,
      flags: number,
    ): number;
    sqlite3_js_db_export(db: number): Uint8Array;
    sqlite3_set_authorizer(
      db: number,
      auth:
        | ((arg: number, action: number, a1: string | 0, a2: string | 0, a3: string | 0, a4: string | 0) => number)
        | 0,
      arg: number,
    ): number;
    sqlite3_progress_handler(db: number, ops: number, cb: ((arg: number) => number) | 0, arg: number): void;
    sqlite3_stmt_readonly(stmt: number): number;
    SQLITE_DESERIALIZE_FREEONCLOSE: number;
    SQLITE_DESERIALIZE_RESIZEABLE: number;
  };
  wasm: { allocFromTypedArray(a: Uint8Array): number };
  config: { warn: (...args: unknown[]) => void };
}

interface WasmDB {
  pointer: number | undefined;
  prepare(sql: string): WasmStmt;
  exec(sql: string): unknown;
  close(): void;
  checkRc(rc: number): unknown;
}

interface WasmStmt {
  pointer: number | undefined;
  columnCount: number;
  bind(i: number, v: SQLValue | Uint8Array | bigint | null): unknown;
  step(): boolean;
  get(i: number, asType?: number): unknown;
  getColumnNames(): string[];
  reset(clearBindings?: boolean): unknown;
  finalize(): unknown;
}

interface Prepared {
  stmt: WasmStmt;
  columns: string[];
  returning: boolean;
}

function failure(e: unknown): SQLResult {
  const rc = (e as { resultCode?: unknown }).resultCode;
  const message = errorMessage(e).replace(/^SQLITE_[A-Z_]+: (sqlite3 result code \d+: )?/, "");
  return { error: message, code: typeof rc === "number" ? codeName(rc) : codeFromMessage(message) };
}

/** A database in memory on sqlite-wasm; `bytes`: a file's bytes to start from. */
export function openWasmDatabase(sqlite3: SQLiteWasm, bytes?: Uint8Array): Database & { snapshot(): Uint8Array } {
  const { capi } = sqlite3;
  const db = new sqlite3.oo1.DB(":memory:", "c");
  const ptr = (): number => {
    if (db.pointer === undefined) throw new Error("the database is closed");
    return db.pointer;
  };
  if (bytes && bytes.length > 0) {
    // SQLite frees the copy when the database closes; RESIZEABLE lets it grow.
    // A plain Uint8Array: sqlite-wasm refuses its subclasses (a Node Buffer).
    const plain = bytes.constructor === Uint8Array
      ? bytes
      : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    const p = sqlite3.wasm.allocFromTypedArray(plain);
    db.checkRc(
      capi.sqlite3_deserialize(
        ptr(),
        "main",
        p,
        bytes.length,
        bytes.length,
        capi.SQLITE_DESERIALIZE_FREEONCLOSE | capi.SQLITE_DESERIALIZE_RESIZEABLE,
      ),
    );
  }
  const cache = new StatementCache<Prepared>(256, (p) => p.stmt.finalize());
  const prepare = (sql: string): Prepared => {
    const stmt = db.prepare(sql);
    return { stmt, columns: stmt.columnCount > 0 ? stmt.getColumnNames() : [], returning: returningRe.test(sql) };
  };
  const value = (stmt: WasmStmt, i: number): SQLValue => {
    switch (capi.sqlite3_column_type(stmt.pointer!, i)) {
      case capi.SQLITE_INTEGER: {
        // INTEGERs as bigint, as on every host: exact, and told apart from REALs.
        const v = stmt.get(i, capi.SQLITE_INTEGER) as number | bigint;
        return typeof v === "bigint" ? v : BigInt(v);
      }
      case capi.SQLITE_FLOAT:
        return stmt.get(i, capi.SQLITE_FLOAT) as number;
      case capi.SQLITE_TEXT:
        return stmt.get(i, capi.SQLITE_TEXT) as string;
      case capi.SQLITE_BLOB:
        return stmt.get(i, capi.SQLITE_BLOB) as Uint8Array;
      default:
        return null;
    }
  };
  const bind = (stmt: WasmStmt, params: SQLValue[]): void => {
    params.forEach((v, i) => {
      // A JS number is a REAL here (decodeSQLRequest makes INTEGERs bigint),
      // bound as one even when it is integral (2.0).
      if (typeof v === "number") db.checkRc(capi.sqlite3_bind_double(stmt.pointer!, i + 1, v));
      else stmt.bind(i + 1, v ?? null);
    });
  };
  // oo1's step() prints every failing statement (a constraint the core
  // expects to fail, a read stopped at its limit) with console.warn before
  // it throws; the error comes back to the core, so the print is noise in a
  // page's console: silenced while our own statements step.
  const quiet = () => {};
  const step = (stmt: WasmStmt): boolean => {
    const warn = sqlite3.config.warn;
    sqlite3.config.warn = quiet;
    try {
      return stmt.step();
    } finally {
      sqlite3.config.warn = warn;
    }
  };
  /** Steps stmt to its end, or to `max` rows, reading `width` columns of each. */
  const readRows = (stmt: WasmStmt, width: number, max = Infinity): SQLValue[][] => {
    const rows: SQLValue[][] = [];
    while (rows.length < max && step(stmt)) {
      if (width === 0) continue;
      const row = new Array<SQLValue>(width);
      for (let i = 0; i < width; i++) row[i] = value(stmt, i);
      rows.push(row);
    }
    return rows;
  };
  const changes = (): bigint | number =>
    capi.sqlite3_changes64 ? capi.sqlite3_changes64(ptr()) : capi.sqlite3_changes(ptr());

  /**
   * A caller's read (PROTOCOL.md, "Caller reads") on this one connection:
   * compiled under the authorizer (authorizeRead, the rule of every host),
   * refused unless it writes nothing, stopped past its time limit by the
   * progress handler (SQLite in WebAssembly can be stopped mid-statement,
   * which node:sqlite and bun:sqlite cannot), at most maxRows + 1 rows.
   */
  const read = (req: SQLRequest): SQLResult => {
    const rules = req.read!;
    let why = "";
    let stmt: WasmStmt | undefined;
    const deadline = rules.limitMs > 0 ? Date.now() + rules.limitMs : Infinity;
    let stopped = false;
    try {
      capi.sqlite3_set_authorizer(ptr(), (_arg, action, a1, a2) => {
        const no = authorizeRead(rules, action, a1 || "", a2 || "");
        if (no !== "") why = no;
        return no === "" ? 0 : 1; // SQLITE_OK, SQLITE_DENY
      }, 0);
      try {
        stmt = db.prepare(req.sql);
      } finally {
        capi.sqlite3_set_authorizer(ptr(), 0, 0);
      }
      if (!capi.sqlite3_stmt_readonly(stmt.pointer!)) {
        return { error: "only a read may run here: one SELECT, WITH or VALUES statement", code: "SQLITE_AUTH" };
      }
      bind(stmt, req.params);
      const columns = stmt.columnCount > 0 ? stmt.getColumnNames() : [];
      let rows: SQLValue[][];
      capi.sqlite3_progress_handler(ptr(), 1000, () => {
        if (Date.now() <= deadline) return 0;
        stopped = true;
        return 1; // SQLite stops the statement: SQLITE_INTERRUPT
      }, 0);
      try {
        rows = readRows(stmt, columns.length, rules.maxRows + 1);
      } finally {
        capi.sqlite3_progress_handler(ptr(), 0, 0, 0);
      }
      return { columns, rows, changes: 0, lastInsertRowid: 0 };
    } catch (e) {
      if (stopped) return { error: `stopped after ${rules.limitMs} ms`, code: "SQLITE_INTERRUPT" };
      return why !== "" ? { error: why, code: "SQLITE_AUTH" } : failure(e);
    } finally {
      stmt?.finalize();
    }
  };

  let closed = false;
  return {
    run(req: SQLRequest): SQLResult {
      // A caller's write (a migration) runs on the server only: it needs a
      // transaction of its own on a connection of its own.
      if (req.caller) return { error: "caller SQL that writes runs on the server only", code: "SQLITE_MISUSE" };
      if (req.read) return read(req);
      try {
        if (req.script) {
          db.exec(req.sql);
          return { columns: [], rows: [], changes: 0, lastInsertRowid: 0 };
        }
        const p = cache.get(req.sql, prepare);
        const { stmt } = p;
        try {
          bind(stmt, req.params);
          const rows = readRows(stmt, p.columns.length);
          if (p.columns.length > 0 && (!p.returning || req.rowsOnly)) {
            return { columns: p.columns, rows, changes: 0, lastInsertRowid: 0 };
          }
          return {
            columns: p.columns,
            rows,
            changes: changes(),
            lastInsertRowid: capi.sqlite3_last_insert_rowid(ptr()),
          };
        } finally {
          stmt.reset(true);
        }
      } catch (e) {
        return failure(e);
      }
    },
    snapshot(): Uint8Array {
      return capi.sqlite3_js_db_export(ptr());
    },
    close() {
      if (closed) return;
      closed = true;
      cache.clear();
      db.close();
    },
  };
}
