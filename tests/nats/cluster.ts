// A nakedhtmx cluster for the NATS suite and the NATS bench: a real
// nats-server with JetStream on loopback (file storage, so a restart keeps the
// stream; built from the pinned Go module by scripts/ensure-nats-server.sh)
// and nodes on any host with --write jetstream, each with its own SQLite file.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { request, type Answer } from "../http/client.ts";
import { openDB, repoRoot } from "../http/fixture.ts";
import { until } from "../http/harness.ts";
import {
  type Exit,
  freePort,
  type HostCommand,
  type HostName,
  prepareHost,
  runToExit,
  type Server,
  startServer,
} from "../http/hosts.ts";

export function natsServerPath(): string {
  const r = spawnSync("bash", [join(repoRoot, "scripts/ensure-nats-server.sh")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cannot build nats-server:\n${r.stderr}`);
  return r.stdout.trim();
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, "127.0.0.1");
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

/** One nats-server process on a fixed port and store directory, restartable. */
export class Nats {
  proc: ChildProcess | null = null;
  readonly url: string;
  private readonly bin: string;
  private readonly port: number;
  private readonly dir: string;

  private constructor(bin: string, port: number, dir: string) {
    this.bin = bin;
    this.port = port;
    this.dir = dir;
    this.url = `nats://127.0.0.1:${port}`;
  }

  static async create(dir: string): Promise<Nats> {
    return new Nats(natsServerPath(), await freePort(), dir);
  }

  async start(): Promise<void> {
    const proc = spawn(this.bin, ["-js", "-a", "127.0.0.1", "-p", String(this.port), "-sd", this.dir], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.proc = proc;
    let err = "";
    proc.stderr?.setEncoding("utf8").on("data", (s: string) => (err += s));
    await until(async () => {
      if (proc.exitCode !== null) throw new Error(`nats-server exited: ${err}`);
      return await accepting(this.port);
    }, "nats-server listening", 20000);
  }

  /**
   * What the cluster wrote about its schema versions: the registry bucket's
   * entries (DSID -> description) and the stream's "nakedhtmx.dsid" metadata.
   */
  async registry(): Promise<{ entries: Map<string, { tables: unknown; commands: { dsid: string } }>; current: string }> {
    const { connect } = await import("@nats-io/transport-node");
    const { jetstreamManager } = await import("@nats-io/jetstream");
    const { Kvm } = await import("@nats-io/kv");
    const nc = await connect({ servers: this.url });
    try {
      const kv = await new Kvm(nc).open("nakedhtmx-schemas");
      const entries = new Map<string, { tables: unknown; commands: { dsid: string } }>();
      for await (const key of await kv.keys()) {
        const e = await kv.get(key);
        if (e) entries.set(key, e.json());
      }
      const info = await (await jetstreamManager(nc)).streams.info("NAKEDHTMX");
      return { entries, current: info.config.metadata?.["nakedhtmx.dsid"] ?? "" };
    } finally {
      await nc.close();
    }
  }

  /** Collects what is published on a subject (wildcards allowed) until stop() is called. */
  async listen(subject: string): Promise<{ got: { subject: string; data: string }[]; stop(): Promise<void> }> {
    const { connect } = await import("@nats-io/transport-node");
    const nc = await connect({ servers: this.url });
    const got: { subject: string; data: string }[] = [];
    nc.subscribe(subject, {
      callback: (_e, m) => {
        got.push({ subject: m.subject, data: m.string() });
      },
    });
    await nc.flush();
    return { got, stop: () => nc.close() };
  }

  /** Puts (or, with null, deletes) the cluster's config, as an operator would with the nats CLI. */
  async putConfig(raw: string | null): Promise<void> {
    const { connect } = await import("@nats-io/transport-node");
    const { Kvm } = await import("@nats-io/kv");
    const nc = await connect({ servers: this.url });
    try {
      const kv = await new Kvm(nc).open("nakedhtmx-config");
      if (raw === null) await kv.delete("nakedhtmx.json");
      else await kv.put("nakedhtmx.json", raw);
    } finally {
      await nc.close();
    }
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const done = new Promise((resolve) => p.once("exit", resolve));
    p.kill("SIGTERM");
    await done;
  }
}

/** One nakedhtmx node of the cluster. */
export class Node {
  server: Server | null = null;
  readonly name: string;
  readonly host: HostName;
  readonly file: string;
  private readonly hc: HostCommand;
  private readonly nats: Nats;

  /** Makes the node's file from schema and prepares its host (a Go host is built once). */
  constructor(name: string, host: HostName, dir: string, schema: string, nats: Nats) {
    this.name = name;
    this.host = host;
    this.file = join(dir, `${name}.db`);
    this.nats = nats;
    const db = openDB(this.file);
    db.exec(schema);
    db.close();
    this.hc = prepareHost(host, dir);
  }

  async start(): Promise<void> {
    this.server = await startServer(this.hc, [
      "--db", this.file, "--port", "0", "--nats", this.nats.url, "--write", "jetstream", "--node", this.name,
    ], 60000);
  }

  /** Runs this node's command line with other arguments (a subcommand) to its end. */
  run(args: string[]): Promise<Exit> {
    return runToExit(this.hc, args);
  }

  async kill(): Promise<void> {
    await this.server?.stop("SIGKILL");
    this.server = null;
  }

  get url(): URL {
    return this.server!.url;
  }

  api(method: string, path: string, body?: unknown): Promise<Answer> {
    return request(this.url, method, path, {
      headers: { "content-type": "application/json", accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** The given queries' rows, read from the file through SQLite (not the server), as text. */
  dump(queries: string[]): string {
    const db = openDB(this.file, true);
    try {
      return JSON.stringify(queries.map((q) => db.prepare(q).all()));
    } finally {
      db.close();
    }
  }
}
