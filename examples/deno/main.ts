// nakedhtmx on Deno: Deno.serve with the library's fetch handler.
//
//   deno run -A main.ts             (PORT and DB from the environment, or 8000 and notes.db)
//
// With JSR: import { nakedhtmx } from "jsr:@nakedhtmx/serve". Here it comes from
// npm (package.json), so the tests can run it against the packed tarball.

import { DatabaseSync } from "node:sqlite";
import { nakedhtmx } from "nakedhtmx";

const db = Deno.env.get("DB") ?? "notes.db";
const port = Number(Deno.env.get("PORT") ?? 8000);

// The app owns its schema; nakedhtmx only reflects it.
const setup = new DatabaseSync(db);
setup.exec(`CREATE TABLE IF NOT EXISTS notes (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  body TEXT,
  pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1))
)`);
setup.close();

const nh = await nakedhtmx({ db });
const server = Deno.serve({
  port,
  hostname: "127.0.0.1",
  onListen: ({ hostname, port }) => console.log(`notes on http://${hostname}:${port}/`),
}, nh.fetch);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    await nh.close(); // first: it ends the event streams that shutdown() would wait for
    await server.shutdown();
    Deno.exit(0);
  });
}
