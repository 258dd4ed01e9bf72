// What every SQLite adapter (sqlite_node.ts, sqlite_bun.ts) gives the core:
// one connection that answers the core's `sql` import (bindings/PROTOCOL.md, "SQL").

import { errorMessage, NakedhtmxError } from "./errors.ts";
import type { ReadRules, SQLRequest, SQLResult } from "./protocol.ts";
import type { ReadLane } from "./lane.ts";

export interface Database {
  /** Runs one request; never throws (failures come back as `{error, code}`). */
  run(req: SQLRequest): SQLResult;
  close(): void;
  /** The file, for caller SQL, which runs on a connection of its own (caller.ts). */
  readonly path?: string;
  /** Where reads the core cannot bound run (lane.ts); none for a database in memory. */
  readonly lane?: ReadLane;
  /**
   * Commits what a group commit holds open (group.ts), before something runs
   * on another connection; inside a write, at that write's COMMIT.
   */
  flush?(): void;
}

/**
 * A read-only connection for a caller's reads (PROTOCOL.md, "Caller reads"),
 * in the read lane's process (lane_child.ts): the statement is compiled under
 * the authorizer where the runtime has one (authorizeRead), refused unless
 * it writes nothing, and at most maxRows+1 rows are read.
 */
export interface Reader {
  /** Never throws: failures come back as `{error, code}`. */
  read(req: SQLRequest): SQLResult;
  close(): void;
}

