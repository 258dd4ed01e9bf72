// PostgreSQL on the TS hosts (Deno, Bun, Node): one connection through
// node-postgres (`pg`, pure JavaScript, the same on all three runtimes), as
// a store that answers later (sqlite.ts, AsyncDatabase; PROTOCOL.md, "SQL
// on Postgres"). The rules are bindings/go/postgres's, the native host's:
//
// - the core's `?` parameters are numbered ($1, $2, ...) outside quotes,
//   comments and dollar-quoted text;
// - every value is bound, never spliced, as text with no type, so the server
//   reads it in the type its place needs (node-postgres sends parameters so);
// - rows come back as text and are typed by column: integers as bigint,
//   floating point as numbers, booleans as 1 or 0, bytea as bytes, numeric
//   as a number where a float64 holds it exactly, timestamps in ISO 8601,
//   the rest as text;
// - errors carry SQLite's code names, the core's vocabulary.
//
// `pg` is imported only when a postgres:// database is opened.

import { errorMessage, NakedhtmxError } from "./errors.ts";
import type { SQLRequest, SQLResult, SQLValue } from "./protocol.ts";
import type { AsyncDatabase } from "./sqlite.ts";
import { clearTimeout, setTimeout } from "node:timers";

/** Whether a --db value names a Postgres database rather than a SQLite file. */
export function isPostgresURL(db: string): boolean {
  const l = db.toLowerCase();
  return l.startsWith("postgres://") || l.startsWith("postgresql://");
}

/**
 * A --db value as it may be printed (the serving line, errors): a Postgres
 * URL's password, in its user part or its query (?password=...), as
 * "xxxxx"; anything else as it is (Go: bindings/go/postgres Shown).
 */
export function shownDB(db: string): string {
  if (!isPostgresURL(db)) return db;
  let u: URL;
  try {
    u = new URL(db);
  } catch {
    return "a postgres:// URL that cannot be read";
  }
  if (u.password !== "") u.password = "xxxxx";
  if (u.searchParams.has("password")) u.searchParams.set("password", "xxxxx");
  return u.toString();
}

/** The part of node-postgres this module uses. */
interface PgField {
  name: string;
  dataTypeID: number;
}
interface PgResult {
  fields: PgField[];
  rows: unknown[][];
  rowCount: number | null;
}
interface PgClient {
  connect(): Promise<void>;
  query(config: { text: string; values?: unknown[]; rowMode?: "array"; types?: unknown }): Promise<PgResult>;
  query(text: string): Promise<PgResult | PgResult[]>;
  end(): Promise<void>;
  on(event: "error", fn: (e: Error) => void): void;
  on(event: "end" | "notification", fn: () => void): void;
}
type PgClientClass = new (config: { connectionString: string; statement_timeout?: number }) => PgClient;

/** Every type's text as it comes: this module types it by column. */
const rawText = { getTypeParser: () => (v: string) => v };

/** What Go's bindings/go/postgres.Number does: `?` to $n, outside quotes, comments and $tag$ text. */
export function numberParams(sql: string): [string, number] {
  if (!sql.includes("?")) return [sql, 0];
  let out = "";
  let n = 0;
  for (let i = 0; i < sql.length;) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      let j = i + 1;
      for (; j < sql.length; j++) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            j++;
            continue;
          }
          break;
        }
      }
      const end = Math.min(j + 1, sql.length);
      out += sql.slice(i, end);
      i = end;
    } else if (c === "-" && sql[i + 1] === "-") {
      let j = sql.indexOf("\n", i);
      if (j < 0) j = sql.length;
      out += sql.slice(i, j);
      i = j;
    } else if (c === "/" && sql[i + 1] === "*") {
      const j = sql.indexOf("*/", i + 2);
      const end = j < 0 ? sql.length : j + 2;
      out += sql.slice(i, end);
      i = end;
    } else if (c === "$") {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (m) {
        const tag = m[0];
        const k = sql.indexOf(tag, i + tag.length);
        const end = k < 0 ? sql.length : k + tag.length;
        out += sql.slice(i, end);
        i = end;
      } else {
        out += c;
        i++;
      }
    } else if (c === "?") {
      n++;
      out += "$" + n;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return [out, n];
}

/** A value in the text the server reads untyped values in. */
function param(v: SQLValue): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : String(v);
  if (typeof v === "string") return v;
  let hex = "\\x";
  for (const b of v) hex += b.toString(16).padStart(2, "0");
  return hex;
}

// The type OIDs whose text is read into another type (pg_type.dat).
const INT_OIDS = new Set([20, 21, 23, 26]);
const FLOAT_OIDS = new Set([700, 701]);
const BOOL = 16, BYTEA = 17, NUMERIC = 1700, TIMESTAMP = 1114, TIMESTAMPTZ = 1184;

