-- Facets and aggregates (issue 17): hostile names as facet and total
-- columns, a reference shown by its label, dates grouped by year, month and
-- day, NULL and empty text as values of their own, booleans, a facet with
-- more values than it shows, and the totals of whole and fractional numbers.
CREATE TABLE "g<e>""nre" (id INTEGER PRIMARY KEY, "na'me" TEXT NOT NULL);
INSERT INTO "g<e>""nre" VALUES (1, 'Rock & Roll'), (2, '<b>Jazz</b>'), (3, 'Blues');

CREATE TABLE sales (
  id INTEGER PRIMARY KEY,
  "ki<nd>" TEXT,
  genre_id INTEGER REFERENCES "g<e>""nre" (id),
  sold DATE,
  at DATETIME,
  qty INTEGER,
  price REAL,
  paid BOOLEAN NOT NULL DEFAULT 0,
  note TEXT
);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 45)
INSERT INTO sales (id, "ki<nd>", genre_id, sold, at, qty, price, paid, note)
SELECT i,
  CASE i % 4 WHEN 0 THEN 'vinyl' WHEN 1 THEN 'cd' WHEN 2 THEN '' ELSE NULL END,
  CASE WHEN i % 5 = 0 THEN NULL ELSE 1 + i % 3 END,
  date('2023-11-20', '+' || (i * 9) || ' days'),
  datetime('2024-02-28 22:00:00', '+' || (i * 7) || ' hours'),
  i % 7,
  round(i * 1.25, 2),
  i % 2,
  'note ' || i
FROM n;
