// The CLI on Deno: node:sqlite and node:http. deno/serve.ts and deno/mod.ts run it.
//
// node:http, not Deno.serve: the same server measured 75 % more one-row
// reads and 23 % more creates a second through node:http on Deno 2.9
// (wrk, 16 connections; bench/README.md). Most of the difference is
// Deno's Headers: building the six headers of an answer cost about 30 us a
// request, and node:http writes them as they are. The library's fetch
// handler stays for apps that mount nakedhtmx in Deno.serve themselves.

import { runCli } from "./cli.ts";
import { openDatabase } from "./sqlite_node.ts";
import { serve } from "./serve_node.ts";
import wasm from "./wasm_deno.js";

/** Runs the CLI with these arguments; resolves with the exit code. */
export function main(argv: readonly string[]): Promise<number> {
  return runCli({ host: "deno", openDatabase, serve, wasm }, argv);
}
