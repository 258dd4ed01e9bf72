-- CSV export: quoting, NULL against the empty string, numbers, booleans, blobs,
-- non-ASCII, line breaks, formula-looking text, composite and rowid keys, a view.
CREATE TABLE people (
  id      INTEGER PRIMARY KEY,
  name    TEXT NOT NULL,
  note    TEXT,
  score   REAL,
  active  BOOLEAN,
  born    DATE,
  avatar  BLOB
);
INSERT INTO people VALUES
  (1, 'Plain', 'simple', 1.5, 1, '1990-01-01', NULL),
  (2, 'Comma, Inside', 'has "double quotes"', -0.25, 0, NULL, x'00010203'),
  (3, 'Line
Break', 'carriage' || char(13) || char(10) || 'return', 1e21, NULL, '2000-02-29', x''),
  (4, 'Empty note', '', 0, 1, NULL, NULL),
  (5, 'Null note', NULL, NULL, NULL, NULL, NULL),
  (6, '=HYPERLINK("http://evil.example")', '+1', 3, 0, NULL, NULL),
  (7, '  spaces around  ', '-2', 100, 1, NULL, NULL),
  (8, 'Zoë 🎉 שלום', '@handle', 9007199254740993, 1, NULL, NULL);

CREATE TABLE "odd, ""headers""" (
  "a,b" TEXT, "say ""hi""" TEXT, "line
break" TEXT, "ünï" INTEGER, PRIMARY KEY ("a,b", "ünï")
) WITHOUT ROWID;
INSERT INTO "odd, ""headers""" VALUES ('x', 'y', 'z', 1), ('x,2', '"', NULL, 2);

CREATE TABLE loose (name TEXT, qty INTEGER);
INSERT INTO loose (rowid, name, qty) VALUES (3, 'three', 3), (1, 'one', 1);

CREATE TABLE empty_list (id INTEGER PRIMARY KEY, name TEXT);

CREATE VIEW people_names AS SELECT id, name FROM people WHERE note IS NOT NULL ORDER BY id;
