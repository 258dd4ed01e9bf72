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

export class BrowserSet {
  readonly version: string;
  readonly #files: Map<string, BrowserFile>;

  private constructor(version: string, files: Map<string, BrowserFile>) {
    this.version = version;
    this.#files = files;
  }

  /** Reads the set in dir (a directory URL ending in "/"); null when there is none there. */
  static async load(dir: URL = defaultBrowserSetURL()): Promise<BrowserSet | null> {
    const where = dir.protocol === "file:" ? decodeURIComponent(dir.pathname) : dir.href;
    try {
      const raw = await read(new URL("manifest.json", dir));
      if (raw === null) return null;
      const m = JSON.parse(new TextDecoder().decode(raw)) as { version?: unknown; files?: unknown };
      if (typeof m.version !== "string" || m.version === "" || !Array.isArray(m.files)) {
        throw new Error("manifest.json is not one");
      }
      const files = new Map<string, BrowserFile>();
      for (const name of m.files) {
        if (typeof name !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
          throw new Error(`${JSON.stringify(name)} is not a file name`);
        }
        const body = await read(new URL(name, dir));
        if (body === null) throw new Error(`${name} is missing`);
        const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>));
        const etag = `"${[...sum.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
        files.set(name, { body, type: typeOf(name), etag });
      }
      if (!files.has("sw.js")) throw new Error("no sw.js");
      return new BrowserSet(m.version, files);
    } catch (e) {
      throw new NakedhtmxError("CORE_OPEN", `the browser set in ${where}: ${errorMessage(e)}; run "make build"`);
    }
  }

  /**
   * Answers GET and HEAD of /offline/NAME (path with the base path removed)
   * for a file of the set; null: the request is the core's.
   */
  answer(method: string, path: string, basePath: string, ifNoneMatch: string | null | undefined): SetAnswer | null {
    if ((method !== "GET" && method !== "HEAD") || !path.startsWith("/offline/")) return null;
    const name = path.slice("/offline/".length);
    const f = this.#files.get(name);
    if (!f) return null;
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
