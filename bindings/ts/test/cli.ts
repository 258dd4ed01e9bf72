// The CLI as users run it, as a subprocess: the URL line, a GET, exit codes
// for bad flags and databases, the loopback rule, signals, `schema`.
//
//   node bindings/ts/test/cli.ts            the CLI of the runtime running this file
//   node bindings/ts/test/cli.ts --all      deno, bun and node
//   node bindings/ts/test/cli.ts --host bun one of them
//
// Needs a build (`make build`): Node and Bun run dist/ through npm/bin/nakedhtmx.js.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { check, eq, run, runtimeName, test } from "./harness.ts";
import { openDatabaseForRuntime } from "./runtime.ts";

type Host = "deno" | "bun" | "node";
const repo = fileURLToPath(new URL("../../../", import.meta.url));
const argv = process.argv.slice(2);
const hostFlag = argv.indexOf("--host");
const targets: Host[] = argv.includes("--all")
  ? ["deno", "bun", "node"]
  : hostFlag >= 0
  ? (argv[hostFlag + 1]!.split(",") as Host[])
  : [runtimeName];

const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-cli-"));
const openDatabase = await openDatabaseForRuntime();

function command(host: Host): { cmd: string; args: string[] } {
  // The runtime running this file is process.execPath; the others come from PATH.
  const bin = host === runtimeName ? process.execPath : host;
  switch (host) {
    case "deno":
      return { cmd: bin, args: ["run", "-A", join(repo, "deno/serve.ts")] };
    case "bun":
    case "node":
      return { cmd: bin, args: [join(repo, "npm/bin/nakedhtmx.js")] };
  }
}

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
  started: number;
}

