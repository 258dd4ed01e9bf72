// A tiny runner-neutral test harness: the same files run under deno, bun and
// node (`deno run -A`, `bun`, `node` on the .ts file), so no runner's test API.

import process from "node:process";

export class Skip extends Error {}

export function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

export function eq<T>(got: T, want: T, what: string): void {
  const g = show(got);
  const w = show(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

function show(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x: unknown) => typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? `bytes[${[...x].join(",")}]` : x,
  ) ?? String(v);
}

export async function throws(fn: () => unknown, match: (e: unknown) => boolean, what: string): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!match(e)) throw new Error(`${what}: threw the wrong error: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  throw new Error(`${what}: did not throw`);
}

interface Test {
  name: string;
  fn: () => unknown;
}

const tests: Test[] = [];

export function test(name: string, fn: () => unknown): void {
  tests.push({ name, fn });
}

/** The runtime running this file. */
export const runtimeName: "deno" | "bun" | "node" = "Bun" in globalThis
  ? "bun"
  : "deno" in process.versions
  ? "deno"
  : "node";

/**
 * Runs every registered test in order and prints `LABEL: N passed, M failed`
 * (and `, K skipped`) as the last line. Resolves with the exit code: 1 on any failure.
 */
export async function run(label: string, beforeSummary?: () => void): Promise<number> {
  const only = process.env["TEST_ONLY"];
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const t of tests) {
    if (only && !t.name.includes(only)) continue;
    const t0 = performance.now();
    try {
      await t.fn();
      passed++;
      console.log(`  ok    ${t.name} (${Math.round(performance.now() - t0)} ms)`);
    } catch (e) {
      if (e instanceof Skip) {
        skipped++;
        console.log(`  skip  ${t.name}: ${e.message}`);
        continue;
      }
      failed++;
      const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
      console.log(`  FAIL  ${t.name}\n        ${msg.replace(/\n/g, "\n        ")}`);
    }
  }
  beforeSummary?.();
  console.log(`${label}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  return failed ? 1 : 0;
}
