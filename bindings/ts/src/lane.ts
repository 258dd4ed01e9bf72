// The read lane (bindings/PROTOCOL.md, "Time limit"): where the TS hosts run
// a read the core cannot bound (SQLRequest.unbounded: a view's rows, count or
// row), so the time limit can stop it.
//
// None of node:sqlite (Node, Deno, Bun) or bun:sqlite can stop a statement
// while it runs, and a worker thread stuck inside sqlite3_step cannot be
// stopped either. So such a read runs in a child process of the same
// runtime, on a connection of its own (lane_child.ts), which is killed past
// the limit and started again for the next read. The core waits for the
// answer as it waits for any SQL: synchronously. The main thread blocks in
// Atomics.wait, with the limit as its timeout, while a worker thread (whose
// event loop is free) talks to the child through pipes, hands the answer
// over with a MessagePort and wakes it. Measured: about 0.3 ms a read on
// Node and Bun, 0.5 ms on Deno, beside the statement itself; the process
// starts (40 to 90 ms) on the first such read and after a kill.
//
// A write whose triggers the core cannot bound (a table with triggers of the
// user's, or one a cascade reaches) comes here whole: the core marks every
// statement from its BEGIN to its COMMIT (sqldb.LaneWrites), so the write and
// its own reads run on the child's connection, and a trigger that never ends
// is stopped like a view: the child killed, its transaction gone with it (the
// file's locks die with the process; what it had not committed is never
// seen), SQLITE_INTERRUPT, one 503. Other unbounded reads are outside any
// write and see committed data.

import process from "node:process";
import { fileURLToPath } from "node:url";
import { deserialize, serialize } from "node:v8";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { runtimeCommand } from "./caller.ts";
import { errorMessage } from "./errors.ts";
import type { SQLRequest, SQLResult } from "./protocol.ts";
import type { Database } from "./sqlite.ts";

/** What the worker posts back: a statement's answer (v8-serialized SQLResult) or why there is none. */
interface LaneAnswer {
  id: number;
  bytes?: Uint8Array;
  error?: string;
}

/**
 * The worker's program (CommonJS, run with `eval`: a module file would have
 * to be found again under src/, dist/ and JSR alike). It starts the child when
 * a read comes and none runs, frames each read to it (u32 length, bytes) and
 * each answer back, and kills it when told.
 */
const relay = `
const { workerData } = require("node:worker_threads");
const { spawn } = require("node:child_process");
const flag = new Int32Array(workerData.flag);
const port = workerData.port;
let child, inFlight = 0, buf = Buffer.alloc(0), stderr = "";
const answer = (m) => { port.postMessage(m); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); };
const start = () => {
  const c = spawn(workerData.cmd, workerData.args, { stdio: ["pipe", "pipe", "pipe"] });
  child = c; buf = Buffer.alloc(0); stderr = "";
  Atomics.store(flag, 1, c.pid || 0);
  c.stdout.on("data", (d) => {
    if (child !== c) return;
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32LE(0)) {
      const n = buf.readUInt32LE(0);
      const bytes = new Uint8Array(buf.subarray(4, 4 + n));
      buf = buf.subarray(4 + n);
      const id = inFlight; inFlight = 0;
      answer({ id, bytes });
    }
  });
  c.stderr.on("data", (d) => { stderr = (stderr + d).slice(-2000); });
  const gone = (why) => {
    if (child !== c) return;
    child = undefined;
    if (inFlight) { const id = inFlight; inFlight = 0; answer({ id, error: "the read process ended (" + why + "): " + stderr.trim().split("\\n").slice(-3).join(" ") }); }
  };
  c.on("exit", (code, signal) => gone(signal || "status " + code));
  c.on("error", (e) => gone(String(e && e.message || e)));
  c.stdin.on("error", () => {});
};
port.on("message", (m) => {
  if (m.kill) { if (child) { const c = child; child = undefined; inFlight = 0; c.kill("SIGKILL"); } return; }
  if (m.close) { if (child) child.kill("SIGKILL"); child = undefined; port.close(); return; }
  if (!child) start();
  inFlight = m.id;
  const head = Buffer.alloc(4); head.writeUInt32LE(m.bytes.length, 0);
  child.stdin.write(Buffer.concat([head, Buffer.from(m.bytes)]));
});
`;

/** How to start lane_child on this runtime: the runtime's own executable. */
function childCommand(adapter: string, path: string): [string, string[]] {
  const url = new URL(import.meta.url.endsWith(".ts") ? "./lane_child.ts" : "./lane_child.js", import.meta.url);
  const file = url.protocol === "file:" ? fileURLToPath(url) : url.href;
  return runtimeCommand(["run", "-A", "--quiet", "--no-config", url.href, adapter, path], [file, adapter, path]);
}

