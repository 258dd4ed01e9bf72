// The library API (CONTRACT.md, "Library API") on Bun, where SQLite is
// bun:sqlite. Chosen by the "bun" condition of package.json's exports.

import { createNakedhtmx, type Nakedhtmx, type NakedhtmxOptions } from "./library.ts";
import { openDatabase } from "./sqlite_bun.ts";

export { NakedhtmxError, type NakedhtmxErrorCode } from "./errors.ts";
export type { Nakedhtmx, NakedhtmxOptions } from "./library.ts";
export type { FetchHandler, NodeHandler, NodeNext, NodeRequest } from "./handler.ts";
export type { WasmSource } from "./core.ts";

/** Opens a database and returns its app: `fetch` for fetch servers, `node` for node:http and Express. */
export function nakedhtmx(options: NakedhtmxOptions): Promise<Nakedhtmx> {
  return createNakedhtmx({ host: "bun", openDatabase }, options);
}
