// What both browser suites share: the host under test, started on a database
// file, and Debian's chromium launched with the flags this machine needs (no
// background networking: the sandbox network is closed and Chromium would
// otherwise keep trying it).

import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server as HTTPServer } from "node:http";
import { extname, join, resolve, sep } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { repoRoot } from "../http/fixture.ts";
import { HOSTS, prepareHost, startServer, staleBuild, type HostName, type Server } from "../http/hosts.ts";

/** Checks a --host value, or exits 2 naming the hosts there are. */
export function checkHost(name: string): HostName {
  if (!(HOSTS as readonly string[]).includes(name)) {
    console.error(`unknown host ${name}; want one of ${HOSTS.join(", ")}`);
    process.exit(2);
  }
  return name as HostName;
}

/** test-results/, where screenshots go (gitignored). */
export function resultsDir(): string {
  const dir = join(repoRoot, "test-results");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Starts the host on dbFile over loopback, saying what it does under the
 * suite's name; port 0 picks a free one (a server started again on the same
 * port keeps its origin, and with it what a browser keeps for the origin).
 */
export async function serve(suite: string, host: HostName, tmp: string, dbFile: string, extra: string[] = [], port = 0): Promise<Server> {
  console.log(`${suite}(${host}): preparing`);
  const stale = staleBuild(host);
  if (stale) console.log(`${suite}(${host}): warning: ${stale}`);
  const server = await startServer(prepareHost(host, tmp), ["--db", dbFile, "--port", String(port), "--host", "127.0.0.1", ...extra]);
  console.log(`${suite}(${host}): serving ${server.url}`);
  return server;
}

const chromiumArgs = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];

/** Launches chromium headless (or headed) from the given binary. */
export function launch(executablePath: string, headed: boolean): Promise<Browser> {
  return chromium.launch({ executablePath, headless: !headed, args: chromiumArgs });
}

/**
 * Launches chromium with a profile in userDataDir: what it keeps there
 * (service workers, IndexedDB) outlives the browser, as a person's does.
 */
export function launchPersistent(executablePath: string, headed: boolean, userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, { executablePath, headless: !headed, args: chromiumArgs });
}

/**
 * Watches every page of a context for what the Content-Security-Policy
 * refuses: each violation (reported by the page itself, so an inline script,
 * a style attribute or an eval that the policy blocks cannot pass unseen),
 * and each HTML document of the server that arrives without the policy.
 * `documents` counts the HTML documents checked, so a run that saw none fails.
 */
export interface CSPWatch {
  violations: string[];
  documents: number;
}

export async function watchCSP(context: BrowserContext, base: string): Promise<CSPWatch> {
  const w: CSPWatch = { violations: [], documents: 0 };
  await context.exposeBinding("__nakedhtmxCSP", (_source, text: string) => {
    w.violations.push(text);
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (globalThis as unknown as { __nakedhtmxCSP: (t: string) => void }).__nakedhtmxCSP;
      report(`${e.violatedDirective} blocked ${e.blockedURI || "inline code"} at ${e.sourceFile}:${e.lineNumber} (${e.sample})`);
    });
  });
  context.on("response", (r) => {
    if (!r.url().startsWith(base) || r.request().resourceType() !== "document") return;
    const ct = r.headers()["content-type"] ?? "";
    if (!ct.startsWith("text/html")) return;
    w.documents++;
    const csp = r.headers()["content-security-policy"] ?? "";
    if (!/default-src 'self'/.test(csp) || !/frame-ancestors/.test(csp)) w.violations.push(`${r.url()}: no CSP (${csp})`);
  });
  return w;
}

/**
 * What a page needs to run the core itself (issue 19): the built host
 * (dist/: core.wasm, core.js, sqlite_wasm.js and what they import) and
 * sqlite-wasm as npm installed it, by URL prefix.
 */
export function hostFiles(): Record<string, string> {
  return {
    "/dist/": join(repoRoot, "dist"),
    "/sqlite/": join(repoRoot, "node_modules", "@sqlite.org", "sqlite-wasm", "dist"),
  };
}

const fileTypes: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".sqlite": "application/octet-stream",
};

/**
 * A loopback server of static files: each URL prefix maps to a directory
 * (nothing outside it, only the types above), and "/" is an empty page.
 */
export function serveFiles(mounts: Record<string, string>): Promise<HTTPServer> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><title>nakedhtmx</title>");
      return;
    }
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (!path.startsWith(prefix)) continue;
      const file = resolve(dir, path.slice(prefix.length));
      const type = fileTypes[extname(file)];
      if (!file.startsWith(dir + sep) || !type || !existsSync(file) || !statSync(file).isFile()) break;
      res.writeHead(200, { "content-type": type }).end(readFileSync(file));
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

/** GET /offline/status, as the offline service worker answers it (PROTOCOL.md, "Offline"). */
export interface OfflineStatus {
  version: string;
  copy: { dsid: string; seq: number; rows: Record<string, number>; savedAt: number } | null;
  pending: number;
  conflicts: number;
  /** When each step of opening the kept copy ended, ms from its start. */
  opening?: Record<string, number>;
  error?: string;
}

/**
 * The worker's status, asked by the page (null: no worker controls it yet,
 * the server's 404 answers). A page that navigates meanwhile is asked again.
 */
export async function offlineStatus(page: Page): Promise<OfflineStatus | null> {
  for (let tries = 0;; tries++) {
    try {
      return await page.evaluate(async () => {
        const r = await fetch("/offline/status");
        return r.ok ? (await r.json().catch(() => null)) as OfflineStatus | null : null;
      });
    } catch (e) {
      if (tries > 20 || !String(e).includes("Execution context was destroyed")) throw e;
      await page.waitForLoadState();
    }
  }
}

/** The page's navigation, from its request to the answer's first byte, ms (navigation timing). */
export function firstByte(page: Page): Promise<number> {
  return page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
    return n ? Math.round(n.responseStart - n.startTime) : -1;
  });
}
