// The suite's tiny test harness: named tests run in order, assertions throw,
// and every answer a test wants compared across hosts is recorded under a key.

import { createHash } from "node:crypto";
import type { Answer } from "./client.ts";

export class Failure extends Error {}

export function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Failure(msg);
}

export function eq<T>(got: T, want: T, what: string): void {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Failure(`${what}: got ${clip(g)}, want ${clip(w)}`);
}

export function clip(s: string | undefined, n = 300): string {
  if (s === undefined) return "undefined";
  return s.length > n ? s.slice(0, n) + `… (${s.length} chars)` : s;
}

export function status(a: Answer, want: number | number[], what: string): void {
  const ok = Array.isArray(want) ? want.includes(a.status) : a.status === want;
  if (!ok) throw new Failure(`${what}: status ${a.status}, want ${want}; body: ${clip(a.text, 400)}`);
}

export interface Test {
  name: string;
  fn: () => Promise<void>;
  /** Why the case is about SQLite alone (rowids, the file, its authorizer): the Postgres leg leaves it out. */
  sqliteOnly?: string;
}

export interface Result {
  name: string;
  ok: boolean;
  skipped?: string;
  error?: string;
  ms: number;
}

export class Skip extends Error {}

/** Runs tests in order; a failed test does not stop the rest. */
export async function runTests(tests: Test[], log: (s: string) => void): Promise<Result[]> {
  const results: Result[] = [];
  for (const t of tests) {
    const t0 = performance.now();
    try {
      await t.fn();
      results.push({ name: t.name, ok: true, ms: performance.now() - t0 });
      log(`  ok    ${t.name}`);
    } catch (e) {
      const ms = performance.now() - t0;
      if (e instanceof Skip) {
        results.push({ name: t.name, ok: true, skipped: e.message, ms });
        log(`  skip  ${t.name}: ${e.message}`);
        continue;
      }
      const msg = e instanceof Failure ? e.message : (e instanceof Error ? (e.stack ?? e.message) : String(e));
      results.push({ name: t.name, ok: false, error: msg, ms });
      log(`  FAIL  ${t.name}\n        ${msg.replace(/\n/g, "\n        ")}`);
    }
  }
  return results;
}

/**
 * Runs a suite's tests, prints `NAME: N passed, M failed`, cleans up and
 * exits 1 on any failure (or an error outside the tests), 0 otherwise.
 * onFailure runs before the summary when something failed (server logs).
 */
export async function runSuite(
  name: string,
  tests: () => Promise<Test[]> | Test[],
  cleanup: () => Promise<void>,
  onFailure?: () => void,
): Promise<never> {
  try {
    const results = await runTests(await tests(), (line) => console.log(line));
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) onFailure?.();
    console.log(`${name}: ${results.length - failed.length} passed, ${failed.length} failed`);
    await cleanup();
    process.exit(failed.length > 0 ? 1 : 0);
  } catch (e) {
    console.error(e);
    await cleanup();
    process.exit(1);
  }
}

/** What is kept of an answer to compare it across hosts. */
export interface Recorded {
  status: number;
  headers: Record<string, string>;
  body: string;
}

// Headers a host's HTTP server adds on its own; the core's headers stay.
const TRANSPORT_HEADERS = new Set(["date", "connection", "keep-alive", "transfer-encoding", "content-length",
  "server", "vary", "x-powered-by", "alt-svc"]);

export class Recorder {
  readonly answers = new Map<string, Recorded>();
  private readonly origin: () => string;
  private readonly tmp: string;
  constructor(origin: () => string, tmp: string) {
    this.origin = origin;
    this.tmp = tmp;
  }

  /** Records an answer under key (keys are unique within a run). */
  record(key: string, a: Answer): void {
    const norm = (s: string) => s.split(this.origin()).join("http://SERVER").split(this.tmp).join("$TMP");
    const headers: Record<string, string> = {};
    for (const k of Object.keys(a.headers).sort()) {
      if (!TRANSPORT_HEADERS.has(k)) headers[k] = norm(a.headers[k]);
    }
    const ct = a.headers["content-type"] ?? "";
    const textual = /json|html|csv|text\/plain|^$/.test(ct);
    const body = textual
      ? norm(a.text)
      : `sha256:${createHash("sha256").update(a.body).digest("hex")} (${a.body.length} bytes)`;
    let k = key;
    for (let n = 2; this.answers.has(k); n++) k = `${key} #${n}`;
    this.answers.set(k, { status: a.status, headers, body });
  }
}

/** Polls fn until it returns a truthy value, or fails naming what it waited for. */
export async function until<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 10000): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
