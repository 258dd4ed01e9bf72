// The TS hosts' NATS side of --write jetstream (PROTOCOL.md, "Commands"), the
// counterpart of bindings/go/natsbus: the NAKEDHTMX stream of commands
// (subjects nakedhtmx.cmd.<table>.<op>), a durable consumer per node that
// feeds every command in order to the core's apply, and submit, which
// publishes a command (its id as Nats-Msg-Id) and waits until this node has
// applied it. The NATS packages are loaded only when a node joins a cluster.

import type { ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { errorMessage, NakedhtmxError } from "./errors.ts";
import type { CommandSink } from "./handler.ts";
import type { ApplyResult, Command, TickMessage } from "./protocol.ts";

export const STREAM = "NAKEDHTMX";
/** The cluster's config (nakedhtmx.json) lives in this KV bucket under CONFIG_KEY. */
export const CONFIG_BUCKET = "nakedhtmx-config";
export const CONFIG_KEY = "nakedhtmx.json";
/** The KV bucket of schema versions: key = DSID, value = every table's and command's JSON Schema. */
export const REGISTRY = "nakedhtmx-schemas";

export interface BusOptions {
  node: string;
  /** This node's core: runs one command from the stream. */
  apply(command: Command, seq: number): ApplyResult;
  /** The commands this node made and has not applied yet (oldest first), and the last stream sequence applied. */
  outbox(): { commands: Command[]; applied: number };
  /** Called after each command is applied (the host ticks its live hub). */
  applied?(result: ApplyResult): void;
  /** How long a request waits for its own command (default 5 s). */
  waitMs?: number;
  /** The current DSID and its description, for the schema registry. */
  describe?(): { dsid: string; doc: string };
  /**
   * --write jetstream: the command stream, this node's consumer and the
   * outbox. Without: events, config and the schema registry only (--write
   * direct with --nats: nodes sharing one store).
   */
  commands: boolean;
  /** Another node published an event: tick the live hub now (a burst is one call). */
  remote?(): void;
  /** Applies each version of the cluster's config (null: deleted, the defaults); absent: not watched. */
  config?(next: unknown): void;
  /** Put in the config bucket when it has none yet (this node's config file). */
  seed?: string;
  log(line: string): void;
}

/** A name as one subject token: [A-Za-z0-9_-] as is, every other byte ~XX (as the Go hosts). */
export function token(name: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(name)) {
    const ch = String.fromCharCode(b);
    out += /[A-Za-z0-9_-]/.test(ch) ? ch : "~" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out === "" ? "~" : out;
}

/** Where a node publishes its events: nakedhtmx.events.<node>.<table> (schema events: table "~"). */
export function eventsSubject(node: string, table: string): string {
  return `nakedhtmx.events.${token(node)}.${token(table)}`;
}

export function subject(c: Command): string {
  return `nakedhtmx.cmd.${token(c.table)}.${token(c.op)}`;
}

const STREAM_CONFIG = {
  name: STREAM,
  description: "nakedhtmx commands: every write, applied by every node in order",
  subjects: ["nakedhtmx.cmd.>"],
  duplicate_window: 10 * 60 * 1e9, // a retried publish (same Nats-Msg-Id) within this window is stored once
};

/** Creates the stream when missing (or brings its config up to date). */
async function ensureStream(nc: NatsConnection): Promise<void> {
  const { StorageType, jetstreamManager } = await import("@nats-io/jetstream");
  const jsm = await jetstreamManager(nc);
  const stream = { ...STREAM_CONFIG, storage: StorageType.File };
  await jsm.streams.add(stream).catch(async () => await jsm.streams.update(STREAM, stream));
}

/**
 * Sends one command on the stream without joining as a node (the migrate
 * subcommand); resolves with its stream sequence.
 */
/**
 * Connects a node to NATS. A node does it before it opens (or creates) its
 * database, so an unreachable cluster leaves no new file behind; Bus.open
 * then takes the connection over.
 */
export async function dial(url: string, node: string): Promise<NatsConnection> {
  const { connect } = await import("@nats-io/transport-node");
  try {
    return await connect({
      servers: url,
      name: `nakedhtmx ${node}`,
      timeout: 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  } catch (e) {
    throw new NakedhtmxError("NATS", `NATS ${url}: ${errorMessage(e)}`, { cause: e });
  }
}

export async function publishOnce(url: string, command: Command): Promise<number> {
  const { connect } = await import("@nats-io/transport-node");
  const { jetstream } = await import("@nats-io/jetstream");
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name: `nakedhtmx ${command.node}` });
  } catch (e) {
    throw new NakedhtmxError("NATS", `NATS ${url}: ${errorMessage(e)}`, { cause: e });
  }
  try {
    await ensureStream(nc);
    const ack = await jetstream(nc).publish(subject(command), JSON.stringify(command), { msgID: command.id });
    return ack.seq;
  } catch (e) {
    throw new NakedhtmxError("NATS", `publishing command ${command.id}: ${errorMessage(e)}`, { cause: e });
  } finally {
    await nc.close().catch(() => {});
  }
}

