// The library API of CONTRACT.md ("Library API"), written once against a
// Runtime (which SQLite, which name); mod.ts and mod_bun.ts bind it to one.

import { BrowserSet } from "./browserset.ts";
import { hostname } from "node:os";
import { resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigFile, type ConfigWatch, watchConfig } from "./config.ts";
import { Core, loadModule, type WasmSource } from "./core.ts";
import { errorMessage, NakedhtmxError } from "./errors.ts";
import { defaultFilesDir, FileDir } from "./files.ts";
import {
  type ConfigSink,
  createFetchHandler,
  createNodeHandler,
  DEFAULT_MAX_BODY,
  type FetchHandler,
  type NodeHandler,
  SIGNED_OUT_MAX_BODY,
} from "./handler.ts";
import { Live } from "./live.ts";
import { Bus, dial } from "./natsbus.ts";
import { GroupCommit } from "./group.ts";
import { runCaller } from "./caller.ts";
import { isPGlite, isPostgresURL, openPGlite, openPostgres, type PostgresDatabase, wakeOnLog } from "./postgres.ts";
import type { OpenRequest } from "./protocol.ts";
import type { AsyncDatabase, Database, OpenDatabase } from "./sqlite.ts";

export interface NakedhtmxOptions {
  /** SQLite database file (created when missing), a `postgres://` URL, or `pglite:DIR` (PGlite, installed beside). */
  db: string;
  /** Postgres: the schema served (default "public"). */
  pgSchema?: string;
  /** Mount point: every URL the app emits starts with it. "" or "/prefix". */
  basePath?: string;
  /**
   * A config file path (re-read when it changes) or the parsed config itself.
   * Default: none.
   */
  config?: string | Record<string, unknown> | null;
  /** When set, every request needs `Authorization: Bearer TOKEN` or the sign-in cookie. */
  authToken?: string;
  /**
   * Host names (`NAME` or `NAME:PORT`) requests may carry besides `localhost`,
   * `127.0.0.1` and `[::1]`: the names your server is reached by. Any other
   * `Host` is answered 421 before anything is read (DNS rebinding). Mounted
   * in an app served as `admin.example.com`, pass `["admin.example.com"]`.
   */
  allowedHosts?: string[];
  /**
   * Leave the database's journal mode as it is. By default the file is
   * switched to WAL (other processes then read while it writes); the mode it
   * had is recorded, and `uninstall` sets it back.
   */
  keepJournalMode?: boolean;
  /** The NATS server of the cluster (with `write: "jetstream"`). */
  nats?: string;
  /** This node's name in the cluster (default: the host name). */
  node?: string;
  /**
   * "direct" (default): writes go to the database. "jetstream": every write
   * becomes a command on a JetStream stream that every node applies in order
   * (needs `nats`).
   */
  write?: "direct" | "jetstream";
  /** Request bodies larger than this are refused with 413 (default 10 MiB). */
  maxBodyBytes?: number;
  /** How often a config file's mtime is checked, in ms (default 1000). */
  configPollMs?: number;
  /** Another core.wasm: a path, URL, bytes or compiled module. */
  wasm?: WasmSource;
  /**
   * The browser set served at basePath/offline/ so pages work offline
   * (README, "Offline"): a directory (path or URL) that `make build` filled,
   * or false for none. Default: the package's own (dist/browser/) when it
   * has one; with another `wasm`, pass its own set or false, or the pages
   * offline come from the package's core.
   */
  browserSet?: string | URL | false;
  /** Where the core's log lines go. Default: stderr. */
  log?: (line: string) => void;
  /**
   * Where file columns (config `"file": true`) keep their files. Default: the
   * config's `files.dir` (relative to the config file), else `DB-files` beside
   * a SQLite file.
   */
  filesDir?: string;
}

export interface Nakedhtmx {
  /** `(Request) => Promise<Response>`: Deno.serve, Bun.serve, Hono. */
  readonly fetch: FetchHandler;
  /** node:http and Express: `app.use("/admin", nh.node)`. */
  readonly node: NodeHandler;
  /** Ends every event stream, stops the live ticks and the config watch, and closes the database. */
  close(): Promise<void>;
  /** The DSID as of the last open (start or config reload). */
  readonly dsid: string;
}

export interface Runtime {
  /** Names the runtime in the core's diagnostics. */
  host: string;
  openDatabase: OpenDatabase;
}

