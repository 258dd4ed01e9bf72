// Browser test of live pages: a list and a row page open in Chromium while a
// second SQLite connection (node:sqlite, in this process: the sqlite3 shell
// or another program) writes and migrates the same file. Nothing reloads:
// rows appear and change in place, highlighted; an open form gains a field,
// follows a renamed one with what was typed still in it, updates the fields
// the person is not editing and marks the one they are; History follows.
//
//   node tests/browser/live.ts [--host node|deno|bun|go|wasm] [--headed] [--chromium PATH]
//
// Screenshots go to test-results/live-*.png (gitignored).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Browser, Page } from "playwright-core";
import { openDB } from "../http/fixture.ts";
import type { Server } from "../http/hosts.ts";
import { checkHost, launch, resultsDir, serve, watchCSP } from "./setup.ts";
import { runTests, check, eq, until, type Test } from "../http/harness.ts";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "node" },
    headed: { type: "boolean", default: false },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
  },
});
const host = checkHost(values.host);

const results = resultsDir();

const SCHEMA = `
CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT, status TEXT);
INSERT INTO notes VALUES
  (1, 'Buy milk', 'semi-skimmed', 'open'),
  (2, 'Call Ada', NULL, 'open'),
  (3, 'Fix the gate', 'hinge squeaks', 'done');
`;

const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-browser-live-"));
const dbFile = join(tmp, "live.db");
{
  const db = openDB(dbFile);
  db.exec(SCHEMA);
  db.close();
}

let server: Server | null = null;
let browser: Browser | null = null;
let outside: ReturnType<typeof openDB> | null = null;
const cleanup = async () => {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => null);
  try {
    outside?.close();
  } catch {
    // closed
  }
  rmSync(tmp, { recursive: true, force: true });
};
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => { server?.proc.kill("SIGKILL"); process.exit(130); });
}


async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(results, `live-${name}.png`) });
}

/** The outside writer: a second connection on the same file. */
function sql(text: string): void {
  outside!.exec(text);
}

function row(id: number): Record<string, unknown> {
  return outside!.prepare(`SELECT * FROM notes WHERE id = ?`).get(id) as Record<string, unknown>;
}

/** Marks the page so that a reload would be noticed. */
async function mark(page: Page): Promise<void> {
  await page.evaluate(() => { (window as any).__nhNoReload = true; });
}

async function notReloaded(page: Page, what: string): Promise<void> {
  check(await page.evaluate(() => (window as any).__nhNoReload === true), `${what} reloaded`);
}

/** Opens a page and waits until its event stream is connected. */
async function openLive(page: Page, path: string): Promise<void> {
  const isLive = (u: string) => /\/live$/.test(new URL(u).pathname);
  let requested = "";
  const onReq = (r: { url(): string }) => { if (isLive(r.url())) requested = r.url(); };
  page.on("request", onReq);
  const live = page.waitForResponse((r) => isLive(r.url()), { timeout: 15000 }).catch(() => null);
  await page.goto(path);
  const r = await live;
  page.off("request", onReq);
  check(r, requested
    ? `${path}: the page asked for its event stream (${requested}) but got no answer within 15 s`
    : `${path}: the page never opened its event stream (no request to …/live within 15 s of loading; #nh-live ` +
      `${await page.locator("#nh-live").count() ? "is on the page" : "is missing"})`);
  eq(r.status(), 200, `${path}: status of its event stream`);
  await mark(page);
}

/** The list's header texts. */
async function headers(page: Page): Promise<string[]> {
  return page.evaluate(() => [...document.querySelectorAll("#list thead th")].map((th) => (th.textContent ?? "").replace(/[▲▼]/g, "").trim()));
}

/** Whether an element is being highlighted now (the flash animation is on it). */
async function flashing(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((s) => {
    const el = document.querySelector(s);
    if (!el) return false;
    const anim = getComputedStyle(el).animationName;
    return el.classList.contains("flash") && anim !== "" && anim !== "none";
  }, selector);
}

