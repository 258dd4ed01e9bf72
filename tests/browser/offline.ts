// Offline use in a real browser (issue 19): Chromium, with a profile on disk,
// visits a real server (each host in turn, over loopback HTTP); the page
// registers the offline service worker, which copies what the caller may
// see. Then the network goes (the browser context's offline switch, then a
// stopped server) and the worker answers the same URLs from its copy: the
// same bytes as the server's for the same data, with a banner on full
// pages; writes are refused with the form kept. The browser is closed and
// started again on the same profile, with the server still away: the copy
// came back from IndexedDB. Meanwhile a row changes on the server; back
// online, the copy catches up. Last, the config's "offline": false takes the
// worker away again.
//
//   node tests/browser/offline.ts [--host go,wasm,deno,bun,node] [--chromium PATH] [--headed]
//
// Needs make build (dist/browser/) and Chromium (scripts/ensure-chromium.sh).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import type { BrowserContext, Page } from "playwright-core";
import { buildFixture, HOSTILE, openDB } from "../http/fixture.ts";
import { freePort, prepareHost, runToExit, type Server } from "../http/hosts.ts";
import { checkHost, firstByte, launchPersistent, offlineStatus, resultsDir, serve } from "./setup.ts";
import { until } from "../http/harness.ts";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "go,wasm,deno,bun,node" },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
    headed: { type: "boolean", default: false },
  },
});

// What the config hides stays out of the copy, offline as online.
const CONFIG = { tables: { items: { columns: { notes: { hidden: true } } }, codes: { hidden: true } } };
const LEAKS = ["keep dry", "/t/codes", ">codes<", '"notes"', ">Notes<"];

const enc = encodeURIComponent;
const PATHS = [
  "/",
  "/t/items",
  "/t/items?sort=price&desc=1",
  "/t/items?q=a",
  "/t/items/r/2",
  "/t/items/r/3",
  "/t/items/new",
  "/api/tables/items/rows?limit=5",
  "/t/pairs?sort=parent_id",
  "/t/cheap_items",
  `/t/${enc(HOSTILE)}`,
  "/assets/style.css",
];
const BANNER = /<div class="offline-banner" role="status" id="nh-offline-banner">[^<]*<\/div>\n/;

let failed = 0, passed = 0;
function check(host: string, ok: boolean, what: string, detail = ""): boolean {
  if (ok) {
    passed++;
    console.log(`  ok    ${host}: ${what}`);
  } else {
    failed++;
    console.log(`  FAIL  ${host}: ${what}${detail ? `\n        ${detail}` : ""}`);
  }
  return ok;
}

type Got = { status: number; body: string; offline: boolean };

/** What the page's fetch gets for a path: through the worker once it controls the page. */
async function pageGet(page: Page, path: string, init: { method?: string; body?: string } = {}): Promise<Got> {
  for (let tries = 0;; tries++) {
    try {
      return await pageFetch(page, path, init);
    } catch (e) {
      // The page navigated meanwhile (a form's answer): ask the new one.
      if (tries > 20 || !String(e).includes("Execution context was destroyed")) throw e;
      await page.waitForLoadState();
    }
  }
}

function pageFetch(page: Page, path: string, init: { method?: string; body?: string }): Promise<Got> {
  return page.evaluate(async ([p, i]) => {
    try {
      const r = await fetch(p, {
        method: i.method ?? "GET",
        body: i.body,
        headers: i.body === undefined ? { accept: "text/html" } : { "content-type": "application/x-www-form-urlencoded" },
      });
      return { status: r.status, body: await r.text(), offline: r.headers.get("x-nakedhtmx-offline") === "1" };
    } catch (e) {
      return { status: 0, body: String(e), offline: false };
    }
  }, [path, init] as const);
}

/**
 * Opens a form page offline, fills fields by name and saves it, as a person
 * does; waits until the worker keeps one more write to send.
 */
async function saveForm(page: Page, href: string, fields: Record<string, string>): Promise<void> {
  await page.goto(href);
  const before = (await offlineStatus(page))?.pending ?? -1;
  for (const [name, v] of Object.entries(fields)) await page.locator(`form [name="${name}"]`).first().fill(v);
  await page.locator('form button[type="submit"].primary').first().click();
  await waitFor(`saving ${href} offline`, 15_000, async () => ((await offlineStatus(page))?.pending ?? -1) > before);
}

/** until (the harness's), typed as what the probe answers once it holds. */
function waitFor<T>(what: string, ms: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  return until(probe, what, ms) as Promise<T>;
}

async function serverGet(url: URL, path: string): Promise<Got> {
  const r = await fetch(new URL(path.slice(1), url), { headers: { accept: "text/html" } });
  return { status: r.status, body: await r.text(), offline: false };
}