/** Options only the CLI and the tests use. */
export interface InternalOptions {
  /** The config path is the default one: a missing file is no error. */
  configOptional?: boolean;
  /** Live tick timer in ms (default 50; 0: only the ticks after writes). */
  tickMs?: number;
  /** Event stream keep-alive interval in ms (default 15 s). */
  heartbeatMs?: number;
}

/** What createNakedhtmx gives its own callers beyond the public API. */
export interface NakedhtmxInternal extends Nakedhtmx {
  /**
   * Ends every event stream and the live ticks now; requests are still
   * answered (a stream opened later sends its backlog and ends). The CLI
   * calls it on a signal before it stops the server, which would otherwise
   * wait for streams that never end on their own.
   */
  endStreams(): void;
}

/** The browser set the options name (BrowserSet.load), or null for none. */
async function loadBrowserSet(options: NakedhtmxOptions): Promise<BrowserSet | null> {
  const b = options.browserSet;
  if (b === false) return null;
  if (b === undefined) return await BrowserSet.load();
  const dir = typeof b === "string" ? pathToFileURL(resolvePath(b) + "/") : b;
  const set = await BrowserSet.load(dir);
  if (set === null) throw new NakedhtmxError("CORE_OPEN", `no browser set in ${String(b)} (manifest.json missing)`);
  return set;
}

export function normalizeBasePath(p: string | undefined): string {
  if (p === undefined || p === "" || p === "/") return "";
  if (!p.startsWith("/") || /[?#\s]/.test(p)) {
    throw new NakedhtmxError(
      "BAD_OPTION",
      `basePath must start with "/" and hold no "?", "#" or spaces: ${JSON.stringify(p)}`,
    );
  }
  return p.replace(/\/+$/, "");
}

function checkOptions(o: NakedhtmxOptions): void {
  if (typeof o.db !== "string" || o.db === "") {
    throw new NakedhtmxError("BAD_OPTION", "db: a database file is required");
  }
  if (o.authToken !== undefined && typeof o.authToken !== "string") {
    throw new NakedhtmxError("BAD_OPTION", "authToken must be a string");
  }
  if (o.authToken && [...o.authToken].length < 16) {
    throw new NakedhtmxError(
      "BAD_OPTION",
      "authToken must be at least 16 characters (a short token is guessed quickly)",
    );
  }
  if (o.allowedHosts !== undefined) {
    if (!Array.isArray(o.allowedHosts)) {
      throw new NakedhtmxError("BAD_OPTION", "allowedHosts must be an array of host names");
    }
    for (const h of o.allowedHosts) {
      if (typeof h !== "string" || !isHostName(h)) {
        throw new NakedhtmxError(
          "BAD_OPTION",
          `allowedHosts: ${
            JSON.stringify(h)
          } is not a host name (NAME, NAME:PORT, an IPv4 address or a bracketed IPv6 address, without a scheme or path)`,
        );
      }
    }
  }
  if (o.write !== undefined && o.write !== "direct" && o.write !== "jetstream") {
    throw new NakedhtmxError("BAD_OPTION", `write must be "direct" or "jetstream", not ${JSON.stringify(o.write)}`);
  }
  const nats = o.nats !== undefined && o.nats !== "";
  if (o.write === "jetstream" && !nats) {
    throw new NakedhtmxError("BAD_OPTION", 'write "jetstream" needs nats: the commands travel on a JetStream stream');
  }

  if (o.maxBodyBytes !== undefined && !(Number.isSafeInteger(o.maxBodyBytes) && o.maxBodyBytes >= 0)) {
    throw new NakedhtmxError("BAD_OPTION", "maxBodyBytes must be a non-negative integer");
  }
}

/**
 * A Host header value a browser sends for an http(s) URL: the same rule as
 * core/hosts (Split), checked here too so a bad option is refused before the
 * database file is created; the core checks again and decides.
 */
export function isHostName(h: string): boolean {
  if (h === "" || h.length > 255) return false;
  return /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_-][A-Za-z0-9_.-]*[A-Za-z0-9_-]|[A-Za-z0-9_-])(:\d{1,5})?$/.test(h);
}

/**
 * Removes everything nakedhtmx added to a database (its _nakedhtmx_ tables,
 * triggers and indexes) and sets back the journal mode it found; the user's
 * tables and rows are not touched.
 */
