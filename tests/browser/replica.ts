// A local copy in a real browser (issue 19): Chromium loads the core, the
// copy's module (dist/replica.js) and sqlite-wasm, makes a copy of what a
// caller may see of a real server (each host in turn, over loopback HTTP: the
// page asks through a function the test exposes, which fetches from the
// server), and answers the server's URLs from it; every answer is compared
// byte for byte with the server's own over HTTP. Then the server is written
// to (through its API, and by another connection) and the copy catches up.
//
//   node tests/browser/replica.ts [--host go,wasm,deno,bun,node] [--chromium PATH]
//
// Needs make build (dist/) and Chromium (scripts/ensure-chromium.sh).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { buildFixture, HOSTILE, openDB } from "../http/fixture.ts";
import type { Server } from "../http/hosts.ts";
import { checkHost, hostFiles, launch, serve, serveFiles } from "./setup.ts";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "go,wasm,deno,bun,node" },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
    headed: { type: "boolean", default: false },
  },
});

// What the config hides must stay out of the copy: a column, and a table.
const CONFIG = JSON.stringify({
  tables: { items: { columns: { notes: { hidden: true } } }, codes: { hidden: true } },
});
const LEAKS = ["keep dry", "/t/codes", ">codes<", '"notes"', ">Notes<"];

const enc = encodeURIComponent;
const PATHS = [
  "/",
  "/api/schema",
  "/t/items",
  "/t/items?sort=price&desc=1",
  "/t/items?q=a",
  "/api/tables/items/rows?limit=5",
  "/t/items/r/3",
  "/t/items/new",
  "/t/pairs",
  "/t/pairs?sort=parent_id",
  "/t/loose",
  "/t/cheap_items",
  `/t/${enc(HOSTILE)}`,
  `/t/${enc(HOSTILE)}/r/1`,
  `/t/${enc("עברית")}`,
];

/** A page's answers, as they cross from it: status and body in base64. */
type Answer = { status: number; body: string };

/**
 * Runs in the page: makes the copy through window.serverGet, or catches it
 * up, and answers each path from it. Nothing here may name anything outside
 * the function (it is sent as its source).
 */
