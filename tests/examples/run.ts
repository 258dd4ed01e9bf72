// The examples, run as a user runs them: the package is packed (`npm pack`),
// installed into fresh projects with `npm install` and with `bun add` (with no
// Go on the PATH: installing must not need it), and each example is started
// from its own folder and driven over HTTP. The todo example is also driven
// in Chromium with two pages: one list, every change live on both.
//
//   node tests/examples/run.ts [--only NAME,...] [--no-browser] [--chromium PATH]
//
// Screenshots go to test-results/todo-*.png (gitignored).

import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { parseArgs } from "node:util";
import type { Browser, Page } from "playwright-core";
import { launch, resultsDir } from "../browser/setup.ts";
import { request } from "../http/client.ts";
import { openDB, repoRoot } from "../http/fixture.ts";
import { check, eq, runSuite, type Test, until } from "../http/harness.ts";
import { type HostCommand, startServer, type Server } from "../http/hosts.ts";
import { data, SSE } from "../http/sse.ts";

const { values } = parseArgs({
  options: {
    only: { type: "string", default: "" },
    "no-browser": { type: "boolean", default: false },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
  },
});
const only = values.only === "" ? [] : values.only.split(",");

const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-examples-"));
const servers = new Set<Server>();
let browser: Browser | null = null;
const cleanup = async () => {
  await browser?.close().catch(() => {});
  for (const s of servers) await s.stop().catch(() => null);
  rmSync(tmp, { recursive: true, force: true });
};
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    for (const s of servers) s.proc.kill("SIGKILL");
    process.exit(130);
  });
}

// A PATH with the pinned runtimes (node 24, deno, bun) and the system's tools,
// but no Go: what a JS developer's machine has.
const bin = join(repoRoot, "node_modules/.bin");
const noGoPath = [bin, ...(process.env.PATH ?? "").split(delimiter)]
  .filter((d) => d !== "" && !existsSync(join(d, "go")))
  .join(delimiter);
const userEnv = { ...process.env, PATH: noGoPath, NO_COLOR: "1", npm_config_update_notifier: "false" };

function sh(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, env: userEnv, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
}

// --- the package, packed once
console.log("examples: npm pack");
const packed = JSON.parse(sh("npm", ["pack", "--json", "--pack-destination", tmp], repoRoot)) as {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
}[];
const tarball = join(tmp, packed[0]!.filename);
console.log(
  `examples: ${packed[0]!.filename}: ${packed[0]!.size} bytes packed, ${packed[0]!.unpackedSize} unpacked, ${
    packed[0]!.entryCount
  } files`,
);

type Installer = "npm" | "bun";

