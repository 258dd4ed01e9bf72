// The conformance cases: CONTRACT.md's JSON API, HTML and CLI rules, checked over
// real loopback HTTP against one running host. Every host runs the same cases in
// the same order, so their recorded answers can be compared byte for byte.

import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { request, rawRequest, enc, pkPath, formBody, type Answer, type RequestOptions } from "./client.ts";
import { check, eq, status, clip, Failure, Skip, type Test, type Recorder } from "./harness.ts";
import { tags, forms, fieldNames, controlValue, hrefs, rowLinks, escapingProblems, dsidProblems, canonPath, type Form } from "./html.ts";
import { HOSTILE, HOSTILE_COL, USER_TABLES, buildFixture, query, SCHEMA, openDB } from "./fixture.ts";
import { startServer, runToExit, type HostCommand, type Server } from "./hosts.ts";
import { SSE } from "./sse.ts";
import { isPostgres, pgExec } from "./pg.ts";
import { schemaEditWalk } from "./structure.ts";
import { PEOPLE_CONFIG, peopleSchema, peopleWalk } from "./people.ts";

type Json = any; // answers are checked field by field

export interface Seen {
  path: string;
  status: number;
  contentType: string;
  text: string;
}

/** One running server and everything the cases share. */
export class Ctx {
  dsid = "";
  readonly pages: Seen[] = [];
  readonly jsons: Seen[] = [];
  testName = "";

  readonly host: string;
  readonly hc: HostCommand;
  readonly tmp: string;
  readonly db: string;
  server: Server;
  readonly rec: Recorder;

  constructor(host: string, hc: HostCommand, tmp: string, db: string, server: Server, rec: Recorder) {
    this.host = host;
    this.hc = hc;
    this.tmp = tmp;
    this.db = db;
    this.server = server;
    this.rec = rec;
  }

  get base(): URL { return this.server.url; }
  get origin(): string { return this.server.url.origin; }
  /** The leg on Postgres (run.ts --store postgres): db is a postgres:// URL. */
  get pg(): boolean { return isPostgres(this.db); }

  /** Any request; the answer is recorded for --compare and kept for the global checks. */
  async req(method: string, path: string, opts: RequestOptions = {}, record = true): Promise<Answer> {
    const a = await request(this.base, method, path, opts);
    if (record) this.rec.record(`${this.testName} :: ${method} ${path}`, a);
    const ct = a.headers["content-type"] ?? "";
    const seen = { path: `${method} ${path}`, status: a.status, contentType: ct, text: a.text };
    if (ct.startsWith("text/html")) this.pages.push(seen);
    if (/json/.test(ct)) this.jsons.push(seen);
    return a;
  }

  async api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ a: Answer; j: Json }> {
    const opts: RequestOptions = { headers: { accept: "application/json", ...headers } };
    if (body !== undefined) {
      opts.body = typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      opts.headers = { "content-type": "application/json", ...opts.headers };
    }
    const a = await this.req(method, path, opts);
    let j: Json = null;
    if (a.text !== "" && /json/.test(a.headers["content-type"] ?? "")) {
      try {
        j = JSON.parse(a.text);
      } catch {
        throw new Failure(`${method} ${path}: body is not JSON: ${clip(a.text)}`);
      }
    }
    return { a, j };
  }

  page(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.req("GET", path, { headers: { accept: "text/html", ...headers } });
  }

  postForm(path: string, fields: [string, string][], headers: Record<string, string> = {}): Promise<Answer> {
    return this.req("POST", path, {
      headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded", ...headers },
      body: formBody(fields),
    });
  }
}

const MiB = 1024 * 1024;

/** POST /api/migrations with the token: SQL in, the answer out. */
export function migration(srv: Server, token: string, sql: string): Promise<Answer> {
  return request(srv.url, "POST", "/api/migrations", {
    headers: { "content-type": "application/sql", accept: "application/json", authorization: `Bearer ${token}` }, body: sql,
  });
}

function isJsonType(a: Answer): boolean {
  return /^application\/([a-z.+-]*\+)?json\b/.test(a.headers["content-type"] ?? "");
}

function jsonError(a: Answer, j: Json, want: number | number[], what: string): void {
  status(a, want, what);
  check(isJsonType(a), `${what}: content-type ${a.headers["content-type"]}, want JSON`);
  check(j && typeof j.dsid === "string" && j.dsid !== "", `${what}: no "dsid" in ${clip(a.text)}`);
  check(typeof j.error === "string" && j.error !== "", `${what}: no "error" message in ${clip(a.text)}`);
}

function html(a: Answer, want: number, what: string): void {
  status(a, want, what);
  check((a.headers["content-type"] ?? "").startsWith("text/html"), `${what}: content-type ${a.headers["content-type"]}`);
}

function theForm(a: Answer, actionEnd: string, what: string): Form {
  const fs = forms(a.text).filter((f) => f.method === "post" && f.action.endsWith(actionEnd));
  check(fs.length === 1, `${what}: want one POST form to …${actionEnd}, found ${forms(a.text).map((f) => `${f.method} ${f.action}`).join("; ") || "none"}`);
  return fs[0];
}

function location(a: Answer): string {
  const l = a.headers["location"] ?? "";
  return canonPath(l.replace(/^https?:\/\/[^/]+/, ""));
}

function itemsCount(ctx: Ctx): number {
  return Number(query(ctx.db, "SELECT count(*) AS n FROM items")[0].n);
}

/** Splits CSV text (RFC 4180: quotes, doubled quotes, CRLF or LF) into records. */
export function parseCSV(text: string): string[][] {
  const out: string[][] = [];
  let rec: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      rec.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      rec.push(field);
      out.push(rec);
      rec = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || rec.length > 0) {
    rec.push(field);
    out.push(rec);
  }
  return out;
}

/** JSON Pointer (RFC 6901) token decoding. */
function pointerToken(s: string): string {
  return s.replace(/~1/g, "/").replace(/~0/g, "~");
}