export async function uninstallFrom(
  rt: Runtime,
  db: string,
  wasm?: WasmSource,
  pgSchema = "",
): Promise<{ removed: string[]; journalMode?: string }> {
  if (isPostgresURL(db) || isPGlite(db)) {
    const module = await loadModule(wasm);
    const pg = await openPg(db, pgSchema);
    try {
      const core = await Core.load({ db: pg, host: rt.host, wasm: module, log: stderrLog });
      return await core.uninstallAsync({ store: "postgres", pgSchema: pg.schema });
    } finally {
      await pg.close();
    }
  }
  const module = await loadModule(wasm);
  const conn = rt.openDatabase(db);
  try {
    const core = await Core.load({ db: conn, host: rt.host, wasm: module, log: stderrLog });
    return core.uninstall();
  } finally {
    conn.close();
  }
}

/** A Postgres server by URL, or PGlite by pglite:DIR. */
function openPg(db: string, schema: string): Promise<PostgresDatabase> {
  return isPGlite(db) ? openPGlite(db, schema) : openPostgres(db, schema);
}

function stderrLog(line: string): void {
  // The core's own lines may already say whose they are.
  globalThis.console.error(line.startsWith("nakedhtmx: ") ? line : `nakedhtmx: ${line}`);
}

/** Every format a stream may ask for (protocol.AllFormats in Go). */
const ALL_FORMATS = ["api", "page"] as const;

