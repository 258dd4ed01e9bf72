// Runs the server on Deno: `deno run -A deno/serve.ts [flags]` (flags: CONTRACT.md).
// Also reachable as jsr:@nakedhtmx/serve/serve.

import process from "node:process";
import { main } from "../bindings/ts/src/cli_deno.ts";

if (import.meta.main) process.exit(await main(Deno.args));
