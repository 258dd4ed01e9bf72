// The host side of bindings/PROTOCOL.md on this runtime: frames, SQL value
// encoding (blobs, big integers, REAL vs INTEGER binding), error codes, the
// body cap, continuation streaming, traps, and the library API.
//
//   deno run -A bindings/ts/test/host.ts | bun bindings/ts/test/host.ts | node bindings/ts/test/host.ts

import { Buffer } from "node:buffer";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Core, type CoreHandler, type CoreResponse } from "../src/core.ts";
import { NakedhtmxError } from "../src/errors.ts";
import { defaultFilesDir, FileDir } from "../src/files.ts";
import { createFetchHandler, createNodeHandler, type NodeRequest, splitTarget, stripBasePath } from "../src/handler.ts";
import { createNakedhtmx } from "../src/library.ts";
import { GroupCommit } from "../src/group.ts";
import { openWasmDatabase, type SQLiteWasm } from "../src/sqlite_wasm.ts";
import {
  AnswerWriter,
  BINARY_MESSAGE,
  decodeFrame,
  decodeSQLRequest,
  decodeSQLRequestBytes,
  decodeSQLRequestsBytes,
  encodeFrame,
  encodeResults,
  encodeSQLResult,
  encodeSQLValue,
  type RequestHead,
  type ResponseHead,
  type SQLRows,
  type SQLValue,
} from "../src/protocol.ts";
import type { Database } from "../src/sqlite.ts";
import { check, eq, run, runtimeName, test, throws } from "./harness.ts";
import { openDatabaseForRuntime } from "./runtime.ts";
import { trapModuleBytes } from "./trapwasm.ts";
import { subject } from "../src/natsbus.ts";

const openDatabase = await openDatabaseForRuntime();
const wasm = process.env["NAKEDHTMX_WASM"] || undefined;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-host-"));
let dbCount = 0;
const freshPath = () => join(tmp, `t${dbCount++}.db`);

function rows(r: ReturnType<Database["run"]>): SQLRows {
  if ("error" in r) throw new Error(`SQL failed: ${r.error} (${r.code})`);
  return r;
}

function sql(db: Database, text: string, ...params: SQLValue[]): SQLRows {
  return rows(db.run({ sql: text, params, script: false }));
}

// ---------------------------------------------------------------------------
// Frames