function trimZeros(s: string): string {
  if (!s.includes(".")) return s;
  return s.replace(/0+$/, "").replace(/\.$/, "");
}

/** One cell's text as the core's value (Go: bindings/go/postgres value). */
function value(oid: number, cell: unknown): SQLValue {
  if (cell === null || cell === undefined) return null;
  const s = String(cell);
  if (INT_OIDS.has(oid)) return BigInt(s);
  if (FLOAT_OIDS.has(oid)) {
    if (s === "NaN") return null;
    return s === "Infinity" ? Infinity : s === "-Infinity" ? -Infinity : Number(s);
  }
  switch (oid) {
    case NUMERIC: {
      if (s === "NaN") return null;
      const f = Number(s);
      // Exact as a float64: the same digits back (Go's FormatFloat 'f', -1).
      return Number.isFinite(f) && formatFloat(f) === trimZeros(s) ? f : s;
    }
    case BOOL:
      return s === "t" ? 1n : 0n;
    case BYTEA: {
      if (cell instanceof Uint8Array) return cell;
      if (!s.startsWith("\\x")) return new TextEncoder().encode(s);
      const out = new Uint8Array((s.length - 2) / 2);
      for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 + 2 * i, 4 + 2 * i), 16);
      return out;
    }
    case TIMESTAMP:
    case TIMESTAMPTZ: {
      let t = s.length > 10 && s[10] === " " ? s.slice(0, 10) + "T" + s.slice(11) : s;
      if (oid === TIMESTAMPTZ && t.endsWith("+00")) t = t.slice(0, -3) + "Z";
      return t;
    }
  }
  return s;
}

/** A float's shortest decimal without an exponent, as Go's strconv.FormatFloat(f, 'f', -1, 64). */
function formatFloat(f: number): string {
  const s = String(f);
  if (!/e/i.test(s)) return s;
  const [mant = "", exp = "0"] = s.toLowerCase().split("e");
  const e = Number(exp);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const point = mant.replace("-", "").indexOf(".");
  const intLen = (point < 0 ? mant.replace("-", "").length : point) + e;
  let out: string;
  if (intLen <= 0) out = "0." + "0".repeat(-intLen) + digits;
  else if (intLen >= digits.length) out = digits + "0".repeat(intLen - digits.length);
  else out = digits.slice(0, intLen) + "." + digits.slice(intLen);
  return (neg ? "-" : "") + out;
}

/** A SQLSTATE to SQLite's code names (Go: bindings/go/postgres mapError). */
function codeOf(code: string): string {
  if (code.startsWith("23")) return "SQLITE_CONSTRAINT";
  if (code === "40001" || code === "40P01" || code === "55P03") return "SQLITE_BUSY";
  if (code === "57014") return "SQLITE_INTERRUPT";
  if (code === "25006" || code === "42501") return "SQLITE_READONLY";
  if (code.startsWith("22")) return "SQLITE_MISMATCH";
  if (code.startsWith("08") || code.startsWith("57P")) return "SQLITE_IOERR";
  return "SQLITE_ERROR";
}

function failure(e: unknown): SQLResult {
  const code = (e as { code?: unknown }).code;
  if (typeof code !== "string" || code.length !== 5) {
    // A lost or refused connection: say why in the system's words
    // (ECONNREFUSED), without the socket's path or the user the driver's
    // message carries (Go: bindings/go/postgres unreachable).
    const why = typeof code === "string" && code !== "" ? code : "the connection was lost";
    return { error: `PostgreSQL cannot be reached: ${why}`, code: "SQLITE_IOERR" };
  }
  return { error: errorMessage(e), code: codeOf(code) };
}

/** A Postgres connection that answers the core's `sql` import later. */
export interface PostgresDatabase extends AsyncDatabase {
  /** The schema served (--pg-schema; "public" by default). */
  readonly schema: string;
  /** The core's time limit on each statement (statement_timeout), from now on. */
  setStatementLimit(ms: number): Promise<void>;
  /** close(), waiting until the session is ended (PGlite then shuts down cleanly). */
  end(): Promise<void>;
}

/** One session with a server (node-postgres) or an embedded Postgres (PGlite). */
interface Session {
  /** One statement, values bound untyped, every cell as its text. */
  query(text: string, values: (string | null)[]): Promise<{ fields: PgField[]; rows: unknown[][]; count: number }>;
  /** Statements without parameters (the simple protocol). */
  script(sql: string): Promise<void>;
  /** Whether the session is gone (the server ended it): a new one is made. */
  readonly broken: boolean;
  end(): Promise<void>;
}

const quote = (n: string) => '"' + n.replaceAll('"', '""') + '"';

