// Local copies (issue 19; PROTOCOL.md, "Replicas"), on this runtime: a
// server core on the runtime's own SQLite, and a copy made from it by
// openReplica (replica.ts) on SQLite compiled to WebAssembly, the store a
// browser runs the copy on. Every database of the golden corpus (and
// Chinook, when ../shared has it): the copy answers every read the server
// answers, byte for byte (the Go twin is core/engine's replica_test.go).
//
//   deno run -A bindings/ts/test/replica.ts
//   bun bindings/ts/test/replica.ts
//   node bindings/ts/test/replica.ts

import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Core } from "../src/core.ts";
import type { RequestHead } from "../src/protocol.ts";
import { openReplica } from "../src/replica.ts";
import type { Database } from "../src/sqlite.ts";
import { openWasmDatabase, type SQLiteWasm } from "../src/sqlite_wasm.ts";
import { readCase } from "./golden.ts";
import { check, run, runtimeName, Skip, test } from "./harness.ts";
import { openDatabaseForRuntime } from "./runtime.ts";

const root = fileURLToPath(new URL("../../../testdata/corpus/", import.meta.url));
const chinook = fileURLToPath(new URL("../../../../shared/testdata/chinook.sqlite", import.meta.url));
const openDatabase = await openDatabaseForRuntime();
const wasm = process.env["NAKEDHTMX_WASM"] || undefined;
const sqlite3 = await (await import("@sqlite.org/sqlite-wasm")).default() as unknown as SQLiteWasm;
const utf8 = new TextDecoder();

function get(core: Core, pathAndQuery: string, accept = "application/json"): { status: number; body: Uint8Array } {
  const [path, query = ""] = pathAndQuery.split("?", 2) as [string, string?];
  const head: RequestHead = { method: "GET", path, query, headers: { host: "localhost", accept } };
  const res = core.handle(head, new Uint8Array(0));
  check(!res.head.continue, `GET ${pathAndQuery} continues: the test reads one part`);
  return { status: res.head.status ?? 0, body: res.body };
}

/** The server on `db`, a copy of it on sqlite-wasm, and the reads both must answer alike. */
async function sameAnswers(db: Database, config: unknown, extra: string[] = []): Promise<void> {
  const server = await Core.load({ db, host: runtimeName, wasm, log: () => {} });
  server.open({ basePath: "", config, host: runtimeName, authToken: "" });
  const local = openWasmDatabase(sqlite3);
  try {
    const copy = await openReplica({
      db: local,
      host: runtimeName,
      wasm,
      log: () => {},
      pageSize: 2,
      get: (pq) => Promise.resolve(get(server, pq)),
    });
    const payload = JSON.parse(utf8.decode(get(server, "/api/replica").body)) as {
      model: { tables: { name: string; view?: boolean; columns: { name: string }[] }[] };
    };
    const paths = ["/", "/api/schema", ...extra];
    for (const t of payload.model.tables) {
      const n = encodeURIComponent(t.name);
      paths.push(`/t/${n}`, `/api/tables/${n}/rows`, `/api/tables/${n}/rows?limit=3`, `/api/schema/${n}`);
      if (!t.view) paths.push(`/t/${n}/new`);
      for (const c of t.columns) paths.push(`/t/${n}?sort=${encodeURIComponent(c.name)}&desc=1`);
    }
    const serverDSID = (JSON.parse(utf8.decode(get(server, "/api/replica").body)) as { dsid: string }).dsid;
    check(copy.dsid === serverDSID && serverDSID !== "", `the copy's DSID ${copy.dsid}, the server's ${serverDSID}`);
    for (const p of paths) {
      for (const accept of ["text/html", "application/json"]) {
        const a = get(server, p, accept);
        const b = get(copy.core, p, accept);
        check(
          a.status === b.status && utf8.decode(a.body) === utf8.decode(b.body),
          `GET ${p} (${accept}): the copy answers otherwise:\nserver ${a.status} ${
            utf8.decode(a.body).slice(0, 600)
          }\ncopy   ${b.status} ${utf8.decode(b.body).slice(0, 600)}`,
        );
      }
    }
  } finally {
    local.close();
  }
}

const cases = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, d.name, "requests.json")))
  .map((d) => d.name)
  .sort();

for (const name of cases) {
  test(name, async () => {
    const c = readCase(join(root, name));
    if (c.basePath !== "") throw new Skip("a base path");
    const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-replica-"));
    const db = openDatabase(join(tmp, "server.db"));
    try {
      if (c.schema !== "") {
        const r = db.run({ sql: c.schema, params: [], script: true });
        if ("error" in r) throw new Error(`schema.sql: ${r.error}`);
      }
      await sameAnswers(db, c.config);
    } finally {
      db.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test("chinook", async () => {
  if (!existsSync(chinook)) throw new Skip("../shared/testdata/chinook.sqlite is absent");
  const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-replica-"));
  copyFileSync(chinook, join(tmp, "chinook.db"));
  const db = openDatabase(join(tmp, "chinook.db"));
  try {
    await sameAnswers(db, null, ["/t/Track?q=love", "/t/Track?f.GenreId=2", "/t/Track/r/1000", "/t/Album/r/1"]);
  } finally {
    db.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("a server that refuses", async () => {
  const local = openWasmDatabase(sqlite3);
  try {
    let err: unknown;
    try {
      await openReplica({
        db: local,
        host: runtimeName,
        wasm,
        log: () => {},
        get: () => Promise.resolve({ status: 401, body: new TextEncoder().encode(`{"error":"sign in first"}`) }),
      });
    } catch (e) {
      err = e;
    }
    check(err instanceof Error && err.message.includes("401") && err.message.includes("sign in first"), `${err}`);
  } finally {
    local.close();
  }
});

process.exit(await run("replica"));
