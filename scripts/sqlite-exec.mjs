// Runs an SQL file on a SQLite database with the runtime's own SQLite
// (node:sqlite), so `make demo` needs no sqlite3 binary.
// Usage: node scripts/sqlite-exec.mjs DB FILE.sql
import { DatabaseSync } from "node:sqlite";
import { readFileSync } from "node:fs";

const [db, file] = process.argv.slice(2);
if (!db || !file) {
  console.error("usage: node scripts/sqlite-exec.mjs DB FILE.sql");
  process.exit(2);
}
const conn = new DatabaseSync(db);
conn.exec("PRAGMA journal_mode = WAL");
conn.exec(readFileSync(file, "utf8"));
conn.close();