test("files directory: only the core's keys, whole files, no planted link followed", () => {
  const base = mkdtempSync(join(tmpdir(), "nh-files-"));
  try {
    const d = new FileDir(join(base, "db-files"));
    const key = "0123456789abcdef0123456789abcdef-5.txt";
    const answer = (op: "put" | "get" | "delete", k: string, data?: Uint8Array) =>
      d.run(data ? { op, key: k, data } : { op, key: k });
    eq(
      JSON.stringify(answer("get", key)),
      JSON.stringify({ error: "no such file", code: "NOT_FOUND" }),
      "a missing file",
    );
    check(!("error" in answer("put", key, new TextEncoder().encode("hello"))), "a put");
    const got = answer("get", key);
    check("rows" in got && new TextDecoder().decode(got.rows[0]?.[0] as Uint8Array) === "hello", "the bytes back");
    for (
      const bad of [
        "../secret",
        "/etc/passwd",
        `${key}/../../x`,
        key.toUpperCase(),
        key.replace("-5", "-05"),
        key.replace(".txt", ".html"),
        "",
      ]
    ) {
      const r = answer("put", bad, new Uint8Array([1]));
      check("error" in r && r.code === "SQLITE_MISUSE", `put ${bad}`);
    }
    const outside = join(base, "outside");
    writeFileSync(outside, "secret");
    const planted = "fedcba9876543210fedcba9876543210-6.txt";
    symlinkSync(outside, join(base, "db-files", planted));
    const r = answer("get", planted);
    check("error" in r, "a planted link was followed");
    check(!("error" in answer("delete", key)), "a delete");
    check(!("error" in answer("delete", key)), "deleting a file already gone");
    eq(
      JSON.stringify(answer("get", key)),
      JSON.stringify({ error: "no such file", code: "NOT_FOUND" }),
      "a missing file",
    );
    eq(defaultFilesDir("app.db", null, undefined), "app.db-files", "beside the file");
    eq(defaultFilesDir("/d/app.db", { files: { dir: "up" } }, "/etc/nh/nakedhtmx.json"), "/etc/nh/up", "files.dir");
    eq(defaultFilesDir("postgres://h/db", null, undefined), undefined, "Postgres");
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("frame round trip keeps the body's raw bytes", () => {
  const body = new Uint8Array([0, 255, 0xc3, 0x28, 10, 13]); // not UTF-8, on purpose
  const head: RequestHead = {
    method: "POST",
    path: "/t/%C3%A9",
    query: "a=1&b=%20",
    headers: { "content-type": "x/y" },
  };
  const frame = encodeFrame(head, body);
  const n = new DataView(frame.buffer).getUint32(0, true);
  eq(utf8Decoder.decode(frame.subarray(4, 4 + n)), JSON.stringify(head), "head bytes");
  const back = decodeFrame<RequestHead>(frame);
  eq(back.head, head, "head");
  eq([...back.body], [...body], "body");
});

test("frame with an empty body and one with a lying length", async () => {
  const f = decodeFrame<ResponseHead>(encodeFrame({ status: 204 }, new Uint8Array(0)));
  eq(f.head.status, 204, "status");
  eq(f.body.length, 0, "body length");
  await throws(() => decodeFrame(new Uint8Array([1, 2])), (e) => /shorter/.test(String(e)), "short frame");
  await throws(() => decodeFrame(new Uint8Array([200, 0, 0, 0, 123])), (e) => /exceeds/.test(String(e)), "long head");
});

// ---------------------------------------------------------------------------
// SQL value encoding

test("SQL request numbers: digits are INTEGERs (exact), fractions and exponents REALs", () => {
  const r = decodeSQLRequest(
    '{"sql":"x","params":[1,-0,2.0,2.5,1e3,9223372036854775807,-9223372036854775808,9007199254740993,"s",null,{"$blob":"AAEC/w=="},true,false]}',
  );
  eq(r.sql, "x", "sql");
  eq(r.script, false, "script");
  eq(r.params, [
    1n,
    0n,
    2,
    2.5,
    1000,
    9223372036854775807n,
    -9223372036854775808n,
    9007199254740993n,
    "s",
    null,
    new Uint8Array([0, 1, 2, 255]),
    1n,
    0n,
  ], "params");
  check(typeof r.params[2] === "number", "2.0 is a REAL");
  check(decodeSQLRequest('{"sql":"CREATE","script":true}').script, "script flag");
});

test("SQL result values: exact digits, REALs keep a fraction, blobs in base64", () => {
  eq(encodeSQLValue(9223372036854775807n), "9223372036854775807", "max int64");
  eq(encodeSQLValue(-9223372036854775808n), "-9223372036854775808", "min int64");
  eq(encodeSQLValue(2), "2.0", "integral REAL");
  eq(encodeSQLValue(2.5), "2.5", "REAL");
  eq(encodeSQLValue(1e21), "1e+21", "large REAL");
  eq(encodeSQLValue(-1e-7), "-1e-7", "small REAL");
  eq(encodeSQLValue(Infinity), '{"$real":"Infinity"}', "infinity");
  eq(encodeSQLValue(-Infinity), '{"$real":"-Infinity"}', "minus infinity");
  eq(encodeSQLValue(NaN), "null", "NaN (SQLite stores NULL)");
  eq(encodeSQLValue('a"\n\u2028é'), JSON.stringify('a"\n\u2028é'), "string");
  eq(encodeSQLValue(new Uint8Array([0, 1, 2, 255])), '{"$blob":"AAEC/w=="}', "blob");
  eq(encodeSQLValue(new Uint8Array(0)), '{"$blob":""}', "empty blob");
  const text = encodeSQLResult({
    columns: ["a", "b"],
    rows: [[1n, "x"], [2.5, null]],
    changes: 3n,
    lastInsertRowid: 9007199254740993n,
  });
  eq(
    text,
    '{"columns":["a","b"],"rows":[[1,"x"],[2.5,null]],"changes":3,"lastInsertRowid":9007199254740993}',
    "result",
  );
  eq(encodeSQLResult({ error: "boom", code: "SQLITE_BUSY" }), '{"error":"boom","code":"SQLITE_BUSY"}', "error");
});

test("SQL answers in binary: the bytes Go's AppendSQLResultBinary writes", () => {
  const w = new AnswerWriter();
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  // The same result as bindings/go/sqlite's TestScriptViaHandleSQL.
  eq(
    hex(
      w.encode({ columns: ["x", "big", "n"], rows: [[1n, 9007199254740993n, null]], changes: 0, lastInsertRowid: 0 }),
    ),
    "01" + "03000000" + "0100000078" + "03000000626967" + "010000006e" + "01000000" +
      "010100000000000000" + "010100000000002000" + "00" + "0000000000000000" + "0000000000000000",
    "rows",
  );
  const values = w.encode({
    columns: ["é"],
    rows: [[2.5], [2], [Infinity], [NaN], ["aé🎉"], [new Uint8Array([0, 255])], ["\ud800"], [-9223372036854775808n]],
    changes: 3n,
    lastInsertRowid: 9007199254740993n,
  });
  eq(values[0], BINARY_MESSAGE, "magic");
  eq(
    hex(values),
    "01" + "01000000" + "02000000c3a9" + "08000000" +
      "02" + "0000000000000440" + // 2.5
      "02" + "0000000000000040" + // an integral REAL stays REAL
      "02" + "000000000000f07f" + // Infinity: a REAL (JSON tags it)
      "00" + // NaN: null, as in JSON
      "03" + "07000000" + "61c3a9f09f8e89" +
      "04" + "02000000" + "00ff" +
      "03" + "03000000" + "efbfbd" + // a lone surrogate: U+FFFD
      "01" + "0000000000000080" +
      "0300000000000000" + "0100000000002000",
    "values",
  );
  // Errors, and rows of uneven width, stay JSON.
  eq(
    new TextDecoder().decode(w.encode({ error: "boom", code: "SQLITE_BUSY" })),
    '{"error":"boom","code":"SQLITE_BUSY"}',
    "error",
  );
  eq(w.encode({ columns: ["a"], rows: [[]], changes: 0, lastInsertRowid: 0 })[0], "{".charCodeAt(0), "uneven rows");
  // A long answer grows the buffer without losing what was written.
  const long = "x".repeat(100_000) + "é";
  const big = w.encode({ columns: ["a"], rows: [[long], [long]], changes: 0, lastInsertRowid: 0 });
  eq(big.length, 1 + 4 + 5 + 4 + 2 * (1 + 4 + 100_002) + 16, "long answer");
  eq(new TextDecoder().decode(big.subarray(big.length - 16 - 100_002, big.length - 16)), long, "long text");
});

test("SQL requests in binary: what Go's AppendSQLRequestBinary writes reads back exactly", async () => {
  // AppendSQLRequestBinary("SELECT ?", [-1, 2.5, "é", blob 00 ff, nil], script).
  const hex = "010800000053454c454354203f010500000001ffffffffffffffff0200000000000004400302000000c3a9040200000000ff00";
  const b = new Uint8Array(Buffer.from(hex, "hex"));
  const r = decodeSQLRequestBytes(b);
  eq(r.sql, "SELECT ?", "sql");
  check(r.script, "script flag");
  eq(r.params.length, 5, "params");
  eq(r.params[0], -1n, "INTEGER as bigint");
  eq(r.params[1], 2.5, "REAL as number");
  eq(r.params[2], "é", "TEXT");
  eq(Buffer.from(r.params[3] as Uint8Array).toString("hex"), "00ff", "BLOB");
  eq(r.params[4], null, "NULL");
  b[b.length - 2] = 0; // the blob is a copy, not a view of the request
  eq(Buffer.from(r.params[3] as Uint8Array).toString("hex"), "00ff", "BLOB copied");
  const malformed = (e: unknown) => e instanceof Error && e.message === "malformed binary SQL request";
  for (let n = 1; n < b.length; n++) {
    await throws(() => decodeSQLRequestBytes(b.subarray(0, n)), malformed, `cut at ${n}`);
  }
  await throws(() => decodeSQLRequestBytes(new Uint8Array([...b, 0])), malformed, "trailing byte");
  eq(decodeSQLRequestBytes(new TextEncoder().encode('{"sql":"SELECT 1"}')).sql, "SELECT 1", "JSON still read");
});

test("statements in one call: a message of several requests and an answer of several results read and write as Go does", async () => {
  // protocol.AppendSQLRequestBinary: "BEGIN" (FlagThen), "SELECT ?" [7]
  // (FlagThen|FlagKeep|FlagRowsOnly), "SELECT 2" (FlagRowsOnly|FlagUnbounded).
  const msg = new Uint8Array(Buffer.from(
    "0105000000424547494e0400000000010800000053454c454354203f1c01000000010700000000000000010800000053454c45435420320a00000000",
    "hex",
  ));
  const reqs = decodeSQLRequestsBytes(msg);
  eq(reqs.map((r) => [r.sql, r.params, r.keep ?? false, r.rowsOnly ?? false, r.unbounded ?? false]), [
    ["BEGIN", [], false, false, false],
    ["SELECT ?", [7n], true, true, false],
    ["SELECT 2", [], false, true, true],
  ], "each request as it would be alone, in order");
  const malformed = (e: unknown) => e instanceof Error && e.message === "malformed binary SQL request";
  await throws(() => decodeSQLRequestBytes(msg), malformed, "one request read from a message of three");
  for (let n = 1; n < msg.length; n++) {
    await throws(() => decodeSQLRequestsBytes(msg.subarray(0, n)), malformed, `cut at ${n}`);
  }
  // protocol.AppendResults of two binary answers.
  const w = new AnswerWriter();
  const a = w.encode({ columns: ["a"], rows: [[7n]], changes: 0, lastInsertRowid: 0 }).slice();
  const b = w.encode({ columns: ["b"], rows: [["x"]], changes: 0, lastInsertRowid: 0 }).slice();
  eq(
    Buffer.from(encodeResults([a, b])).toString("hex"),
    "03020000002700000001010000000100000061010000000107000000000000000000000000000000000000000000000024000000010100000001000000620100000003010000007800000000000000000000000000000000",
    "the answer of several results",
  );
});

test("statements in one call: a create with two references is four calls to the store, and a list page reads every referenced table's labels in one", async () => {
  const path = freshPath();
  const real = openDatabase(path);
  rows(real.run({
    script: true,
    params: [],
    sql: `CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE b (id INTEGER PRIMARY KEY, name TEXT);
     CREATE TABLE t (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id), b_id INTEGER REFERENCES b (id), v TEXT);
     INSERT INTO a VALUES (1, 'first a'); INSERT INTO b VALUES (1, 'first b'); INSERT INTO t VALUES (1, 1, 1, 'x')`,
  }));
  // Each statement with the number of the message it came in.
  const seen: [number, string][] = [];
  let core: Core | undefined;
  const db: Database = {
    run(req) {
      if (core) seen.push([core.sqlCalls.messages, req.sql]);
      return real.run(req);
    },
    close: () => real.close(),
  };
  try {
    core = await Core.load({ db, host: runtimeName, wasm });
    core.open({ basePath: "", config: null, host: runtimeName, authToken: "" });
    const ask = (method: string, path: string, body = "") => {
      seen.length = 0;
      const before = core!.sqlCalls.messages;
      const res = core!.handle({
        method,
        path,
        query: "",
        headers: {
          host: "localhost",
          accept: method === "GET" ? "text/html" : "application/json",
          "content-type": "application/json",
        },
      }, utf8.encode(body)) as CoreResponse;
      const calls = new Map<number, string[]>();
      for (const [m, q] of seen) if (m > before) calls.set(m, [...(calls.get(m) ?? []), q]);
      return { res, calls: [...calls.values()] };
    };
    ask("GET", "/t/t"); // fills the caches
    const list = ask("GET", "/t/t");
    eq(list.res.head.status, 200, "the list page");
    const labels = list.calls.find((c) => c.length === 2 && c.every((q) => /AS "l" FROM "[ab]"/.test(q)));
    check(labels !== undefined, `both tables' labels in one call: ${JSON.stringify(list.calls)}`);
    check(
      utf8Decoder.decode(list.res.body).includes("first a") && utf8Decoder.decode(list.res.body).includes("first b"),
      "labels shown",
    );
    const create = ask("POST", "/api/tables/t/rows", `{"a_id": 1, "b_id": 1, "v": "y"}`);
    eq(create.res.head.status, 201, "the create");
    // Both references checked in one call, BEGIN with the schema check, the
    // INSERT, the log's values with the COMMIT.
    eq(create.calls.map((c) => c.map((q) => q.split(" ")[0])), [
      ["SELECT", "SELECT"],
      ["BEGIN", "PRAGMA"],
      ["INSERT"],
      ["UPDATE", "COMMIT"],
    ], `four calls: ${JSON.stringify(create.calls)}`);
    eq(rows(real.run({ sql: "SELECT count(*) FROM t", params: [], script: false })).rows, [[2n]], "written");
  } finally {
    db.close();
  }
});

test("binding: integral numbers are INTEGER, others REAL, through the adapter and back", () => {
  const db = openDatabase(freshPath());
  try {
    const req = decodeSQLRequest(
      // Every column named once, as the core does (PROTOCOL.md): rows as objects would merge the rest.
      '{"sql":"SELECT typeof(?) AS a, typeof(?) AS b, typeof(?) AS c, typeof(?) AS d, typeof(?) AS e, typeof(?) AS f, typeof(?) AS g","params":[1,2.0,2.5,9223372036854775807,"t",null,{"$blob":"AA=="}]}',
    );
    eq(
      sql(db, req.sql, ...req.params).rows,
      [["integer", "real", "real", "integer", "text", "null", "blob"]],
      "typeof",
    );
    // A ? inside a string literal or a comment is no parameter.
    const tricky = decodeSQLRequest(`{"sql":"SELECT '?' AS q, /* ? */ typeof(?) AS t, ? AS v -- ?","params":[3.0, 4]}`);
    eq(sql(db, tricky.sql, ...tricky.params).rows, [["?", "real", 4n]], "literal ? and comments");
    sql(db, "CREATE TABLE v (i INTEGER, r REAL, a, b BLOB, t TEXT)");
    const big = decodeSQLRequest(
      '{"sql":"INSERT INTO v VALUES (?,?,?,?,?)","params":[9223372036854775807,2.0,3.0,{"$blob":"AAEC/w=="},"é"]}',
    );
    const ins = sql(db, big.sql, ...big.params);
    eq(ins.changes, runtimeName === "bun" ? 1 : 1n, "changes");
    const out = encodeSQLResult(sql(db, "SELECT i, r, a, typeof(a), b, t, i - 1, -i - 1 FROM v"));
    eq(
      out,
      '{"columns":["i","r","a","typeof(a)","b","t","i - 1","-i - 1"],"rows":[[9223372036854775807,2.0,3.0,"real",{"$blob":"AAEC/w=="},"é",9223372036854775806,-9223372036854775808]],"changes":0,"lastInsertRowid":0}',
      "read back",
    );
  } finally {
    db.close();
  }
});

test("RETURNING gives rows and the write's changes and rowid", () => {
  const db = openDatabase(freshPath());
  try {
    sql(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)");
    const r = sql(db, "INSERT INTO t (x) VALUES (?), (?) RETURNING id, x", "a", "b");
    eq(r.columns, ["id", "x"], "columns");
    eq(r.rows, [[1n, "a"], [2n, "b"]], "rows");
    eq(Number(r.changes), 2, "changes");
    eq(Number(r.lastInsertRowid), 2, "last rowid");
  } finally {
    db.close();
  }
});

test("column names follow the schema: own DDL, scripts, rollbacks and another connection's DDL", () => {
  // The node:sqlite adapter keeps a statement's names (columns() is slow);
  // every way the names of "SELECT *" can change must show in the next answer.
  const path = freshPath();
  const db = openDatabase(path);
  const other = openDatabase(path);
  try {
    sql(db, "CREATE TABLE t (a INTEGER, b TEXT)");
    sql(db, "INSERT INTO t VALUES (1, 'x')");
    const names = () => {
      const r = sql(db, "SELECT * FROM t");
      eq(r.columns.length, r.rows[0]!.length, `names ${JSON.stringify(r.columns)} for a row of ${r.rows[0]!.length}`);
      return r.columns;
    };
    eq(names(), ["a", "b"], "first read");
    sql(db, "ALTER TABLE t RENAME COLUMN a TO c");
    eq(names(), ["c", "b"], "after this connection's ALTER TABLE");
    rows(db.run({ sql: "ALTER TABLE t RENAME COLUMN c TO d", params: [], script: true }));
    eq(names(), ["d", "b"], "after a script");
    sql(db, "SAVEPOINT s");
    sql(db, "ALTER TABLE t RENAME COLUMN d TO e");
    eq(names(), ["e", "b"], "inside a savepoint");
    sql(db, "ROLLBACK TO s");
    sql(db, "RELEASE s");
    eq(names(), ["d", "b"], "after the rollback");
    sql(other, "ALTER TABLE t RENAME COLUMN d TO f");
    sql(db, "PRAGMA schema_version"); // what the host reads before every request
    eq(names(), ["f", "b"], "after another connection's ALTER TABLE");
    sql(other, "ALTER TABLE t ADD COLUMN g TEXT");
    names(); // node:sqlite may give this one run the old width, names and values alike
    eq(names(), ["f", "b", "g"], "a new width shows without asking");
  } finally {
    other.close();
    db.close();
  }
});

test("columns keep their order with integer-like names, rows as arrays or (Node < 22.16) objects", async () => {
  // The core reads rows by position. node:sqlite before Node 22.16 gives
  // objects, which list "0", "1", "42" first: the adapter must undo that.
  const opens: [string, (path: string) => Database][] = [["default", openDatabase]];
  if (runtimeName !== "bun") {
    const { openDatabase: openNode } = await import("../src/sqlite_node.ts");
    opens.push(["objects", (path) => openNode(path, "objects")]);
  }
  for (const [mode, open] of opens) {
    const db = open(freshPath());
    try {
      rows(db.run({
        sql: `CREATE TABLE y (b TEXT, "1" INTEGER, "42" INTEGER, a INTEGER, "0" INTEGER);
          CREATE TABLE log (id INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT);
          CREATE TRIGGER y_ins AFTER INSERT ON y BEGIN INSERT INTO log (k) VALUES (NEW.b); END;
          CREATE TABLE w ("2" TEXT PRIMARY KEY, "1" TEXT) WITHOUT ROWID;`,
        params: [],
        script: true,
      }));
      const cols = `"b", "1", "42", "a", "0"`;
      const names = ["b", "1", "42", "a", "0"];
      const ins = sql(db, `INSERT INTO "y" (${cols}) VALUES (?, ?, ?, ?, ?) RETURNING ${cols}`, "x", 1n, 42n, 7n, 0n);
      eq([ins.columns, ins.rows], [names, [["x", 1n, 42n, 7n, 0n]]], `${mode}: INSERT RETURNING`);
      eq([Number(ins.changes), Number(ins.lastInsertRowid)], [1, 1], `${mode}: INSERT RETURNING counts`);
      // A value that reads like the clause must not fool the adapter.
      sql(db, `INSERT INTO "y" (${cols}) VALUES (?, ?, ?, ?, ?)`, 'RETURNING "1"', 2n, 43n, 8n, 9n);
      const sel = sql(db, `SELECT _rowid_ AS "rowid", ${cols} FROM "y" WHERE "b" = ?`, 'RETURNING "1"');
      eq([sel.columns, sel.rows], [["rowid", ...names], [[2n, 'RETURNING "1"', 2n, 43n, 8n, 9n]]], `${mode}: SELECT`);
      const up = sql(db, `UPDATE "y" SET "a" = ? WHERE "b" = ? RETURNING _rowid_ AS "rowid", ${cols}`, 5n, "x");
      eq([up.columns, up.rows], [["rowid", ...names], [[1n, "x", 1n, 42n, 5n, 0n]]], `${mode}: UPDATE RETURNING`);
      eq(Number(up.changes), 1, `${mode}: UPDATE RETURNING changes`);
      const w = sql(db, `INSERT INTO "w" ("2", "1") VALUES (?, ?) RETURNING "2", "1"`, "two", "one");
      eq([w.columns, w.rows], [["2", "1"], [["two", "one"]]], `${mode}: WITHOUT ROWID`);
      eq(sql(db, `SELECT 2, 1, 'x' AS c`).rows, [[2n, 1n, "x"]], `${mode}: literals`);
      eq(sql(db, `SELECT "b" FROM "y" WHERE 0`).rows, [], `${mode}: no rows`);
      eq(sql(db, "SELECT count(*) FROM log").rows, [[2n]], `${mode}: the trigger ran`);
      eq(sql(db, "SELECT count(*) FROM sqlite_temp_schema").rows, [[0n]], `${mode}: nothing left in temp`);
    } finally {
      db.close();
    }
  }
});

test("scripts run several statements; errors carry SQLite's primary code", () => {
  const db = openDatabase(freshPath());
  try {
    rows(
      db.run({
        sql: "CREATE TABLE a (x INTEGER PRIMARY KEY); CREATE TABLE b (y NOT NULL); INSERT INTO a VALUES (1);",
        params: [],
        script: true,
      }),
    );
    eq(sql(db, "SELECT count(*) FROM a").rows, [[1n]], "script ran");
    const code = (r: ReturnType<Database["run"]>) => ("error" in r ? r.code : "no error");
    eq(
      code(db.run({ sql: "INSERT INTO a VALUES (1)", params: [], script: false })),
      "SQLITE_CONSTRAINT",
      "primary key",
    );
    eq(
      code(db.run({ sql: "INSERT INTO b VALUES (NULL)", params: [], script: false })),
      "SQLITE_CONSTRAINT",
      "not null",
    );
    eq(code(db.run({ sql: "SELEKT 1", params: [], script: false })), "SQLITE_ERROR", "syntax");
    eq(code(db.run({ sql: "SELECT * FROM nope", params: [], script: false })), "SQLITE_ERROR", "no table");
    eq(code(db.run({ sql: "CREATE TABLE", params: [], script: true })), "SQLITE_ERROR", "script syntax");
    sql(db, "PRAGMA query_only=1");
    eq(code(db.run({ sql: "INSERT INTO a VALUES (2)", params: [], script: false })), "SQLITE_READONLY", "read-only");
    sql(db, "PRAGMA query_only=0");
    const r = db.run({ sql: "SELECT ?", params: [], script: false });
    check("error" in r || (r.rows[0]![0] === null), "a missing parameter is an error or NULL");
  } finally {
    db.close();
  }
});

test("a second connection holding the write lock gives SQLITE_BUSY after the busy timeout", () => {
  if (process.env["TEST_FAST"]) return; // the timeout is 5 s by contract
  const path = freshPath();
  const a = openDatabase(path);
  const b = openDatabase(path);
  try {
    sql(a, "CREATE TABLE t (x)");
    rows(b.run({ sql: "BEGIN IMMEDIATE", params: [], script: true }));
    const t0 = performance.now();
    const r = a.run({ sql: "INSERT INTO t VALUES (1)", params: [], script: false });
    const waited = performance.now() - t0;
    eq("error" in r ? r.code : "no error", "SQLITE_BUSY", "code");
    check(waited > 4000, `waited ${Math.round(waited)} ms, want about 5000`);
    rows(b.run({ sql: "ROLLBACK", params: [], script: true }));
  } finally {
    a.close();
    b.close();
  }
});

test("the adapter opens with a 5 s busy timeout, keeps the journal mode (the core's to switch), and creates the file", () => {
  const path = freshPath();
  const db = openDatabase(path);
  try {
    check(existsSync(path), "file created");
    eq(sql(db, "PRAGMA journal_mode").rows, [["delete"]], "journal mode");
    eq(sql(db, "PRAGMA synchronous").rows, [[1n]], "synchronous=NORMAL");
    eq(sql(db, "PRAGMA busy_timeout").rows, [[5000n]], "busy timeout");
    // SQLite's defaults on every host: see sqlite_node.ts.
    eq(sql(db, "PRAGMA foreign_keys").rows, [[0n]], "foreign keys");
  } finally {
    db.close();
  }
});

test("an unreadable database is a one-line DB_UNREADABLE error and stays untouched", async () => {
  const dir = join(tmp, "a-directory.db");
  mkdirSync(dir);
  await throws(
    () => openDatabase(dir),
    (e) => e instanceof NakedhtmxError && e.code === "DB_UNREADABLE" && !e.message.includes("\n"),
    "directory",
  );
  const garbage = join(tmp, "garbage.db");
  const bytes = utf8.encode("this is not a database, just text that is long enough to look like a header".repeat(20));
  writeFileSync(garbage, bytes);
  await throws(
    () => openDatabase(garbage),
    (e) => e instanceof NakedhtmxError && e.code === "DB_UNREADABLE" && /not a database/.test(e.message),
    "garbage",
  );
  eq(Buffer.compare(readFileSync(garbage), bytes), 0, "garbage file unchanged");
  check(!existsSync(garbage + "-wal"), "no WAL file created");
});

// ---------------------------------------------------------------------------
// HTTP handlers, with a fake core that records what it is sent

class FakeCore implements CoreHandler {
  seen: { head: RequestHead; body: Uint8Array }[] = [];
  parts: string[] = ["whole"];
  headers: [string, string][] = [["content-type", "text/plain"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]];
  status = 200;
  handle(head: RequestHead, body: Uint8Array): CoreResponse {
    this.seen.push({ head, body: body.slice() });
    const i = head.continue ? Number(head.continue) : 0;
    const more = i + 1 < this.parts.length ? { continue: String(i + 1) } : {};
    const h: ResponseHead = i === 0 ? { status: this.status, headers: this.headers, ...more } : more;
    return { head: h, body: utf8.encode(this.parts[i] ?? "") };
  }
}

test("path helpers: raw path and query, base path stripping", () => {
  eq(splitTarget("http://h:1/a%20b/c?x=%2F&y#frag"), { path: "/a%20b/c", query: "x=%2F&y" }, "absolute URL");
  eq(splitTarget("/t/x?"), { path: "/t/x", query: "" }, "empty query");
  eq(splitTarget("http://h"), { path: "/", query: "" }, "no path");
  eq(splitTarget("/a?b=http://c/d"), { path: "/a", query: "b=http://c/d" }, "URL in the query");
  eq(stripBasePath("/admin/t/x", "/admin"), "/t/x", "under");
  eq(stripBasePath("/admin", "/admin"), "/", "exactly");
  eq(stripBasePath("/administrator", "/admin"), null, "prefix of a longer segment");
  eq(stripBasePath("/x", ""), "/x", "no base path");
});

test("fetch handler: head, raw path, lower-case headers, response headers", async () => {
  const core = new FakeCore();
  const handler = createFetchHandler(core, { basePath: "/admin" });
  const res = await handler(
    new Request("http://example.test/admin/t/Album%20X/%C3%A9?sort=Title&q=%26", {
      method: "POST",
      headers: { "Content-Type": "application/json", "HX-Request": "true", "Last-Event-ID": "7" },
      body: '{"a":1}',
    }),
  );
  eq(res.status, 200, "status");
  eq(await res.text(), "whole", "body");
  eq(res.headers.get("content-type"), "text/plain", "content-type");
  const cookies = res.headers.getSetCookie?.() ?? [];
  eq(cookies, ["a=1", "b=2"], "set-cookie kept apart");
  const { head, body } = core.seen[0]!;
  eq(head.method, "POST", "method");
  eq(head.path, "/t/Album%20X/%C3%A9", "path");
  eq(head.query, "sort=Title&q=%26", "query");
  eq(head.headers["content-type"], "application/json", "content-type");
  eq(head.headers["hx-request"], "true", "hx-request");
  eq(head.headers["last-event-id"], "7", "last-event-id");
  eq(utf8Decoder.decode(body), '{"a":1}', "body");
  eq(head.tooLarge, undefined, "not too large");
  const outside = await handler(new Request("http://example.test/elsewhere"));
  eq(outside.status, 404, "outside the base path");
  eq(core.seen.length, 1, "the core never saw it");
});

test("fetch handler: body cap, declared or streamed, never buffers past it", async () => {
  const core = new FakeCore();
  const handler = createFetchHandler(core, { basePath: "", maxBodyBytes: 16 });
  await handler(new Request("http://localhost/a", { method: "POST", body: "0123456789abcdef" }));
  eq(core.seen[0]!.head.tooLarge, undefined, "at the cap");
  eq(core.seen[0]!.body.length, 16, "body at the cap");
  await handler(new Request("http://localhost/a", { method: "POST", body: "0123456789abcdefg" }));
  eq(core.seen[1]!.head.tooLarge, true, "one over (declared)");
  eq(core.seen[1]!.body.length, 0, "empty body");
  // A stream with no content-length that would never end: it must be cut at the cap.
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled += 8;
      c.enqueue(new Uint8Array(8));
    },
  });
  await handler(new Request("http://localhost/a", { method: "POST", body: endless, duplex: "half" } as RequestInit));
  eq(core.seen[2]!.head.tooLarge, true, "endless stream");
  check(pulled <= 32, `read ${pulled} bytes of an endless body`);
});

