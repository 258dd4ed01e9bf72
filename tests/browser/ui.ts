// Browser test: a person's path through the demo database in Chromium, against
// one real host process (default node). Open the index, open a list, page
// forward, sort, search, open the create form, submit an invalid value and see
// the inline error with the typed input kept, fix it and create, edit the row,
// delete it through the confirmation.
//
//   node tests/browser/ui.ts [--host node|deno|bun|go|wasm] [--screenshots] [--headed]
//
// Screenshots go to test-results/ (gitignored); with --screenshots the README's
// docs/list.png and docs/form.png (1280x800) are written too.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { repoRoot, openDB } from "../http/fixture.ts";
import { buildFidelity, snapshot } from "../http/fidelity.ts";
import { prepareHost, runToExit, startServer, type Server } from "../http/hosts.ts";
import { PEOPLE_CONFIG, peopleSchema } from "../http/people.ts";
import { checkHost, launch, resultsDir, serve, watchCSP } from "./setup.ts";
import { runTests, check, eq, until, type Test } from "../http/harness.ts";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "node" },
    screenshots: { type: "boolean", default: false },
    headed: { type: "boolean", default: false },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
    // Runs only the tests whose names hold this text (the ones before it that
    // the others lean on are still run by their own names).
    only: { type: "string" },
  },
});
const host = checkHost(values.host);

const results = resultsDir();
const docs = join(repoRoot, "docs");
if (values.screenshots) mkdirSync(docs, { recursive: true });

const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-browser-"));
const dbFile = join(tmp, "demo.db");
{
  const db = openDB(dbFile);
  db.exec(readFileSync(join(repoRoot, "examples/demo.sql"), "utf8"));
  db.close();
}

let server: Server | null = null;
let browser: Browser | null = null;
const cleanup = async () => {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => null);
  rmSync(tmp, { recursive: true, force: true });
};
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => { server?.proc.kill("SIGKILL"); process.exit(130); });
}


async function shot(page: Page, name: string, docsName?: string): Promise<void> {
  await page.screenshot({ path: join(results, `${name}.png`) });
  if (docsName && values.screenshots) await page.screenshot({ path: join(docs, docsName) });
}

/** The texts of one column of the list grid, by header text. */
async function columnTexts(page: Page, header: string): Promise<string[]> {
  return page.evaluate((h) => {
    const table = document.querySelector("#list table");
    if (!table) return [];
    const ths = [...table.querySelectorAll("thead th")];
    const i = ths.findIndex((th) => (th.textContent ?? "").replace(/[▲▼]/g, "").trim() === h);
    if (i < 0) return [];
    return [...table.querySelectorAll("tbody tr")].map((tr) => (tr.children[i]?.textContent ?? "").trim());
  }, header);
}

async function rowCount(page: Page): Promise<number> {
  return page.locator("#list tbody tr").count();
}

