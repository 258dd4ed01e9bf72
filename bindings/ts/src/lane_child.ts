// The read lane's process (lane.ts): runs statements on a connection of its own
// (reads the core cannot bound, and writes whose triggers it cannot bound)
// and answers them, one at a time, until its stdin ends or it is killed.
// Arguments: the URL of the module whose openDatabase opens the file (the
// server's own adapter, so values come back exactly as the server's
// connection gives them), and the file. Each read and each answer is framed
// as a u32 length (little-endian) and a v8-serialized SQLRequest or SQLResult.

import process from "node:process";
import { deserialize, serialize } from "node:v8";
import type { SQLRequest, SQLResult } from "./protocol.ts";
import type { Database, Reader } from "./sqlite.ts";

const [adapter, path] = process.argv.slice(-2) as [string, string];
const { openDatabase, openReader } = await import(adapter) as {
  openDatabase(path: string): Database;
  openReader(path: string): Reader;
};
const db = openDatabase(path);
// A caller's reads (PROTOCOL.md, "Caller reads") run on a read-only
// connection of their own, opened at the first.
let reader: Reader | undefined;
// As the core sets its own connection up (store/sqlite Prepare): a write
// that comes here cascades as it would there.
db.run({ sql: "PRAGMA foreign_keys = ON", params: [], script: false });

let buf = new Uint8Array(0);
process.stdin.on("data", (d: Uint8Array) => {
  const next = new Uint8Array(buf.length + d.length);
  next.set(buf);
  next.set(d, buf.length);
  buf = next;
  for (;;) {
    if (buf.length < 4) return;
    const n = new DataView(buf.buffer, buf.byteOffset).getUint32(0, true);
    if (buf.length < 4 + n) return;
    const req = deserialize(buf.subarray(4, 4 + n)) as Pick<SQLRequest, "sql" | "params" | "script" | "read">;
    buf = buf.subarray(4 + n);
    let result: SQLResult;
    if (req.read) {
      try {
        reader ??= openReader(path);
        result = reader.read(req);
      } catch (e) {
        result = { error: String((e as Error)?.message ?? e), code: "SQLITE_CANTOPEN" };
      }
    } else {
      result = db.run({ sql: req.sql, params: req.params, script: req.script });
    }
    const answer = serialize(result);
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, answer.length, true);
    process.stdout.write(head);
    process.stdout.write(answer);
  }
});
process.stdin.on("end", () => {
  reader?.close();
  db.close();
  process.exit(0);
});
