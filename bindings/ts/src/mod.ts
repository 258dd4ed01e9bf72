// The library API (CONTRACT.md, "Library API") on Node (and Deno through npm),
// where SQLite is node:sqlite. Bun gets mod_bun.ts through the "bun" export
// condition; Deno's own entry (deno/mod.ts) is mod_deno.ts.

import { versions } from "node:process";
import { createNakedhtmx, type Nakedhtmx, type NakedhtmxOptions } from "./library.ts";
import { openDatabase } from "./sqlite_node.ts";

export { NakedhtmxError, type NakedhtmxErrorCode } from "./errors.ts";
export type { Nakedhtmx, NakedhtmxOptions } from "./library.ts";
export type { FetchHandler, NodeHandler, NodeNext, NodeRequest } from "./handler.ts";
export type { WasmSource } from "./core.ts";

/** Opens a database and returns its app: `fetch` for fetch servers, `node` for node:http and Express. */
export function nakedhtmx(options: NakedhtmxOptions): Promise<Nakedhtmx> {
  return createNakedhtmx({ host: "deno" in versions ? "deno" : "node", openDatabase }, options);
}