test("fetch handler: a body that trickles is cut off after the read timeout (408), the core never asked", async () => {
  const core = new FakeCore();
  const handler = createFetchHandler(core, { basePath: "", bodyReadTimeoutMs: 100 });
  const stalled = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(4)); // then nothing, ever
    },
  });
  const started = Date.now();
  const res = await handler(
    new Request("http://localhost/a", { method: "POST", body: stalled, duplex: "half" } as RequestInit),
  );
  eq(res.status, 408, "status");
  await res.text();
  check(Date.now() - started < 5000, "answered after the timeout, not when the client gave up");
  eq(core.seen.length, 0, "the core was not asked");
});

test("fetch handler: continuations stream as one body", async () => {
  const core = new FakeCore();
  core.parts = ["a,b\n", "1,2\n", "", "3,4\n"];
  const res = await createFetchHandler(core, { basePath: "" })(new Request("http://localhost/api/tables/t/rows.csv"));
  check(res.body !== null, "a body");
  eq(await res.text(), "a,b\n1,2\n3,4\n", "joined body");
  eq(core.seen.map((s) => s.head.continue), [undefined, "1", "2", "3"], "continuation tokens");
  check(
    core.seen.slice(1).every((s) => s.body.length === 0 && s.head.path === "/api/tables/t/rows.csv"),
    "same head, empty body",
  );
});

