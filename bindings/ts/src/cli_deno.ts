// The CLI on Deno: node:sqlite and Deno.serve. deno/serve.ts and deno/mod.ts run it.

import { runCli } from "./cli.ts";
import { openDatabase } from "./sqlite_node.ts";
import { serve } from "./serve_deno.ts";
import wasm from "./wasm_deno.js";

/** Runs the CLI with these arguments; resolves with the exit code. */
export function main(argv: readonly string[]): Promise<number> {
  return runCli({ host: "deno", openDatabase, serve, wasm }, argv);
}