async function inPage(args: { paths: string[]; catchUp: boolean }): Promise<Answer[] | string> {
  type Mod = Record<string, unknown>;
  type Res = { head: { status?: number }; body: Uint8Array };
  type Copy = { core: { handle(h: unknown, b: Uint8Array): Res }; seq: number };
  const w = globalThis as unknown as {
    serverGet(pq: string): Promise<{ status: number; body: string }>;
    copy?: Copy;
  };
  const importURL = (u: string) => import(new URL(u, location.href).href) as Promise<Mod>;
  const fromB64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const b64 = (b: Uint8Array) => {
    let s = "";
    for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const get = async (pq: string) => {
    const r = await w.serverGet(pq);
    return { status: r.status, body: fromB64(r.body) };
  };
  try {
    const [replicaMod, storeMod, sqliteMod] = await Promise.all([
      importURL("/dist/replica.js"),
      importURL("/dist/sqlite_wasm.js"),
      importURL("/sqlite/index.mjs"),
    ]);
    if (!w.copy) {
      const sqlite3 = await (sqliteMod.default as () => Promise<unknown>)();
      const db = (storeMod.openWasmDatabase as (s: unknown) => unknown)(sqlite3);
      const open = replicaMod.openReplica as (o: unknown) => Promise<Copy>;
      w.copy = await open({ db, host: "browser", wasm: new URL("/dist/core.wasm", location.href), get, log: () => {} });
    } else if (args.catchUp) {
      await (replicaMod.catchUpReplica as (r: Copy, g: unknown) => Promise<number>)(w.copy, get);
    }
    const out: Answer[] = [];
    for (const p of args.paths) {
      const [path, query = ""] = p.split("?", 2);
      const res = w.copy.core.handle(
        { method: "GET", path, query, headers: { host: "localhost", accept: "text/html" } },
        new Uint8Array(0),
      );
      out.push({ status: res.head.status ?? 0, body: b64(res.body) });
    }
    return out;
  } catch (e) {
    return String(e instanceof Error ? e.stack : e);
  }
}

const hosts = values.host!.split(",").filter(Boolean).map(checkHost);
const files = await serveFiles(hostFiles());
const base = `http://127.0.0.1:${(files.address() as AddressInfo).port}/`;
const browser = await launch(values.chromium!, values.headed!);
let failed = 0, passed = 0;
const fail = (host: string, msg: string) => {
  failed++;
  console.log(`  FAIL  ${host}: ${msg}`);
};

try {
  for (const host of hosts) {
    const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-browser-replica-"));
    const dbFile = join(tmp, "fixture.db");
    buildFixture(dbFile);
    writeFileSync(join(tmp, "nakedhtmx.json"), CONFIG);
    let server: Server | undefined;
    const page = await (await browser.newContext()).newPage();
    try {
      server = await serve("browser replica", host, tmp, dbFile, ["--config", join(tmp, "nakedhtmx.json")]);
      const url = server.url;
      const fetchServer = async (pq: string) => {
        const r = await fetch(new URL(pq.slice(1), url), { headers: { accept: "text/html" } });
        return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
      };
      await page.exposeFunction("serverGet", async (pq: string) => {
        const r = await fetchServer(pq);
        return { status: r.status, body: r.body.toString("base64") };
      });
      page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
      await page.goto(base);
      const compare = async (what: string, catchUp: boolean) => {
        const started = Date.now();
        const got = await page.evaluate(inPage, { paths: PATHS, catchUp });
        if (typeof got === "string") return fail(host, `${what}: ${got}`);
        let bad = 0;
        for (const [i, p] of PATHS.entries()) {
          const want = await fetchServer(p);
          const body = Buffer.from(got[i]!.body, "base64");
          if (want.status !== got[i]!.status || !want.body.equals(body)) {
            bad++;
            let at = 0;
            while (at < want.body.length && at < body.length && want.body[at] === body[at]) at++;
            const around = (b: Buffer) => b.subarray(Math.max(0, at - 150), at + 250).toString();
            fail(host, `${what}: GET ${p}: the copy answers otherwise (from byte ${at}):\n        server ${want.status} ${around(want.body)}\n        copy   ${got[i]!.status} ${around(body)}`);
          }
          for (const leak of LEAKS) {
            if (body.toString().includes(leak)) {
              bad++;
              fail(host, `${what}: GET ${p}: the copy shows ${JSON.stringify(leak)}, which the config hides`);
            }
          }
        }
        if (bad === 0) {
          passed++;
          console.log(`  ok    ${host}: ${what}: ${PATHS.length} pages as the server's (${Date.now() - started} ms)`);
        }
      };
      await compare("a copy in Chromium", false);
      // Writes through the server's API and by another connection; then the copy catches up.
      const r1 = await fetch(new URL("api/tables/items/rows/3", url), {
        method: "PATCH",
        headers: { "content-type": "application/json", origin: url.origin },
        body: JSON.stringify({ name: "changed on the server", price: 99.5 }),
      });
      const r2 = await fetch(new URL("api/tables/items/rows/5", url), { method: "DELETE", headers: { origin: url.origin } });
      if (r1.status !== 200 || r2.status !== 204) fail(host, `writes on the server: ${r1.status} ${r2.status}`);
      const other = openDB(dbFile);
      other.exec("INSERT INTO pairs VALUES ('added', 9, 'by another connection', 2)");
      other.close();
      await compare("the copy caught up after writes", true);
    } catch (e) {
      fail(host, String(e instanceof Error ? e.stack : e));
    } finally {
      await page.context().close();
      if (server) await server.stop();
      rmSync(tmp, { recursive: true, force: true });
    }
  }
} finally {
  await browser.close();
  files.close();
}
console.log(`browser replica: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
