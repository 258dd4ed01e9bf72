// The command line of CONTRACT.md ("Launching"), the same on every runtime.
// cli_node.ts, cli_bun.ts and cli_deno.ts bind it to a runtime's SQLite and
// HTTP server; everything else (flags, exit codes, signals, the URL line, the
// `schema` subcommand) lives here once.

import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { errorMessage, NakedhtmxError, type NakedhtmxErrorCode } from "./errors.ts";
import { isPGlite, isPostgresURL, shownDB } from "./postgres.ts";
import type { WasmSource } from "./core.ts";
import {
  createNakedhtmx,
  isHostName,
  type Nakedhtmx,
  type NakedhtmxInternal,
  type Runtime,
  uninstallFrom,
} from "./library.ts";
import { publishOnce } from "./natsbus.ts";

export interface Server {
  /** The port actually bound (the answer to --port 0). */
  readonly port: number;
  /** Stops accepting, closes open connections. */
  close(): Promise<void>;
}

/** What a runtime's server calls; the CLI binds it to the app once it has opened. */
export type App = Pick<Nakedhtmx, "fetch" | "node">;

/** Starts a runtime's HTTP server on `app`; rejects when it cannot listen. */
export type Serve = (o: { hostname: string; port: number; app: App }) => Promise<Server>;

export interface CliRuntime extends Runtime {
  serve: Serve;
  /** The core when NAKEDHTMX_WASM does not name one (default: dist/core.wasm). */
  wasm?: WasmSource;
}

export const USAGE = `Usage: nakedhtmx [flags]
       nakedhtmx schema --db FILE --out DIR [--config FILE]
       nakedhtmx uninstall --db FILE
       nakedhtmx user add --db FILE --email EMAIL [--role ROLE]   (password: one line on stdin)
       nakedhtmx user list --db FILE
       nakedhtmx user remove --db FILE --email EMAIL
       nakedhtmx migrate --nats URL [--node NAME] FILE.sql

Serves a SQLite database as a live web app (HTML and JSON API).

Flags:
  --db FILE           SQLite database file; created when missing (default ./nakedhtmx.db),
                      or a postgres:// URL (PG* variables fill what it leaves out)
  --pg-schema NAME    Postgres: the schema served (default public)
                      (--db pglite:DIR: an embedded Postgres in DIR, with
                      @electric-sql/pglite installed beside nakedhtmx)
  --port N            port to listen on; 0 picks a free port (default 8080)
  --host ADDR         listen address (default 127.0.0.1)
  --auth-token TOKEN  require Authorization: Bearer TOKEN (pages: a sign-in form)
  --allowed-host NAME a further Host name requests may carry (repeatable): a proxy's
                      or a LAN name; loopback names and the listen address always are
  --config FILE       labels, hidden columns, widgets, read-only tables; re-read live
                      (default ./nakedhtmx.json when present)
  --nats URL          join a scale-out cluster through this NATS server (with
                      --write jetstream)
  --node NAME         this node's name in the cluster (default: host name)
  --write MODE        direct (default), or jetstream: every write becomes a command
                      on a JetStream stream that every node applies in order
  --insecure          allow a non-loopback --host without --auth-token
  --keep-journal-mode leave the database's journal mode as it is (default: switch
                      to WAL, so other processes can read while it writes)
  --help              print this help

schema: writes TABLE.schema.json and TABLE.ui.json for every table into DIR.
uninstall: removes every object nakedhtmx added to the database (its _nakedhtmx_
tables and triggers) and sets back the journal mode it found; rows are untouched.
user: the database's users (with at least one, the app needs a signed-in user;
role admin sees and does everything, others are held to the config's rules).
migrate: publishes the SQL in FILE.sql as a migration command on the cluster's
JetStream stream; every node (--write jetstream) runs it at the same point among
the writes, all of it or none.
`;

class UsageError extends Error {}

const DEFAULT_CONFIG = "./nakedhtmx.json";