export function mainTests(ctx: Ctx): Test[] {
  const T: Test[] = [];
  const test = (name: string, fn: () => Promise<void>, sqliteOnly?: string) =>
    T.push({ name, sqliteOnly, fn: async () => { ctx.testName = name; await fn(); } });
  const rows = "/api/tables/items/rows";
  let created = 0; // id of the row the API create made

  test("the server prints its URL with the real port and answers", async () => {
    check(ctx.base.port !== "0" && ctx.base.port !== "", `URL line has port ${ctx.base.port}`);
    const a = await ctx.page("/");
    html(a, 200, "GET /");
  });

  test("GET /api/schema: dsid, every user table and view, nothing internal", async () => {
    const { a, j } = await ctx.api("GET", "/api/schema");
    status(a, 200, "GET /api/schema");
    check(isJsonType(a), `content-type ${a.headers["content-type"]}`);
    check(typeof j.dsid === "string" && j.dsid.length > 0, "no dsid");
    ctx.dsid = j.dsid;
    const names = Object.keys(j.tables).sort();
    eq(names, [...USER_TABLES].sort(), "tables listed");
    for (const [name, t] of Object.entries<Json>(j.tables)) {
      check(t.schema && t.ui, `${name}: want {"schema", "ui"}`);
    }
    const own = ctx.pg
      ? query(ctx.db, "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = '_nakedhtmx'")
      : query(ctx.db, "SELECT name FROM sqlite_schema WHERE name LIKE '\\_nakedhtmx\\_%' ESCAPE '\\'");
    check(own.length > 0, "the server made no _nakedhtmx_ object, so 'never listed' checks nothing");
  });

  test("GET / lists every user table with a link to it, and nothing internal", async () => {
    const a = await ctx.page("/");
    html(a, 200, "GET /");
    const links = new Set(hrefs(a.text));
    for (const name of USER_TABLES) {
      check(links.has(`/t/${enc(name)}`), `no link to /t/${enc(name)} (${JSON.stringify(name)}); links: ${clip([...links].join(" "))}`);
    }
    check(!a.text.includes("_nakedhtmx_"), "the index names a _nakedhtmx_ object");
    check(!/sqlite_(schema|sequence|master)/.test(a.text), "the index names a sqlite_ table");
  });

  test("assets come from the server itself", async () => {
    const want: [string, RegExp][] = [
      ["/assets/htmx.min.js", /javascript/], ["/assets/hx-sse.js", /javascript/],
      ["/assets/style.css", /text\/css/], ["/assets/app.js", /javascript/],
    ];
    for (const [path, ct] of want) {
      const a = await ctx.req("GET", path);
      status(a, 200, `GET ${path}`);
      check(ct.test(a.headers["content-type"] ?? ""), `${path}: content-type ${a.headers["content-type"]}`);
      check(a.body.length > 0, `${path} is empty`);
    }
    const page = await ctx.page("/t/items");
    for (const t of tags(page.text)) {
      const src = t.name === "script" ? t.attrs.get("src") : t.name === "link" ? t.attrs.get("href") : undefined;
      if (src !== undefined) check(!/^(https?:)?\/\//.test(src), `<${t.name}> loads ${src} from elsewhere`);
    }
    const missing = await ctx.req("GET", "/assets/nope.js");
    status(missing, 404, "GET /assets/nope.js");
  });

  test("the offline service worker's files come from the host, and nothing else under /offline/", async () => {
    const sw = await ctx.req("GET", "/offline/sw.js");
    status(sw, 200, "GET /offline/sw.js");
    check(/javascript/.test(sw.headers["content-type"] ?? ""), `sw.js: content-type ${sw.headers["content-type"]}`);
    eq(sw.headers["service-worker-allowed"], "/", "sw.js may control the whole app");
    eq(sw.headers["x-content-type-options"], "nosniff", "nosniff");
    eq(sw.headers["cache-control"], "no-cache", "asked again every time");
    const etag = sw.headers["etag"] ?? "";
    check(/^"[0-9a-f]{16}"$/.test(etag), `an ETag: ${etag}`);
    status(await ctx.req("GET", "/offline/sw.js", { headers: { "if-none-match": etag } }), 304, "GET with If-None-Match");
    const head = await ctx.req("HEAD", "/offline/core.wasm");
    status(head, 200, "HEAD /offline/core.wasm");
    eq([head.headers["content-type"], head.body.length], ["application/wasm", 0], "HEAD: the type, no body");
    const manifest = await ctx.req("GET", "/offline/manifest.json", {}, false);
    status(manifest, 404, "the manifest is the host's, not served");
    // Dot segments: refused, or (a server normalizing the path first, as
    // Bun's does) the file the normalized path names, never one of the set.
    const appJS = (await ctx.req("GET", "/assets/app.js", {}, false)).body;
    for (const path of ["/offline/../assets/app.js", "/offline/%2e%2e/assets/app.js"]) {
      const a = await ctx.req("GET", path, {}, false);
      check(a.status === 404 || a.status === 400 || (a.status === 200 && a.body.equals(appJS)), `GET ${path}: ${a.status}`);
    }
    for (const path of ["/offline/sw.js/x", "/offline/SW.JS", "/offline/", "/offline/..%2Fcore.wasm"]) {
      const a = await ctx.req("GET", path);
      check(a.status === 404 || a.status === 400, `GET ${path}: ${a.status}`);
    }
    const post = await ctx.req("POST", "/offline/sw.js", { headers: { origin: ctx.origin } });
    check(post.status >= 400 && !/javascript/.test(post.headers["content-type"] ?? ""), `POST /offline/sw.js: ${post.status}`);
    const page = await ctx.page("/t/items");
    check(page.text.includes('<meta name="nakedhtmx-offline" content="/offline/sw.js">'), "the pages name the worker");
  });

  test("JSON Schema of a table follows the contract's conventions", async () => {
    const { a, j } = await ctx.api("GET", "/api/schema");
    status(a, 200, "GET /api/schema");
    const s = j.tables.items.schema;
    eq(s.$schema, "https://json-schema.org/draft/2020-12/schema", "$schema");
    eq(s.title, "items", "title");
    eq(s.type, "object", "type");
    eq(Object.keys(s.properties), ["id", "name", "kind", "price", "qty", "in_stock", "added", "notes"], "properties in column order");
    const p = s.properties;
    eq(p.id.type, "integer", "id type");
    eq(p.id["x-primary-key"], true, "id x-primary-key");
    eq(p.id.readOnly, true, "id readOnly (INTEGER PRIMARY KEY)");
    eq(p.name.type, "string", "name type (NOT NULL)");
    eq(p.name.maxLength, 30, "name maxLength from VARCHAR(30)");
    eq([...p.kind.enum].sort(), ["book", "food", "tool", "toy"], "kind enum");
    eq(p.kind.default, "tool", "kind default");
    eq(p.price.type, "number", "price type");
    eq(p.price.minimum, 0, "price minimum");
    eq(p.qty.type, "integer", "qty type");
    eq(p.in_stock.type, "boolean", "in_stock type");
    eq(p.in_stock.default, true, "in_stock default");
    eq(p.added.type, ["string", "null"], "added type (nullable)");
    eq(p.added.format, "date", "added format");
    eq(p.notes.type, ["string", "null"], "notes type");
    eq([...(s.required ?? [])].sort(), ["name", "price"], "required");
    const pairs = j.tables.pairs.schema.properties;
    eq([pairs.a["x-primary-key"], pairs.b["x-primary-key"]], [true, true], "composite key columns");
    eq(pairs.parent_id["x-references"], { table: "parents", column: "id" }, "x-references");
    if (ctx.pg) {
      // Postgres updates a simple view; a table without a key it cannot address.
      eq(j.tables.cheap_items.schema.readOnly, undefined, "a view Postgres updates is not readOnly");
      eq(j.tables.loose.schema.readOnly, true, "a table without a key is readOnly on Postgres");
    } else {
      eq(j.tables.cheap_items.schema.readOnly, true, "a view's schema is readOnly");
    }
    const loose = j.tables.loose.schema;
    check(!Object.values<Json>(loose.properties).some((x) => x["x-primary-key"]), "loose has no declared key");
    // qty has CHECK (qty BETWEEN 0 AND 1000) and the looser table CHECK (qty <= 5000)
    eq([p.qty.minimum, p.qty.maximum, p.qty.default], [0, 1000, 0], "qty: the tighter CHECK bound wins, and the default");
  });

  test("the UI schema is JSON Forms: VerticalLayout of Controls scoped to properties", async () => {
    const { j } = await ctx.api("GET", "/api/schema");
    for (const [name, t] of Object.entries<Json>(j.tables)) {
      eq(t.ui.type, "VerticalLayout", `${name}: ui type`);
      check(Array.isArray(t.ui.elements), `${name}: ui elements`);
      for (const el of t.ui.elements) {
        eq(el.type, "Control", `${name}: element type`);
        const m = /^#\/properties\/(.*)$/.exec(el.scope ?? "");
        check(m, `${name}: scope ${el.scope}`);
        const col = pointerToken(m[1]);
        check(col in t.schema.properties, `${name}: scope ${el.scope} names no property (decoded ${JSON.stringify(col)})`);
      }
    }
    const hostile = j.tables[HOSTILE].ui.elements.map((e: Json) => e.scope);
    check(hostile.includes("#/properties/a~1b"), `"a/b" must be scoped as a~1b: ${hostile}`);
    check(hostile.includes("#/properties/til~0de"), `"til~de" must be scoped as til~0de: ${hostile}`);
  });

  test("GET /api/schema/{table} is the JSON Schema with x-dsid", async () => {
    for (const name of ["items", HOSTILE, "new\nline", "a/b?c#d%e&f=g", "cheap_items"]) {
      const { a, j } = await ctx.api("GET", `/api/schema/${enc(name)}`);
      status(a, 200, `schema of ${JSON.stringify(name)}`);
      check(isJsonType(a), `content-type ${a.headers["content-type"]}`);
      eq(j["x-dsid"], ctx.dsid, `${JSON.stringify(name)}: x-dsid`);
      eq(j.title, name, "title");
      eq(j.$schema, "https://json-schema.org/draft/2020-12/schema", "$schema");
    }
  });

  test("unknown and system tables are 404 on every route", async () => {
    for (const name of ["nope", "_nakedhtmx_dsid", "sqlite_schema", "sqlite_sequence", "books_fts"]) {
      for (const path of [`/api/schema/${enc(name)}`, `/api/tables/${enc(name)}/rows`, `/api/tables/${enc(name)}/rows/1`,
        `/api/tables/${enc(name)}/rows.csv`]) {
        const { a, j } = await ctx.api("GET", path);
        jsonError(a, j, 404, `GET ${path}`);
      }
      const { a, j } = await ctx.api("POST", `/api/tables/${enc(name)}/rows`, { seq: 99 });
      jsonError(a, j, 404, `POST into ${name}`);
      const p = await ctx.page(`/t/${enc(name)}`);
      html(p, 404, `GET /t/${name}`);
      const pn = await ctx.page(`/t/${enc(name)}/new`);
      html(pn, 404, `GET /t/${name}/new`);
    }
    const own = query(ctx.db, `SELECT count(*) AS n FROM ${ctx.pg ? '"_nakedhtmx".' : ""}_nakedhtmx_dsid`);
    check(Number(own[0].n) >= 1, "_nakedhtmx_dsid lost its rows");
  });

  test("unknown rows are 404", async () => {
    for (const path of [`${rows}/999`, "/api/tables/pairs/rows/plain,99", "/api/tables/codes/rows/zzz", "/api/tables/loose/rows/3"]) {
      const { a, j } = await ctx.api("GET", path);
      jsonError(a, j, 404, `GET ${path}`);
    }
    // keys that cannot be a key of the table: not found, or a bad request
    for (const path of [`${rows}/abc`, "/api/tables/pairs/rows/plain", "/api/tables/pairs/rows/plain,1,2"]) {
      const { a, j } = await ctx.api("GET", path);
      jsonError(a, j, [400, 404], `GET ${path}`);
    }
    // a malformed escape: some HTTP servers refuse the request line before the core sees it
    // (not recorded for --compare: Go's net/http answers it in plain text itself)
    const pct = await ctx.req("GET", `${rows}/%`, { headers: { accept: "application/json" } }, false);
    check(pct.status === 400 || pct.status === 404, `GET ${rows}/%: status ${pct.status}`);
    html(await ctx.page("/t/items/r/999"), 404, "GET /t/items/r/999");
    const { a, j } = await ctx.api("DELETE", `${rows}/999`);
    jsonError(a, j, 404, "DELETE a missing row");
    const p = await ctx.api("PATCH", `${rows}/999`, { qty: 1 });
    jsonError(p.a, p.j, 404, "PATCH a missing row");
  });

  test("keyset paging: limit and next visit every row once, in key order", async () => {
    const ids: number[] = [];
    let path = `${rows}?limit=7`;
    for (let n = 0; n < 10; n++) {
      const { a, j } = await ctx.api("GET", path);
      status(a, 200, `GET ${path}`);
      check(typeof j.dsid === "string", "dsid");
      check(Array.isArray(j.rows) && j.rows.length <= 7, `page of ${j.rows?.length} rows`);
      ids.push(...j.rows.map((r: Json) => r.id));
      check("next" in j, "no next member");
      if (j.next === null) break;
      check(typeof j.next === "string" && j.next !== "", `next is ${JSON.stringify(j.next)}`);
      path = `${rows}?limit=7&after=${enc(j.next)}`;
    }
    const want = query(ctx.db, "SELECT id FROM items ORDER BY id").map((r) => Number(r.id));
    eq(ids, want, "ids over all pages");
    const { j } = await ctx.api("GET", `${rows}?limit=1000`);
    eq(j.next, null, "next on the last page");
    const bad = await ctx.api("GET", `${rows}?after=${enc("not a cursor")}`);
    jsonError(bad.a, bad.j, 400, "a made-up cursor");
  });

  test("a row by primary key: integer, text, composite and rowid keys", async () => {
    const one = await ctx.api("GET", `${rows}/3`);
    status(one.a, 200, "GET items/3");
    eq(one.j.row.id, 3, "row id");
    eq(one.j.row.name, "Atlas", "row name");
    eq(typeof one.j.row.in_stock, "boolean", "a BOOLEAN column is a JSON boolean");
    check(typeof one.j.version === "string" && one.j.version !== "", "version");
    check(typeof one.j.dsid === "string", "dsid");
    for (const code of ["a/b", "50%", "x y", "ok"]) {
      const { a, j } = await ctx.api("GET", `/api/tables/codes/rows/${enc(code)}`);
      status(a, 200, `codes ${JSON.stringify(code)}`);
      eq(j.row.code, code, "code");
    }
    for (const r of query(ctx.db, "SELECT a, b, v FROM pairs ORDER BY a, b")) {
      const path = `/api/tables/pairs/rows/${pkPath(String(r.a), Number(r.b))}`;
      const { a, j } = await ctx.api("GET", path);
      status(a, 200, `GET ${path}`);
      eq([j.row.a, j.row.b, j.row.v], [r.a, r.b, r.v], `pairs row at ${path}`);
    }
    if (ctx.pg) return; // rowids are SQLite's
    const { a, j } = await ctx.api("GET", "/api/tables/loose/rows/40");
    status(a, 200, "loose/40");
    eq(j.row.rowid, 40, "rowid member");
    eq(j.row.name, "forty", "name");
    const list = await ctx.api("GET", "/api/tables/loose/rows");
    eq(list.j.rows.map((r: Json) => r.rowid), [1, 2, 40], "rowid tables list their rowid");
  });

  test("create: 201 with row, version and pk", async () => {
    const before = itemsCount(ctx);
    const { a, j } = await ctx.api("POST", rows, { name: "Lantern", kind: "tool", price: 12.5, qty: 4, in_stock: false, added: "2024-07-01" });
    status(a, 201, "POST items");
    check(isJsonType(a), "content-type");
    check(typeof j.dsid === "string", "dsid");
    check(typeof j.version === "string" && j.version !== "", "version");
    eq(Object.keys(j.pk), ["id"], "pk members");
    created = j.pk.id;
    check(Number.isInteger(created) && created > 25, `pk ${created}`);
    eq([j.row.name, j.row.kind, j.row.price, j.row.qty, j.row.in_stock, j.row.added, j.row.notes],
      ["Lantern", "tool", 12.5, 4, false, "2024-07-01", null], "row as stored");
    eq(itemsCount(ctx), before + 1, "rows in the database");
    const back = await ctx.api("GET", `${rows}/${created}`);
    eq(back.j.version, j.version, "version read back");
    const defaults = await ctx.api("POST", rows, { name: "Defaults", price: 1 });
    status(defaults.a, 201, "POST with defaults");
    eq([defaults.j.row.kind, defaults.j.row.qty, defaults.j.row.in_stock], ["tool", 0, true], "defaults filled");
    const del = await ctx.api("DELETE", `${rows}/${defaults.j.pk.id}`);
    status(del.a, 204, "clean up");
    const withDsid = await ctx.api("POST", rows, { _dsid: ctx.dsid, name: "With dsid", price: 2 });
    status(withDsid.a, 201, "POST with the current _dsid");
    check(!("remapped" in withDsid.j) || withDsid.j.remapped === null ||
      Object.keys(withDsid.j.remapped).length === 0, `nothing to remap: ${clip(withDsid.a.text)}`);
    status((await ctx.api("DELETE", `${rows}/${withDsid.j.pk.id}`)).a, 204, "clean up");
  });

  test("create: 422 with an error per field, nothing written", async () => {
    const before = itemsCount(ctx);
    const cases: [string, Json, string][] = [
      ["a type error", { name: "Typed", price: "cheap" }, "/price"],
      ["a missing required field", { price: 3 }, "/name"],
      ["an enum violation", { name: "Enum", price: 3, kind: "weapon" }, "/kind"],
      ["a too-long string", { name: "x".repeat(31), price: 3 }, "/name"],
      ["a CHECK range", { name: "Range", price: 3, qty: 1001 }, "/qty"],
      ["null in a NOT NULL column", { name: null, price: 3 }, "/name"],
      ["an unknown column", { name: "Unknown", price: 3, colour: "red" }, ""],
    ];
    const problems: string[] = [];
    for (const [what, body, path] of cases) {
      try {
        const { a, j } = await ctx.api("POST", rows, body);
        status(a, 422, what);
        check(typeof j.dsid === "string", `${what}: dsid`);
        check(Array.isArray(j.errors) && j.errors.length > 0, `${what}: errors ${clip(a.text)}`);
        for (const e of j.errors) {
          check(typeof e.path === "string" && typeof e.message === "string" && e.message !== "", `${what}: error shape ${JSON.stringify(e)}`);
        }
        if (path) check(j.errors.some((e: Json) => e.path === path), `${what}: no error at ${path}: ${clip(a.text)}`);
      } catch (e) {
        problems.push(e instanceof Error ? e.message : String(e));
      }
    }
    check(problems.length === 0, problems.join("\n"));
    const many = await ctx.api("POST", rows, { name: "", price: -1, kind: "weapon", qty: "many" });
    status(many.a, 422, "several errors");
    const paths = new Set(many.j.errors.map((e: Json) => e.path));
    for (const p of ["/price", "/kind", "/qty"]) check(paths.has(p), `several errors: none at ${p}: ${clip(many.a.text)}`);
    eq(itemsCount(ctx), before, "rows in the database");
  });

  test("update: PATCH 200, stale _version 409, current _version 200", async () => {
    check(created > 0, "needs the create test");
    const cur = await ctx.api("GET", `${rows}/${created}`);
    const { a, j } = await ctx.api("PATCH", `${rows}/${created}`, { qty: 5, notes: "patched" });
    status(a, 200, "PATCH");
    eq([j.row.qty, j.row.notes, j.row.name], [5, "patched", "Lantern"], "patched row");
    check(j.version !== cur.j.version, "version changes with the row");
    const stale = await ctx.api("PATCH", `${rows}/${created}`, { qty: 6, _version: cur.j.version });
    jsonError(stale.a, stale.j, 409, "PATCH with a stale _version");
    eq(Number(query(ctx.db, "SELECT qty FROM items WHERE id = ?", created)[0].qty), 5, "a stale write changes nothing");
    const fresh = await ctx.api("PATCH", `${rows}/${created}`, { qty: 6, _version: j.version, _dsid: ctx.dsid });
    status(fresh.a, 200, "PATCH with the current _version");
    eq(fresh.j.row.qty, 6, "qty");
    const bad = await ctx.api("PATCH", `${rows}/${created}`, { price: "free" });
    status(bad.a, 422, "PATCH with a type error");
    check(bad.j.errors.some((e: Json) => e.path === "/price"), "error at /price");
  });

  test("delete: 204, then 404", async () => {
    check(created > 0, "needs the create test");
    const { a } = await ctx.api("DELETE", `${rows}/${created}`);
    status(a, 204, "DELETE");
    eq(a.text, "", "a 204 has no body");
    const gone = await ctx.api("GET", `${rows}/${created}`);
    jsonError(gone.a, gone.j, 404, "GET after DELETE");
    const again = await ctx.api("DELETE", `${rows}/${created}`);
    jsonError(again.a, again.j, 404, "DELETE again");
  });

  test("composite keys: create, read, update, delete with escaped values; foreign keys hold", async () => {
    const key = { a: "new,key/1 %?#ü", b: 9 };
    const { a, j } = await ctx.api("POST", "/api/tables/pairs/rows", { ...key, v: "made", parent_id: 2 });
    status(a, 201, "POST pairs");
    eq(j.pk, key, "pk object in key order");
    const path = `/api/tables/pairs/rows/${pkPath(key.a, key.b)}`;
    const got = await ctx.api("GET", path);
    status(got.a, 200, `GET ${path}`);
    eq(got.j.row.v, "made", "v");
    const up = await ctx.api("PATCH", path, { v: "changed" });
    status(up.a, 200, "PATCH pairs");
    eq(up.j.row.v, "changed", "v");
    const del = await ctx.api("DELETE", path);
    status(del.a, 204, "DELETE pairs");
    const gone = await ctx.api("GET", path);
    status(gone.a, 404, "gone");
    const orphan = await ctx.api("POST", "/api/tables/pairs/rows", { a: "orphan", b: 1, parent_id: 99 });
    status(orphan.a, 422, "POST pairs with a missing parent");
    check(orphan.j.errors.some((e: Json) => e.path === "/parent_id"), `no error at /parent_id: ${clip(orphan.a.text)}`);
    const parent = await ctx.api("DELETE", "/api/tables/parents/rows/1");
    check(parent.a.status === 409 || parent.a.status === 422, `DELETE a referenced parent: status ${parent.a.status}, want 409 or 422`);
    eq(query(ctx.db, "SELECT count(*) AS n FROM parents WHERE id = 1")[0].n, 1, "the referenced parent is still there");
    const text = await ctx.api("POST", "/api/tables/codes/rows", { code: "new/code 100%", label: "made" });
    status(text.a, 201, "POST codes");
    eq(text.j.pk, { code: "new/code 100%" }, "text pk");
    status((await ctx.api("DELETE", `/api/tables/codes/rows/${enc("new/code 100%")}`)).a, 204, "DELETE codes");
  });

  test("rowid tables: pk is {\"rowid\": n}", async () => {
    const { a, j } = await ctx.api("POST", "/api/tables/loose/rows", { name: "forty-one", qty: 41 });
    status(a, 201, "POST loose");
    eq(j.pk, { rowid: 41 }, "pk");
    eq(j.row.rowid, 41, "row.rowid");
    const up = await ctx.api("PATCH", "/api/tables/loose/rows/41", { qty: 42 });
    status(up.a, 200, "PATCH loose/41");
    eq(up.j.row.qty, 42, "qty");
    status((await ctx.api("DELETE", "/api/tables/loose/rows/41")).a, 204, "DELETE loose/41");
  }, "rowids are SQLite's: on Postgres a table without a key is read-only");

  test("views are read-only", async () => {
    const list = await ctx.api("GET", "/api/tables/cheap_items/rows?limit=1000");
    status(list.a, 200, "GET view rows");
    const want = query(ctx.db, "SELECT count(*) AS n FROM cheap_items")[0].n;
    eq(list.j.rows.length, Number(want), "view rows");
    const { a } = await ctx.api("POST", "/api/tables/cheap_items/rows", { id: 99, name: "x", price: 1 });
    check([403, 404, 405].includes(a.status), `POST into a view: status ${a.status}, want 403, 404 or 405`);
  }, "Postgres updates a simple view such as cheap_items, and a write through it goes there (TestPostgresReflection)");

  test("malformed JSON is 400; a body that is not an object is refused", async () => {
    for (const body of ['{"name": "unfinished', "{'single': 1}", "", "\u00ff\u00fe"]) {
      const { a, j } = await ctx.api("POST", rows, body);
      jsonError(a, j, 400, `POST ${JSON.stringify(body)}`);
    }
    for (const body of ["[1, 2]", '"a string"', "42", "null"]) {
      const { a, j } = await ctx.api("POST", rows, body);
      check(a.status === 400 || a.status === 422, `POST ${body}: status ${a.status}, want 400 or 422`);
      check(typeof j?.dsid === "string", "dsid");
    }
    const p = await ctx.api("PATCH", `${rows}/1`, "{nope");
    jsonError(p.a, p.j, 400, "PATCH malformed");
  });

  test("the JSON API takes application/json only: 415 otherwise", async () => {
    const body = JSON.stringify({ name: "Wrong type", price: 1 });
    for (const ct of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"]) {
      const a = await ctx.req("POST", rows, { headers: { "content-type": ct, accept: "application/json" }, body });
      jsonError(a, JSON.parse(a.text || "null"), 415, `POST as ${ct}`);
    }
    const none = await ctx.req("POST", rows, { headers: { accept: "application/json" }, body });
    jsonError(none, JSON.parse(none.text || "null"), 415, "POST with no content type");
    const ok = await ctx.api("POST", rows, { name: "Charset", price: 1 }, { "content-type": "application/json; charset=utf-8" });
    status(ok.a, 201, "application/json; charset=utf-8");
    status((await ctx.api("DELETE", `${rows}/${ok.j.pk.id}`)).a, 204, "clean up");
  });

  test("HTML forms take urlencoded and multipart only: 415 otherwise", async () => {
    const before = itemsCount(ctx);
    for (const ct of ["application/json", "text/plain"]) {
      const a = await ctx.req("POST", "/t/items/new", {
        headers: { "content-type": ct, accept: "text/html" }, body: '{"name":"x","price":"1"}',
      });
      status(a, 415, `form POST as ${ct}`);
    }
    eq(itemsCount(ctx), before, "nothing written");
  });

  test("cross-site writes are refused with 403", async () => {
    const before = itemsCount(ctx);
    const evil = { origin: "https://evil.example" };
    const cross = { "sec-fetch-site": "cross-site" };
    for (const [what, h] of [["Origin of another host", evil], ["Sec-Fetch-Site: cross-site", cross],
      ["Origin: null", { origin: "null" }]] as const) {
      const p = await ctx.api("POST", rows, { name: "Evil", price: 1 }, h);
      jsonError(p.a, p.j, 403, `POST, ${what}`);
      const u = await ctx.api("PATCH", `${rows}/1`, { qty: 999 }, h);
      jsonError(u.a, u.j, 403, `PATCH, ${what}`);
      const d = await ctx.api("DELETE", `${rows}/1`, undefined, h);
      jsonError(d.a, d.j, 403, `DELETE, ${what}`);
      const f = await ctx.postForm("/t/items/new", [["name", "Evil"], ["price", "1"]], h);
      status(f, 403, `form POST, ${what}`);
      const fd = await ctx.postForm("/t/items/r/1/delete", [["_dsid", ctx.dsid]], h);
      status(fd, 403, `form delete, ${what}`);
    }
    eq(itemsCount(ctx), before, "nothing written");
    eq(Number(query(ctx.db, "SELECT qty FROM items WHERE id = 1")[0].qty), 3, "row 1 unchanged");
    const same = await ctx.api("POST", rows, { name: "Same origin", price: 1 },
      { origin: ctx.origin, "sec-fetch-site": "same-origin" });
    status(same.a, 201, "same-origin POST");
    status((await ctx.api("DELETE", `${rows}/${same.j.pk.id}`, undefined, { "sec-fetch-site": "same-origin" })).a, 204,
      "same-origin DELETE");
    const get = await ctx.api("GET", `${rows}/1`, undefined, evil);
    status(get.a, 200, "a cross-site GET is fine");
  });

  test("DNS rebinding: a Host that is not a loopback name or allowed is 421, before anything is read", async () => {
    const before = itemsCount(ctx);
    const port = ctx.base.port;
    for (const host of ["evil.example", `evil.example:${port}`, "127.0.0.1.evil.example", `localhost.:${port}`, "localhost.", "[2001:db8::1]", `[::2]:${port}`, "0.0.0.0", "127.0.0.2"]) {
      for (const [method, path] of [["GET", "/api/schema"], ["GET", "/"], ["GET", "/t/items"], ["GET", "/api/tables/items/rows.csv"], ["GET", "/api/events"], ["POST", "/api/tables/items/rows"]]) {
        const a = await ctx.req(method, path, {
          headers: { host, accept: "application/json", "content-type": "application/json" },
          body: method === "POST" ? JSON.stringify({ name: "rebound", price: 1 }) : undefined,
        });
        status(a, 421, `${method} ${path} with Host ${host}`);
        check(!/items|Hammer|dsid/.test(a.text), `Host ${host}: the refusal shows data: ${clip(a.text)}`);
        check(!/event-stream/.test(a.headers["content-type"] ?? ""), `Host ${host}: a stream was opened`);
      }
    }
    eq(itemsCount(ctx), before, "rows after writes with a foreign Host");
    // Malformed Host lines: the server's own parser may refuse them first
    // (400); either way nothing is answered from the database. (No Host at
    // all is no rebinding: a browser always sends one. The fetch hosts then
    // take the request URL's authority, which the server builds itself.)
    const malformed: [string, string[]][] = [
      ["an empty Host", ["host: "]],
      ["two Host headers", [`host: 127.0.0.1:${port}`, "host: evil.example"]],
      ["two Host headers, ours second", ["host: evil.example", `host: 127.0.0.1:${port}`]],
      ["a list in one Host", [`host: 127.0.0.1:${port}, evil.example`]],
    ];
    for (const [what, hosts] of malformed) {
      const a = await rawRequest(ctx.base, ["GET /api/tables/items/rows HTTP/1.1", ...hosts, "accept: application/json"]);
      check(a.status === 421 || a.status === 400, `${what}: ${a.status}, want 421 (or the server's own 400)`);
      check(!/Hammer|dsid/.test(a.text), `${what}: data in the refusal: ${clip(a.text)}`);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`, "localhost"]) {
      const a = await ctx.req("GET", "/api/schema", { headers: { host, accept: "application/json" } });
      status(a, 200, `Host ${host}`);
    }
  });

  test("every answer carries the CSP, nosniff, a referrer policy and frame denial", async () => {
    const paths = ["/", "/t/items", "/t/items/new", "/t/items/r/1", "/t/nope", "/api/schema", "/api/tables/items/rows.csv", "/assets/style.css"];
    for (const path of paths) {
      const a = await ctx.req("GET", path, { headers: { accept: "text/html" } });
      const csp = a.headers["content-security-policy"] ?? "";
      for (const part of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'"]) {
        check(csp.includes(part), `${path}: the CSP lacks ${part}: ${csp || "(none)"}`);
      }
      check(!/unsafe-(inline|eval)/.test(csp), `${path}: the CSP allows unsafe code: ${csp}`);
      eq(a.headers["x-content-type-options"], "nosniff", `${path}: X-Content-Type-Options`);
      eq(a.headers["referrer-policy"], "same-origin", `${path}: Referrer-Policy`);
      eq(a.headers["x-frame-options"], "DENY", `${path}: X-Frame-Options`);
    }
  });

  test("CSV export neutralises formulas; the JSON API keeps values exact", async () => {
    const evil = ['=HYPERLINK("http://e/","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"];
    const ids: number[] = [];
    for (const name of evil) {
      const { a, j } = await ctx.api("POST", "/api/tables/items/rows", { name, price: 2.5, notes: "=1+1" });
      status(a, 201, `create ${JSON.stringify(name)}`);
      ids.push(j.row.id);
    }
    try {
      const recs = parseCSV((await ctx.req("GET", "/api/tables/items/rows.csv")).text);
      for (const [i, id] of ids.entries()) {
        const r = recs.find((rec) => rec[0] === String(id));
        check(r, `row ${id} missing from the CSV`);
        eq(r[1], "'" + evil[i], `CSV cell of ${JSON.stringify(evil[i])}`);
        eq(r[3], "2.5", "a number stays a number"); // negative ones: the corpus case "browser"
        eq(r[7], "'=1+1", "another text column");
        const { j } = await ctx.api("GET", `/api/tables/items/rows/${id}`);
        eq(j.row.name, evil[i], "the JSON value is exact");
      }
    } finally {
      for (const id of ids) await ctx.api("DELETE", `/api/tables/items/rows/${id}`);
    }
  });

  test("numbers are exact or refused; every request's size is bounded (members, parameters, filters, search)", async () => {
    const before = itemsCount(ctx);
    for (const [qty, what] of [["-9223372036854775809", "below 64 bits"], ["9223372036854775808", "above 64 bits"], ["1.0000000000000000001", "a fraction a float would round away"], ["2.5", "a fraction"]]) {
      const { a, j } = await ctx.api("POST", "/api/tables/items/rows", `{"name": "exact", "price": 1, "qty": ${qty}}`);
      jsonError(a, j, 422, `qty ${what}`);
      check(j.errors?.some((e: { path: string }) => e.path === "/qty"), `qty ${what}: the error names the field: ${clip(a.text)}`);
    }
    const { a: whole } = await ctx.api("POST", "/api/tables/items/rows", `{"name": "exact", "price": 1, "qty": 2.0}`);
    status(whole, 201, "2.0 is a whole number");
    const wid = JSON.parse(whole.text).row.id;
    await ctx.api("DELETE", `/api/tables/items/rows/${wid}`);
    eq(itemsCount(ctx), before, "rows after the refused writes");
    const members = "{" + Array.from({ length: 10001 }, (_, i) => `"m${i}": 1`).join(",") + "}";
    const { a: many } = await ctx.api("POST", "/api/tables/items/rows", members);
    status(many, 413, "a body of 10,001 members");
    const params = Array.from({ length: 1001 }, (_, i) => `x${i}=1`).join("&");
    status(await ctx.req("GET", `/api/tables/items/rows?${params}`, { headers: { accept: "application/json" } }), 413, "1,001 query parameters");
    status(await ctx.req("GET", `/t/items?${params}`, { headers: { accept: "text/html" } }), 413, "1,001 query parameters on a page");
    const filters = Array.from({ length: 101 }, (_, i) => `f.name=n${i}`).join("&");
    status(await ctx.req("GET", `/api/tables/items/rows?${filters}`, { headers: { accept: "application/json" } }), 413, "101 filters");
    status(await ctx.req("GET", `/api/tables/items/rows?q=${"x".repeat(1001)}`, { headers: { accept: "application/json" } }), 413, "a search of 1,001 characters");
    status(await ctx.req("GET", `/api/tables/items/rows?q=a%00b`, { headers: { accept: "application/json" } }), 400, "a NUL in a search");
    status(await ctx.req("GET", `/api/tables/items/rows?q=${"x".repeat(1000)}`, { headers: { accept: "application/json" } }), 200, "a search of 1,000 characters");
  });

  test("bodies over 10 MiB are refused with 413", async () => {
    const before = itemsCount(ctx);
    const big = 10 * MiB + 1024;
    const j = await ctx.req("POST", rows, { headers: { "content-type": "application/json", accept: "application/json" }, bulk: big });
    jsonError(j, JSON.parse(j.text || "null"), 413, "JSON API, Content-Length over the cap");
    const c = await ctx.req("POST", rows, { headers: { "content-type": "application/json" }, bulk: big, chunked: true });
    status(c, 413, "JSON API, chunked over the cap");
    const f = await ctx.req("POST", "/t/items/new", {
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" }, bulk: big,
    });
    html(f, 413, "HTML form over the cap");
    eq(itemsCount(ctx), before, "nothing written");
    const small = await ctx.api("POST", rows, { name: "Just under", price: 1, notes: "n".repeat(MiB) });
    status(small.a, 201, "a 1 MiB body is fine");
    status((await ctx.api("DELETE", `${rows}/${small.j.pk.id}`)).a, 204, "clean up");
  });

  test("hostile bodies: each refused with a clear error and nothing written, or stored verbatim", async () => {
    const before = itemsCount(ctx);
    const bytes = (...parts: (string | number[])[]) =>
      Buffer.concat(parts.map((p) => typeof p === "string" ? Buffer.from(p) : Buffer.from(p)));
    const refused: [string, string | Buffer, number, RegExp][] = [
      ["invalid UTF-8 in a string", bytes('{"name": "', [0xff, 0xfe], '", "price": 1}'), 400, /UTF-8/],
      ["an overlong UTF-8 encoding", bytes('{"name": "', [0xc0, 0xaf], '", "price": 1}'), 400, /UTF-8/],
      ["a lone high surrogate escape", '{"name": "\\ud800", "price": 1}', 400, /surrogate/],
      ["a lone low surrogate escape", '{"name": "x\\udc00y", "price": 1}', 400, /surrogate/],
      ["a name given twice", '{"name": "first", "name": "second", "price": 1}', 400, /"name" twice/],
      ["JSON nested 100,000 deep", "[".repeat(100000) + "]".repeat(100000), 400, /JSON|object/],
      ["a value nested 10,000 deep", `{"name": "deep", "price": 1, "notes": ${"[".repeat(10000)}${"]".repeat(10000)}}`, 400, /JSON/],
      ["NaN as a bare word", '{"name": "nan", "price": NaN}', 400, /JSON/],
      ["Infinity as a bare word", '{"name": "inf", "price": Infinity}', 400, /JSON/],
      ["a trailing second value", '{"name": "two", "price": 1} {"name": "three"}', 400, /after/],
    ];
    for (const [what, body, want, msg] of refused) {
      const { a, j } = await ctx.api("POST", rows, body);
      jsonError(a, j, want, what);
      check(msg.test(j.error), `${what}: the error does not say what is wrong: ${clip(a.text)}`);
    }
    const invalid: [string, Record<string, unknown> | string, string[]][] = [
      ["unknown fields", { name: "Unknown", price: 1, colour: "red", "size'; DROP TABLE items; --": 2 },
        ["/colour", "/size'; DROP TABLE items; --"]],
      ["a number past float64", '{"name": "huge", "price": 1e400}', ["/price"]],
      ["an integer past 64 bits", '{"name": "huge", "price": 1, "qty": 123456789012345678901234567890}', ["/qty"]],
      ["an integer just past 64 bits", '{"name": "huge", "price": 1, "qty": 9223372036854775808}', ["/qty"]],
      ["NaN as a string", { name: "nan", price: "NaN" }, ["/price"]],
      ["-Infinity as a string", { name: "inf", price: "-Infinity" }, ["/price"]],
      ["a number as a string with spaces", { name: "sp", price: " 12 " }, ["/price"]],
      ["one over maxLength", { name: "x".repeat(31), price: 1 }, ["/name"]],
      ["31 emoji in a VARCHAR(30) (lengths count characters)", { name: "🎉".repeat(31), price: 1 }, ["/name"]],
      ["an object as a value", { name: { $gt: "" }, price: 1 }, ["/name"]],
      ["an array as a value", { name: ["a", "b"], price: 1 }, ["/name"]],
      ["a boolean for a number", { name: "b", price: true }, ["/price"]],
      // SQLite stores it, but two of the runtimes' drivers read text up to the first NUL only.
      ["a NUL character in text", { name: "nul\u0000here", price: 1, notes: "a\u0000b" }, ["/name", "/notes"]],
    ];
    for (const [what, body, paths] of invalid) {
      const { a, j } = await ctx.api("POST", rows, body);
      jsonError(a, j, 422, what);
      const got = (j.errors ?? []).map((e: Json) => e.path);
      for (const p of paths) {
        check(got.includes(p.replace(/~/g, "~0").replace(/\//g, "~1")) || got.includes(p),
          `${what}: no error at ${p}: ${clip(a.text)}`);
      }
    }
    eq(itemsCount(ctx), before, "nothing written by any refused body");
    // Accepted, and stored exactly as sent.
    const verbatim = [
      "Robert'); DROP TABLE items;--",
      "1 OR 1=1; --",
      "\" UNION SELECT * FROM sqlite_schema --",
      "%s%n%x {{.}} ${x} <%= x %>",
      "the text \\u0000, which is no NUL",
      "🎉".repeat(30),
      "שלום \u202e evil \u202c",
      "line\nbreak\r\ttab",
    ];
    for (const value of verbatim) {
      const name = [...value].slice(0, 30).join(""); // VARCHAR(30) counts characters
      const { a, j } = await ctx.api("POST", rows, { name, price: 1, notes: value });
      status(a, 201, `verbatim ${JSON.stringify(value)}`);
      eq([j.row.name, j.row.notes], [name, value], "the answer holds the values as sent");
      // hex: the bytes themselves, not what a driver makes of them.
      const hexOf = (c: string) => ctx.pg ? `upper(encode(convert_to(${c}, 'UTF8'), 'hex'))` : `hex(${c})`;
      const stored = query(ctx.db, `SELECT ${hexOf("name")} AS name, ${hexOf("notes")} AS notes FROM items WHERE id = ?`, j.pk.id)[0];
      const hex = (s: string) => Buffer.from(s, "utf8").toString("hex").toUpperCase();
      eq([stored.name, stored.notes], [hex(name), hex(value)], `stored verbatim: ${JSON.stringify(value)}`);
      const back = await ctx.api("GET", `${rows}/${j.pk.id}`);
      eq([back.j.row.name, back.j.row.notes], [name, value], "read back verbatim");
      status((await ctx.api("DELETE", `${rows}/${j.pk.id}`)).a, 204, "clean up");
    }
    const big = await ctx.api("POST", rows, { name: "Big", price: 1, qty: 1000, notes: null });
    status(big.a, 201, "the largest qty the CHECK allows");
    const exact = '{"name": "exact", "price": 0.1000000000000000055511151231257827}';
    const e = await ctx.api("POST", rows, exact);
    status(e.a, 201, "a long decimal");
    eq(e.j.row.price, 0.1, "stored as the nearest double");
    for (const id of [big.j.pk.id, e.j.pk.id]) status((await ctx.api("DELETE", `${rows}/${id}`)).a, 204, "clean up");
    eq(itemsCount(ctx), before, "back where it started");
  });

  test("hostile forms: invalid UTF-8 is 400, unknown fields 422 by name, nothing written", async () => {
    const before = itemsCount(ctx);
    const bad = await ctx.req("POST", "/t/items/new", {
      headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded" },
      body: `_dsid=${enc(ctx.dsid)}&name=%FF%FE&price=1`,
    });
    html(bad, 400, "percent-escaped bytes that are not UTF-8");
    const boundary = "xXx";
    const multipart = Buffer.concat([
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="name"\r\n\r\n`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`\r\n--${boundary}\r\ncontent-disposition: form-data; name="price"\r\n\r\n1\r\n--${boundary}--\r\n`),
    ]);
    const mp = await ctx.req("POST", "/t/items/new", {
      headers: { accept: "text/html", "content-type": `multipart/form-data; boundary=${boundary}` }, body: multipart,
    });
    html(mp, 400, "multipart with bytes that are not UTF-8");
    const unknown = await ctx.postForm("/t/items/new", [["_dsid", ctx.dsid], ["name", "Typed <b>here</b>"], ["price", "2"],
      ["colour", "red"], ["<script>x</script>", "y"]]);
    html(unknown, 422, "a form with fields that are no column");
    check(unknown.text.includes("colour is not a column of items"), `the page names the unknown field: ${clip(unknown.text, 2000)}`);
    check(unknown.text.includes("&lt;script&gt;x&lt;/script&gt; is not a column"), "and the hostile one, escaped");
    check(unknown.text.includes('value="Typed &lt;b&gt;here&lt;/b&gt;"'), "what was typed is kept in the form");
    eq(itemsCount(ctx), before, "nothing written");
  });

  test("an import (CSV, NDJSON): all or nothing, bad rows by line and field, the export reads back", async () => {
    const before = itemsCount(ctx);
    const post = (ct: string, body: string, query = "") =>
      ctx.req("POST", `/api/tables/items/rows${query}`, { headers: { "content-type": ct, accept: "application/json" }, body });
    const csv = "\uFEFFname,kind,price,qty,notes\r\n" +
      `"Imp, one",toy,1.25,3,"two\nlines"\r\n` +
      `Imp two,,0,,"=HYPERLINK(""http://e/"")"\r\n` +
      `Imp three,book,7,1,'=1+1\r\n`;
    const ok = await post("text/csv", csv);
    status(ok, 201, "the CSV import");
    eq(JSON.parse(ok.text).inserted, 3, "rows inserted");
    const got = query(ctx.db, "SELECT name, kind, price, qty, notes FROM items WHERE name LIKE 'Imp%' ORDER BY name");
    eq(got.map((r) => [r.name, r.kind, Number(r.price), Number(r.qty), r.notes]), [
      ["Imp three", "book", 7, 1, "=1+1"],
      ["Imp two", "tool", 0, 0, '=HYPERLINK("http://e/")'],
      ["Imp, one", "toy", 1.25, 3, "two\nlines"],
    ], "the imported rows: defaults filled, quotes, line breaks and formulas kept as text");
    const bad = await post("text/csv", "name,price,qty\nImp four,1,1\nImp five,-1,1\nImp six,1,x\n");
    status(bad, 422, "a CSV with bad rows");
    const errs = JSON.parse(bad.text).errors as { line: number; field: string }[];
    eq(errs.map((e) => [e.line, e.field]), [[3, "price"], [4, "qty"]], "the bad rows, by line and field");
    eq(itemsCount(ctx), before + 3, "rows after a refused import (none of it written)");
    const nd = await post("application/x-ndjson", `{"name": "Imp seven", "price": 2}\n{"name": "Imp eight", "price": 3, "kind": "food"}\n`);
    status(nd, 201, "the NDJSON import");
    const arr = await post("application/x-ndjson", `{"name": "Imp nine", "price": 4}`);
    status(arr, 201, "an NDJSON import of one line without a line break");
    status(await post("application/json", `[{"name": "Imp ten", "price": 4}]`), 400, "a JSON array as a create (CONTRACT: one object)");
    const ids = query(ctx.db, "SELECT id FROM items WHERE name LIKE 'Imp%'").map((r) => Number(r.id));
    eq(ids.length, 6, "imported rows");
    const skip = await post("application/x-ndjson", `{"id": ${ids[0]}, "name": "Imp again", "price": 1}\n`, "?conflict=skip");
    status(skip, 201, "an import that skips existing keys");
    eq(JSON.parse(skip.text).skipped, 1, "skipped");
    const hostile = await ctx.req("POST", `/api/tables/${enc(HOSTILE)}/rows`, {
      headers: { "content-type": "text/csv", accept: "application/json" },
      // An explicit key, as a file may give: on Postgres the import moves the identity past it, as a create does.
      body: `id,"${HOSTILE_COL.replaceAll('"', '""')}"\n90001,"${HOSTILE}"\n`,
    });
    status(hostile, 201, "an import into the hostile table, by its hostile column");
    const hostileRows = query(ctx.db, `SELECT id FROM "${HOSTILE}" WHERE "${HOSTILE_COL}" = '${HOSTILE}'`);
    eq(hostileRows.length, 1, "the hostile row imported");
    for (const r of hostileRows) await ctx.api("DELETE", `/api/tables/${enc(HOSTILE)}/rows/${r.id}`);
    for (const id of ids) await ctx.api("DELETE", `/api/tables/items/rows/${id}`);
    eq(itemsCount(ctx), before, "rows after cleaning up");
  });

  test("hostile CSVs: a NUL byte, invalid UTF-8, 10,000 columns, a bare quote, a short row: each refused by line, nothing written", async () => {
    const before = itemsCount(ctx);
    const post = (body: string | Buffer) =>
      ctx.req("POST", "/api/tables/items/rows", { headers: { "content-type": "text/csv", accept: "application/json" }, body });
    const cases: [string, string | Buffer, number, RegExp][] = [
      ["a NUL byte", "name,price\nnul\u0000here,1\n", 2, /NUL/],
      ["invalid UTF-8", Buffer.concat([Buffer.from("name,price\nok,1\nbad"), Buffer.from([0xff, 0xfe]), Buffer.from(",2\n")]), 3, /UTF-8/],
      ["10,000 columns", Array.from({ length: 10_000 }, (_, i) => `c${i}`).join(",") + "\n" + "1,".repeat(9_999) + "1\n", 1, /columns/],
      ["a bare quote", 'name,price\nok,1\nbad "quote,2\n', 3, /quote/],
      ["a short row", "name,price,qty\nok,1,1\nshort,2\n", 3, /cells/],
    ];
    for (const [what, body, line, message] of cases) {
      const a = await post(body);
      status(a, 422, what);
      const errs = JSON.parse(a.text).errors as { line: number; message: string }[];
      check(errs.some((e) => e.line === line && message.test(e.message)), `${what}: ${clip(a.text)}`);
    }
    eq(itemsCount(ctx), before, "rows after the hostile CSVs");
  });

  test("a large import in parts: 12 MB over the 10 MiB body cap, each part checked, one commit writes every row", async () => {
    const before = itemsCount(ctx);
    // Not recorded for --compare: the import's id, in its answers and paths, is random.
    const json = { "content-type": "application/json", accept: "application/json" };
    const start = await ctx.req("POST", "/api/tables/items/imports", { headers: json, body: JSON.stringify({ format: "csv", conflict: "fail" }) }, false);
    status(start, 201, "start a large import");
    const sj = JSON.parse(start.text) as { id: string };
    // About 12 MB either way; Postgres writes a row slower: fewer, wider rows.
    const note = "n".repeat(ctx.pg ? 2_400 : 460);
    const rows = ctx.pg ? 5_000 : 25_000, perPart = ctx.pg ? 400 : 2_000;
    let line = 2;
    for (let from = 0; from < rows; from += perPart) {
      let body = "name,price,notes\n";
      for (let i = from; i < Math.min(rows, from + perPart); i++) body += `"Staged ${i}, ""q""",${i % 100}.5,${note}\n`;
      const part = await ctx.req("POST", `/api/tables/items/imports/${sj.id}?line=${line}`, { headers: { "content-type": "text/csv", accept: "application/json" }, body }, false);
      status(part, 200, `part from row ${from}`);
      line += perPart;
    }
    eq(itemsCount(ctx), before, "rows before the commit");
    const bad = await ctx.req("POST", `/api/tables/items/imports/${sj.id}?line=${line}`, { headers: { "content-type": "text/csv", accept: "application/json" }, body: "name,price\nfine,1\nnot fine,-1\n" }, false);
    status(bad, 422, "a bad part");
    eq((JSON.parse(bad.text).errors as { line: number }[]).map((e) => e.line), [line + 1], "its row by the file's line");
    const done = await ctx.req("POST", `/api/tables/items/imports/${sj.id}/commit`, { headers: json }, false);
    status(done, 201, "the commit");
    const dj = JSON.parse(done.text) as { inserted: number };
    eq(dj.inserted, rows, "rows inserted");
    eq(itemsCount(ctx), before + rows, "rows after the commit");
    eq(query(ctx.db, `SELECT name FROM items WHERE name = 'Staged ${rows - 1}, "q"'`).length, 1, "the last row, quotes and all");
    (ctx.pg ? (sql: string) => pgExec(ctx.db, sql) : (sql: string) => void query(ctx.db, sql))("DELETE FROM items WHERE name LIKE 'Staged %'");
    eq(itemsCount(ctx), before, "rows after cleaning up");
  });

  test("a batch: creates, updates and deletes in one transaction, all or none", async () => {
    const before = itemsCount(ctx);
    const { a: made, j: mj } = await ctx.api("POST", "/api/batch", { operations: [
      { op: "create", table: "items", values: { name: "Batch one", price: 1 } },
      { op: "create", table: "items", values: { name: "Batch two", price: 2 } },
    ] });
    status(made, 200, "a batch of creates");
    const [one, two] = (mj.results as { status: number; row: { id: number }; version: string }[]);
    eq([one.status, two.status], [201, 201], "each create's status");
    const { a: bad, j: bj } = await ctx.api("POST", "/api/batch", { operations: [
      { op: "update", table: "items", key: one.row.id, values: { price: 5 }, version: one.version },
      { op: "delete", table: "items", key: String(two.row.id), version: "not-the-version" },
    ] });
    status(bad, 409, "a batch whose second write is stale");
    eq(bj.index, 1, "the index of the failed operation");
    eq(Number(query(ctx.db, `SELECT price FROM items WHERE id = ${one.row.id}`)[0].price), 1, "the first write of a failed batch, undone");
    const { a: done } = await ctx.api("POST", "/api/batch", { operations: [
      { op: "update", table: "items", key: one.row.id, values: { price: 5 }, version: one.version },
      { op: "delete", table: "items", key: one.row.id },
      { op: "delete", table: "items", key: two.row.id, version: two.version },
    ] });
    status(done, 200, "update then delete, in one batch");
    eq(itemsCount(ctx), before, "rows after the batches");
  });

  test("CSV export: every row, quoted, header of column names", async () => {
    const a = await ctx.req("GET", "/api/tables/items/rows.csv");
    status(a, 200, "GET rows.csv");
    check((a.headers["content-type"] ?? "").startsWith("text/csv"), `content-type ${a.headers["content-type"]}`);
    const recs = parseCSV(a.text);
    eq(recs[0], ["id", "name", "kind", "price", "qty", "in_stock", "added", "notes"], "header");
    const db = query(ctx.db, "SELECT * FROM items ORDER BY id");
    eq(recs.length - 1, db.length, "records");
    for (let i = 0; i < db.length; i++) {
      eq(Number(recs[i + 1][0]), Number(db[i].id), `record ${i + 1} id`);
      eq(recs[i + 1][1], db[i].name, `record ${i + 1} name`);
      eq(Number(recs[i + 1][3]), Number(db[i].price), `record ${i + 1} price`);
    }
    const h = await ctx.req("GET", `/api/tables/${enc(HOSTILE)}/rows.csv`);
    status(h, 200, "hostile rows.csv");
    const hr = parseCSV(h.text);
    eq(hr[0], ["id", HOSTILE_COL, "select", "order", 'say "cheese"', "o'clock", "a/b", "til~de", "homepage"], "hostile header");
    eq(hr[1][1], '<script>alert("row")</script>', "hostile value round-trips");
    const pairs = parseCSV((await ctx.req("GET", "/api/tables/pairs/rows.csv")).text);
    check(pairs.some((r) => r[0] === "comma,inside"), "a comma inside a value is quoted");
  });

  test("HTML list page: rows link to row pages; sort, filter, search", async () => {
    const ids = (sql: string) => query(ctx.db, sql).map((r) => String(r.id));
    const links = async (path: string) => {
      const a = await ctx.page(path);
      html(a, 200, `GET ${path}`);
      return rowLinks(a.text, "/t/items/r/");
    };
    // every check runs, so one broken feature does not hide the others
    const problems: string[] = [];
    const soft = async (fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (e) {
        problems.push(e instanceof Error ? e.message.split("\n")[0] : String(e));
      }
    };
    await soft(async () => eq(await links("/t/items?limit=100"), ids("SELECT id FROM items ORDER BY id"), "row links in key order"));
    await soft(async () => eq(await links("/t/items?sort=price&desc=1&limit=100"), ids("SELECT id FROM items ORDER BY price DESC"),
      "sort=price&desc=1"));
    await soft(async () => eq(await links("/t/items?sort=name&limit=100"), ids("SELECT id FROM items ORDER BY name"), "sort=name"));
    await soft(async () => eq(await links("/t/items?f.kind=toy&limit=100"), ids("SELECT id FROM items WHERE kind = 'toy' ORDER BY id"),
      "f.kind=toy"));
    await soft(async () => eq(await links("/t/items?f.kind=toy&f.in_stock=0&limit=100"),
      ids("SELECT id FROM items WHERE kind = 'toy' AND NOT in_stock ORDER BY id"), "two filters"));
    await soft(async () => eq(await links("/t/items?q=walrus"), ["18"], "q=walrus"));
    await soft(async () => eq(await links("/t/items?q=" + enc("<script>nothing</script>")), [], "a search that finds nothing"));
    check(problems.length === 0, problems.join("\n"));
  });

  test("HTML list page: the next link pages forward", async () => {
    const first = await ctx.page("/t/items?limit=5");
    eq(rowLinks(first.text, "/t/items/r/"), ["1", "2", "3", "4", "5"], "first page");
    const next = hrefs(first.text).find((h) => h.startsWith("/t/items?") && h.includes("after="));
    check(next, `no next link with after= on ${clip(hrefs(first.text).join(" "))}`);
    const second = await ctx.page(next);
    html(second, 200, `GET ${next}`);
    eq(rowLinks(second.text, "/t/items/r/"), ["6", "7", "8", "9", "10"], "second page");
    const sorted = await ctx.page("/t/items?sort=price&desc=1&limit=5");
    const sortedNext = hrefs(sorted.text).find((h) => h.startsWith("/t/items?") && h.includes("after="));
    check(sortedNext, "no next link on a sorted page");
    const page2 = await ctx.page(sortedNext);
    const want = query(ctx.db, "SELECT id FROM items ORDER BY price DESC LIMIT 5 OFFSET 5").map((r) => String(r.id));
    eq(rowLinks(page2.text, "/t/items/r/"), want, "second page keeps the sort");
  });

  test("HTML list page: hx-request gets only the list fragment", async () => {
    const full = await ctx.page("/t/items?limit=5");
    const frag = await ctx.page("/t/items?limit=5", { "hx-request": "true" });
    html(frag, 200, "fragment");
    check(!/<html|<!doctype|<head/i.test(frag.text), `the fragment is a full page: ${clip(frag.text)}`);
    check(frag.text.length < full.text.length, "the fragment is smaller than the page");
    eq(rowLinks(frag.text, "/t/items/r/"), ["1", "2", "3", "4", "5"], "fragment rows");
  });

  test("HTML row page: edit form with _dsid, _version, a field per column, and delete", async () => {
    const a = await ctx.page("/t/items/r/3");
    html(a, 200, "GET /t/items/r/3");
    const f = theForm(a, "/t/items/r/3", "row page");
    const names = fieldNames(f);
    for (const n of ["_dsid", "_version", "name", "kind", "price", "qty", "in_stock", "added", "notes"]) {
      check(names.has(n), `row page form has no field ${n}; fields: ${[...names].join(", ")}`);
    }
    eq(controlValue(a.text, f, "_dsid"), ctx.dsid, "_dsid value");
    const api = await ctx.api("GET", `${rows}/3`);
    eq(controlValue(a.text, f, "_version"), api.j.version, "_version is the API's version");
    eq(controlValue(a.text, f, "name"), "Atlas", "name value");
    eq(controlValue(a.text, f, "kind"), "book", "kind value (selected option)");
    check(hrefs(a.text).includes("/t/items/r/3/delete") ||
      tags(a.text).some((t) => t.attrs.get("hx-post") === "/t/items/r/3/delete" || t.attrs.get("formaction") === "/t/items/r/3/delete"),
      "no delete link or button");
  });

  test("HTML new form: _dsid and a field per writable column", async () => {
    const a = await ctx.page("/t/items/new");
    html(a, 200, "GET /t/items/new");
    const f = theForm(a, "/t/items/new", "new form");
    const names = fieldNames(f);
    for (const n of ["_dsid", "name", "kind", "price", "qty", "in_stock", "added", "notes"]) {
      check(names.has(n), `new form has no field ${n}; fields: ${[...names].join(", ")}`);
    }
    eq(controlValue(a.text, f, "_dsid"), ctx.dsid, "_dsid");
    check(!names.has("_version"), "a create form has no _version");
    for (const name of ["pairs", "codes", ...(ctx.pg ? [] : ["loose"]), HOSTILE]) {
      const p = await ctx.page(`/t/${enc(name)}/new`);
      html(p, 200, `new form of ${name}`);
      theForm(p, `/t/${enc(name)}/new`, `new form of ${name}`);
    }
  });

  test("HTML invalid POST: 422, inline errors, typed input kept", async () => {
    const before = itemsCount(ctx);
    const a = await ctx.postForm("/t/items/new", [["_dsid", ctx.dsid], ["name", "Kept <typed> text"], ["kind", "toy"],
      ["price", "abc"], ["qty", "7"], ["in_stock", "0"], ["in_stock", "1"], ["added", ""], ["notes", "line one\nline two"]]);
    html(a, 422, "invalid create");
    const f = theForm(a, "/t/items/new", "re-rendered form");
    eq(controlValue(a.text, f, "name"), "Kept <typed> text", "name as typed");
    eq(controlValue(a.text, f, "price"), "abc", "price as typed");
    eq(controlValue(a.text, f, "qty"), "7", "qty as typed");
    eq(controlValue(a.text, f, "kind"), "toy", "kind as chosen");
    eq(controlValue(a.text, f, "notes")?.replace(/\r\n/g, "\n"), "line one\nline two", "notes as typed");
    const price = f.controls.find((c) => c.attrs.get("name") === "price")!;
    check(price.attrs.get("aria-invalid") === "true", "the price field is not marked aria-invalid");
    // the error is next to the field: after the price control, before the next field
    const after = a.text.slice(price.start);
    const nextField = f.controls.find((c) => c.start > price.start && c.attrs.get("name") && c.attrs.get("name") !== "price");
    const between = nextField ? a.text.slice(price.start, nextField.start) : after;
    check(/error|invalid|must|expected|number/i.test(between.replace(/aria-invalid="true"/, "")),
      `no error text between the price field and the next field: ${clip(between)}`);
    eq(itemsCount(ctx), before, "nothing written");
    const missing = await ctx.postForm("/t/items/new", [["_dsid", ctx.dsid], ["name", ""], ["price", "5"], ["kind", "weapon"]]);
    html(missing, 422, "missing name, bad enum");
  });

  test("HTML valid POST: 303 to the row page, urlencoded and multipart", async () => {
    const a = await ctx.postForm("/t/items/new", [["_dsid", ctx.dsid], ["name", "Form made"], ["kind", "food"],
      ["price", "3.25"], ["qty", "2"], ["in_stock", "0"], ["added", "2024-08-09"], ["notes", ""]]);
    status(a, 303, "create by form");
    const loc = location(a);
    const m = /^\/t\/items\/r\/(\d+)$/.exec(loc);
    check(m, `Location ${a.headers["location"]}`);
    const row = query(ctx.db, "SELECT * FROM items WHERE id = ?", Number(m[1]))[0];
    check(row, "row written");
    eq([row.name, row.kind, row.price, row.qty, row.in_stock, row.added], ["Form made", "food", 3.25, 2, 0, "2024-08-09"], "row as stored");
    const shown = await ctx.page(loc);
    html(shown, 200, `GET ${loc}`);
    eq(controlValue(shown.text, theForm(shown, loc, "row page"), "name"), "Form made", "shown");
    const boundary = "----nakedhtmxtest0123456789";
    const part = (k: string, v: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
    const mp = await ctx.req("POST", "/t/items/new", {
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, accept: "text/html" },
      body: part("_dsid", ctx.dsid) + part("name", "Multipart made") + part("price", "4") + part("kind", "toy") + `--${boundary}--\r\n`,
    });
    status(mp, 303, "create by multipart form");
    const mid = /^\/t\/items\/r\/(\d+)$/.exec(location(mp));
    check(mid, `Location ${mp.headers["location"]}`);
    eq(query(ctx.db, "SELECT name FROM items WHERE id = ?", Number(mid[1]))[0]?.name, "Multipart made", "multipart row");
  });

  test("HTML update: 303 back, stale _version 409, invalid 422", async () => {
    const id = Number(query(ctx.db, "SELECT id FROM items WHERE name = 'Form made'")[0].id);
    const path = `/t/items/r/${id}`;
    const page = await ctx.page(path);
    const f = theForm(page, path, "row page");
    const version = controlValue(page.text, f, "_version")!;
    const fields = (name: string, ver: string): [string, string][] => [["_dsid", ctx.dsid], ["_version", ver], ["name", name],
      ["kind", "food"], ["price", "3.5"], ["qty", "9"], ["in_stock", "0"], ["in_stock", "1"], ["added", "2024-08-10"], ["notes", "edited"]];
    const a = await ctx.postForm(path, fields("Form edited", version));
    status(a, 303, "update by form");
    eq(location(a), path, "Location");
    const row = query(ctx.db, "SELECT * FROM items WHERE id = ?", id)[0];
    eq([row.name, row.qty, row.in_stock, row.notes], ["Form edited", 9, 1, "edited"], "row as stored");
    const stale = await ctx.postForm(path, fields("Stale edit", version));
    html(stale, 409, "update with a stale _version");
    eq(query(ctx.db, "SELECT name FROM items WHERE id = ?", id)[0].name, "Form edited", "a stale write changes nothing");
    const fresh = await ctx.page(path);
    const v2 = controlValue(fresh.text, theForm(fresh, path, "row page"), "_version")!;
    const bad = await ctx.postForm(path, [["_dsid", ctx.dsid], ["_version", v2], ["name", "Bad qty"], ["qty", "-4"]]);
    html(bad, 422, "invalid update");
    eq(controlValue(bad.text, theForm(bad, path, "re-rendered"), "qty"), "-4", "qty as typed");
  });

  test("HTML delete: confirmation page, POST deletes, 303 to the list", async () => {
    const id = Number(query(ctx.db, "SELECT id FROM items WHERE name = 'Form edited'")[0].id);
    const path = `/t/items/r/${id}/delete`;
    const c = await ctx.page(path);
    html(c, 200, `GET ${path}`);
    const f = theForm(c, path, "confirmation page");
    eq(controlValue(c.text, f, "_dsid"), ctx.dsid, "_dsid");
    eq(query(ctx.db, "SELECT count(*) AS n FROM items WHERE id = ?", id)[0].n, 1, "GET deletes nothing");
    const a = await ctx.postForm(path, [["_dsid", ctx.dsid]]);
    status(a, 303, "delete by form");
    eq(location(a), "/t/items", "Location");
    eq(query(ctx.db, "SELECT count(*) AS n FROM items WHERE id = ?", id)[0].n, 0, "row deleted");
    html(await ctx.page(`/t/items/r/${id}`), 404, "row page after delete");
    const mid = Number(query(ctx.db, "SELECT id FROM items WHERE name = 'Multipart made'")[0].id);
    status(await ctx.postForm(`/t/items/r/${mid}/delete`, [["_dsid", ctx.dsid]]), 303, "clean up");
  });

  test("HTML paths: composite, text and rowid keys", async () => {
    const list = await ctx.page("/t/pairs?limit=100");
    html(list, 200, "GET /t/pairs");
    const want = query(ctx.db, "SELECT a, b FROM pairs ORDER BY a, b").map((r) => pkPath(String(r.a), Number(r.b)));
    eq(rowLinks(list.text, "/t/pairs/r/").sort(), [...want].sort(), "pairs row links use the composite key encoding");
    for (const k of want) {
      const p = await ctx.page(`/t/pairs/r/${k}`);
      html(p, 200, `GET /t/pairs/r/${k}`);
      theForm(p, `/t/pairs/r/${k}`, "composite row form");
    }
    for (const code of ["a/b", "50%", "x y"]) html(await ctx.page(`/t/codes/r/${enc(code)}`), 200, `codes ${code}`);
    if (!ctx.pg) { // rowids are SQLite's
      html(await ctx.page("/t/loose/r/40"), 200, "loose/40");
      const looseLinks = rowLinks((await ctx.page("/t/loose")).text, "/t/loose/r/");
      eq(looseLinks, ["1", "2", "40"], "rowid links");
    }
    const view = await ctx.page("/t/cheap_items?limit=100");
    html(view, 200, "a view's list page");
  });

  test("hostile names and values: every table's pages load and escape them", async () => {
    for (const name of USER_TABLES) {
      const t = `/t/${enc(name)}`;
      html(await ctx.page(t), 200, `GET ${t} (${JSON.stringify(name)})`);
      const { a, j } = await ctx.api("GET", `/api/tables/${enc(name)}/rows`);
      status(a, 200, `rows of ${JSON.stringify(name)}`);
      check(Array.isArray(j.rows), "rows");
    }
    for (const id of [1, 2]) html(await ctx.page(`/t/${enc(HOSTILE)}/r/${id}`), 200, `hostile row ${id}`);
    html(await ctx.page(`/t/${enc(HOSTILE)}/r/1/delete`), 200, "hostile delete confirmation");
    html(await ctx.page(`/t/${enc(HOSTILE)}?sort=${enc(HOSTILE_COL)}&desc=1`), 200, "sorted by a hostile column");
    html(await ctx.page(`/t/${enc(HOSTILE)}?q=${enc("<script>")}`), 200, "searched for markup");
    const bad = await ctx.page(`/t/${enc(HOSTILE)}?sort=${enc("<script>alert(9)</script>")}`);
    check(bad.status === 200 || bad.status === 400, `unknown sort column: ${bad.status}`);
    html(await ctx.page(`/t/select/r/${enc("<here>")}`), 200, "text key with markup");
    html(await ctx.page(`/t/select/r/${enc("a,b")}`), 200, "text key with a comma (single-column key)");
    html(await ctx.page(`/t/${enc("עברית")}/r/1`), 200, "right-to-left names");
    const api = await ctx.api("POST", `/api/tables/${enc(HOSTILE)}/rows`, {
      id: 3, [HOSTILE_COL]: "<script>alert(7)</script>", 'say "cheese"': '"><svg onload=alert(8)>', "a/b": "slash", "til~de": "~",
      order: "<b>x</b>", homepage: "javascript:alert(9)",
    });
    status(api.a, 201, "hostile create by API");
    eq(api.j.row[HOSTILE_COL], "<script>alert(7)</script>", "hostile value stored as is");
    const form = await ctx.postForm(`/t/${enc(HOSTILE)}/new`, [["_dsid", ctx.dsid], ["id", "4"],
      [HOSTILE_COL, "</textarea><script>alert(10)</script>"], ["select", "not a number"], ["order", "it's"]]);
    html(form, 422, "hostile form with a type error");
    const ok = await ctx.postForm(`/t/${enc(HOSTILE)}/new`, [["_dsid", ctx.dsid], ["id", "4"],
      [HOSTILE_COL, "</textarea><script>alert(10)</script>"], ["select", "4"], ["order", "it's"]]);
    status(ok, 303, "hostile create by form");
    // On Postgres the identity numbers both rows (the key is the database's,
    // not asked for), past every key the table has held, imported ones too.
    const formId = ctx.pg ? location(ok).split("/r/")[1] : "4";
    eq(location(ok), `/t/${enc(HOSTILE)}/r/${formId}`, "Location");
    html(await ctx.page(`/t/${enc(HOSTILE)}/r/${formId}`), 200, "the form-made hostile row");
    html(await ctx.page(`/t/${enc(HOSTILE)}/r/${String(api.j.row.id)}`), 200, "the API-made hostile row");
    html(await ctx.page(`/t/${enc(HOSTILE)}?limit=100`), 200, "hostile list");
    const idx = await ctx.page("/");
    html(idx, 200, "index");
    html(await ctx.page(`/t/${enc(HOSTILE)}?f.${enc("order")}=${enc("<b>x</b>")}`), 200, "filtered by a hostile value");
  });

  // Explore (issue 17): every facet and total is checked against the rows
  // the same list gives, so the oracle is the store's own answer.
  const allRows = async (path: string, query: string): Promise<Json[]> => {
    const { a, j } = await ctx.api("GET", `${path}?limit=1000${query ? "&" + query : ""}`);
    status(a, 200, `all rows of ${path}?${query}`);
    check(j.next === null, "one page holds them all");
    return j.rows;
  };
  const tally = (rows: Json[], f: (r: Json) => unknown): Map<string, number> => {
    const m = new Map<string, number>();
    for (const r of rows) {
      const k = JSON.stringify(f(r) ?? null);
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return m;
  };
  const facetMap = (facet: Json): Map<string, number> =>
    new Map((facet.values as Json[]).map((v) => [JSON.stringify(v.value), v.count]));
  const sameTally = (got: Map<string, number>, want: Map<string, number>, what: string) =>
    eq([...got].sort(), [...want].sort(), what);

  test("facets count every row the filters and search match, hostile column names too", async () => {
    const hostile = `/api/tables/${enc(HOSTILE)}/rows`;
    const { a, j } = await ctx.api("GET", `${hostile}?limit=1&facet=${enc(HOSTILE_COL)}&facet=order&facet=select`);
    status(a, 200, "facets of the hostile table");
    const rows = await allRows(hostile, "");
    sameTally(facetMap(j.facets[HOSTILE_COL]), tally(rows, (r) => r[HOSTILE_COL]), "the hostile column's facet");
    sameTally(facetMap(j.facets.order), tally(rows, (r) => r.order), "the order facet");
    sameTally(facetMap(j.facets.select), tally(rows, (r) => r.select), "a facet with NULL");
    eq(j.rows.length, 1, "the page keeps its limit");
    for (const q of ["f.kind=tool", "q=a", "f.in_stock=true&q=e", "null=added"]) {
      const { j: fj } = await ctx.api("GET", `/api/tables/items/rows?limit=2&${q}&facet=kind&facet=in_stock&facet=${enc("added:year")}`);
      const rs = await allRows("/api/tables/items/rows", q);
      sameTally(facetMap(fj.facets.kind), tally(rs, (r) => r.kind), `kind under ${q}`);
      sameTally(facetMap(fj.facets.in_stock), tally(rs, (r) => r.in_stock), `in_stock under ${q}`);
      sameTally(facetMap(fj.facets["added:year"]), tally(rs, (r) => r.added === null ? null : String(r.added).slice(0, 4)), `added by year under ${q}`);
      const counts = (fj.facets.kind.values as Json[]).map((v) => v.count);
      eq(counts, [...counts].sort((x, y) => y - x), `largest first under ${q}`);
    }
    // A value's filter finds exactly the rows it counted.
    const { j: years } = await ctx.api("GET", `/api/tables/items/rows?limit=1&facet=${enc("added:year")}`);
    const year = (years.facets["added:year"].values as Json[]).find((v) => v.value !== null);
    if (year) {
      const rs = await allRows("/api/tables/items/rows", `f.${enc("added:year")}=${year.value}`);
      eq(rs.length, year.count, `rows of ${year.value}`);
    }
    html(await ctx.page(`/t/${enc(HOSTILE)}?facet=${enc(HOSTILE_COL)}&facet=order&aggregates=1`), 200, "a faceted hostile list");
  });

  test("totals: count, sum, average, least and greatest equal the rows'; a write is counted at once", async () => {
    const q = "f.kind=tool";
    const total = async () => (await ctx.api("GET", `/api/tables/items/rows?limit=1&${q}&aggregates=1&facet=kind`)).j;
    const before = await total();
    const rs = await allRows("/api/tables/items/rows", q);
    eq(before.aggregates.count, rs.length, "count");
    const prices = rs.map((r: Json) => Number(r.price));
    const near = (x: number, y: number) => Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y));
    const p = before.aggregates.columns.price;
    check(near(p.sum, prices.reduce((s: number, x: number) => s + x, 0)), `sum ${p.sum}`);
    check(near(p.avg, p.sum / prices.length), `avg ${p.avg}`);
    eq([p.min, p.max], [Math.min(...prices), Math.max(...prices)], "least and greatest");
    check(!("id" in before.aggregates.columns), "a key is not summed");
    const made = await ctx.api("POST", "/api/tables/items/rows", { name: "facet probe", kind: "tool", price: 1000, qty: 1 });
    status(made.a, 201, "a new tool");
    const after = await total();
    eq(after.aggregates.count, before.aggregates.count + 1, "the count after a write");
    eq(after.aggregates.columns.price.max, 1000, "the greatest after a write");
    eq(after.facets.kind.values[0].count, before.facets.kind.values[0].count + 1, "the facet after a write");
    status((await ctx.api("DELETE", `/api/tables/items/rows/${made.j.pk.id}`)).a, 204, "the probe deleted");
    eq((await total()).aggregates.count, before.aggregates.count, "the count after the delete");
  });

  test("facets and totals refuse what they cannot do: 400 and 413, never a silent drop", async () => {
    for (const [query, want] of [["facet=nope", 400], [`facet=${enc("price:year")}`, 400], ["facet=added:week", 400],
      ["aggregates=maybe", 400], [Array.from({ length: 11 }, (_, i) => `facet=c${i}`).join("&"), 413]] as const) {
      const { a, j } = await ctx.api("GET", `/api/tables/items/rows?${query}`);
      jsonError(a, j, want, query);
    }
  });

  // The SQL page (issue 17): one read, checked by the store's own compiler
  // before it runs and run read-only; everything else a 400 that changes
  // nothing.
  const ident = (n: string) => '"' + n.replaceAll('"', '""') + '"';
  const sqlAPI = (text: string) => ctx.api("GET", "/api/sql?sql=" + enc(text));
  test("/api/sql reads a table with hostile names as its list does", async () => {
    const list = await allRows(`/api/tables/${enc(HOSTILE)}/rows`, "");
    const { a, j } = await sqlAPI(`SELECT * FROM ${ident(HOSTILE)} ORDER BY id`);
    status(a, 200, "the read");
    eq(j.rows.length, list.length, "rows");
    check(j.columns.includes(HOSTILE_COL), `the hostile column among ${j.columns}`);
    eq(j.truncated, false, "truncated");
    const p = await ctx.api("POST", "/api/sql", { sql: `SELECT count(*) AS n FROM ${ident(HOSTILE)} WHERE id > :min`, params: { min: 0 } });
    status(p.a, 200, "a POST with a parameter");
    eq(Number(p.j.rows[0][0]), list.length, "the count");
  });

  test("every statement that would write, attach, or reach outside the database is refused with 400 and changes nothing", async () => {
    const before = await allRows(rows, "");
    const { j: schemaBefore } = await ctx.api("GET", "/api/schema");
    const refused = [
      "DELETE FROM items", "UPDATE items SET name = 'x'", "INSERT INTO items (name, price) VALUES ('x', 1)",
      "REPLACE INTO items (id, name, price) VALUES (1, 'x', 1)", "DROP TABLE items", "CREATE TABLE z (a)",
      "ALTER TABLE items ADD COLUMN z TEXT", "ATTACH DATABASE 'attached.db' AS other", "DETACH DATABASE other",
      "PRAGMA writable_schema = 1", "PRAGMA journal_mode = DELETE", "VACUUM", "REINDEX", "ANALYZE", "BEGIN",
      "SELECT load_extension('x')", "SELECT writefile('written.txt', 'x')", "SELECT readfile('/etc/passwd')",
      "SELECT 1; DELETE FROM items", "WITH x AS (SELECT 1) DELETE FROM items",
      "WITH x AS (SELECT 1) INSERT INTO items (name, price) SELECT 'w', 1 FROM x",
      "SELECT * FROM _nakedhtmx_changes", "SELECT ?", "/* */ DELETE FROM items -- ",
    ];
    for (const text of refused) {
      const { a, j } = await sqlAPI(text);
      status(a, 400, text);
      check(typeof j.error === "string" && j.error !== "", `${text}: a message`);
    }
    eq(await allRows(rows, ""), before, "the rows after every refused statement");
    const { j: schemaAfter } = await ctx.api("GET", "/api/schema");
    eq(schemaAfter.dsid, schemaBefore.dsid, "the schema after every refused statement");
  });

  test("a runaway read is stopped at the time limit with a 400, and the server goes on", async () => {
    const { a, j } = await sqlAPI("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c");
    status(a, 400, "the runaway read");
    check(/time limit/.test(j.error), `the message: ${j.error}`);
    const after = await sqlAPI("SELECT count(*) FROM items");
    status(after.a, 200, "a read after it");
  });

  test("the SQL page shows a result with CSV and JSON links, and a refusal next to the editor", async () => {
    const ok = await ctx.page("/sql?sql=" + enc("SELECT name, price FROM items ORDER BY id"));
    html(ok, 200, "the SQL page");
    check(/<table class="grid result">/.test(ok.text), "the result table");
    check(ok.text.includes('href="/api/sql.csv?sql='), "the CSV link");
    const csv = await ctx.api("GET", "/api/sql.csv?sql=" + enc("SELECT name, price FROM items ORDER BY id"));
    status(csv.a, 200, "the CSV");
    const bad = await ctx.page("/sql?sql=" + enc("DELETE FROM items"));
    html(bad, 200, "the SQL page with a refused statement");
    check(/id="sql-error"[^>]*>only a read may run here/.test(bad.text), "the refusal next to the editor");
  });

  return T;
}

