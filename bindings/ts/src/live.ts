// Live updates, the host's half (bindings/PROTOCOL.md, "Live"): the core finds
// changes and renders them, the hub holds the connections. It keeps every open
// event stream, calls the core's tick on a timer and after the host's own
// writes, and hands each message to the streams it is for. One hub serves one
// core, for the fetch handler and the node:http handler alike (handler.ts).
//
// Calls into the core are synchronous and JavaScript is single-threaded, so a
// tick runs between two calls, never inside one. A continuation sequence (CSV
// export) holds nothing in the core between its calls (each token is a
// keyset cursor), so a tick between two of them changes nothing for it. An
// answer that subscribes is registered in the same synchronous step as the
// nh_handle that answered it: no tick can fall between its backlog and its
// first live message.

import { clearInterval, setInterval } from "node:timers";
import { errorMessage } from "./errors.ts";
import type { Subscribe, TickMessage, TickResult } from "./protocol.ts";

/** PROTOCOL.md's numbers. */
export const DEFAULT_TICK_MS = 20;
export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_MAX_UNSENT = 1024 * 1024;

/** The core as the hub sees it: `nh_tick`, asked only for the formats the hub's streams are in. */
export interface TickSource {
  /** What changed, or its promise when the store answers later. */
  tick(formats: readonly string[], viewers: readonly string[]): TickResult | Promise<TickResult>;
}

export interface LiveOptions {
  /** Timer of the ticks, in ms (default 20); 0: no timer, only `tick()` and the ticks after writes. */
  tickMs?: number;
  /** How often `: keep-alive` goes to every stream, in ms (default 15 s); 0: never. */
  heartbeatMs?: number;
  /** Unsent bytes a stream may hold before it is closed (default 1 MiB). */
  maxUnsentBytes?: number;
  /** Tick failures (each distinct message once). Default: dropped. */
  log?: (line: string) => void;
  /** Whether a write's tick is needed with no stream open (a cluster's bus announces every change). */
  announces?: () => boolean;
}

/**
 * One open stream. The hub keeps its unsent messages itself and hands the
 * server one chunk each time the server asks for one (pull), which a server
 * does when the connection can take more: a client that does not read leaves
 * its messages here, counted in `unsent`.
 */
interface Subscriber {
  table: string;
  format: string;
  /** Subscribe.viewer: "" gets every message. */
  viewer: string;
  controller: ReadableStreamDefaultController<Uint8Array>;
  queue: Uint8Array[];
  /** Bytes in `queue`. */
  unsent: number;
  /** The server asked for a chunk and none was queued: the next one goes to it at once. */
  wanted: boolean;
  /** The hub closed: end the stream once the queue is sent. */
  ending: boolean;
}

const utf8 = new TextEncoder();
const KEEP_ALIVE = utf8.encode(": keep-alive\n\n");

/** Whether the host ticks right after handling a request with this method. */
export function isWrite(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH" || method === "DELETE";
}