/** Compares the worker's offline answers with the server's (banner taken out). */
function compare(host: string, what: string, want: Map<string, Got>, got: Map<string, Got>): void {
  let bad = 0;
  for (const [p, w] of want) {
    const g = got.get(p)!;
    const body = g.body.replace(BANNER, "");
    const bannered = BANNER.test(g.body);
    const fullPage = w.body.startsWith("<!doctype html>");
    // An asset may come from the browser's HTTP cache (it is immutable) before the worker is asked.
    const fromCopy = g.offline || p.startsWith("/assets/");
    if (g.status !== w.status || body !== w.body || !fromCopy || bannered !== fullPage) {
      bad++;
      let at = 0;
      while (at < w.body.length && w.body[at] === body[at]) at++;
      check(host, false, `${what}: GET ${p} offline answers otherwise (from char ${at}; offline=${g.offline} banner=${bannered})`,
        `server ${w.status} ${JSON.stringify(w.body.slice(Math.max(0, at - 100), at + 150))}\n        copy   ${g.status} ${JSON.stringify(body.slice(Math.max(0, at - 100), at + 150))}`);
    }
    for (const leak of LEAKS) {
      if (g.body.includes(leak)) {
        bad++;
        check(host, false, `${what}: GET ${p} offline shows ${JSON.stringify(leak)}, which the config hides`);
      }
    }
  }
  if (bad === 0) check(host, true, `${what}: ${want.size} answers as the server's, byte for byte`);
}

async function offlineAnswers(page: Page): Promise<Map<string, Got>> {
  const got = new Map<string, Got>();
  for (const p of PATHS) got.set(p, await pageGet(page, p));
  return got;
}

async function serverAnswers(url: URL): Promise<Map<string, Got>> {
  const want = new Map<string, Got>();
  for (const p of PATHS) want.set(p, await serverGet(url, p));
  return want;
}

