// A Hono app that keeps its own routes and mounts nakedhtmx at /admin.
//
//   bun server.ts                   (PORT and DB from the environment, or 3000 and shop.db)

import { Database } from "bun:sqlite";
import { Hono } from "hono";
import { nakedhtmx } from "nakedhtmx";

const db = process.env.DB ?? "shop.db";
const port = Number(process.env.PORT ?? 3000);

const setup = new Database(db);
setup.run(`CREATE TABLE IF NOT EXISTS products (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  price REAL NOT NULL CHECK (price >= 0),
  in_stock INTEGER NOT NULL DEFAULT 1 CHECK (in_stock IN (0, 1))
)`);

// basePath: every link, form, asset and event-stream URL nakedhtmx emits starts with it.
const nh = await nakedhtmx({ db, basePath: "/admin" });

const app = new Hono();

// The shop's own pages and API, reading the same database.
app.get("/", (c) => {
  const rows = setup.query("SELECT name, price FROM products WHERE in_stock ORDER BY name").all() as {
    name: string;
    price: number;
  }[];
  const items = rows.map((r) => `<li>${escape(r.name)}: ${r.price.toFixed(2)}</li>`).join("");
  return c.html(`<!doctype html><title>Shop</title><h1>Shop</h1><ul>${items}</ul><a href="/admin/">Admin</a>`);
});
app.get("/api/health", (c) => c.json({ ok: true }));

// Everything under /admin is nakedhtmx. c.env is Bun's server: passing it on
// lets event streams outlive Bun's idle timeout.
app.all("/admin", (c) => nh.fetch(c.req.raw, c.env));
app.all("/admin/*", (c) => nh.fetch(c.req.raw, c.env));

const server = Bun.serve({ port, hostname: "127.0.0.1", fetch: app.fetch });
console.log(`shop on http://${server.hostname}:${server.port}/ (admin at /admin/)`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    await nh.close();
    await server.stop();
    setup.close();
    process.exit(0);
  });
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
