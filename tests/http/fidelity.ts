// Fidelity (CONTRACT, "What nakedhtmx writes"): an untouched Save is the
// identity. A database the test makes holds what real databases hold (every
// affinity rule, declared types nobody standardised, STRICT and WITHOUT ROWID
// tables, '' beside NULL, BLOBs, text with CR, LF, tabs and trailing spaces,
// JSON laid out on several lines, integers past 2^53, floats that only
// round-trip exactly, infinities, dates in whatever form they were stored);
// for every row, the edit form posted back unchanged as a browser would post
// it without JavaScript, and a JSON GET then PATCH of the same body, must
// leave every column's quote() and typeof() as they were.

import { formBody, request } from "./client.ts";
import { check, eq, status, clip, type Test } from "./harness.ts";
import { decodeEntities, forms, tags, type Form } from "./html.ts";
import { openDB } from "./fixture.ts";

export const FIDELITY_SCHEMA = `
CREATE TABLE loose (
  id INTEGER PRIMARY KEY,
  i INTEGER, r REAL, n NUMERIC, t TEXT, b BLOB, untyped,
  iot INTEGER_OR_TEXT, bo BOOLEAN, bon BOOLEAN NOT NULL DEFAULT 0, dt DATETIME, d DATE, j JSON,
  money NUMERIC(10,2), code VARCHAR(5), mail TEXT, req TEXT NOT NULL DEFAULT ''
);
CREATE TABLE strict_t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, a ANY) STRICT;
CREATE TABLE keyed (k TEXT PRIMARY KEY, v TEXT, n INTEGER) WITHOUT ROWID;
CREATE TABLE nullkeys (a TEXT, b INTEGER, v TEXT, PRIMARY KEY (a, b));
INSERT INTO nullkeys VALUES (NULL, NULL, 'x'), (NULL, NULL, 'y'), ('k', 1, 'z'), ('k', NULL, 'w'), ('', 0, '');
CREATE TABLE nullone (code TEXT PRIMARY KEY, v TEXT);
INSERT INTO nullone VALUES (NULL, 'n1'), (NULL, 'n2'), ('c', 'n3');
CREATE TABLE auth_code (auth TEXT NOT NULL, code INTEGER NOT NULL, name TEXT, PRIMARY KEY (auth, code));
INSERT INTO auth_code VALUES ('EPSG', 1305, 'Lisbon'), ('ESRI', 1305, 'Oslo'), ('EPSG', 7, 'Seven');
CREATE TABLE uses (id INTEGER PRIMARY KEY, note TEXT, auth TEXT, code INTEGER, FOREIGN KEY (auth, code) REFERENCES auth_code (auth, code));
INSERT INTO uses VALUES (1, 'a', 'EPSG', 1305), (2, 'b', 'ESRI', 1305), (3, 'c', NULL, NULL);
CREATE TABLE people_base (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO people_base VALUES (1, 'ada'), (2, 'grace');
CREATE VIEW people_v AS SELECT id, name, upper(name) AS shout FROM people_base;
CREATE TRIGGER people_v_ins INSTEAD OF INSERT ON people_v BEGIN INSERT INTO people_base (id, name) VALUES (NEW.id, NEW.name); END;
CREATE TRIGGER people_v_upd INSTEAD OF UPDATE ON people_v BEGIN UPDATE people_base SET name = NEW.name WHERE id = OLD.id; END;
CREATE TRIGGER people_v_del INSTEAD OF DELETE ON people_v BEGIN DELETE FROM people_base WHERE id = OLD.id; END;
CREATE VIEW names_in AS SELECT name FROM people_base;
CREATE TRIGGER names_in_ins INSTEAD OF INSERT ON names_in BEGIN INSERT INTO people_base (name) VALUES (NEW.name); END;
CREATE VIEW plain_v AS SELECT id, name FROM people_base;
CREATE TABLE blank_first (name TEXT, n INTEGER);
INSERT INTO blank_first VALUES ('', 1), (NULL, 2), ('   ', 3), ('named', 4);
`;