/** The functions a caller's read may not call (sqldb's deniedFunctions). */
const deniedFunctions = ["load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "sqlite_dbpage"];

/**
 * sqldb.Read.AuthorizeRead (core/sqldb/read.go), the same rule: "" lets
 * SQLite go on. Action codes are SQLite's (SQLITE_SELECT 21, SQLITE_READ 20,
 * SQLITE_FUNCTION 31, SQLITE_RECURSIVE 33).
 */
export function authorizeRead(rules: ReadRules, action: number, a1: string, a2: string): string {
  const lower = (s: string) => s.toLowerCase();
  switch (action) {
    case 21:
    case 33:
      return "";
    case 31:
      return deniedFunctions.includes(lower(a2)) ? "the function " + a2 + " is not allowed" : "";
    case 20:
      if (lower(a1).startsWith("_nakedhtmx_")) return "no such table: " + a1;
      if (lower(a1) === "sqlite_dbpage") return "SQLite's own tables (" + a1 + ") are not for caller SQL";
      if (
        rules.hidden.some((n) =>
          lower(n.table) === lower(a1) && (n.column === "" || (a2 !== "" && lower(n.column) === lower(a2)))
        )
      ) return "no such table or column";
      return "";
  }
  return "only a read may run here: one SELECT, WITH or VALUES statement";
}

/** The first `maxRows + 1` rows of an iterator, and its end (the statement reset). */
export function firstRows<T>(it: Iterator<T>, maxRows: number): T[] {
  const rows: T[] = [];
  try {
    for (let r = it.next(); !r.done; r = it.next()) {
      rows.push(r.value);
      if (rows.length > maxRows) break;
    }
  } finally {
    it.return?.();
  }
  return rows;
}

/**
 * A store that answers later (PROTOCOL.md, "Stores that answer later"): the
 * core waits for it through Core's async calls (openAsync, handleAsync,
 * tickAsync), one call at a time.
 */
export interface AsyncDatabase {
  readonly answersLater: true;
  /** Runs one request; the promise never rejects (failures come back as `{error, code}`). */
  run(req: SQLRequest): Promise<SQLResult>;
  close(): void;
  readonly path?: string;
}

/**
 * Opens (creating when missing) a database file with a 5 s busy timeout
 * (the core switches it to WAL). Throws NakedhtmxError("DB_UNREADABLE") with a one-line message when
 * the file cannot be opened or is not a database.
 */
export type OpenDatabase = (path: string) => Database;

/**
 * What a connection answers caller SQL that reached it: such SQL runs on a
 * connection of its own, under the guard and the time limit (caller.ts).
 */
export const callerElsewhere: SQLResult = {
  error: "caller SQL runs on a connection of its own, under its guard: not on the core's",
  code: "SQLITE_MISUSE",
};

/** What a connection without a read lane (a database in memory) answers a caller's read. */
export const noLaneForRead: SQLResult = {
  error: "a caller's SQL needs a database file: it runs on a connection of its own, where its time limit can stop it",
  code: "SQLITE_MISUSE",
};

/** The one-line error every adapter gives for a file it cannot use. */
export function unreadable(path: string, e: unknown): NakedhtmxError {
  return new NakedhtmxError("DB_UNREADABLE", `cannot open database ${path}: ${errorMessage(e)}`, { cause: e });
}

/**
 * Sets the busy timeout and synchronous=NORMAL on a freshly opened
 * connection, after reading the schema: a directory or garbage fails there,
 * before anything is written; the connection is then closed and
 * DB_UNREADABLE thrown. The journal mode is the core's to switch (it records
 * the mode it found, for uninstall).
 */
export function setUpConnection(path: string, get: (sql: string) => unknown, close: () => void): void {
  try {
    get("PRAGMA busy_timeout=5000");
    get("PRAGMA schema_version");
    try {
      // WAL with synchronous=NORMAL on every host: a commit survives the
      // process being killed (the kill -9 tests), and the WAL is synced at
      // checkpoints rather than at every commit, so a power cut can take back
      // the last commits but never corrupts the file. The Go hosts' SQLite
      // (go-sqlite3) already behaved so under SQLite's default (FULL: about
      // 30 syncs for 1,600 commits, seen with strace) while node:sqlite synced
      // every commit; now the hosts agree. PocketBase and Rails choose the same.
      get("PRAGMA synchronous=NORMAL");
    } catch (e) {
      // A file we may only read (SQLite opened it read-only by itself) stays
      // in its journal mode: it is served read-only, writes say so.
      if (codeFromMessage(errorMessage(e)) !== "SQLITE_READONLY") throw e;
    }
  } catch (e) {
    close();
    throw unreadable(path, e);
  }
}

const primaryNames: Record<number, string> = {
  1: "ERROR",
  2: "INTERNAL",
  3: "PERM",
  4: "ABORT",
  5: "BUSY",
  6: "LOCKED",
  7: "NOMEM",
  8: "READONLY",
  9: "INTERRUPT",
  10: "IOERR",
  11: "CORRUPT",
  12: "NOTFOUND",
  13: "FULL",
  14: "CANTOPEN",
  15: "PROTOCOL",
  16: "EMPTY",
  17: "SCHEMA",
  18: "TOOBIG",
  19: "CONSTRAINT",
  20: "MISMATCH",
  21: "MISUSE",
  22: "NOLFS",
  23: "AUTH",
  24: "FORMAT",
  25: "RANGE",
  26: "NOTADB",
  27: "NOTICE",
  28: "WARNING",
};

/** The primary result code name (SQLITE_BUSY, ...) of an extended or primary code number. */
export function codeName(code: number | undefined): string {
  if (code === undefined) return "SQLITE_ERROR";
  const name = primaryNames[code & 0xff];
  return name ? "SQLITE_" + name : "SQLITE_ERROR";
}

/**
 * SQLite's own texts for the codes the core acts on (sqlite3ErrStr, and the
 * constraint messages). Deno's node:sqlite reports no errcode, only the text.
 */
const messageCodes: [RegExp, string][] = [
  [/^database is locked\b/, "SQLITE_BUSY"],
  [/^database table is locked\b/, "SQLITE_LOCKED"],
  [/^attempt to write a readonly database\b/, "SQLITE_READONLY"],
  [/^database or disk is full\b/, "SQLITE_FULL"],
  [/^disk I\/O error\b/, "SQLITE_IOERR"],
  [/^database disk image is malformed\b/, "SQLITE_CORRUPT"],
  [/^file is not a database\b/, "SQLITE_NOTADB"],
  [/^unable to open database file\b/, "SQLITE_CANTOPEN"],
  [/^(UNIQUE|NOT NULL|CHECK|FOREIGN KEY|PRIMARY KEY)? ?constraint failed\b/, "SQLITE_CONSTRAINT"],
  [/^string or blob too big\b/, "SQLITE_TOOBIG"],
  [/^datatype mismatch\b/, "SQLITE_MISMATCH"],
];

/** The code of an error known only by its message. */
export function codeFromMessage(message: string): string {
  for (const [re, code] of messageCodes) if (re.test(message)) return code;
  return "SQLITE_ERROR";
}

/** Reduces an extended code name (SQLITE_CONSTRAINT_UNIQUE) to its primary one. */
export function primaryCodeName(name: string | undefined): string {
  const m = name ? /^SQLITE_[A-Z]+/.exec(name) : null;
  return m ? m[0] : "SQLITE_ERROR";
}

/** Statements that give rows and may also write: their changes are read afterwards. */
export const returningRe = /\bRETURNING\b/i;

/**
 * The schema version's one spelling: the core asks it, the hosts send it with
 * each call (PROTOCOL.md, "Frames"), and the node:sqlite adapter watches its
 * answers for another connection's DDL.
 */
export const SCHEMA_VERSION_SQL = "PRAGMA schema_version";

/** A small LRU of prepared statements, keyed by SQL text. */
export class StatementCache<S> {
  private readonly map = new Map<string, S>();
  private readonly max: number;
  private readonly evict: (s: S) => void;
  constructor(max: number, evict: (s: S) => void = () => {}) {
    this.max = max;
    this.evict = evict;
  }
  get(sql: string, prepare: (sql: string) => S): S {
    const hit = this.map.get(sql);
    if (hit !== undefined) {
      this.map.delete(sql);
      this.map.set(sql, hit);
      return hit;
    }
    const s = prepare(sql);
    this.map.set(sql, s);
    if (this.map.size > this.max) {
      const [oldSQL, old] = this.map.entries().next().value as [string, S];
      this.map.delete(oldSQL);
      this.evict(old);
    }
    return s;
  }
  clear(): void {
    for (const s of this.map.values()) this.evict(s);
    this.map.clear();
  }
}
