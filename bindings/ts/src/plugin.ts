// A plugin with a time limit on the JS hosts (docs/plugins.md): its calls
// run in a worker thread of its own (plugin_abi.ts there), while the calling
// thread waits in Atomics.wait with the limit as its timeout, as the read
// lane waits for its child (lane.ts). Past the limit the worker is given up
// (terminated) and the next call starts another, as the Go hosts make the
// instance again. The call stays synchronous for the core, which makes it
// from inside a call of its own.

import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { PluginError, type PluginErrorKind, type PluginGrants, type PluginLimits } from "./plugin_abi.ts";

/** What the worker posts back for one request. */
interface Answer {
  id: number;
  output?: Uint8Array;
  error?: { kind: PluginErrorKind; words: string };
  /** Loading failed (the words of AbiPlugin.load's error). */
  refused?: string;
  log?: [string, string];
}

/**
 * The worker's program (CommonJS, run with `eval`, as lane.ts's): it loads
 * plugin_abi from the URL it is given, then answers each request in order.
 * Once loaded it never returns to its event loop: it waits in Atomics.wait
 * on flag[1] and takes the requests off its port itself. Both sides look for
 * a while before they sleep: a call through the worker cost 70 to 180 µs on
 * this two-core machine while they slept at once (two wake-ups of a sleeping
 * thread), 10 to 40 µs on Node and Bun now (Deno's ports stay slower).
 */
const program = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const flag = new Int32Array(workerData.flag);
const port = workerData.port;
const say = (m) => { port.postMessage(m); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); };
let abi, plugin;
const answer = (m) => {
  if (m.op === "load") {
    try {
      plugin = abi.AbiPlugin.load(m.name, m.wasm, m.limits, m.grants);
      plugin.log = (level, message) => port.postMessage({ id: 0, log: [level, message] });
      say({ id: m.id });
    } catch (e) { say({ id: m.id, refused: String(e && e.message || e) }); }
    return;
  }
  try {
    say({ id: m.id, output: plugin.call(m.fn, m.input) });
  } catch (e) {
    if (e instanceof abi.PluginError) say({ id: m.id, error: { kind: e.kind, words: e.words } });
    else say({ id: m.id, error: { kind: "trap", words: String(e && e.message || e) } });
  }
};
import(workerData.abi).then((m) => {
  abi = m;
  for (;;) {
    // Cleared before the port is read: a request posted after this store
    // sets it again, so the wait below cannot miss it.
    Atomics.store(flag, 1, 0);
    for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) answer(r.message);
    // Calls come in runs (a page's rows, a write's hooks): look a while
    // before sleeping, as the caller does.
    const spinUntil = performance.now() + 0.2;
    while (Atomics.load(flag, 1) === 0 && performance.now() < spinUntil);
    Atomics.wait(flag, 1, 0);
  }
}, (e) => {
  const m = receiveMessageOnPort(port);
  say({ id: m ? m.message.id : 0, refused: "cannot load the plugin runner: " + String(e && e.message || e) });
});
`;

/** How long the caller looks for an answer before it sleeps until one. */
const SPIN_MS = 0.2;

/** How long a worker may take to start and load its plugin. */
const START_MS = 30_000;

/** Go's time.Duration words for whole milliseconds ("300ms", "1.5s", "1m0s"), as bindings/go/plugin says them. */
export function durationWords(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const m = Math.floor(ms / 60_000);
  const s = (ms % 60_000) / 1000;
  return m > 0 ? `${m}m${s}s` : `${s}s`;
}

/** One plugin, its calls bounded in time. */
export class TimedPlugin {
  readonly name: string;
  readonly timeoutMs: number;
  /** Receives what the plugin logs. */
  log?: (level: string, message: string) => void;
  readonly #wasm: Uint8Array;
  readonly #limits: PluginLimits;
  readonly #grants: PluginGrants;
  #worker: { worker: Worker; port: MessagePort; flag: Int32Array } | undefined;
  #seq = 0;

  /**
   * Loads the plugin in a worker now (throws its refusal: imports, memory);
   * timeoutMs bounds each call (default 1 s).
   */
  constructor(
    name: string,
    wasm: Uint8Array,
    limits: PluginLimits & { timeoutMs?: number } = {},
    grants: PluginGrants = {},
  ) {
    this.name = name;
    this.timeoutMs = limits.timeoutMs || 1000;
    this.#wasm = wasm;
    this.#limits = limits;
    this.#grants = grants;
    this.#start();
  }

  #start(): { worker: Worker; port: MessagePort; flag: Int32Array } {
    if (this.#worker) return this.#worker;
    // [0]: an answer is waiting (for this thread); [1]: a request is (for the worker).
    const flag = new Int32Array(new SharedArrayBuffer(8));
    const { port1, port2 } = new MessageChannel();
    const abi = new URL(import.meta.url.endsWith(".ts") ? "./plugin_abi.ts" : "./plugin_abi.js", import.meta.url).href;
    const worker = new Worker(program, {
      eval: true,
      workerData: { flag: flag.buffer, port: port2, abi },
      transferList: [port2],
    });
    worker.unref(); // a plugin never keeps the process alive
    worker.on("error", () => this.#drop());
    this.#worker = { worker, port: port1, flag };
    const a = this.#ask(
      { op: "load", name: this.name, wasm: this.#wasm, limits: this.#limits, grants: this.#grants },
      START_MS,
    );
    if (a === undefined || a.refused !== undefined) {
      this.#drop();
      throw new Error(a?.refused ?? `plugin ${this.name}: its worker did not start within ${START_MS} ms`);
    }
    return this.#worker;
  }

  /** Posts one request and waits for its answer; undefined past `ms`. */
  #ask(m: Record<string, unknown>, ms: number): Answer | undefined {
    const { port, flag } = this.#worker!;
    const id = ++this.#seq;
    port.postMessage({ ...m, id });
    Atomics.store(flag, 1, 1);
    Atomics.notify(flag, 1);
    const deadline = performance.now() + ms;
    for (;;) {
      // Cleared before the port is read: an answer posted after this store
      // sets it again, so the wait below cannot miss it.
      Atomics.store(flag, 0, 0);
      for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) {
        const a = r.message as Answer;
        if (a.log) this.log?.(a.log[0], a.log[1]);
        else if (a.id === id) return a;
      }
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      // Most calls answer within tens of µs: look a while before sleeping,
      // since waking a sleeping thread cost tens of µs more on this machine.
      const spinUntil = performance.now() + SPIN_MS;
      while (Atomics.load(flag, 0) === 0 && performance.now() < spinUntil);
      Atomics.wait(flag, 0, 0, left);
    }
  }

  #drop(): void {
    const w = this.#worker;
    this.#worker = undefined;
    w?.port.close();
    void w?.worker.terminate();
  }

  /** Runs `fn` with `input`; throws PluginError when the plugin does not answer in time or at all. */
  call(fn: string, input: Uint8Array): Uint8Array {
    this.#start();
    const a = this.#ask({ op: "call", fn, input }, this.timeoutMs);
    if (a === undefined) {
      this.#drop(); // the next call starts another, its variables gone with this one
      throw new PluginError(this.name, fn, "timeout", `stopped after ${durationWords(this.timeoutMs)}, its time limit`);
    }
    if (a.error) throw new PluginError(this.name, fn, a.error.kind, a.error.words);
    return a.output ?? new Uint8Array(0);
  }

  close(): void {
    this.#drop();
  }
}
