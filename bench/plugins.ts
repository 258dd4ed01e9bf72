// The cost of one plugin call on one JS runtime (issue 24): the same calls
// as bindings/go/plugin's benchmarks (the example validator in Go and in
// AssemblyScript on one small row, and a Go plugin's echo of it), each in
// the calling thread (plugin_abi.ts) and through the worker that gives a
// call its time limit (plugin.ts), as a host would run them. Run it with
// each runtime: `node bench/plugins.ts`, `deno run -A bench/plugins.ts`,
// `bun bench/plugins.ts`. Prints one JSON line: {"runtime", "ns": {name:
// ns/call}}, each the median of several timed batches.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { AbiPlugin, type PluginGrants } from "../bindings/ts/src/plugin_abi.ts";
import { TimedPlugin } from "../bindings/ts/src/plugin.ts";
import { root } from "./data.ts";

declare const Bun: unknown;
declare const Deno: unknown;
const runtime = typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" ? "deno" : "node";

/** The row bindings/go/plugin's benchmarks check. */
const ROW = new TextEncoder().encode(`{"row": {"id": 7, "name": "Ann", "email": "ann@example.com"}}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function built(dir: string, name: string, cmd: string, args: (out: string) => string[], env?: Record<string, string>): Uint8Array {
  const out = join(dir, name);
  const r = spawnSync(cmd, args(out), { cwd: root, encoding: "utf8", env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`building ${name}: ${r.stderr || r.error}`);
  return new Uint8Array(readFileSync(out));
}

/** ns per call: warm for half a second, then the median of 7 batches of about 0.2 s. */
function timed(call: () => void): number {
  const warm = performance.now() + 500;
  let n = 0;
  while (performance.now() < warm) {
    call();
    n++;
  }
  const batch = Math.max(1, Math.round(n * 0.4));
  const per: number[] = [];
  for (let b = 0; b < 7; b++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) call();
    per.push(((performance.now() - t0) * 1e6) / batch);
  }
  return Math.round(median(per));
}

const dir = mkdtempSync(join(tmpdir(), "nh-bench-plugins-"));
try {
  const goBuild = (name: string, pkg: string) =>
    built(dir, name, "go", (out) => ["build", "-buildmode=c-shared", "-o", out, pkg], { GOOS: "wasip1", GOARCH: "wasm" });
  const asBuild = (name: string, source: string) =>
    built(dir, name, join(root, "node_modules", ".bin", "asc"), (out) => [
      source,
      "--optimize",
      "--use",
      `abort=${source.replace(/\.ts$/, "")}/abort`,
      "--outFile",
      out,
    ]);
  const plugins: [string, Uint8Array, PluginGrants, string][] = [
    ["Go", goBuild("go.wasm", "./examples/plugins/go"), { wasi: true }, "check_email"],
    ["AssemblyScript", asBuild("as.wasm", "examples/plugins/assemblyscript/email.ts"), {}, "check_email"],
    ["Echo", goBuild("echo.wasm", "./bindings/go/plugin/testdata/hostile"), { wasi: true }, "echo"],
  ];
  const ns: Record<string, number> = {};
  for (const [name, wasm, grants, fn] of plugins) {
    const direct = AbiPlugin.load(name, wasm, {}, grants);
    ns[`Call${name}`] = timed(() => direct.call(fn, ROW));
    const worker = new TimedPlugin(name, wasm, {}, grants);
    ns[`Call${name}Worker`] = timed(() => worker.call(fn, ROW));
    worker.close();
  }
  console.log(JSON.stringify({ runtime, ns }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
