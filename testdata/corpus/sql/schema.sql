-- The SQL page and stored queries (issue 17): a hidden column with an
-- index on it, a hidden table, a hostile name, a view, dates for a line.
CREATE TABLE "us""e<r>s" (id INTEGER PRIMARY KEY, name TEXT NOT NULL, secret TEXT, age INTEGER);
INSERT INTO "us""e<r>s" VALUES (1, 'ann', 's1', 30), (2, '<b>bob</b>', 's2', 40), (3, 'cy', 's3', 50);
CREATE INDEX by_secret ON "us""e<r>s" (secret);
CREATE TABLE pets (id INTEGER PRIMARY KEY, owner INTEGER REFERENCES "us""e<r>s" (id), kind TEXT, born TEXT, weight REAL);
INSERT INTO pets VALUES (1, 1, 'cat', '2024-01-05', 4.5), (2, 1, 'dog', '2024-02-11', 20.25), (3, 2, 'cat', '2024-03-20', 3.75),
  (4, 3, '=cmd()', '2024-04-02', NULL);
CREATE TABLE vault (id INTEGER PRIMARY KEY, code TEXT);
INSERT INTO vault VALUES (1, 'top');
CREATE VIEW owners AS SELECT u.name, count(p.id) AS pets FROM "us""e<r>s" u LEFT JOIN pets p ON p.owner = u.id GROUP BY u.id;