export async function createNakedhtmx(
  rt: Runtime,
  options: NakedhtmxOptions,
  internal: InternalOptions = {},
): Promise<NakedhtmxInternal> {
  checkOptions(options);
  const basePath = normalizeBasePath(options.basePath);
  const log = options.log ?? stderrLog;
  const configPath = typeof options.config === "string" ? resolvePath(options.config) : undefined;
  const configFile = configPath !== undefined
    ? new ConfigFile(configPath, internal.configOptional === true)
    : undefined;
  const config: unknown = configFile ? configFile.config : options.config ?? null;
  // Without NATS a config file is the config, and the app may save stored
  // queries into it (with NATS the config is the cluster's, in its KV bucket).
  const writable = configFile !== undefined && !options.nats;
  const filesDir = options.filesDir ?? defaultFilesDir(options.db, config, configPath);
  const files = filesDir === undefined ? undefined : new FileDir(filesDir);

  const write = options.write ?? "direct";
  const node = options.node ?? hostname();
  const allowedHosts = options.allowedHosts ?? [];
  const keepJournalMode = options.keepJournalMode === true;
  // A Postgres database answers later: every call into the core waits for
  // it through the core's async calls (PROTOCOL.md, "Stores that answer later").
  const pg = isPostgresURL(options.db) || isPGlite(options.db);
  if (pg && (options.nats || write === "jetstream")) {
    throw new NakedhtmxError(
      "CORE_OPEN",
      "a Postgres database cannot join a NATS cluster yet: serve it without --nats",
    );
  }
  /** What nh_open takes: the same at start and at every config change. */
  const openRequest = (cfg: unknown): OpenRequest => ({
    basePath,
    // A config the core may edit goes as the file's text, which it edits.
    ...(writable && configFile ? { config: null, configText: configFile.text ?? "" } : { config: cfg }),
    host: rt.host,
    authToken: options.authToken ?? "",
    write,
    node,
    allowedHosts,
    keepJournalMode,
    offline: browserSet !== null,
    ...(pgdb ? { store: "postgres" as const, pgSchema: pgdb.schema } : {}),
  });
  let pgdb: PostgresDatabase | undefined;
  let group: GroupCommit | undefined;
  const browserSet = await loadBrowserSet(options);
  // The cluster first: an unreachable one must not leave a new database behind.
  const nc = options.nats ? await dial(options.nats, node) : undefined;
  // Compile before opening: a missing core.wasm must not create the database.
  let db: Database | PostgresDatabase;
  let core!: Core; // made while the store opens, or right after
  let dsid: string;
  try {
    // A Postgres connection creates nothing: it is made (the client loaded,
    // the socket connected) while the core compiles, which saves a cold
    // start the shorter of the two.
    const opening = pg ? openPg(options.db, options.pgSchema ?? "") : null;
    let module: WebAssembly.Module;
    try {
      module = await loadModule(options.wasm);
    } catch (e) {
      void opening?.then((d) => d.close(), () => {});
      throw e;
    }
    if (opening !== null) {
      // The core starts while Postgres opens (PGlite's own start is most of
      // a cold start): it asks nothing of the store before openAsync, and
      // what it asks goes to the store once there.
      let store: PostgresDatabase | undefined;
      const later: AsyncDatabase = {
        answersLater: true,
        run: (req) => store ? store.run(req) : opening.then((d) => d.run(req)),
        close: () => void opening.then((d) => d.close(), () => {}),
      };
      try {
        core = await Core.load({ db: later, host: rt.host, wasm: module, log, files });
      } catch (e) {
        void opening.then((d) => d.close(), () => {});
        throw e;
      }
      db = store = pgdb = await opening;
    } else {
      db = rt.openDatabase(options.db);
      // One commit per turn for the writes of that turn (group.ts). Not in a
      // cluster: a command is acknowledged once applied, which must mean
      // committed.
      if (!nc) {
        db = group = new GroupCommit(db, {
          onFailure: (message) => {
            log(`a group commit failed (${message}): its writes were answered 503; the core starts again`);
            core.restart();
          },
        });
      }
    }
    try {
      if (opening === null) {
        const path = db.path;
        core = await Core.load({
          db,
          host: rt.host,
          wasm: module,
          log,
          files,
          caller: (req, limitMs) => runCaller(path, req, limitMs),
        });
      }
      if (pgdb) {
        dsid = await core.openAsync(openRequest(config));
        await pgdb.setStatementLimit(core.statementLimitMs);
      } else {
        dsid = core.open(openRequest(config));
        group?.flush(); // what opening installed is there before the server says it serves
      }
    } catch (e) {
      db.close();
      if (e instanceof NakedhtmxError) throw e;
      throw new NakedhtmxError("CORE_OPEN", errorMessage(e), { cause: e });
    }
  } catch (e) {
    await nc?.close(); // a NATS connection would keep the process alive
    throw e;
  }

  let closed = false;
  const guarded = {
    handle: (head: Parameters<Core["handle"]>[0], body: Uint8Array) => {
      if (closed) throw new NakedhtmxError("CLOSED", "this nakedhtmx instance is closed");
      return pgdb ? core.handleAsync(head, body) : core.handle(head, body);
    },
  };
  // One hub for both handlers: a stream opened through fetch gets the
  // messages of a write made through node, and the other way round.
  let bus: Bus | undefined;
  // A Postgres server's notices drive the ticks (wakeOnLog), not a timer.
  const wakes = isPostgresURL(options.db) && internal.tickMs === undefined;
  const live = new Live({
    tick: (formats, viewers) => {
      if (closed) return {};
      group?.flush(); // streams hear of committed writes only
      // A store that answers later: the tick runs after the calls queued
      // before it, and a stream may subscribe meanwhile (its backlog ends
      // where that call found the log). Were the tick to render only the
      // formats open when it was asked for, the new stream's first change
      // would be read, rendered for no one, and passed (seen under load).
      // So it renders every format; a tick with no change renders nothing.
      if (pgdb) return core.tickAsync(ALL_FORMATS, viewers);
      // The cluster's announcements are the API texts.
      const res = core.tick(bus && !formats.includes("api") ? [...formats, "api"] : formats, viewers);
      group?.flush(); // what the tick wrote (the values of outside writes) is kept before anyone hears of it
      if (bus && res.messages?.length) {
        bus.announce(res.messages); // on the cluster's events subjects
        if (res.messages.some((m) => m.table === "")) bus.schemaChanged(); // a schema event: the registry follows
      }
      return res;
    },
  }, {
    tickMs: wakes ? 0 : internal.tickMs,
    heartbeatMs: internal.heartbeatMs,
    log,
    announces: () => bus !== undefined,
  });
  const waker = wakes ? await wakeOnLog(options.db, () => void live.tick()) : undefined;

  /**
   * Opens the core again with a changed config (text: the file's, which the
   * core may edit); on error the previous one stays in force. On SQLite it
   * has run to the end when it returns.
   */
  const reopen = async (next: unknown, text?: string | null): Promise<void> => {
    const previousText = configFile?.text ?? null;
    if (text !== undefined) configFile?.applied(text);
    try {
      // What happened under the old config goes out as it was rendered then.
      if (pgdb) {
        await live.tick();
        dsid = await core.openAsync(openRequest(next));
      } else {
        live.tick();
        dsid = core.open(openRequest(next));
        group?.flush();
      }
    } catch (e) {
      configFile?.applied(previousText);
      throw e;
    }
  };
  /** Applies a changed config, saying so in the log. */
  const applyConfig = (next: unknown, from: string, done: string, text?: string | null): void => {
    if (closed) return;
    void reopen(next, text).then(
      () => log(next === null ? `config ${from} removed; using defaults` : `config ${from} ${done}`),
      (e: unknown) => log(`config ${from}: ${errorMessage(e)}; keeping the previous config`),
    );
  };
  let watch: ConfigWatch | undefined;
  // With NATS the config lives in the cluster's KV bucket (the local one
  // seeds it when it is empty); without, in the file, watched.
  if (configFile && write !== "jetstream") {
    watch = watchConfig(
      configFile,
      options.configPollMs ?? 1000,
      (next, text) => applyConfig(next, configFile.path, "reloaded", text),
      log,
    );
  }
  // A stored query saved from the app: written into the file, then applied,
  // before its answer goes out.
  const configSink: ConfigSink | undefined = configFile && writable
    ? {
      async save(text) {
        if (closed) return { status: 500, message: "this server is closing" };
        const failure = configFile.save(text);
        if (failure) return failure;
        try {
          await reopen(JSON.parse(text) as unknown, text);
        } catch (e) {
          return { status: 500, message: `the config was written but not applied: ${errorMessage(e)}` };
        }
        log(`config ${configFile.path} saved from the app`);
        return undefined;
      },
    }
    : undefined;

  if (nc) {
    try {
      bus = await Bus.open({
        node,
        commands: write === "jetstream",
        remote: () => live.tick(), // another node's change: this node's screens follow at once
        apply: (command, seq) => core.apply(command, seq),
        outbox: () => core.outbox(),
        describe: () => describe(core, options.authToken), // never with Postgres (refused above)
        config: (next) => applyConfig(next, "in the cluster's KV bucket", "applied"),
        seed: config === null ? undefined : JSON.stringify(config),
        applied: () => live.tick(),
        log,
      }, nc);
    } catch (e) {
      closed = true;
      live.close();
      watch?.stop();
      db.close();
      throw e;
    }
  }
  const handlerOptions = {
    basePath,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY,
    // CONTRACT: 64 KiB until the caller is known.
    probeBodiesOver: options.authToken ? SIGNED_OUT_MAX_BODY : undefined,
    live,
    commands: write === "jetstream" ? bus : undefined,
    config: configSink,
    settled: group ? () => group?.settled() : undefined,
    offline: browserSet ?? undefined,
  };
  return {
    fetch: createFetchHandler(guarded, handlerOptions),
    node: createNodeHandler(guarded, handlerOptions),
    get dsid() {
      return dsid;
    },
    endStreams() {
      live.close();
    },
    async close() {
      if (!closed) {
        await bus?.close(); // first: no command may be applied after the database closes
        waker?.stop();
        await live.tick(); // the last writes' events, to the streams about to end
        live.close();
        closed = true;
        watch?.stop();
        if (pgdb) await pgdb.end();
        else db.close();
      }
    },
  };
}

/**
 * This node's current schema version for the registry: the DSID, and the
 * JSON Schema of every table and every command, as the API serves them.
 */
function describe(core: Pick<Core, "handle">, token: string | undefined): { dsid: string; doc: string } {
  const get = (path: string): string => {
    // The node's own question, asked in-process: the loopback Host.
    const headers: Record<string, string> = { accept: "application/json", host: "localhost" };
    if (token) headers["authorization"] = `Bearer ${token}`;
    const res = core.handle({ method: "GET", path, query: "", headers }, new Uint8Array(0));
    if (res.head.status !== 200) throw new NakedhtmxError("CORE_OPEN", `GET ${path}: ${res.head.status}`);
    return new TextDecoder().decode(res.body);
  };
  const tables = get("/api/schema");
  const commands = get("/api/commands");
  const dsid = (JSON.parse(commands) as { dsid: string }).dsid;
  return { dsid, doc: `{"tables":${tables},"commands":${commands}}` };
}
