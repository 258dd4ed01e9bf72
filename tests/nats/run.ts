// Scale-out on NATS with --write jetstream: a real nats-server with JetStream
// on loopback (built from the pinned Go module, scripts/ensure-nats-server.sh)
// and nakedhtmx nodes on different hosts, each with its own SQLite file.
// Writes on any node converge everywhere in stream order; racing edits get
// the same verdict on every node; a node killed and restarted catches up; a
// NATS outage refuses writes clearly and loses nothing; at the end every
// file holds the same rows and the same DSID.
//
//   node tests/nats/run.ts [--hosts go,wasm,deno,bun,node]
//
// One node per host (at least three: hosts repeat when fewer are named).

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Browser, Page } from "playwright-core";
import { launch, resultsDir } from "../browser/setup.ts";
import { check, eq, runSuite, Skip, type Test, until } from "../http/harness.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { type HostName, prepareHost, type Server, startServer } from "../http/hosts.ts";
import { openDB } from "../http/fixture.ts";
import { data, SSE } from "../http/sse.ts";
import { request } from "../http/client.ts";
import { Nats, Node } from "./cluster.ts";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "go,wasm,deno,bun,node" },
    "no-browser": { type: "boolean", default: false },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
  },
});
const hostNames = values.hosts.split(",") as HostName[];

const SCHEMA = `
CREATE TABLE todos (id INTEGER PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN NOT NULL DEFAULT 0);
CREATE TABLE tags (name TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
INSERT INTO todos VALUES (1, 'Seeded before the cluster', 0);
`;
const DUMP = [
  "SELECT * FROM todos ORDER BY id",
  "SELECT * FROM tags ORDER BY name",
  "SELECT * FROM sqlite_schema WHERE name = 'notes'",
];

const tmp = mkdtempSync(join(tmpdir(), "nakedhtmx-nats-"));
const nats = await Nats.create(join(tmp, "jetstream"));
// At least three nodes; with more hosts, one node per host.
const nodeHosts = hostNames.length >= 3 ? hostNames : [...hostNames, ...hostNames, ...hostNames].slice(0, 3);
const nodes = nodeHosts.map((host, i) => new Node(`n${i + 1}-${host}`, host, tmp, SCHEMA, nats));

const dump = (n: Node) => n.dump(DUMP);
const url = (n: Node) => n.url;
const api = (n: Node, method: string, path: string, body?: unknown) => n.api(method, path, body);
const start = (n: Node) => n.start();
const kill = (n: Node) => n.kill();
const startNats = () => nats.start();
const stopNats = () => nats.stop();
async function dsid(n: Node): Promise<string> {
  return (JSON.parse((await api(n, "GET", "/api/schema")).text) as { dsid: string }).dsid;
}
async function converged(what: string): Promise<void> {
  await until(() => new Set(nodes.map(dump)).size === 1, `${what}: every file holds the same rows`, 15000);
}

let browser: Browser | null = null;
const cleanup = async () => {
  await browser?.close().catch(() => {});
  for (const n of nodes) await kill(n).catch(() => {});
  await stopNats().catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
};
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    for (const n of nodes) n.server?.proc.kill("SIGKILL");
    nats.proc?.kill("SIGKILL");
    process.exit(130);
  });
}