function start(host: Host, args: string[], cwd = tmp): Run {
  const { cmd, args: pre } = command(host);
  const child = spawn(cmd, [...pre, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  const r: Run = { child, stdout: "", stderr: "", exited: Promise.resolve(null), started: performance.now() };
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (r.stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (r.stderr += d));
  r.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return r;
}

async function finish(host: Host, args: string[], ms = 20000): Promise<Run & { code: number | null }> {
  const r = start(host, args);
  const t = setTimeout(() => r.child.kill("SIGKILL"), ms);
  const code = await r.exited;
  clearTimeout(t);
  await new Promise((res) => setTimeout(res, 20)); // let the pipes drain
  return { ...r, code };
}

/** Waits for the URL line; returns the URL and how long the process took to print it. */
async function waitURL(r: Run, ms = 20000): Promise<{ url: string; coldMs: number }> {
  const deadline = performance.now() + ms;
  for (;;) {
    const m = /http:\/\/[^\s]+\//.exec(r.stdout);
    if (m) return { url: m[0], coldMs: performance.now() - r.started };
    if (r.child.exitCode !== null) {
      throw new Error(`exited ${r.child.exitCode} before the URL line; stderr: ${r.stderr}`);
    }
    if (performance.now() > deadline) {
      throw new Error(`no URL line after ${ms} ms; stdout: ${r.stdout} stderr: ${r.stderr}`);
    }
    await new Promise((res) => setTimeout(res, 10));
  }
}

async function stop(r: Run, signal: NodeJS.Signals): Promise<number | null> {
  // process.kill, not child.kill: Deno's node:child_process reports a child it
  // signalled itself as killed by that signal, whatever the child's exit code.
  process.kill(r.child.pid!, signal);
  const t = setTimeout(() => r.child.kill("SIGKILL"), 10000);
  const code = await r.exited;
  clearTimeout(t);
  return code;
}

function oneLine(s: string, what: string): void {
  const lines = s.split("\n").filter((l) => l !== "");
  check(lines.length === 1, `${what}: want one line on stderr, got ${JSON.stringify(s)}`);
}

function makeDB(path: string): void {
  const db = openDatabase(path);
  const r = db.run({
    sql:
      "CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL); CREATE TABLE \"a b/c\" (x TEXT); INSERT INTO tasks (title) VALUES ('one');",
    params: [],
    script: true,
  });
  db.close();
  if ("error" in r) throw new Error(r.error);
}

const cold: Record<string, number[]> = {};

for (const host of targets) {
  let n = 0;
  const dbPath = () => join(tmp, `${host}-${n++}.db`);

  test(`${host}: serves on --port 0, prints one URL line, answers, exits 0 on SIGTERM`, async () => {
    const db = dbPath();
    makeDB(db);
    const r = start(host, ["--db", db, "--port", "0"]);
    const { url, coldMs } = await waitURL(r);
    (cold[host] ??= []).push(coldMs);
    check(/^http:\/\/127\.0\.0\.1:\d+\/$/.test(url) && !url.endsWith(":0/"), `real port in ${url}`);
    const page = await fetch(url);
    eq(page.status, 200, "GET /");
    check((page.headers.get("content-type") ?? "").startsWith("text/html"), "HTML");
    await page.text();
    const api = await fetch(url + "api/tables/tasks/rows", { headers: { accept: "application/json" } });
    eq(api.status, 200, "GET rows");
    const body = (await api.json()) as { rows?: { title: string }[] };
    if (body.rows) eq(body.rows.map((x) => x.title), ["one"], "rows");
    const code = await stop(r, "SIGTERM");
    eq(code, 0, "exit code after SIGTERM");
    eq(r.stdout.split("\n").filter((l) => l).length, 1, "stdout lines");
  });

  test(`${host}: SIGINT also exits 0; a missing database file is created`, async () => {
    const db = join(tmp, `${host}-new`, "fresh.db");
    mkdirSync(join(tmp, `${host}-new`), { recursive: true });
    const r = start(host, ["--db", db, "--port", "0"]);
    const { coldMs } = await waitURL(r);
    (cold[host] ??= []).push(coldMs);
    check(existsSync(db), "database created");
    eq(await stop(r, "SIGINT"), 0, "exit code after SIGINT");
  });

  test(`${host}: bad flags and values exit 2 with one line and write nothing`, async () => {
    const db = join(tmp, `${host}-never.db`);
    for (
      const args of [
        ["--bogus"],
        ["--port", "abc"],
        ["--port", "70000"],
        ["--port"],
        ["--write", "sideways"],
        ["--write", "jetstream"],
        ["--nats", "nats://127.0.0.1:4222"],
        ["stray"],
        ["--config", join(tmp, "no-such.json")],
      ]
    ) {
      const r = await finish(host, ["--db", db, ...args]);
      eq(r.code, 2, `exit code for ${args.join(" ")}`);
      oneLine(r.stderr, args.join(" "));
      eq(r.stdout, "", `stdout for ${args.join(" ")}`);
      check(!existsSync(db), `no database written for ${args.join(" ")}`);
    }
  });

  test(`${host}: a non-loopback --host needs --auth-token or --insecure`, async () => {
    const db = dbPath();
    const r = await finish(host, ["--db", db, "--host", "0.0.0.0", "--port", "0"]);
    eq(r.code, 2, "exit code");
    oneLine(r.stderr, "refusal");
    check(!existsSync(db), "no database written");
    const ok = start(host, ["--db", db, "--host", "0.0.0.0", "--port", "0", "--auth-token", "s3cret-token-of-20ch"]);
    const { url } = await waitURL(ok);
    const port = /:(\d+)\/$/.exec(url)![1];
    const local = `http://127.0.0.1:${port}/api/schema`;
    eq(await fetch(local).then(async (x) => (await x.text(), x.status)), 401, "no token");
    eq(
      await fetch(local, { headers: { authorization: "Bearer s3cret-token-of-20ch" } }).then(async (
        x,
      ) => (await x.text(), x.status)),
      200,
      "token",
    );
    eq(await stop(ok, "SIGTERM"), 0, "exit");
  });

  test(`${host}: an unreadable database exits 2 with one line and is left alone`, async () => {
    const dir = join(tmp, `${host}-dir.db`);
    mkdirSync(dir);
    const r = await finish(host, ["--db", dir, "--port", "0"]);
    eq(r.code, 2, "directory: exit code");
    oneLine(r.stderr, "directory");
    const garbage = join(tmp, `${host}-garbage.db`);
    const text = "not a database at all, only words, ".repeat(40);
    writeFileSync(garbage, text);
    const g = await finish(host, ["--db", garbage, "--port", "0"]);
    eq(g.code, 2, "garbage: exit code");
    oneLine(g.stderr, "garbage");
    check(g.stderr.includes(garbage), "names the file");
    eq(readFileSync(garbage, "utf8"), text, "garbage unchanged");
    check(!existsSync(garbage + "-wal"), "no WAL file");
  });

  test(`${host}: a taken port exits 1 without touching the database`, async () => {
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, "127.0.0.1", res));
    const port = (blocker.address() as { port: number }).port;
    try {
      const db = dbPath();
      const r = await finish(host, ["--db", db, "--port", String(port)]);
      eq(r.code, 1, "exit code");
      oneLine(r.stderr, "taken port");
      check(!existsSync(db), "no database written");
    } finally {
      await new Promise((res) => blocker.close(res));
    }
  });

  test(`${host}: --help prints the flags and exits 0`, async () => {
    const r = await finish(host, ["--help"]);
    eq(r.code, 0, "exit code");
    for (
      const f of [
        "--db",
        "--port",
        "--host",
        "--auth-token",
        "--config",
        "--nats",
        "--node",
        "--write",
        "--insecure",
        "schema",
      ]
    ) {
      check(r.stdout.includes(f), `help mentions ${f}`);
    }
  });

  test(`${host}: schema --db --out writes TABLE.schema.json and TABLE.ui.json`, async () => {
    const db = dbPath();
    makeDB(db);
    const out = join(tmp, `${host}-schema`);
    const r = await finish(host, ["schema", "--db", db, "--out", out]);
    eq(r.code, 0, `exit code (stderr: ${r.stderr})`);
    const files = readdirSync(out).sort();
    eq(files, ["a%20b%2Fc.schema.json", "a%20b%2Fc.ui.json", "tasks.schema.json", "tasks.ui.json"], "files");
    const schema = JSON.parse(readFileSync(join(out, "tasks.schema.json"), "utf8")) as {
      title?: string;
      "x-dsid"?: string;
    };
    eq(schema.title, "tasks", "schema title");
    check(typeof schema["x-dsid"] === "string", "x-dsid");
    const ui = JSON.parse(readFileSync(join(out, "tasks.ui.json"), "utf8")) as { type?: string };
    eq(ui.type, "VerticalLayout", "UI schema");
    const missing = await finish(host, ["schema", "--db", join(tmp, "none.db"), "--out", out]);
    eq(missing.code, 2, "missing database");
    const noOut = await finish(host, ["schema", "--db", db]);
    eq(noOut.code, 2, "missing --out");
  });
}

const code = await run("cli", () => {
  for (const [host, ms] of Object.entries(cold)) {
    console.log(`  cold start ${host}: ${ms.map((x) => Math.round(x)).join(", ")} ms (process start to URL line)`);
  }
});
rmSync(tmp, { recursive: true, force: true });
process.exit(code);
