// An Express app that keeps its own routes and mounts nakedhtmx at /admin.
//
//   node server.js                  (PORT and DB from the environment, or 3000 and shop.db)

import express from "express";
import { nakedhtmx } from "nakedhtmx";
import { DatabaseSync } from "node:sqlite";

const db = process.env.DB ?? "shop.db";
const port = Number(process.env.PORT ?? 3000);

const shop = new DatabaseSync(db);
shop.exec(`CREATE TABLE IF NOT EXISTS products (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  price REAL NOT NULL CHECK (price >= 0),
  in_stock INTEGER NOT NULL DEFAULT 1 CHECK (in_stock IN (0, 1))
)`);

// basePath: every link, form, asset and event-stream URL nakedhtmx emits starts with it.
const nh = await nakedhtmx({ db, basePath: "/admin" });

const app = express();

// The shop's own pages and API, reading the same database.
app.get("/", (_req, res) => {
  const rows = shop.prepare("SELECT name, price FROM products WHERE in_stock ORDER BY name").all();
  const items = rows.map((r) => `<li>${escape(r.name)}: ${r.price.toFixed(2)}</li>`).join("");
  res.type("html").send(`<!doctype html><title>Shop</title><h1>Shop</h1><ul>${items}</ul><a href="/admin/">Admin</a>`);
});
app.get("/api/health", (_req, res) => res.json({ ok: true }));

// Everything under /admin is nakedhtmx; it reads its own request bodies, so
// mount it before any body-parsing middleware.
app.use("/admin", nh.node);

const server = app.listen(port, "127.0.0.1", () => {
  console.log(`shop on http://127.0.0.1:${server.address().port}/ (admin at /admin/)`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await nh.close(); // ends the event streams, which close() would wait for
    server.close(() => {
      shop.close();
      process.exit(0);
    });
  });
}

function escape(s) {
  return String(s).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