/** The shortest --auth-token taken (CONTRACT, "Launching"); the Go CLI's MinTokenLength. */
export const MIN_TOKEN_LENGTH = 16;

export interface Flags {
  db: string;
  port: number;
  host: string;
  authToken?: string;
  config?: string;
  nats?: string;
  node?: string;
  write: "direct" | "jetstream";
  insecure: boolean;
  /** --keep-journal-mode */
  keepJournalMode: boolean;
  /** --pg-schema */
  pgSchema?: string;
  /** --allowed-host, repeatable. */
  allowedHosts: string[];
  out?: string;
  /** migrate: the SQL file. */
  file?: string;
  /** user: --email, --role; dbSet: --db was given. */
  email?: string;
  role?: string;
  dbSet?: boolean;
}

export type UserVerb = "add" | "list" | "remove";

export type Command =
  | { command: "help" }
  | { command: "serve" | "schema" | "migrate" | "uninstall"; flags: Flags }
  | { command: "user"; verb: UserVerb; flags: Flags };

const valueFlags = new Set([
  "db",
  "port",
  "host",
  "auth-token",
  "allowed-host",
  "config",
  "nats",
  "node",
  "write",
  "out",
  "pg-schema",
  "email",
  "role",
]);
const boolFlags = new Set(["insecure", "keep-journal-mode", "help"]);

