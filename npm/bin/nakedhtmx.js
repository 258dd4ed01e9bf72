#!/usr/bin/env node
// The `nakedhtmx` command on Node and Bun (`npx nakedhtmx`, `bunx nakedhtmx`).
// It goes through the package's own exports map: the "bun" condition picks
// dist/cli_bun.js (bun:sqlite, Bun.serve), any other runtime dist/cli_node.js
// (node:sqlite, node:http). Build dist/ first: `make build`.

import process from "node:process";

// node:sqlite still announces itself as experimental on every start; that line
// is noise on a server's stderr, whose errors are meant to be one line.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === "string" ? rest[0] : rest[0]?.type;
  if (type === "ExperimentalWarning" && String(warning?.message ?? warning).includes("SQLite")) return;
  return emitWarning.call(process, warning, ...rest);
};

let cli;
try {
  cli = await import("nakedhtmx/cli");
} catch (e) {
  // In a checkout without a build, dist/ is missing: say so on one line.
  const msg = String(e?.message ?? e).split("\n")[0];
  process.stderr.write(`nakedhtmx: cannot load the CLI (${msg}); in a checkout, run "make build"\n`);
  process.exit(1);
}
process.exit(await cli.main(process.argv.slice(2)));
