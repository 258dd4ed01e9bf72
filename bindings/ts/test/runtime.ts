// The SQLite adapter of the runtime running the tests. Production code picks
// it by export condition or entry point; a runner-neutral test has to ask.

import type { Serve } from "../src/cli.ts";
import type { OpenDatabase } from "../src/sqlite.ts";
import { runtimeName } from "./harness.ts";

export async function openDatabaseForRuntime(): Promise<OpenDatabase> {
  if (runtimeName === "bun") return (await import("../src/sqlite_bun.ts")).openDatabase;
  return (await import("../src/sqlite_node.ts")).openDatabase;
}

/** The CLI's HTTP server of the runtime running the tests: serve_bun.ts on Bun, serve_node.ts on Node and Deno (cli_deno.ts). */
export async function serveForRuntime(): Promise<Serve> {
  // A computed specifier: tsc and each runtime load only the module for this one.
  const mod = (await import(`../src/serve_${runtimeName === "bun" ? "bun" : "node"}.ts`)) as { serve: Serve };
  return mod.serve;
}