async function pgClient(): Promise<PgClientClass> {
  try {
    const mod = await import("pg") as unknown as { default?: { Client: PgClientClass }; Client?: PgClientClass };
    return (mod.default?.Client ?? mod.Client)!;
  } catch (e) {
    throw new NakedhtmxError("DB_UNREADABLE", `cannot load the PostgreSQL client (pg): ${errorMessage(e)}`, {
      cause: e,
    });
  }
}

/** The channel the capture trigger and the DDL counter NOTIFY at commit (Go: core/store/postgres Channel). */
const CHANNEL = "_nakedhtmx";

/**
 * Ticks a host's live hub as the log grows, instead of a timer asking
 * Postgres every 20 ms (Go: bindings/go/postgres Wake): on a connection of
 * its own it LISTENs on the channel the capture trigger and the DDL counter
 * NOTIFY at commit, and ticks soon after a notice (a burst of them makes one
 * tick), and every `slowMs` besides (what a notice lost with a dropped
 * connection may wait). While it cannot listen it ticks every `fastMs` and
 * tries again each second. A notice is only a wake-up: what changed is read
 * from the log, as without one. Its timers never keep a process alive.
 */
export async function wakeOnLog(
  url: string,
  tick: () => void,
  pace: { fastMs: number; slowMs: number } = { fastMs: 20, slowMs: 1000 },
): Promise<{ stop(): void }> {
  const Client = await pgClient();
  let stopped = false;
  let listening = false;
  let client: PgClient | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const later = (fn: () => void, ms: number) => setTimeout(fn, ms).unref(); // node:timers': unref on every runtime
  const schedule = (ms: number) => {
    clearTimeout(timer);
    timer = later(fire, ms);
  };
  const fire = () => {
    if (stopped) return;
    tick();
    schedule(listening ? pace.slowMs : pace.fastMs);
  };
  const connect = async () => {
    if (stopped) return;
    const c = new Client({ connectionString: url });
    const lost = () => {
      if (stopped || (client !== undefined && client !== c)) return;
      client = undefined;
      listening = false;
      schedule(pace.fastMs);
      c.end().catch(() => {});
      clearTimeout(retry);
      retry = later(() => void connect(), 1000);
    };
    c.on("error", lost);
    c.on("end", lost);
    try {
      await c.connect();
      await c.query(`LISTEN "${CHANNEL}"`);
    } catch {
      lost();
      return;
    }
    if (stopped) {
      c.end().catch(() => {});
      return;
    }
    client = c;
    listening = true;
    c.on("notification", () => {
      if (!stopped) schedule(0);
    });
    schedule(0); // what came while nobody listened
  };
  schedule(pace.fastMs);
  void connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(retry);
      client?.end().catch(() => {});
      client = undefined;
    },
  };
}

/**
 * Connects to url and serves schema ("" is "public"). Throws DB_UNREADABLE
 * with a one-line message when the server cannot be reached or the schema
 * is missing.
 */
export async function openPostgres(url: string, schema = ""): Promise<PostgresDatabase> {
  const Client = await pgClient();
  return await serve(async () => {
    const c = new Client({ connectionString: url });
    let broken = false;
    c.on("error", () => {
      broken = true; // the server ended the connection: the next statement makes a new one
    });
    await c.connect();
    return {
      get broken() {
        return broken;
      },
      async query(text, values) {
        const r = await c.query({ text, values, rowMode: "array", types: rawText });
        return { fields: r.fields, rows: r.rows, count: r.rowCount ?? 0 };
      },
      async script(sql) {
        await c.query(sql);
      },
      end: () => c.end(),
    };
  }, schema);
}