/** Checks over every page and JSON body the run has seen; run after mainTests. */
export function globalTests(ctx: Ctx): Test[] {
  const T: Test[] = [];
  const test = (name: string, fn: () => Promise<void>) => T.push({ name, fn: async () => { ctx.testName = name; await fn(); } });

  test("no page shows markup from data or names (escaping), scripts only from /assets/", async () => {
    const problems: string[] = [];
    for (const p of ctx.pages) for (const e of escapingProblems(p.text)) problems.push(`${p.path} (${p.status}): ${e}`);
    check(ctx.pages.length > 50, `only ${ctx.pages.length} pages seen`);
    check(problems.length === 0, `${problems.length} problems:\n${problems.slice(0, 15).join("\n")}`);
  });

  test("every writing form carries _dsid (hidden, current)", async () => {
    const problems: string[] = [];
    let n = 0;
    for (const p of ctx.pages) {
      n += forms(p.text).filter((f) => f.method === "post").length;
      for (const e of dsidProblems(p.text, ctx.dsid)) problems.push(`${p.path}: ${e}`);
    }
    check(n > 20, `only ${n} POST forms seen`);
    check(problems.length === 0, `${problems.length} problems:\n${problems.slice(0, 15).join("\n")}`);
  });

  test("every JSON body has dsid, the schema document x-dsid", async () => {
    const problems: string[] = [];
    for (const s of ctx.jsons) {
      let j: Json;
      try {
        j = JSON.parse(s.text);
      } catch {
        problems.push(`${s.path}: not JSON: ${clip(s.text, 80)}`);
        continue;
      }
      const isDoc = /^GET \/api\/schema\/./.test(s.path) && s.status === 200;
      const key = isDoc ? "x-dsid" : "dsid";
      if (typeof j !== "object" || j === null || typeof j[key] !== "string" || j[key] === "") {
        problems.push(`${s.path} (${s.status}): no "${key}" in ${clip(s.text, 120)}`);
      } else if (j[key] !== ctx.dsid) {
        problems.push(`${s.path}: ${key} ${j[key]}, want ${ctx.dsid}`);
      }
    }
    check(ctx.jsons.length > 100, `only ${ctx.jsons.length} JSON bodies seen`);
    check(problems.length === 0, `${problems.length} problems:\n${problems.slice(0, 15).join("\n")}`);
  });

  test("no _nakedhtmx_ name in any page or API answer", async () => {
    const leaks = [...ctx.pages, ...ctx.jsons].filter((s) => s.text.includes("_nakedhtmx_") &&
      !/\/(_nakedhtmx_dsid)/.test(s.path));
    check(leaks.length === 0, `named in: ${leaks.slice(0, 5).map((s) => s.path).join(", ")}`);
  });

  test("the DSID does not change while the schema does not", async () => {
    const { j } = await ctx.api("GET", "/api/schema");
    eq(j.dsid, ctx.dsid, "dsid after every write of the run");
  });

  return T;
}

