-- The SQLite case of the same name, in Postgres's dialect and types: real
-- DATE and TIMESTAMP columns, a real BOOLEAN, NUMERIC money.
CREATE TABLE "g<e>""nre" (id INTEGER PRIMARY KEY, "na'me" TEXT NOT NULL);
INSERT INTO "g<e>""nre" VALUES (1, 'Rock & Roll'), (2, '<b>Jazz</b>'), (3, 'Blues');

CREATE TABLE sales (
  id INTEGER PRIMARY KEY,
  "ki<nd>" TEXT,
  genre_id INTEGER REFERENCES "g<e>""nre" (id),
  sold DATE,
  at TIMESTAMP,
  qty INTEGER,
  price DOUBLE PRECISION,
  paid BOOLEAN NOT NULL DEFAULT false,
  note TEXT
);
INSERT INTO sales (id, "ki<nd>", genre_id, sold, at, qty, price, paid, note)
SELECT i,
  CASE i % 4 WHEN 0 THEN 'vinyl' WHEN 1 THEN 'cd' WHEN 2 THEN '' ELSE NULL END,
  CASE WHEN i % 5 = 0 THEN NULL ELSE 1 + i % 3 END,
  DATE '2023-11-20' + i * 9,
  TIMESTAMP '2024-02-28 22:00:00' + i * INTERVAL '7 hours',
  i % 7,
  round(i * 1.25, 2),
  i % 2 = 1,
  'note ' || i
FROM generate_series(1, 45) AS i;
