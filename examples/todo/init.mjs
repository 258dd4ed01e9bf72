// Creates todo.db from schema.sql with the runtime's own SQLite (node:sqlite on
// Node and Deno, bun:sqlite on Bun). Any SQLite does: sqlite3 todo.db < schema.sql
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? "todo.db";
const sql = readFileSync(new URL("./schema.sql", import.meta.url), "utf8");
if (process.versions.bun) {
  const { Database } = await import("bun:sqlite");
  const db = new Database(file);
  db.run(sql);
  db.close();
} else {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(file);
  db.exec(sql);
  db.close();
}