/** The command line: flags, exit codes, the schema subcommand, auth, shutdown. */
export function cliTests(ctx: Ctx): Test[] {
  const T: Test[] = [];
  const test = (name: string, fn: () => Promise<void>) => T.push({ name, fn: async () => { ctx.testName = name; await fn(); } });
  // A server of its own on a fresh copy of the fixture (NAME.db), with these
  // flags and a config when given (NAME.json); stopped afterwards.
  const onFixture = async (
    name: string,
    opts: { config?: unknown; args?: string[]; setup?: string },
    fn: (srv: Server, db: string) => Promise<void>,
  ) => {
    const db = join(ctx.tmp, `${name}.db`);
    buildFixture(db);
    if (opts.setup !== undefined) {
      const conn = openDB(db);
      try {
        conn.exec(opts.setup);
      } finally {
        conn.close();
      }
    }
    const args = ["--db", db, "--port", "0", ...(opts.args ?? [])];
    if (opts.config !== undefined) {
      const config = join(ctx.tmp, `${name}.json`);
      writeFileSync(config, typeof opts.config === "string" ? opts.config : JSON.stringify(opts.config));
      args.push("--config", config);
    }
    const srv = await startServer(ctx.hc, args);
    try {
      await fn(srv, db);
    } finally {
      await srv.stop();
    }
  };

  test("SIGTERM closes the server: exit 0, database intact", async () => {
    const code = await ctx.server.stop("SIGTERM");
    eq(code, 0, `exit code (stderr: ${clip(ctx.server.stderr(), 500)})`);
    const r = query(ctx.db, "PRAGMA integrity_check");
    eq(r[0].integrity_check, "ok", "integrity_check");
  });

  test("a bad flag: one line on stderr naming it, exit 2", async () => {
    const r = await runToExit(ctx.hc, ["--no-such-flag", "--db", join(ctx.tmp, "unused.db")]);
    eq(r.code, 2, `exit code (stderr: ${clip(r.stderr)})`);
    const lines = r.stderr.trim().split("\n").filter((l) => l.trim() !== "");
    check(lines.length === 1, `want one line on stderr, got ${lines.length}: ${clip(r.stderr)}`);
    check(/no-such-flag/.test(lines[0]), `the error does not name the flag: ${lines[0]}`);
    check(!existsSync(join(ctx.tmp, "unused.db")), "a bad flag created the database");
    const port = await runToExit(ctx.hc, ["--port", "not-a-port", "--db", join(ctx.tmp, "unused.db")]);
    eq(port.code, 2, `--port not-a-port exit code (stderr: ${clip(port.stderr)})`);
    const short = await runToExit(ctx.hc, ["--auth-token", "fifteen-chars-x", "--db", join(ctx.tmp, "unused.db")]);
    eq(short.code, 2, `a 15-character token: exit code (stderr: ${clip(short.stderr)})`);
    check(/16/.test(short.stderr) && short.stderr.trim().split("\n").length === 1, `a short token: one line saying the minimum: ${clip(short.stderr)}`);
    check(!existsSync(join(ctx.tmp, "unused.db")), "a short token created the database");
  });

  test("an unreadable database: one line on stderr, exit 2, nothing written", async () => {
    const file = join(ctx.tmp, "garbage.db");
    const junk = "this is not a SQLite database, just some text that is long enough to matter\n".repeat(200);
    writeFileSync(file, junk);
    const r = await runToExit(ctx.hc, ["--db", file, "--port", "0"]);
    eq(r.code, 2, `exit code (stdout: ${clip(r.stdout)}, stderr: ${clip(r.stderr)})`);
    const lines = r.stderr.trim().split("\n").filter((l) => l.trim() !== "");
    check(lines.length === 1, `want one line on stderr, got ${lines.length}: ${clip(r.stderr)}`);
    eq(readFileSync(file, "utf8") === junk, true, "the file is unchanged");
    check(!existsSync(file + "-wal") || readFileSync(file + "-wal").length === 0, "a WAL file was written");
    const dir = join(ctx.tmp, "a-directory");
    mkdirSync(dir, { recursive: true });
    const d = await runToExit(ctx.hc, ["--db", dir, "--port", "0"]);
    eq(d.code, 2, `a directory as --db: exit code (stderr: ${clip(d.stderr)})`);
    // A real database whose first page (the schema's b-tree) is damaged.
    const broken = join(ctx.tmp, "corrupt.db");
    buildFixture(broken);
    const bytes = readFileSync(broken);
    for (let i = 100; i < 4096; i++) bytes[i] = (i * 7919) & 0xff;
    writeFileSync(broken, bytes);
    const c = await runToExit(ctx.hc, ["--db", broken, "--port", "0"]);
    eq(c.code, 2, `a corrupt database: exit code (stdout: ${clip(c.stdout)}, stderr: ${clip(c.stderr)})`);
    const cl = c.stderr.trim().split("\n").filter((l) => l.trim() !== "");
    check(cl.length === 1 && /malformed|corrupt|not a database/i.test(cl[0]), `a corrupt database: want one line naming the damage: ${clip(c.stderr)}`);
    check(readFileSync(broken).equals(bytes), "the corrupt file is unchanged");
    // A file in a directory that does not exist: nothing can create it there.
    const nowhere = join(ctx.tmp, "no-such-directory", "app.db");
    const m = await runToExit(ctx.hc, ["--db", nowhere, "--port", "0"]);
    eq(m.code, 2, `a database in a missing directory: exit code (stderr: ${clip(m.stderr)})`);
    const ml = m.stderr.trim().split("\n").filter((l) => l.trim() !== "");
    check(ml.length === 1 && ml[0].includes(nowhere), `a missing directory: want one line naming the file: ${clip(m.stderr)}`);
    check(!existsSync(join(ctx.tmp, "no-such-directory")), "the directory was created");
  });

  test("listening beyond loopback without --auth-token is refused with exit 2", async () => {
    const r = await runToExit(ctx.hc, ["--db", join(ctx.tmp, "open.db"), "--host", "0.0.0.0", "--port", "0"], 20000);
    eq(r.code, 2, `exit code (stdout: ${clip(r.stdout)}, stderr: ${clip(r.stderr)})`);
    check(r.stderr.trim() !== "", "no message on stderr");
  });

  test("schema subcommand writes TABLE.schema.json and TABLE.ui.json, exit 0", async () => {
    const db = join(ctx.tmp, "schema-cmd.db");
    const d = openDB(db);
    d.exec(SCHEMA.split("CREATE TABLE parents")[0]); // just items
    d.close();
    const out = join(ctx.tmp, "schema-out");
    const r = await runToExit(ctx.hc, ["schema", "--db", db, "--out", out]);
    eq(r.code, 0, `exit code (stderr: ${clip(r.stderr)})`);
    const files = readdirSync(out).sort();
    eq(files, ["items.schema.json", "items.ui.json"], "files written");
    const s = JSON.parse(readFileSync(join(out, "items.schema.json"), "utf8"));
    eq(s.title, "items", "title");
    eq(Object.keys(s.properties), ["id", "name", "kind", "price", "qty", "in_stock", "added", "notes"], "properties");
    const ui = JSON.parse(readFileSync(join(out, "items.ui.json"), "utf8"));
    eq(ui.type, "VerticalLayout", "ui type");
  });

  test("--allowed-host: those names are answered, other hosts 421; a bad one exits 2", async () => {
    await onFixture("hosts", { args: ["--allowed-host", "lan.example", "--allowed-host", "proxy.example:8443"] }, async (srv) => {
      const port = srv.url.port;
      const want: [string, number][] = [
        ["lan.example", 200], [`lan.example:${port}`, 200], ["LAN.example:1", 200], ["proxy.example:8443", 200],
        [`proxy.example:${port}`, 421], ["proxy.example", 421], ["lan.example.evil.example", 421], ["evil.example", 421],
        [`127.0.0.1:${port}`, 200],
      ];
      for (const [host, code] of want) {
        const a = await request(srv.url, "GET", "/api/tables/items/rows", { headers: { host, accept: "application/json" } });
        eq(a.status, code, `Host ${host}`);
      }
      // A form posted through the allowed name: same-origin for that name.
      const w = await request(srv.url, "POST", "/api/tables/items/rows", {
        headers: { host: "lan.example", origin: "http://lan.example", "content-type": "application/json" },
        body: JSON.stringify({ name: "via the LAN", price: 1 }),
      });
      status(w, 201, "a write through an allowed name");
    });
    for (const bad of ["http://lan.example/", "lan example", "lan.example:http", ""]) {
      const unused = join(ctx.tmp, "hosts-unused.db");
      const r = await runToExit(ctx.hc, ["--db", unused, "--port", "0", "--allowed-host", bad]);
      eq(r.code, 2, `--allowed-host ${JSON.stringify(bad)}: exit code (stderr: ${clip(r.stderr)})`);
      check(/allowed-host/.test(r.stderr), `the error names --allowed-host: ${clip(r.stderr)}`);
      check(!existsSync(unused), "a bad --allowed-host created the database");
    }
  });

  test("sign-out ends the session, sessions expire, and the token is in no cookie", async () => {
    const token = "a-session-token-of-32-characters";
    await onFixture("session", { config: { sessionHours: 0.001 } /* 3.6 s */, args: ["--auth-token", token] }, async (srv) => {
      const base = srv.url;
      const origin = base.origin;
      const signin = async (): Promise<{ jar: string; at: number }> => {
        const at = Date.now();
        const a = await request(base, "POST", "/signin", {
          headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html", origin },
          body: formBody([["token", token]]),
        });
        status(a, 303, "sign-in");
        const c = a.headers["set-cookie"] ?? "";
        check(/httponly/i.test(c) && /samesite=strict/i.test(c) && /max-age=3/i.test(c), `sign-in cookie: ${c}`);
        check(!c.includes(token), "the token is in the cookie");
        return { jar: c.split(";")[0], at };
      };
      const one = await signin();
      const two = await signin();
      check(one.jar !== two.jar, "two sign-ins gave the same cookie: it is a function of the token");
      const page = (jar: string) => request(base, "GET", "/t/items", { headers: { accept: "text/html", cookie: jar } });
      const signedIn = await page(one.jar);
      status(signedIn, 200, "a page with the session");
      const out = forms(signedIn.text).find((f) => f.method === "post" && f.action.endsWith("/signout"));
      check(out, "the page has no sign-out form");
      const cross = await request(base, "POST", "/signout", { headers: { cookie: one.jar, origin: "https://evil.example", accept: "text/html" } });
      status(cross, 403, "sign-out from another site");
      status(await page(one.jar), 200, "still signed in after a cross-site sign-out");
      const so = await request(base, "POST", out.action, { headers: { cookie: one.jar, origin, accept: "text/html" } });
      status(so, 303, "sign-out");
      check(/max-age=0/i.test(so.headers["set-cookie"] ?? ""), `sign-out clears the cookie: ${so.headers["set-cookie"]}`);
      status(await page(one.jar), 401, "the signed-out session, replayed");
      status(await page(two.jar), 200, "the other session");
      const api = await request(base, "GET", "/api/tables/items/rows", { headers: { cookie: two.jar } });
      status(api, 200, "the API with the session cookie");
      await new Promise((r) => setTimeout(r, Math.max(0, two.at + 4000 - Date.now())));
      status(await page(two.jar), 401, "a session past its lifetime");
      status(await request(base, "GET", "/api/tables/items/rows", { headers: { authorization: `Bearer ${token}` } }), 200, "the bearer token still works");
    });
  });

  test("the user's file is the user's: first start says what it adds, uninstall takes all of it away, --keep-journal-mode keeps the mode", async () => {
    const db = join(ctx.tmp, "owned.db");
    buildFixture(db);
    const look = () => {
      const d = openDB(db, true);
      try {
        const schema = d.prepare(`SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name`).all();
        const rows: Record<string, unknown> = {};
        for (const t of d.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]) {
          const cols = (d.prepare(`SELECT name FROM pragma_table_info(?)`).all(t.name) as { name: string }[]).map((c) => `quote("${c.name.replaceAll('"', '""')}")`);
          if (cols.length) rows[t.name] = d.prepare(`SELECT ${cols.join(" || '|' || ")} AS v FROM "${t.name.replaceAll('"', '""')}" ORDER BY 1`).all();
        }
        const mode = (d.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode;
        return { schema, rows, mode };
      } finally {
        d.close();
      }
    };
    const before = look();
    eq(before.mode, "delete", "the fixture's journal mode");
    const srv = await startServer(ctx.hc, ["--db", db, "--port", "0"]);
    try {
      status(await request(srv.url, "GET", "/t/items", { headers: { accept: "text/html" } }), 200, "a page");
    } finally {
      await srv.stop();
    }
    check(/first start on this database/.test(srv.stderr()) && /_nakedhtmx_changes/.test(srv.stderr()) && /uninstall/.test(srv.stderr()),
      `the first start does not say what it added: ${clip(srv.stderr(), 400)}`);
    const during = look();
    eq(during.mode, "wal", "journal mode after serving");
    check(during.schema.some((o) => String((o as { name: string }).name).startsWith("_nakedhtmx_trg_")), "no change-capture triggers were made");
    check(!during.schema.some((o) => (o as { name: string }).name === "sqlite_sequence"), "serving added sqlite_sequence");
    const again = await startServer(ctx.hc, ["--db", db, "--port", "0"]);
    await again.stop();
    check(!/first start/.test(again.stderr()), "a second start says it is the first");
    const u = await runToExit(ctx.hc, ["uninstall", "--db", db]);
    eq(u.code, 0, `uninstall exit code (stderr: ${clip(u.stderr)})`);
    check(/removed \d+ objects/.test(u.stdout) && /journal mode set back to DELETE/.test(u.stdout), `uninstall says what it did: ${clip(u.stdout)}`);
    const after = look();
    eq(after.schema, before.schema, "sqlite_schema after uninstall");
    eq(after.rows, before.rows, "every row after uninstall");
    eq(after.mode, "delete", "journal mode after uninstall");
    const missing = await runToExit(ctx.hc, ["uninstall", "--db", join(ctx.tmp, "no-such.db")]);
    eq(missing.code, 2, `uninstall of a missing file (stderr: ${clip(missing.stderr)})`);
    check(!existsSync(join(ctx.tmp, "no-such.db")), "uninstall created a database");
    const kept = await startServer(ctx.hc, ["--db", db, "--port", "0", "--keep-journal-mode"]);
    try {
      status(await request(kept.url, "GET", "/t/items", { headers: { accept: "text/html" } }), 200, "a page with --keep-journal-mode");
      eq(look().mode, "delete", "journal mode with --keep-journal-mode");
      const w = await request(kept.url, "POST", "/api/tables/items/rows", {
        headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify({ name: "rollback journal", price: 1 }),
      });
      status(w, 201, "a write in rollback-journal mode");
    } finally {
      await kept.stop();
    }
  });

  test("a query saved from the SQL page is written into the config file in place, and serves at once", async () => {
    const token = "a-save-query-token-of-32-chars-x";
    const file = `{\n    "title": "Saved",\n    "sql": {"enabled": true},\n    "tables": {"parents": {"hidden": true}}\n}\n`;
    await onFixture("savequery", { config: file, args: ["--auth-token", token] }, async (srv, db) => {
      const path = join(ctx.tmp, "savequery.json");
      const origin = srv.url.origin;
      const bearer = { authorization: `Bearer ${token}`, origin };
      const sql = "SELECT name, price FROM items WHERE price > :min ORDER BY id";
      const fields: [string, string][] = [["sql", sql], ["min", "1"], ["save-name", "pricey"], ["save-title", "Pricey <items>"]];
      const post = (headers: Record<string, string>) =>
        request(srv.url, "POST", "/sql/save", { headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html", ...headers }, body: formBody(fields) });
      const page = await request(srv.url, "GET", "/sql", { headers: { accept: "text/html", ...bearer } });
      status(page, 200, "the SQL page");
      check(page.text.includes(`name="save-name"`), "the SQL page offers no save to the token's holder");
      check([401, 403].includes((await post({ origin })).status), "a save without the token");
      check([401, 403].includes((await post({ authorization: `Bearer ${token}`, origin: "https://evil.example" })).status), "a save from another site");
      eq(readFileSync(path, "utf8"), file, "the config after refused saves");
      const saved = await post(bearer);
      status(saved, 303, "the save");
      eq(saved.headers["location"], "/q/pricey", "the save's redirect");
      eq(
        readFileSync(path, "utf8"),
        file.replace("}}\n}\n", `}},\n    "queries": {\n        "pricey": {\n            "title": "Pricey <items>",\n            "sql": ${JSON.stringify(sql)},\n            "params": {\n                "min": "1"\n            }\n        }\n    }\n}\n`),
        "the config file: the query added, every other byte as it was",
      );
      // Served at once: the server applied what it wrote before it answered.
      const q = await request(srv.url, "GET", "/q/pricey", { headers: { accept: "text/html", ...bearer } });
      status(q, 200, "the saved query's page");
      check(q.text.includes("Pricey &lt;items&gt;"), "the saved query's title");
      const api = await request(srv.url, "GET", "/api/queries/pricey?min=2", { headers: bearer });
      status(api, 200, "the saved query's API");
      const want = query(db, "SELECT name, price FROM items WHERE price > 2 ORDER BY id").map((r) => [r.name, r.price]);
      check(want.length > 0, "the fixture has no item over 2");
      eq(JSON.stringify((JSON.parse(api.text) as { rows: unknown[] }).rows), JSON.stringify(want), "the saved query's rows");
      // What it may not read is refused, and nothing is written.
      const before = readFileSync(path, "utf8");
      const hidden = await request(srv.url, "PUT", "/api/queries/peek", { headers: { ...bearer, "content-type": "application/json" }, body: JSON.stringify({ sql: "SELECT * FROM parents" }) });
      status(hidden, 422, "a query of a hidden table");
      check(/no such table: parents/.test(hidden.text), `the refusal: ${clip(hidden.text)}`);
      const put = await request(srv.url, "PUT", "/api/queries/all", { headers: { ...bearer, "content-type": "application/json" }, body: JSON.stringify({ sql: "SELECT count(*) AS n FROM items", public: true }) });
      status(put, 201, "a query saved through the API");
      status(await request(srv.url, "GET", "/api/queries/all", {}), 200, "the public query it saved, without the token");
      status(await request(srv.url, "DELETE", "/api/queries/all", { headers: { origin } }), 401, "a delete without the token");
      status(await request(srv.url, "DELETE", "/api/queries/all", { headers: bearer }), 200, "the delete");
      eq(readFileSync(path, "utf8"), before, "the config after a refused save, a save and its delete");
      status(await request(srv.url, "GET", "/api/queries/all", { headers: bearer }), 404, "the deleted query");
    });
  });

  test("BLOBs: downloaded with a sniffed type (a page never as HTML), uploaded from a form byte for byte, an empty file input changes nothing", async () => {
    const setup = "CREATE TABLE pics (id INTEGER PRIMARY KEY, title TEXT, img BLOB); INSERT INTO pics VALUES (1, 'one', x'89504e470d0a1a0a00ff');";
    await onFixture("blobs", { setup }, async (srv, db) => {
      const hex = () => String(query(db, "SELECT hex(img) AS h FROM pics WHERE id = 1")[0].h);
      const png = await request(srv.url, "GET", "/api/tables/pics/rows/1/img");
      status(png, 200, "the bytes");
      eq(png.headers["content-type"], "image/png", "a PNG's type");
      check((png.headers["content-disposition"] ?? "").startsWith("inline"), `a picture inline: ${png.headers["content-disposition"]}`);
      eq(png.body.toString("hex"), "89504e470d0a1a0a00ff", "the bytes as stored");
      await blobJSON(srv.url, hex, "89504E470D0A1A0A00FF");
      const dsid = (await request(srv.url, "GET", "/api/schema")).text.match(/"dsid":"([^"]+)"/)?.[1] ?? "";
      const B = "----nhBlobTest";
      const form = (parts: [string, string | null, Buffer | string][]) => Buffer.concat([
        ...parts.map(([name, filename, data]) => Buffer.concat([
          Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${name}"${filename === null ? "" : `; filename="${filename}"`}\r\n\r\n`),
          Buffer.isBuffer(data) ? data : Buffer.from(data),
          Buffer.from("\r\n"),
        ])),
        Buffer.from(`--${B}--\r\n`),
      ]);
      const post = (parts: [string, string | null, Buffer | string][]) => request(srv.url, "POST", "/t/pics/r/1", {
        headers: { "content-type": `multipart/form-data; boundary=${B}`, accept: "text/html", origin: srv.url.origin },
        body: form(parts),
      });
      const untouched = await post([["_dsid", null, dsid], ["title", null, "one"], ["img", "", ""]]);
      check(untouched.status < 400, `an untouched save: ${untouched.status}`);
      eq(hex(), "89504E470D0A1A0A00FF", "the bytes after an untouched save");
      const bytes = Buffer.from([0, 255, 13, 10, 45, 45, 0x80, 1]);
      const up = await post([["_dsid", null, dsid], ["img", "x.bin", bytes]]);
      check(up.status < 400, `an upload: ${up.status}`);
      eq(hex(), bytes.toString("hex").toUpperCase(), "the uploaded bytes, byte for byte");
      await post([["_dsid", null, dsid], ["img", "evil.html", "<html><script>alert(1)</script></html>"]]);
      const page = await request(srv.url, "GET", "/api/tables/pics/rows/1/img");
      eq(page.headers["content-type"], "text/plain; charset=utf-8", "an uploaded page's type");
      check((page.headers["content-disposition"] ?? "").startsWith("attachment"), `an uploaded page is an attachment: ${page.headers["content-disposition"]}`);
      check((page.headers["content-security-policy"] ?? "").includes("sandbox") && page.headers["x-content-type-options"] === "nosniff", "an uploaded page runs nothing");
    });
  });

  test("a session outlives a restart and is known to a second server on the file; signing out on one ends it on both", async () => {
    const token = "a-restart-token-of-32-characters";
    await onFixture("restart", { args: ["--auth-token", token] }, async (srv, db) => {
      const a = await request(srv.url, "POST", "/signin", {
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html", origin: srv.url.origin },
        body: formBody([["token", token]]),
      });
      status(a, 303, "sign-in");
      const jar = (a.headers["set-cookie"] ?? "").split(";")[0];
      const second = await startServer(ctx.hc, ["--db", db, "--port", "0", "--auth-token", token]);
      try {
        const page = (url: URL) => request(url, "GET", "/t/items", { headers: { accept: "text/html", cookie: jar } });
        status(await page(second.url), 200, "the session on a second server");
        status(await request(second.url, "POST", "/signout", { headers: { cookie: jar, origin: second.url.origin, accept: "text/html" } }), 303, "sign-out on the second");
        status(await page(srv.url), 401, "the session on the first, after signing out on the second");
      } finally {
        await second.stop();
      }
    });
  });

  test("behind a trusted proxy: wrong tokens count against the client X-Forwarded-For names, the cookie is Secure over HTTPS; anyone else's headers are ignored", async () => {
    const token = "a-proxy-token-of-32-characters-x";
    await onFixture("proxy", { config: { trustedProxies: ["127.0.0.1", "::1"] }, args: ["--auth-token", token] }, async (srv) => {
      const api = (xff: string, tok: string) => request(srv.url, "GET", "/api/tables/items/rows", { headers: { authorization: `Bearer ${tok}`, "x-forwarded-for": xff } });
      for (let i = 0; i < 6; i++) await api("6.6.6.6, 203.0.113.9", `wrong-token-guess-number-${i}-xxxxxxx`);
      // The guesser first: its wait (1 s after the sixth miss) is short.
      status(await api("1.1.1.1, 203.0.113.9", token), 429, "the guesser, whatever it writes first");
      status(await api("198.51.100.7", token), 200, "another client behind the proxy");
      const signin = async (proto: string) => {
        const a = await request(srv.url, "POST", "/signin", {
          headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html", origin: srv.url.origin, "x-forwarded-proto": proto, "x-forwarded-for": "198.51.100.8" },
          body: formBody([["token", token]]),
        });
        status(a, 303, `sign-in (${proto})`);
        return a.headers["set-cookie"] ?? "";
      };
      check(/;\s*secure/i.test(await signin("https")), "the cookie over HTTPS through the proxy is Secure");
      check(!/secure/i.test(await signin("http")), "the cookie over HTTP is not");
    });
  });

  test("people: users added with the CLI while serving, sign-in, row rules on lists, reads, writes, facets, CSV, history and 1,000 event streams, a rule broken by an outside ALTER", async () => {
    await onFixture("people", { setup: peopleSchema(false), config: PEOPLE_CONFIG }, async (srv, db) => {
      await peopleWalk(ctx.hc, srv.url, db, {
        query: (sql, ...params) => query(db, sql, ...params),
        exec: (sql) => {
          const conn = openDB(db);
          try {
            conn.exec(sql);
          } finally {
            conn.close();
          }
        },
        users: "_nakedhtmx_users",
        sessions: "_nakedhtmx_sessions",
        changes: "_nakedhtmx_changes",
      });
    });
  });

  test("file columns: bytes kept in DB-files, the row holds a key; GET then PATCH and an untouched form change nothing; replaced and deleted files go; a failed write leaves none", async () => {
    const setup = "CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT NOT NULL, doc TEXT);";
    await onFixture("files", { setup, config: { tables: { docs: { columns: { doc: { file: true } } } } } }, async (srv, db) => {
      await fileColumnsWalk(srv.url, `${db}-files`, () => query(db, "SELECT doc FROM docs WHERE doc IS NOT NULL ORDER BY doc").map((r) => String(r.doc)));
    });
  });

  test("schema edits: a table made, columns added, renamed and retyped (a rebuild), an index; rows, triggers and foreign keys kept; the loss asked for", async () => {
    await onFixture("structure", {}, async (srv, db) => {
      await schemaEditWalk(srv.url, { query: (sql) => query(db, sql), exec: (sql) => void query(db, sql), pg: false });
    });
  });

  test("migrations cannot reach outside the database, into nakedhtmx's own tables, or into hidden ones", async () => {
    const token = "a-migration-token-of-32-chars-xx";
    const outside = join(ctx.tmp, "outside.db");
    await onFixture("migrate", { config: { tables: { parents: { hidden: true } } }, args: ["--auth-token", token] }, async (srv, db) => {
      const migrate = (sql: string) => migration(srv, token, sql);
      const schemaBefore = query(db, "SELECT group_concat(name || ':' || coalesce(sql, ''), '|') AS s FROM (SELECT * FROM sqlite_schema ORDER BY name)")[0].s;
      const logBefore = query(db, "SELECT count(*) AS n FROM _nakedhtmx_changes")[0].n;
      for (const sql of [
        `ATTACH DATABASE '${outside}' AS x`,
        `attach '${outside}' as "y"`,
        `VACUUM INTO '${outside}'`,
        "PRAGMA writable_schema = 1",
        "PRAGMA journal_mode = DELETE",
        "SELECT load_extension('/tmp/evil')",
        "DELETE FROM _nakedhtmx_changes",
        `DROP TABLE "_nakedhtmx_dsid"`,
        "CREATE VIEW peek AS SELECT * FROM parents",
        "CREATE VIEW peek2 AS SELECT * FROM [parents]",
        "UPDATE sqlite_schema SET sql = sql",
      ]) {
        const a = await migrate(sql);
        status(a, 403, `migration ${sql}`);
      }
      check(!existsSync(outside), "a migration made a file outside the database");
      eq(query(db, "SELECT group_concat(name || ':' || coalesce(sql, ''), '|') AS s FROM (SELECT * FROM sqlite_schema ORDER BY name)")[0].s, schemaBefore, "the schema after refused migrations");
      eq(query(db, "SELECT count(*) AS n FROM _nakedhtmx_changes")[0].n, logBefore, "the change log after refused migrations");
      status(await migrate("ALTER TABLE items ADD COLUMN colour TEXT"), 200, "an ordinary migration");
      check(query(db, "SELECT count(*) AS n FROM pragma_table_info('items') WHERE name = 'colour'")[0].n === 1, "the column was added");
    });
  });

  test("a migration runs under the store's authorizer and the time limit: 503, and the server carries on", async () => {
    const token = "a-guarded-migration-token-32-chr";
    const config = {
      limits: { statementMs: 1500 },
      tables: { items: { columns: { notes: { hidden: true }, price: { readOnly: true } } }, codes: { readOnly: true } },
    };
    await onFixture("guarded", { config, args: ["--auth-token", token] }, async (srv, db) => {
      const auth = { accept: "application/json", authorization: `Bearer ${token}` };
      const migrate = (sql: string) => migration(srv, token, sql);
      const schema = () => query(db, "SELECT group_concat(name || ':' || coalesce(sql, ''), '|') AS s FROM (SELECT * FROM sqlite_schema ORDER BY name)")[0].s;
      const before = schema();
      // What only SQLite's own view of the statement can tell: the words pass
      // the text guard (no hidden table is named), the authorizer refuses.
      // Node 22's node:sqlite has no authorizer (README, "Security").
      if (ctx.host !== "node22") {
        for (const sql of [
          "CREATE TABLE leak AS SELECT notes FROM items",
          "CREATE TABLE leak2 AS SELECT * FROM items",
          "CREATE VIEW leak3 AS SELECT id, notes FROM items",
          "CREATE VIEW leak4 AS SELECT * FROM items",
          "CREATE TABLE sink (a, b, c, d, e, f, g, h); CREATE TRIGGER leak5 AFTER INSERT ON loose BEGIN INSERT INTO sink SELECT * FROM items; END",
          "ALTER TABLE items RENAME COLUMN notes TO open_notes",
          "ALTER TABLE items RENAME TO things",
          "UPDATE items SET price = 0",
          "DELETE FROM codes",
          "CREATE TABLE ok_first (x); INSERT INTO codes VALUES ('new', 'row')",
          "CREATE TEMP TABLE t (x)",
          "COMMIT",
        ]) {
          const a = await migrate(sql);
          status(a, 403, `migration ${sql}`);
          check(/notes/.test(sql) || !/notes/.test(a.text), `the refusal of ${sql} names the hidden column: ${a.text}`);
        }
        eq(schema(), before, "the schema after refused migrations");
        eq(query(db, "SELECT count(*) AS n FROM items WHERE price = 0")[0].n, 0, "read-only prices kept");
      }
      // A statement that never ends is stopped at the limit: 503, nothing of
      // it written, and every other request answered as before.
      const t0 = Date.now();
      const forever = await migrate("CREATE TABLE forever AS WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT count(*) AS n FROM c");
      status(forever, 503, "a never-ending migration");
      check(/ms/.test(forever.text) && /stopped/.test(forever.text), `the 503 says what happened: ${forever.text}`);
      check(Date.now() - t0 < 30_000, "the migration was stopped, not waited out");
      eq(query(db, "SELECT count(*) AS n FROM sqlite_schema WHERE name = 'forever'")[0].n, 0, "the stopped migration wrote nothing");
      status(await request(srv.url, "GET", "/api/tables/items/rows", { headers: auth }), 200, "a read after the stopped migration");
      const w = await request(srv.url, "POST", "/api/tables/loose/rows", {
        headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ name: "after", qty: 1 }),
      });
      status(w, 201, "a write after the stopped migration (no lock left behind)");
      status(await migrate("ALTER TABLE loose ADD COLUMN colour TEXT"), 200, "an ordinary migration after it");
      eq(query(db, "SELECT count(*) AS n FROM pragma_table_info('loose') WHERE name = 'colour'")[0].n, 1, "the column was added");
    });
  });

  test("a view that never ends is stopped at the time limit on every path: 503, and the server carries on", async () => {
    // The TS hosts cannot stop a statement where it runs: a view's reads go to
    // a process of their own (bindings/ts/src/lane.ts), killed at the limit.
    const setup = `CREATE VIEW forever AS WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT i AS n FROM c WHERE i < 0;
      CREATE VIEW cheap AS SELECT id, upper(name) AS up FROM items;`;
    await onFixture("forever", { config: { limits: { statementMs: 1500 } }, setup }, async (srv) => {
      const html = { accept: "text/html" };
      const before = await request(srv.url, "GET", "/t/cheap", { headers: html });
      status(before, 200, "a cheap view");
      const home = await request(srv.url, "GET", "/", { headers: html });
      status(home, 200, "the index page lists the views without counting them");
      check(home.text.includes("/t/forever"), "the index lists the never-ending view");
      for (const path of ["/t/forever", "/t/forever?q=x", "/api/tables/forever/rows", "/api/tables/forever/rows.csv"]) {
        const t0 = Date.now();
        const a = await request(srv.url, "GET", path, { headers: path.startsWith("/t/") ? html : { accept: "application/json" } });
        status(a, 503, `${path}: a never-ending view`);
        check(/ms/.test(a.text) && /stopped/.test(a.text), `${path}: the 503 says what happened: ${clip(a.text)}`);
        check(Date.now() - t0 < 30_000, `${path}: stopped, not waited out`);
        // Every other request is answered as before: pages, a write, the cheap view.
        status(await request(srv.url, "GET", "/t/items", { headers: html }), 200, `after ${path}: a table's page`);
        const w = await request(srv.url, "POST", "/api/tables/loose/rows", {
          headers: { accept: "application/json", "content-type": "application/json" }, body: JSON.stringify({ name: "after", qty: 1 }),
        });
        status(w, 201, `after ${path}: a write`);
        const again = await request(srv.url, "GET", "/t/cheap", { headers: html });
        status(again, 200, `after ${path}: the cheap view`);
      }
    });
  });

  test("a trigger that never ends is stopped at the time limit, its write undone: 503, and the server carries on", async () => {
    // The TS hosts cannot stop a statement where it runs: a write to a table
    // whose triggers (its own, or a cascade's) the core cannot bound runs
    // whole on their read lane's connection, a process killed at the limit.
    const forever = "INSERT INTO side SELECT count(*) FROM nums a, nums b, nums c, nums d";
    const setup = `CREATE TABLE nums (n INTEGER PRIMARY KEY);
      INSERT INTO nums WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000) SELECT i FROM c;
      CREATE TABLE side (n INTEGER);
      CREATE TABLE slow (id INTEGER PRIMARY KEY, note TEXT);
      CREATE TRIGGER slow_forever AFTER INSERT ON slow BEGIN ${forever}; END;
      CREATE TABLE kin (id INTEGER PRIMARY KEY, name TEXT);
      CREATE TABLE kid (id INTEGER PRIMARY KEY, kin_id INTEGER REFERENCES kin (id) ON DELETE CASCADE);
      CREATE TRIGGER kid_forever AFTER DELETE ON kid BEGIN ${forever}; END;
      INSERT INTO kin VALUES (1, 'one'); INSERT INTO kid VALUES (1, 1);
      CREATE TABLE calm (id INTEGER PRIMARY KEY, note TEXT);
      CREATE TRIGGER calm_count AFTER INSERT ON calm BEGIN INSERT INTO side VALUES (new.id); END;`;
    await onFixture("trigger", { config: { limits: { statementMs: 1500 } }, setup }, async (srv, db) => {
      const json = { accept: "application/json", "content-type": "application/json" };
      const attempts: [string, string, unknown][] = [
        ["POST", "/api/tables/slow/rows", { note: "never" }],
        ["DELETE", "/api/tables/kin/rows/1", undefined], // the cascade's trigger
      ];
      for (const [method, path, body] of attempts) {
        const t0 = Date.now();
        const a = await request(srv.url, method, path, { headers: json, body: body === undefined ? undefined : JSON.stringify(body) });
        status(a, 503, `${method} ${path}: a trigger that never ends`);
        check(/ms/.test(a.text) && /stopped/.test(a.text), `${method} ${path}: the 503 says what happened: ${clip(a.text)}`);
        check(Date.now() - t0 < 30_000, `${method} ${path}: stopped, not waited out`);
        // Every other request is answered as before, and other writes go on.
        status(await request(srv.url, "GET", "/t/items", { headers: { accept: "text/html" } }), 200, `after ${path}: a page`);
        const w = await request(srv.url, "POST", "/api/tables/loose/rows", { headers: json, body: JSON.stringify({ name: "after", qty: 1 }) });
        status(w, 201, `after ${path}: a write to a table without triggers`);
        const c = await request(srv.url, "POST", "/api/tables/calm/rows", { headers: json, body: JSON.stringify({ note: "bounded" }) });
        status(c, 201, `after ${path}: a write whose trigger ends`);
      }
      eq(query(db, "SELECT count(*) AS n FROM slow")[0].n, 0, "the stopped insert wrote nothing");
      eq(query(db, "SELECT count(*) AS n FROM kin")[0].n, 1, "the stopped delete deleted nothing");
      eq(query(db, "SELECT count(*) AS n FROM kid")[0].n, 1, "nor its cascade");
      eq(query(db, "SELECT count(*) AS n FROM calm")[0].n, 2, "the bounded trigger's writes went in");
      eq(query(db, "SELECT count(*) AS n FROM side")[0].n, 2, "and its trigger's");
      eq(query(db, "PRAGMA integrity_check")[0].integrity_check, "ok", "the file is intact");
    });
  });

  test("with a token, a body over 64 KiB is read only for a caller who is known", async () => {
    const token = "a-probe-token-of-32-characters-x";
    await onFixture("probe", { args: ["--auth-token", token] }, async (srv) => {
      const json = { "content-type": "application/json", accept: "application/json" };
      // Signed out: refused on the head alone: a body declared but never sent is not waited for.
      const head = await rawRequest(srv.url, ["POST /api/tables/items/rows HTTP/1.1", `host: ${srv.url.host}`,
        "content-type: application/json", "content-length: 1048576"], 5000);
      status(head, 401, "a signed-out request that declares 1 MiB and sends none of it");
      for (const chunked of [false, true]) {
        const a = await request(srv.url, "POST", "/api/tables/items/rows", { headers: json, bulk: 1024 * 1024, chunked });
        status(a, 401, `a signed-out 1 MiB body${chunked ? ", chunked" : ""}`);
      }
      const signin = await request(srv.url, "POST", "/signin", {
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" }, bulk: 100 * 1024,
      });
      status(signin, 413, "a 100 KiB sign-in form");
      // Small bodies are read as always (and refused for what they say).
      const small = await request(srv.url, "POST", "/api/tables/items/rows", { headers: json, body: "{}" });
      status(small, 401, "a small signed-out body");
      // Known: a large body is read (and judged on what it holds).
      const big = await request(srv.url, "POST", "/api/tables/items/rows", {
        headers: { ...json, authorization: `Bearer ${token}` }, body: JSON.stringify({ name: "big", price: 1, notes: "x".repeat(200 * 1024) }),
      });
      status(big, 201, "a 200 KiB body with the token");
    });
  });

  test("wrong tokens are throttled per client: 429 with Retry-After, the right token too while it waits", async () => {
    const token = "a-throttle-token-of-32-characters";
    await onFixture("throttle", { args: ["--auth-token", token] }, async (srv) => {
      const ask = (tok: string) => request(srv.url, "GET", "/api/tables/items/rows", { headers: { accept: "application/json", authorization: `Bearer ${tok}` } });
      for (let i = 0; i < 5; i++) status(await ask(`wrong-guess-number-${i}-xxxxxx`), 401, `wrong token ${i + 1}`);
      status(await ask(token), 200, "five misses are free");
      status(await ask("wrong-guess-number-6-xxxxxx"), 401, "the sixth miss");
      const held = await ask(token);
      status(held, 429, "the right token while the client waits");
      check(Number(held.headers["retry-after"]) >= 1, `Retry-After: ${held.headers["retry-after"]}`);
      check(!held.text.includes("Hammer"), "data in the 429");
      const form = await request(srv.url, "POST", "/signin", {
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html", origin: srv.url.origin }, body: formBody([["token", token]]),
      });
      status(form, 429, "the sign-in form while the client waits");
      await new Promise((r) => setTimeout(r, 1000 * Number(held.headers["retry-after"]) + 200));
      status(await ask(token), 200, "after Retry-After");
    });
  });

  test("--auth-token: the API needs the bearer token, pages a sign-in cookie", async () => {
    const token = "s3cret-token-of-20ch";
    await onFixture("auth", { args: ["--host", "127.0.0.1", "--auth-token", token] }, async (srv) => {
      const base = srv.url;
      const no = await request(base, "GET", "/api/tables/items/rows", { headers: { accept: "application/json" } });
      check(no.status === 401 || no.status === 403, `API without a token: ${no.status}`);
      check(!no.text.includes("Hammer"), "data leaked without a token");
      const wrong = await request(base, "GET", "/api/tables/items/rows", { headers: { authorization: "Bearer nope" } });
      check(wrong.status === 401 || wrong.status === 403, `API with a wrong token: ${wrong.status}`);
      const yes = await request(base, "GET", "/api/tables/items/rows", { headers: { authorization: `Bearer ${token}` } });
      status(yes, 200, "API with the token");
      const page = await request(base, "GET", "/t/items", { headers: { accept: "text/html" } });
      check(page.status !== 200 || !page.text.includes("Hammer"), "a page showed data without a token");
      const signin = forms(page.text).find((f) => f.method === "post" && f.controls.some((c) => c.attrs.get("type") === "password"));
      check(signin, `no sign-in form: ${clip(page.text)}`);
      const pw = signin.controls.find((c) => c.attrs.get("type") === "password")!.attrs.get("name")!;
      const fields: [string, string][] = signin.controls
        .filter((c) => c.name === "input" && c.attrs.get("type") === "hidden" && c.attrs.get("name"))
        .map((c) => [c.attrs.get("name")!, c.attrs.get("value") ?? ""]);
      fields.push([pw, token]);
      const sent = await request(base, "POST", signin.action || "/t/items", {
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" }, body: formBody(fields),
      });
      const cookie = sent.headers["set-cookie"] ?? "";
      check(/httponly/i.test(cookie), `sign-in: no HttpOnly cookie (status ${sent.status}, set-cookie ${cookie})`);
      const jar = cookie.split(";")[0];
      const after = await request(base, "GET", "/t/items", { headers: { accept: "text/html", cookie: jar } });
      status(after, 200, "page with the cookie");
      check(after.text.includes("Hammer"), "the page shows data after sign-in");
      check(/samesite=strict/i.test(cookie), `the cookie is SameSite=Strict: ${cookie}`);
      const index = await request(base, "GET", "/", { headers: { accept: "text/html" } });
      check(!index.text.includes("items") && !index.text.includes("Hammer"), "the signed-out index names no table");
      // The event streams: the same token, the same cookie.
      for (const path of ["/api/events", "/api/events?table=items", "/t/items/live"]) {
        const no = await request(base, "GET", path, { headers: { accept: "text/event-stream" } });
        check(no.status === 401 || no.status === 403, `${path} without a token: ${no.status}`);
        check(!/^(event|data|id):/m.test(no.text), `${path} without a token sent events: ${clip(no.text)}`);
        const bad = await request(base, "GET", path, { headers: { accept: "text/event-stream", authorization: "Bearer s3cret-token-of-20cH" } });
        check(bad.status === 401 || bad.status === 403, `${path} with a wrong token: ${bad.status}`);
      }
      for (const h of [{ authorization: `Bearer ${token}` }, { cookie: jar }] as Record<string, string>[]) {
        const s = await SSE.open(base, "/api/events", h);
        try {
          eq(s.status, 200, `/api/events with ${Object.keys(h)[0]}`);
          const w = await request(base, "POST", "/api/tables/items/rows", {
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ name: "Signed in", price: 1 }),
          });
          status(w, 201, "a write with the token");
          await s.waitN(0, 1, ["change"], "the change on the authorized stream");
        } finally {
          s.close();
        }
      }
    });
  });

  return T;
}

