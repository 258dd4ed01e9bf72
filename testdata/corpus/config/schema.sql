-- The todo example's schema (examples/todo) with its config, served under a
-- base path: every URL in every answer must start with /admin (corpus.Test
-- checks it), read-only columns stay off the create form, labels and order
-- come from config.json, a hidden table and a hidden column never show, and
-- an append-only table takes inserts but no updates or deletes.
CREATE TABLE todos (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  done BOOLEAN NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  owner_secret TEXT
);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
-- An append-only table: config allows inserts and nothing else.
CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT NOT NULL);
INSERT INTO audit VALUES (1, 'opened the shop');
INSERT INTO todos (id, title, done, created_at, owner_secret) VALUES
  (1, 'Buy milk', 0, '2026-01-02 09:00:00', 's1'),
  (2, 'Write the <b>report</b>', 1, '2026-01-03 10:30:00', 's2'),
  (3, 'Call Ada', 0, '2026-01-04 11:45:00', NULL);
