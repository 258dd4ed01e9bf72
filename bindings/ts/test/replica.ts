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
import {
  catchUpReplica,
  openReplica,
  reopenReplica,
  replicaState,
  sendCommand,
  type ServerPost,
} from "../src/replica.ts";
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

/** What p was rejected with (undefined: it was not). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return undefined;
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

// A server core on the runtime's SQLite, over tables a and b and a view of
// a; run gives it, a reader of it as a copy asks, and a writer through its
// API, and closes everything after.
async function withServer(
  run: (
    s: {
      db: Database;
      server: Core;
      serverGet: (pq: string) => Promise<{ status: number; body: Uint8Array }>;
      write: (method: string, path: string, body: string) => void;
    },
  ) => Promise<void>,
): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-replica-"));
  const db = openDatabase(join(tmp, "server.db"));
  try {
    db.run({
      sql: `CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT, n REAL);
        INSERT INTO a VALUES (1, 'one', 1.0), (2, 'two', 2.5);
        CREATE TABLE b (name TEXT, qty INTEGER); INSERT INTO b VALUES ('x', 1);
        CREATE VIEW big AS SELECT name, n FROM a WHERE n > 1`,
      params: [],
      script: true,
    });
    const server = await Core.load({ db, host: runtimeName, wasm, log: () => {} });
    server.open({ basePath: "", config: null, host: runtimeName, authToken: "" });
    const write = (method: string, path: string, body: string) => {
      const res = server.handle(
        { method, path, query: "", headers: { host: "localhost", "content-type": "application/json" } },
        new TextEncoder().encode(body),
      );
      check((res.head.status ?? 0) < 300, `${method} ${path}: ${res.head.status} ${utf8.decode(res.body)}`);
    };
    await run({ db, server, serverGet: (pq) => Promise.resolve(get(server, pq)), write });
  } finally {
    db.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

// Writes on the server, through it and by another connection: the copy
// catches up and answers as the server again; a moved schema says "copy again".
test("catching up", () =>
  withServer(async ({ db, server, serverGet, write }) => {
    const local = openWasmDatabase(sqlite3);
    try {
      const copy = await openReplica({ db: local, host: runtimeName, wasm, log: () => {}, get: serverGet });
      write("POST", "/api/tables/a/rows", `{"id": 3, "name": "three", "n": 3.0}`);
      write("PATCH", "/api/tables/a/rows/1", `{"id": 100}`);
      write("DELETE", "/api/tables/b/rows/1", "");
      const other = db.run({ sql: "UPDATE a SET name = 'TWO' WHERE id = 2", params: [], script: true });
      check(!("error" in other), JSON.stringify(other));
      const before = copy.seq;
      await catchUpReplica(copy, serverGet);
      check(copy.seq > before, `seq ${before} -> ${copy.seq}`);
      for (const p of ["/t/a", "/api/tables/a/rows", "/t/b", "/t/big", "/api/tables/big/rows", "/t/a/r/100"]) {
        for (const accept of ["text/html", "application/json"]) {
          const a = utf8.decode(get(server, p, accept).body);
          const b = utf8.decode(get(copy.core, p, accept).body);
          check(
            a === b,
            `GET ${p} (${accept}) after catching up:\nserver ${a.slice(0, 400)}\ncopy   ${b.slice(0, 400)}`,
          );
        }
      }
      db.run({ sql: "ALTER TABLE a ADD COLUMN note TEXT", params: [], script: true });
      write("POST", "/api/tables/a/rows", `{"id": 4, "name": "four"}`);
      const err = await rejection(catchUpReplica(copy, serverGet));
      check(err instanceof Error && err.message.startsWith("409"), `after ALTER TABLE: ${err}`);
    } finally {
      local.close();
    }
  }));

// A copy kept as bytes and opened again (a browser restarting): it answers
// as it did before, then catches up with what the server did meanwhile.
test("a copy kept across a restart", () =>
  withServer(async ({ server, serverGet, write }) => {
    const first = openWasmDatabase(sqlite3);
    const copy = await openReplica({ db: first, host: runtimeName, wasm, log: () => {}, get: serverGet });
    const paths = ["/", "/t/a", "/t/a/r/2", "/t/big", "/api/tables/a/rows"];
    const before = paths.map((p) => utf8.decode(get(copy.core, p, "text/html").body));
    const bytes = first.snapshot();
    const state = JSON.parse(JSON.stringify(replicaState(copy))) as ReturnType<typeof replicaState>;
    first.close();
    write("PATCH", "/api/tables/a/rows/2", `{"name": "TWO", "n": 9.5}`); // the server moves on meanwhile
    const again = openWasmDatabase(sqlite3, bytes);
    try {
      const reopened = await reopenReplica({ db: again, host: runtimeName, wasm, log: () => {}, state });
      for (const [i, p] of paths.entries()) {
        const now = utf8.decode(get(reopened.core, p, "text/html").body);
        check(
          now === before[i],
          `GET ${p} after reopening:\nbefore ${before[i]!.slice(0, 300)}\nafter  ${now.slice(0, 300)}`,
        );
      }
      await catchUpReplica(reopened, serverGet);
      for (const p of paths) {
        const a = utf8.decode(get(server, p, "text/html").body);
        const b = utf8.decode(get(reopened.core, p, "text/html").body);
        check(a === b, `GET ${p} after catching up:\nserver ${a.slice(0, 300)}\ncopy   ${b.slice(0, 300)}`);
      }
    } finally {
      again.close();
    }
  }));

// Writes made on a copy opened for commands (as the offline service worker
// opens it): the copy's core checks each and answers with its command,
// applied to the copy at once; sent to the server (sendCommand), each is
// made there once, however often it is sent.
test("writes made on a copy reach the server once", () =>
  withServer(async ({ server, serverGet }) => {
    const local = openWasmDatabase(sqlite3);
    try {
      const copy = await openReplica({
        db: local,
        host: runtimeName,
        wasm,
        log: () => {},
        get: serverGet,
        commands: true,
      });
      const head = {
        method: "POST",
        path: "/api/tables/a/rows",
        query: "",
        headers: { host: "localhost", "content-type": "application/json", origin: "http://localhost" },
      };
      const body = new TextEncoder().encode(`{"name": "made on the copy", "n": 7.5}`);
      const first = copy.core.handle(head, body);
      const cmd = first.head.command;
      check(cmd !== undefined, `the copy's answer has no command: ${first.head.status} ${utf8.decode(first.body)}`);
      const applied = copy.core.apply(cmd!, copy.core.outbox().applied + 1);
      check(applied.status === 201, `applied on the copy: ${JSON.stringify(applied)}`);
      const again = copy.core.handle({ ...head, command: cmd!.id }, body);
      check(again.head.status === 201, `asked again: ${again.head.status} ${utf8.decode(again.body)}`);
      check(
        utf8.decode(get(copy.core, "/api/tables/a/rows").body).includes("made on the copy"),
        "the copy shows its write",
      );
      const post: ServerPost = (path, b) => {
        const res = server.handle(
          {
            method: "POST",
            path,
            query: "",
            headers: { host: "localhost", "content-type": "application/json", origin: "http://localhost" },
          },
          b,
        );
        return Promise.resolve({ status: res.head.status ?? 0, body: res.body });
      };
      const sent = await sendCommand(post, cmd!);
      check(sent.status === 201 && sent.replayed !== true, `sent: ${JSON.stringify(sent)}`);
      const twice = await sendCommand(post, cmd!);
      check(twice.status === 201 && twice.replayed === true, `sent again: ${JSON.stringify(twice)}`);
      const rows = utf8.decode(get(server, "/api/tables/a/rows").body);
      check(rows.split("made on the copy").length === 2, `the server's rows: ${rows}`);
    } finally {
      local.close();
    }
  }));

test("a copy past its most rows is not made", () =>
  withServer(async ({ serverGet }) => {
    const local = openWasmDatabase(sqlite3);
    try {
      const err = await rejection(
        openReplica({ db: local, host: runtimeName, wasm, log: () => {}, get: serverGet, maxRows: 2 }),
      );
      check(err instanceof Error && err.message.startsWith("413"), `a copy of 3 rows with room for 2: ${err}`);
    } finally {
      local.close();
    }
  }));

test("a server that refuses", async () => {
  const local = openWasmDatabase(sqlite3);
  try {
    const err = await rejection(openReplica({
      db: local,
      host: runtimeName,
      wasm,
      log: () => {},
      get: () => Promise.resolve({ status: 401, body: new TextEncoder().encode(`{"error":"sign in first"}`) }),
    }));
    check(err instanceof Error && err.message.includes("401") && err.message.includes("sign in first"), `${err}`);
  } finally {
    local.close();
  }
});

process.exit(await run("replica"));
