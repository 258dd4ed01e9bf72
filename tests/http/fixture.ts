// The database every host is tested on. It is built the same way for every host
// (node:sqlite, from the text below), so the DSIDs, versions and answers of two
// hosts must be byte for byte the same; run.ts --compare checks that they are.

import { copyFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { isPostgres, pgExec, pgQuery } from "./pg.ts";
import { fileURLToPath } from "node:url";

// node:sqlite still prints an ExperimentalWarning on Node 24: keep the output clean.
process.removeAllListeners("warning");
const { DatabaseSync } = await import("node:sqlite");

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const chinookPath = resolve(repoRoot, "../shared/testdata/chinook.sqlite");

export const HOSTILE = "<script>alert(1)</script>";
export const HOSTILE_COL = "<img src=x onerror=alert(2)>";

/** Names of the tables that must be listed, in no particular order. */
export const USER_TABLES = [
  "items", "pairs", "codes", "loose", "parents", "cheap_items",
  HOSTILE, 'he said "hi"', "it's", "[brackets]", "back`tick", "semi;colon",
  "with space", "new\nline", "emoji 🎉", "עברית", "a/b?c#d%e&f=g", "select",
];

const KINDS = ["tool", "toy", "book", "food"];
const NAMES = [
  "Hammer", "Kite", "Atlas", "Bread", "Chisel", "Yo-yo", "Novel", "Cheese", "Wrench", "Puzzle",
  "Diary", "Apples", "Pliers", "Marbles", "Poems", "Honey", "Saw", "Walrus plush", "Essays", "Olives",
  "Drill", "Top", "Map book", "Tea", "Level",
];

function itemsSQL(pg: boolean): string {
  const rows = NAMES.map((name, i) => {
    const id = i + 1;
    const kind = KINDS[i % KINDS.length];
    // Prices are all different, so sorting by price has no ties to break.
    const price = (id * 37 % 101 + id / 100).toFixed(2);
    const added = `2024-${String(id % 12 + 1).padStart(2, "0")}-${String(id % 28 + 1).padStart(2, "0")}`;
    const notes = id % 3 === 0 ? "'keep dry'" : "NULL";
    return `(${id}, '${name}', '${kind}', ${price}, ${id * 3 % 17}, ${pg ? String(id % 2 === 1) : id % 2}, '${added}', ${notes})`;
  });
  return `INSERT INTO items VALUES\n  ${rows.join(",\n  ")};`;
}

export const SCHEMA = `
CREATE TABLE items (
  id       INTEGER PRIMARY KEY,
  name     VARCHAR(30) NOT NULL,
  kind     TEXT NOT NULL DEFAULT 'tool' CHECK (kind IN ('tool', 'toy', 'book', 'food')),
  price    REAL NOT NULL CHECK (price >= 0),
  qty      INTEGER NOT NULL DEFAULT 0 CHECK (qty BETWEEN 0 AND 1000),
  in_stock BOOLEAN NOT NULL DEFAULT 1,
  added    DATE,
  notes    TEXT,
  -- looser than the column's own CHECK: the schema must keep the tighter bound
  CHECK (qty <= 5000)
);
${itemsSQL(false)}

CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO parents VALUES (1, 'Alpha'), (2, 'Beta');

-- composite key on a rowid table; values hold what a path must escape
CREATE TABLE pairs (
  a TEXT NOT NULL,
  b INTEGER NOT NULL,
  v TEXT,
  parent_id INTEGER REFERENCES parents (id),
  PRIMARY KEY (a, b)
);
INSERT INTO pairs VALUES
  ('plain', 1, 'one', 1), ('plain', 2, 'two', 2), ('comma,inside', 1, 'comma', NULL),
  ('slash/inside', 7, 'slash', 1), ('50%', 3, 'percent', NULL), ('with space', 4, 'space', NULL),
  ('ünï 🎉', 5, 'unicode', NULL), ('q?x#y&z=1', 6, 'query chars', NULL), ('+plus', 8, 'plus', NULL);

CREATE TABLE codes (code TEXT PRIMARY KEY, label TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO codes VALUES ('a/b', 'slash'), ('50%', 'percent'), ('x y', 'space'), ('ok', 'plain');

CREATE TABLE loose (name TEXT, qty INTEGER);
INSERT INTO loose (rowid, name, qty) VALUES (1, 'one', 1), (2, 'two', 2), (40, 'forty', 40);

CREATE VIEW cheap_items AS SELECT id, name, price FROM items WHERE price < 30;

CREATE TABLE "${HOSTILE}" (
  id INTEGER PRIMARY KEY,
  "${HOSTILE_COL}" TEXT,
  "select" INTEGER,
  "order" TEXT CHECK ("order" IN ('asc', '<b>x</b>', 'it''s')),
  "say ""cheese""" TEXT,
  "o'clock" TEXT,
  "a/b" TEXT,
  "til~de" TEXT,
  homepage TEXT
);
INSERT INTO "${HOSTILE}" VALUES
  (1, '<script>alert("row")</script>', 1, '<b>x</b>', '"><svg onload=alert(3)>', 'it''s', 'a/b', '~',
   'javascript:alert(document.cookie)'),
  (2, '</textarea><script>alert(4)</script>', NULL, 'it''s', '''><img src=x onerror=alert(5)>', NULL, NULL, NULL,
   ' JavaScript:alert(6)');
CREATE TABLE "he said ""hi""" (id INTEGER PRIMARY KEY, "it's" TEXT);
INSERT INTO "he said ""hi""" VALUES (1, '"double"');
CREATE TABLE "it's" (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO "it's" VALUES (1, 'single');
CREATE TABLE "[brackets]" (id INTEGER PRIMARY KEY, note TEXT);
CREATE TABLE "back\`tick" (id INTEGER PRIMARY KEY, note TEXT);
CREATE TABLE "semi;colon" (id INTEGER PRIMARY KEY, note TEXT);
CREATE TABLE "with space" (id INTEGER PRIMARY KEY, note TEXT);
CREATE TABLE "new
line" (id INTEGER PRIMARY KEY, note TEXT);
CREATE TABLE "emoji 🎉" (id INTEGER PRIMARY KEY, note TEXT);
CREATE TABLE "עברית" ("מזהה" INTEGER PRIMARY KEY, "שם" TEXT NOT NULL);
INSERT INTO "עברית" VALUES (1, 'שלום');
CREATE TABLE "a/b?c#d%e&f=g" (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO "a/b?c#d%e&f=g" VALUES (1, 'url characters');
CREATE TABLE "select" ("where" TEXT PRIMARY KEY, "group" INTEGER);
INSERT INTO "select" VALUES ('<here>', 1), ('a,b', 2);
`;

/**
 * The same fixture in Postgres, as a person porting it would write it:
 * INTEGER PRIMARY KEY as an identity column (so a create may leave it out, as
 * on SQLite), REAL as double precision, 0/1 booleans as booleans, no WITHOUT
 * ROWID. \`loose\` has no primary key, so on Postgres it is a read-only table:
 * the rowid cases are SQLite's alone.
 */
export function pgSchema(): string {
  const s = portToPostgres(SCHEMA.replace(itemsSQL(false), itemsSQL(true)))
    .replace("price    REAL", "price    double precision")
    .replace("in_stock BOOLEAN NOT NULL DEFAULT 1", "in_stock BOOLEAN NOT NULL DEFAULT true")
    .replace("INSERT INTO loose (rowid, name, qty) VALUES (1, 'one', 1), (2, 'two', 2), (40, 'forty', 40)",
      "INSERT INTO loose (name, qty) VALUES ('one', 1), ('two', 2), ('forty', 40)");
  return s + identitiesAfterLoad();
}

/**
 * What every port of a test schema to Postgres does: INTEGER PRIMARY KEY
 * as an identity column (so a create may leave it out, as on SQLite), and
 * no WITHOUT ROWID.
 */
export function portToPostgres(sqlite: string): string {
  return sqlite
    .replaceAll("INTEGER PRIMARY KEY", "integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    .replaceAll(") WITHOUT ROWID;", ");");
}