test("fetch handler: 204 and HEAD have no body; a throwing core gives 500", async () => {
  const core = new FakeCore();
  core.status = 204;
  const h = createFetchHandler(core, { basePath: "" });
  const r = await h(new Request("http://localhost/a", { method: "DELETE" }));
  eq(r.status, 204, "status");
  eq(await r.text(), "", "no body");
  const broken: CoreHandler = {
    handle() {
      throw new NakedhtmxError("CORE_TRAP", "core trapped in nh_handle: unreachable");
    },
  };
  const b = await createFetchHandler(broken, { basePath: "" })(new Request("http://localhost/a"));
  eq(b.status, 500, "trap status");
  check((await b.text()).includes("core trapped"), "says what happened");
});

async function listen(
  handler: (req: NodeRequest, res: import("node:http").ServerResponse) => void,
): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

test("node handler: head, body cap, streaming, set-cookie, base path", async () => {
  const core = new FakeCore();
  core.parts = ["x", "y", "z"];
  const handler = createNodeHandler(core, { basePath: "/admin", maxBodyBytes: 16 });
  const { url, server } = await listen((req, res) => handler(req, res));
  try {
    const r = await fetch(`${url}/admin/t/A%20B?x=1`, { method: "POST", body: "hello", headers: { "X-Thing": "v" } });
    eq(r.status, 200, "status");
    eq(await r.text(), "xyz", "streamed body");
    eq(r.headers.getSetCookie?.() ?? [], ["a=1", "b=2"], "set-cookie");
    const { head, body } = core.seen[0]!;
    eq([head.method, head.path, head.query, head.headers["x-thing"]], ["POST", "/t/A%20B", "x=1", "v"], "head");
    eq(utf8Decoder.decode(body), "hello", "body");
    core.parts = ["ok"];
    core.seen = [];
    const big = await fetch(`${url}/admin/a`, { method: "POST", body: "x".repeat(17) });
    eq(big.status, 200, "the fake core answers 200 even to a tooLarge head");
    await big.text();
    eq(core.seen[0]!.head.tooLarge, true, "tooLarge");
    eq(core.seen[0]!.body.length, 0, "no body");
    const outside = await fetch(`${url}/other`);
    eq(outside.status, 404, "outside the base path");
    await outside.text();
  } finally {
    await close(server);
  }
});