async function main(): Promise<number> {
  // A config file of its own (the SQL page saves queries into it), never
  // the repository's ./nakedhtmx.json.
  const configFile = join(tmp, "nakedhtmx.json");
  writeFileSync(configFile, "{}\n");
  server = await serve("browser", host, tmp, dbFile, ["--config", configFile]);
  const base = server.url.origin;
  browser = await launch(values.chromium, values.headed);
  const context: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: base });
  const csp = await watchCSP(context, base);
  const page = await context.newPage();
  page.setDefaultTimeout(15000);

  // Everything a page loads must come from the server itself, and no script may fail.
  const foreign: string[] = [];
  const jsErrors: string[] = [];
  const failed: string[] = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  page.on("pageerror", (e) => jsErrors.push(e.message));
  page.on("console", (m) => {
    // Chromium logs every 4xx answer as a console error; a 422 for an invalid form is expected.
    if (m.type() === "error" && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
      jsErrors.push(m.text());
    }
  });
  page.on("response", (r) => { if (r.status() >= 500) failed.push(`${r.status()} ${r.url()}`); });
  page.on("dialog", (d) => { void d.accept(); });

  let created = ""; // path of the row the test makes
  const T: Test[] = [];
  const test = (name: string, fn: () => Promise<void>) => T.push({ name, fn });

  test("the index lists the demo tables with row counts", async () => {
    await page.goto("/");
    for (const t of ["books", "authors", "customers", "orders", "order_items", "book_sales"]) {
      check(await page.locator(`a[href="/t/${t}"]`).count() > 0, `no link to ${t}`);
    }
    check(await page.locator("a[href^='/t/books_fts'], a[href^='/t/_nakedhtmx'], a[href^='/t/sqlite_']").count() === 0,
      "internal tables are listed");
    const text = await page.locator("body").innerText();
    check(/orders\s+420/.test(text.replace(/\s+/g, " ")), "the orders row count (420) is not shown");
    await shot(page, "index");
  });

  test("open a list", async () => {
    await page.locator('a[href="/t/orders"]').first().click();
    await page.waitForURL(/\/t\/orders$/);
    await until(async () => (await rowCount(page)) > 10, "order rows");
    check((await columnTexts(page, "Code"))[0] === "HL-10001", `first order: ${(await columnTexts(page, "Code"))[0]}`);
  });

  test("page forward with the next link", async () => {
    const before = await columnTexts(page, "Code");
    await page.locator('#list a[rel="next"]').click();
    await until(() => page.url().includes("after="), "the URL to carry the cursor");
    await until(async () => (await columnTexts(page, "Code"))[0] !== before[0], "the next page's rows");
    const after = await columnTexts(page, "Code");
    check(after.length > 0 && !after.includes(before[0]), "the second page repeats the first");
    check(after[0] > before[before.length - 1], `second page starts at ${after[0]}, first ended at ${before[before.length - 1]}`);
  });

  test("sort by a column", async () => {
    await page.goto("/t/books");
    await page.locator("#list thead a", { hasText: "Price" }).click();
    await until(() => page.url().includes("sort=price"), "sort=price in the URL");
    await until(async () => {
      const prices = (await columnTexts(page, "Price")).map(Number);
      return prices.length > 1 && prices.every((p, i) => i === 0 || prices[i - 1] <= p);
    }, "ascending prices");
    await page.locator("#list thead a", { hasText: "Price" }).click();
    await until(() => page.url().includes("desc=1"), "desc=1 in the URL");
    await until(async () => {
      const prices = (await columnTexts(page, "Price")).map(Number);
      return prices.length > 1 && prices.every((p, i) => i === 0 || prices[i - 1] >= p) && prices[0] === 21;
    }, "descending prices starting at 21");
  });

  test("search", async () => {
    await page.goto("/t/books");
    await until(async () => (await rowCount(page)) >= 42, "all books");
    await shot(page, "list", "list.png");
    await page.locator('input[type="search"][name="q"]').fill("lagoon");
    await until(async () => (await rowCount(page)) === 2, "two books matching lagoon");
    const titles = (await columnTexts(page, "Title")).sort();
    eq(titles, ["Night Harbour", "The Lagoon Ledger"], "books matching lagoon");
    await until(() => page.url().includes("q=lagoon"), "q in the URL");
    await shot(page, "search");
  });

  test("open the create form", async () => {
    await page.goto("/t/books");
    await page.locator("a", { hasText: "New row" }).click();
    await page.waitForURL(/\/t\/books\/new$/);
    check(await page.locator('form input[name="_dsid"]').count() === 1, "no _dsid in the form");
    for (const f of ["title", "isbn", "publisher_id", "genre", "published", "price", "pages", "in_stock", "description"]) {
      check(await page.locator(`form [name="${f}"]`).count() > 0, `no field ${f}`);
    }
  });

  test("an invalid value shows an inline error and keeps the typed input", async () => {
    await page.locator('[name="title"]').fill("The Harbour Cat");
    await page.locator('[name="isbn"]').fill("9780000000999");
    const publisher = page.locator('[name="publisher_id"]').last();
    if (await publisher.evaluate((el) => el.tagName === "SELECT")) await publisher.selectOption("5"); // Fennel & Finch
    else await publisher.fill("5");
    await page.locator('select[name="genre"]').selectOption("children");
    await page.locator('[name="published"]').fill("2025-03-14");
    await page.locator('[name="price"]').fill("-5");
    await page.locator('[name="pages"]').fill("48");
    await page.locator('[name="description"]').fill("A ship's cat learns to read the tide tables.");
    await page.locator('form button[type="submit"]').click();
    const err = page.locator(".field-error, [role=alert]").first();
    await err.waitFor({ state: "visible" });
    await until(async () => (await page.locator('[name="price"]').getAttribute("aria-invalid")) === "true", "price marked invalid");
    eq(await page.locator('[name="price"]').inputValue(), "-5", "price as typed");
    eq(await page.locator('[name="title"]').inputValue(), "The Harbour Cat", "title as typed");
    eq(await page.locator('[name="description"]').inputValue(), "A ship's cat learns to read the tide tables.", "description as typed");
    eq(await page.locator('select[name="genre"]').inputValue(), "children", "genre as chosen");
    check(page.url().endsWith("/t/books/new"), `URL ${page.url()}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.mouse.move(1200, 700);
    await shot(page, "form-invalid", "form.png");
  });

  test("fix the value and create the row", async () => {
    await page.locator('[name="price"]').fill("9.99");
    await page.locator('form button[type="submit"]').click();
    await page.waitForURL(/\/t\/books\/r\/\d+$/);
    created = new URL(page.url()).pathname;
    eq(await page.locator('[name="title"]').inputValue(), "The Harbour Cat", "title on the row page");
    eq(await page.locator('[name="price"]').inputValue(), "9.99", "price on the row page");
    const api = await page.request.get(`/api/tables/books/rows/${created.split("/").pop()}`);
    eq(api.status(), 200, "the API sees the row");
    eq((await api.json()).row.price, 9.99, "price stored");
  });

  test("edit the row", async () => {
    check(created, "needs the created row");
    await page.locator('[name="title"]').fill("The Harbour Cat, Revised");
    await page.locator('[name="pages"]').fill("52");
    await page.locator('form button[type="submit"]').click();
    await until(async () => {
      const r = await page.request.get(`/api/tables/books/rows/${created.split("/").pop()}`);
      const j = await r.json();
      return j.row?.title === "The Harbour Cat, Revised" && j.row?.pages === 52;
    }, "the edit to be stored");
    await until(async () => (await page.locator('[name="title"]').inputValue()) === "The Harbour Cat, Revised", "the form to show the edit");
    await shot(page, "row-edited");
  });

  test("delete the row through the confirmation", async () => {
    check(created, "needs the created row");
    const id = created.split("/").pop();
    // The confirmation page (works without JavaScript) ...
    await page.goto(`${created}/delete`);
    check(await page.locator('form input[name="_dsid"]').count() === 1, "no _dsid on the confirmation form");
    await shot(page, "confirm-delete");
    await page.goto(created);
    // ... and the row page's Delete button, which asks the browser to confirm.
    await page.locator("a, button", { hasText: /^Delete$/ }).first().click();
    await until(() => /\/t\/books(\?.*)?$/.test(page.url()), "the list after deleting", 15000);
    const r = await page.request.get(`/api/tables/books/rows/${id}`);
    eq(r.status(), 404, "the row is gone");
  });

  test("facets: a suggested facet opens, a value click filters, a second click takes the filter off", async () => {
    await page.goto("/t/books");
    const suggestion = page.locator("#list .explore .suggest a", { hasText: "Genre" });
    await suggestion.click();
    await until(() => page.url().includes("facet=genre"), "the URL to carry the facet");
    const facet = page.locator("#list .facet", { hasText: "Genre" });
    await facet.waitFor();
    const entries = await facet.locator("li").allInnerTexts();
    await page.locator("#list .explore .suggest a", { hasText: "Publisher" }).click();
    await page.locator("#list .facet", { hasText: "Publisher" }).waitFor();
    await shot(page, "facets", "facets.png");
    check(entries.length >= 3, `the genre facet shows ${entries.length} values`);
    const [first, n] = [entries[0].replace(/\s+\d+$/, "").trim(), Number(entries[0].match(/(\d+)$/)?.[1])];
    check(n > 0, `first value ${entries[0]}`);
    await facet.locator("li a").first().click();
    await until(() => page.url().includes("f.genre="), "the URL to carry the facet's filter");
    await until(async () => (await page.locator("#list .count").innerText()).startsWith(`${n} row`), `${n} rows of ${first}`);
    const genres = await columnTexts(page, "Genre");
    check(genres.length > 0 && genres.every((g) => g === first), `rows of other genres: ${genres.join(", ")}`);
    check(await facet.locator("li.on").count() === 1, "the chosen value is not marked");
    await shot(page, "facets-filtered");
    await facet.locator("li.on a").click();
    await until(() => !page.url().includes("f.genre="), "the filter to come off");
    await until(async () => (await facet.locator("li").count()) === entries.length, "every value again");
  });

  test("totals: sums, averages and extremes of the numbers under the list", async () => {
    await page.goto("/t/order_items");
    await page.locator("#list .explore a", { hasText: "Totals" }).click();
    await until(() => page.url().includes("aggregates=1"), "the URL to ask for totals");
    const foot = page.locator("#list tfoot");
    await foot.waitFor();
    const text = await foot.innerText();
    check(/sum/.test(text) && /average/.test(text) && /least/.test(text) && /greatest/.test(text), `the footer says ${text}`);
    check(!/NaN|undefined/.test(text), `the footer says ${text}`);
    await foot.scrollIntoViewIfNeeded();
    await shot(page, "totals");
  });

  test("totals by a facet's values: a group-by page links each group to its rows", async () => {
    await page.goto("/t/books?facet=genre");
    await page.locator("#list .facet a", { hasText: "Totals by Genre" }).click();
    await until(() => page.url().includes("/t/books/groups?group=genre"), "the group-by page");
    const rows = page.locator("table.groups tbody tr");
    check(await rows.count() >= 3, `${await rows.count()} groups`);
    const first = await rows.first().locator("td").allInnerTexts();
    check(first.length === 6 && Number(first[1]) > 0, `first group: ${first.join(" | ")}`);
    check(await page.locator("#groups figure.nh-chart svg rect.nh-bar").count() === await rows.count(), "a bar per group");
    await shot(page, "groups", "groups.png");
    await page.goto("/t/orders/groups?group=ordered_at:month");
    const points = await page.locator("#groups svg polyline.nh-line").getAttribute("points");
    check((points ?? "").split(" ").length >= 3, `a line over the months: ${points}`);
    await shot(page, "groups-line");
    await page.goto("/t/books/groups?group=genre");
    await rows.first().locator("a").click();
    await until(() => page.url().includes("f.genre="), "the group's rows");
    await until(async () => (await page.locator("#list .count").innerText()).startsWith(`${first[1]} row`), `${first[1]} rows`);
  });

  test("the SQL page: a parameter's field, a chart, and a query saved from it", async () => {
    const sql = "SELECT genre, count(*) AS books FROM books WHERE price >= :min_price GROUP BY genre ORDER BY books DESC";
    await page.goto("/sql");
    await page.locator("#sql").fill(sql);
    await page.locator("form.read button.primary").click();
    await until(() => page.url().includes("sql="), "the run to carry the statement");
    const field = page.locator("#p-min_price");
    await field.waitFor();
    await field.fill("5");
    await page.locator("form.read button.primary").click();
    await until(() => page.url().includes("min_price=5"), "the parameter's value in the URL");
    const bars = page.locator("#result figure.nh-chart svg rect.nh-bar, #result figure.nh-chart svg path");
    await until(async () => (await bars.count()) >= 2, "a chart of the result");
    const rows = await page.locator("#result table tbody tr").count();
    check(rows >= 2, `${rows} result rows`);
    await shot(page, "sql", "sql.png");
    await page.locator("details.save summary").click();
    await page.locator("#save-name").fill("genres");
    await page.locator("#save-title").fill("Books per genre");
    await page.locator("details.save button").click();
    await until(() => page.url().endsWith("/q/genres"), "the saved query's page");
    check((await page.locator("h1").innerText()) === "Books per genre", "the saved query's title");
    await shot(page, "query");
    check(await page.locator("#p-min_price").inputValue() === "5", "the parameter's value saved as its default");
    check(await page.locator("#result table tbody tr").count() === rows, "the saved query's rows");
    const saved = JSON.parse(readFileSync(configFile, "utf8")) as { queries?: Record<string, { sql: string; params?: Record<string, string> }> };
    check(saved.queries?.genres?.sql === sql && saved.queries.genres.params?.min_price === "5", `the config file: ${JSON.stringify(saved)}`);
    await page.goto("/");
    check(await page.locator("a[href='/q/genres']").count() === 1, "the index lists the saved query");
    await page.goto("/q/genres");
    await page.locator("button", { hasText: "Delete this query" }).click();
    await until(() => new URL(page.url()).pathname === "/", "the index after the delete");
    check(await page.locator("a[href='/q/genres']").count() === 0, "the deleted query is still listed");
  });

  test("import: paste a CSV, preview it, import it; another open page follows", async () => {
    const other = await context.newPage();
    await other.goto("/t/authors?q=Imported");
    await until(async () => (await other.locator("#list .count").innerText()).startsWith("0 row"), "no imported author yet");
    await page.goto("/t/authors");
    await page.locator(".page-head a", { hasText: "Import" }).click();
    await until(() => page.url().endsWith("/t/authors/import"), "the import page");
    await page.locator("#import-text").fill("name,country,born\nImported One,Norway,1901-02-03\nImported Two,Chile,\n");
    await page.locator("button", { hasText: "Preview" }).click();
    const preview = page.locator("section.preview tbody tr");
    await until(async () => (await preview.count()) === 2, "two rows previewed");
    check((await page.locator("section.preview h2").innerText()).startsWith("2 rows"), "the preview's count");
    check(await page.locator("#import-text").inputValue() !== "", "the pasted text kept after the preview");
    await page.locator("section.preview").scrollIntoViewIfNeeded();
    await shot(page, "import-preview", "import.png");
    await page.locator("#import-text").fill("name,country,born\nImported Bad,Peru,not a date\n");
    await page.locator("button.primary", { hasText: "Import" }).click();
    await until(async () => (await page.locator("ul.import-errors li").count()) === 1, "the bad row listed");
    check(/Line 2/.test(await page.locator("ul.import-errors li").innerText()), "the bad row's line");
    await page.locator("#import-text").fill("name,country,born\nImported One,Norway,1901-02-03\nImported Two,Chile,\n");
    await page.locator("button.primary", { hasText: "Import" }).click();
    await until(() => new URL(page.url()).pathname === "/t/authors", "back to the list");
    await until(async () => (await other.locator("#list .count").innerText()).startsWith("2 row"), "the other page shows the imported authors");
    check((await columnTexts(other, "Name")).join("|") === "Imported One|Imported Two", "the imported names on the other page");
    await other.close();
  });

  test("paste: cells copied from a spreadsheet, pasted on a list, open the import preview and import", async () => {
    await page.goto("/t/authors");
    await page.locator("#list tbody tr").first().waitFor();
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.setData("text/plain", "Pasted One\tpasted@example.com\t1950-01-02\tPeru\r\nPasted Two\t\t\tChile\r\n");
      document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    });
    await until(() => page.url().endsWith("/t/authors/import"), "the import page");
    const preview = page.locator("section.preview tbody tr");
    await until(async () => (await preview.count()) === 2, "two pasted rows previewed");
    check(((await page.locator("section.preview thead").textContent()) ?? "").includes("country"), "the pasted cells read as the list's columns");
    await page.locator("button.primary", { hasText: "Import" }).click();
    await until(() => new URL(page.url()).pathname === "/t/authors", "back to the list");
    const r = await page.request.get("/api/tables/authors/rows?q=Pasted&limit=10");
    const rows = (await r.json()).rows as { id: number; name: string; email: string | null; country: string }[];
    eq(rows.map((x) => [x.name, x.email, x.country]), [["Pasted One", "pasted@example.com", "Peru"], ["Pasted Two", null, "Chile"]], "the pasted rows");
    for (const x of rows) await page.request.delete(`/api/tables/authors/rows/${x.id}`);
  });

  test("import a file larger than a request: sent in parts with progress, written in one transaction", async () => {
    let csv = "name,country,bio\n";
    for (let i = 0; i < 40_000; i++) csv += `Large ${i},Norway,"${"a long, quoted bio ".repeat(7)}"\n`;
    await page.goto("/t/authors/import");
    await page.locator("#import-file").setInputFiles({ name: "authors.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.locator("button", { hasText: "Preview" }).click();
    await until(async () => (await page.locator("section.preview tbody tr").count()) > 0, "the first rows previewed");
    check((await page.locator(".import-progress span").innerText()).includes("Import reads all of it"), "the preview says it is the first rows");
    await page.locator("button.primary", { hasText: "Import" }).click();
    await until(() => new URL(page.url()).pathname === "/t/authors", "back to the list after the commit", 60000);
    const r = await page.request.get("/api/tables/authors/rows?q=Large&limit=1");
    check(r.ok(), "the list answers");
    const db = openDB(dbFile);
    try {
      eq(Number((db.prepare("SELECT count(*) AS n FROM authors WHERE name LIKE 'Large %'").get() as { n: number }).n), 40_000, "every row imported");
      db.exec("DELETE FROM authors WHERE name LIKE 'Large %'");
    } finally {
      db.close();
    }
  });

  test("bulk: tick rows, set a column on them, then delete them after a confirmation", async () => {
    await page.goto("/t/authors?q=Imported");
    await until(async () => (await rowCount(page)) === 2, "the two imported authors");
    for (const box of await page.locator("#list tbody td.pick input").all()) await box.check();
    await page.locator("#bulk select[name=column]").selectOption("country");
    await page.locator("#bulk input[name=value]").fill("Iceland");
    await page.locator("#bulk button", { hasText: "Set" }).click();
    await until(async () => (await columnTexts(page, "Country")).join("|") === "Iceland|Iceland", "both rows set to Iceland");
    check(page.url().includes("q=Imported"), `back to the same list: ${page.url()}`);
    await shot(page, "bulk-set");
    for (const box of await page.locator("#list tbody td.pick input").all()) await box.check();
    await page.locator("#bulk button", { hasText: "Delete" }).click();
    await until(async () => (await page.locator("h1").innerText()).startsWith("Delete 2 rows"), "the confirmation page");
    check((await page.locator("ul.bulk-rows li").allInnerTexts()).join("|") === "Imported One|Imported Two", "the rows to delete, by name");
    await page.locator("button.danger", { hasText: "Delete 2 rows" }).click();
    await until(async () => page.url().includes("/t/authors?q=Imported") && (await rowCount(page)) <= 1 &&
      (await page.locator("#list .count").innerText()).startsWith("0 row"), "no imported author left");
  });

  test("structure: rename a column from its page, previewed first; an open form follows with its typed text", async () => {
    const other = await context.newPage();
    await other.goto("/t/authors/r/1");
    const typed = other.locator('form#record [name="country"]');
    await typed.fill("Typed before the rename");
    await page.goto("/t/authors");
    await page.locator(".page-head a", { hasText: "Structure" }).click();
    await until(() => page.url().endsWith("/t/authors/structure"), "the structure page");
    const row = page.locator("table.structure tbody tr", { has: page.locator('th:text-is("country")') });
    await row.locator("summary", { hasText: "Rename" }).click();
    await row.locator('details[open] input[name="name"]').fill("nation");
    await shot(page, "structure", "structure.png");
    await row.locator("details[open] button", { hasText: "Preview" }).click();
    await until(async () => (await page.locator("pre.ddl").innerText()).includes('RENAME COLUMN "country" TO "nation"'), "the DDL previewed");
    await page.locator("button", { hasText: "Apply" }).click();
    await until(() => page.url().endsWith("/t/authors/structure"), "back on the structure page");
    await until(async () => (await page.locator('table.structure th[scope="row"]').allInnerTexts()).includes("nation"), "the renamed column listed");
    await until(async () => (await other.locator('form#record [name="nation"]').count()) === 1, "the open form's field renamed");
    eq(await other.locator('form#record [name="nation"]').inputValue(), "Typed before the rename", "the typed text kept");
    await other.close();
    const back = await fetch(`${base}/api/structure`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ op: "alterColumn", table: "authors", column: "nation", def: { name: "country", type: "TEXT" } }),
    });
    eq(back.status, 200, `renamed back: ${await back.text()}`);
  });

  test("a new table from a file: its columns read and typed, changed, then made and filled", async () => {
    await page.goto("/");
    await page.locator("a.button", { hasText: "New table" }).click();
    await until(() => page.url().endsWith("/structure/new"), "the new-table page");
    await page.locator("form.structure-file textarea[name=text]").fill("title,year,rating\nHarbour Lights,1931,4.5\nNorth Road,2001,3\n");
    await page.locator("form.structure-file input[name=table]").fill("films");
    await page.locator("button", { hasText: "Read the file" }).click();
    await until(async () => (await page.locator('input[name="c1.type"]').count()) === 1, "the columns offered");
    eq(await page.locator('input[name="c1.type"]').inputValue(), "INTEGER", "year, an integer");
    eq(await page.locator('input[name="c2.type"]').inputValue(), "REAL", "rating, a number");
    await page.locator('input[name="c0.name"]').fill("name");
    await shot(page, "table-from-file");
    await page.locator("button", { hasText: "Create and import" }).click();
    await until(() => new URL(page.url()).pathname === "/t/films", "the new table's list");
    eq(await columnTexts(page, "Name"), ["Harbour Lights", "North Road"], "its rows, under the renamed column");
    const drop = await fetch(`${base}/api/structure`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ op: "dropTable", table: "films", confirm: true }),
    });
    eq(drop.status, 200, "dropped again");
  });

  test("phone-size and dark-mode screenshots", async () => {
    const phone = await browser!.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, baseURL: base });
    const pp = await phone.newPage();
    await pp.goto("/t/books");
    await pp.locator("#list tbody tr").first().waitFor();
    const overflow = await pp.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await pp.screenshot({ path: join(results, "phone-list.png") });
    await pp.goto("/t/books/r/1");
    await pp.screenshot({ path: join(results, "phone-form.png"), fullPage: true });
    await phone.close();
    check(overflow <= 1, `the phone page scrolls sideways by ${overflow}px (the grid should scroll inside its box)`);
    const dark = await browser!.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "dark", baseURL: base });
    const dp = await dark.newPage();
    await dp.goto("/t/books");
    await dp.locator("#list tbody tr").first().waitFor();
    const bg = await dp.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await dp.screenshot({ path: join(results, "dark-list.png") });
    await dp.goto("/t/books/r/1");
    await dp.screenshot({ path: join(results, "dark-form.png") });
    await dark.close();
    const rgb = (bg.match(/\d+/g) ?? []).slice(0, 3).map(Number);
    check(rgb.length === 3 && rgb.reduce((a, b) => a + b, 0) < 3 * 128, `dark mode background is ${bg}`);
  });

  test("upload: a picture into a BLOB column and into a file column shows as a thumbnail; an HTML file named .png is served as an attachment, never as a page", async () => {
    const file = join(tmp, "pics.db");
    const db = openDB(file);
    db.exec("CREATE TABLE pics (id INTEGER PRIMARY KEY, title TEXT, img BLOB); CREATE TABLE scans (id INTEGER PRIMARY KEY, title TEXT, img TEXT)");
    db.close();
    const cfg = join(tmp, "pics.json");
    writeFileSync(cfg, JSON.stringify({ tables: { scans: { columns: { img: { file: true } } } } }));
    const srv = await startServer(prepareHost(host, tmp), ["--db", file, "--port", "0", "--config", cfg]);
    const ctx2 = await browser!.newContext({ viewport: { width: 1280, height: 800 }, baseURL: srv.url.origin });
    try {
      const p = await ctx2.newPage();
      // A 1x1 PNG.
      const png = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2f1bb6d0000000049454e44ae426082", "hex");
      for (const table of ["pics", "scans"]) {
        for (const [title, name, bytes] of [["a picture", "dot.png", png], ["a page", "evil.png", Buffer.from("<html><script>alert(1)</script></html>")]] as const) {
          await p.goto(`/t/${table}/new`);
          await p.locator('[name="title"]').fill(title);
          await p.locator('input[type=file][name="img"]').setInputFiles({ name, mimeType: "image/png", buffer: bytes });
          await p.locator('form button[type="submit"]').click();
          await until(() => new RegExp(`/t/${table}/r/\\d+$`).test(new URL(p.url()).pathname), `the new row (${table}, ${title})`);
        }
        const got = await p.request.get(`/api/tables/${table}/rows/1/img`);
        eq(Buffer.from(await got.body()).equals(png), true, `the picture's bytes, as uploaded (${table})`);
        eq(got.headers()["content-type"], "image/png", `a picture is served as one (${table})`);
        await p.goto(`/t/${table}/r/1`);
        check(await p.locator("img.thumb").count() > 0, `the row page shows the picture (${table})`);
        if (table === "scans") await shot(p, "file-column-row");
        const evil = await p.request.get(`/api/tables/${table}/rows/2/img`);
        check(!(evil.headers()["content-type"] ?? "").includes("html") && (evil.headers()["content-disposition"] ?? "").startsWith("attachment"),
          `an HTML file named .png (${table}): ${JSON.stringify(evil.headers())}`);
        check((evil.headers()["content-security-policy"] ?? "").includes("sandbox"), `served under a sandbox (${table})`);
      }
      // The file column's bytes are files beside the database, one per row, named by the rows' keys.
      const check2 = openDB(file);
      const keys = (check2.prepare("SELECT img FROM scans ORDER BY img").all() as { img: string }[]).map((r) => r.img);
      check2.close();
      eq(readdirSync(`${file}-files`).sort().join(","), keys.join(","), "the files directory against the rows' keys");
      await p.goto("/t/scans");
      check((await p.locator("td.blob a, a.blob, .blob").first().textContent() ?? "").includes("PNG image"), "the list names the file by type and size");
    } finally {
      await ctx2.close();
      await srv.stop();
    }
  });

  test("people: sign in with email and password, the user's name and sign-out on the page, another's row hidden, a refused edit named by its rule, no New where create is refused, sign out", async () => {
    const file = join(tmp, "people.db");
    const db = openDB(file);
    db.exec(peopleSchema(false) + "CREATE TABLE secrets (id INTEGER PRIMARY KEY, code TEXT); INSERT INTO secrets (code) VALUES ('TOPSECRET');");
    db.close();
    const cfg = join(tmp, "people.json");
    const config = structuredClone(PEOPLE_CONFIG) as { tables: Record<string, unknown> };
    config.tables["secrets"] = { rules: { list: "false", view: "false", create: "false", update: "false", delete: "false" } };
    writeFileSync(cfg, JSON.stringify(config));
    const hc = prepareHost(host, tmp);
    const users: [string, string, string][] = [["root@example.com", "root-password", "admin"], ["ann@example.com", "ann-password", "user"], ["ben@example.com", "ben-password", "editor"]];
    for (const [email, pw, role] of users) {
      const r = await runToExit(hc, ["user", "add", "--db", file, "--email", email, "--role", role], 60000, pw + "\n");
      eq(r.code, 0, `user add ${email}: ${r.stderr}`);
    }
    const srv = await startServer(hc, ["--db", file, "--port", "0", "--config", cfg]);
    const ctx2 = await browser!.newContext({ viewport: { width: 1280, height: 800 }, baseURL: srv.url.origin });
    try {
      const p = await ctx2.newPage();
      p.setDefaultTimeout(15000);
      const errors: string[] = [];
      p.on("pageerror", (e) => errors.push(e.message));
      const signIn = async (email: string, pw: string) => {
        await p.goto("/");
        await p.locator('input[name="email"]').fill(email);
        await p.locator('input[name="password"]').fill(pw);
        await p.locator('form button[type="submit"]', { hasText: "Sign in" }).first().click();
      };
      // A wrong password: the form again, with a message that names no one.
      await signIn("ann@example.com", "not-her-password");
      await p.locator('[role="alert"]').waitFor();
      check((await p.locator('[role="alert"]').innerText()).includes("do not match"), "the refusal's message");
      eq(await p.locator('input[name="email"]').inputValue(), "ann@example.com", "the email typed, kept");
      eq(await p.locator('input[name="password"]').inputValue(), "", "the password, not kept");
      await shot(p, "signin");
      // Ann writes a note; the header names her and offers to sign out.
      await signIn("ann@example.com", "ann-password");
      await until(async () => (await p.locator(".who .user").count()) > 0, "the signed-in user in the header");
      eq(await p.locator(".who .user").innerText(), "ann@example.com", "the header's user");
      await p.goto("/t/notes/new");
      await p.locator('[name="body"]').fill("Ann's own note");
      await p.locator("form button.primary").click();
      await until(() => /\/t\/notes\/r\/\d+$/.test(new URL(p.url()).pathname), "Ann's new note");
      check((await p.locator('[name="owner_email"]').inputValue()) === "ann@example.com", "the owner filled from the user");
      await p.goto("/t/secrets");
      check(await p.locator("a", { hasText: "New row" }).count() === 0, "no New where the create rule is false");
      check(!(await p.locator("body").innerText()).includes("TOPSECRET"), "no secret row listed");
      await p.locator("form.signout button").click();
      await until(async () => (await p.locator('input[name="email"]').count()) > 0, "the sign-in form after signing out");
      // Ben (an editor) sees Ann's note, but its form is read-only.
      await signIn("ben@example.com", "ben-password");
      await until(async () => (await p.locator(".who .user").count()) > 0, "Ben signed in");
      await p.goto("/t/notes");
      await until(async () => (await rowCount(p)) === 1, "Ann's note in Ben's list");
      await p.goto("/t/notes/r/1");
      check(await p.locator('#record button[type="submit"]').count() === 0, "Ben's form of Ann's note has no Save");
      check(await p.locator('[name="body"][readonly]').count() === 1, "and its fields are read-only");
      await shot(p, "rule-readonly");
      // A write the rule refuses, sent anyway (a stale form, a script): the 403 page names the rule.
      const refused = await p.request.post("/t/notes/r/1", { form: { body: "Ben was here" }, headers: { accept: "text/html", origin: srv.url.origin } });
      eq(refused.status(), 403, "Ben's edit of Ann's note");
      const text = await refused.text();
      check(text.includes("the update rule of notes") && text.includes("owner = @user.id"), `the 403 names the rule: ${text.slice(0, 500)}`);
      await p.setContent(text);
      await shot(p, "rule-403");
      await p.goto("/");
      await p.locator("form.signout button").click();
      // Root's note is hidden from Ann: 404, not its content.
      await signIn("root@example.com", "root-password");
      await until(async () => (await p.locator(".who .user").count()) > 0, "Root signed in");
      check(await p.locator('a[href="/users"]').count() === 1, "an administrator's link to the users page");
      await p.goto("/t/notes/new");
      await p.locator('[name="body"]').fill("Root's private note");
      await p.locator("form button.primary").click();
      await until(() => /\/t\/notes\/r\/2$/.test(new URL(p.url()).pathname), "Root's note");
      await p.goto("/users");
      check((await p.locator("table.users").innerText()).includes("ben@example.com"), "the users page lists Ben");
      await shot(p, "users");
      await p.locator("form.signout button").click();
      await signIn("ann@example.com", "ann-password");
      await until(async () => (await p.locator(".who .user").count()) > 0, "Ann again");
      await p.goto("/t/notes");
      await until(async () => (await rowCount(p)) === 1, "Ann's list: her note only");
      check(!(await p.locator("body").innerText()).includes("Root's private note"), "Root's note hidden in Ann's list");
      const hidden = await p.goto("/t/notes/r/2");
      eq(hidden?.status(), 404, "Root's note by URL");
      check(!(await p.locator("body").innerText()).includes("Root's private note"), "the 404 shows nothing of it");
      check(errors.length === 0, `script errors: ${errors.join(" | ")}`);
    } finally {
      await ctx2.close();
      await srv.stop();
    }
  });

  test("an untouched Save in the browser changes nothing: BLOBs, NULL booleans, multi-line text, odd dates", async () => {
    const file = join(tmp, "fidelity.db");
    buildFidelity(file);
    const srv = await startServer(prepareHost(host, tmp), ["--db", file, "--port", "0"]);
    const ctx2 = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const p = await ctx2.newPage();
      p.setDefaultTimeout(15000);
      const errors: string[] = [];
      p.on("pageerror", (e) => errors.push(e.message));
      for (const [table, keys] of [["loose", ["1", "2", "3", "4", "5", "6"]], ["strict_t", ["1", "2", "3", "4", "5"]], ["keyed", ["a", "b b", "c/d?e#f%g", "ü"]]] as const) {
        const before = snapshot(file, table);
        for (const k of keys) {
          await p.goto(`${srv.url.origin}/t/${table}/r/${encodeURIComponent(k)}`);
          const saved = p.waitForResponse((r) => r.request().method() === "POST");
          await p.locator('#record button[type="submit"]').click();
          const r = await saved;
          check(r.status() < 400, `${table} ${k}: Save answered ${r.status()}`);
          await p.locator("#record .notice").first().waitFor({ state: "visible" }).catch(() => {});
          if (table === "loose" && k === "3") await p.screenshot({ path: join(results, "fidelity-saved.png"), fullPage: true });
        }
        eq(snapshot(file, table), before, `${table} after saving every row untouched in Chromium`);
      }
      check(errors.length === 0, `script errors: ${errors.join(" | ")}`);
    } finally {
      await ctx2.close();
      await srv.stop();
    }
  });

  test("another site cannot frame the app; an origin in embedOrigins can", async () => {
    // The framing page is served from another port: another origin.
    const frameWith = (src: string) => `<!doctype html><title>outsider</title><iframe id="f" src="${src}" width="800" height="600"></iframe>`;
    let target = "";
    const outsider: HttpServer = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end(frameWith(target));
    });
    await new Promise<void>((r) => outsider.listen(0, "127.0.0.1", r));
    const outsiderOrigin = `http://127.0.0.1:${(outsider.address() as { port: number }).port}`;
    const cfg = join(tmp, "embed.json");
    writeFileSync(cfg, JSON.stringify({ embedOrigins: [outsiderOrigin] }));
    const embedding = await startServer(prepareHost(host, tmp), ["--db", dbFile, "--port", "0", "--config", cfg]);
    const other = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const p = await other.newPage();
      const framed = async (app: string): Promise<{ url: string; rows: number }> => {
        target = `${app}/t/books`;
        await p.goto(outsiderOrigin + "/");
        const f = p.frameLocator("#f");
        await p.waitForTimeout(1500); // a refused frame never loads: give an allowed one time to
        const frame = p.frames().find((fr) => fr !== p.mainFrame());
        return { url: frame?.url() ?? "", rows: await f.locator("#list tbody tr").count() };
      };
      const refused = await framed(base);
      check(refused.rows === 0, `the app rendered inside ${outsiderOrigin}: ${refused.rows} rows (frame ${refused.url})`);
      await p.screenshot({ path: join(results, "frame-refused.png") });
      const allowed = await framed(embedding.url.origin);
      check(allowed.rows > 0, `with embedOrigins the frame stays empty (frame ${allowed.url}): the check above proves nothing`);
      await p.screenshot({ path: join(results, "frame-allowed.png") });
    } finally {
      await other.close();
      await embedding.stop();
      await new Promise((r) => outsider.close(r));
    }
  });

  test("every page ran under the Content-Security-Policy with nothing refused", async () => {
    check(csp.documents >= 8, `only ${csp.documents} HTML documents were checked`);
    check(csp.violations.length === 0, `CSP: ${csp.violations.slice(0, 5).join(" | ")}`);
  });

  test("every request stayed on the server; no script errors", async () => {
    check(foreign.length === 0, `requests elsewhere: ${foreign.slice(0, 5).join(", ")}`);
    check(jsErrors.length === 0, `script errors: ${jsErrors.slice(0, 5).join(" | ")}`);
    check(failed.length === 0, `server errors: ${failed.slice(0, 5).join(", ")}`);
  });

  const only = values.only;
  const res = await runTests(only ? T.filter((t) => t.name.includes(only)) : T, (s) => console.log(s));
  const passed = res.filter((r) => r.ok).length;
  const failedN = res.length - passed;
  if (server.stderr().trim()) console.log(`host stderr:\n${server.stderr().trim().split("\n").slice(-20).join("\n")}`);
  console.log(`screenshots in ${results}${values.screenshots ? ` and ${docs}` : ""}`);
  console.log(`browser: ${passed} passed, ${failedN} failed`);
  return failedN === 0 ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.log(`browser: setup failed: ${e instanceof Error ? e.message : String(e)}`);
  console.log("browser: 0 passed, 1 failed");
} finally {
  await cleanup();
}
process.exit(code);