/**
 * Rows loaded with explicit keys leave an identity's sequence at 1: move
 * every one past the largest key, as pg_dump's setval lines do, and to
 * `from` at least.
 */
export function identitiesAfterLoad(from = 1): string {
  return `
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT table_name, column_name FROM information_schema.columns
           WHERE is_identity = 'YES' AND table_schema = current_schema() LOOP
    EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), greatest(coalesce(max(%I), 0) + 1, ${from}), false) FROM %I',
                   quote_ident(r.table_name), r.column_name, r.column_name, r.table_name);
  END LOOP;
END $$;
`;
}

/** Opens a SQLite file with node:sqlite. */
export function openDB(file: string, readOnly = false) {
  // An outside writer waits for the server's own writes (a live tick's log
  // pruning after a large import, say), as the sqlite3 shell with .timeout
  // does, instead of failing at once with "database is locked".
  return new DatabaseSync(file, { readOnly, timeout: 5000 });
}

/** Builds a fresh test database: a SQLite file, or a fresh Postgres database given by URL. */
export function buildFixture(file: string): void {
  if (isPostgres(file)) {
    pgExec(file, pgSchema());
    return;
  }
  const db = openDB(file);
  try {
    db.exec(SCHEMA);
  } finally {
    db.close();
  }
}

/** Copies chinook to dir when the shared copy exists; returns its path or null. */
export function copyChinook(dir: string): string | null {
  if (!existsSync(chinookPath)) return null;
  const out = join(dir, "chinook.sqlite");
  copyFileSync(chinookPath, out);
  return out;
}

/** Runs one query on a SQLite file or a Postgres URL and returns every row. */
export function query(file: string, sql: string, ...params: (string | number | null)[]): Record<string, unknown>[] {
  if (isPostgres(file)) return pgQuery(file, sql, ...params);
  const db = openDB(file);
  try {
    return db.prepare(sql).all(...params) as Record<string, unknown>[];
  } finally {
    db.close();
  }
}