export { Skip };

/**
 * The JSON API carries a BLOB as {"$blob": {"size", "type", "url"}} (CONTRACT), in a row and in
 * a list, and takes it back as no change; any other $blob is 422, saying how bytes are sent.
 * Row 1 of pics holds a 10-byte PNG start; stored() reads it as upper-case hex.
 */
export async function blobJSON(url: URL, stored: () => string, hex: string): Promise<void> {
  const json = { accept: "application/json", "content-type": "application/json" };
  const got = await request(url, "GET", "/api/tables/pics/rows/1", { headers: json });
  const row = (JSON.parse(got.text) as { row: Record<string, unknown> }).row;
  eq(JSON.stringify(row.img), JSON.stringify({ $blob: { size: 10, type: "image/png", url: "/api/tables/pics/rows/1/img" } }), "the row's BLOB in JSON");
  const listed = await request(url, "GET", "/api/tables/pics/rows", { headers: json });
  check(listed.text.includes(`"img":{"$blob":{"size":10,"type":"image/png","url":"/api/tables/pics/rows/1/img"}}`), `the list's BLOB: ${clip(listed.text)}`);
  const same = await request(url, "PATCH", "/api/tables/pics/rows/1", { headers: json, body: JSON.stringify(row) });
  status(same, 200, "GET then PATCH of the same row");
  eq(stored(), hex, "the bytes after GET then PATCH");
  const other = await request(url, "PATCH", "/api/tables/pics/rows/1", { headers: json, body: JSON.stringify({ img: { $blob: { size: 1, type: "image/png" } } }) });
  status(other, 422, "a $blob that is not the row's own");
  check(other.text.includes("base64"), `its message says how bytes are sent: ${clip(other.text)}`);
  eq(stored(), hex, "the bytes after the refused $blob");
}

