// The golden corpus's answers as its expected files hold them, and how two
// are compared: shared by every runner written in TypeScript (corpus.ts on
// Deno, Bun and Node; tests/browser/corpus.ts in Chromium).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export interface CorpusRequest {
  method: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One case of the corpus: its folder's files (README.md of testdata/corpus). */
export interface CorpusCase {
  requests: CorpusRequest[];
  /** schema.sql, or "". */
  schema: string;
  /** config.json, or null. */
  config: unknown;
  /** open.json's basePath, or "". */
  basePath: string;
  /** open.json's offline: the pages name the offline service worker. */
  offline: boolean;
}

export function readCase(dir: string): CorpusCase {
  const opt = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : null);
  const open = JSON.parse(opt("open.json") ?? "{}") as { basePath?: string; offline?: boolean };
  return {
    requests: JSON.parse(readFileSync(join(dir, "requests.json"), "utf8")) as CorpusRequest[],
    schema: opt("schema.sql") ?? "",
    config: JSON.parse(opt("config.json") ?? "null") as unknown,
    basePath: open.basePath ?? "",
    offline: open.offline === true,
  };
}

/** One answer of a case: its head and the whole body (every continuation joined). */
export interface CorpusAnswer {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/**
 * What differs between a case's answers and its expected files (out/NNN.txt),
 * byte for byte: a differing answer (with a line diff), a missing file (with
 * `regenerate`, the command that writes it), an expected file no request
 * answers. Empty when they agree.
 */
export function compareCase(
  name: string,
  dir: string,
  c: CorpusCase,
  answers: CorpusAnswer[],
  regenerate: string,
): string[] {
  const problems: string[] = [];
  answers.forEach((a, i) => {
    const r = c.requests[i]!;
    const file = `${String(i).padStart(3, "0")}.txt`;
    const label = `${name}/out/${file} (${r.method} ${r.path}${r.query ? "?" + r.query : ""})`;
    const path = join(dir, "out", file);
    if (!existsSync(path)) {
      problems.push(`${label}: missing (regenerate with \`${regenerate}\`)`);
      return;
    }
    const want = new Uint8Array(readFileSync(path));
    const got = format(a.status, a.headers, a.body);
    if (!equalBytes(want, got)) {
      problems.push(`${label} differs:\n${diff(utf8Decoder.decode(want), utf8Decoder.decode(got))}`);
    }
  });
  const outDir = join(dir, "out");
  const extra = existsSync(outDir)
    ? readdirSync(outDir).filter((f) => /^\d{3}\.txt$/.test(f) && Number(f.slice(0, 3)) >= c.requests.length)
    : [];
  for (const f of extra) problems.push(`${name}/out/${f}: no request for it`);
  return problems;
}

/** The answer as the expected files hold it: status, headers, empty line, body. */
export function format(status: number, headers: [string, string][], body: Uint8Array): Uint8Array {
  let head = `${status}\n`;
  for (const [k, v] of headers) head += `${k}: ${v}\n`;
  head += "\n";
  const h = utf8.encode(head);
  const out = new Uint8Array(h.length + body.length);
  out.set(h);
  out.set(body, h.length);
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A unified-ish line diff (LCS), saying where each changed line parts from the expected one. */
export function diff(want: string, got: string, context = 2): string {
  const a = want.split("\n");
  const b = got.split("\n");
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) return `(too long to diff: ${n} vs ${m} lines)`;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: { op: " " | "-" | "+"; line: string }[] = [];
  for (let i = 0, j = 0; i < n || j < m;) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ op: " ", line: a[i]! });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ op: "-", line: a[i++]! });
    else ops.push({ op: "+", line: b[j++]! });
  }
  const show = ops.map(() => false);
  ops.forEach((o, k) => {
    if (o.op === " ") return;
    for (let c = Math.max(0, k - context); c <= Math.min(ops.length - 1, k + context); c++) show[c] = true;
  });
  const clip = (s: string) => (s.length > 300 ? s.slice(0, 300) + `… (${s.length} chars)` : s);
  const out: string[] = [];
  let gap = false;
  ops.forEach((o, k) => {
    if (!show[k]) {
      gap = true;
      return;
    }
    if (gap && out.length) out.push("  ...");
    gap = false;
    const prev = ops[k - 1];
    if (o.op === "+" && prev?.op === "-") {
      // A changed line: where the two part matters more than either whole line.
      let col = 0;
      while (col < prev.line.length && prev.line[col] === o.line[col]) col++;
      const from = Math.max(0, col - 40);
      out.push(`+ ${clip(o.line)}`);
      out.push(
        `  (parts at column ${col + 1}: want …${JSON.stringify(prev.line.slice(from, col + 60))}, got …${
          JSON.stringify(o.line.slice(from, col + 60))
        })`,
      );
      return;
    }
    out.push(`${o.op} ${clip(o.line)}`);
  });
  return out.join("\n");
}