/** Copies examples/NAME into a fresh project and installs its dependencies and the tarball. */
function install(name: string, installer: Installer): string {
  const dir = join(tmp, `${installer}-${name}`);
  cpSync(join(repoRoot, "examples", name), dir, {
    recursive: true,
    filter: (src) => !/\.db(-wal|-shm)?$/.test(src) && !src.includes("node_modules"),
  });
  // The example names nakedhtmx from the registry; here it is the tarball,
  // added the way each tool adds a package.
  const pkgPath = join(dir, "package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { dependencies: Record<string, string> };
  check(pkg.dependencies["nakedhtmx"] !== undefined, `examples/${name}/package.json depends on nakedhtmx`);
  delete pkg.dependencies["nakedhtmx"];
  writeFileSync(pkgPath, JSON.stringify(pkg, null, 2));
  if (installer === "npm") sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], dir);
  else sh("bun", ["add", tarball], dir);
  const installed = join(dir, "node_modules/nakedhtmx");
  check(existsSync(join(installed, "dist/core.wasm")), `${installer}: the wasm is installed`);
  const files = readdirSync(installed, { recursive: true }) as string[];
  check(!files.some((f) => /(^|\/)(test|src)\//.test(f) || /(?<!\.d)\.ts$/.test(f)), `${installer}: no tests or sources`);
  return dir;
}

async function start(name: string, hc: HostCommand): Promise<Server> {
  const s = await startServer({ ...hc, env: { PATH: noGoPath, PORT: "0", ...hc.env } }, [], 90000);
  servers.add(s);
  console.log(`examples: ${name} serving ${s.url}`);
  return s;
}

async function stop(s: Server): Promise<void> {
  const code = await s.stop();
  servers.delete(s);
  eq(code, 0, `exit code after SIGTERM (stderr: ${s.stderr().slice(-400)})`);
}

const json = { "content-type": "application/json", accept: "application/json" };

/** The JSON API and the event stream of one table under base. */
async function driveTable(url: URL, base: string, table: string, row: Record<string, unknown>): Promise<void> {
  const index = await request(url, "GET", `${base}/`, { headers: { accept: "text/html" } });
  eq(index.status, 200, "index page");
  check(index.text.includes(`href="${base}/t/${table}"`), `the index links ${base}/t/${table}`);
  check(index.text.includes(`src="${base}/assets/htmx.min.js`), "htmx is served under the base path");
  const asset = /src="([^"]*htmx\.min\.js[^"]*)"/.exec(index.text)![1]!;
  eq((await request(url, "GET", asset)).status, 200, "the htmx asset");

  const events = await SSE.open(url, `${base}/api/events`);
  try {
    eq(events.status, 200, "event stream");
    const created = await request(url, "POST", `${base}/api/tables/${table}/rows`, {
      headers: json,
      body: JSON.stringify(row),
    });
    eq(created.status, 201, `create: ${created.text}`);
    const pk = (JSON.parse(created.text) as { pk: Record<string, unknown> }).pk;
    const e = await events.waitFor(0, (e) => e.event === "change", "the insert's change event");
    const d = data(e) as { table: string; op: string; pk: Record<string, unknown> };
    eq([d.table, d.op, JSON.stringify(d.pk)], [table, "insert", JSON.stringify(pk)], "change event");
  } finally {
    events.close();
  }
  const list = await request(url, "GET", `${base}/t/${table}`, { headers: { accept: "text/html" } });
  eq(list.status, 200, "list page");
  check(list.text.includes(String(Object.values(row)[0])), "the new row is listed");
  check(list.text.includes(`hx-sse:connect="${base}/t/${table}/live`), "the page's live stream is under the base path");
}

const tests: Test[] = [];
const add = (name: string, fn: () => Promise<void>) => {
  if (only.length === 0 || only.some((o) => name.includes(o))) tests.push({ name, fn });
};

add("deno (npm install, Deno.serve)", async () => {
  const dir = install("deno", "npm");
  // The package's declarations, seen from a user's project.
  sh("deno", ["check", "main.ts"], dir);
  const s = await start("deno", { cmd: "deno", args: ["run", "-A", "main.ts"], cwd: dir });
  await driveTable(s.url, "", "notes", { title: "From Deno", body: "Deno.serve with nh.fetch" });
  await stop(s);
});

add("express (npm install, app.use('/admin', nh.node))", async () => {
  const dir = install("express", "npm");
  const s = await start("express", { cmd: "node", args: ["server.js"], cwd: dir });
  await driveTable(s.url, "/admin", "products", { name: "Sourdough", price: 4.5 });
  await ownRoutes(s.url, "Sourdough");
  await stop(s);
});

add("bun (bun add, Bun.serve)", async () => {
  const dir = install("bun", "bun");
  const s = await start("bun", { cmd: "bun", args: ["server.ts"], cwd: dir });
  await driveTable(s.url, "", "notes", { title: "From Bun", body: "Bun.serve with nh.fetch" });
  await stop(s);
});

add("hono (bun add, a Hono app with nakedhtmx at /admin)", async () => {
  const dir = install("hono", "bun");
  const s = await start("hono", { cmd: "bun", args: ["server.ts"], cwd: dir });
  await driveTable(s.url, "/admin", "products", { name: "Rye loaf", price: 3.2 });
  await ownRoutes(s.url, "Rye loaf");
  await stop(s);
});

// `deno run -A jsr:@nakedhtmx/serve` runs the JSR package's default export,
// deno/mod.ts: run, it is the server; imported, it is the library and starts nothing.
add("JSR entry: deno/mod.ts run is the server, imported is the library", async () => {
  const dir = mkdtempSync(join(tmp, "jsr-"));
  const file = join(dir, "jsr.db");
  const db = openDB(file);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  db.close();
  const mod = join(repoRoot, "deno/mod.ts");
  const s = await start("jsr entry", { cmd: "deno", args: ["run", "-A", mod, "--db", file, "--port", "0"], cwd: dir });
  await driveTable(s.url, "", "t", { v: "from the JSR entry" });
  await stop(s);
  // Imported: no server, no URL line; the library answers and the process ends by itself.
  const script = `import { nakedhtmx } from ${JSON.stringify(new URL(`file://${mod}`).href)};
const nh = await nakedhtmx({ db: ${JSON.stringify(file)} });
const res = await nh.fetch(new Request("http://localhost/api/tables/t/rows"));
console.log(res.status, (await res.json()).rows.length);
await nh.close();`;
  eq(sh("deno", ["eval", script], dir).trim(), "200 1", "the library, imported");
});

/** The host app's own routes still answer, and see what nakedhtmx wrote. */
async function ownRoutes(url: URL, product: string): Promise<void> {
  const home = await request(url, "GET", "/");
  eq(home.status, 200, "the app's own home page");
  check(home.text.includes(product), "the app's page lists the product written through /admin");
  const health = await request(url, "GET", "/api/health");
  eq([health.status, health.text.trim()], [200, '{"ok":true}'], "the app's own API");
  eq((await request(url, "GET", "/nope")).status, 404, "the app's 404 outside /admin");
}

// The installed bin, as `npm start` runs it (npx itself does not pass SIGTERM
// on to the server, so a test could not stop it cleanly through npx).
add("todo (npm install, node_modules/.bin/nakedhtmx)", async () => {
  const dir = install("todo", "npm");
  sh("node", ["init.mjs", "todo.db"], dir);
  const s = await start("todo", {
    cmd: join(dir, "node_modules/.bin/nakedhtmx"),
    args: ["--db", "todo.db", "--port", "0"],
    cwd: dir,
  });
  await driveTodo(s.url);
  if (!values["no-browser"]) await twoBrowsers(s.url);
  await stop(s);
});

add("todo (bun add, bunx --bun nakedhtmx)", async () => {
  const dir = install("todo", "bun");
  sh("bun", ["init.mjs", "todo.db"], dir);
  const s = await start("todo", {
    cmd: "bunx",
    args: ["--bun", "nakedhtmx", "--db", "todo.db", "--port", "0"],
    cwd: dir,
  });
  check(s.stdout().includes("todo.db"), "the CLI names the database");
  await driveTodo(s.url);
  await stop(s);
});

/** The todo app over HTTP: nakedhtmx.json was picked up, and the list is live. */
async function driveTodo(url: URL): Promise<void> {
  const schema = await request(url, "GET", "/api/schema/todos", { headers: { accept: "application/json" } });
  eq(schema.status, 200, "schema");
  const list = await request(url, "GET", "/t/todos", { headers: { accept: "text/html" } });
  check(list.text.includes("What needs to be done?"), "the config's labels (nakedhtmx.json was read)");
  await driveTable(url, "", "todos", { title: "Water the plants" });
}

// --- two browsers, one list
async function twoBrowsers(url: URL): Promise<void> {
  browser = await launch(values.chromium, false);
  const ctxA = await browser.newContext({ viewport: { width: 900, height: 640 } });
  const ctxB = await browser.newContext({ viewport: { width: 900, height: 640 } });
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  const results = resultsDir();
  const shot = (p: Page, name: string) => p.screenshot({ path: join(results, `todo-${name}.png`) });
  const list = new URL("/t/todos", url).href;
  await a.goto(list);
  await b.goto(list);
  for (const p of [a, b]) {
    // A reload would drop this mark: the updates below must come without one.
    await p.evaluate(() => ((globalThis as unknown as { __mark: number }).__mark = 1));
    await p.waitForFunction(() => document.querySelector("#nh-live") !== null);
  }
  const marked = async (p: Page) => eq(await p.evaluate(() => (globalThis as unknown as { __mark?: number }).__mark), 1, "no reload");
  await until(() => b.locator("#list tbody tr").count().then((n) => n >= 1), "B shows the list");
  const rowsBefore = await b.locator("#list tbody tr").count();

  // A adds a todo through its form; it appears on B's list.
  await a.getByRole("link", { name: "New row" }).click();
  await a.getByLabel("What needs to be done?").fill("Call the plumber");
  await a.getByRole("button", { name: "Create" }).click();
  await a.waitForURL(/\/t\/todos\/r\/\d+$/);
  const id = /\/r\/(\d+)$/.exec(a.url())![1]!;
  const rowB = b.locator(`#row-${id}`);
  await rowB.waitFor({ timeout: 10000 });
  check((await rowB.textContent())?.includes("Call the plumber"), "B's new row has the title");
  eq(await b.locator("#list tbody tr").count(), rowsBefore + 1, "one more row on B");
  await marked(b);
  await shot(b, "b-added");

  // A ticks it done; B's row follows.
  await a.getByLabel("Done", { exact: true }).check();
  await a.getByRole("button", { name: "Save" }).click();
  await until(async () => (await rowB.locator("td:not(.pick)").first().getAttribute("title")) === "true", "B's row shows it done");
  await marked(b);
  await shot(b, "b-done");

  // B deletes it; it vanishes from A's list.
  await a.goto(list);
  await a.evaluate(() => ((globalThis as unknown as { __mark: number }).__mark = 1));
  await a.waitForFunction(() => document.querySelector("#nh-live") !== null);
  await b.goto(new URL(`/t/todos/r/${id}`, url).href);
  b.once("dialog", (d) => void d.accept());
  await b.getByRole("link", { name: "Delete" }).click();
  await a.locator(`#row-${id}`).waitFor({ state: "detached", timeout: 10000 });
  await marked(a);
  await shot(a, "a-deleted");
  await ctxA.close();
  await ctxB.close();
}

await runSuite("examples", () => tests, cleanup);
