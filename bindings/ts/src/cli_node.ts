// The CLI on Node: node:sqlite and node:http. npm/bin/nakedhtmx.js loads it
// (package.json "exports" → "./cli", default condition).

import { runCli } from "./cli.ts";
import { openDatabase } from "./sqlite_node.ts";
import { serve } from "./serve_node.ts";

/** Runs the CLI with these arguments; resolves with the exit code. */
export function main(argv: readonly string[]): Promise<number> {
  return runCli({ host: "node", openDatabase, serve }, argv);
}