/**
 * One database file's read lane. Nothing starts until the first read; close()
 * ends the worker and the child.
 */
export class ReadLane {
  private readonly adapter: string;
  private readonly path: string;
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private flag: Int32Array | undefined;
  private seq = 0;

  /** `adapter` is the URL of a module whose openDatabase(path) the child uses (the parent's own). */
  constructor(adapter: string, path: string) {
    this.adapter = adapter;
    this.path = path;
  }

  private ensure(): { port: MessagePort; flag: Int32Array } {
    if (this.port && this.flag) return { port: this.port, flag: this.flag };
    // [0]: an answer is waiting; [1]: the child's pid, for close() to kill.
    const flag = new Int32Array(new SharedArrayBuffer(8));
    const { port1, port2 } = new MessageChannel();
    const [cmd, args] = childCommand(this.adapter, this.path);
    const w = new Worker(relay, {
      eval: true,
      workerData: { flag: flag.buffer, port: port2, cmd, args },
      transferList: [port2],
    });
    w.unref(); // a lane never keeps the process alive
    w.on("error", () => this.drop());
    process.once("exit", this.kill);
    this.worker = w;
    this.port = port1;
    this.flag = flag;
    return { port: port1, flag };
  }

  private drop(): void {
    this.worker = undefined;
    this.port?.close();
    this.port = undefined;
    this.flag = undefined;
  }

  /**
   * Runs one read, waiting at most limitMs (0: no limit). Never throws:
   * failures come back as `{error, code}`, a read stopped at the limit as
   * SQLITE_INTERRUPT (its process killed; the next read starts another).
   */
  run(req: SQLRequest, limitMs: number): SQLResult {
    let lane: { port: MessagePort; flag: Int32Array };
    try {
      lane = this.ensure();
    } catch (e) {
      return { error: "cannot start the read lane: " + errorMessage(e), code: "SQLITE_ERROR" };
    }
    const { port, flag } = lane;
    const id = ++this.seq;
    port.postMessage({
      id,
      bytes: serialize({ sql: req.sql, params: req.params, script: req.script === true, read: req.read }),
    });
    const deadline = limitMs > 0 ? performance.now() + limitMs : Infinity;
    for (;;) {
      // Cleared before the port is read: an answer posted after this store
      // sets it again, so the wait below cannot miss it.
      Atomics.store(flag, 0, 0);
      for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
        const a = m.message as LaneAnswer;
        if (a.id !== id) continue; // an answer to a read given up on
        if (a.bytes) return deserialize(a.bytes) as SQLResult;
        return { error: a.error ?? "the read lane gave no answer", code: "SQLITE_ERROR" };
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        port.postMessage({ kill: true });
        return { error: `stopped after ${limitMs} ms`, code: "SQLITE_INTERRUPT" };
      }
      Atomics.wait(flag, 0, 0, left === Infinity ? undefined : left);
    }
  }

  /**
   * Kills the child now, from this thread: the worker may never run again
   * once the process is on its way out, and a child left to close its
   * connection by itself would checkpoint the WAL just as the file's next
   * user opens it.
   */
  private readonly kill = (): void => {
    const pid = this.flag ? Atomics.load(this.flag, 1) : 0;
    if (pid > 0) {
      try {
        process.kill(pid, "SIGKILL");
      } catch { /* gone already */ }
    }
  };

  close(): void {
    if (!this.port) return;
    this.kill();
    process.removeListener("exit", this.kill);
    this.port.postMessage({ close: true });
    const w = this.worker;
    this.drop();
    void w?.terminate();
  }
}

/**
 * Gives a connection to a file its read lane (lane.ts), which opens the file
 * again through `adapter` (the URL of the module whose openDatabase made
 * `db`) and is closed with it. A database in memory has no other connection:
 * its reads all run where they are.
 */
export function withLane(db: Database, adapter: string): Database {
  const path = db.path;
  if (path === undefined || path === "" || path === ":memory:" || path.startsWith("file::memory:")) return db;
  const lane = new ReadLane(adapter, path);
  return {
    path,
    lane,
    // A caller's read (PROTOCOL.md, "Caller reads") runs in the lane, on its
    // read-only connection, within the read's own time limit.
    run: (req) => req.read ? lane.run(req, req.read.limitMs) : db.run(req),
    close() {
      lane.close();
      db.close();
    },
  };
}
