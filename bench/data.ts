// The benchmark's one database, built once and copied for every server:
// Chinook's tables when ../shared/testdata/chinook.sqlite is there (skipped
// cleanly when not), and two generated tables of the same shape, items_1k
// (1,000 rows) and items_1m (1,000,000 rows), for "does a list page stay flat
// as the table grows". Rows come from a seeded generator, so every run and
// every peer sees the same data. Rebuilt when this file is newer than it.
//
//   node bench/data.ts [--out .cache/bench/bench.sqlite]  (prints the path)

import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";

export const root = resolve(import.meta.dirname, "..");
export const chinookPath = resolve(root, "..", "shared", "testdata", "chinook.sqlite");

export const ITEMS = { items_1k: 1_000, items_1m: 1_000_000 } as const;
export const ITEMS_SQL = (name: string) =>
  `CREATE TABLE ${name} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price REAL NOT NULL, note TEXT)`;

/** mulberry32: small, fast, and the same numbers everywhere. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ["amber", "basalt", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
  "kestrel", "lumen", "meadow", "nimbus", "onyx", "prairie", "quartz", "ridge", "sierra", "tundra"];

/** Creates `table` (ITEMS_SQL) and fills it with n seeded rows. */
export function fill(db: DatabaseSync, table: string, n: number): void {
  const r = rng(n);
  db.exec(ITEMS_SQL(table));
  const ins = db.prepare(`INSERT INTO ${table} (id, name, qty, price, note) VALUES (?, ?, ?, ?, ?)`);
  db.exec("BEGIN");
  for (let i = 1; i <= n; i++) {
    const w = () => WORDS[Math.floor(r() * WORDS.length)];
    ins.run(i, `${w()} ${w()} ${i}`, Math.floor(r() * 1000), Math.round(r() * 100000) / 100, r() < 0.3 ? null : `${w()} note`);
  }
  db.exec("COMMIT");
}

/** Builds the file unless it is there and newer than this script; returns its path. */
export function ensureData(out = join(root, ".cache", "bench", "bench.sqlite")): { path: string; chinook: boolean } {
  const chinook = existsSync(chinookPath);
  const fresh = existsSync(out) && statSync(out).mtimeMs > statSync(import.meta.filename).mtimeMs;
  if (fresh) {
    const db = new DatabaseSync(out, { readOnly: true });
    const has = db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE name = 'Track'`).get() as { n: number };
    db.close();
    if ((has.n === 1) === chinook) return { path: out, chinook };
  }
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp`;
  rmSync(tmp, { force: true });
  if (chinook) {
    copyFileSync(chinookPath, tmp);
    chmodSync(tmp, 0o644); // ../shared is read-only, and so would be the copy
  }
  const db = new DatabaseSync(tmp);
  db.exec("PRAGMA journal_mode = DELETE");
  for (const [name, n] of Object.entries(ITEMS)) fill(db, name, n);
  db.exec("VACUUM");
  db.close();
  renameSync(tmp, out);
  return { path: out, chinook };
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  const t0 = performance.now();
  const { path, chinook } = ensureData(values.out ? resolve(values.out) : undefined);
  console.error(`bench data: ${path} (${chinook ? "Chinook + " : "no Chinook; "}items_1k, items_1m) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(path);
}
