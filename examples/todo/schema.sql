-- The collaborative todo list of the Datastar demo, as nothing but a schema.
-- nakedhtmx reflects it: a list, a form, a JSON API, and every change live on
-- every open screen. nakedhtmx.json next to it only names things.
CREATE TABLE IF NOT EXISTS todos (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  done BOOLEAN NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
