// Schema edits through the JSON API (issue 18), the same walk on every host
// and both stores, each on a server and database of its own (the main suite
// holds its schema still): a table made, another pointing at it, an index
// and a trigger of the user's, a column added, renamed and retyped (SQLite
// rebuilds the table; Postgres casts), a loss asked for before it is made,
// and every row, index, trigger and foreign key still there afterwards.

import { request } from "./client.ts";
import { check, eq, status } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any; // answers are checked field by field

export interface Store {
  query(sql: string): Record<string, unknown>[];
  exec(sql: string): void;
  pg: boolean;
}

export async function schemaEditWalk(base: URL, db: Store): Promise<void> {
  const api = async (method: string, path: string, body?: unknown) => {
    const a = await request(base, method, path, {
      headers: { "content-type": "application/json", accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { a, j: JSON.parse(a.text || "null") as Json };
  };
  const edit = async (body: Json, want: number, what: string): Promise<Json> => {
    const { a, j } = await api("POST", "/api/structure", body);
    status(a, want, what);
    return j;
  };
  const pg = db.pg;
  const dsid0 = (await api("GET", "/api/schema")).j.dsid;
  await edit({ op: "createTable", table: "edit_parent", columns: [{ name: "id", autoKey: true }, { name: "code", type: "TEXT", notNull: true }, { name: "qty", type: "TEXT" }] }, 200, "a new table");
  await edit({ op: "createTable", table: "edit_child", columns: [{ name: "id", autoKey: true }, { name: "parent", type: "INTEGER", references: { table: "edit_parent", column: "id", onDelete: "CASCADE" } }] }, 200, "a table pointing at it");
  for (const [code, qty] of [["a", "007"], ["b", "12"]]) {
    const { a, j } = await api("POST", "/api/tables/edit_parent/rows", { code, qty });
    status(a, 201, "a row of the new table");
    status((await api("POST", "/api/tables/edit_child/rows", { parent: j.row.id })).a, 201, "a child row");
  }
  await edit({ op: "addIndex", table: "edit_parent", index: { columns: ["code"] } }, 200, "an index");
  db.exec(pg
    ? `CREATE FUNCTION edit_touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN NEW.code := NEW.code; RETURN NEW; END'; CREATE TRIGGER edit_touch BEFORE UPDATE ON edit_parent FOR EACH ROW EXECUTE FUNCTION edit_touch()`
    : `CREATE TRIGGER edit_touch AFTER UPDATE ON edit_parent BEGIN SELECT 1; END`);
  await edit({ op: "addColumn", table: "edit_parent", def: { name: "note", type: "TEXT", default: "it's" } }, 200, "a column with a default");
  await edit({ op: "alterColumn", table: "edit_parent", column: "code", def: { name: "label", type: "TEXT", notNull: true } }, 200, "a column renamed");
  // Text to integer: '007' would become 7 (SQLite rebuilds the table; Postgres casts).
  const retype = { op: "alterColumn", table: "edit_parent", column: "qty", def: { name: "qty", type: "INTEGER" } };
  const preview = await edit({ ...retype, dryRun: true }, 200, "the preview");
  check(preview.losses.length === 1, `the preview's losses: ${JSON.stringify(preview)}`);
  check(!JSON.stringify(preview).includes("_nakedhtmx"), `the preview names nakedhtmx's own objects: ${JSON.stringify(preview)}`);
  await edit(retype, 409, "a lossy change, unconfirmed");
  eq(db.query("SELECT qty FROM edit_parent ORDER BY id").map((r) => String(r.qty)), ["007", "12"], "values after an unconfirmed change");
  const done = await edit({ ...retype, confirm: true }, 200, "the change, confirmed");
  check(done.dsid !== dsid0, "the DSID moved");
  eq(db.query("SELECT qty, label, note FROM edit_parent ORDER BY id").map((r) => [Number(r.qty), r.label, r.note]), [[7, "a", "it's"], [12, "b", "it's"]], "the rows after the edits");
  eq(Number(db.query("SELECT count(*) AS n FROM edit_child")[0].n), 2, "no child row lost to ON DELETE CASCADE");
  const kept = pg
    ? db.query("SELECT indexname AS name FROM pg_indexes WHERE tablename = 'edit_parent' AND indexname = 'edit_parent_code_idx' UNION ALL SELECT tgname FROM pg_trigger WHERE tgname = 'edit_touch'")
    : db.query("SELECT name FROM sqlite_schema WHERE tbl_name = 'edit_parent' AND name IN ('edit_parent_code_idx', 'edit_touch')");
  eq(kept.length, 2, "the index and the trigger kept");
  const schema = (await api("GET", "/api/schema/edit_parent")).j;
  eq(Object.keys(schema.properties), ["id", "label", "qty", "note"], "the schema's columns");
  eq(schema.properties.qty.type, ["integer", "null"], "the retyped column's JSON Schema type");
  const { a: bad } = await api("POST", "/api/tables/edit_child/rows", { parent: 9999 });
  check(bad.status >= 400, `a dangling reference after the edits: ${bad.status}`);
  const hostile = await edit({ op: "addColumn", table: "edit_parent", def: { name: "x", check: "1); DROP TABLE edit_child; --" } }, 422, "a CHECK that would end its statement");
  check(String(hostile.error).includes("CHECK"), `the refusal: ${JSON.stringify(hostile)}`);
  await edit({ op: "addColumn", table: "edit_parent", def: { name: "x", type: "INT); DROP TABLE edit_child; --" } }, 422, "a type that would end its statement");
  await edit({ op: "dropTable", table: "edit_parent", confirm: true }, 422, "a table others point at");
  await edit({ op: "dropTable", table: "edit_child" }, 409, "a table with rows, unconfirmed");
  await edit({ op: "dropTable", table: "edit_child", confirm: true }, 200, "a table with rows, confirmed");
  await edit({ op: "dropTable", table: "edit_parent", confirm: true }, 200, "the other table");
  eq(db.query(pg ? "SELECT tablename FROM pg_tables WHERE tablename LIKE 'edit_%'" : "SELECT name FROM sqlite_schema WHERE name LIKE 'edit_%'").length, 0, "the tables gone");
}
