// Databases other people wrote (scripts/ensure-realdbs.sh puts them in
// .cache/realdbs/; absent, their tests skip): crawled route by route. Every
// table and view: a JSON walk that reaches every row exactly once (by key),
// sorted walks both ways on small tables, list pages plain, sorted, filtered
// and searched, CSV with every row, row pages, and for a few rows the edit
// form posted back untouched and a GET then PATCH of the same body, after
// which every column's quote() and typeof() are as they were. No answer may
// be a 5xx.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { formBody, request, type Answer } from "./client.ts";
import { check, eq, clip, type Test } from "./harness.ts";
import { forms } from "./html.ts";
import { browserEntries } from "./fidelity.ts";
import { openDB, repoRoot } from "./fixture.ts";
import { parseCSV } from "./cases.ts";

export const REAL_DBS = ["proj.db", "zipcodes.db"].map((f) => join(repoRoot, ".cache/realdbs", f));

/** How far a crawl goes on a large table: enough to page past the first pages. */
const WALK_CAP = 50000;
const SORT_CAP = 3000;

interface TableInfo {
  name: string;
  view: boolean;
  count: number;
  columns: string[];
  key: string[]; // the JSON members that identify a row ("rowid", or the key columns)
}

function q(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function realDbTests(base: () => URL, file: string, label: string): Test[] {
  const T: Test[] = [];
  const test = (name: string, fn: () => Promise<void>) => T.push({ name: `${label}: ${name}`, fn });
  const get = async (path: string, accept = "application/json"): Promise<Answer> => {
    const a = await request(base(), "GET", path, { headers: { accept } });
    check(a.status < 500, `GET ${path}: ${a.status} ${clip(a.text)}`);
    return a;
  };
  const tables: TableInfo[] = [];

  test("every table and view is listed, with its key", async () => {
    const s = JSON.parse((await get("/api/schema")).text) as {
      tables: Record<string, { schema: { readOnly?: boolean; properties: Record<string, { "x-primary-key"?: boolean }> } }>;
    };
    const db = openDB(file, true);
    try {
      const names = (db.prepare(`SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_nakedhtmx\\_%' ESCAPE '\\' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name`).all() as { name: string; type: string }[]);
      for (const n of names) {
        if (!s.tables[n.name]) {
          // FTS shadow tables and the like are not the user's: they may be left out.
          if (/_(data|idx|content|docsize|config)$/.test(n.name)) continue;
          throw new Error(`${n.name} is not in /api/schema`);
        }
        const props = s.tables[n.name].schema.properties;
        const columns = Object.keys(props);
        const count = Number((db.prepare(`SELECT count(*) AS n FROM ${q(n.name)}`).get() as { n: number }).n);
        tables.push({ name: n.name, view: n.type === "view", count, columns, key: [] });
      }
    } finally {
      db.close();
    }
    check(tables.length > 0, "no tables");
    // The members that identify a row: what the row answer's "pk" names.
    for (const t of tables) {
      if (t.view || t.count === 0) continue;
      const a = JSON.parse((await get(`/api/tables/${encodeURIComponent(t.name)}/rows?limit=1`)).text) as { rows: Record<string, unknown>[] };
      const first = a.rows[0];
      check(first, `${t.name}: no first row`);
      const props = s.tables[t.name].schema.properties;
      // A row addressed by rowid carries it; otherwise its key columns identify it.
      t.key = "rowid" in first && !t.columns.includes("rowid") ? ["rowid"] : t.columns.filter((c) => props[c]?.["x-primary-key"]);
      check(t.key.length > 0, `${t.name}: rows carry neither a rowid nor a key`);
    }
  });

  const keyOf = (t: TableInfo, r: Record<string, unknown>) => JSON.stringify(t.key.map((k) => r[k]));

  test("a JSON walk reaches every row exactly once; CSV holds every row", async () => {
    for (const t of tables) {
      const seen = new Set<string>();
      let n = 0;
      let after = "";
      for (let page = 0; n < WALK_CAP; page++) {
        const qs = new URLSearchParams({ limit: "1000" });
        if (after) qs.set("after", after);
        const j = JSON.parse((await get(`/api/tables/${encodeURIComponent(t.name)}/rows?${qs}`)).text) as { rows: Record<string, unknown>[]; next: string | null };
        for (const r of j.rows) {
          n++;
          if (!t.view) {
            const k = keyOf(t, r);
            check(!seen.has(k), `${t.name}: row ${k} reached twice`);
            seen.add(k);
          }
        }
        if (!j.next) break;
        after = j.next;
      }
      if (t.count <= WALK_CAP) eq(n, t.count, `${t.name}: rows reached`);
      else check(n >= WALK_CAP, `${t.name}: the walk stopped after ${n} of ${t.count} rows`);
      if (t.count <= WALK_CAP) {
        const csv = await get(`/api/tables/${encodeURIComponent(t.name)}/rows.csv`, "text/csv");
        eq(parseCSV(csv.text).length - 1, t.count, `${t.name}: CSV records`);
      }
    }
  });

  test("sorted walks, both ways, reach every row once (tables up to 3,000 rows, three columns each)", async () => {
    for (const t of tables) {
      if (t.view || t.count > SORT_CAP) continue;
      for (const col of t.columns.slice(0, 3)) {
        for (const desc of ["", "1"]) {
          const seen = new Set<string>();
          let after = "";
          for (;;) {
            const qs = new URLSearchParams({ limit: "400", sort: col });
            if (desc) qs.set("desc", "1");
            if (after) qs.set("after", after);
            const a = await get(`/api/tables/${encodeURIComponent(t.name)}/rows?${qs}`);
            if (a.status === 400) break; // a column that cannot be sorted by says so
            const j = JSON.parse(a.text) as { rows: Record<string, unknown>[]; next: string | null };
            for (const r of j.rows) {
              const k = keyOf(t, r);
              check(!seen.has(k), `${t.name} sorted by ${col}${desc ? " desc" : ""}: ${k} twice`);
              seen.add(k);
            }
            if (!j.next) break;
            after = j.next;
          }
          eq(seen.size, t.count, `${t.name} sorted by ${col}${desc ? " desc" : ""}: rows reached`);
        }
      }
    }
  });

  test("list pages (plain, sorted, filtered, searched) and row pages answer", async () => {
    for (const t of tables) {
      const path = `/t/${encodeURIComponent(t.name)}`;
      const page = await get(path, "text/html");
      eq(page.status, 200, path);
      const j = JSON.parse((await get(`/api/tables/${encodeURIComponent(t.name)}/rows?limit=3`)).text) as { rows: Record<string, unknown>[] };
      const col = t.columns[Math.min(1, t.columns.length - 1)];
      const v = j.rows[0]?.[col];
      eq((await get(`${path}?sort=${encodeURIComponent(col)}&desc=1`, "text/html")).status, 200, `${path} sorted`);
      if (v !== undefined && v !== null && typeof v !== "object") {
        eq((await get(`${path}?f.${encodeURIComponent(col)}=${encodeURIComponent(String(v))}`, "text/html")).status, 200, `${path} filtered`);
        eq((await get(`${path}?q=${encodeURIComponent(String(v).slice(0, 12))}`, "text/html")).status, 200, `${path} searched`);
      }
      if (t.view) continue;
      const links = [...page.text.matchAll(/<tr id="row-[^"]*">.*?<a href="([^"]*\/r\/[^"]*)">([^<]*)<\/a>/g)];
      check(links.length > 0 || t.count === 0, `${path}: no row links`);
      for (const l of links.slice(0, 3)) {
        check(l[2].trim() !== "", `${path}: an invisible row link`);
        eq((await get(l[1].replaceAll("&amp;", "&"), "text/html")).status, 200, l[1]);
      }
    }
  });

  test("an untouched form and a GET then PATCH change nothing (three rows of every table)", async () => {
    for (const t of tables) {
      if (t.view || t.count === 0) continue;
      const path = `/t/${encodeURIComponent(t.name)}`;
      const page = await get(path, "text/html");
      const links = [...page.text.matchAll(/<tr id="row-[^"]*">.*?<a href="([^"]*\/r\/[^"]*)">/g)].slice(0, 3).map((l) => l[1].replaceAll("&amp;", "&"));
      for (const link of links) {
        const before = snapshotAll(file, t.name);
        const rowPage = await get(link, "text/html");
        const form = forms(rowPage.text).find((f) => f.method === "post" && f.attrs.get("id") === "record");
        if (form && form.controls.some((c) => c.name === "button")) {
          const sent = await request(base(), "POST", form.action, {
            headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded", origin: base().origin },
            body: formBody(browserEntries(rowPage.text, form)),
          });
          check(sent.status === 303 || sent.status === 200, `POST ${link}: ${sent.status} ${clip(sent.text, 300)}`);
          eq(snapshotAll(file, t.name), before, `${t.name}: after the untouched form of ${link}`);
        }
        const api = link.replace(/^(.*)\/t\/([^/]*)\/r\//, "$1/api/tables/$2/rows/");
        const got = await get(api);
        const rowText = /"row":(\{.*\}),"version"/.exec(got.text)?.[1];
        check(rowText, `${api}: ${clip(got.text)}`);
        const patched = await request(base(), "PATCH", api, { headers: { "content-type": "application/json", accept: "application/json" }, body: rowText });
        check(patched.status === 200, `PATCH ${api}: ${patched.status} ${clip(patched.text, 300)}`);
        eq(snapshotAll(file, t.name), before, `${t.name}: after GET then PATCH of ${api}`);
      }
    }
  });
  return T;
}

/** quote() and typeof() of every column of every row, in rowid order (tables only). */
function snapshotAll(file: string, table: string): string {
  const db = openDB(file, true);
  try {
    const cols = (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => `quote(${q(c.name)}) || ':' || typeof(${q(c.name)})`);
    const rows = db.prepare(`SELECT ${cols.join(" || '|' || ")} AS v FROM ${q(table)}`).all() as { v: string }[];
    let h = 0;
    const all = rows.map((r) => r.v).sort().join("\n");
    for (let i = 0; i < all.length; i++) h = (h * 31 + all.charCodeAt(i)) | 0;
    return `${rows.length} rows, ${all.length} chars, hash ${h}`;
  } finally {
    db.close();
  }
}

export function realDbAvailable(file: string): boolean {
  return existsSync(file);
}