const [a, b, c] = nodes as [Node, Node, Node];
const tests: Test[] = [
  {
    name: `a write on one node is applied on every node, and the writer reads its own write (${nodes.map((n) => n.host).join(", ")})`,
    fn: async () => {
      const events = await SSE.open(url(b), "/api/events");
      try {
        const res = await api(a, "POST", "/api/tables/todos/rows", { title: "Written on a" });
        eq(res.status, 201, `POST on ${a.name}: ${res.text}`);
        const body = JSON.parse(res.text) as { row: { id: number; title: string } };
        eq([body.row.id, body.row.title], [2, "Written on a"], "the answer has the row as applied");
        const e = await events.waitFor(0, (e) => e.event === "change", `${b.name}'s event stream announces it`);
        const d = data(e) as { table: string; op: string; pk: { id: number } };
        eq([d.table, d.op, d.pk.id], ["todos", "insert", 2], "change event on the other node");
        await converged("after one insert");
      } finally {
        events.close();
      }
    },
  },
  {
    name: "writes on every node, of every kind, converge; a bad write is refused before it travels",
    fn: async () => {
      eq((await api(b, "POST", "/api/tables/tags/rows", { name: "home", n: 1 })).status, 201, "insert on b");
      eq((await api(c, "PATCH", "/api/tables/todos/rows/2", { done: true })).status, 200, "update on c");
      eq((await api(a, "DELETE", "/api/tables/tags/rows/home")).status, 204, "delete on a");
      eq((await api(b, "POST", "/api/tables/todos/rows", { done: true })).status, 422, "a write without a title");
      await converged("after writes on every node");
      const rows = JSON.parse(dump(a)) as [Record<string, unknown>[], unknown[]];
      eq(rows[0].length, 2, "two todos");
      eq(rows[1].length, 0, "the tag was deleted");
    },
  },
  {
    name: "two edits based on the same version, on two nodes at once: one applies, the other is 409 everywhere",
    fn: async () => {
      const cur = JSON.parse((await api(a, "GET", "/api/tables/todos/rows/1")).text) as { version: string };
      const [r1, r2] = await Promise.all([
        api(a, "PATCH", "/api/tables/todos/rows/1", { title: "Edited on a", _version: cur.version }),
        api(b, "PATCH", "/api/tables/todos/rows/1", { title: "Edited on b", _version: cur.version }),
      ]);
      eq([r1.status, r2.status].sort(), [200, 409], `verdicts: ${r1.text} | ${r2.text}`);
      const winner = r1.status === 200 ? "Edited on a" : "Edited on b";
      await converged("after the race");
      check(dump(c).includes(winner), `the winning edit (${winner}) is on the third node`);
    },
  },
  {
    name: "a write a browser's copy made offline reaches the cluster: sent to one node it is applied on every node; sent again to another, it is made once",
    fn: async () => {
      const command = { id: "0f".repeat(16), dsid: await dsid(a), table: "todos", op: "insert", values: { title: "Made offline" } };
      const first = await api(a, "POST", "/api/replica/commands", command);
      eq(first.status, 200, `POST /api/replica/commands on ${a.name}: ${first.text}`);
      const r1 = JSON.parse(first.text) as { status: number; replayed?: boolean };
      eq([r1.status, r1.replayed ?? false], [201, false], `the write's result on ${a.name}: ${first.text}`);
      await converged("after the copy's write");
      const again = await api(b, "POST", "/api/replica/commands", command);
      const r2 = JSON.parse(again.text) as { status: number; replayed?: boolean };
      eq([again.status, r2.status, r2.replayed ?? false], [200, 201, true], `sent again to ${b.name}: ${again.text}`);
      await converged("after the copy's write was sent again");
      const rows = JSON.parse(dump(c)) as [{ title: string }[], unknown[]];
      eq(rows[0].filter((r) => r.title === "Made offline").length, 1, "the row is there once, on every node");
    },
  },
  {
    name: "a node killed (SIGKILL) and restarted catches up from its stored sequence",
    fn: async () => {
      await kill(c);
      for (let i = 0; i < 20; i++) {
        const res = await api(i % 2 ? a : b, "POST", "/api/tables/todos/rows", { title: `while c was down ${i}` });
        eq(res.status, 201, `write ${i}`);
      }
      await start(c);
      await converged("after the restart");
      check(dump(c).includes("while c was down 19"), "the last write made while it was down");
    },
  },
  {
    name: "a node whose file is restored from an older copy catches up from the file's own sequence",
    fn: async () => {
      await kill(c);
      const backup = join(tmp, "backup");
      mkdirSync(backup, { recursive: true });
      for (const ext of ["", "-wal", "-shm"]) {
        if (existsSync(c.file + ext)) copyFileSync(c.file + ext, join(backup, "c.db" + ext));
      }
      await start(c);
      for (let i = 0; i < 5; i++) {
        eq((await api(a, "POST", "/api/tables/todos/rows", { title: `after the backup ${i}` })).status, 201, `write ${i}`);
      }
      await converged("before the restore");
      await kill(c);
      for (const ext of ["", "-wal", "-shm"]) {
        rmSync(c.file + ext, { force: true });
        if (existsSync(join(backup, "c.db" + ext))) copyFileSync(join(backup, "c.db" + ext), c.file + ext);
      }
      check(!dump(c).includes("after the backup 4"), "the restored file is the older one");
      await start(c);
      await converged("after the restore");
      check(dump(c).includes("after the backup 4"), "the restored node re-applied what its file had missed");
    },
  },
  {
    name: "NATS stopped mid-load: writes are kept in each node's outbox and answered pending; nothing is lost",
    fn: async () => {
      const titles = () => new Set((JSON.parse(dump(c)) as [{ title: string }[]])[0].map((r) => r.title));
      const load = (async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 40; i++) {
          statuses.push((await api(a, "POST", "/api/tables/todos/rows", { title: `load ${i}` }).catch(() => null))?.status ?? 0);
        }
        return statuses;
      })();
      await stopNats();
      try {
        await sleep(300); // the nodes notice the lost connection
        const during = await api(b, "POST", "/api/tables/todos/rows", { title: "during the outage" });
        eq(during.status, 202, `a write during the outage is pending: ${during.text}`);
        check(/"status":"pending"/.test(during.text), "the answer says pending");
        // A node that holds pending writes and dies keeps them in its file.
        const onC = await api(c, "POST", "/api/tables/todos/rows", { title: "kept by c through a crash" });
        eq(onC.status, 202, "pending on c");
        await kill(c);
      } finally {
        await startNats();
      }
      await start(c);
      const statuses = await load;
      check(statuses.every((s) => s === 201 || s === 202), `every write was accepted: ${statuses}`);
      await converged("after the outage");
      const have = titles();
      for (const t of ["during the outage", "kept by c through a crash", ...statuses.map((_, i) => `load ${i}`)]) {
        check(have.has(t), `lost: ${t}`);
      }
    },
  },
  {
    name: "a migration through the log (the migrate subcommand) reaches every node and every screen, with one DSID",
    fn: async () => {
      const before = await dsid(a);
      const streams = await Promise.all(nodes.map((n) => SSE.open(url(n), "/api/events")));
      try {
        const file = join(tmp, "add-prio.sql");
        writeFileSync(file, "ALTER TABLE todos ADD COLUMN prio INTEGER NOT NULL DEFAULT 3;\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n");
        const last = nodes[nodes.length - 1]!;
        const r = await last.run(["migrate", "--nats", nats.url, "--node", "ops", file]);
        eq(r.code, 0, `migrate on ${last.host}: ${r.stderr}`);
        check(/migration [0-9a-f]+ published as stream sequence \d+/.test(r.stdout), `its line: ${r.stdout}`);
        for (const [i, s] of streams.entries()) {
          const e = await s.waitFor(0, (e) => e.event === "schema", `the schema event on ${nodes[i]!.name}`);
          const d = data(e) as { previous: string; changes: { kind: string; table: string; column?: string }[] };
          eq(d.previous, before, `${nodes[i]!.name}: previous DSID`);
          check(d.changes.some((c) => c.kind === "column-added" && c.column === "prio"), `${nodes[i]!.name}: prio added`);
          check(d.changes.some((c) => c.kind === "table-added" && c.table === "notes"), `${nodes[i]!.name}: notes added`);
        }
        const after = await Promise.all(nodes.map(dsid));
        eq(new Set(after).size, 1, `one DSID after the migration: ${after.join(", ")}`);
        check(after[0] !== before, "the DSID moved");
        // The schema registry: both versions in the KV bucket, the stream names the new one.
        const reg = await until(async () => {
          const r = await nats.registry();
          return r.current === after[0] && r.entries.has(before) && r.entries.has(after[0]!) ? r : null;
        }, "the registry holds both versions and the stream names the new one", 15000);
        const entry = reg!.entries.get(after[0]!)!;
        eq(entry.commands.dsid, after[0], "the registry entry describes its own DSID");
        check(JSON.stringify(entry.commands).includes("nakedhtmx.cmd.notes.insert"), "with the new table's commands");
        // A write against the new schema, on another node, travels like any other.
        eq((await api(b, "POST", "/api/tables/notes/rows", { body: "after the migration" })).status, 201, "insert into notes");
        await converged("after the migration");
        // A migration that fails fails on every node alike, and changes nothing.
        const bad = join(tmp, "bad.sql");
        writeFileSync(bad, "ALTER TABLE todos ADD COLUMN half TEXT; ALTER TABLE nope ADD COLUMN x TEXT;");
        eq((await a.run(["migrate", "--nats", nats.url, bad])).code, 0, `migrate on ${a.host}`);
        eq((await api(c, "POST", "/api/tables/notes/rows", { body: "after the bad one" })).status, 201, "a write after it");
        await converged("after the failed migration");
        const still = await Promise.all(nodes.map(dsid));
        eq(still, after, "no DSID moved for the failed migration");
      } finally {
        for (const s of streams) s.close();
      }
    },
  },
  {
    name: "schema edits from the app travel the log: every node plans and runs them at the same place, a table rebuild too",
    fn: async () => {
      const before = await dsid(a);
      const r = await api(b, "POST", "/api/structure", { op: "addColumn", table: "notes", def: { name: "tag", type: "TEXT", default: "x" } });
      // Answered once this node applied it, or 202 while it has not.
      check(r.status === 200 || r.status === 202, `the edit, sent as a command: ${r.status} ${r.text}`);
      await until(async () => {
        const all = await Promise.all(nodes.map(dsid));
        return new Set(all).size === 1 && all[0] !== before;
      }, "every node on the edited schema", 15000);
      for (const n of nodes) {
        const s = JSON.parse((await api(n, "GET", "/api/schema/notes")).text) as { properties: Record<string, unknown> };
        check("tag" in s.properties, `${n.name}: the added column`);
      }
      // A change SQLite makes by rebuilding the table: every node rebuilds its
      // own, at the same place in the stream, and keeps every row.
      const rowsBefore = (JSON.parse((await api(a, "GET", "/api/tables/notes/rows")).text) as { rows: unknown[] }).rows.length;
      const dsidBefore = await dsid(a);
      const rb = await api(b, "POST", "/api/structure", { op: "alterColumn", table: "notes", column: "body", def: { name: "body", type: "TEXT", notNull: true, default: "" } });
      check(rb.status === 200 || rb.status === 202, `a rebuild in the scale-out mode: ${rb.status} ${rb.text}`);
      await until(async () => {
        const all = await Promise.all(nodes.map(dsid));
        return new Set(all).size === 1 && all[0] !== dsidBefore;
      }, "every node on the rebuilt table", 15000);
      for (const n of nodes) {
        const rows = (JSON.parse((await api(n, "GET", "/api/tables/notes/rows")).text) as { rows: unknown[] }).rows.length;
        eq(rows, rowsBefore, `${n.name}: the rows after the rebuild`);
        const s = JSON.parse((await api(n, "GET", "/api/schema/notes")).text) as { required?: string[]; properties: Record<string, { type: unknown }> };
        eq(s.properties.body.type, "string", `${n.name}: body NOT NULL now`);
      }
      await converged("after the schema edits");
    },
  },
  {
    name: "a batch and an import travel as one command each: every node applies all of it or none",
    fn: async () => {
      const b1 = await api(b, "POST", "/api/batch", { operations: [
        { op: "create", table: "notes", values: { body: "batch one" } },
        { op: "create", table: "notes", values: { body: "batch two" } },
      ] });
      check(b1.status === 200 || b1.status === 202, `the batch: ${b1.status} ${b1.text}`);
      const csv = await request(url(c), "POST", "/api/tables/notes/rows", {
        headers: { "content-type": "text/csv", accept: "application/json" },
        body: "body\nimported one\nimported two\nimported three\n",
      });
      check(csv.status === 201 || csv.status === 202, `the import: ${csv.status} ${csv.text}`);
      if (csv.status === 201) eq((JSON.parse(csv.text) as { inserted: number }).inserted, 3, "rows imported");
      await until(async () => {
        for (const n of nodes) {
          const rows = (JSON.parse((await api(n, "GET", "/api/tables/notes/rows?limit=1000")).text) as { rows: { body: string }[] }).rows;
          const bodies = new Set(rows.map((r) => r.body));
          if (!["batch one", "batch two", "imported one", "imported three"].every((x) => bodies.has(x))) return false;
        }
        return true;
      }, "the batch and the import on every node", 15000);
      await converged("after the batch and the import");
    },
  },
  {
    name: "config lives in the cluster's KV bucket: a change applies live on every node; a bad one is refused",
    fn: async () => {
      const label = async (n: Node) => (await request(url(n), "GET", "/t/todos", { headers: { accept: "text/html" } })).text;
      await nats.putConfig(JSON.stringify({ tables: { todos: { label: "Cluster todos" } } }));
      for (const n of nodes) await until(async () => (await label(n)).includes("Cluster todos"), `${n.name} shows the new label`);
      await nats.putConfig(JSON.stringify({ tables: 5 }));
      await sleep(1000);
      for (const n of nodes) check((await label(n)).includes("Cluster todos"), `${n.name} kept the previous config`);
      await nats.putConfig(null);
      for (const n of nodes) {
        await until(async () => !(await label(n)).includes("Cluster todos"), `${n.name} is back to the defaults`);
      }
    },
  },
  {
    name: "screens on three nodes (Chromium): a write on one appears on the others; a migration adds the field to open forms, typed values kept",
    fn: async () => {
      if (values["no-browser"]) throw new Skip("--no-browser");
      const screens = nodes.filter((n) => ["deno", "bun", "node"].includes(n.host)).slice(0, 3);
      const shown = screens.length >= 3 ? screens : nodes.slice(0, 3);
      browser = await launch(values.chromium, false);
      const pages: { n: Node; list: Page; form: Page }[] = [];
      for (const n of shown) {
        const ctx = await browser.newContext({ viewport: { width: 900, height: 620 } });
        const list = await ctx.newPage();
        const form = await ctx.newPage();
        await list.goto(new URL("/t/todos", url(n)).href);
        await form.goto(new URL("/t/todos/new", url(n)).href);
        for (const p of [list, form]) {
          await p.waitForFunction(() => document.querySelector("#nh-live") !== null);
          await p.evaluate(() => ((globalThis as unknown as { __mark: number }).__mark = 1));
        }
        await form.locator('#record [name="title"]').fill(`typed on ${n.host}`);
        pages.push({ n, list, form });
      }
      const notReloaded = async (p: Page, what: string) =>
        eq(await p.evaluate(() => (globalThis as unknown as { __mark?: number }).__mark), 1, `${what} was not reloaded`);
      // A write on the first node shows on every list.
      const res = await api(shown[0]!, "POST", "/api/tables/todos/rows", { title: "Seen on every screen" });
      eq(res.status, 201, "POST");
      const id = (JSON.parse(res.text) as { pk: { id: number } }).pk.id;
      for (const { n, list } of pages) {
        await list.locator(`#row-${id}`).waitFor({ timeout: 10000 });
        await notReloaded(list, `${n.name}'s list`);
      }
      // A migration through the log: every open form gains the field and keeps what was typed.
      const file = join(tmp, "add-due.sql");
      writeFileSync(file, "ALTER TABLE todos ADD COLUMN due DATE;\n");
      eq((await shown[1]!.run(["migrate", "--nats", nats.url, file])).code, 0, "migrate");
      for (const { n, form, list } of pages) {
        await form.locator('#record [name="due"]').waitFor({ timeout: 15000 });
        eq(await form.locator('#record [name="title"]').inputValue(), `typed on ${n.host}`, `${n.name}: the typed title`);
        await notReloaded(form, `${n.name}'s form`);
        await form.screenshot({ path: join(resultsDir(), `nats-${n.host}-form.png`) });
        await list.screenshot({ path: join(resultsDir(), `nats-${n.host}-list.png`) });
      }
      await converged("after the screens' migration");
      // A form posted while NATS is down: the page says pending, follows its
      // command, and says applied once the cluster is back.
      const { n, form } = pages[0]!;
      await form.goto(new URL("/t/todos/new", url(n)).href);
      await form.locator('#record [name="title"]').fill("posted during an outage");
      await stopNats();
      try {
        await sleep(300);
        await form.getByRole("button", { name: "Create" }).click();
        await form.locator("#command").getByText("on its way").waitFor({ timeout: 10000 });
        await form.screenshot({ path: join(resultsDir(), `nats-${n.host}-pending.png`) });
      } finally {
        await startNats();
      }
      await form.locator("#command").getByText("was applied").waitFor({ timeout: 20000 });
      await form.screenshot({ path: join(resultsDir(), `nats-${n.host}-applied.png`) });
      await converged("after the pending form");
    },
  },
  {
    name: "--write direct with --nats: nodes sharing one store publish their events and follow each other's",
    fn: async () => {
      const shared = join(tmp, "shared.db");
      const db = openDB(shared);
      db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
      db.close();
      const events = await nats.listen("nakedhtmx.events.>");
      const direct: Server[] = [];
      try {
        for (const [i, host] of [nodes[0]!.host, nodes[nodes.length - 1]!.host].entries()) {
          direct.push(await startServer(prepareHost(host, tmp), [
            "--db", shared, "--port", "0", "--nats", nats.url, "--write", "direct", "--node", `shared-${i}`,
          ], 60000));
        }
        // Each node writes once; the other's stream shows it, and its event is on the node's subject.
        for (const [i, writer] of direct.entries()) {
          const other = direct[1 - i]!;
          const stream = await SSE.open(other.url, "/api/events");
          const res = await request(writer.url, "POST", "/api/tables/notes/rows", {
            headers: { "content-type": "application/json", accept: "application/json" },
            body: JSON.stringify({ body: `written directly on shared-${i}` }),
          });
          eq(res.status, 201, `a direct write on shared-${i}: ${res.text}`);
          await stream.waitFor(0, (e) => e.event === "change", `shared-${1 - i}'s stream shows it`);
          stream.close();
          const published = await until(
            () => events.got.find((m) => m.subject === `nakedhtmx.events.shared-${i}.notes`),
            `shared-${i}'s event on nakedhtmx.events.shared-${i}.notes`,
          );
          const ev = JSON.parse(published!.data) as { node: string; event: string; data: { table: string; op: string } };
          eq([ev.node, ev.event, ev.data.table, ev.data.op], [`shared-${i}`, "change", "notes", "insert"], "the event");
        }
      } finally {
        for (const s of direct) await s.stop("SIGKILL");
        await events.stop();
      }
    },
  },
  {
    name: "every file holds the same rows and every node the same DSID",
    fn: async () => {
      await converged("at the end");
      const ids = await Promise.all(nodes.map(dsid));
      eq(new Set(ids).size, 1, `DSIDs ${ids.join(", ")}`);
    },
  },
];

await runSuite("nats", async () => {
  await startNats();
  for (const n of nodes) await start(n);
  console.log(`nats: nats-server on ${nats.url}; nodes ${nodes.map((n) => `${n.name} ${n.server!.url}`).join(", ")}`);
  return tests;
}, cleanup, () => {
  for (const n of nodes) if (n.server) console.log(`${n.name} stderr:\n${n.server.stderr().slice(-1500)}`);
});
