// Live updates on this runtime (bindings/PROTOCOL.md, "Live"): fan-out by
// table and format, a client that never reads closed while a reading one gets
// every message in order, keep-alives, close() ending the streams and letting
// the process exit, the tick right after a write, and, end to end, the CLI's
// /api/events announcing a row that another connection inserted.
//
//   deno run -A bindings/ts/test/live.ts | bun bindings/ts/test/live.ts | node bindings/ts/test/live.ts
//
// Needs a build (`make build`) for the end-to-end tests.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { CoreHandler, CoreResponse } from "../src/core.ts";
import { createFetchHandler, createNodeHandler, type FetchHandler, type HandlerOptions } from "../src/handler.ts";
import { createNakedhtmx } from "../src/library.ts";
import { isWrite, Live, type LiveOptions, type TickSource } from "../src/live.ts";
import type { RequestHead, TickMessage, TickResult } from "../src/protocol.ts";
import type { Database } from "../src/sqlite.ts";
import { check, eq, run, runtimeName, Skip, test } from "./harness.ts";
import { openDatabaseForRuntime, serveForRuntime } from "./runtime.ts";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const wasm = process.env["NAKEDHTMX_WASM"] || undefined;
const repo = fileURLToPath(new URL("../../../", import.meta.url));
const self = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------
// The child process of the "lets the process exit" tests: opens a library
// instance and a stream, then either closes it or not, and falls off the end.

if (process.argv.includes("--child")) {
  const mode = process.argv[process.argv.indexOf("--child") + 1];
  const db = process.argv[process.argv.indexOf("--child") + 2]!;
  const openDatabase = await openDatabaseForRuntime();
  const nh = await createNakedhtmx({ host: runtimeName, openDatabase }, { db, wasm, log: () => {} });
  const res = await nh.fetch(new Request("http://localhost/api/events", { headers: { accept: "text/event-stream" } }));
  const reader = res.body!.getReader();
  const first = await reader.read();
  process.stdout.write(`backlog ${JSON.stringify(utf8Decoder.decode(first.value))}\n`);
  if (mode === "close") {
    await nh.close();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    process.stdout.write("ended\n");
  } else {
    process.stdout.write("left open\n"); // no close(): the hub's timers alone must not keep the process alive
  }
} else {
  await main();
}

