// A small HTTP/1.1 client over node:http. Not fetch: fetch refuses to send
// Origin, Host and Sec-Fetch-* headers and hides how a server answers a body it
// did not read, and those are exactly what the contract's 403 and 413 are about.

import http from "node:http";
import net from "node:net";

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body as this many bytes of "a" instead (for 413), in chunks. */
  bulk?: number;
  /** With bulk: no Content-Length, chunked transfer encoding. */
  chunked?: boolean;
  timeoutMs?: number;
}

export function request(base: URL, method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
  if (opts.bulk !== undefined) return bulkRequest(base, method, path, opts);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { connection: "close", ...opts.headers };
    let body: Buffer | null = null;
    if (opts.body !== undefined) {
      body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, "utf8");
      headers["content-length"] = body.length;
    }
    const req = http.request({
      host: base.hostname,
      port: base.port,
      method,
      path,
      headers,
      agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
        }
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: out, body: buf, text: buf.toString("utf8") });
      });
    });
    req.setTimeout(opts.timeoutMs ?? 20000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    req.on("error", reject);
    req.end(body ?? undefined);
  });
}

/**
 * Sends a large body over a raw socket and stops sending as soon as the server
 * answers. A server that refuses a body it will not read (413) answers early and
 * closes; node:http would then fail on the broken pipe and drop the answer it
 * already received, where a browser or curl shows it.
 */
function bulkRequest(base: URL, method: string, path: string, opts: RequestOptions): Promise<Answer> {
  const size = opts.bulk!;
  const head = [`${method} ${path} HTTP/1.1`, `host: ${base.host}`, "connection: close"];
  for (const [k, v] of Object.entries(opts.headers ?? {})) head.push(`${k}: ${v}`);
  head.push(opts.chunked ? "transfer-encoding: chunked" : `content-length: ${size}`);
  return rawExchange(base, `${method} ${path}`, opts.timeoutMs ?? 30000, (sock, over) => {
    sock.write(head.join("\r\n") + "\r\n\r\n");
    const chunk = Buffer.alloc(64 * 1024, "a");
    let left = size;
    const pump = () => {
      while (left > 0 && !over()) {
        const n = Math.min(left, chunk.length);
        left -= n;
        const data = n === chunk.length ? chunk : chunk.subarray(0, n);
        const ok = opts.chunked
          ? sock.write(Buffer.concat([Buffer.from(n.toString(16) + "\r\n"), data, Buffer.from("\r\n")]))
          : sock.write(data);
        if (!ok) {
          sock.once("drain", () => setImmediate(pump));
          return;
        }
      }
      if (left === 0 && opts.chunked && !over()) sock.write("0\r\n\r\n");
    };
    // give a server that answers on the head alone the chance to do so
    setTimeout(pump, 50);
  });
}

/**
 * Sends a request head exactly as given (lines without their CRLF; a
 * "connection: close" is added) over a raw socket: for what node:http will
 * not send, such as two Host headers or none.
 */
export function rawRequest(base: URL, lines: string[], timeoutMs = 20000): Promise<Answer> {
  return rawExchange(base, lines[0] ?? "", timeoutMs, (sock) => {
    sock.write([...lines, "connection: close"].join("\r\n") + "\r\n\r\n");
  });
}

/**
 * One exchange over a raw socket: send() writes once connected (over() says
 * whether the server has begun to answer or the exchange is done, so a body
 * stops being sent), and the answer is read until it is complete, the
 * connection closes or the time is up.
 */
function rawExchange(base: URL, what: string, timeoutMs: number, send: (sock: net.Socket, over: () => boolean) => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: base.hostname, port: Number(base.port) });
    const got: Buffer[] = [];
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const parsed = parseResponse(Buffer.concat(got));
      if (parsed) resolve(parsed);
      else reject(err ?? new Error(`no complete answer to ${what} (${Buffer.concat(got).length} bytes read)`));
    };
    const timer = setTimeout(() => finish(new Error(`timeout: ${what}`)), timeoutMs);
    sock.on("data", (c: Buffer) => {
      got.push(c);
      if (parseResponse(Buffer.concat(got))?.complete) finish();
    });
    sock.on("error", (e) => finish(e));
    sock.on("close", () => finish());
    sock.on("connect", () => send(sock, () => done || got.length > 0));
  });
}

/** Parses a raw HTTP/1.1 response; complete says whether the whole body is in. */
function parseResponse(buf: Buffer): (Answer & { complete: boolean }) | null {
  for (;;) {
    const end = buf.indexOf("\r\n\r\n");
    if (end < 0) return null;
    const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) return null;
    const status = Number(m[1]);
    if (status === 100) { // an interim answer: skip it
      buf = buf.subarray(end + 4);
      continue;
    }
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(":");
      if (i > 0) {
        const k = l.slice(0, i).trim().toLowerCase();
        const v = l.slice(i + 1).trim();
        headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
      }
    }
    let rest = buf.subarray(end + 4);
    let complete = false;
    if (headers["transfer-encoding"]?.includes("chunked")) {
      ({ body: rest, complete } = dechunk(rest));
    } else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      complete = rest.length >= n;
      rest = rest.subarray(0, n);
    }
    return { status, headers, body: rest, text: rest.toString("utf8"), complete };
  }
}

/**
 * Undoes chunked transfer encoding as far as the chunks are complete;
 * complete: the last (empty) chunk has come. With partial, a chunk cut short
 * by the end of b is kept as far as it goes (what a socket holds so far).
 */
export function dechunk(b: Buffer, partial = false): { body: Buffer; complete: boolean } {
  // (Buffer<ArrayBufferLike> throughout: subarrays of what the socket gave)
  const parts: Buffer[] = [];
  let i = 0;
  for (;;) {
    const le = b.indexOf("\r\n", i);
    if (le < 0) break;
    const n = parseInt(b.subarray(i, le).toString("latin1"), 16);
    if (!Number.isFinite(n)) break;
    if (n === 0) return { body: Buffer.concat(parts), complete: true };
    if (le + 2 + n > b.length) {
      if (partial) parts.push(b.subarray(le + 2));
      break;
    }
    parts.push(b.subarray(le + 2, le + 2 + n));
    i = le + 2 + n + 2;
  }
  return { body: Buffer.concat(parts), complete: false };
}

/** Percent-encodes like encodeURIComponent (the contract's path encoding). */
export const enc = encodeURIComponent;

/** The contract's composite key path: each value encoded, joined by ",". */
export function pkPath(...values: (string | number)[]): string {
  return values.map((v) => enc(String(v))).join(",");
}

/** application/x-www-form-urlencoded, as a browser sends it. */
export function formBody(fields: [string, string][]): string {
  return fields.map(([k, v]) => formEncode(k) + "=" + formEncode(v)).join("&");
}

function formEncode(s: string): string {
  return encodeURIComponent(s.replace(/\r?\n/g, "\r\n")).replace(/%20/g, "+");
}