export class Bus implements CommandSink {
  private readonly waiters = new Map<string, () => void>();
  /** Outbox ids JetStream has acknowledged. */
  private readonly stored = new Set<string>();
  private connected = true;
  private closed = false;
  private flushing = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The DSID last written to the registry. */
  private registered = "";
  /** The registry may be behind: describe and write on the next flush. */
  private schemaMoved = true;
  private configWatch: { stop(): void } | undefined;
  private configKV: KV | undefined;
  /** The last config revision applied, and whether the key was deleted (the defaults apply). */
  private configRev = 0;
  private configGone = false;
  private messages: ConsumerMessages | undefined;

  private readonly opts: BusOptions;
  private readonly nc: NatsConnection;
  private readonly js: JetStreamClient;

  private constructor(opts: BusOptions, nc: NatsConnection, js: JetStreamClient) {
    this.opts = opts;
    this.nc = nc;
    this.js = js;
  }

  /**
   * Takes over a connection from dial (closing it on failure); with commands,
   * creates or updates the stream and this node's consumer and starts applying.
   */
  static async open(opts: BusOptions, nc: NatsConnection): Promise<Bus> {
    const { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } = await import("@nats-io/jetstream");
    try {
      const bus = new Bus(opts, nc, jetstream(nc));
      if (opts.config) await bus.watchConfig();
      if (opts.remote) bus.followOthers();
      if (!opts.commands) {
        await bus.start(undefined);
        return bus;
      }
      await ensureStream(nc);
      const jsm = await jetstreamManager(nc);
      const durable = `nakedhtmx-${token(opts.node)}`;
      // The node's file says where it stands: a consumer that is further on
      // (the file was restored from a backup, or is new) starts again after
      // the file's own sequence; an older one redelivers what the core skips.
      const applied = opts.outbox().applied;
      const existing = await jsm.consumers.info(STREAM, durable).catch(() => null);
      if (existing && existing.ack_floor.stream_seq > applied) {
        opts.log(
          `this node's file is at stream sequence ${applied}, its consumer at ${existing.ack_floor.stream_seq}: starting again from ${
            applied + 1
          }`,
        );
        await jsm.consumers.delete(STREAM, durable);
      }
      if (!existing || existing.ack_floor.stream_seq > applied) {
        await jsm.consumers.add(STREAM, {
          durable_name: durable,
          description: `node ${opts.node} applies every command in order`,
          ack_policy: AckPolicy.Explicit,
          ...(applied > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: applied + 1 }
            : { deliver_policy: DeliverPolicy.All }),
          max_ack_pending: 1, // in order, one at a time: the projection is a single sequence
          ack_wait: 5e9, // an ack lost in an outage must not hold the stream back long
        });
      }
      await bus.start(durable);
      return bus;
    } catch (e) {
      await nc.close().catch(() => {});
      if (e instanceof NakedhtmxError) throw e;
      throw new NakedhtmxError("NATS", `JetStream: ${errorMessage(e)}`, { cause: e });
    }
  }

  /** With a durable consumer: apply the command stream; without: events, config and registry only. */
  private async start(durable: string | undefined): Promise<void> {
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === "disconnect") {
          this.connected = false;
          this.opts.log(`NATS disconnected`);
        } else if (s.type === "reconnect") {
          this.connected = true;
          this.opts.log(`NATS reconnected`);
          void this.flush(); // what piled up in the outbox goes out now
        }
      }
    })();
    if (durable !== undefined) {
      const consumer = await this.js.consumers.get(STREAM, durable);
      this.messages = await consumer.consume({ expires: 5000, idle_heartbeat: 1000 });
      void (async () => {
        for await (const m of this.messages!) this.handle(m);
      })().catch((e: unknown) => {
        if (!this.closed) this.opts.log(`JetStream consumer stopped: ${errorMessage(e)}`);
      });
    }
    // Commands kept before a restart go out first; then every two seconds
    // while anything is left (unref'd: it never keeps a process alive).
    void this.flush();
    this.timer = setInterval(() => void this.flush(), 2000);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /**
   * Publishes the outbox in order, each command under its own id, so
   * JetStream stores it once however often it is sent; it leaves the outbox
   * when this node applies it.
   */
  private async flush(): Promise<void> {
    if (this.flushing || !this.connected || this.closed) return;
    this.flushing = true;
    try {
      await this.register(); // after schemaChanged: the new DSID goes to the registry
      await this.pollConfig();
      if (!this.opts.commands) return;
      const commands = this.opts.outbox().commands;
      const kept = new Set(commands.map((c) => c.id));
      for (const id of this.stored) if (!kept.has(id)) this.stored.delete(id);
      for (const c of commands) {
        if (this.stored.has(c.id)) continue;
        await this.publish(c); // in order: a failure leaves the rest for the next round
      }
    } catch (e) {
      this.opts.log(`publishing the outbox: ${errorMessage(e)}`);
    } finally {
      this.flushing = false;
    }
  }

  /** Seeds the config bucket when it is empty and applies every version from the current one on. */
  private async watchConfig(): Promise<void> {
    const { Kvm } = await import("@nats-io/kv");
    const { StorageType } = await import("@nats-io/jetstream");
    const kv = await new Kvm(this.nc).create(CONFIG_BUCKET, {
      description: "nakedhtmx config (nakedhtmx.json): every node applies a change live",
      storage: StorageType.File,
      history: 10,
    });
    if (this.opts.seed !== undefined) {
      await kv.create(CONFIG_KEY, this.opts.seed).catch(() => {}); // already there: the cluster's wins
    }
    const updates = await kv.watch({ key: CONFIG_KEY });
    this.configWatch = updates;
    this.configKV = kv;
    void (async () => {
      for await (const e of updates) this.applyConfig(e.revision, e.operation !== "PUT", e);
    })();
  }

  /**
   * The watcher's safety net: a watcher can stall for a while after NATS
   * restarts, so each flush also reads the config's current revision and
   * applies it when it is newer than the last one applied.
   */
  private async pollConfig(): Promise<void> {
    if (!this.configKV) return;
    const e = await this.configKV.get(CONFIG_KEY);
    if (e && e.operation === "PUT") this.applyConfig(e.revision, false, e);
    else if (!this.configGone) this.applyConfig(0, true, undefined);
  }

  /** Applies one version of the config once (the watcher and the poll both see it). */
  private applyConfig(revision: number, deleted: boolean, e: { json<T>(): T } | undefined): void {
    if ((revision !== 0 && revision <= this.configRev) || (deleted && this.configGone)) return;
    if (revision !== 0) this.configRev = revision;
    this.configGone = deleted;
    let next: unknown = null;
    if (!deleted && e) {
      try {
        next = e.json<unknown>();
      } catch (err) {
        this.opts.log(
          `config revision ${revision} in ${CONFIG_BUCKET} is not JSON (${
            errorMessage(err)
          }); keeping the previous one`,
        );
        return;
      }
    }
    this.opts.config?.(next);
  }

  /**
   * Writes the current schema version to the registry and names it in the
   * stream's metadata ("nakedhtmx.dsid"), when it is not the one last written.
   */
  private async register(): Promise<void> {
    if (!this.opts.describe || !this.schemaMoved) return;
    this.schemaMoved = false;
    const { dsid, doc } = this.opts.describe();
    if (dsid === "" || dsid === this.registered) return;
    try {
      const { Kvm } = await import("@nats-io/kv");
      const { jetstreamManager, StorageType } = await import("@nats-io/jetstream");
      const kv = await new Kvm(this.nc).create(REGISTRY, {
        description: "nakedhtmx schema versions: DSID -> the JSON Schema of every table and command",
        storage: StorageType.File,
      });
      await kv.put(dsid, doc);
      const jsm = await jetstreamManager(this.nc);
      await jsm.streams.update(STREAM, { ...STREAM_CONFIG, metadata: { "nakedhtmx.dsid": dsid } });
      this.registered = dsid;
    } catch (e) {
      this.schemaMoved = true; // not written: try again on the next round
      this.opts.log(`schema registry: ${errorMessage(e)}`);
    }
  }

  /**
   * This node's schema moved (its live messages carried a schema event): the
   * next flush writes the new version to the registry. Describing a schema
   * renders every table's and command's JSON Schema, so it is done then, not
   * on every round.
   */
  schemaChanged(): void {
    this.schemaMoved = true;
    void this.flush();
  }

  private async publish(c: Command): Promise<void> {
    await this.js.publish(subject(c), JSON.stringify(c), { msgID: c.id, timeout: this.opts.waitMs ?? 5000 });
    this.stored.add(c.id);
  }

  /** Applies one delivered command; the core skips a sequence it already applied. */
  private handle(m: JsMsg): void {
    let command: Command;
    try {
      command = m.json<Command>();
    } catch (e) {
      this.opts.log(`stream sequence ${m.seq} is not a command (${errorMessage(e)}); skipped`);
      m.ack();
      return;
    }
    let res: ApplyResult;
    try {
      res = this.opts.apply(command, m.seq);
    } catch (e) {
      res = { id: command.id, seq: m.seq, status: 503, error: errorMessage(e) };
    }
    if (res.status === 503) {
      this.opts.log(`applying command ${command.id} (stream ${m.seq}): ${res.error ?? ""}`);
      m.nak(1000);
      return;
    }
    m.ack();
    this.opts.applied?.(res);
    const wake = this.waiters.get(command.id);
    if (wake) {
      this.waiters.delete(command.id);
      wake();
    }
  }

  /** Subscribes to the other nodes' events; a burst of them is one call of `remote`. */
  private followOthers(): void {
    const own = `nakedhtmx.events.${token(this.opts.node)}.`; // this node's own subjects
    let queued = false;
    this.nc.subscribe("nakedhtmx.events.>", {
      callback: (_err, m) => {
        if (m.subject.startsWith(own) || queued) return;
        queued = true;
        queueMicrotask(() => {
          queued = false;
          if (!this.closed) this.opts.remote?.();
        });
      },
    });
  }

  /**
   * Publishes the API text of this node's live messages (a tick's) on
   * nakedhtmx.events.<node>.<table> ("~" for schema events), fire and forget:
   * `{"node", "id", "event", "data"}`.
   */
  announce(messages: readonly TickMessage[]): void {
    if (this.closed || !this.connected) return;
    for (const m of messages) {
      const event = /^event: (.*)$/m.exec(m.api)?.[1];
      const data = /^data: (.*)$/m.exec(m.api)?.[1];
      if (event === undefined || data === undefined) continue;
      const body = `{"node":${JSON.stringify(this.opts.node)},"id":${m.id},"event":${
        JSON.stringify(event)
      },"data":${data}}`;
      try {
        this.nc.publish(eventsSubject(this.opts.node, m.table), body);
      } catch (e) {
        this.opts.log(`publishing an event: ${errorMessage(e)}`);
        return;
      }
    }
  }

  /**
   * Publishes a command the core kept in its outbox and waits until this node
   * applied it (true) or the wait ends (false). When NATS is unreachable or
   * does not acknowledge, the command stays in the outbox and goes out later:
   * the write is pending, never lost.
   */
  async submit(command: Command): Promise<boolean> {
    const waitMs = this.opts.waitMs ?? 5000;
    if (!this.connected || this.closed) return false;
    const applied = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(command.id);
        resolve(false);
      }, waitMs);
      this.waiters.set(command.id, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    try {
      await this.publish(command);
    } catch (e) {
      this.opts.log(`command ${command.id} kept in the outbox: ${errorMessage(e)}`);
      void this.flush();
    }
    return await applied;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.configWatch?.stop();
    await this.messages?.close().catch(() => {});
    await this.nc.drain().catch(() => {});
  }
}
