// The CLI on Bun: bun:sqlite and Bun.serve. npm/bin/nakedhtmx.js loads it
// (package.json "exports" → "./cli", "bun" condition).

import { runCli } from "./cli.ts";
import { openDatabase } from "./sqlite_bun.ts";
import { serve } from "./serve_bun.ts";

/** Runs the CLI with these arguments; resolves with the exit code. */
export function main(argv: readonly string[]): Promise<number> {
  return runCli({ host: "bun", openDatabase, serve }, argv);
}
