// SQLite through node:sqlite (DatabaseSync): Node >= 22.5 and Deno 2.
//
// Rows are read one of two ways, picked once per connection by what the
// runtime's node:sqlite has:
// - arrays (Node >= 22.16 / 23.11, Deno 2): setReturnArrays() and columns(); exact.
// - objects (Node 22.5 to 22.15): every row an object keyed by column name. The
//   core names each result column once (bindings/PROTOCOL.md, "SQL"), so only
//   the order can be lost: JavaScript lists integer-like keys ("1", "42") first,
//   in ascending order. A statement with such a name among two or more columns
//   has its order read back from SQLite itself (see resultNames).

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { errorMessage } from "./errors.ts";
import type { SQLRequest, SQLResult, SQLValue } from "./protocol.ts";
import {
  authorizeRead,
  callerElsewhere,
  codeFromMessage,
  codeName,
  type Database,
  firstRows,
  noLaneForRead,
  type Reader,
  returningRe,
  SCHEMA_VERSION_SQL,
  setUpConnection,
  StatementCache,
  unreadable,
} from "./sqlite.ts";
import { withLane } from "./lane.ts";

function failure(e: unknown): SQLResult {
  const code = (e as { errcode?: unknown }).errcode;
  const message = errorMessage(e);
  return { error: message, code: typeof code === "number" ? codeName(code) : codeFromMessage(message) };
}

/**
 * Opens the database. `rows` is for tests: "objects" takes the Node 22.5-22.15
 * way on any runtime; by default the runtime's node:sqlite decides.
 */
export function openDatabase(path: string, rows: "probe" | "objects" = "probe"): Database {
  let db: DatabaseSync;
  try {
    // Node's defaults differ from SQLite's (and Bun's): foreign keys on,
    // double-quoted strings refused. Keep SQLite's, so every host reads a
    // legacy schema the same way; the core can turn foreign keys on itself.
    db = new DatabaseSync(path, { enableForeignKeyConstraints: false, enableDoubleQuotedStringLiterals: true });
  } catch (e) {
    throw unreadable(path, e);
  }
  setUpConnection(path, (sql) => db.prepare(sql).get(), () => db.close());

  // setReturnArrays and columns() arrived in Node 22.16 / 23.11.
  const probe = db.prepare("SELECT 1") as Partial<Pick<StatementSync, "setReturnArrays" | "columns">>;
  const arrays = rows === "probe" && typeof probe.setReturnArrays === "function" && typeof probe.columns === "function";
  return withLane({ ...(arrays ? arrayRows(db) : objectRows(db)), path }, import.meta.url);
}

type Authorizer = (
  cb:
    | ((action: number, a1: string | null, a2: string | null, db: string | null, inner: string | null) => number)
    | null,
) => void;

/**
 * A read-only connection for a caller's reads (sqlite.ts, Reader), under
 * the authorizer where node:sqlite has one (Node >= 24.10, Deno).
 */