async function walk(host: ReturnType<typeof checkHost>): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-browser-offline-"));
  const dbFile = join(tmp, "fixture.db");
  const cfgFile = join(tmp, "nakedhtmx.json");
  const profile = join(tmp, "profile");
  buildFixture(dbFile);
  writeFileSync(cfgFile, JSON.stringify(CONFIG));
  const port = await freePort();
  const start = () => serve("browser offline", host, tmp, dbFile, ["--config", cfgFile], port);
  let server: Server | undefined;
  let ctx: BrowserContext | undefined;
  try {
    server = await start();
    const url = server.url;
    const sw = await serverGet(url, "/offline/sw.js");
    check(host, sw.status === 200 && sw.body.includes("nakedhtmx-offline-"), "the host serves the worker at /offline/sw.js");
    const page0 = await serverGet(url, "/t/items");
    check(host, page0.body.includes('<meta name="nakedhtmx-offline" content="/offline/sw.js">'), "pages name the worker");
    for (const p of ["/offline/manifest.json.x", "/offline/..%2Fcore.wasm", "/offline/"]) {
      const r = await serverGet(url, p);
      check(host, r.status === 404, `GET ${p} is no file of the set (${r.status})`);
    }

    ctx = await launchPersistent(values.chromium!, values.headed!, profile);
    let page = ctx.pages()[0] ?? await ctx.newPage();
    page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
    await page.goto(new URL("t/items", url).href);
    const made = await waitFor("the worker's copy", 60_000, async () => (await offlineStatus(page))?.copy);
    check(host, made.rows["items"] !== undefined && made.rows["codes"] === undefined,
      `one online visit made a copy (${Object.values(made.rows).reduce((a, b) => a + b, 0)} rows)`);

    // Offline, by the browser's switch: the same answers from the copy.
    const want = await serverAnswers(url);
    await ctx.setOffline(true);
    compare(host, "offline (the browser's switch)", want, await offlineAnswers(page));
    const nav = await page.goto(new URL("t/items?q=a", url).href);
    const banner = await page.locator("#nh-offline-banner").textContent().catch(() => null);
    check(host, nav?.status() === 200 && banner !== null && banner.startsWith("Offline"), "a navigation offline shows the page with its banner");
    // The live stream fails offline by design (app.js reconnects it after a
    // second): the banner says enough, no "could not be reached" alert too.
    await page.waitForTimeout(2500);
    check(host, await page.locator("#nh-offline").count() === 0, "no alert beside the banner");
    await page.screenshot({ path: join(resultsDir(), `offline-${host}.png`), fullPage: true });
    await ctx.setOffline(false);

    // Offline, by a stopped server.
    await server.stop();
    server = undefined;
    compare(host, "offline (the server stopped)", want, await offlineAnswers(page));

    // Writes offline, through the pages as a person makes them: two edits
    // and a new row. The copy shows them at once and keeps them to send.
    await saveForm(page, new URL("t/items/r/3", url).href, { name: "edited offline" });
    await saveForm(page, new URL("t/items/r/2", url).href, { name: "mine, offline" });
    await saveForm(page, new URL("t/items/new", url).href, { name: "made offline", price: "4.5" });
    const queued = await offlineStatus(page);
    check(host, queued?.pending === 3, `three writes offline wait to be sent (${queued?.pending})`);
    const shown = await pageGet(page, "/t/items/r/3");
    check(host, shown.offline && shown.body.includes('value="edited offline"'), "the copy shows a write made offline");

    // The browser closes and starts again, the server still away: the copy
    // and its waiting writes come back from what the profile kept.
    // Meanwhile, on the server: one of those rows changes, and so does the
    // structure (a new column: a new DSID, which the writes made offline
    // are remapped from and the copy follows).
    other(dbFile, "UPDATE items SET name = 'changed while away' WHERE id = 2");
    other(dbFile, "ALTER TABLE items ADD COLUMN color TEXT");
    // Three restarts: the first answer's time after each (the browser may
    // keep compiled code between them), to its first byte as the page's
    // navigation timing saw it: the worker started, opened the kept copy
    // (its steps, ms from its start) and rendered the page.
    const firsts: number[] = [];
    let again: Awaited<ReturnType<Page["goto"]>> = null;
    for (let i = 0; i < 3; i++) {
      await ctx.close();
      ctx = await launchPersistent(values.chromium!, values.headed!, profile);
      page = ctx.pages()[0] ?? await ctx.newPage();
      again = await page.goto(new URL("t/items", url).href);
      firsts.push(await firstByte(page));
      const steps = (await offlineStatus(page))?.opening ?? {};
      console.log(`  time  ${host}: first page offline after restart ${i + 1}: ${firsts[i]} ms to its first byte (worker: ${JSON.stringify(steps)})`);
    }
    const firstMs = [...firsts].sort((a, b) => a - b)[1];
    const bannerText = await page.locator("#nh-offline-banner").textContent().catch(() => "");
    check(host, again?.status() === 200 && (bannerText ?? "").includes("3 changes made here are waiting"),
      `after a restart, offline, the kept copy answers with its writes waiting (first page: median ${firstMs} ms): ${bannerText}`);
    const kept = await pageGet(page, "/t/items/r/3");
    check(host, kept.body.includes('value="edited offline"'), "the write made offline outlived the restart");

    // Back online: the writes go to the server in order; the row changed on
    // the server meanwhile is a conflict, never overwritten.
    server = await start();
    await page.goto(new URL("t/items", url).href);
    check(host, await page.locator("#nh-offline-banner").count() === 0, "online again, pages are the server's");
    const sent = await waitFor("the writes to be sent", 30_000, async () => {
      const s = await offlineStatus(page);
      return s && s.pending === 0 && s.conflicts > 0 ? s : null;
    });
    const rows = (await serverGet(url, "/api/tables/items/rows?limit=100")).body;
    check(host, rows.includes('"edited offline"') && rows.includes('"made offline"') && rows.includes('"changed while away"') &&
      !rows.includes("mine, offline") && sent.conflicts === 1,
      `the server took two writes and refused the stale one (${sent.conflicts} conflict)`);
    await page.goto(new URL("t/items", url).href);
    const note = await page.locator("#nh-offline-conflicts").textContent({ timeout: 5000 }).catch(() => null);
    check(host, note !== null && note.includes("1 change made offline"), `the page says a change needs the user: ${note}`);
    await page.goto(new URL("offline/conflicts", url).href);
    const review = await page.locator("main").textContent() ?? "";
    check(host, review.includes("mine, offline") && review.includes("changed while away"), "the conflict shows mine beside theirs");
    await page.screenshot({ path: join(resultsDir(), `offline-conflict-${host}.png`), fullPage: true });
    await page.locator("button", { hasText: "Keep mine" }).click();
    await waitFor("keep mine to reach the server", 15_000, async () =>
      (await serverGet(url, "/api/tables/items/rows/2")).body.includes("mine, offline"));
    const after = await offlineStatus(page);
    check(host, after?.conflicts === 0 && after.pending === 0, "keep mine: the server has mine, and nothing waits");
    await waitFor("the copy to catch up", 30_000, async () => {
      const r = await pageGet(page, "/t/items/r/2");
      return r.body.includes("mine, offline");
    });
    const want2 = await serverAnswers(url);
    check(host, want2.get("/t/items/new")!.body.includes('name="color"'), "the server's form has the column added while the browser was away");
    await ctx.setOffline(true);
    compare(host, "offline after catching up", want2, await offlineAnswers(page));
    await ctx.setOffline(false);

    // Opting out takes the worker away from a browser that has it.
    writeFileSync(cfgFile, JSON.stringify({ ...CONFIG, offline: false }));
    await waitFor("the config to apply", 10_000, async () => !(await serverGet(url, "/t/items")).body.includes("nakedhtmx-offline"));
    await page.goto(new URL("t/items", url).href);
    const gone = await waitFor("the worker to go", 10_000, async () =>
      await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length === 0));
    check(host, gone, `"offline": false takes the worker away`);
  } catch (e) {
    check(host, false, String(e instanceof Error ? e.stack : e));
  } finally {
    await ctx?.close();
    if (server) await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A change by another connection, as the sqlite3 shell would make it. */
function other(dbFile: string, sql: string): void {
  const db = openDB(dbFile);
  db.exec(sql);
  db.close();
}

/**
 * A copy is one person's: signing out drops it; a change of theirs that
 * still waits (a conflict to decide) is kept for them alone and comes back
 * when they sign in again, never shown to the next person.
 */
async function walkPeople(host: ReturnType<typeof checkHost>): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-browser-offline-people-"));
  const dbFile = join(tmp, "fixture.db");
  buildFixture(dbFile);
  const hc = prepareHost(host, tmp);
  for (const [email, pw] of [["ann@example.com", "ann-password"], ["ben@example.com", "ben-password"]]) {
    const r = await runToExit(hc, ["user", "add", "--db", dbFile, "--email", email!, "--role", "user"], 60000, pw + "\n");
    if (r.code !== 0) throw new Error(`user add ${email}: ${r.stderr}`);
  }
  const port = await freePort();
  const start = () => serve("browser offline people", host, tmp, dbFile, [], port);
  let server: Server | undefined = await start();
  const url = server.url;
  const ctx = await launchPersistent(values.chromium!, values.headed!, join(tmp, "profile"));
  const page = ctx.pages()[0] ?? await ctx.newPage();
  const signIn = async (email: string, pw: string) => {
    await page.goto(new URL("t/items", url).href);
    await page.locator('input[name="email"]').fill(email);
    await page.locator('input[name="password"]').fill(pw);
    await page.locator('form button[type="submit"]', { hasText: "Sign in" }).first().click();
    await page.locator(".who .user").waitFor();
    // No other page: the one the sign-in leads to is what makes the copy,
    // through the worker or, when the worker took the page over later, by
    // the page's word to it (app.js, controllerchange).
    // The worker's last status goes in the failure: its error says why no
    // copy came (seen once on a clean run, on Deno, not since).
    let last: unknown;
    try {
      return await waitFor(`${email}'s copy`, 60_000, async () => {
        const s = await offlineStatus(page);
        last = s;
        return s?.copy ? s : null;
      });
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.message : e}; the worker's last status: ${JSON.stringify(last)}`);
    }
  };
  const signOut = async () => {
    await page.locator("form.signout button").click();
    await page.locator('input[name="email"]').waitFor();
  };
  try {
    // The first sign-in comes on a new profile, whether or not the worker
    // controls the page yet: one that activates in the middle of signing in
    // makes its own try at a copy without the new session (that failed
    // twice in clean runs, when nothing else asked it again).
    await signIn("ann@example.com", "ann-password");
    await server.stop();
    server = undefined;
    await saveForm(page, new URL("t/items/r/4", url).href, { name: "ann, offline" });
    other(dbFile, "UPDATE items SET name = 'theirs' WHERE id = 4");
    server = await start();
    await page.goto(new URL("t/items", url).href);
    await waitFor("ann's conflict", 30_000, async () => {
      const s = await offlineStatus(page);
      return s && s.pending === 0 && s.conflicts === 1;
    });
    await signOut();
    const out = await offlineStatus(page);
    check(host, out !== null && out.copy === null && out.conflicts === 0, `signing out drops the copy (${JSON.stringify(out?.copy)})`);
    const ben = await signIn("ben@example.com", "ben-password");
    const review = await pageGet(page, "/offline/conflicts");
    check(host, ben.conflicts === 0 && !review.body.includes("ann, offline"), "the next person gets a copy of their own, and nothing of ann's");
    await signOut();
    const ann = await signIn("ann@example.com", "ann-password");
    check(host, ann.conflicts === 1 && (await pageGet(page, "/offline/conflicts")).body.includes("ann, offline"),
      "ann's waiting change comes back to her");
  } catch (e) {
    check(host, false, `people: ${e instanceof Error ? e.stack : e}`);
  } finally {
    await ctx.close();
    if (server) await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

for (const host of values.host!.split(",").filter(Boolean).map(checkHost)) {
  await walk(host);
  await walkPeople(host);
}
console.log(`browser offline: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
