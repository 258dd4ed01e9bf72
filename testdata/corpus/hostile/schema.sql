-- Names and values that break careless quoting, escaping and URL building.
-- Nothing here may reach a page unescaped: no raw <script>, no live attribute,
-- no javascript: link; every name must round-trip through paths and JSON Pointers.
CREATE TABLE "<script>alert(1)</script>" (
  id                               INTEGER PRIMARY KEY,
  "<img src=x onerror=alert(2)>"   TEXT,
  "select"                         INTEGER,
  "order"                          TEXT CHECK ("order" IN ('asc', 'desc', '<b>', 'it''s')),
  "from"                           TEXT,
  "o'clock"                        TEXT,
  "say ""cheese"""                 TEXT,
  "[x]"                            TEXT,
  "`tick`"                         TEXT,
  "semi;colon"                     TEXT,
  "line
break"                           TEXT,
  "🎉"                             TEXT,
  "שם"                             TEXT,
  "a/b"                            TEXT,
  "til~de"                         TEXT,
  "f.x"                            TEXT,
  homepage                         TEXT,
  "email"                          TEXT
);
INSERT INTO "<script>alert(1)</script>" VALUES
  (1, '<script>alert("row")</script>', 1, '<b>', 'FROM', '"><svg onload=alert(3)>', 'it''s "fine"', '[1]', '`x`',
   'a; DROP TABLE x; --', 'two
lines', '🎉🎊', 'שלום עולם', 'a/b', '~0~1', 'f', 'javascript:alert(document.cookie)', '"><script>alert(5)</script>@example.com'),
  (2, '‮txet lanigiro‬', NULL, 'it''s', NULL, '&amp; &lt;script&gt;', NULL, NULL, NULL,
   NULL, NULL, NULL, 'عربي', NULL, NULL, NULL, 'https://example.com/?a=1&b=<2>', NULL);

CREATE TABLE "he said ""hi""" (id INTEGER PRIMARY KEY, "it's" TEXT);
INSERT INTO "he said ""hi""" VALUES (1, 'double quotes in the table name');
CREATE TABLE "it's" (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO "it's" VALUES (1, 'a single quote in the table name');
CREATE TABLE "[brackets]" (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO "[brackets]" VALUES (1, 'brackets');
CREATE TABLE "back`tick" (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO "back`tick" VALUES (1, 'a backtick');
CREATE TABLE "semi;colon; DROP TABLE x" (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO "semi;colon; DROP TABLE x" VALUES (1, 'semicolons');
CREATE TABLE "with space" (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO "with space" VALUES (1, 'a space');
CREATE TABLE "new
line" (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO "new
line" VALUES (1, 'a newline in the table name');
CREATE TABLE "emoji 🎉" (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO "emoji 🎉" VALUES (1, 'an emoji');
CREATE TABLE "עברית" ("מזהה" INTEGER PRIMARY KEY, "שם" TEXT NOT NULL);
INSERT INTO "עברית" VALUES (1, 'שלום'), (2, 'עולם');
CREATE TABLE "a/b?c#d%e&f=g" (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO "a/b?c#d%e&f=g" VALUES (1, 'every character a URL cares about');
CREATE TABLE "select" ("where" TEXT PRIMARY KEY, "group" INTEGER, "table" TEXT);
INSERT INTO "select" VALUES ('<here>', 1, 'x'), ('a,b', 2, 'y');
CREATE TABLE "reserved names" (
  id            INTEGER PRIMARY KEY,
  "_dsid"       TEXT,
  "_version"    TEXT,
  "rowid"       TEXT,
  "__proto__"   TEXT,
  "constructor" TEXT
);
INSERT INTO "reserved names" VALUES (1, 'not the dsid', 'not the version', 'not the rowid', 'proto', 'ctor');