test("node handler under Express-style mounting honours req.baseUrl and next()", async () => {
  const core = new FakeCore();
  const handler = createNodeHandler(core, { basePath: "/admin" });
  let nexted = 0;
  // What Express does for app.use("/admin", nh.node): strip the mount path from req.url into req.baseUrl.
  const { url, server } = await listen((req, res) => {
    const u = req.url ?? "/";
    if (u === "/admin" || u.startsWith("/admin/") || u.startsWith("/admin?")) {
      req.baseUrl = "/admin";
      req.url = u.slice(6) || "/";
      if (!req.url.startsWith("/")) req.url = "/" + req.url;
      handler(req, res, () => {
        nexted++;
        res.writeHead(418).end();
      });
    } else {
      handler(req, res, () => {
        nexted++;
        res.writeHead(418).end();
      });
    }
  });
  try {
    const r = await fetch(`${url}/admin/t/x?y=1`);
    await r.text();
    eq([core.seen[0]!.head.path, core.seen[0]!.head.query], ["/t/x", "y=1"], "mounted path");
    const root = await fetch(`${url}/admin`);
    await root.text();
    eq(core.seen[1]!.head.path, "/", "mount point itself");
    const other = await fetch(`${url}/not-ours`);
    eq(other.status, 418, "next() was called");
    eq(nexted, 1, "once");
  } finally {
    await close(server);
  }
});

// ---------------------------------------------------------------------------
// The real core.wasm

test("core: open, handle, and a streamed CSV export through continuations", async () => {
  const db = openDatabase(freshPath());
  try {
    rows(
      db.run({
        sql:
          "CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT, n REAL); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 20000) INSERT INTO big SELECT i, 'row ' || i, i / 2.0 FROM c;",
        params: [],
        script: true,
      }),
    );
    const core = await Core.load({ db, host: runtimeName, wasm });
    const dsid = core.open({ basePath: "", config: null, host: runtimeName, authToken: "" });
    check(dsid !== "", "a DSID");
    const schema = core.handle({
      method: "GET",
      path: "/api/schema",
      query: "",
      headers: { host: "localhost", accept: "application/json" },
    }, new Uint8Array(0));
    eq(schema.head.status, 200, "GET /api/schema");
    const doc = JSON.parse(utf8Decoder.decode(schema.body)) as { dsid: string; tables?: Record<string, unknown> };
    eq(doc.dsid, dsid, "dsid in the answer");
    if (!doc.tables) return; // the stub engine answers no tables
    let calls = 0;
    const counting: CoreHandler = {
      handle(head, body) {
        calls++;
        return core.handle(head, body);
      },
    };
    const res = await createFetchHandler(counting, { basePath: "" })(
      new Request("http://localhost/api/tables/big/rows.csv"),
    );
    eq(res.status, 200, "CSV status");
    const text = await res.text();
    eq(text.trimEnd().split("\n").length, 20001, "header and every row");
    check(text.includes("\n20000,row 20000,10000"), "last row");
    check(calls > 1, `the export streamed in ${calls} call(s)`);
  } finally {
    db.close();
  }
});

test("core: a trap is a CORE_TRAP error, then the core is re-instantiated and re-opened", async () => {
  const db = openDatabase(freshPath());
  const logs: string[] = [];
  try {
    const core = await Core.load({ db, host: runtimeName, wasm: trapModuleBytes(), log: (l) => logs.push(l) });
    eq(core.open({ basePath: "", config: null, host: runtimeName, authToken: "" }), "trap", "dsid");
    const head: RequestHead = { method: "GET", path: "/", query: "", headers: { host: "localhost" } };
    await throws(
      () => core.handle(head, new Uint8Array(0)),
      (e) => e instanceof NakedhtmxError && e.code === "CORE_TRAP",
      "trap",
    );
    eq(logs.filter((l) => l === "opened").length, 2, "opened again after the trap");
    check(logs.some((l) => l.includes("core trapped in nh_handle")), "the trap was logged");
    check(logs.includes("core re-instantiated"), "re-instantiation was logged");
    const res = await createFetchHandler(core, { basePath: "" })(new Request("http://localhost/"));
    eq(res.status, 500, "a trapping request answers 500");
  } finally {
    db.close();
  }
});