async function main(): Promise<number> {
  server = await serve("browser-live", host, tmp, dbFile);
  const base = server.url.origin;
  const { DatabaseSync } = process.getBuiltinModule("node:sqlite") as typeof import("node:sqlite");
  outside = new DatabaseSync(dbFile, { timeout: 10000 });
  browser = await launch(values.chromium, values.headed);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: base });
  const csp = await watchCSP(context, base);
  const list = await context.newPage();
  const rowPage = await context.newPage();
  const jsErrors: string[] = [];
  const failed: string[] = [];
  for (const p of [list, rowPage]) {
    p.setDefaultTimeout(15000);
    p.on("pageerror", (e) => jsErrors.push(e.message));
    p.on("console", (m) => {
      if (m.type() === "error" && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) jsErrors.push(m.text());
    });
    p.on("response", (r) => { if (r.status() >= 500) failed.push(`${r.status()} ${r.url()}`); });
  }
  const typedBody = "typed, not saved yet";

  const T: Test[] = [];
  const test = (name: string, fn: () => Promise<void>) => T.push({ name, fn });
  /** A page of its own for one test, closed after it; its script errors count like the others'. */
  const inNewPage = async (fn: (view: Page) => Promise<void>) => {
    const view = await context.newPage();
    view.setDefaultTimeout(15000);
    view.on("pageerror", (e) => jsErrors.push(e.message));
    try {
      await fn(view);
    } finally {
      await view.close();
    }
  };

  test("open the list and a row page; both connect their event streams", async () => {
    await openLive(list, "/t/notes");
    await until(async () => (await list.locator("#list tbody tr").count()) === 3, "three rows");
    await openLive(rowPage, "/t/notes/r/1");
    eq(await rowPage.locator('#record [name="title"]').inputValue(), "Buy milk", "title");
  });

  test("an outside insert appears on the list, highlighted, without a reload", async () => {
    sql(`INSERT INTO notes (id, title, body, status) VALUES (4, 'Water the plants', 'ferns first', 'open')`);
    await list.locator("#row-4").waitFor({ timeout: 10000 });
    check(await flashing(list, "#row-4"), "the new row is not highlighted");
    await shot(list, "list-insert");
    check((await list.locator("#row-4").innerText()).includes("Water the plants"), "the new row's title");
    eq(await list.locator("#list tbody tr").count(), 4, "rows on the list");
    await notReloaded(list, "the list");
  });

  test("an outside update shows on the list and in the row page's untouched field, highlighted", async () => {
    sql(`UPDATE notes SET title = 'Buy oat milk' WHERE id = 1`);
    await until(async () => (await list.locator("#row-1").innerText()).includes("Buy oat milk"), "the list row to change");
    check(await flashing(list, "#row-1"), "the changed list row is not highlighted");
    const title = rowPage.locator('#record [name="title"]');
    await until(async () => (await title.inputValue()) === "Buy oat milk", "the row page's title field to change");
    check(await flashing(rowPage, '#record .field:has([name="title"])'), "the changed field is not highlighted");
    await shot(rowPage, "row-update");
    await notReloaded(list, "the list");
    await notReloaded(rowPage, "the row page");
  });

  test("a facet's counts and the totals follow an outside insert without a reload", async () => {
    await inNewPage(async (view) => {
      await openLive(view, "/t/notes?facet=status&aggregates=1");
      const count = (v: string) =>
        view.evaluate((value) => {
          const li = [...document.querySelectorAll("#list .facet li")].find((l) => l.querySelector("a")?.textContent === value);
          return Number(li?.querySelector(".n")?.textContent ?? "0");
        }, v);
      const open = await count("open");
      const done = await count("done");
      check(open > 0 && done > 0, `the status facet: open ${open}, done ${done}`);
      sql(`INSERT INTO notes (id, title, body, status) VALUES (7, 'Pay rent', NULL, 'open'), (8, 'Sort post', NULL, 'later')`);
      await until(async () => (await count("open")) === open + 1, "the open count to grow by one");
      await until(async () => (await count("later")) === 1, "a new value to appear with its count");
      eq(await count("done"), done, "the done count");
      await shot(view, "facet-live");
      await notReloaded(view, "the faceted list");
      sql(`DELETE FROM notes WHERE id IN (7, 8)`);
      await until(async () => (await count("later")) === 0, "the value to go with its rows");
    });
  });

  test("a group-by page re-counts its groups after an outside insert, without a reload", async () => {
    await inNewPage(async (view) => {
      await openLive(view, "/t/notes/groups?group=status");
      const rows = (v: string) =>
        view.evaluate((value) => {
          const tr = [...document.querySelectorAll("table.groups tbody tr")].find((r) => r.querySelector("a")?.textContent === value);
          return Number(tr?.children[1]?.textContent ?? "0");
        }, v);
      const open = await rows("open");
      check(open > 0, `open: ${open}`);
      sql(`INSERT INTO notes (id, title, body, status) VALUES (9, 'Post the letter', NULL, 'open')`);
      await until(async () => (await rows("open")) === open + 1, "the open group to grow by one");
      await notReloaded(view, "the group-by page");
      sql(`DELETE FROM notes WHERE id = 9`);
      await until(async () => (await rows("open")) === open, "the open group after the delete");
    });
  });

  test("the SQL page's chart and table follow an outside insert, without a reload", async () => {
    await inNewPage(async (view) => {
      const q = "SELECT status, count(*) AS n FROM notes GROUP BY status ORDER BY status";
      await openLive(view, "/sql?sql=" + encodeURIComponent(q));
      check(await view.locator("#result figure.nh-chart svg").count() === 1, "a chart of the result");
      const count = (v: string) =>
        view.evaluate((value) => {
          const tr = [...document.querySelectorAll("#result tbody tr")].find((r) => r.children[0]?.textContent === value);
          return Number(tr?.children[1]?.textContent ?? "0");
        }, v);
      const open = await count("open");
      check(open > 0, `open: ${open}`);
      sql(`INSERT INTO notes (id, title, body, status) VALUES (9, 'Post the letter', NULL, 'open')`);
      await until(async () => (await count("open")) === open + 1, "the open count to grow by one");
      check(await view.locator("#result figure.nh-chart svg").count() === 1, "the chart drawn again");
      await shot(view, "sql-chart");
      await notReloaded(view, "the SQL page");
      sql(`DELETE FROM notes WHERE id = 9`);
      await until(async () => (await count("open")) === open, "the open count after the delete");
    });
  });

  test("a sorted, filtered list places an outside insert where it belongs, and leaves out one that does not match", async () => {
    await inNewPage(async (view) => {
      await openLive(view, "/t/notes?sort=title&desc=1&f.status=open");
      const titles = () => view.evaluate(() => [...document.querySelectorAll("#list tbody tr")].map((tr) => tr.querySelectorAll("td:not(.pick)")[1]?.textContent ?? ""));
      const before = await titles();
      check(before.length >= 2, `the filtered view's rows: ${before}`);
      sql(`INSERT INTO notes (id, title, body, status) VALUES (5, 'Mend the fence', NULL, 'open'), (6, 'Zzz nap', NULL, 'done')`);
      await view.locator("#row-5").waitFor({ timeout: 10000 });
      const after = await titles();
      const want = [...before, "Mend the fence"].sort().reverse();
      eq(after, want, "rows in the view's order (title, descending)");
      eq(await view.locator("#row-6").count(), 0, "a row the filter leaves out");
      check((await view.locator("#list .count").innerText()).startsWith(`${want.length} row`), "the count follows");
      await until(() => flashing(view, "#row-5"), "the new row to be highlighted");
      await shot(view, "list-sorted-filtered-insert");
      await notReloaded(view, "the sorted, filtered list");
      sql(`DELETE FROM notes WHERE id IN (5, 6)`);
      await view.locator("#row-5").waitFor({ state: "detached", timeout: 10000 });
    });
  });

  test("type into a field; an outside ADD COLUMN adds the field and keeps what was typed", async () => {
    await rowPage.locator('#record [name="body"]').fill(typedBody);
    sql(`ALTER TABLE notes ADD COLUMN due DATE`);
    await rowPage.locator('#record [name="due"]').waitFor({ timeout: 10000 });
    eq(await rowPage.locator('#record [name="body"]').inputValue(), typedBody, "the typed body");
    await until(async () => (await headers(list)).some((h) => /^due$/i.test(h)), "the list to show the due column");
    await rowPage.evaluate(() => window.scrollTo(0, 0));
    await shot(rowPage, "row-added-field");
    await shot(list, "list-added-column");
    await notReloaded(rowPage, "the row page");
    await notReloaded(list, "the list");
  });

  test("an outside RENAME COLUMN of the field being typed in keeps the value under the new name", async () => {
    sql(`ALTER TABLE notes RENAME COLUMN body TO details`);
    await rowPage.locator('#record [name="details"]').waitFor({ timeout: 10000 });
    eq(await rowPage.locator('#record [name="body"]').count(), 0, "fields named body");
    eq(await rowPage.locator('#record [name="details"]').inputValue(), typedBody, "the typed value under the new name");
    eq(await rowPage.locator('#record [name="due"]').count(), 1, "the added field is still there");
    await until(async () => (await headers(list)).some((h) => /^details$/i.test(h)) && !(await headers(list)).some((h) => /^body$/i.test(h)),
      "the list to rename its column");
    await rowPage.evaluate(() => window.scrollTo(0, 0));
    await shot(rowPage, "row-renamed-field");
    await notReloaded(rowPage, "the row page");
  });

  test("an outside update of a field not being edited updates it in place; the typed value stays", async () => {
    sql(`UPDATE notes SET status = 'waiting' WHERE id = 1`);
    await until(async () => (await rowPage.locator('#record [name="status"]').inputValue()) === "waiting", "status to change in place");
    eq(await rowPage.locator('#record [name="details"]').inputValue(), typedBody, "the typed value");
    eq(await rowPage.locator("#record .conflicted").count(), 0, "fields marked as conflicting");
  });

  test("submitting the form lands the typed value in the renamed column", async () => {
    await rowPage.locator('#record button[type="submit"]').click();
    await until(() => row(1).details === typedBody, "the value in notes.details", 10000);
    const r = row(1);
    eq(r.title, "Buy oat milk", "title kept the outside update");
    eq(r.status, "waiting", "status kept the outside update");
    check(!("body" in r), "the table still has a body column");
    await until(async () => (await rowPage.locator('#record [name="details"]').inputValue()) === typedBody, "the form after saving");
    await shot(rowPage, "row-saved");
  });

  test("an outside update of the field being edited marks it and keeps what was typed", async () => {
    await rowPage.locator('#record [name="title"]').fill("Buy milk and bread");
    sql(`UPDATE notes SET title = 'Buy nothing', status = 'done' WHERE id = 1`);
    await until(async () => (await rowPage.locator("#record .field.conflicted").count()) > 0, "the edited field to be marked");
    eq(await rowPage.locator('#record [name="title"]').inputValue(), "Buy milk and bread", "the typed title");
    const box = rowPage.locator('#record .field.conflicted:has([name="title"])');
    eq(await box.count(), 1, "the title field marked");
    check((await box.innerText()).includes("Buy nothing"), `the mark does not say their value: ${await box.innerText()}`);
    await until(async () => (await rowPage.locator('#record [name="status"]').inputValue()) === "done", "status (not edited) to change in place");
    await until(async () => (await list.locator("#row-1").innerText()).includes("Buy nothing"), "the list row to change");
    await rowPage.locator('#record .field.conflicted:has([name="title"])').scrollIntoViewIfNeeded();
    await shot(rowPage, "row-conflict");
    await notReloaded(rowPage, "the row page");
  });

  test("the row page's History section shows the changes, live", async () => {
    const hist = rowPage.locator("#history");
    await until(async () => (await hist.innerText()).includes("Buy nothing"), "History to show the last change");
    await hist.scrollIntoViewIfNeeded();
    await shot(rowPage, "row-history");
    const text = await hist.innerText();
    for (const want of ["Buy oat milk", "waiting", typedBody, "Buy nothing"]) {
      check(text.includes(want), `History does not mention ${JSON.stringify(want)}:\n${text.slice(0, 1500)}`);
    }
    check(await hist.locator("li").count() >= 4, `History lists ${await hist.locator("li").count()} items`);
    await notReloaded(rowPage, "the row page");
  });

  test("an outside delete removes the row from the list", async () => {
    sql(`DELETE FROM notes WHERE id = 4`);
    await until(async () => (await list.locator("#row-4").count()) === 0, "row 4 to leave the list");
    await notReloaded(list, "the list");
  });

  test("every page and live update ran under the Content-Security-Policy with nothing refused", async () => {
    check(csp.documents >= 3, `only ${csp.documents} HTML documents were checked`);
    check(csp.violations.length === 0, `CSP: ${csp.violations.slice(0, 5).join(" | ")}`);
  });

  test("no script errors, no server errors", async () => {
    check(jsErrors.length === 0, `script errors: ${jsErrors.slice(0, 5).join(" | ")}`);
    check(failed.length === 0, `server errors: ${failed.slice(0, 5).join(", ")}`);
  });

  const res = await runTests(T, (s) => console.log(s));
  const passed = res.filter((r) => r.ok).length;
  const failedN = res.length - passed;
  if (failedN > 0 && server.stderr().trim()) console.log(`host stderr:\n${server.stderr().trim().split("\n").slice(-20).join("\n")}`);
  console.log(`screenshots in ${results} (live-*.png)`);
  console.log(`browser-live: ${passed} passed, ${failedN} failed`);
  return failedN === 0 ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.log(`browser-live: setup failed: ${e instanceof Error ? e.message : String(e)}`);
  console.log("browser-live: 0 passed, 1 failed");
} finally {
  await cleanup();
}
process.exit(code);