/** Parses argv (without the runtime and script). Throws UsageError with a one-line message. */
export function parseArgs(argv: readonly string[]): Command {
  const flags: Flags = {
    db: "./nakedhtmx.db",
    port: 8080,
    host: "127.0.0.1",
    write: "direct",
    insecure: false,
    keepJournalMode: false,
    allowedHosts: [],
  };
  let command: "serve" | "schema" | "migrate" | "uninstall" | "user" = "serve";
  let verb: UserVerb = "list";
  let help = false;
  const args = [...argv];
  if (args[0] === "schema" || args[0] === "migrate" || args[0] === "uninstall") {
    command = args[0];
    args.shift();
  } else if (args[0] === "serve") {
    args.shift();
  } else if (args[0] === "user") {
    command = "user";
    const v = args[1];
    if (v === "-h" || v === "--help" || v === "-help") return { command: "help" };
    if (v !== "add" && v !== "list" && v !== "remove") {
      throw new UsageError("user needs add, list or remove (see --help)");
    }
    verb = v;
    args.splice(0, 2);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    // As Go's flag package (the Go hosts' parser): -flag and --flag alike,
    // -flag=value, booleans as -flag or -flag=true|false, and "--" ends the flags.
    if (arg === "--") {
      if (i + 1 < args.length) throw new UsageError(`unexpected argument ${JSON.stringify(args[i + 1])} (see --help)`);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (command === "migrate" && flags.file === undefined) {
        flags.file = arg;
        continue;
      }
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (see --help)`);
    }
    const bare = arg.slice(arg.startsWith("--") ? 2 : 1);
    const eq = bare.indexOf("=");
    const name = eq < 0 ? bare : bare.slice(0, eq);
    if (name === "h") {
      help = true;
      continue;
    }
    if (boolFlags.has(name)) {
      const v = eq < 0 ? "true" : bare.slice(eq + 1);
      if (v !== "true" && v !== "false") {
        throw new UsageError(`--${name} takes true or false, not ${JSON.stringify(v)}`);
      }
      if (name === "help") help = v === "true";
      else if (name === "keep-journal-mode") flags.keepJournalMode = v === "true";
      else flags.insecure = v === "true";
      continue;
    }
    if (
      !valueFlags.has(name) || (name === "out" && command !== "schema") ||
      ((name === "email" || name === "role") && command !== "user")
    ) {
      throw new UsageError(`unknown flag --${name} (see --help)`);
    }
    let value: string;
    if (eq >= 0) value = bare.slice(eq + 1);
    else {
      const next = args[++i];
      if (next === undefined) throw new UsageError(`--${name} needs a value`);
      value = next;
    }
    switch (name) {
      case "db":
        if (value === "") throw new UsageError("--db needs a file name");
        flags.db = value;
        flags.dbSet = true;
        break;
      case "email":
        flags.email = value;
        break;
      case "role":
        flags.role = value;
        break;
      case "port":
        if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
          throw new UsageError(`--port must be a number from 0 to 65535, not ${JSON.stringify(value)}`);
        }
        flags.port = Number(value);
        break;
      case "host":
        if (value === "") throw new UsageError("--host needs an address");
        flags.host = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
        break;
      case "auth-token":
        if (value === "") throw new UsageError("--auth-token must not be empty");
        if ([...value].length < MIN_TOKEN_LENGTH) {
          throw new UsageError(
            `--auth-token is ${
              [...value].length
            } characters; at least ${MIN_TOKEN_LENGTH} are needed (a short token is guessed quickly)`,
          );
        }
        flags.authToken = value;
        break;
      case "allowed-host":
        if (!isHostName(value)) {
          throw new UsageError(
            `invalid --allowed-host ${
              JSON.stringify(value)
            }: not a host name (NAME, NAME:PORT, an IPv4 address or a bracketed IPv6 address, without a scheme or path)`,
          );
        }
        flags.allowedHosts.push(value);
        break;
      case "config":
        flags.config = value;
        break;
      case "nats":
        flags.nats = value;
        break;
      case "node":
        flags.node = value;
        break;
      case "write":
        if (value !== "direct" && value !== "jetstream") {
          throw new UsageError(`--write must be direct or jetstream, not ${JSON.stringify(value)}`);
        }
        flags.write = value;
        break;
      case "out":
        flags.out = value;
        break;
      case "pg-schema":
        flags.pgSchema = value;
        break;
    }
  }
  if (help) return { command: "help" };
  if (command === "schema" && (flags.out === undefined || flags.out === "")) {
    throw new UsageError("schema needs --out DIR");
  }
  if (command === "user") {
    if (!flags.dbSet) throw new UsageError(`user ${verb} needs --db FILE (see --help)`);
    if (verb !== "list" && !flags.email) throw new UsageError(`user ${verb} needs --email EMAIL (see --help)`);
    return { command, verb, flags };
  }
  return { command, flags };
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) || /^(0+:){7}0*1$/.test(h);
}

/**
 * Every --allowed-host, and the listen address unless it is a wildcard
 * (0.0.0.0 or ::, which no browser should send as Host).
 */
export function hostsToAnswer(f: Flags): string[] {
  const h = f.host;
  if (/^0+\.0+\.0+\.0+$/.test(h) || /^[0:]+$/.test(h)) return [...f.allowedHosts];
  return [...f.allowedHosts, h.includes(":") ? `[${h}]` : h];
}

/** The URL the server answers on, for the one stdout line. */
export function serverURL(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}/`;
}

function out(line: string): void {
  writeSync(1, line + "\n");
}

function fail(line: string): void {
  writeSync(2, `nakedhtmx: ${line}\n`);
}

/** Startup failures the user can fix (flags, files): exit 2. Anything else: 1. */
function exitCode(code: NakedhtmxErrorCode | undefined): number {
  switch (code) {
    case "BAD_OPTION":
    case "DB_UNREADABLE":
    case "BAD_CONFIG":
    case "CORE_OPEN":
    case "NOT_SUPPORTED":
    case "NATS":
      return 2;
    default:
      return 1;
  }
}

function startError(e: unknown): number {
  fail(errorMessage(e));
  return exitCode(e instanceof NakedhtmxError ? e.code : undefined);
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once("SIGINT", on("SIGINT"));
    process.once("SIGTERM", on("SIGTERM"));
  });
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    p.catch(() => {}).finally(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Runs the CLI; resolves with the process exit code once the server has stopped. */
export async function runCli(rt: CliRuntime, argv: readonly string[]): Promise<number> {
  let cmd: Command;
  try {
    cmd = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    fail(e.message);
    return 2;
  }
  if (cmd.command === "help") {
    writeSync(1, USAGE);
    return 0;
  }
  const f = cmd.flags;
  if (cmd.command === "user") return await runUser(rt, cmd.verb, f);
  if (cmd.command === "migrate") return await runMigrate(f);
  if (f.write === "jetstream" && f.nats === undefined) {
    return startError(
      new NakedhtmxError("BAD_OPTION", "--write jetstream needs --nats URL: the commands travel on a JetStream stream"),
    );
  }
  if (cmd.command === "schema") return await runSchema(rt, f);
  if (cmd.command === "uninstall") return await runUninstall(rt, f);

  if (!isLoopback(f.host) && f.authToken === undefined && !f.insecure) {
    fail(
      `refusing to listen on ${f.host} without --auth-token: anyone who can reach it could change the database (add --insecure to allow it)`,
    );
    return 2;
  }
  // Listen before opening, as the Go hosts do: a taken port then fails
  // without touching the database. Until the app is open, requests get 503.
  let app: NakedhtmxInternal | undefined;
  const notYet = () => new Response("starting\n", { status: 503 });
  const lazy: App = {
    fetch: (req, server) => (app ? app.fetch(req, server) : Promise.resolve(notYet())),
    node: (req, res, next) => {
      if (app) app.node(req, res, next);
      else res.writeHead(503).end("starting\n");
    },
  };
  let server: Server;
  try {
    server = await rt.serve({ hostname: f.host, port: f.port, app: lazy });
  } catch (e) {
    fail(`cannot listen on ${serverURL(f.host, f.port)}: ${errorMessage(e)}`);
    return 1;
  }
  try {
    app = await createNakedhtmx(rt, {
      db: f.db,
      config: f.config ?? DEFAULT_CONFIG,
      authToken: f.authToken,
      allowedHosts: hostsToAnswer(f),
      keepJournalMode: f.keepJournalMode,
      pgSchema: f.pgSchema,
      wasm: process.env["NAKEDHTMX_WASM"] || rt.wasm,
      write: f.write,
      nats: f.nats,
      node: f.node,
    }, { configOptional: f.config === undefined });
  } catch (e) {
    await withTimeout(server.close(), 1000);
    return startError(e);
  }
  const stopped = waitForSignal();
  out(`nakedhtmx: serving ${shownDB(f.db)} at ${serverURL(f.host, server.port)}`);
  await stopped;
  // Open event streams never finish on their own: end them, then let the
  // server finish what is in flight (after a moment, it is cut).
  app.endStreams();
  await withTimeout(server.close(), 3000);
  await app.close();
  return 0;
}

// ---------------------------------------------------------------------------
// user add|list|remove --db FILE [--email EMAIL] [--role ROLE]

/** The first line on stdin (at most 4 KiB), without its line end. */
async function readLine(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) {
    text += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk as Uint8Array);
    const nl = text.indexOf("\n");
    if (nl >= 0 || text.length > 4096) {
      text = nl >= 0 ? text.slice(0, nl) : text.slice(0, 4096);
      break;
    }
  }
  return text.replace(/\r$/, "");
}

