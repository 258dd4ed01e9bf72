// Runs the server on Deno: `deno run -A deno/serve.ts [flags]` (flags: CONTRACT.md).
// Published as jsr:@nakedhtmx/serve/cli, the counterpart of npm's nakedhtmx/cli:
// imported, it gives `main`; run, it is the server.
//
// @module

import process from "node:process";
import { main } from "../bindings/ts/src/cli_deno.ts";

export { main };

if (import.meta.main) process.exit(await main(Deno.args));
