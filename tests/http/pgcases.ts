// Postgres's own faults, on every host, each on a database of its own in the
// suite's cluster (pg.ts): simultaneous edits of one row, writers while
// another session changes the schema, the server going away and coming back
// under a running host, and a statement past the time limit.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Answer, request } from "./client.ts";
import { identitiesAfterLoad } from "./fixture.ts";
import { check, clip, eq, type Test } from "./harness.ts";
import { type HostCommand, runToExit, type Server, startServer } from "./hosts.ts";
import { type Cluster, pgExec, pgQuery } from "./pg.ts";
import { data, SSE } from "./sse.ts";
import { schemaEditWalk } from "./structure.ts";
import { blobJSON, fileColumnsWalk, migration } from "./cases.ts";
import { PEOPLE_CONFIG, peopleSchema, peopleWalk } from "./people.ts";
import { simultaneousEdits, writersWhileSchemaChanges, type WRow } from "./faults.ts";

const json = { "content-type": "application/json", accept: "application/json" };
const html = { accept: "text/html" };

export function postgresTests(hc: HostCommand, tmp: string, cluster: Cluster, running: Set<Server>): Test[] {
  const T: Test[] = [];
  const test = (name: string, fn: () => Promise<void>) => T.push({ name: `postgres: ${name}`, fn });
  let n = 0;

  /** A server of its own on a fresh database made from schema. */
  async function serve(schema: string, config?: unknown, extra: string[] = []): Promise<{ server: Server; db: string }> {
    const db = cluster.createDatabase();
    pgExec(db, schema + identitiesAfterLoad());
    const args = ["--db", db, "--port", "0", "--host", "127.0.0.1", ...extra];
    if (config !== undefined) {
      const file = join(tmp, `pg-config-${n++}.json`);
      writeFileSync(file, JSON.stringify(config));
      args.push("--config", file);
    }
    const server = await startServer(hc, args);
    running.add(server);
    return { server, db };
  }
  async function stop(server: Server): Promise<void> {
    running.delete(server);
    await server.stop("SIGKILL");
  }
  const api = (s: Server, method: string, path: string, body?: unknown): Promise<Answer> =>
    request(s.url, method, path, { headers: json, body: body === undefined ? undefined : JSON.stringify(body) });

  test("schema edits: a table made, columns added, renamed and retyped, an index; rows, triggers and foreign keys kept; the loss asked for", async () => {
    const { server, db } = await serve("SELECT 1;");
    try {
      await schemaEditWalk(server.url, { query: (sql) => pgQuery(db, sql), exec: (sql) => pgExec(db, sql), pg: true });
    } finally {
      await stop(server);
    }
  });

  test("a query saved through the API lands in the config file and serves at once", async () => {
    const { server } = await serve("CREATE TABLE sales (id integer PRIMARY KEY, region text, amount numeric); INSERT INTO sales VALUES (1, 'north', 5), (2, 'south', 7), (3, 'north', 1);", { title: "PG" });
    try {
      const file = join(tmp, `pg-config-${n - 1}.json`);
      const put = await api(server, "PUT", "/api/queries/by-region", { sql: "SELECT region, count(*) AS n FROM sales GROUP BY region ORDER BY region" });
      eq(put.status, 201, `the save: ${clip(put.text)}`);
      const saved = JSON.parse(readFileSync(file, "utf8")) as { title: string; queries: Record<string, { sql: string }> };
      check(saved.title === "PG" && saved.queries["by-region"]?.sql.startsWith("SELECT region"), `the config file: ${clip(JSON.stringify(saved))}`);
      const run = await api(server, "GET", "/api/queries/by-region");
      eq(run.status, 200, `the saved query: ${clip(run.text)}`);
      eq(JSON.stringify((JSON.parse(run.text) as { rows: unknown }).rows), `[["north",2],["south",1]]`, "its rows");
      const page = await request(server.url, "GET", "/q/by-region", { headers: html });
      eq(page.status, 200, "its page");
      check(page.text.includes("Delete this query"), "its page offers no delete");
    } finally {
      await stop(server);
    }
  });

  test("people: users added with the CLI while serving, sign-in, row rules on lists, reads, writes, facets, CSV, history and 1,000 event streams, a rule broken by an outside ALTER", async () => {
    const { server, db } = await serve(peopleSchema(true), PEOPLE_CONFIG);
    try {
      await peopleWalk(hc, server.url, db, {
        query: (sql, ...params) => pgQuery(db, sql, ...params),
        exec: (sql) => pgExec(db, sql),
        users: `"_nakedhtmx"."_nakedhtmx_users"`,
        sessions: `"_nakedhtmx"."_nakedhtmx_sessions"`,
        changes: `"_nakedhtmx"."_nakedhtmx_changes"`,
      });
    } finally {
      await stop(server);
    }
  });

  test("bytea: downloaded with a sniffed type, uploaded from a form byte for byte", async () => {
    const { server, db } = await serve("CREATE TABLE pics (id integer PRIMARY KEY, img bytea); INSERT INTO pics VALUES (1, '\\x89504e470d0a1a0a00ff');");
    try {
      const png = await request(server.url, "GET", "/api/tables/pics/rows/1/img");
      eq(png.status, 200, "the bytes");
      eq(png.headers["content-type"], "image/png", "a PNG's type");
      eq(png.body.toString("hex"), "89504e470d0a1a0a00ff", "the bytes as stored");
      await blobJSON(server.url, () => String(pgQuery(db, "SELECT upper(encode(img, 'hex')) AS h FROM pics WHERE id = 1")[0].h), "89504E470D0A1A0A00FF");
      const dsid = (await request(server.url, "GET", "/api/schema")).text.match(/"dsid":"([^"]+)"/)?.[1] ?? "";
      const B = "----nhPgBlob";
      const bytes = Buffer.from([0, 255, 13, 10, 0x80]);
      const body = Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="_dsid"\r\n\r\n${dsid}\r\n--${B}\r\nContent-Disposition: form-data; name="img"; filename="x.bin"\r\n\r\n`), bytes, Buffer.from(`\r\n--${B}--\r\n`)]);
      const up = await request(server.url, "POST", "/t/pics/r/1", { headers: { "content-type": `multipart/form-data; boundary=${B}`, accept: "text/html", origin: server.url.origin }, body });
      check(up.status < 400, `an upload: ${up.status} ${clip(up.text)}`);
      eq(String(pgQuery(db, "SELECT encode(img, 'hex') AS h FROM pics WHERE id = 1")[0].h), bytes.toString("hex"), "the uploaded bytes");
    } finally {
      await stop(server);
    }
  });

  test("file columns: bytes kept in files.dir, the row holds a key; without files.dir the server refuses to start", async () => {
    const dir = join(tmp, "pg-files");
    const docs = "CREATE TABLE docs (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, title text NOT NULL, doc text);";
    const { server, db } = await serve(docs, { files: { dir }, tables: { docs: { columns: { doc: { file: true } } } } });
    try {
      await fileColumnsWalk(server.url, dir, () => pgQuery(db, "SELECT doc FROM docs WHERE doc IS NOT NULL ORDER BY doc").map((r) => String(r.doc)));
    } finally {
      await stop(server);
    }
    const noDir = join(tmp, `pg-config-${n++}.json`);
    writeFileSync(noDir, JSON.stringify({ tables: { docs: { columns: { doc: { file: true } } } } }));
    const other = cluster.createDatabase();
    pgExec(other, docs);
    const r = await runToExit(hc, ["--db", other, "--port", "0", "--config", noDir]);
    check(r.code !== 0 && r.stderr.includes("files.dir"), `without files.dir: exit ${r.code}, ${clip(r.stderr)}`);
  });

  test("30 simultaneous edits of one row with the same version: exactly one applied, the rest 409", async () => {
    const { server, db } = await serve("CREATE TABLE race (id integer PRIMARY KEY, v text); INSERT INTO race VALUES (1, 'start');");
    try {
      await simultaneousEdits(server, () => pgQuery(db, "SELECT v FROM race WHERE id = 1")[0].v);
    } finally {
      await stop(server);
    }
  });

  test("writers while another session changes the schema: every write applied to the right column or refused, none half-applied", async () => {
    const { server, db } = await serve("CREATE TABLE w (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, a text NOT NULL UNIQUE, b text);");
    try {
      await writersWhileSchemaChanges(server, [
        `ALTER TABLE w ADD COLUMN c text`,
        `ALTER TABLE w RENAME COLUMN b TO b2`,
        `ALTER TABLE w DROP COLUMN c`,
        `ALTER TABLE w ALTER COLUMN b2 TYPE varchar(40)`,
        `BEGIN; ALTER TABLE w ADD COLUMN d integer NOT NULL DEFAULT 0; ALTER TABLE w RENAME COLUMN b2 TO b; COMMIT;`,
      ], (sql) => pgExec(db, sql), () => pgQuery(db, "SELECT id, a, b FROM w") as unknown as WRow[]);
    } finally {
      await stop(server);
    }
  });

  test("Postgres goes away under the server: answers 503 meanwhile, then serves again, and open streams carry on", async () => {
    const { server, db } = await serve("CREATE TABLE notes (id integer PRIMARY KEY, title text NOT NULL); INSERT INTO notes VALUES (1, 'before');");
    const stream = await SSE.open(server.url, "/api/events?table=notes");
    try {
      check(stream.status === 200, `GET /api/events: ${stream.status}`);
      status200(await request(server.url, "GET", "/t/notes", { headers: html }), "a page before");
      cluster.down();
      let upAgain = false;
      try {
        for (const [method, path, body] of [["GET", "/t/notes", undefined], ["GET", "/api/tables/notes/rows", undefined],
          ["POST", "/api/tables/notes/rows", { id: 2, title: "while down" }]] as const) {
          const t0 = Date.now();
          const a = await request(server.url, method, path, {
            headers: path.startsWith("/t/") ? html : json,
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          eq(a.status, 503, `${method} ${path} while Postgres is down: ${clip(a.text)}`);
          check(/unavailable|connect|database/i.test(a.text), `${method} ${path}: the 503 says the database cannot be reached: ${clip(a.text)}`);
          check(Date.now() - t0 < 20_000, `${method} ${path}: answered, not hung`);
        }
        status200(await request(server.url, "GET", "/assets/htmx.min.js"), "static files while Postgres is down");
        cluster.up();
        upAgain = true;
      } finally {
        if (!upAgain) cluster.up();
      }
      // The first request after may find its connection cut; within a few
      // seconds every one is answered again.
      const deadline = Date.now() + 15_000;
      let last: Answer | null = null;
      while (Date.now() < deadline) {
        last = await request(server.url, "GET", "/api/tables/notes/rows", { headers: json });
        if (last.status === 200) break;
        await sleep(200);
      }
      check(last !== null && last.status === 200, `reads after Postgres is back: ${last?.status} ${clip(last?.text)}`);
      const made = await api(server, "POST", "/api/tables/notes/rows", { id: 3, title: "after" });
      eq(made.status, 201, `a write after Postgres is back: ${clip(made.text)}`);
      pgExec(db, "INSERT INTO notes VALUES (4, 'from psql')");
      for (const id of [3, 4]) {
        const e = await stream.waitFor(0, (e) => e.event === "change" && data(e).pk?.id === id, `the change event of row ${id} on the stream opened before`, 15_000);
        eq(data(e).op, "insert", `row ${id}'s event`);
      }
      eq(pgQuery(db, "SELECT count(*) AS n FROM notes WHERE id = 2")[0].n, 0, "the write refused while down wrote nothing");
    } finally {
      stream.close();
      await stop(server);
    }
  });

  test("migrations: an ordinary one runs and every screen follows it; what reaches outside, runs code or touches nakedhtmx's own schema is refused; a failing or endless one leaves nothing", async () => {
    const token = "a-postgres-migration-token-32chr";
    const { server, db } = await serve(
      `CREATE TABLE artist (id integer PRIMARY KEY, name text NOT NULL);
       CREATE TABLE secrets (id integer PRIMARY KEY, code text);
       INSERT INTO artist VALUES (1, 'AC/DC');`,
      { limits: { statementMs: 1500 }, tables: { secrets: { hidden: true } } },
      ["--auth-token", token],
    );
    const migrate = (sql: string) => migration(server, token, sql);
    const auth = { authorization: `Bearer ${token}` };
    const dsid = async () => (JSON.parse((await request(server.url, "GET", "/api/schema", { headers: { ...json, ...auth } })).text) as { dsid: string }).dsid;
    const objects = () => pgQuery(db, "SELECT count(*)::int AS n FROM pg_class WHERE relname IN ('leak', 'leak2', 'leak3', 't2', 'forever')")[0]!.n;
    const stream = await SSE.open(server.url, "/api/events", auth);
    try {
      const before = await dsid();
      for (
        const sql of [
          `COPY artist TO '/tmp/nh-leak.csv'`,
          `COPY artist FROM PROGRAM 'id'`,
          `CREATE TABLE leak AS SELECT pg_read_file('/etc/passwd') AS f`,
          `DO $$ BEGIN PERFORM 1; END $$`,
          `SET ROLE postgres`,
          `CREATE TABLE leak2 AS SELECT * FROM "_nakedhtmx"."_nakedhtmx_changes"`,
          `DROP SCHEMA "_nakedhtmx" CASCADE`,
          `CREATE VIEW leak3 AS SELECT * FROM secrets`,
          `ALTER SYSTEM SET fsync = off`,
          `COMMIT`,
        ]
      ) {
        const a = await migrate(sql);
        eq(a.status, 403, `migration ${sql}: ${clip(a.text)}`);
      }
      eq(objects(), 0, "what refused migrations left");
      eq(await dsid(), before, "the DSID after refused migrations");
      const mark = stream.events.length;
      const ok = await migrate("ALTER TABLE artist ADD COLUMN country text; CREATE INDEX artist_country ON artist (country)");
      eq(ok.status, 200, `an ordinary migration: ${clip(ok.text)}`);
      await stream.waitFor(mark, (e) => e.event === "schema", "the schema event of the migration, on a stream opened before it", 15_000);
      const after = await dsid();
      check(after !== before, `the DSID moved with the migration: ${before} -> ${after}`);
      const form = await request(server.url, "GET", "/t/artist/r/1", { headers: { ...html, ...auth } });
      check(form.status === 200 && form.text.includes('name="country"'), `the form has the new column: ${clip(form.text)}`);
      const failed = await migrate("ALTER TABLE artist ADD COLUMN broken int; SELECT 1/0");
      eq(failed.status, 422, `a migration that fails: ${clip(failed.text)}`);
      eq(pgQuery(db, "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'artist' AND column_name = 'broken'")[0]!.n, 0, "half of a failed migration");
      const t0 = Date.now();
      const endless = await migrate("CREATE TABLE forever AS WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT count(*) AS n FROM c");
      eq(endless.status, 503, `a migration past the time limit: ${clip(endless.text)}`);
      check(Date.now() - t0 < 30_000, "the endless migration was stopped, not waited out");
      eq(objects(), 0, "what the stopped migration left");
      const w = await request(server.url, "POST", "/api/tables/artist/rows", { headers: { ...json, ...auth }, body: JSON.stringify({ id: 2, name: "after", country: "AU" }) });
      eq(w.status, 201, `a write after the migrations: ${clip(w.text)}`);
      eq(await dsid(), after, "the DSID after the failed and the stopped migration");
    } finally {
      stream.close();
      await stop(server);
    }
  });

  test("a statement past the time limit answers 503 on every path, and the server carries on", async () => {
    const { server } = await serve(
      `CREATE TABLE items (id integer PRIMARY KEY, name text);
       INSERT INTO items VALUES (1, 'one');
       CREATE VIEW slow AS SELECT 1 AS n, pg_sleep(60)::text AS z;`,
      { limits: { statementMs: 1500 } },
    );
    try {
      for (const path of ["/t/slow", "/api/tables/slow/rows", "/api/tables/slow/rows.csv"]) {
        const t0 = Date.now();
        const a = await request(server.url, "GET", path, { headers: path.startsWith("/t/") ? html : json });
        eq(a.status, 503, `${path}: a statement that sleeps past the limit: ${clip(a.text)}`);
        check(/ms/.test(a.text) && /stopped/.test(a.text), `${path}: the 503 says what happened: ${clip(a.text)}`);
        check(Date.now() - t0 < 30_000, `${path}: stopped, not waited out`);
        status200(await request(server.url, "GET", "/t/items", { headers: html }), `after ${path}: a table's page`);
        const w = await api(server, "POST", "/api/tables/items/rows", { id: 100 + n++, name: "after" });
        eq(w.status, 201, `after ${path}: a write: ${clip(w.text)}`);
      }
    } finally {
      await stop(server);
    }
  });

  test("a password in --db is never printed; uninstall takes away all nakedhtmx added, on every host", async () => {
    // The suite's cluster trusts every local connection, so the password is
    // sent and ignored: what matters is that no line shows it.
    const secret = "s3cret-pw";
    const db = cluster.createDatabase();
    pgExec(db, "CREATE TABLE notes (id integer PRIMARY KEY, title text); INSERT INTO notes VALUES (1, 'kept');");
    const u = new URL(db);
    u.password = secret;
    const withPassword = u.toString();
    const server = await startServer(hc, ["--db", withPassword, "--port", "0", "--host", "127.0.0.1"]);
    running.add(server);
    try {
      status200(await request(server.url, "GET", "/t/notes", { headers: html }), "a page, the password given");
    } finally {
      await stop(server);
    }
    const printed = server.stdout() + server.stderr();
    check(!printed.includes(secret), `the server printed the password: ${clip(printed, 600)}`);
    check(printed.includes("xxxxx"), `the serving line does not show the URL with its password masked: ${clip(printed, 600)}`);
    const own = () => pgQuery(db, "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = '_nakedhtmx') AS schemas, (SELECT count(*) FROM pg_trigger WHERE tgname = '_nakedhtmx_trg') AS triggers")[0];
    eq(own(), { schemas: 1, triggers: 1 }, "what serving added");
    const un = await runToExit(hc, ["uninstall", "--db", withPassword]);
    eq(un.code, 0, `uninstall's exit code; stderr: ${clip(un.stderr)}`);
    check(!(un.stdout + un.stderr).includes(secret), `uninstall printed the password: ${clip(un.stdout + un.stderr)}`);
    check(/removed \d+ objects/.test(un.stdout), `uninstall says what it removed: ${clip(un.stdout)}`);
    eq(own(), { schemas: 0, triggers: 0 }, "what is left after uninstall");
    eq(pgQuery(db, "SELECT title FROM notes"), [{ title: "kept" }], "the user's rows are untouched");
  });

  return T;
}

function status200(a: Answer, what: string): void {
  check(a.status === 200, `${what}: status ${a.status}, want 200: ${clip(a.text)}`);
}