/** The part of PGlite this module uses. */
interface PGliteInstance {
  parsers: Record<string, unknown>;
  serializers: Record<string, unknown>;
  query(
    text: string,
    values: unknown[],
    opts: { rowMode: "array" },
  ): Promise<{ fields: PgField[]; rows: unknown[][]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
  close(): Promise<void>;
}

/** Whether a --db value is `pglite:DIR`: an embedded Postgres kept in DIR. */
export function isPGlite(db: string): boolean {
  return db.toLowerCase().startsWith("pglite:");
}

/**
 * Opens (creating when missing) an embedded Postgres, PGlite, kept in the
 * directory `pglite:DIR` names, and serves schema. PGlite
 * (`@electric-sql/pglite`) is not installed with nakedhtmx: add it to use it.
 */
export async function openPGlite(db: string, schema = ""): Promise<PostgresDatabase> {
  const dir = db.slice("pglite:".length);
  if (dir === "") throw new NakedhtmxError("DB_UNREADABLE", "pglite: needs a directory (pglite:DIR)");
  let create: (dir: string) => Promise<PGliteInstance>;
  try {
    const mod = await import("@electric-sql/pglite") as unknown as {
      PGlite: { create(dir: string): Promise<PGliteInstance> };
    };
    create = (d) => mod.PGlite.create(d);
  } catch (e) {
    throw new NakedhtmxError(
      "DB_UNREADABLE",
      `cannot load PGlite: ${errorMessage(e)} (install it beside nakedhtmx: npm install @electric-sql/pglite)`,
      { cause: e },
    );
  }
  let pg: PGliteInstance;
  try {
    pg = await create(dir);
  } catch (e) {
    throw new NakedhtmxError("DB_UNREADABLE", `cannot open PGlite in ${dir}: ${errorMessage(e)}`, { cause: e });
  }
  // Values go as the text they are, rows come as their text: this module
  // types them (PGlite looks its parsers and serializers up by type OID).
  const asIs = () =>
    new Proxy({}, { get: (_t, k) => typeof k === "string" && /^\d+$/.test(k) ? (x: unknown) => x : undefined });
  pg.parsers = asIs();
  pg.serializers = asIs();
  let ended = false;
  const session: Session = {
    get broken() {
      return ended;
    },
    async query(text, values) {
      const r = await pg.query(text, values, { rowMode: "array" });
      return { fields: r.fields, rows: r.rows, count: r.affectedRows ?? 0 };
    },
    async script(sql) {
      await pg.exec(sql);
    },
    async end() {
      ended = true;
      await pg.close();
    },
  };
  return await serve(() => ended ? Promise.reject(new Error("PGlite is closed")) : Promise.resolve(session), schema);
}

/** A store over sessions from connect: the served schema on the search path, the time limit, a new session after one is lost. */
async function serve(connect: () => Promise<Session>, schema: string): Promise<PostgresDatabase> {
  const served = schema === "" ? "public" : schema;
  let limitMs = 0;
  let session: Session | undefined;
  const begin = async (): Promise<Session> => {
    const s = await connect();
    await s.script(
      `SET search_path = ${
        quote(served)
      }, "_nakedhtmx"; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET lock_timeout = '5s'` +
        (limitMs > 0 ? `; SET statement_timeout = ${limitMs}` : ""),
    );
    return s;
  };
  const live = async (): Promise<Session> => {
    if (session && !session.broken) return session;
    if (session) session.end().catch(() => {});
    session = undefined;
    session = await begin();
    return session;
  };
  try {
    const s = await live();
    const r = await s.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [served]);
    if (r.rows.length === 0) throw new Error(`PostgreSQL has no schema "${served}" (--pg-schema)`);
  } catch (e) {
    await session?.end().catch(() => {});
    throw new NakedhtmxError("DB_UNREADABLE", `cannot use PostgreSQL: ${errorMessage(e)}`, { cause: e });
  }
  let closed = false;
  const script = async (sql: string): Promise<void> => {
    await (await live()).script(sql);
  };

  return {
    answersLater: true,
    schema: served,
    async setStatementLimit(ms: number) {
      limitMs = Math.max(0, Math.trunc(ms));
      if (session && !session.broken) await session.script(`SET statement_timeout = ${limitMs}`);
    },
    async run(req: SQLRequest): Promise<SQLResult> {
      if (closed) return { error: "the database is closed", code: "SQLITE_MISUSE" };
      // The core runs a caller's read on Postgres as its own statements.
      if (req.read) return { error: "this store takes no caller reads", code: "SQLITE_MISUSE" };
      try {
        if (req.caller) {
          // Its own transaction: all of it or none (none when dry). No
          // authorizer on Postgres: the store's words (MigrationRefusal)
          // and the role's rights are the guard.
          await script("BEGIN");
          try {
            await script(req.sql);
          } catch (e) {
            await script("ROLLBACK").catch(() => {});
            throw e;
          }
          await script(req.caller.dry ? "ROLLBACK" : "COMMIT");
          return { columns: [], rows: [], changes: 0, lastInsertRowid: 0 };
        }
        if (req.script) {
          await script(req.sql);
          return { columns: [], rows: [], changes: 0, lastInsertRowid: 0 };
        }
        const [text, n] = numberParams(req.sql);
        if (n !== req.params.length) {
          return { error: `${req.params.length} parameters for ${n} places`, code: "SQLITE_RANGE" };
        }
        if (req.params.some((v) => typeof v === "string" && v.includes("\0"))) {
          return { error: "PostgreSQL text cannot hold a NUL character", code: "SQLITE_MISMATCH" };
        }
        const r = await (await live()).query(text, req.params.map(param));
        const oids = r.fields.map((f) => f.dataTypeID);
        const rows = r.rows.map((row) => row.map((cell, i) => value(oids[i] ?? 25, cell)));
        return { columns: r.fields.map((f) => f.name), rows, changes: r.count, lastInsertRowid: 0 };
      } catch (e) {
        return failure(e);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      session?.end().catch(() => {});
    },
    async end() {
      if (closed) return;
      closed = true;
      await session?.end().catch(() => {});
    },
  };
}