export function openReader(path: string): Reader {
  const db = new DatabaseSync(path, {
    readOnly: true,
    enableForeignKeyConstraints: false,
    enableDoubleQuotedStringLiterals: true,
  });
  const setAuthorizer = (db as unknown as { setAuthorizer?: Authorizer }).setAuthorizer;
  return {
    read(req: SQLRequest): SQLResult {
      const rules = req.read!;
      let why = "";
      try {
        let stmt: StatementSync;
        if (typeof setAuthorizer === "function") {
          setAuthorizer.call(db, (action, a1, a2) => {
            const no = authorizeRead(rules, action, a1 ?? "", a2 ?? "");
            if (no !== "") why = no;
            return no === "" ? 0 : 1; // SQLITE_OK, SQLITE_DENY
          });
        }
        try {
          stmt = db.prepare(req.sql);
        } finally {
          if (typeof setAuthorizer === "function") setAuthorizer.call(db, null);
        }
        stmt.setReadBigInts(true);
        const p = stmt as Partial<Pick<StatementSync, "setReturnArrays" | "columns" | "iterate">>;
        const arrays = typeof p.setReturnArrays === "function" && typeof p.columns === "function";
        if (arrays) stmt.setReturnArrays(true);
        const params = req.params as Exclude<SQLValue, undefined>[];
        const got = typeof p.iterate === "function"
          ? firstRows(stmt.iterate(...params) as Iterator<unknown>, rules.maxRows)
          : (stmt.all(...params) as unknown[]).slice(0, rules.maxRows + 1);
        if (arrays) {
          return {
            columns: stmt.columns().map((c) => c.name),
            rows: got as SQLValue[][],
            changes: 0,
            lastInsertRowid: 0,
          };
        }
        // Node 22.5 to 22.15: rows as objects, so columns of one name would
        // be one. The program's ResultRow says how many there are: fewer
        // keys is refused, never a column silently lost.
        const objects = got as Record<string, SQLValue>[];
        const columns = objects.length > 0 ? Object.keys(objects[0]!) : [];
        const program = db.prepare("EXPLAIN " + req.sql).all() as { opcode: string; p2: number | bigint }[];
        const width = Number(program.find((op) => op.opcode === "ResultRow")?.p2 ?? columns.length);
        if (objects.length > 0 && width !== columns.length) {
          return {
            error: "node:sqlite before Node 22.16 gives rows as objects: columns of one name cannot all be read " +
              "on this runtime; name them apart (AS) or use Node >= 22.16",
            code: "SQLITE_ERROR",
          };
        }
        return { columns, rows: objects.map((o) => columns.map((k) => o[k]!)), changes: 0, lastInsertRowid: 0 };
      } catch (e) {
        return why !== "" ? { error: why, code: "SQLITE_AUTH" } : failure(e);
      }
    },
    close() {
      db.close();
    },
  };
}

