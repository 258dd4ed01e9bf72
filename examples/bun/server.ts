// nakedhtmx on Bun: Bun.serve with the library's fetch handler.
//
//   bun server.ts                   (PORT and DB from the environment, or 3000 and notes.db)

import { Database } from "bun:sqlite";
import { nakedhtmx } from "nakedhtmx";

const db = process.env.DB ?? "notes.db";
const port = Number(process.env.PORT ?? 3000);

// The app owns its schema; nakedhtmx only reflects it.
const setup = new Database(db);
setup.run(`CREATE TABLE IF NOT EXISTS notes (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  body TEXT,
  pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1))
)`);
setup.close();

const nh = await nakedhtmx({ db });
// nh.fetch takes Bun's server as its second argument: it lifts the idle
// timeout for event streams, which stay quiet between keep-alives.
const server = Bun.serve({ port, hostname: "127.0.0.1", fetch: nh.fetch });
console.log(`notes on http://${server.hostname}:${server.port}/`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    await nh.close(); // ends the event streams, so stop() has nothing to wait for
    await server.stop();
    process.exit(0);
  });
}
