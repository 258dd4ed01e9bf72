-- The JSON API end to end: writes and reads in order on one small table.
CREATE TABLE tasks (
  id       INTEGER PRIMARY KEY,
  title    VARCHAR(40) NOT NULL,
  status   TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'doing', 'done')),
  priority INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 5),
  due      DATE,
  done     BOOLEAN NOT NULL DEFAULT 0,
  notes    TEXT
);
INSERT INTO tasks (id, title, status, priority, due, done) VALUES
  (1, 'Buy milk', 'done', 3, '2024-05-01', 1),
  (2, 'Call the plumber', 'todo', 1, '2024-05-02', 0),
  (3, 'File taxes', 'doing', 1, '2024-04-30', 0),
  (4, 'Water the plants', 'todo', 4, NULL, 0),
  (5, 'Book flights', 'todo', 2, '2024-06-15', 0);

-- A user's own table whose name merely looks internal is still the user's.
CREATE TABLE "nakedhtmx_notes" (id INTEGER PRIMARY KEY, body TEXT);
INSERT INTO "nakedhtmx_notes" VALUES (1, 'visible');
