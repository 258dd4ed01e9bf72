// The browser set (PROTOCOL.md, "Offline"): the offline service worker, the
// modules it imports, core.wasm and sqlite-wasm, as scripts/browser-set.mjs
// assembled them in dist/browser/ with a manifest.json. The JS hosts serve it
// at BASE/offline/NAME (handler.ts), as the Go hosts do
// (bindings/go/browserset): only the manifest's names, GET and HEAD.

import { errorMessage, NakedhtmxError } from "./errors.ts";

interface BrowserFile {
  body: Uint8Array;
  type: string;
  etag: string;
}

/** An answer of the set: headers and body, or null when the request is the core's. */
export interface SetAnswer {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/**
 * Where the set is by default: dist/browser/ beside the compiled modules,
 * or, from the TypeScript sources (Deno, JSR), the repository's dist/browser/.
 */
export function defaultBrowserSetURL(): URL {
  return import.meta.url.endsWith(".ts")
    ? new URL("../../../dist/browser/", import.meta.url)
    : new URL("./browser/", import.meta.url);
}

async function read(url: URL): Promise<Uint8Array | null> {
  if (url.protocol === "file:") {
    const [{ readFile }, { fileURLToPath }] = await Promise.all([import("node:fs/promises"), import("node:url")]);
    try {
      return await readFile(fileURLToPath(url));
    } catch (e) {
      if ((e as { code?: unknown }).code === "ENOENT") return null;
      throw e;
    }
  }
  const res = await fetch(url);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

const typeOf = (name: string): string =>
  name.endsWith(".js") || name.endsWith(".mjs")
    ? "text/javascript; charset=utf-8"
    : name.endsWith(".wasm")
    ? "application/wasm"
    : name.endsWith(".json")
    ? "application/json"
    : "application/octet-stream";

/**
 * The set, known at start by its manifest alone; each file is read (and
 * hashed for its ETag) when first asked for, then kept: a host's start does
 * not wait for 10 MB it may never serve.
 */
export class BrowserSet {
  readonly version: string;
  readonly #dir: URL;
  readonly #names: Set<string>;
  readonly #files = new Map<string, Promise<BrowserFile>>();

  private constructor(version: string, dir: URL, names: Set<string>) {
    this.version = version;
    this.#dir = dir;
    this.#names = names;
  }

  /** Reads the set's manifest in dir (a directory URL ending in "/"); null when there is none there. */
  static async load(dir: URL = defaultBrowserSetURL()): Promise<BrowserSet | null> {
    try {
      const raw = await read(new URL("manifest.json", dir));
      if (raw === null) return null;
      const m = JSON.parse(new TextDecoder().decode(raw)) as { version?: unknown; files?: unknown };
      if (typeof m.version !== "string" || m.version === "" || !Array.isArray(m.files)) {
        throw new Error("manifest.json is not one");
      }
      const names = new Set<string>();
      for (const name of m.files) {
        if (typeof name !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
          throw new Error(`${JSON.stringify(name)} is not a file name`);
        }
        names.add(name);
      }
      if (!names.has("sw.js")) throw new Error("no sw.js");
      return new BrowserSet(m.version, dir, names);
    } catch (e) {
      throw setError(dir, e);
    }
  }

  #file(name: string): Promise<BrowserFile> {
    let f = this.#files.get(name);
    if (!f) {
      f = (async () => {
        const body = await read(new URL(name, this.#dir));
        if (body === null) throw new Error(`${name} is missing`);
        const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>));
        const etag = `"${[...sum.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
        return { body, type: typeOf(name), etag };
      })().catch((e) => {
        this.#files.delete(name); // asked again, read again (a build may put it back)
        throw setError(this.#dir, e);
      });
      this.#files.set(name, f);
    }
    return f;
  }

  /**
   * Answers GET and HEAD of /offline/NAME (path with the base path removed)
   * for a file of the set; null: the request is the core's.
   */
  async answer(
    method: string,
    path: string,
    basePath: string,
    ifNoneMatch: string | null | undefined,
  ): Promise<SetAnswer | null> {
    if ((method !== "GET" && method !== "HEAD") || !path.startsWith("/offline/")) return null;
    const name = path.slice("/offline/".length);
    if (!this.#names.has(name)) return null;
    let f: BrowserFile;
    try {
      f = await this.#file(name);
    } catch (e) {
      const body = new TextEncoder().encode(errorMessage(e) + "\n");
      return { status: 500, headers: [["content-type", "text/plain; charset=utf-8"]], body };
    }
    const headers: [string, string][] = [
      ["content-type", f.type],
      ["x-content-type-options", "nosniff"],
      // Asked again every time: the worker's own cache keeps a version, and
      // a new sw.js must reach the browser at once.
      ["cache-control", "no-cache"],
      ["etag", f.etag],
    ];
    if (name === "sw.js") headers.push(["service-worker-allowed", basePath + "/"]);
    // A 304 says no more than the validators (as Go's net/http sends it).
    if (ifNoneMatch === f.etag) return { status: 304, headers: headers.slice(1), body: new Uint8Array(0) };
    return { status: 200, headers, body: method === "HEAD" ? new Uint8Array(0) : f.body };
  }
}

function setError(dir: URL, e: unknown): NakedhtmxError {
  const where = dir.protocol === "file:" ? decodeURIComponent(dir.pathname) : dir.href;
  return new NakedhtmxError("CORE_OPEN", `the browser set in ${where}: ${errorMessage(e)}; run "make build"`);
}
