// A server-sent events client over node:http for the live suites and the
// latency bench: every event is kept with the time its bytes arrived, so tests
// can wait for what they expect and the bench can measure when it came.

import http from "node:http";
import net from "node:net";
import { dechunk } from "./client.ts";

export interface SSEEvent {
  /** The `id:` field ("" when the event had none). */
  id: string;
  /** The `event:` field ("message" when the event had none). */
  event: string;
  data: string;
  /** performance.now() when the chunk that completed this event arrived. */
  at: number;
}

export class Timeout extends Error {}

/** One open event stream. */
export class SSE {
  readonly events: SSEEvent[] = [];
  /** Comment lines (": keep-alive"), without the colon. */
  readonly comments: { text: string; at: number }[] = [];
  status = 0;
  headers: Record<string, string> = {};
  /** Text of the body when the answer was not an event stream. */
  body = "";
  ended = false;
  error: Error | null = null;
  /** Called with each event as it arrives, and once when the stream ends. */
  onevent: ((e: SSEEvent) => void) | null = null;
  onend: (() => void) | null = null;
  /** Total bytes received. */
  bytes = 0;
  private buf = "";
  private cur: { id: string; event: string; data: string[] } = { id: "", event: "", data: [] };
  private waiters = new Set<() => void>();
  private req: http.ClientRequest | null = null;
  private res: http.IncomingMessage | null = null;