for (const grouped of [false, true]) {
  test(`core: a trap in the middle of a write undoes that write, and the core goes on${grouped ? " (group commit)" : ""}`, async () => {
    const path = freshPath();
    const real = openDatabase(path);
    sql(real, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    // A store adapter's bug inside a write: the INSERT runs, then its answer
    // cannot be encoded, which throws inside the core's call: a trap.
    let armed = false;
    const faulty: Database = {
      run(req) {
        const r = real.run(req);
        if (armed && req.sql.startsWith(`INSERT INTO "t"`) && !("error" in r)) {
          armed = false;
          const bad = {
            get length(): number {
              throw new Error("a store adapter's bug");
            },
          };
          return { ...r, rows: [[bad as unknown as SQLValue]] };
        }
        return r;
      },
      close: () => real.close(),
    };
    let later: (() => void) | undefined;
    const db = grouped ? new GroupCommit(faulty, { later: (fn) => (later = fn) }) : faulty;
    const other = openDatabase(path);
    const logs: string[] = [];
    try {
      const core = await Core.load({ db, host: runtimeName, wasm, log: (l) => logs.push(l) });
      core.open({ basePath: "", config: null, host: runtimeName, authToken: "" });
      db.flush?.();
      const post = (v: string) =>
        core.handle(
          {
            method: "POST",
            path: "/api/tables/t/rows",
            query: "",
            headers: { host: "localhost", accept: "application/json", "content-type": "application/json" },
          },
          utf8.encode(JSON.stringify({ v })),
        ) as CoreResponse;
      eq(post("before").head.status, 201, "a write before");
      armed = true;
      await throws(() => post("trapped"), (e) => e instanceof NakedhtmxError && e.code === "CORE_TRAP", "the trap");
      check(logs.includes("core re-instantiated"), `re-instantiated: ${logs.join(" | ")}`);
      eq(post("after").head.status, 201, "a write after");
      later?.();
      eq(rows(other.run({ sql: "SELECT v FROM t ORDER BY id", params: [], script: false })).rows, [["before"], [
        "after",
      ]], "the trapped write undone, the others kept");
    } finally {
      other.close();
      db.close();
    }
  });
}

test("natsbus: subject tokens are the Go hosts' (bindings/go/natsbus TestSubjectTokens)", () => {
  const cases: [string, string, string][] = [
    ["todos", "insert", "nakedhtmx.cmd.todos.insert"],
    ["order items", "update", "nakedhtmx.cmd.order~20items.update"],
    ["a.b", "delete", "nakedhtmx.cmd.a~2Eb.delete"],
    ["*>", "insert", "nakedhtmx.cmd.~2A~3E.insert"],
    ["~", "insert", "nakedhtmx.cmd.~7E.insert"],
    ["ünï", "insert", "nakedhtmx.cmd.~C3~BCn~C3~AF.insert"],
    ["", "insert", "nakedhtmx.cmd.~.insert"],
  ];
  for (const [table, op, want] of cases) {
    eq(subject({ id: "x", node: "n", dsid: "d", table, op: op as "insert" }), want, table);
  }
});

test("core: jetstream mode, a write becomes a command; applied, asking again answers as a direct write", async () => {
  const db = openDatabase(freshPath());
  try {
    sql(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    const core = await Core.load({ db, host: runtimeName, wasm, log: () => {} });
    core.open({ basePath: "", config: null, host: runtimeName, authToken: "", write: "jetstream", node: "n1" });
    const head: RequestHead = {
      method: "POST",
      path: "/api/tables/t/rows",
      query: "",
      headers: { host: "localhost", "content-type": "application/json", accept: "application/json" },
    };
    const body = utf8.encode(JSON.stringify({ v: "hello" }));
    const first = core.handle(head, body);
    eq(first.head.status, 202, "a command answers 202");
    const cmd = first.head.command;
    check(
      cmd !== undefined && cmd.op === "insert" && cmd.node === "n1" && cmd.values?.["v"] === "hello",
      "the command",
    );
    eq(core.handle({ ...head, command: cmd!.id }, body).head.status, 202, "not applied yet");
    const res = core.apply(cmd!, 1);
    eq([res.id, res.seq, res.status], [cmd!.id, 1, 201], "applied");
    eq(core.apply(cmd!, 1).skipped, true, "a redelivered sequence is skipped");
    const again = core.handle({ ...head, command: cmd!.id }, body);
    eq(again.head.status, 201, "asked again");
    check(utf8Decoder.decode(again.body).includes(`"v":"hello"`), "the row as applied");
  } finally {
    db.close();
  }
});

test("core: changes made while a trapped core is down still reach the streams", async () => {
  const path = freshPath();
  const db = openDatabase(path);
  try {
    sql(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const core = await Core.load({ db, host: runtimeName, wasm, log: () => {} });
    core.open({ basePath: "", config: null, host: runtimeName, authToken: "" });
    const ids = () => (core.tick().messages ?? []).map((m) => m.id);
    const outside = openDatabase(path);
    try {
      sql(outside, "INSERT INTO t VALUES (1, 'a')");
      eq(ids(), [1], "before the trap");
      // A trap drops the instance (PROTOCOL.md); the next call builds a fresh one.
      (core as unknown as { ex: unknown }).ex = undefined;
      sql(outside, "UPDATE t SET v = 'b' WHERE id = 1");
      sql(outside, "DELETE FROM t WHERE id = 1");
      const res = core.handle(
        { method: "GET", path: "/", query: "", headers: { host: "localhost" } },
        new Uint8Array(0),
      );
      eq(res.head.status, 200, "answered by a fresh instance");
      eq(ids(), [2, 3], "the changes made while it was down");
    } finally {
      outside.close();
    }
  } finally {
    db.close();
  }
});

test("core: a missing core.wasm is a WASM_LOAD error that names the file", async () => {
  await throws(
    () => Core.load({ db: openDatabase(freshPath()), host: runtimeName, wasm: join(tmp, "nope.wasm") }),
    (e) => e instanceof NakedhtmxError && e.code === "WASM_LOAD" && e.message.includes("nope.wasm"),
    "missing wasm",
  );
});

// ---------------------------------------------------------------------------
// Library API

test("library: basePath, fetch and node, dsid, close", async () => {
  const path = freshPath();
  const nh = await createNakedhtmx({ host: runtimeName, openDatabase }, {
    db: path,
    basePath: "/admin/",
    wasm,
    log: () => {},
  });
  check(nh.dsid !== "", "dsid");
  const r = await nh.fetch(
    new Request("http://localhost/admin/api/schema", { headers: { accept: "application/json" } }),
  );
  eq(r.status, 200, "status");
  eq((JSON.parse(await r.text()) as { dsid: string }).dsid, nh.dsid, "dsid in the answer");
  eq((await nh.fetch(new Request("http://localhost/api/schema"))).status, 404, "outside basePath");
  const { url, server } = await listen((req, res) => nh.node(req, res));
  try {
    const n = await fetch(`${url}/admin/api/schema`);
    eq(n.status, 200, "node status");
    await n.text();
  } finally {
    await close(server);
  }
  await nh.close();
  eq((await nh.fetch(new Request("http://localhost/admin/"))).status, 503, "closed");
});

test("library on PGlite: a migration runs in the store's own transaction (caller SQL is not SQLite's there)", async () => {
  const dir = join(tmp, `pglite${dbCount++}`);
  const token = "a-pglite-migration-token-32-chrs";
  const nh = await createNakedhtmx({ host: runtimeName, openDatabase }, {
    db: `pglite:${dir}`,
    wasm,
    authToken: token,
    log: () => {},
  });
  try {
    const dsid = nh.dsid;
    const migrate = (sql: string) =>
      nh.fetch(
        new Request("http://localhost/api/migrations", {
          method: "POST",
          headers: { accept: "application/json", "content-type": "application/sql", authorization: `Bearer ${token}` },
          body: sql,
        }),
      );
    const ok = await migrate("CREATE TABLE things (id serial PRIMARY KEY, name text NOT NULL)");
    const done = await ok.text();
    eq(ok.status, 200, `a migration: ${done}`);
    const answer = JSON.parse(done) as { dsid: string; migrated?: boolean };
    check(answer.migrated === true && answer.dsid !== dsid, `the schema moved on: ${done}`);
    const refused = await migrate(`DROP TABLE "_nakedhtmx"."_nakedhtmx_changes"`);
    eq(refused.status, 403, `nakedhtmx's own tables: ${await refused.text()}`);
    const rows = await nh.fetch(
      new Request("http://localhost/api/tables/things/rows", {
        headers: { accept: "application/json", authorization: `Bearer ${token}` },
      }),
    );
    eq(rows.status, 200, `the new table is served: ${await rows.text()}`);
  } finally {
    await nh.close();
  }
});

test("library on PGlite (pglite:DIR): Postgres's types, search, a write logged, an outside schema change followed, a clean close", async () => {
  const dir = join(tmp, `pglite${dbCount++}`);
  const { PGlite } = await import("@electric-sql/pglite");
  const seed = await PGlite.create(dir);
  await seed.exec(`CREATE TYPE mood AS ENUM ('happy', 'sad');
    CREATE TABLE artist (id serial PRIMARY KEY, name varchar(40) NOT NULL, born date, active boolean NOT NULL DEFAULT true,
      price numeric(6,2) CHECK (price >= 0), m mood, at timestamptz, blob bytea);
    INSERT INTO artist (name, born, price, m, at, blob) VALUES ('AC/DC', '1973-11-01', 9.99, 'happy', '1981-11-23 10:00:00+00', '\\x00ff'),
      ('Accept', NULL, NULL, NULL, NULL, NULL);`);
  await seed.close();
  const nh = await createNakedhtmx({ host: runtimeName, openDatabase }, { db: `pglite:${dir}`, wasm, log: () => {} });
  const get = async (path: string) => {
    const r = await nh.fetch(new Request("http://localhost" + path, { headers: { accept: "application/json" } }));
    return { status: r.status, text: await r.text() };
  };
  try {
    const rows = await get("/api/tables/artist/rows");
    eq(rows.status, 200, "rows");
    check(
      rows.text.includes(
        `"name":"AC/DC","born":"1973-11-01","active":true,"price":9.99,"m":"happy","at":"1981-11-23T10:00:00Z","blob":{"$blob":{"size":2,"type":"application/octet-stream","url":"/api/tables/artist/rows/1/blob"}}`,
      ),
      `Postgres's values as the API serves them: ${rows.text}`,
    );
    const schema = await get("/api/schema/artist");
    for (const want of [`"maxLength":40`, `"enum":["happy","sad",null]`, `"minimum":0`]) {
      check(schema.text.includes(want), `the schema has ${want}: ${schema.text}`);
    }
    const found = await get("/api/tables/artist/rows?q=acc");
    check(found.text.includes("Accept") && !found.text.includes("AC/DC"), `a search in any case: ${found.text}`);
    const w = await nh.fetch(
      new Request("http://localhost/api/tables/artist/rows", {
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/json" },
        body: JSON.stringify({ name: "Ada", born: "1815-12-10", active: false }),
      }),
    );
    eq(w.status, 201, `a create: ${await w.text()}`);
    const bad = await nh.fetch(
      new Request("http://localhost/api/tables/artist/rows", {
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/json" },
        body: JSON.stringify({ name: "Cheap", price: -1 }),
      }),
    );
    eq(bad.status, 422, "a price below the CHECK");
    await bad.text();
  } finally {
    await nh.close();
  }
  // Closed cleanly: the data and the log are there for the next opener.
  const after = await PGlite.create(dir);
  try {
    const n = await after.query<{ n: number }>(`SELECT count(*)::int AS n FROM artist WHERE name = 'Ada'`);
    eq(n.rows[0]?.n, 1, "the create is in the database");
    const log = await after.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM _nakedhtmx._nakedhtmx_changes WHERE tbl = 'artist' AND op = 'insert' AND new IS NOT NULL`,
    );
    eq(log.rows[0]?.n, 1, "the create is in the change log, with its values");
    await after.exec(`ALTER TABLE artist ADD COLUMN country text`);
  } finally {
    await after.close();
  }
  const again = await createNakedhtmx({ host: runtimeName, openDatabase }, {
    db: `pglite:${dir}`,
    wasm,
    log: () => {},
  });
  try {
    const r = await again.fetch(new Request("http://localhost/api/schema/artist"));
    check((await r.text()).includes(`"country"`), "a column added meanwhile is served");
  } finally {
    await again.close();
  }
});

test("library: allowedHosts names the hosts an embedding server is reached by; any other is 421", async () => {
  const nh = await createNakedhtmx({ host: runtimeName, openDatabase }, {
    db: freshPath(),
    allowedHosts: ["admin.example", "lan.example:8443"],
    wasm,
    log: () => {},
  });
  const { url, server } = await listen((req, res) => nh.node(req, res));
  try {
    const want: [string, number][] = [
      ["http://admin.example/api/schema", 200],
      ["http://admin.example:3000/api/schema", 200],
      ["http://lan.example:8443/api/schema", 200],
      ["http://localhost:3000/api/schema", 200],
      ["http://[::1]/api/schema", 200],
      ["http://lan.example/api/schema", 421],
      ["http://evil.example/api/schema", 421],
      ["http://admin.example.evil.example/api/schema", 421],
    ];
    for (const [u, status] of want) {
      const r = await nh.fetch(new Request(u));
      eq(r.status, status, u);
      const text = await r.text();
      if (status === 421) check(!text.includes("dsid"), `${u}: the refusal carries data`);
    }
    // node:http keeps only the first of two Host headers; the handler passes both.
    const port = Number(new URL(url).port);
    for (const hosts of [["localhost", "evil.example"], ["evil.example", "localhost"]]) {
      const head = await rawGet(port, hosts);
      check(head.startsWith("HTTP/1.1 421"), `two Host headers ${hosts.join(", ")}: ${head.split("\r\n")[0]}`);
    }
    eq((await rawGet(port, ["admin.example"])).split("\r\n")[0], "HTTP/1.1 200 OK", "one allowed Host over node:http");
  } finally {
    await close(server);
    await nh.close();
  }
  const rt = { host: runtimeName, openDatabase };
  for (const bad of ["http://admin.example/", "admin example", "", "admin.example:port", "[::1"]) {
    const db = freshPath();
    await throws(
      () => createNakedhtmx(rt, { db, allowedHosts: [bad] }),
      (e: unknown) => e instanceof NakedhtmxError && e.code === "BAD_OPTION" && e.message.includes("allowedHosts"),
      `allowedHosts ${JSON.stringify(bad)}`,
    );
    check(!existsSync(db), "a bad allowedHosts created the database");
  }
});

/** GET /api/schema with these Host header lines, over a raw socket; the answer's head. */
function rawGet(port: number, hosts: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port }, () => {
      sock.write(
        ["GET /api/schema HTTP/1.1", ...hosts.map((h) => `host: ${h}`), "connection: close", "", ""].join("\r\n"),
      );
    });
    let got = "";
    sock.on("data", (c: Buffer) => {
      got += c.toString("latin1");
    });
    sock.on("end", () => resolve(got.split("\r\n\r\n")[0] ?? ""));
    sock.on("error", reject);
  });
}

test("library: bad options and unsupported modes are typed errors", async () => {
  const rt = { host: runtimeName, openDatabase };
  const code = (c: string) => (e: unknown) => e instanceof NakedhtmxError && e.code === c;
  await throws(() => createNakedhtmx(rt, { db: "" }), code("BAD_OPTION"), "empty db");
  await throws(
    () => createNakedhtmx(rt, { db: freshPath(), basePath: "admin" }),
    code("BAD_OPTION"),
    "relative basePath",
  );
  await throws(
    () => createNakedhtmx(rt, { db: freshPath(), write: "jetstream" }),
    code("BAD_OPTION"),
    "jetstream without nats",
  );
  await throws(
    () => createNakedhtmx(rt, { db: freshPath(), nats: "nats://127.0.0.1:1" }),
    code("NATS"),
    "nats unreachable",
  );
  await throws(
    () => createNakedhtmx(rt, { db: freshPath(), config: join(tmp, "missing.json") }),
    code("BAD_CONFIG"),
    "missing config",
  );
  const bad = join(tmp, "bad.json");
  writeFileSync(bad, "{nope");
  await throws(() => createNakedhtmx(rt, { db: freshPath(), config: bad }), code("BAD_CONFIG"), "invalid config");
  const missingWasm = freshPath();
  await throws(
    () => createNakedhtmx(rt, { db: missingWasm, wasm: join(tmp, "nope.wasm") }),
    code("WASM_LOAD"),
    "missing wasm",
  );
  check(!existsSync(missingWasm), "no database created when the core cannot load");
});

test("library: the config file is re-read when it changes", async () => {
  const cfg = join(tmp, "live.json");
  writeFileSync(cfg, "{}");
  const logs: string[] = [];
  const nh = await createNakedhtmx({ host: runtimeName, openDatabase }, {
    db: freshPath(),
    config: cfg,
    configPollMs: 20,
    wasm,
    log: (l) => logs.push(l),
  });
  try {
    writeFileSync(cfg, '{"title": "Live"}');
    utimesSync(cfg, new Date(), new Date(Date.now() + 5000));
    for (let i = 0; i < 100 && !logs.some((l) => l.includes("reloaded")); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    check(logs.some((l) => l.includes("reloaded")), `reloaded (log: ${JSON.stringify(logs)})`);
    writeFileSync(cfg, "{broken");
    utimesSync(cfg, new Date(), new Date(Date.now() + 10000));
    for (let i = 0; i < 100 && !logs.some((l) => l.includes("keeping the previous")); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    check(logs.some((l) => l.includes("keeping the previous")), "a broken config is reported and ignored");
  } finally {
    await nh.close();
  }
});

test("a store that answers later: calls wait for it one at a time, and none sees another's answers", async () => {
  const path = join(tmp, "later.db");
  const db = openDatabase(path);
  const r = db.run({
    sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); " +
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 60) INSERT INTO t SELECT i, 'row ' || i FROM c",
    params: [],
    script: true,
  });
  check(!("error" in r), JSON.stringify(r));
  // The real SQLite, each answer after a random few milliseconds.
  const later = {
    answersLater: true as const,
    path,
    run: (req: Parameters<Database["run"]>[0]) =>
      new Promise<ReturnType<Database["run"]>>((resolve) => setTimeout(() => resolve(db.run(req)), Math.random() * 3)),
    close: () => db.close(),
  };
  const core = await Core.load({ db: later, host: runtimeName });
  try {
    const opening = core.openAsync({ basePath: "", config: null, host: runtimeName, authToken: "" });
    // A synchronous call while one waits for its store is refused, not interleaved.
    await throws(
      () => core.handle({ method: "GET", path: "/", query: "", headers: { host: "localhost" } }, new Uint8Array()),
      (e) => e instanceof Error && /busy/.test(e.message),
      "a synchronous call during a parked one",
    );
    await opening;
    const reads = Array.from(
      { length: 60 },
      (_, i) =>
        core.handleAsync({
          method: "GET",
          path: `/api/tables/t/rows/${i + 1}`,
          query: "",
          headers: { host: "localhost", accept: "application/json" },
        }, new Uint8Array()),
    );
    const write = core.handleAsync({
      method: "POST",
      path: "/api/tables/t/rows",
      query: "",
      headers: { host: "localhost", accept: "application/json", "content-type": "application/json" },
    }, new TextEncoder().encode(`{"v": "written"}`));
    const answers = await Promise.all(reads);
    answers.forEach((a, i) => {
      const { row } = JSON.parse(new TextDecoder().decode(a.body)) as { row?: { id?: number; v?: string } };
      eq([a.head.status, row?.id, row?.v], [200, i + 1, `row ${i + 1}`], `read ${i + 1}`);
    });
    eq((await write).head.status, 201, "the write among them");
    const ticked = await core.tickAsync(["api"]);
    check(
      (ticked.messages ?? []).some((m) => m.api.includes(`"op":"insert","pk":{"id":61}`)),
      `the write's event: ${JSON.stringify(ticked)}`,
    );
  } finally {
    db.close();
  }
});

// ---------- group commit (group.ts) ----------

const stmtReq = (sql: string, ...params: SQLValue[]) => ({ sql, params, script: false });

/** A write as the core makes it: BEGIN IMMEDIATE, one INSERT, COMMIT (or ROLLBACK when it fails). */
function coreWrite(db: Database, text: string, ...params: SQLValue[]): boolean {
  const b = db.run(stmtReq("BEGIN IMMEDIATE"));
  if ("error" in b) return false;
  const w = db.run(stmtReq(text, ...params));
  if ("error" in w) {
    db.run(stmtReq("ROLLBACK"));
    return false;
  }
  const c = db.run(stmtReq("COMMIT"));
  if ("error" in c) {
    db.run(stmtReq("ROLLBACK"));
    return false;
  }
  return true;
}

function countOf(db: Database, table: string): number {
  return Number(sql(db, `SELECT count(*) FROM ${table}`).rows[0]![0]);
}

test("group commit: the writes of one turn share one commit, a refused one stays out, nothing is seen before it", async () => {
  const path = freshPath();
  const inner = openDatabase(path);
  sql(inner, "PRAGMA journal_mode=WAL");
  sql(inner, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  const other = openDatabase(path);
  let later: (() => void) | undefined;
  const g = new GroupCommit(inner, { later: (fn) => (later = fn) });
  try {
    eq(g.settled(), undefined, "nothing pending before a write");
    check(coreWrite(g, "INSERT INTO t (v) VALUES (?)", "one"), "first write");
    const settled = g.settled();
    check(settled !== undefined, "a commit pending after it");
    check(!coreWrite(g, "INSERT INTO t (v) VALUES (?)", null), "a write refused by NOT NULL");
    check(coreWrite(g, "INSERT INTO t (v) VALUES (?)", "three"), "third write");
    eq(g.settled(), settled, "one commit for the turn");
    eq(countOf(other, "t"), 0, "another connection sees nothing before the commit");
    check(later !== undefined, "the commit is put after the turn");
    later!();
    await settled;
    eq(g.settled(), undefined, "nothing pending after it");
    eq(
      sql(other, "SELECT v FROM t ORDER BY id").rows,
      [["one"], ["three"]],
      "both kept, the refused one not",
    );
    // What runs on another connection commits the group first.
    check(coreWrite(g, "INSERT INTO t (v) VALUES (?)", "four"), "fourth write");
    g.flush();
    eq(countOf(other, "t"), 3, "flush commits at once");
    // A transaction statement of the core's outside a write commits first too.
    check(coreWrite(g, "INSERT INTO t (v) VALUES (?)", "five"), "fifth write");
    sql(g, "SAVEPOINT x");
    sql(g, "RELEASE x");
    eq(countOf(other, "t"), 4, "a SAVEPOINT outside a write commits the group first");
    // A ROLLBACK outside any write cannot take the group with it.
    check(coreWrite(g, "INSERT INTO t (v) VALUES (?)", "six"), "sixth write");
    g.run(stmtReq("ROLLBACK"));
    g.flush();
    eq(countOf(other, "t"), 5, "a stray ROLLBACK undid nothing of the group");
  } finally {
    g.close();
    other.close();
  }
});

test("group commit: a deferred constraint makes each write commit alone, so one broken write fails alone", () => {
  const path = freshPath();
  const inner = openDatabase(path);
  sql(inner, "PRAGMA foreign_keys=ON");
  sql(inner, "CREATE TABLE p (id INTEGER PRIMARY KEY)");
  sql(inner, "INSERT INTO p VALUES (1)");
  sql(inner, "CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)");
  const other = openDatabase(path);
  const g = new GroupCommit(inner, { later: () => {} }); // never commits by the turn: only by the writes themselves
  try {
    check(coreWrite(g, "INSERT INTO c (p) VALUES (?)", 1), "a good write");
    eq(countOf(other, "c"), 1, "committed at its own COMMIT");
    check(!coreWrite(g, "INSERT INTO c (p) VALUES (?)", 99), "a write breaking the deferred key fails at its COMMIT");
    check(coreWrite(g, "INSERT INTO c (p) VALUES (?)", 1), "the next good write");
    eq(countOf(other, "c"), 2, "the good writes kept, the broken one not");
  } finally {
    g.close();
    other.close();
  }
});

test("group commit: the deferred check is kept per schema version, and asked again after another connection's DDL", () => {
  const path = freshPath();
  const inner = openDatabase(path);
  sql(inner, "PRAGMA foreign_keys=ON");
  sql(inner, "CREATE TABLE p (id INTEGER PRIMARY KEY)");
  sql(inner, "INSERT INTO p VALUES (1)");
  const other = openDatabase(path);
  const asked: string[] = [];
  const counting: Database = {
    run: (req) => {
      asked.push(req.sql);
      return inner.run(req);
    },
    close: () => inner.close(),
  };
  const g = new GroupCommit(counting, { later: () => {} });
  const deferredAsks = () => asked.filter((s) => s.includes("DEFERRABLE")).length;
  try {
    check(coreWrite(g, "INSERT INTO p VALUES (?)", 2), "a write in a group");
    g.flush();
    check(coreWrite(g, "INSERT INTO p VALUES (?)", 3), "a write in the next group");
    g.flush();
    eq(deferredAsks(), 1, "the schema did not change: sqlite_schema read once for two groups");
    // Another connection adds a deferred key: the next group must see it.
    sql(other, "CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)");
    check(coreWrite(g, "INSERT INTO c (p) VALUES (?)", 1), "a good write");
    eq(deferredAsks(), 2, "asked again at the new schema version");
    eq(countOf(other, "c"), 1, "committed alone, at its own COMMIT");
    check(!coreWrite(g, "INSERT INTO c (p) VALUES (?)", 99), "a write breaking the deferred key fails alone");
    check(coreWrite(g, "INSERT INTO c (p) VALUES (?)", 1), "the next good write");
    eq(countOf(other, "c"), 2, "the good writes kept, the broken one not");
  } finally {
    g.close();
    other.close();
  }
});

test("group commit: a write with DDL, alone or in a script, commits on its own; the writes before it with it", () => {
  const path = freshPath();
  const inner = openDatabase(path);
  sql(inner, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  const other = openDatabase(path);
  const g = new GroupCommit(inner, { later: () => {} }); // never commits by the turn: only by the writes themselves
  try {
    check(coreWrite(g, "INSERT INTO t (v) VALUES (?)", "one"), "a plain write");
    eq(countOf(other, "t"), 0, "a plain write waits for its group");
    check(coreWrite(g, "ALTER TABLE t ADD COLUMN w TEXT"), "a write with DDL");
    eq(countOf(other, "t"), 1, "committed at the DDL's COMMIT, with the write before it");
    check(coreWrite(g, "INSERT INTO t (v) VALUES (?)", "two"), "another plain write");
    eq(g.run(stmtReq("BEGIN IMMEDIATE")), { columns: [], rows: [], changes: 0, lastInsertRowid: 0 }, "a write opens");
    const script = g.run({ sql: "CREATE TABLE u (x); INSERT INTO u VALUES (1)", params: [], script: true });
    check(!("error" in script), `a script inside the write: ${JSON.stringify(script)}`);
    check(!("error" in g.run(stmtReq("COMMIT"))), "the write with a script commits");
    eq(countOf(other, "t"), 2, "the script's write committed on its own, the write before it with it");
    eq(countOf(other, "u"), 1, "the script's table and row are there");
    eq(g.settled(), undefined, "nothing left pending");
  } finally {
    g.close();
    other.close();
  }
});

test("group commit: a commit that fails keeps nothing of its group, says so, and the next writes commit alone until one succeeds", async () => {
  const path = freshPath();
  const real = openDatabase(path);
  sql(real, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  // The disk failing at the commit: the real connection rolls back.
  let failNext = false;
  const failing: Database = {
    run(req) {
      if (failNext && req.sql === "COMMIT") {
        failNext = false;
        real.run(stmtReq("ROLLBACK"));
        return { error: "disk I/O error", code: "SQLITE_IOERR" };
      }
      return real.run(req);
    },
    close: () => real.close(),
  };
  const failures: string[] = [];
  let later: (() => void) | undefined;
  const g = new GroupCommit(failing, { later: (fn) => (later = fn), onFailure: (m) => failures.push(m) });
  try {
    check(coreWrite(g, "INSERT INTO t (v) VALUES (?)", "a"), "write a");
    check(coreWrite(g, "INSERT INTO t (v) VALUES (?)", "b"), "write b");
    const settled = g.settled()!;
    failNext = true;
    later!();
    let why = "";
    await settled.catch((e: unknown) => (why = String(e)));
    check(why.includes("disk I/O error"), `the waiting answers hear why: ${why}`);
    eq(failures, ["disk I/O error"], "the host is told (it starts the core again)");
    eq(countOf(g, "t"), 0, "nothing of the group is kept");
    const other = openDatabase(path);
    try {
      check(coreWrite(g, "INSERT INTO t (v) VALUES (?)", "c"), "the next write goes on");
      eq(g.settled(), undefined, "alone: it committed at its own COMMIT, so it hears its own outcome");
      eq(countOf(other, "t"), 1, "and is kept");
      check(coreWrite(g, "INSERT INTO t (v) VALUES (?)", "d"), "a write after a commit succeeded");
      check(g.settled() !== undefined, "groups again");
      eq(countOf(other, "t"), 1, "not seen before its group's commit");
      later!();
      eq(countOf(other, "t"), 2, "kept with it");
    } finally {
      other.close();
    }
  } finally {
    g.close();
  }
});

test("group commit through the library: concurrent creates all kept, none answered before its commit", async () => {
  const path = freshPath();
  const setup = openDatabase(path);
  sql(setup, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  setup.close();
  const nh = await createNakedhtmx({ host: runtimeName, openDatabase }, { db: path, wasm, log: () => {} });
  const other = openDatabase(path);
  try {
    const seen: number[] = [];
    const post = (i: number) =>
      nh.fetch(
        new Request("http://localhost/api/tables/t/rows", {
          method: "POST",
          headers: { accept: "application/json", "content-type": "application/json" },
          body: i === 7 ? `{"v": null}` : JSON.stringify({ v: `row ${i}` }),
        }),
      ).then(async (r) => {
        const text = await r.text();
        // When the client has its answer, another connection has its row.
        if (r.status === 201) {
          const id = (JSON.parse(text) as { row: { id: number } }).row.id;
          seen.push(Number(sql(other, "SELECT count(*) FROM t WHERE id = ?", id).rows[0]![0]));
        }
        return [r.status, text] as const;
      });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => post(i)));
    eq(
      answers.filter(([s]) => s === 201).length,
      29,
      `29 created: ${JSON.stringify(answers.filter(([s]) => s !== 201))}`,
    );
    eq(answers[7]![0], 422, "the refused one");
    eq(seen, Array(29).fill(1), "each created row visible to another connection when its answer came");
    eq(countOf(other, "t"), 29, "all kept");
  } finally {
    other.close();
    await nh.close();
  }
});

test("sqlite-wasm store (the browser's): INTEGER and REAL kept apart, a caller's read guarded, stopped at its limit", async () => {
  const sqlite3 = await (await import("@sqlite.org/sqlite-wasm")).default();
  const db = openWasmDatabase(sqlite3 as unknown as SQLiteWasm);
  try {
    sql(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, r REAL, secret TEXT)");
    sql(db, "INSERT INTO t (id, r, secret) VALUES (?, ?, ?)", 9007199254740993n, 2, "s");
    eq(
      sql(db, "SELECT id, r, typeof(r) FROM t").rows,
      [[9007199254740993n, 2, "real"]],
      "a big INTEGER exact, 2.0 a REAL",
    );
    const limits = { maxRows: 10, limitMs: 200, hidden: [{ table: "t", column: "secret" }] };
    const read = (sql: string) => db.run({ sql, params: [], script: false, read: limits });
    eq(read("SELECT secret FROM t"), { error: "no such table or column", code: "SQLITE_AUTH" }, "a hidden column");
    eq((read("DELETE FROM t") as { code?: string }).code, "SQLITE_AUTH", "a write");
    eq(
      rows(read("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c")).rows.length,
      11,
      "maxRows + 1 rows",
    );
    const started = Date.now();
    const endless = read("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c");
    eq(endless, { error: "stopped after 200 ms", code: "SQLITE_INTERRUPT" }, "a read that never ends");
    check(Date.now() - started < 5000, "stopped near its limit");
    eq(sql(db, "SELECT count(*) FROM t").rows, [[1n]], "the connection goes on");
    const copy = openWasmDatabase(sqlite3 as unknown as SQLiteWasm, db.snapshot());
    eq(sql(copy, "SELECT secret FROM t").rows, [["s"]], "a snapshot opens as a database of its own");
    copy.close();
  } finally {
    db.close();
  }
});

const code = await run("host");
rmSync(tmp, { recursive: true, force: true });
process.exit(code);
