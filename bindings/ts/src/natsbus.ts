// The TS hosts' NATS side of --write jetstream (PROTOCOL.md, "Commands"), the
// counterpart of bindings/go/natsbus: the NAKEDHTMX stream of commands
// (subjects nakedhtmx.cmd.<table>.<op>), a durable consumer per node that
// feeds every command in order to the core's apply, and submit, which
// publishes a command (its id as Nats-Msg-Id) and waits until this node has
// applied it. The NATS packages are loaded only when a node joins a cluster.

import type { ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { errorMessage, NakedhtmxError } from "./errors.ts";
import type { CommandSink } from "./handler.ts";
import type { ApplyResult, Command } from "./protocol.ts";

export const STREAM = "NAKEDHTMX";

export interface BusOptions {
  url: string;
  node: string;
  /** This node's core. */
  apply(command: Command, seq: number): ApplyResult;
  /** Called after each command is applied (the host ticks its live hub). */
  applied?(result: ApplyResult): void;
  /** How long a request waits for its own command (default 5 s). */
  waitMs?: number;
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

export function subject(c: Command): string {
  return `nakedhtmx.cmd.${token(c.table)}.${token(c.op)}`;
}

export class Bus implements CommandSink {
  private readonly waiters = new Map<string, () => void>();
  private connected = true;
  private closed = false;
  private messages: ConsumerMessages | undefined;

  private readonly opts: BusOptions;
  private readonly nc: NatsConnection;
  private readonly js: JetStreamClient;

  private constructor(opts: BusOptions, nc: NatsConnection, js: JetStreamClient) {
    this.opts = opts;
    this.nc = nc;
    this.js = js;
  }

  /** Connects, creates or updates the stream and this node's consumer, and starts applying. */
  static async open(opts: BusOptions): Promise<Bus> {
    const { connect } = await import("@nats-io/transport-node");
    const { AckPolicy, DeliverPolicy, StorageType, jetstream, jetstreamManager } = await import("@nats-io/jetstream");
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: opts.url,
        name: `nakedhtmx ${opts.node}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
      });
    } catch (e) {
      throw new NakedhtmxError("NATS", `NATS ${opts.url}: ${errorMessage(e)}`, { cause: e });
    }
    try {
      const jsm = await jetstreamManager(nc);
      const stream = {
        name: STREAM,
        description: "nakedhtmx commands: every write, applied by every node in order",
        subjects: ["nakedhtmx.cmd.>"],
        storage: StorageType.File,
        duplicate_window: 10 * 60 * 1e9, // a retried publish (same Nats-Msg-Id) within this window is stored once
      };
      await jsm.streams.add(stream).catch(async () => await jsm.streams.update(STREAM, stream));
      const durable = `nakedhtmx-${token(opts.node)}`;
      const consumer = {
        durable_name: durable,
        description: `node ${opts.node} applies every command in order`,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        max_ack_pending: 1, // in order, one at a time: the projection is a single sequence
        ack_wait: 5e9, // an ack lost in an outage must not hold the stream back long
      };
      await jsm.consumers.add(STREAM, consumer).catch(async () =>
        await jsm.consumers.update(STREAM, durable, consumer)
      );
      const bus = new Bus(opts, nc, jetstream(nc));
      await bus.start(durable);
      return bus;
    } catch (e) {
      await nc.close().catch(() => {});
      if (e instanceof NakedhtmxError) throw e;
      throw new NakedhtmxError("NATS", `JetStream on ${opts.url}: ${errorMessage(e)}`, { cause: e });
    }
  }

  private async start(durable: string): Promise<void> {
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === "disconnect") {
          this.connected = false;
          this.opts.log(`NATS disconnected`);
        } else if (s.type === "reconnect") {
          this.connected = true;
          this.opts.log(`NATS reconnected`);
        }
      }
    })();
    const consumer = await this.js.consumers.get(STREAM, durable);
    this.messages = await consumer.consume({ expires: 5000, idle_heartbeat: 1000 });
    void (async () => {
      for await (const m of this.messages!) this.handle(m);
    })().catch((e: unknown) => {
      if (!this.closed) this.opts.log(`JetStream consumer stopped: ${errorMessage(e)}`);
    });
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

  async submit(command: Command): Promise<boolean> {
    if (!this.connected || this.closed) {
      throw new NakedhtmxError("NOT_SENT", `command ${command.id}: NATS is unreachable`);
    }
    const waitMs = this.opts.waitMs ?? 5000;
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
      await this.js.publish(subject(command), JSON.stringify(command), { msgID: command.id, timeout: waitMs });
    } catch (e) {
      const msg = errorMessage(e);
      if (/timeout|TIMEOUT/.test(msg) && this.connected) {
        // It may have been stored: answered as pending, its id answers for it.
        this.opts.log(`command ${command.id}: no acknowledgement from JetStream in ${waitMs} ms; answered as pending`);
        return await applied;
      }
      this.waiters.delete(command.id);
      throw new NakedhtmxError("NOT_SENT", `command ${command.id}: ${msg}`, { cause: e });
    }
    return await applied;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.messages?.close().catch(() => {});
    await this.nc.drain().catch(() => {});
  }
}
