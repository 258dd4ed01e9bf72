// A small HTTP/1.1 client over node:http. Not fetch: fetch refuses to send
// Origin, Host and Sec-Fetch-* headers and hides how a server answers a body it
// did not read, and those are exactly what the contract's 403 and 413 are about.

import http from "node:http";

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
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { connection: "close", ...opts.headers };
    let body: Buffer | null = null;
    if (opts.body !== undefined) {
      body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, "utf8");
      headers["content-length"] = body.length;
    } else if (opts.bulk !== undefined && !opts.chunked) {
      headers["content-length"] = opts.bulk;
    }
    let settled = false;
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
      res.on("error", (e) => { if (!settled) { settled = true; reject(e); } });
      res.on("end", () => {
        if (settled) return;
        settled = true;
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
        }
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: out, body: buf, text: buf.toString("utf8") });
      });
    });
    req.setTimeout(opts.timeoutMs ?? 20000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    req.on("error", (e: NodeJS.ErrnoException) => {
      // A server may answer 413 and close before it read what we were still
      // sending; the answer, when it came, wins over the broken pipe.
      if (settled) return;
      if (opts.bulk !== undefined && (e.code === "EPIPE" || e.code === "ECONNRESET")) {
        setTimeout(() => { if (!settled) { settled = true; reject(e); } }, 2000);
        return;
      }
      settled = true;
      reject(e);
    });
    if (body) {
      req.end(body);
    } else if (opts.bulk !== undefined) {
      const chunk = Buffer.alloc(64 * 1024, "a");
      let left = opts.bulk;
      const pump = () => {
        while (left > 0 && !req.destroyed) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            req.once("drain", pump);
            return;
          }
        }
        if (!req.destroyed) req.end();
      };
      pump();
    } else {
      req.end();
    }
  });
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
