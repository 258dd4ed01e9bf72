// The SQLite adapter of the runtime running the tests. Production code picks
// it by export condition or entry point; a runner-neutral test has to ask.

import type { OpenDatabase } from "../src/sqlite.ts";
import { runtimeName } from "./harness.ts";

export async function openDatabaseForRuntime(): Promise<OpenDatabase> {
  if (runtimeName === "bun") return (await import("../src/sqlite_bun.ts")).openDatabase;
  return (await import("../src/sqlite_node.ts")).openDatabase;
}
