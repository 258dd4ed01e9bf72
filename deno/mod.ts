// The JSR package's entry (jsr:@nakedhtmx/serve). Imported, it is the library
// (CONTRACT.md, "Library API"); run (`deno run -A jsr:@nakedhtmx/serve`, which
// runs a package's default export), it is the server CLI.
//
// @module

import process from "node:process";
import { main } from "../bindings/ts/src/cli_deno.ts";

export * from "../bindings/ts/src/mod_deno.ts";

if (import.meta.main) process.exit(await main(Deno.args));
