// The library API (CONTRACT.md, "Library API") on Deno: node:sqlite, and
// core.wasm from Deno's module graph (wasm_deno.js), so a JSR install caches it.
// deno/mod.ts re-exports this module.

import { createNakedhtmx, type Nakedhtmx, type NakedhtmxOptions } from "./library.ts";
import { openDatabase } from "./sqlite_node.ts";
import wasm from "./wasm_deno.js";

export { NakedhtmxError, type NakedhtmxErrorCode } from "./errors.ts";
export type { Nakedhtmx, NakedhtmxOptions } from "./library.ts";
export type { FetchHandler, NodeHandler, NodeNext, NodeRequest } from "./handler.ts";
export type { WasmSource } from "./core.ts";

/** Opens a database and returns its app: `fetch` for fetch servers, `node` for node:http and Express. */
export function nakedhtmx(options: NakedhtmxOptions): Promise<Nakedhtmx> {
  return createNakedhtmx({ host: "deno", openDatabase }, { ...options, wasm: options.wasm ?? wasm });
}