async function main(): Promise<void> {
  const openDatabase = await openDatabaseForRuntime();
  const serve = await serveForRuntime();
  const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-live-"));
  let dbCount = 0;
  const freshPath = () => join(tmp, `t${dbCount++}.db`);

  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  function msg(id: number, table: string, api?: string, page?: string): TickMessage {
    return {
      id,
      table,
      api: api ?? `id: ${id}\nevent: change\ndata: {"table":"${table}"}\n\n`,
      page: page ?? `id: ${id}\nevent: nh-change\ndata: {"table":"${table}"}\n\n`,
    };
  }

  const BACKLOG = "retry: 1000\n\n";

  /** A core that answers subscriptions as the real one does, and ticks what the test queues. */
  class FakeLiveCore implements CoreHandler, TickSource {
    pending: TickMessage[] = [];
    calls: string[] = [];
    ticks = 0;
    nextId = 1;
    handle(head: RequestHead, _body: Uint8Array): CoreResponse {
      this.calls.push(`${head.method} ${head.path}${head.continue ? " continue" : ""}`);
      const page = /^\/t\/([^/]+)\/live$/.exec(head.path);
      if (head.path === "/api/events" || page) {
        const table = page ? decodeURIComponent(page[1]!) : new URLSearchParams(head.query).get("table") ?? "";
        return {
          head: {
            status: 200,
            headers: [["content-type", "text/event-stream"], ["cache-control", "no-store"]],
            subscribe: { table, format: page ? "page" : "api" },
          },
          body: utf8.encode(BACKLOG),
        };
      }
      if (head.path === "/csv") {
        const i = head.continue ? Number(head.continue) : 0;
        return {
          head: i === 0 ? { status: 200, headers: [["content-type", "text/csv"]], continue: "1" } : {},
          body: utf8.encode(i === 0 ? "a\n" : "b\n"),
        };
      }
      if (isWrite(head.method)) {
        this.pending.push(msg(this.nextId++, "A"));
        return { head: { status: 201, headers: [] }, body: utf8.encode("written") };
      }
      return { head: { status: 200, headers: [] }, body: utf8.encode("ok") };
    }
    tick(): TickResult {
      this.ticks++;
      this.calls.push("tick");
      const messages = this.pending;
      this.pending = [];
      return { messages };
    }
  }

  function setup(
    opts: LiveOptions = {},
  ): { core: FakeLiveCore; live: Live; fetch: FetchHandler; hopts: HandlerOptions } {
    const core = new FakeLiveCore();
    const live = new Live(core, { tickMs: 0, heartbeatMs: 0, ...opts });
    const hopts = { basePath: "", live };
    return { core, live, fetch: createFetchHandler(core, hopts), hopts };
  }

  /** A stream reader, whichever runtime's types describe it. */
  interface Reader {
    read(): Promise<{ done: boolean; value?: Uint8Array }>;
    cancel(reason?: unknown): Promise<void>;
  }

  /** Reads a stream in the background, keeping every chunk and the text so far. */
  class Drain {
    chunks: Uint8Array[] = [];
    text = "";
    error: unknown = undefined;
    done: Promise<void>;
    readonly reader: Reader;
    constructor(reader: Reader) {
      this.reader = reader;
      this.done = (async () => {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done || !value) return;
            this.chunks.push(value);
            this.text += utf8Decoder.decode(value, { stream: true });
          }
        } catch (e) {
          this.error = e;
        }
      })();
    }
    static of(res: Response): Drain {
      return new Drain(res.body!.getReader());
    }
    /** Waits until the text so far satisfies `cond`. */
    async until(cond: (text: string) => boolean, what: string, ms = 5000): Promise<void> {
      const deadline = performance.now() + ms;
      while (!cond(this.text)) {
        if (performance.now() > deadline) {
          throw new Error(`${what}: not within ${ms} ms; got ${JSON.stringify(this.text.slice(-300))}`);
        }
        await sleep(5);
      }
    }
  }

  /** The `id:` of every event in SSE text, in order. */
  function ids(text: string): number[] {
    return [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  }

  function range(from: number, to: number): number[] {
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  }

  async function listen(
    handler: Parameters<typeof createServer>[1] & object,
  ): Promise<{ url: string; port: number; server: Server }> {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return { url: `http://127.0.0.1:${port}`, port, server };
  }

  async function closeServer(server: Server): Promise<void> {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------
  // Fan-out, with a fake core

  test("fan-out: api text to api streams, page text to page streams, by table; schema to all", async () => {
    const { core, live, fetch } = setup();
    const open = async (path: string) => Drain.of(await fetch(new Request("http://localhost" + path)));
    const apiAll = await open("/api/events");
    const apiA = await open("/api/events?table=A");
    const apiB = await open("/api/events?table=B");
    const pageA = await open("/t/A/live");
    const pageB = await open("/t/B/live");
    eq(live.size, 5, "subscribers");
    const m = [
      msg(1, "A"),
      msg(2, "B", ""), // nothing for api streams
      msg(3, "", "id: 3\nevent: schema\ndata: {}\n\n", "id: 3\nevent: nh-schema\ndata: {}\n\n"),
      msg(4, "A", undefined, ""), // nothing for pages
      msg(5, "C"),
      msg(6, "A", "", ""), // nothing at all
    ];
    core.pending = m;
    live.tick();
    live.close();
    await Promise.all([apiAll, apiA, apiB, pageA, pageB].map((d) => d.done));
    const api = (i: number) => m[i - 1]!.api;
    const page = (i: number) => m[i - 1]!.page;
    eq(apiAll.text, BACKLOG + api(1) + api(3) + api(4) + api(5), "api, every table");
    eq(apiA.text, BACKLOG + api(1) + api(3) + api(4), "api, table A");
    eq(apiB.text, BACKLOG + api(3), "api, table B");
    eq(pageA.text, BACKLOG + page(1) + page(3), "page, table A");
    eq(pageB.text, BACKLOG + page(2) + page(3), "page, table B");
    eq(live.size, 0, "none left after close");
  });

  test("fan-out held by row rules: a viewer gets the message, its removal or nothing; no viewer gets all; ticks name the viewers", async () => {
    const asked: string[] = [];
    const held: TickMessage = {
      ...msg(1, "A"),
      held: true,
      only: ["alice"],
      gone: ["bob"],
      goneApi: 'id: 1\nevent: change\ndata: {"op":"delete"}\n\n',
      gonePage: 'id: 1\nevent: nh-change\ndata: {"op":"delete"}\n\n',
    };
    let pending: TickMessage[] = [];
    const live = new Live({
      tick: (_formats, viewers) => {
        asked.push(viewers.join(",") || "none");
        const messages = pending;
        pending = [];
        return { messages };
      },
    }, { tickMs: 0, heartbeatMs: 0 });
    const open = (viewer: string | undefined, format: string) =>
      new Drain(live.subscribe({ table: "", format, viewer }, new Uint8Array(0)).getReader());
    const [aApi, aPage, bApi, bPage, cApi, admin] = [
      open("alice", "api"),
      open("alice", "page"),
      open("bob", "api"),
      open("bob", "page"),
      open("carol", "api"),
      open(undefined, "api"),
    ];
    pending = [held, msg(2, "B")];
    live.tick();
    live.close();
    await Promise.all([aApi, aPage, bApi, bPage, cApi, admin].map((d) => d.done));
    eq(aApi.text, held.api + msg(2, "B").api, "alice (api): the message");
    eq(aPage.text, held.page + msg(2, "B").page, "alice (page): the message");
    eq(bApi.text, held.goneApi! + msg(2, "B").api, "bob (api): the removal");
    eq(bPage.text, held.gonePage! + msg(2, "B").page, "bob (page): the removal");
    eq(cApi.text, msg(2, "B").api, "carol: nothing of the held message");
    eq(admin.text, held.api + msg(2, "B").api, "no viewer: everything");
    eq(asked.join(" "), "alice,bob,carol", "the viewers named, sorted, each once");
  });

  test("ticks ask only for the formats of the open streams", () => {
    const asked: string[] = [];
    const live = new Live({
      tick: (formats) => {
        asked.push([...formats].sort().join(",") || "none");
        return { messages: [] };
      },
    }, { tickMs: 0, heartbeatMs: 0 });
    live.tick();
    const api = live.subscribe({ table: "", format: "api" }, new Uint8Array(0));
    live.tick();
    live.subscribe({ table: "A", format: "page" }, new Uint8Array(0));
    live.subscribe({ table: "B", format: "page" }, new Uint8Array(0));
    live.tick();
    void api.cancel();
    live.tick();
    live.close();
    eq(asked.join(" "), "none api api,page page", "formats asked");
  });

  test("fan-out: each text is encoded once, the same bytes go to every stream", async () => {
    const live = new Live({ tick: () => ({ messages: [msg(1, "A"), msg(2, "")] }) }, { tickMs: 0, heartbeatMs: 0 });
    const streams = [0, 1, 2].map(() =>
      new Drain(live.subscribe({ table: "", format: "api" }, utf8.encode(BACKLOG)).getReader())
    );
    const pages = [0, 1].map(() =>
      new Drain(live.subscribe({ table: "A", format: "page" }, new Uint8Array(0)).getReader())
    );
    live.tick();
    live.close();
    await Promise.all([...streams, ...pages].map((d) => d.done));
    for (const d of streams) eq(d.chunks.length, 3, "backlog and two messages");
    check(streams.every((d) => d.chunks[1] === streams[0]!.chunks[1]), "one Uint8Array for message 1, api");
    check(streams.every((d) => d.chunks[2] === streams[0]!.chunks[2]), "one Uint8Array for message 2, api");
    check(pages[0]!.chunks[0] === pages[1]!.chunks[0], "one Uint8Array for message 1, page");
    check(pages[0]!.chunks[0] !== streams[0]!.chunks[1], "api and page texts are apart");
  });

  test("fan-out: an unknown format gets nothing but keep-alives; a failing tick is logged once", async () => {
    const logs: string[] = [];
    let fail = true;
    const live = new Live({
      tick: () => {
        if (fail) throw new Error("core trapped in nh_tick: unreachable");
        return { messages: [msg(1, "")] };
      },
    }, { tickMs: 0, heartbeatMs: 0, log: (l) => logs.push(l) });
    const odd = new Drain(live.subscribe({ table: "", format: "xml" }, new Uint8Array(0)).getReader());
    live.tick();
    live.tick();
    eq(logs, ["live tick: core trapped in nh_tick: unreachable"], "logged once");
    fail = false;
    live.tick();
    live.heartbeat();
    live.close();
    await odd.done;
    eq(odd.text, ": keep-alive\n\n", "only the keep-alive");
  });

  // -------------------------------------------------------------------------
  // Slow clients

  test("a stream that is never read is closed past 1 MiB; a reading one gets every message in order", async () => {
    const { core, live, fetch } = setup();
    const reading = Drain.of(await fetch(new Request("http://localhost/api/events")));
    const stalled = (await fetch(new Request("http://localhost/api/events"))).body!.getReader();
    const filler = "x".repeat(64 * 1024);
    let cutAt = 0;
    for (let i = 1; i <= 40; i++) {
      core.pending.push(msg(i, "A", `id: ${i}\ndata: ${filler}\n\n`));
      live.tick();
      if (!cutAt && live.size === 1) cutAt = i;
      await sleep(0);
    }
    // 16 messages of 64 KiB (plus their few header bytes) fill 1 MiB: the 16th no longer fits.
    eq(cutAt, 16, "closed at the message that would go over 1 MiB");
    // What it held is dropped: when it finally reads, the backlog, then the end.
    eq(utf8Decoder.decode((await stalled.read()).value), BACKLOG, "the backlog");
    check((await stalled.read()).done, "then the end");
    live.close();
    await reading.done;
    eq(ids(reading.text), range(1, 40), "the reader got every message, in order");
  });

  test("a large backlog does not count against the limit", async () => {
    const live = new Live({ tick: () => ({ messages: [msg(1, "A", "id: 1\n\n")] }) }, { tickMs: 0, heartbeatMs: 0 });
    const backlog = utf8.encode("x".repeat(2 * 1024 * 1024));
    const d = live.subscribe({ table: "", format: "api" }, backlog).getReader();
    live.tick();
    eq(live.size, 1, "still subscribed");
    live.close();
    check((await d.read()).value === backlog, "backlog");
    eq(utf8Decoder.decode((await d.read()).value), "id: 1\n\n", "message");
    check((await d.read()).done, "ended");
  });

  /**
   * Through a real server: a raw connection that never reads, and a fetch
   * that does. Loopback sockets take a few MiB before the server feels it, so
   * the messages are large and many. The stalled connection's response ends
   * or the connection is cut (its client comes back with the last id it
   * got): what it finally reads is a gapless prefix, then the end.
   */
  async function slowClientOverHTTP(port: number, live: Live, core: FakeLiveCore): Promise<void> {
    const reading = Drain.of(await fetch(`http://127.0.0.1:${port}/api/events`));
    const sock = connect(port, "127.0.0.1");
    sock.pause();
    let cut = false;
    sock.on("close", () => (cut = true));
    sock.on("error", () => {});
    sock.write("GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n");
    for (let i = 0; i < 200 && live.size < 2; i++) await sleep(5);
    eq(live.size, 2, "both subscribed");
    const filler = "x".repeat(256 * 1024);
    let n = 0;
    for (; n < 200 && live.size === 2; n++) {
      core.pending.push(msg(n + 1, "A", `id: ${n + 1}\ndata: ${filler}\n\n`));
      live.tick();
      await sleep(5);
    }
    check(live.size === 1, `the stalled connection was dropped (after ${n} messages of 256 KiB)`);
    await reading.until((t) => ids(t).length === n, `the reader got all ${n}`);
    eq(ids(reading.text), range(1, n), "in order");
    let raw = "";
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => (raw += d));
    sock.resume();
    for (let i = 0; i < 1000 && !cut && !raw.endsWith("0\r\n\r\n"); i++) await sleep(5);
    // node:http cuts the connection; Deno.serve and Bun.serve end the response.
    check(
      cut || raw.endsWith("0\r\n\r\n"),
      `the response ended or the connection was cut (${JSON.stringify(raw.slice(-16))})`,
    );
    const got = ids(raw);
    check(got.length > 0 && got.length < n, `a part reached the stalled client (${got.length} of ${n})`);
    eq(got, range(1, got.length), "a gapless prefix");
    sock.destroy();
    reading.reader.cancel().catch(() => {});
  }

  test(`over ${runtimeName}'s own server (fetch handler): a stalled connection is closed, a reader gets all`, async () => {
    const { core, live, hopts } = setup();
    const server = await serve({
      hostname: "127.0.0.1",
      port: 0,
      app: { fetch: createFetchHandler(core, hopts), node: createNodeHandler(core, hopts) },
    });
    try {
      await slowClientOverHTTP(server.port, live, core);
    } finally {
      live.close();
      await server.close();
    }
  });

  test("over node:http (node handler): a stalled connection is closed, a reader gets all", async () => {
    const { core, live, hopts } = setup();
    const node = createNodeHandler(core, hopts);
    const { port, server } = await listen((req, res) => node(req, res));
    try {
      await slowClientOverHTTP(port, live, core);
    } finally {
      live.close();
      await closeServer(server);
    }
  });

  test("a client that goes away is unregistered (fetch handler and node handler)", async () => {
    const { core, live, hopts: h } = setup();
    const s = await serve({
      hostname: "127.0.0.1",
      port: 0,
      app: { fetch: createFetchHandler(core, h), node: createNodeHandler(core, h) },
    });
    const node = createNodeHandler(core, h);
    const n = await listen((req, res) => node(req, res));
    try {
      for (const url of [`http://127.0.0.1:${s.port}/api/events`, `${n.url}/t/A/live`]) {
        const ac = new AbortController();
        const res = await fetch(url, { signal: ac.signal });
        const d = Drain.of(res);
        await d.until((t) => t.startsWith(BACKLOG), "backlog");
        eq(live.size, 1, `subscribed: ${url}`);
        ac.abort();
        for (let i = 0; i < 200 && live.size > 0; i++) await sleep(5);
        eq(live.size, 0, `unregistered: ${url}`);
        await d.done;
      }
    } finally {
      live.close();
      await s.close();
      await closeServer(n.server);
    }
  });

  test("Bun.serve: an event stream outlives the server's idle timeout (the handler lifts it per request)", async () => {
    const bun = (globalThis as unknown as {
      Bun?: {
        serve(o: {
          hostname: string;
          port: number;
          idleTimeout: number;
          fetch: (req: Request, server: unknown) => Promise<Response>;
        }): { port?: number; stop(force: boolean): Promise<void> };
      };
    }).Bun;
    if (!bun) throw new Skip("Bun only");
    const { live, fetch } = setup();
    // As a library user would mount it, with a short idle timeout instead of Bun's 10 s.
    const server = bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 1, fetch });
    try {
      const d = Drain.of(await globalThis.fetch(`http://127.0.0.1:${server.port}/api/events`));
      await d.until((t) => t === BACKLOG, "backlog");
      await sleep(5500); // Bun checks idle connections every few seconds: 1 s cuts after about 4
      eq(d.error, undefined, "not cut");
      eq(live.size, 1, "still subscribed");
      live.fanOut([msg(1, "A")]);
      await d.until((t) => ids(t).includes(1), "a message after the idle timeout");
    } finally {
      live.close();
      await server.stop(true);
    }
  });

  // -------------------------------------------------------------------------
  // Keep-alives and close()

  test("keep-alive comments go to every stream on the heartbeat", async () => {
    const { live, fetch, hopts, core } = setup({ heartbeatMs: 30 });
    const a = Drain.of(await fetch(new Request("http://localhost/api/events")));
    const node = createNodeHandler(core, hopts);
    const { url, server } = await listen((req, res) => node(req, res));
    try {
      const b = Drain.of(await globalThis.fetch(`${url}/t/A/live`));
      const two = (t: string) => t.split(": keep-alive\n\n").length - 1 >= 2;
      await a.until(two, "two keep-alives (fetch)", 3000);
      await b.until(two, "two keep-alives (node)", 3000);
      check(a.text.startsWith(BACKLOG + ": keep-alive\n\n"), "after the backlog");
      live.close();
      await a.done;
      await b.done;
      check(/^retry: 1000\n\n(: keep-alive\n\n)+$/.test(b.text), `only keep-alives: ${JSON.stringify(b.text)}`);
    } finally {
      live.close();
      await closeServer(server);
    }
  });

  test("close() ends every stream, stops the timer; later subscriptions get their backlog and end", async () => {
    const { core, live, fetch, hopts } = setup({ tickMs: 10 });
    const node = createNodeHandler(core, hopts);
    const { url, server } = await listen((req, res) => node(req, res));
    try {
      const streams = [
        Drain.of(await fetch(new Request("http://localhost/api/events"))),
        Drain.of(await fetch(new Request("http://localhost/t/A/live"))),
        Drain.of(await globalThis.fetch(`${url}/api/events`)),
      ];
      await streams[2]!.until((t) => t === BACKLOG, "node stream open");
      eq(live.size, 3, "subscribed");
      await sleep(50);
      check(core.ticks >= 2, `the timer ticks (${core.ticks})`);
      core.pending.push(msg(1, "A"));
      live.close();
      const ticks = core.ticks;
      await Promise.all(streams.map((d) => d.done));
      eq(streams.map((d) => d.error), [undefined, undefined, undefined], "ended, not errored");
      eq(streams.map((d) => d.text), [BACKLOG, BACKLOG, BACKLOG], "nothing after close");
      await sleep(50);
      eq(core.ticks, ticks, "no tick after close");
      const late = await fetch(new Request("http://localhost/api/events"));
      eq(await late.text(), BACKLOG, "a subscription after close: backlog, then the end");
      eq(live.size, 0, "none kept");
    } finally {
      await closeServer(server);
    }
  });

  /** Runs this file as a child (--child MODE DB) and waits for it to exit on its own. */
  async function child(mode: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
    const db = freshPath();
    // The runtime's own flags (node: --disable-warning, or on Node 22 the flags it needs).
    const args = runtimeName === "deno" ? ["run", "-A", self] : [...process.execArgv, self];
    const t0 = performance.now();
    const c: ChildProcess = spawn(process.execPath, [...args, "--child", mode, db], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TEST_ONLY: "" },
    });
    let stdout = "";
    let stderr = "";
    c.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    c.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const killer = setTimeout(() => c.kill("SIGKILL"), 15000);
    const code = await new Promise<number | null>((r) => c.on("exit", (code, sig) => r(sig ? -1 : code)));
    clearTimeout(killer);
    return { code, stdout, stderr, ms: performance.now() - t0 };
  }

  test("library: close() ends an open event stream and the process exits on its own", async () => {
    const r = await child("close");
    eq(r.code, 0, `exit code (stderr: ${r.stderr})`);
    check(r.stdout.includes('backlog "retry: 1000\\n\\n"'), `backlog read (stdout: ${r.stdout})`);
    check(r.stdout.includes("ended"), `the stream ended (stdout: ${r.stdout})`);
    check(r.ms < 14000, "not killed");
  });

  test("library: the live timers alone never keep a process alive", async () => {
    const r = await child("open");
    eq(r.code, 0, `exit code (stderr: ${r.stderr})`);
    check(r.stdout.includes("left open"), `ran (stdout: ${r.stdout})`);
  });

  // -------------------------------------------------------------------------
  // The tick after a write

  test("a POST, PUT, PATCH or DELETE is followed at once by a tick; GETs and continuations are not", async () => {
    const { core, live, fetch, hopts } = setup(); // no timer: only the ticks after writes
    const events = Drain.of(await fetch(new Request("http://localhost/api/events")));
    const node = createNodeHandler(core, hopts);
    const { url, server } = await listen((req, res) => node(req, res));
    try {
      let id = 0;
      for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
        core.calls = [];
        const res = await fetch(new Request("http://localhost/t/A/rows", { method, body: "{}" }));
        eq(core.calls, [`${method} /t/A/rows`, "tick"], `${method}: the tick right after the handle`);
        await res.text();
        id++;
        await events.until((t) => ids(t).includes(id), `${method}: the event without a timer`, 1000);
      }
      core.calls = [];
      const posted = await globalThis.fetch(`${url}/t/A/rows`, { method: "POST", body: "{}" });
      await posted.text();
      eq(core.calls, ["POST /t/A/rows", "tick"], "node handler: the tick right after the handle");
      await events.until((t) => ids(t).includes(5), "node handler: the event", 1000);
      core.calls = [];
      await (await fetch(new Request("http://localhost/t/A"))).text();
      eq(await (await fetch(new Request("http://localhost/csv"))).text(), "a\nb\n", "continuation");
      eq(core.calls, ["GET /t/A", "GET /csv", "GET /csv continue"], "no tick after GETs or continuations");
      eq(ids(events.text), [1, 2, 3, 4, 5], "every write announced, in order");
    } finally {
      live.close();
      await closeServer(server);
    }
  });

  test("with a timer, a write is followed by a tick only while a stream is open or a bus announces", async () => {
    let bus = false;
    const { core, live, fetch } = setup({ tickMs: 60_000, announces: () => bus });
    try {
      core.calls = [];
      await (await fetch(new Request("http://localhost/t/A/rows", { method: "POST", body: "{}" }))).text();
      eq(core.calls, ["POST /t/A/rows"], "nobody to tell: the timer's tick moves past the write");
      bus = true;
      core.calls = [];
      await (await fetch(new Request("http://localhost/t/A/rows", { method: "POST", body: "{}" }))).text();
      eq(core.calls, ["POST /t/A/rows", "tick"], "a bus announces every write at once");
      bus = false;
      const events = Drain.of(await fetch(new Request("http://localhost/api/events")));
      core.calls = [];
      await (await fetch(new Request("http://localhost/t/A/rows", { method: "POST", body: "{}" }))).text();
      eq(core.calls, ["POST /t/A/rows", "tick"], "a stream is open: its event before the answer");
      await events.until((t) => ids(t).includes(3), "the open stream's event", 1000);
      await events.reader.cancel();
      for (let i = 0; i < 100 && live.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
      eq(live.size, 0, "the stream closed");
      core.calls = [];
      await (await fetch(new Request("http://localhost/t/A/rows", { method: "POST", body: "{}" }))).text();
      eq(core.calls, ["POST /t/A/rows"], "the stream is gone: no tick again");
    } finally {
      live.close();
    }
  });

  test("the write's event is queued on the stream before the writer has its answer", async () => {
    const { core, live } = setup();
    let queuedBeforeAnswer = false;
    const stream = live.subscribe({ table: "", format: "api" }, new Uint8Array(0));
    const reader = stream.getReader();
    const spy: CoreHandler = {
      handle: (head, body) => core.handle(head, body),
    };
    const fetch = createFetchHandler(spy, { basePath: "", live });
    const answer = fetch(new Request("http://localhost/t/A/rows", { method: "POST", body: "{}" }));
    const first = reader.read().then((r) => {
      queuedBeforeAnswer = true;
      return r;
    });
    const res = await answer;
    await sleep(0);
    check(queuedBeforeAnswer, "the stream had the event when the answer was ready");
    eq(utf8Decoder.decode((await first).value), msg(1, "A").api, "the event");
    eq(res.status, 201, "the answer");
    live.close();
  });

  // -------------------------------------------------------------------------
  // The real core

  function sqlRun(db: Database, sql: string): void {
    const r = db.run({ sql, params: [], script: true });
    if ("error" in r) throw new Error(r.error);
  }

  function makeDB(path: string): void {
    const db = openDatabase(path);
    try {
      sqlRun(
        db,
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL); INSERT INTO tasks (title) VALUES ('one');",
      );
    } finally {
      db.close();
    }
  }

  interface SSE {
    id?: number;
    event?: string;
    data?: string;
  }

  function events(text: string): SSE[] {
    const out: SSE[] = [];
    for (const block of text.split("\n\n")) {
      const e: SSE = {};
      for (const line of block.split("\n")) {
        const i = line.indexOf(": ");
        if (i <= 0) continue;
        const k = line.slice(0, i);
        const v = line.slice(i + 2);
        if (k === "id") e.id = Number(v);
        else if (k === "event") e.event = v;
        else if (k === "data") e.data = v;
      }
      if (e.event) out.push(e);
    }
    return out;
  }

  test("library, real core: a POST through fetch is announced on /api/events and the page stream at once", async () => {
    const path = freshPath();
    makeDB(path);
    const nh = await createNakedhtmx({ host: runtimeName, openDatabase }, { db: path, wasm, log: () => {} }, {
      tickMs: 0, // only the tick after the write can announce it
    });
    try {
      const api = await nh.fetch(
        new Request("http://localhost/api/events", { headers: { accept: "text/event-stream" } }),
      );
      eq(api.status, 200, "status");
      check((api.headers.get("content-type") ?? "").startsWith("text/event-stream"), "an event stream");
      const apiEvents = Drain.of(api);
      const page = Drain.of(await nh.fetch(new Request("http://localhost/t/tasks/live")));
      const other = Drain.of(await nh.fetch(new Request("http://localhost/api/events?table=nothere")));
      await apiEvents.until((t) => t.startsWith("retry:"), "backlog");
      const res = await nh.fetch(
        new Request("http://localhost/api/tables/tasks/rows", {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: '{"title":"two"}',
        }),
      );
      eq(res.status, 201, `POST (${await res.text()})`);
      await apiEvents.until((t) => events(t).some((e) => e.event === "change"), "change event", 2000);
      const change = events(apiEvents.text).find((e) => e.event === "change")!;
      const data = JSON.parse(change.data!) as { table: string; op: string; pk: unknown; seq: number };
      eq([data.table, data.op, data.pk], ["tasks", "insert", { id: 2 }], "the change");
      eq(change.id, data.seq, "id is the seq");
      await page.until((t) => events(t).some((e) => e.event === "nh-change"), "page event", 2000);
      await other.done;
      eq(other.error, undefined, "an unknown table is no stream");
    } finally {
      await nh.close();
    }
  });

  // -------------------------------------------------------------------------
  // End to end: the CLI, and a second connection that writes

  function cliCommand(): { cmd: string; args: string[] } {
    if (runtimeName === "deno") return { cmd: process.execPath, args: ["run", "-A", join(repo, "deno/serve.ts")] };
    return { cmd: process.execPath, args: [join(repo, "npm/bin/nakedhtmx.js")] };
  }

  test(`${runtimeName} CLI: GET /api/events announces a row another connection inserted; SIGTERM ends the streams`, async () => {
    const path = freshPath();
    makeDB(path);
    const { cmd, args } = cliCommand();
    const c = spawn(cmd, [...args, "--db", path, "--port", "0"], { cwd: tmp, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    c.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    c.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => c.on("exit", (code, sig) => r(sig ? -1 : code)));
    const killer = setTimeout(() => c.kill("SIGKILL"), 30000);
    const other = openDatabase(path);
    try {
      let url = "";
      for (let i = 0; i < 2000 && !url; i++) {
        url = /http:\/\/[^\s]+\//.exec(stdout)?.[0] ?? "";
        if (c.exitCode !== null) throw new Error(`exited ${c.exitCode}: ${stderr}`);
        if (!url) await sleep(10);
      }
      check(url, `the URL line (stdout: ${stdout}, stderr: ${stderr})`);
      const res = await fetch(url + "api/events", { headers: { accept: "text/event-stream" } });
      eq(res.status, 200, "status");
      const stream = Drain.of(res);
      const tasksOnly = Drain.of(await fetch(url + "api/events?table=tasks"));
      await stream.until((t) => t.startsWith("retry:"), "backlog");
      sqlRun(other, "INSERT INTO tasks (title) VALUES ('from outside')");
      await stream.until((t) => events(t).some((e) => e.event === "change"), "change event", 5000);
      const data = JSON.parse(events(stream.text).find((e) => e.event === "change")!.data!) as {
        table: string;
        op: string;
        pk: unknown;
      };
      eq([data.table, data.op, data.pk], ["tasks", "insert", { id: 2 }], "the outside insert");
      await tasksOnly.until((t) => events(t).some((e) => e.event === "change"), "the table's stream too", 5000);
      sqlRun(other, "UPDATE tasks SET title = 'changed' WHERE id = 1; DELETE FROM tasks WHERE id = 2");
      await stream.until((t) => events(t).filter((e) => e.event === "change").length === 3, "update and delete", 5000);
      eq(
        events(stream.text).filter((e) => e.event === "change").map((e) => (JSON.parse(e.data!) as { op: string }).op),
        ["insert", "update", "delete"],
        "ops in order",
      );
      const ids = events(stream.text).map((e) => e.id!);
      check(ids.every((id, i) => i === 0 || id > ids[i - 1]!), `ids increase: ${ids.join(",")}`);
      // Resume: Last-Event-ID after the first change gives the other two.
      const resumed = Drain.of(
        await fetch(url + "api/events", { headers: { "last-event-id": String(ids[0]) } }),
      );
      await resumed.until((t) => events(t).filter((e) => e.event === "change").length === 2, "resumed backlog", 5000);
      const t0 = performance.now();
      process.kill(c.pid!, "SIGTERM");
      eq(await exited, 0, "exit code after SIGTERM");
      const ms = performance.now() - t0;
      check(ms < 2500, `exited in ${Math.round(ms)} ms with open streams (not after the 3 s server timeout)`);
      await Promise.all([stream.done, tasksOnly.done, resumed.done]);
    } finally {
      clearTimeout(killer);
      other.close();
      if (c.exitCode === null) c.kill("SIGKILL");
    }
  });

  const code = await run("live");
  rmSync(tmp, { recursive: true, force: true });
  process.exit(code);
}