interface UserEntry {
  id: number;
  email: string;
  role: string;
  created: string;
}

/**
 * The `user` subcommand: it asks the core itself, through its users API, as
 * an administrator, with a token made for this run alone (the Go CLI's
 * user.go does the same).
 */
async function runUser(rt: CliRuntime, verb: UserVerb, f: Flags): Promise<number> {
  if (!isPostgresURL(f.db) && !isPGlite(f.db) && !existsSync(f.db)) {
    fail(`database ${f.db}: no such file`);
    return 2;
  }
  let password = "";
  if (verb === "add") {
    password = await readLine();
    if (password === "") {
      fail("user add reads the password from stdin, one line (echo PASSWORD | nakedhtmx user add ...)");
      return 2;
    }
  }
  const token = randomUUID().replaceAll("-", "") + randomUUID().replaceAll("-", "");
  let app: Nakedhtmx;
  try {
    app = await createNakedhtmx(rt, {
      db: f.db,
      authToken: token,
      pgSchema: f.pgSchema,
      wasm: process.env["NAKEDHTMX_WASM"] || rt.wasm,
    }, { configOptional: true });
  } catch (e) {
    return startError(e);
  }
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
    const res = await app.fetch(
      new Request("http://localhost" + path, {
        method,
        headers: { accept: "application/json", "content-type": "application/json", authorization: `Bearer ${token}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) as unknown : null };
  };
  const refused = (r: { status: number; json: unknown }): number => {
    fail((r.json as { error?: string } | null)?.error ?? `status ${r.status}`);
    return r.status === 422 ? 2 : 1;
  };
  const email = (f.email ?? "").trim().toLowerCase();
  try {
    if (verb === "add") {
      const role = f.role ?? "user";
      const r = await call("POST", "/api/users", { email: f.email, password, role });
      if (r.status !== 201) return refused(r);
      out(`nakedhtmx: added ${email} (role ${role}) to ${shownDB(f.db)}`);
      return 0;
    }
    const r = await call("GET", "/api/users");
    if (r.status !== 200) return refused(r);
    const users = (r.json as { users: UserEntry[] }).users;
    if (verb === "list") {
      for (const u of users) out(`${u.email}\t${u.role}\t${u.created}`);
      return 0;
    }
    const u = users.find((u) => u.email === email);
    if (!u) {
      fail(`no user ${email} in ${shownDB(f.db)}`);
      return 1;
    }
    const d = await call("DELETE", `/api/users/${u.id}`);
    if (d.status !== 204) return refused(d);
    out(`nakedhtmx: removed ${email} from ${shownDB(f.db)}`);
    return 0;
  } catch (e) {
    fail(`user ${verb}: ${errorMessage(e)}`);
    return 1;
  } finally {
    await app.close();
  }
}

// ---------------------------------------------------------------------------
// migrate --nats URL [--node NAME] FILE.sql

async function runMigrate(f: Flags): Promise<number> {
  if (f.nats === undefined || f.nats === "") {
    fail("migrate needs --nats URL (see --help)");
    return 2;
  }
  if (f.file === undefined) {
    fail("migrate needs one FILE.sql (see --help)");
    return 2;
  }
  let sql: string;
  try {
    sql = new TextDecoder("utf-8", { fatal: true }).decode(readFileSync(f.file)).trim();
  } catch (e) {
    fail(`migration ${f.file}: ${errorMessage(e)}`);
    return 2;
  }
  if (sql === "") {
    fail(`migration ${f.file}: empty`);
    return 2;
  }
  const command = {
    id: randomUUID().replaceAll("-", ""),
    node: f.node ?? hostname(),
    dsid: "",
    table: "",
    op: "migrate" as const,
    sql,
  };
  try {
    const seq = await publishOnce(f.nats, command);
    out(`nakedhtmx: migration ${command.id} published as stream sequence ${seq}`);
    return 0;
  } catch (e) {
    fail(errorMessage(e));
    return 1;
  }
}

// ---------------------------------------------------------------------------
// schema --db FILE --out DIR

/** End of the JSON value that starts at text[i] (after whitespace). */
function skipValue(text: string, i: number): number {
  i = skipSpace(text, i);
  const c = text[i];
  if (c === '"') {
    for (i++; i < text.length; i++) {
      if (text[i] === "\\") i++;
      else if (text[i] === '"') return i + 1;
    }
    throw new Error("unterminated string");
  }
  if (c === "{" || c === "[") {
    let depth = 0;
    for (; i < text.length; i++) {
      const d = text[i];
      if (d === '"') i = skipValue(text, i) - 1;
      else if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") {
        if (--depth === 0) return i + 1;
      }
    }
    throw new Error("unterminated " + c);
  }
  while (i < text.length && !/[,\]}\s]/.test(text[i]!)) i++;
  return i;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

/** The members of the object at text[start], each value as its exact source text. */
export function rawMembers(text: string, start = 0): Map<string, string> {
  const members = new Map<string, string>();
  let i = skipSpace(text, start);
  if (text[i] !== "{") throw new Error("not a JSON object");
  i = skipSpace(text, i + 1);
  if (text[i] === "}") return members;
  for (;;) {
    const keyEnd = skipValue(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, keyEnd);
    if (text[i] !== ":") throw new Error("expected :");
    const valueStart = skipSpace(text, i + 1);
    const valueEnd = skipValue(text, valueStart);
    members.set(key, text.slice(valueStart, valueEnd));
    i = skipSpace(text, valueEnd);
    if (text[i] === "}") return members;
    if (text[i] !== ",") throw new Error("expected , or }");
    i = skipSpace(text, i + 1);
  }
}

async function runUninstall(rt: CliRuntime, f: Flags): Promise<number> {
  // A missing file is a mistake here: opening would create an empty one.
  if (!isPostgresURL(f.db) && !isPGlite(f.db) && !existsSync(f.db)) {
    fail(`no database at ${f.db}`);
    return 2;
  }
  try {
    const r = await uninstallFrom(rt, f.db, process.env["NAKEDHTMX_WASM"] || rt.wasm, f.pgSchema ?? "");
    let line = `nakedhtmx: removed ${r.removed.length} objects from ${shownDB(f.db)}`;
    if (r.removed.length > 0) line += ` (${r.removed.join(", ")})`;
    if (r.journalMode) line += `; journal mode set back to ${r.journalMode.toUpperCase()}`;
    out(line);
    return 0;
  } catch (e) {
    fail(`database ${shownDB(f.db)}: ${errorMessage(e)}`);
    return 2;
  }
}

async function runSchema(rt: CliRuntime, f: Flags): Promise<number> {
  if (!isPostgresURL(f.db) && !isPGlite(f.db) && !existsSync(f.db)) {
    fail(`no database at ${f.db}`);
    return 2;
  }
  let app: Nakedhtmx;
  try {
    app = await createNakedhtmx(rt, {
      db: f.db,
      config: f.config ?? DEFAULT_CONFIG,
      wasm: process.env["NAKEDHTMX_WASM"] || rt.wasm,
    }, { configOptional: f.config === undefined });
  } catch (e) {
    return startError(e);
  }
  try {
    const get = async (path: string): Promise<string> => {
      const res = await app.fetch(new Request("http://localhost" + path, { headers: { accept: "application/json" } }));
      const text = await res.text();
      if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${text.slice(0, 200)}`);
      return text;
    };
    // Each file holds the core's own bytes, so every host writes identical files.
    const tablesText = rawMembers(await get("/api/schema")).get("tables");
    if (tablesText === undefined) throw new Error('GET /api/schema answered without "tables"');
    mkdirSync(f.out!, { recursive: true });
    const tables = [...rawMembers(tablesText)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, entry] of tables) {
      const file = encodeURIComponent(name);
      const ui = rawMembers(entry).get("ui");
      if (ui === undefined) throw new Error(`table ${name} has no "ui"`);
      writeFileSync(join(f.out!, `${file}.schema.json`), await get(`/api/schema/${file}`));
      writeFileSync(join(f.out!, `${file}.ui.json`), ui);
    }
    out(`nakedhtmx: wrote the schemas of ${tables.length} tables to ${f.out}`);
    return 0;
  } catch (e) {
    fail(`schema: ${errorMessage(e)}`);
    return 1;
  } finally {
    await app.close();
  }
}
