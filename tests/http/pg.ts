// A real PostgreSQL for the HTTP suites: a throw-away cluster started from the
// machine's own server binaries (Debian's postgresql package) in a temporary
// directory, listening only on a Unix socket there, as
// bindings/go/postgres/pgtest does for the Go tests. NAKEDHTMX_PG_URL names a
// server to use instead. Without either, the Postgres legs skip, saying why.
//
// The suites read and write "from outside" with psql, synchronously, so a
// case's `query(db, …)` is the same call whether db is a SQLite file or a
// postgres:// URL.

import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Param = string | number | null;

export interface Cluster {
  /** A postgres:// URL of a fresh, empty database of its own. */
  createDatabase(): string;
  /** Stops the server (fast shutdown: every session is cut). */
  down(): void;
  /** Starts it again on the same socket. */
  up(): void;
  stop(): void;
}

export function isPostgres(db: string): boolean {
  return db.startsWith("postgres://") || db.startsWith("postgresql://");
}

function binDir(): string {
  let dirs: string[] = [];
  try {
    dirs = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a)).map((v) => `/usr/lib/postgresql/${v}/bin`);
  } catch {
    // not installed
  }
  return dirs.find((d) => existsSync(join(d, "initdb"))) ?? "";
}

let counter = 0;

let shared: Cluster | string | undefined;

/**
 * This process's one cluster, started at the first call (every host of a
 * run shares it; it stops when the process exits), or why there is none.
 */
export function sharedCluster(): Cluster | string {
  return shared ??= startCluster();
}

/** Starts a cluster, or returns why there is none. */
function startCluster(): Cluster | string {
  const given = process.env.NAKEDHTMX_PG_URL;
  if (given) return external(given);
  const bin = binDir();
  if (bin === "") return "no PostgreSQL server binaries (install Debian's postgresql package, or set NAKEDHTMX_PG_URL)";
  if (!hasPsql()) return "no psql (Debian's postgresql-client package)";
  const dir = mkdtempSync(join(tmpdir(), "nhpg-"));
  const data = join(dir, "data");
  // initdb refuses to run as root: the cluster is made and run as postgres.
  const as = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
  if (as.length > 0) {
    if (spawnSync("id", ["postgres"]).status !== 0) {
      const r = spawnSync("useradd", ["--system", "--no-create-home", "postgres"], { encoding: "utf8" });
      if (r.status !== 0) return `running as root, and no postgres user to run the cluster as: ${r.stderr}`;
    }
    execFileSync("chown", ["postgres", dir]);
  }
  chmodSync(dir, 0o755);
  const run = (name: string, ...args: string[]) => {
    const cmd = [...as, join(bin, name), ...args];
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${name}: ${r.stderr || r.stdout}`);
  };
  const port = 20000 + (process.pid % 20000);
  const opts = `-k ${dir} -p ${port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  try {
    run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync");
    run("pg_ctl", "-D", data, "-o", opts, "-l", join(dir, "log"), "-w", "-t", "60", "start");
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return e instanceof Error ? e.message : String(e);
  }
  const server = `postgres://postgres@localhost:${port}/postgres?host=${encodeURIComponent(dir)}&sslmode=disable`;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop");
    } catch {
      // already down
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", stop);
  return {
    createDatabase: () => create(server),
    down: () => run("pg_ctl", "-D", data, "-m", "fast", "-w", "stop"),
    up: () => run("pg_ctl", "-D", data, "-o", opts, "-l", join(dir, "log"), "-w", "-t", "60", "start"),
    stop,
  };
}

function external(server: string): Cluster {
  return {
    createDatabase: () => create(server),
    down: () => {
      throw new Error("NAKEDHTMX_PG_URL names a server this suite did not start: it cannot stop it");
    },
    up: () => {},
    stop: () => {},
  };
}

function hasPsql(): boolean {
  return spawnSync("psql", ["--version"]).status === 0;
}

function create(server: string): string {
  const name = `nh_http_${process.pid}_${++counter}`;
  pgExec(server, `CREATE DATABASE "${name}"`);
  const u = new URL(server);
  u.pathname = "/" + name;
  return u.toString();
}

/** A SQL literal for a value: the tests' own values, bound the only way psql -c allows. */
function literal(v: Param): string {
  if (v === null) return "NULL";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`no literal for ${v}`);
    return String(v);
  }
  if (v.includes("\0")) throw new Error("Postgres text cannot hold NUL");
  return `'${v.replaceAll("'", "''")}'`;
}

/** Replaces each ? outside quotes with the next parameter's literal. */
function bind(sql: string, params: Param[]): string {
  let out = "";
  let i = 0;
  let quote = "";
  for (const ch of sql) {
    if (quote !== "") {
      if (ch === quote) quote = "";
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === "?") {
      if (i >= params.length) throw new Error(`too few parameters for ${sql}`);
      out += literal(params[i++]);
      continue;
    }
    out += ch;
  }
  if (i !== params.length) throw new Error(`${params.length} parameters for ${i} placeholders in ${sql}`);
  return out;
}

function psql(url: string, args: string[], input?: string): string {
  // The project's own tables are in their schema: name them as SQLite's are.
  const path = ["-c", `SET search_path TO public, "_nakedhtmx"`];
  const r = spawnSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, ...path, ...args], {
    encoding: "utf8",
    input,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error((r.stderr || r.stdout || `psql exited ${r.status}`).trim());
  return r.stdout;
}

/** Runs SQL (several statements, one transaction when it says BEGIN) and fails loudly. */
export function pgExec(url: string, sql: string): void {
  psql(url, ["-f", "-"], sql);
}

/**
 * Every row of one query, as JSON objects: numbers as numbers (bigint too),
 * and booleans as 1 and 0, as SQLite holds them, so a case compares the rows
 * of either store the same way.
 */
export function pgQuery(url: string, sql: string, ...params: Param[]): Record<string, unknown>[] {
  const wrapped = `SELECT coalesce(json_agg(t), '[]') FROM (${bind(sql, params)}) t`;
  return JSON.parse(psql(url, ["-At", "-c", wrapped]), (_k, v) => typeof v === "boolean" ? Number(v) : v);
}

/**
 * A writer from outside with the shape of node:sqlite's DatabaseSync (exec,
 * prepare(...).run/all/get, close), on psql: what the live suite's outside
 * writer needs, so its cases read the same on either store. Each statement
 * is a session of its own, except between exec("BEGIN") and exec("COMMIT"),
 * which are kept and sent as one transaction at COMMIT, as a psql script.
 */
export class PgOutside {
  private pending: string[] | null = null;
  readonly url: string;
  constructor(url: string) {
    this.url = url;
  }

  exec(sql: string): void {
    const s = sql.trim().replace(/;$/, "").toUpperCase();
    if (s === "BEGIN") {
      this.pending = [];
      return;
    }
    if (s === "COMMIT" && this.pending !== null) {
      const script = `BEGIN;\n${this.pending.join(";\n")};\nCOMMIT;\n`;
      this.pending = null;
      pgExec(this.url, script);
      return;
    }
    if (this.pending !== null) this.pending.push(sql);
    else pgExec(this.url, sql);
  }

  prepare(sql: string) {
    return {
      run: (...params: Param[]): void => this.exec(bind(sql, params)),
      all: (...params: Param[]): Record<string, unknown>[] => pgQuery(this.url, sql, ...params),
      get: (...params: Param[]): Record<string, unknown> | undefined => pgQuery(this.url, sql, ...params)[0],
    };
  }

  close(): void {}
}