/** The adapter around one way of running a statement: scripts, errors, close. */
function adapter(
  db: DatabaseSync,
  cache: { clear(): void },
  statement: (req: SQLRequest) => SQLResult,
  afterScript: () => void = () => {},
): Database {
  let closed = false;
  return {
    run(req: SQLRequest): SQLResult {
      if (req.read) return noLaneForRead; // withLane runs those
      if (req.caller) return callerElsewhere;
      try {
        if (req.script) {
          try {
            db.exec(req.sql);
          } finally {
            afterScript(); // even a failed script may have run some of its statements
          }
          return { columns: [], rows: [], changes: 0, lastInsertRowid: 0 };
        }
        return statement(req);
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

// ---------------------------------------------------------------------------
// Rows as arrays (Node >= 22.16, Deno)

interface Prepared {
  stmt: StatementSync;
  hasRows: boolean;
  returning: boolean;
  /** The result column names, read at schema generation `namesAt` (see arrayRows). */
  names?: string[];
  namesAt: number;
}

/** Statements that can change the schema (a rollback can undo DDL), and with it a statement's column names. */
const ddlRe = /^\s*(?:CREATE|ALTER|DROP|ROLLBACK)\b/i;

function arrayRows(db: DatabaseSync): Database {
  const cache = new StatementCache<Prepared>(256);
  const prepare = (sql: string): Prepared => {
    const stmt = db.prepare(sql);
    stmt.setReadBigInts(true); // INTEGERs as bigint: exact, and told apart from REALs
    stmt.setReturnArrays(true);
    return { stmt, hasRows: stmt.columns().length > 0, returning: returningRe.test(sql), namesAt: -1 };
  };
  let changesStmt: StatementSync | undefined;
  // columns() builds an object per column (about 4 us for 9 columns on Node
  // 24, a tenth of a single-row read), so a statement's names are kept. They
  // can only change with the schema: the generation moves when this
  // connection runs DDL or a script, and when a PRAGMA schema_version (the
  // host reads one before every request) shows another connection's DDL.
  let generation = 0;
  let lastVersion: bigint | undefined;

  return adapter(db, cache, (req) => {
    const p = cache.get(req.sql, prepare);
    const params = req.params;
    if (!p.hasRows) {
      const r = p.stmt.run(...params);
      if (ddlRe.test(req.sql)) generation++;
      return { columns: [], rows: [], changes: r.changes, lastInsertRowid: r.lastInsertRowid };
    }
    const rows = p.stmt.all(...params) as unknown as SQLValue[][];
    if (req.sql === SCHEMA_VERSION_SQL) {
      const v = rows[0]?.[0] as bigint | undefined;
      if (v !== lastVersion) generation++;
      lastVersion = v;
    }
    let columns = p.names;
    if (columns === undefined || p.namesAt !== generation || (rows.length > 0 && rows[0]!.length !== columns.length)) {
      columns = p.names = p.stmt.columns().map((c) => c.name);
      p.namesAt = generation;
    }
    // The core reads a query's rows only (rowsOnly): no statement more for its counts.
    if (!p.returning || req.rowsOnly) return { columns, rows, changes: 0, lastInsertRowid: 0 };
    changesStmt ??= db.prepare("SELECT changes(), last_insert_rowid()");
    changesStmt.setReadBigInts(true);
    changesStmt.setReturnArrays(true);
    const c = changesStmt.get() as unknown as [bigint, bigint];
    return { columns, rows, changes: c[0], lastInsertRowid: c[1] };
  }, () => generation++);
}

// ---------------------------------------------------------------------------
// Rows as objects (Node 22.5 to 22.15)

type Row = Record<string, SQLValue>;

interface ObjectPrepared {
  stmt: StatementSync;
  returning: boolean;
  /** Whether a result column of this statement could be named __proto__ (see objectRows). */
  proto: boolean;
  /** The last order read back from SQLite, for the object key order it was read for. */
  order?: { keys: string; names: string[] };
}

/** An array index ("0" to "4294967294"): JavaScript lists these keys first, ascending. */
function isIndex(key: string): boolean {
  return /^(?:0|[1-9][0-9]{0,9})$/.test(key) && Number(key) < 4294967295;
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The SQL text with the last bound values written in as literals (a method on 22.5, a getter by 22.12). */
function expandedSQL(stmt: StatementSync): string {
  const x = (stmt as unknown as { expandedSQL: string | (() => string) }).expandedSQL;
  return typeof x === "function" ? x.call(stmt) : x;
}

function sourceSQL(stmt: StatementSync): string {
  const x = (stmt as unknown as { sourceSQL: string | (() => string) }).sourceSQL;
  return typeof x === "function" ? x.call(stmt) : x;
}

const orderLost = (names: string[]) =>
  `node:sqlite before Node 22.16 gives rows as objects, and the order of the columns ${
    names.map((n) => JSON.stringify(n)).join(", ")
  } of this statement could not be read back from SQLite; Node >= 22.16 reads it exactly`;

function objectRows(db: DatabaseSync): Database {
  // The first releases (seen on 22.5.0, no longer on 22.12) build a row as a
  // plain object, where a column named __proto__ hits the prototype's setter
  // and is lost. Later rows have no prototype, and every name is a key.
  const plain = Object.getPrototypeOf(db.prepare("SELECT 1 AS x").get()) !== null;
  const cache = new StatementCache<ObjectPrepared>(256);
  const prepare = (sql: string): ObjectPrepared => {
    const stmt = db.prepare(sql);
    stmt.setReadBigInts(true);
    return { stmt, returning: returningRe.test(sql), proto: plain && sql.includes("__proto__") };
  };
  let countsStmt: StatementSync | undefined;
  const counts = (): { c: bigint; r: bigint } => {
    if (!countsStmt) {
      countsStmt = db.prepare("SELECT changes() AS c, last_insert_rowid() AS r");
      countsStmt.setReadBigInts(true);
    }
    return countsStmt.get() as unknown as { c: bigint; r: bigint };
  };

  /** The statement's result column names in order, as SQLite names them in a view. */
  const viewColumns = (select: string): string[] | undefined => {
    const view = 'temp."_nakedhtmx_columns"';
    try {
      // prepare() compiles the first statement only: nothing after a ";" runs.
      db.prepare(`CREATE TEMP VIEW "_nakedhtmx_columns" AS ${select}`).run();
      const info = db.prepare(`PRAGMA temp.table_info("_nakedhtmx_columns")`).all() as unknown as { name: string }[];
      return info.map((c) => c.name);
    } catch {
      return undefined;
    } finally {
      try {
        db.prepare(`DROP VIEW IF EXISTS ${view}`).run();
      } catch { /* there was none */ }
    }
  };

  /** The one table (schema-qualified, quoted) a statement writes, from its bytecode (not its triggers'). */
  const writtenTable = (sql: string): string | undefined => {
    const schemas = new Map<number, string>();
    for (const d of db.prepare("PRAGMA database_list").all() as unknown as { seq: number; name: string }[]) {
      schemas.set(Number(d.seq), d.name);
    }
    const found = new Set<string>();
    const ops = db.prepare(`EXPLAIN ${sql}`).all() as unknown as {
      addr: number;
      opcode: string;
      p2: number;
      p3: number;
    }[];
    for (const [i, op] of ops.entries()) {
      // The listing goes on into trigger programs, each from address 0 again.
      if (Number(op.addr) !== i) break;
      const schema = op.opcode === "OpenWrite" ? schemas.get(Number(op.p3)) : undefined;
      if (schema === undefined) continue;
      const t = db.prepare(
        `SELECT name FROM ${
          ident(schema)
        }.sqlite_schema WHERE type = 'table' AND rootpage = ? AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`,
      ).get(op.p2) as { name: string } | undefined;
      if (t) found.add(`${ident(schema)}.${ident(t.name)}`);
    }
    return found.size === 1 ? [...found][0] : undefined;
  };

  /**
   * The result column names of a statement just run, in order, read back from
   * SQLite: a SELECT (with its bound values written in, as views take no
   * parameters) becomes a temporary view whose columns SQLite lists; a write's
   * RETURNING list becomes a view selecting it from the table the write opens.
   * Each candidate must name exactly the keys the rows have.
   */
  const resultNames = (stmt: StatementSync, returning: boolean, keys: string[]): string[] | undefined => {
    const want = new Set(keys);
    // On plain-object rows, a result column named __proto__ is not among the keys.
    const extra = plain && !want.has("__proto__") ? 1 : 0;
    const fits = (names: string[] | undefined): names is string[] =>
      names !== undefined && names.length - keys.length >= 0 && names.length - keys.length <= extra &&
      names.every((n) => want.has(n) || n === "__proto__");
    const sql = expandedSQL(stmt);
    if (!returning) {
      const names = viewColumns(sql);
      return fits(names) ? names : undefined;
    }
    const table = writtenTable(sourceSQL(stmt));
    if (table === undefined) return undefined;
    // RETURNING ends the statement: its list is the text after one of these
    // words (the last that SQLite accepts as a list over the table).
    const at = [...sql.matchAll(/\bRETURNING\b/gi)].map((m) => m.index).reverse();
    for (const i of at) {
      const list = sql.slice(i + "RETURNING".length).replace(/[\s;]+$/, "");
      const names = viewColumns(`SELECT ${list}\nFROM ${table}`);
      if (fits(names)) return names;
    }
    return undefined;
  };

  /** Column names in result order, or an error message. */
  const columnOrder = (p: ObjectPrepared, keys: string[]): string[] | string => {
    const reorder = keys.length > 1 && keys.some(isIndex);
    if (!reorder && !p.proto) return keys;
    const sig = keys.join("\u0000");
    if (p.order?.keys === sig) return p.order.names;
    const names = resultNames(p.stmt, p.returning, keys);
    if (names === undefined) return reorder ? orderLost(keys.filter(isIndex)) : keys;
    if (names.length > keys.length) {
      return "this runtime's node:sqlite drops a result column named __proto__ (later Node 22 releases keep it)";
    }
    p.order = { keys: sig, names };
    return names;
  };

  return adapter(db, cache, (req) => {
    const p = cache.get(req.sql, prepare);
    const objects = p.stmt.all(...req.params) as unknown as Row[];
    if (objects.length === 0) {
      // No row: a write, or a query that found nothing. Without columns() the
      // two look alike; the counts are what run() would give for the first,
      // and the core reads none for the second.
      const c = counts();
      return { columns: [], rows: [], changes: c.c, lastInsertRowid: c.r };
    }
    // A write's counts first: reading the column order back may run statements.
    const c = p.returning && !req.rowsOnly ? counts() : { c: 0, r: 0 };
    const columns = columnOrder(p, Object.keys(objects[0]!));
    if (typeof columns === "string") return { error: columns, code: "SQLITE_ERROR" };
    const rows = objects.map((o) => columns.map((k) => o[k]!));
    return { columns, rows, changes: c.c, lastInsertRowid: c.r };
  });
}