/** Rows as SQL value lists for loose: each a case a real database has. */
const LOOSE_ROWS = [
  "1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, ''",
  "2, '', '', '', '', x'', '', '', '', 1, '', '', '', '', '', '', ''",
  "3, 'not a number', 'text in real', 'text in numeric', 'a' || char(13) || 'b', x'00ff10', 42, 'AB-12', 'yes', 2, '2024-03-04T05:06:07.123Z', '2024-3-4', '{\n  \"a\": [1, 2],\n  \"b\": \"x\"\n}', '12.50', 'much too long', '  padded@example.org  ', 'x'",
  "4, 9223372036854775807, 0.1, 1e308, 'line one' || char(10) || 'line two', x'89504e470d0a1a0a', 9007199254740993, 12345, 0, 1, '2024-03-04 05:06:00', '2024-03-04', '[]', 1e21, 'ok', 'plain@example.org', 'tab' || char(9) || 'end  '",
  "5, -9223372036854775808, -0.0, 5e-324, 'crlf' || char(13) || char(10) || 'end', NULL, -1.5, 'text', 1, 0, '2024-03-04 05:06', '2024-02-30', 'null', -0.25, '', NULL, char(1) || char(31) || 'ctl'",
  "6, 9007199254740993, 1e999, -1e999, char(10) || 'leading line break', NULL, 1e999, 7, NULL, 1, 'yesterday', '1999-12-31', '\"a string\"', NULL, NULL, NULL, ' '",
];

const STRICT_ROWS = [
  "1, NULL, NULL, NULL, NULL, NULL",
  "2, 0, 0.5, '', x'', ''",
  "3, -1, 1e-7, 'trailing space ', x'01', 1",
  "4, 9223372036854775807, 1e999, 'two' || char(10) || 'lines', x'ff', 2.5",
  "5, 5, -1e999, 'x', NULL, x'00'",
];

const KEYED_ROWS = [
  "'a', NULL, NULL",
  "'b b', '', 0",
  "'c/d?e#f%g', 'x' || char(13) || char(10) || 'y', 9007199254740993",
  "'ü', 'trailing  ', -1",
];

export function buildFidelity(file: string): void {
  const db = openDB(file);
  try {
    db.exec(FIDELITY_SCHEMA);
    for (const r of LOOSE_ROWS) db.exec(`INSERT INTO loose VALUES (${r})`);
    for (const r of STRICT_ROWS) db.exec(`INSERT INTO strict_t VALUES (${r})`);
    for (const r of KEYED_ROWS) db.exec(`INSERT INTO keyed VALUES (${r})`);
  } finally {
    db.close();
  }
}