  /** Opens base+path; resolves once the answer's head is in. */
  static open(base: URL, path: string, headers: Record<string, string> = {}, timeoutMs = 15000): Promise<SSE> {
    const s = new SSE();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        s.req?.destroy();
        reject(new Timeout(`no answer to GET ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      s.req = http.request({
        host: base.hostname,
        port: base.port,
        method: "GET",
        path,
        headers: { accept: "text/event-stream", "cache-control": "no-cache", ...headers },
        agent: false,
      }, (res) => {
        clearTimeout(timer);
        s.res = res;
        s.status = res.statusCode ?? 0;
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) s.headers[k] = Array.isArray(v) ? v.join(", ") : v;
        }
        res.setEncoding("utf8");
        const isStream = (s.headers["content-type"] ?? "").startsWith("text/event-stream");
        res.on("data", (chunk: string) => {
          s.bytes += Buffer.byteLength(chunk);
          if (isStream) s.feed(chunk, performance.now());
          else s.body += chunk;
          s.wake();
        });
        const end = () => {
          if (s.ended) return;
          s.ended = true;
          s.wake();
          s.onend?.();
        };
        res.on("end", end);
        res.on("close", end);
        res.on("error", (e) => {
          s.error = e;
          end();
        });
        resolve(s);
      });
      s.req.on("error", (e) => {
        clearTimeout(timer);
        s.error = e;
        s.ended = true;
        s.wake();
        reject(e);
      });
      s.req.end();
    });
  }

  /** Parses a piece of an event stream's body. */
  feed(chunk: string, at: number): void {
    this.buf += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // a lone \r at the end might be the first half of \r\n: wait for more
      if (m[0] === "\r" && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line, at);
    }
  }

  private line(line: string, at: number): void {
    if (line === "") {
      if (this.cur.data.length > 0) {
        const e = { id: this.cur.id, event: this.cur.event || "message", data: this.cur.data.join("\n"), at };
        this.events.push(e);
        this.onevent?.(e);
      }
      this.cur = { id: "", event: "", data: [] };
      return;
    }
    if (line.startsWith(":")) {
      this.comments.push({ text: line.slice(1).trim(), at });
      return;
    }
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "id") this.cur.id = value;
    else if (field === "event") this.cur.event = value;
    else if (field === "data") this.cur.data.push(value);
  }

  /** Wakes whoever waits in until(). */
  wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Waits until pred holds (checked on every arrival); throws Timeout with what. */
  until(pred: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        if (pred()) {
          done();
          resolve();
        } else if (this.ended) {
          done();
          reject(new Timeout(`the stream ended while waiting for ${what}${this.error ? ` (${this.error.message})` : ""}; got ${this.summary()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Timeout(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.summary()}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Events of the given kinds (all when none given) from index `from` on. */
  since(from: number, ...kinds: string[]): SSEEvent[] {
    const es = this.events.slice(from);
    return kinds.length ? es.filter((e) => kinds.includes(e.event)) : es;
  }

  /** Waits until at least n events of the given kinds arrived from index `from` on; returns them. */
  async waitN(from: number, n: number, kinds: string[], what: string, timeoutMs = 10000): Promise<SSEEvent[]> {
    await this.until(() => this.since(from, ...kinds).length >= n, what, timeoutMs);
    return this.since(from, ...kinds);
  }

  /** Waits for the first event from index `from` on that matches; returns it. */
  async waitFor(from: number, match: (e: SSEEvent) => boolean, what: string, timeoutMs = 10000): Promise<SSEEvent> {
    let found: SSEEvent | undefined;
    await this.until(() => (found = this.events.slice(from).find(match)) !== undefined, what, timeoutMs);
    return found!;
  }

  /** The last id seen (the Last-Event-ID a reconnecting client sends). */
  lastId(): string {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].id !== "") return this.events[i].id;
    return "";
  }

  summary(max = 6): string {
    const n = this.events.length;
    const tail = this.events.slice(-max).map((e) => `${e.event}#${e.id} ${e.data.length > 120 ? e.data.slice(0, 120) + "…" : e.data}`);
    return `${n} event(s)${n > max ? ", the last " + max : ""}: ${tail.join(" | ") || "none"}`;
  }

  close(): void {
    this.res?.destroy();
    this.req?.destroy();
    this.ended = true;
    this.wake();
  }
}

/**
 * A stream that reconnects with Last-Event-ID whenever the server closes it,
 * as a browser's EventSource does; `all` holds the events of every connection.
 */
export class ResumingSSE {
  readonly all = new SSE();
  reconnects = 0;
  private cur: SSE | null = null;
  private stopped = false;
  private readonly base: URL;
  private readonly path: string;
  private constructor(base: URL, path: string) {
    this.base = base;
    this.path = path;
  }

  static async open(base: URL, path: string): Promise<ResumingSSE> {
    const r = new ResumingSSE(base, path);
    await r.connect({});
    r.all.status = r.cur!.status;
    r.all.headers = r.cur!.headers;
    return r;
  }

  private async connect(headers: Record<string, string>): Promise<void> {
    const s = await SSE.open(this.base, this.path, headers);
    this.cur = s;
    const take = (e: SSEEvent) => {
      this.all.events.push(e);
      this.all.wake();
    };
    s.events.forEach(take);
    s.onevent = take;
    const again = () => {
      if (this.stopped || this.cur !== s) return;
      if (this.reconnects++ >= 100) {
        this.all.error = new Error("reconnected 100 times");
        this.all.ended = true;
        this.all.wake();
        return;
      }
      const last = this.all.lastId();
      this.connect(last ? { "last-event-id": last } : {}).catch((e: Error) => {
        this.all.error = e;
        this.all.ended = true;
        this.all.wake();
      });
    };
    s.onend = again;
    if (s.ended) again();
  }

  close(): void {
    this.stopped = true;
    this.cur?.close();
    this.all.ended = true;
    this.all.wake();
  }
}

/** Parsed data of an event (JSON). */
export function data(e: SSEEvent): any {
  try {
    return JSON.parse(e.data);
  } catch {
    throw new Error(`event ${e.event}#${e.id}: data is not JSON: ${e.data.slice(0, 200)}`);
  }
}

/**
 * A client that connects, sends its request and then never reads: the
 * stalled reader a server must not wait for. read() drains what piled up.
 */
export class StalledClient {
  private sock: net.Socket;
  closedAt: number | null = null;
  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on("close", () => { this.closedAt ??= performance.now(); });
    sock.on("error", () => { this.closedAt ??= performance.now(); });
  }

  static open(base: URL, path: string, headers: Record<string, string> = {}): Promise<StalledClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: base.hostname, port: Number(base.port) });
      sock.pause();
      sock.once("error", reject);
      sock.once("connect", () => {
        const head = [`GET ${path} HTTP/1.1`, `host: ${base.host}`, "accept: text/event-stream"];
        for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
        sock.write(head.join("\r\n") + "\r\n\r\n");
        sock.off("error", reject);
        resolve(new StalledClient(sock));
      });
    });
  }

  /** Whether the server has closed the connection (as far as the socket knows without reading). */
  get closed(): boolean {
    return this.closedAt !== null || this.sock.destroyed;
  }

  /**
   * Reads everything the socket holds now, for up to ms, and returns the
   * events in the body (chunked transfer encoding undone when present).
   */
  async drain(ms = 3000): Promise<{ events: SSEEvent[]; closed: boolean; ended: boolean; raw: number }> {
    const chunks: Buffer[] = [];
    let closed = false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      let idle: NodeJS.Timeout | undefined;
      function done() {
        clearTimeout(timer);
        clearTimeout(idle);
        resolve();
      }
      this.sock.on("data", (c: Buffer) => {
        chunks.push(c);
        clearTimeout(idle);
        idle = setTimeout(done, 1000);
      });
      this.sock.on("end", () => { closed = true; done(); });
      this.sock.on("close", () => { closed = true; done(); });
      if (this.sock.destroyed) { closed = true; done(); }
      this.sock.resume();
      idle = setTimeout(done, 1000);
    });
    const raw = Buffer.concat(chunks);
    const end = raw.indexOf("\r\n\r\n");
    const out = new SSE();
    // ended: a response ended by its last chunk (the server dropped the
    // stream and keeps the connection for another request: Deno.serve, Bun.serve).
    let ended = false;
    if (end >= 0) {
      const head = raw.subarray(0, end).toString("latin1").toLowerCase();
      let body: Buffer = raw.subarray(end + 4);
      if (/\r\ntransfer-encoding:\s*chunked/.test(head)) ({ body, complete: ended } = dechunk(body, true));
      out.feed(body.toString("utf8"), performance.now());
    }
    return { events: out.events, closed: closed || this.sock.destroyed, ended, raw: raw.length };
  }

  close(): void {
    this.sock.destroy();
  }
}