/**
 * A file column (config "file": true) on table docs (id, title NOT NULL, doc), empty: the files
 * directory dir always holds exactly the files the rows name (keys()), whatever the writes do.
 */
export async function fileColumnsWalk(url: URL, dir: string, keys: () => string[]): Promise<void> {
  const json = { accept: "application/json", "content-type": "application/json" };
  const files = () => (existsSync(dir) ? readdirSync(dir).sort() : []);
  const same = (what: string) => eq(files().join(","), keys().join(","), `${what}: the files directory against the rows' keys`);
  const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
  const made = await request(url, "POST", "/api/tables/docs/rows", { headers: json, body: JSON.stringify({ title: "one", doc: png.toString("base64") }) });
  status(made, 201, "a create with a file");
  const id = String((JSON.parse(made.text) as { row: { id: number } }).row.id);
  const [key] = keys();
  check(/^[0-9a-f]{32}-16\.png$/.test(key ?? ""), `the row's key: ${key}`);
  eq(readFileSync(join(dir, key)).toString("hex"), png.toString("hex"), "the file's bytes");
  same("after a create");
  const row = (JSON.parse((await request(url, "GET", `/api/tables/docs/rows/${id}`, { headers: json })).text) as { row: Record<string, unknown> }).row;
  eq(JSON.stringify(row.doc), JSON.stringify({ $blob: { size: 16, type: "image/png", url: `/api/tables/docs/rows/${id}/doc` } }), "the file in JSON");
  const got = await request(url, "GET", `/api/tables/docs/rows/${id}/doc`);
  eq(got.body.toString("hex"), png.toString("hex"), "the download");
  eq(got.headers["content-type"], "image/png", "its type");
  status(await request(url, "PATCH", `/api/tables/docs/rows/${id}`, { headers: json, body: JSON.stringify(row) }), 200, "GET then PATCH");
  eq(keys().join(","), key, "the key after GET then PATCH");
  const dsid = (await request(url, "GET", "/api/schema")).text.match(/"dsid":"([^"]+)"/)?.[1] ?? "";
  const B = "----nhFileColumns";
  const post = (fields: [string, string | null, Buffer | string][]) => request(url, "POST", `/t/docs/r/${id}`, {
    headers: { "content-type": `multipart/form-data; boundary=${B}`, accept: "text/html", origin: url.origin },
    body: Buffer.concat([
      ...fields.map(([name, filename, data]) => Buffer.concat([
        Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${name}"${filename === null ? "" : `; filename="${filename}"`}\r\n\r\n`),
        Buffer.isBuffer(data) ? data : Buffer.from(data),
        Buffer.from("\r\n"),
      ])),
      Buffer.from(`--${B}--\r\n`),
    ]),
  });
  const untouched = await post([["_dsid", null, dsid], ["title", null, "one"], ["doc", "", ""]]);
  check(untouched.status < 400, `an untouched save: ${untouched.status}`);
  eq(keys().join(","), key, "the key after an untouched save");
  const page = Buffer.from("<html><script>alert(1)</script></html>");
  const up = await post([["_dsid", null, dsid], ["doc", "evil.html", page]]);
  check(up.status < 400, `an upload: ${up.status}`);
  const [key2] = keys();
  check(key2 !== key && /-\d+\.txt$/.test(key2 ?? ""), `the new key: ${key2}`);
  same("after a replacement");
  const served = await request(url, "GET", `/api/tables/docs/rows/${id}/doc`);
  check((served.headers["content-disposition"] ?? "").startsWith("attachment") && served.headers["content-type"] === "text/plain; charset=utf-8", `an uploaded page is text, an attachment: ${served.headers["content-type"]} ${served.headers["content-disposition"]}`);
  const stale = await request(url, "PATCH", `/api/tables/docs/rows/${id}`, { headers: json, body: JSON.stringify({ doc: png.toString("base64"), _version: "stale" }) });
  status(stale, 409, "a stale write with a file");
  const bad = await request(url, "POST", "/api/tables/docs/rows", { headers: json, body: JSON.stringify({ title: null, doc: png.toString("base64") }) });
  status(bad, 422, "an invalid create with a file");
  same("after the failed writes");
  status(await request(url, "DELETE", `/api/tables/docs/rows/${id}`), 204, "the delete");
  eq(files().join(","), "", "the files after the delete");
}