export class Live {
  readonly #source: TickSource;
  readonly #max: number;
  readonly #log: ((line: string) => void) | undefined;
  readonly #subs = new Set<Subscriber>();
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #timed: boolean;
  readonly #announces: (() => boolean) | undefined;
  #closed = false;
  #lastError = "";
  /** A tick waiting for its store (one that answers later), and the one queued after it. */
  #inflight: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  constructor(source: TickSource, opts: LiveOptions = {}) {
    this.#source = source;
    this.#max = opts.maxUnsentBytes ?? DEFAULT_MAX_UNSENT;
    this.#log = opts.log;
    const tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
    const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.#timed = tickMs > 0;
    this.#announces = opts.announces;
    if (tickMs > 0) this.#every(tickMs, () => this.tick());
    if (heartbeatMs > 0) this.#every(heartbeatMs, () => this.heartbeat());
  }

  /** A timer that never keeps the process alive on its own (node:timers' unref, on every runtime). */
  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.#timers.push(t);
  }

  /** Open streams. */
  get size(): number {
    return this.#subs.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Whether a write's answer waits for a tick. Not when nobody would be told:
   * no stream is open, no bus announces, and the timer's next tick moves the
   * core past the write as the write's own tick would have (the core skips
   * its own entries without reading them back). That tick cost a create on
   * Node about a tenth of its time (three statements and a call into the
   * core). Without a timer the write's tick is the only one: it stays.
   */
  wantsWriteTick(): boolean {
    return !this.#timed || this.#subs.size > 0 || (this.#announces?.() ?? false);
  }

  /**
   * The body of an answer that subscribes: the backlog, then every message
   * for `sub` until the client goes (the server cancels the stream), the
   * stream falls behind, or the hub closes. Registered before it returns.
   * The backlog is not counted against the limit: the core bounds it, and it
   * is the same when a client that was closed comes back.
   */
  subscribe(sub: Subscribe, backlog: Uint8Array): ReadableStream<Uint8Array> {
    let s: Subscriber | undefined;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        if (backlog.length) controller.enqueue(backlog);
        if (this.#closed) {
          controller.close();
          return;
        }
        s = {
          table: sub.table,
          format: sub.format,
          viewer: sub.viewer ?? "",
          controller,
          queue: [],
          unsent: 0,
          wanted: false,
          ending: false,
        };
        this.#subs.add(s);
      },
      pull: () => {
        if (s) this.#pull(s);
      },
      cancel: () => {
        if (!s) return;
        this.#subs.delete(s);
        s.queue = [];
        s.unsent = 0;
      },
      // Nothing is pulled ahead: what the server has not asked for stays in s.queue.
    }, { highWaterMark: 0 });
  }

  /**
   * Asks the core what changed and queues each message on the streams it is
   * for, in the core's order. Never waits for a client. After close: nothing.
   */
  tick(): void | Promise<void> {
    if (this.#closed) return;
    if (this.#inflight) {
      // One tick at a time: with a store that answers later, a timer every
      // 20 ms would otherwise queue ticks faster than the store answers
      // them, and a change would wait behind all of them. Every caller
      // meanwhile shares one tick that starts when this one ends, so what
      // was written before the call is in it (a writer's events still come
      // before its answer).
      this.#next ??= this.#inflight.then(() => {
        this.#next = undefined;
        return this.tick();
      });
      return this.#next;
    }
    let res: TickResult | Promise<TickResult>;
    try {
      res = this.#source.tick(this.formats(), this.viewers());
    } catch (e) {
      this.#failed(e);
      return;
    }
    // A store that answers later: the messages go out when it has answered
    // (a writer's answer waits for this promise, so its events come first).
    if (res instanceof Promise) {
      const done = res.then((r) => this.#deliver(r), (e) => this.#failed(e)).finally(() => {
        this.#inflight = undefined;
      });
      this.#inflight = done;
      return done;
    }
    this.#deliver(res);
  }

  #deliver(res: TickResult): void {
    this.#lastError = "";
    if (res.messages?.length && this.#subs.size > 0 && !this.#closed) this.fanOut(res.messages);
  }

  #failed(e: unknown): void {
    const msg = errorMessage(e);
    if (msg !== this.#lastError) {
      this.#lastError = msg;
      this.#log?.(`live tick: ${msg}`);
    }
  }

  /** The formats of the open streams: a message is rendered only in these. */
  formats(): string[] {
    const out = new Set<string>();
    for (const s of this.#subs) out.add(s.format);
    return [...out];
  }

  /** The viewers of the open streams (Subscribe.viewer), sorted, each once. */
  viewers(): string[] {
    const out = new Set<string>();
    for (const s of this.#subs) if (s.viewer) out.add(s.viewer);
    return [...out].sort();
  }

  /** Hands messages (in id order) to the streams they are for; each text is encoded once. */
  fanOut(messages: readonly TickMessage[]): void {
    for (const m of messages) {
      const api = m.api ? utf8.encode(m.api) : undefined;
      const page = m.page ? utf8.encode(m.page) : undefined;
      // Held by row rules: a stream with a viewer gets the message, its
      // removal, or nothing, as the core's lists say.
      const only = m.held ? new Set(m.only ?? []) : undefined;
      const gone = m.held ? new Set(m.gone ?? []) : undefined;
      let goneApi: typeof api, gonePage: typeof page;
      if (!api && !page && !m.held) continue;
      for (const s of this.#subs) {
        if (m.table !== "" && s.table !== "" && s.table !== m.table) continue;
        let a = api, p = page;
        if (only && s.viewer) {
          if (only.has(s.viewer)) {
            // as it is
          } else if (gone!.has(s.viewer)) {
            goneApi ??= m.goneApi ? utf8.encode(m.goneApi) : undefined;
            gonePage ??= m.gonePage ? utf8.encode(m.gonePage) : undefined;
            a = goneApi;
            p = gonePage;
          } else continue;
        }
        const bytes = s.format === "api" ? a : s.format === "page" ? p : undefined;
        if (bytes) this.#push(s, bytes);
      }
    }
  }

  /** Writes `: keep-alive` to every stream. */
  heartbeat(): void {
    for (const s of this.#subs) this.#push(s, KEEP_ALIVE);
  }

  /**
   * Hands bytes to the server if it is waiting for them, or queues them; a
   * stream they would put over its limit is closed instead: what it holds is
   * dropped at once, and its client resumes with Last-Event-ID from the last
   * event it received, so it misses nothing.
   */
  #push(s: Subscriber, bytes: Uint8Array): void {
    if (s.wanted) {
      s.wanted = false;
      s.controller.enqueue(bytes);
      return;
    }
    if (s.unsent + bytes.byteLength > this.#max) {
      this.#subs.delete(s);
      s.queue = [];
      s.unsent = 0;
      s.controller.close();
      return;
    }
    s.queue.push(bytes);
    s.unsent += bytes.byteLength;
  }

  /** The server can take a chunk. */
  #pull(s: Subscriber): void {
    const next = s.queue.shift();
    if (next) {
      s.unsent -= next.byteLength;
      s.controller.enqueue(next);
    } else if (s.ending) {
      s.controller.close();
    } else {
      s.wanted = true;
    }
  }

  /** Stops the timers and ends every stream once what it already holds is sent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    for (const s of this.#subs) {
      s.ending = true;
      if (s.queue.length === 0) {
        try {
          s.controller.close();
        } catch {
          // cancelled under us: nothing to end
        }
      }
    }
    this.#subs.clear();
  }
}
