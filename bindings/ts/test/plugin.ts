// The TypeScript plugin host (src/plugin_abi.ts) answers testdata/plugins/
// cases.json as bindings/go/plugin does: the same plugins, built from their
// Go packages (Go's wasip1 port, as bindings/go/plugin's tests build them),
// the same calls in the same order, the same outputs and the same words.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { AbiPlugin, boundMemory, PluginError } from "../src/plugin_abi.ts";
import { durationWords, TimedPlugin } from "../src/plugin.ts";
import { check, eq, run, Skip, test } from "./harness.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

interface Cases {
  plugins: Record<string, {
    package?: string;
    source?: string;
    limits: { memoryPages?: number; blockBytes?: number; varBytes?: number; timeoutMs?: number };
    grants: { wasi?: boolean; config?: Record<string, string> };
  }>;
  cases: { plugin: string; function: string; input: string; output?: string; kind?: string; words?: string }[];
}
const cases = JSON.parse(readFileSync(join(root, "testdata/plugins/cases.json"), "utf8")) as Cases;

const dir = mkdtempSync(join(tmpdir(), "nh-plugins-"));
const built = new Map<string, Uint8Array>();
function build(pkg: string): Uint8Array {
  let b = built.get(pkg);
  if (b) return b;
  const out = join(dir, `${built.size}.wasm`);
  const r = spawnSync("go", ["build", "-buildmode=c-shared", "-o", out, "./" + pkg], {
    cwd: root,
    env: { ...process.env, GOOS: "wasip1", GOARCH: "wasm" },
    encoding: "utf8",
  });
  if (r.error) throw new Skip(`no Go to build the plugins with: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`building ${pkg}: ${r.stderr}`);
  b = new Uint8Array(readFileSync(out));
  built.set(pkg, b);
  return b;
}

/** An AssemblyScript plugin, built with the asc of the npm devDependencies. */
function buildAS(source: string): Uint8Array {
  let b = built.get(source);
  if (b) return b;
  const out = join(dir, `${built.size}.wasm`);
  const asc = join(root, "node_modules", ".bin", "asc");
  const abort = `abort=${source.replace(/\.ts$/, "")}/abort`;
  const r = spawnSync(asc, [source, "--outFile", out, "--optimize", "--use", abort], { cwd: root, encoding: "utf8" });
  if (r.error) throw new Skip(`no asc to build ${source} with (npm install first): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`building ${source}: ${r.stderr}`);
  b = new Uint8Array(readFileSync(out));
  built.set(source, b);
  return b;
}

const bytesOf = (d: Cases["plugins"][string]) => d.source ? buildAS(d.source) : build(d.package!);

test("the shared plugin cases answer as on the Go hosts", () => {
  const loaded = new Map<string, TimedPlugin>();
  for (const c of cases.cases) {
    let p = loaded.get(c.plugin);
    if (!p) {
      const d = cases.plugins[c.plugin]!;
      p = new TimedPlugin(c.plugin, bytesOf(d), { timeoutMs: 30_000, ...d.limits }, d.grants);
      loaded.set(c.plugin, p);
    }
    const what = `${c.plugin} ${c.function}(${JSON.stringify(c.input)})`;
    try {
      const out = fromUtf8.decode(p.call(c.function, utf8.encode(c.input)));
      check(
        c.kind === undefined,
        `${what}: answered ${JSON.stringify(out)}, want ${c.kind} ${JSON.stringify(c.words)}`,
      );
      eq(out, c.output, what);
    } catch (e) {
      if (!(e instanceof PluginError)) throw e;
      check(
        e.kind === c.kind && e.words === c.words && e.plugin === c.plugin && e.function === c.function,
        `${what}: ${e.kind} ${JSON.stringify(e.words)}, want ${c.kind ?? "an answer"} ${
          JSON.stringify(c.words ?? c.output)
        }`,
      );
    }
  }
  for (const p of loaded.values()) p.close();
});

test("durations in Go's words", () => {
  eq(
    [300, 1000, 1500, 30_000, 60_000, 90_500].map(durationWords),
    ["300ms", "1s", "1.5s", "30s", "1m0s", "1m30.5s"],
    "words",
  );
});

test("a plugin's logs reach the host, from its worker too", () => {
  const w = new TimedPlugin("hostile", build(cases.plugins["hostile"]!.package!), {}, { wasi: true });
  const seen: string[] = [];
  w.log = (level, msg) => seen.push(`${level}: ${msg}`);
  w.call("logs", new Uint8Array(0));
  w.close();
  eq(seen, ["info: hello from the plugin"], "logged through the worker");
});

test("a plugin's logs reach the host", () => {
  const d = cases.plugins["hostile"]!;
  const p = AbiPlugin.load("hostile", build(d.package!), d.limits, d.grants);
  const got: string[] = [];
  p.log = (level, msg) => got.push(`${level}: ${msg}`);
  p.call("logs", new Uint8Array(0));
  eq(got, ["info: hello from the plugin"], "logged");
});

test("a plugin importing WASI needs the grant; a foreign import is refused", () => {
  const d = cases.plugins["hostile"]!;
  let err: unknown;
  try {
    AbiPlugin.load("hostile", build(d.package!), d.limits, {});
  } catch (e) {
    err = e;
  }
  check(err instanceof Error && err.message.startsWith("plugin hostile: imports WASI"), `WASI not granted: ${err}`);
  // The module of bindings/go/plugin's TestImportsChecked: env.f, a () -> () function.
  const mod = new Uint8Array([
    0,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    1,
    4,
    1,
    0x60,
    0,
    0,
    2,
    9,
    1,
    3,
    0x65,
    0x6e,
    0x76,
    1,
    0x66,
    0,
    0,
  ]);
  err = undefined;
  try {
    AbiPlugin.load("odd", mod, {}, { wasi: true });
  } catch (e) {
    err = e;
  }
  check(
    err instanceof Error && err.message === "plugin odd: imports what this host does not give plugins: env.f",
    `a foreign import: ${err}`,
  );
});

test("a memory's maximum is set to the limit; one that starts above it is refused", () => {
  // (memory 2) and (memory 1 100): a memory section alone.
  const noMax = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 0, 2]);
  eq([...boundMemory(noMax, 10).subarray(8)], [5, 4, 1, 1, 2, 10], "a max added");
  const withMax = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 4, 1, 1, 1, 100]);
  eq([...boundMemory(withMax, 10).subarray(8)], [5, 4, 1, 1, 1, 10], "a larger max lowered");
  eq([...boundMemory(withMax, 1000).subarray(8)], [5, 4, 1, 1, 1, 100], "a smaller max kept");
  let err: unknown;
  try {
    boundMemory(noMax, 1);
  } catch (e) {
    err = e;
  }
  check(err instanceof Error && err.message.includes("starts at 2 pages, above the limit of 1"), `${err}`);
});

const code = await run("plugin", () => rmSync(dir, { recursive: true, force: true }));
process.exit(code);