/** Every column of every row as quote() and typeof(), read by SQLite itself. */
export function snapshot(file: string, table: string): string[] {
  const db = openDB(file, true);
  try {
    const cols = (db.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY cid`).all(table) as { name: string }[]).map((c) => c.name);
    const sel = cols.map((c) => `quote("${c}") || ':' || typeof("${c}")`).join(` || ' | ' || `);
    return (db.prepare(`SELECT ${sel} AS v FROM "${table}" ORDER BY 1`).all() as { v: string }[]).map((r) => r.v);
  } finally {
    db.close();
  }
}

function rowKeys(file: string, table: string, key: string): string[] {
  const db = openDB(file, true);
  try {
    return (db.prepare(`SELECT "${key}" AS k FROM "${table}" ORDER BY 1`).all() as { k: unknown }[]).map((r) => String(r.k));
  } finally {
    db.close();
  }
}

/**
 * What a browser sends for a form that nobody touched, without JavaScript
 * (HTML's "constructing the entry list", then urlencoded): named, enabled
 * controls; a checkbox only when checked; a select's selected option (else
 * its first); a textarea's text without the one line break the parser drops
 * after the tag; one-line inputs without line breaks (value sanitisation);
 * every line break as CRLF.
 */
export function browserEntries(html: string, form: Form): [string, string][] {
  const out: [string, string][] = [];
  for (const c of form.controls) {
    const name = c.attrs.get("name");
    if (name === undefined || c.attrs.has("disabled") || c.name === "button") continue;
    let value: string;
    if (c.name === "textarea") {
      value = decodeEntities((c.raw ?? "").replace(/^\r?\n/, "")).replace(/\r\n?/g, "\n");
    } else if (c.name === "select") {
      const end = html.toLowerCase().indexOf("</select", c.start);
      const opts = tags(html.slice(c.start, end)).filter((t) => t.name === "option");
      const sel = opts.find((o) => o.attrs.has("selected")) ?? opts[0];
      if (!sel) continue;
      value = sel.attrs.get("value") ?? "";
    } else {
      const type = (c.attrs.get("type") ?? "text").toLowerCase();
      if ((type === "checkbox" || type === "radio") && !c.attrs.has("checked")) continue;
      if (type === "submit" || type === "file") continue;
      value = c.attrs.get("value") ?? (type === "checkbox" ? "on" : "");
      if (type !== "hidden") value = value.replace(/[\r\n]/g, "");
      if (type === "email" || type === "url") value = value.trim();
    }
    out.push([name.replace(/\r\n?|\n/g, "\r\n"), value.replace(/\r\n?|\n/g, "\r\n")]);
  }
  return out;
}

export function fidelityTests(base: () => URL, file: string): Test[] {
  const T: Test[] = [];
  const test = (name: string, fn: () => Promise<void>) => T.push({ name, fn });
  // Keys SQLite lets be NULL: such tables are walked and addressed by rowid.
  const tables: [string, string][] = [["loose", "id"], ["strict_t", "id"], ["keyed", "k"], ["nullkeys", "rowid"], ["nullone", "rowid"], ["uses", "id"], ["people_v", "id"]];

  test("fidelity: infinities travel as \"Infinity\" and \"-Infinity\"; 64-bit integers and exact floats as they are", async () => {
    const got = await request(base(), "GET", "/api/tables/loose/rows/6", { headers: { accept: "application/json" } });
    status(got, 200, "GET row 6");
    check(got.text.includes(`"r":"Infinity","n":"-Infinity"`), `infinities in JSON: ${clip(got.text, 400)}`);
    const four = await request(base(), "GET", "/api/tables/loose/rows/4", { headers: { accept: "application/json" } });
    check(four.text.includes(`"i":9223372036854775807,"r":0.1,"n":1e+308`), `64-bit integer and floats: ${clip(four.text, 400)}`);
    const five = await request(base(), "GET", "/api/tables/loose/rows/5", { headers: { accept: "application/json" } });
    check(five.text.includes(`"i":-9223372036854775808`) && five.text.includes(`"n":5e-324`), `row 5: ${clip(five.text, 400)}`);
    const csv = await request(base(), "GET", "/api/tables/loose/rows.csv");
    check(/^6,9007199254740993,Infinity,-Infinity,/m.test(csv.text), `CSV row 6: ${clip(csv.text.split("\n").find((l) => l.startsWith("6,")) ?? csv.text, 300)}`);
    const page = await request(base(), "GET", "/t/loose/r/6", { headers: { accept: "text/html" } });
    check(/name="r"[^>]*value="Infinity"/.test(page.text), "the form shows Infinity");
    // Written from JSON and from a form, infinities are stored as SQLite's own.
    const made = await request(base(), "POST", "/api/tables/strict_t/rows", {
      headers: { "content-type": "application/json", accept: "application/json" }, body: `{"id": 90, "r": "-Infinity"}`,
    });
    status(made, 201, "create with -Infinity");
    const formed = await request(base(), "POST", "/t/strict_t/new", {
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html", origin: base().origin }, body: formBody([["id", "91"], ["r", "Infinity"]]),
    });
    status(formed, 303, "form create with Infinity");
    const db = openDB(file, true);
    try {
      const rows = db.prepare(`SELECT id, typeof(r) AS t, r > 1e308 AS big, r < -1e308 AS small FROM strict_t WHERE id IN (90, 91) ORDER BY id`).all() as Record<string, unknown>[];
      eq(rows.map((r) => `${r.t} ${r.small} ${r.big}`), ["real 1 0", "real 0 1"], "stored infinities (typeof, below -1e308, above 1e308)");
    } finally {
      db.close();
      await request(base(), "DELETE", "/api/tables/strict_t/rows/90");
      await request(base(), "DELETE", "/api/tables/strict_t/rows/91");
    }
    const bad = await request(base(), "POST", "/api/tables/strict_t/rows", {
      headers: { "content-type": "application/json", accept: "application/json" }, body: `{"id": 92, "t": "Infinity", "i": "Infinity"}`,
    });
    status(bad, 422, "Infinity for an integer column");
  });

  test("fidelity: a non-standard declared type (INTEGER_OR_TEXT) takes the text its rows hold; STRICT stays exact", async () => {
    const sch = await request(base(), "GET", "/api/schema/loose", { headers: { accept: "application/json" } });
    const props = (JSON.parse(sch.text) as { properties: Record<string, { type: unknown }> }).properties;
    eq(props.iot.type, ["integer", "string", "null"], "INTEGER_OR_TEXT");
    eq(props.i.type, ["integer", "null"], "INTEGER stays integer");
    const made = await request(base(), "POST", "/api/tables/loose/rows", {
      headers: { "content-type": "application/json", accept: "application/json" }, body: `{"id": 80, "iot": "XY-9"}`,
    });
    status(made, 201, "text into INTEGER_OR_TEXT");
    const formed = await request(base(), "POST", "/t/loose/new", {
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html", origin: base().origin }, body: formBody([["id", "81"], ["iot", "CD-1"]]),
    });
    status(formed, 303, "text into INTEGER_OR_TEXT from a form");
    const db = openDB(file, true);
    try {
      const rows = db.prepare(`SELECT quote(iot) AS q FROM loose WHERE id IN (80, 81) ORDER BY id`).all() as { q: string }[];
      eq(rows.map((r) => r.q), ["'XY-9'", "'CD-1'"], "stored text");
    } finally {
      db.close();
      await request(base(), "DELETE", "/api/tables/loose/rows/80");
      await request(base(), "DELETE", "/api/tables/loose/rows/81");
    }
    const strict = await request(base(), "POST", "/api/tables/strict_t/rows", {
      headers: { "content-type": "application/json", accept: "application/json" }, body: `{"id": 82, "i": "text"}`,
    });
    status(strict, 422, "text into a STRICT INTEGER");
  });

  test("fidelity: every row of a list has a visible link to its page, whatever its first column holds", async () => {
    for (const table of ["blank_first", "loose", "strict_t", "keyed", "nullkeys", "nullone"]) {
      const page = await request(base(), "GET", `/t/${table}`, { headers: { accept: "text/html" } });
      status(page, 200, `/t/${table}`);
      const rows = page.text.split(/<tr id="row-/).slice(1).map((r) => r.slice(0, r.indexOf("</tr>")));
      check(rows.length > 0, `/t/${table}: no rows`);
      for (const r of rows) {
        const links = [...r.matchAll(/<a href="([^"]*\/r\/[^"]*)">([^<]*)<\/a>/g)];
        check(links.some((l) => l[2].trim() !== ""), `/t/${table}: a row without a visible link: ${clip(r, 300)}`);
      }
    }
  });

  test("fidelity: filters: booleans by true and false, the empty string apart from NULL (null=COL)", async () => {
    const ids = async (q: string): Promise<number[]> => {
      const a = await request(base(), "GET", `/api/tables/loose/rows?${q}`, { headers: { accept: "application/json" } });
      status(a, 200, q);
      return (JSON.parse(a.text) as { rows: { id: number }[] }).rows.map((r) => r.id);
    };
    eq(await ids("f.bo=true"), [5], "f.bo=true");
    eq(await ids("f.bo=1"), [5], "f.bo=1");
    eq(await ids("f.bo=false"), [4], "f.bo=false");
    eq(await ids("f.bo=0"), [4], "f.bo=0");
    eq(await ids("null=bo"), [1, 6], "null=bo");
    eq(await ids("f.bo="), [2], "f.bo= (the empty string)");
    eq(await ids("f.t="), [2], "f.t=");
    eq(await ids("null=t"), [1], "null=t");
    eq(await ids("null=t&null=bo"), [1], "two null filters");
    const page = await request(base(), "GET", "/t/loose?f.bo=true", { headers: { accept: "text/html" } });
    check(/<tr id="row-5"/.test(page.text) && !/<tr id="row-4"/.test(page.text), "the HTML list filters the same way");
    const nul = await request(base(), "GET", "/t/loose?null=bo", { headers: { accept: "text/html" } });
    check(/is empty \(NULL\)/.test(nul.text), "the null filter is shown as such");
  });

  test("fidelity: a foreign key over two columns labels, links and picks by the whole key", async () => {
    const list = await request(base(), "GET", "/t/uses", { headers: { accept: "text/html" } });
    status(list, 200, "/t/uses");
    const row = (id: number) => list.text.split(`<tr id="row-${id}">`)[1]?.split("</tr>")[0] ?? "";
    check(/<a href="\/t\/auth_code\/r\/EPSG,1305">Lisbon<\/a>/.test(row(1)), `row 1 is labelled by (EPSG, 1305): ${clip(row(1), 400)}`);
    check(/<a href="\/t\/auth_code\/r\/ESRI,1305">Oslo<\/a>/.test(row(2)), `row 2 is labelled by (ESRI, 1305): ${clip(row(2), 400)}`);
    const parent = await request(base(), "GET", "/t/auth_code/r/EPSG,1305", { headers: { accept: "text/html" } });
    check(parent.text.includes(`href="/t/uses?f.auth=EPSG&amp;f.code=1305"`), "the parent links to the rows that point at it by the whole key");
    const page = await request(base(), "GET", "/t/uses/r/1", { headers: { accept: "text/html" } });
    const form = forms(page.text).find((f) => f.attrs.get("id") === "record")!;
    const entries = browserEntries(page.text, form).map(([k, v]): [string, string] => k === "_key.0" ? [k, "=ESRI,1305"] : [k, v]);
    check(entries.some(([k]) => k === "_key.0"), "no picker for the composite key");
    const sent = await request(base(), "POST", "/t/uses/r/1", {
      headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded", origin: base().origin }, body: formBody(entries),
    });
    status(sent, 303, "choosing (ESRI, 1305) in the picker");
    const db = openDB(file, true);
    try {
      eq(db.prepare("SELECT auth || '/' || code AS k FROM uses WHERE id = 1").get(), { k: "ESRI/1305" }, "both columns set by one choice");
    } finally {
      db.close();
    }
    await request(base(), "PATCH", "/api/tables/uses/rows/1", { headers: { "content-type": "application/json" }, body: `{"auth": "EPSG"}` });
  });

  test("fidelity: views with INSTEAD OF triggers take writes like tables; other views stay read-only", async () => {
    const json = { "content-type": "application/json", accept: "application/json" };
    const sch = JSON.parse((await request(base(), "GET", "/api/schema/people_v", { headers: { accept: "application/json" } })).text) as Record<string, unknown>;
    eq(sch.readOnly, undefined, "a writable view's schema is not readOnly");
    const plain = JSON.parse((await request(base(), "GET", "/api/schema/plain_v", { headers: { accept: "application/json" } })).text) as Record<string, unknown>;
    eq(plain.readOnly, true, "a view without triggers is readOnly");
    const made = await request(base(), "POST", "/api/tables/people_v/rows", { headers: json, body: `{"id": 10, "name": "ann"}` });
    status(made, 201, "create through the view");
    check(made.text.includes(`"shout":"ANN"`), `the answer is the view's row: ${clip(made.text)}`);
    const patched = await request(base(), "PATCH", "/api/tables/people_v/rows/10", { headers: json, body: `{"name": "bo"}` });
    status(patched, 200, "update through the view");
    check(patched.text.includes(`"shout":"BO"`), `the updated view row: ${clip(patched.text)}`);
    const page = await request(base(), "GET", "/t/people_v", { headers: { accept: "text/html" } });
    check(page.text.includes(`href="/t/people_v/new"`) && page.text.includes(`href="/t/people_v/r/10"`), "the view's list offers New and links its rows");
    const formed = await request(base(), "POST", "/t/people_v/new", {
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html", origin: base().origin }, body: formBody([["id", "11"], ["name", "cy"]]),
    });
    status(formed, 303, "the view's New form");
    eq(formed.headers["location"], "/t/people_v/r/11", "to the new row's page");
    status(await request(base(), "DELETE", "/api/tables/people_v/rows/10", { headers: json }), 204, "delete through the view");
    status(await request(base(), "DELETE", "/api/tables/people_v/rows/11", { headers: json }), 204, "delete the form's row");
    status(await request(base(), "GET", "/api/tables/people_v/rows/10", { headers: json }), 404, "gone");
    const only = await request(base(), "POST", "/api/tables/names_in/rows", { headers: json, body: `{"name": "dee"}` });
    status(only, 201, "an insert-only view takes inserts");
    status(await request(base(), "POST", "/api/tables/plain_v/rows", { headers: json, body: `{"name": "x"}` }), 403, "a view without triggers");
    const db = openDB(file, true);
    try {
      eq(db.prepare("SELECT group_concat(name, ',') AS n FROM people_base ORDER BY id").get(), { n: "ada,grace,dee" }, "the base table");
    } finally {
      db.close();
    }
  });

  for (const [table, key] of tables) {
    test(`fidelity: ${table}: every sort order walks every row exactly once; pages, CSV and rows answer`, async () => {
      const want = rowKeys(file, table, key).sort();
      const db = openDB(file, true);
      const cols = (db.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY cid`).all(table) as { name: string }[]).map((c) => c.name);
      db.close();
      for (const sort of ["", ...cols]) {
        for (const desc of sort === "" ? [""] : ["", "1"]) {
          const seen: string[] = [];
          let after = "";
          for (let page = 0; page < 100; page++) {
            const q = new URLSearchParams({ limit: "2" });
            if (sort) q.set("sort", sort);
            if (desc) q.set("desc", desc);
            if (after) q.set("after", after);
            const a = await request(base(), "GET", `/api/tables/${table}/rows?${q}`, { headers: { accept: "application/json" } });
            status(a, 200, `rows?${q}`);
            const j = JSON.parse(a.text) as { rows: Record<string, unknown>[]; next: string | null };
            for (const r of j.rows) seen.push(String(r[key]));
            if (!j.next) break;
            after = j.next;
          }
          eq(seen.slice().sort(), want, `${table} sorted by ${sort || "key"}${desc ? " desc" : ""}: rows reached`);
        }
        const html = await request(base(), "GET", `/t/${table}?sort=${encodeURIComponent(sort)}`, { headers: { accept: "text/html" } });
        check(html.status === 200, `/t/${table}?sort=${sort}: ${html.status}`);
      }
      const csv = await request(base(), "GET", `/api/tables/${table}/rows.csv`);
      status(csv, 200, "CSV");
      for (const k of want) {
        const page = await request(base(), "GET", `/t/${table}/r/${encodeURIComponent(k)}`, { headers: { accept: "text/html" } });
        status(page, 200, `row page ${k}`);
      }
    });

    test(`fidelity: ${table}: every row's edit form posted back untouched changes nothing`, async () => {
      const before = snapshot(file, table);
      for (const k of rowKeys(file, table, key)) {
        const path = `/t/${table}/r/${encodeURIComponent(k)}`;
        const page = await request(base(), "GET", path, { headers: { accept: "text/html" } });
        status(page, 200, `GET ${path}`);
        const form = forms(page.text).find((f) => f.method === "post" && f.attrs.get("id") === "record");
        check(form, `${path}: no edit form`);
        for (const c of form.controls) {
          if (c.name === "input" && (c.attrs.get("value") ?? "").match(/^<\d+ bytes>$/)) throw new Error(`${path}: bytes shown as text in an input`);
        }
        const sent = await request(base(), "POST", form.action || path, {
          headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded", origin: base().origin },
          body: formBody(browserEntries(page.text, form)),
        });
        check(sent.status === 303 || sent.status === 200, `POST ${path}: ${sent.status} ${clip(sent.text, 400)}`);
        eq(snapshot(file, table), before, `${table} after an untouched form of ${k}`);
      }
    });

    test(`fidelity: ${table}: JSON GET then PATCH of the same body changes nothing`, async () => {
      const before = snapshot(file, table);
      for (const k of rowKeys(file, table, key)) {
        const path = `/api/tables/${table}/rows/${encodeURIComponent(k)}`;
        const got = await request(base(), "GET", path, { headers: { accept: "application/json" } });
        status(got, 200, `GET ${path}`);
        const j = JSON.parse(got.text) as { row: Record<string, unknown>; version: string };
        // The body exactly as it came (big integers as written): the row's text.
        const rowText = /"row":(\{.*\}),"version"/.exec(got.text)?.[1];
        check(rowText, `${path}: no row in ${clip(got.text)}`);
        const body = `{"_version":${JSON.stringify(j.version)},${rowText.slice(1)}`;
        const patched = await request(base(), "PATCH", path, { headers: { "content-type": "application/json", accept: "application/json" }, body });
        status(patched, 200, `PATCH ${path} with ${clip(body, 300)}`);
        eq(snapshot(file, table), before, `${table} after GET then PATCH of ${k}`);
      }
    });
  }
  return T;
}
