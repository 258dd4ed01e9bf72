-- Every way a row is addressed: INTEGER PRIMARY KEY (the rowid alias),
-- AUTOINCREMENT, a TEXT key, INT PRIMARY KEY (not an alias), a composite key on a
-- rowid table and on a WITHOUT ROWID table, and a rowid table with no declared key.
-- Key values hold the characters a path must escape.
CREATE TABLE k_int (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE k_auto (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
CREATE TABLE k_text (code TEXT PRIMARY KEY, name TEXT);
CREATE TABLE k_int_not_alias (id INT PRIMARY KEY, name TEXT);
CREATE TABLE k_composite (region TEXT, year INTEGER, total REAL, PRIMARY KEY (region, year));
CREATE TABLE k_without_rowid (a TEXT, b INTEGER, c TEXT NOT NULL, PRIMARY KEY (b, a)) WITHOUT ROWID;
CREATE TABLE k_rowid (name TEXT, qty INTEGER);

INSERT INTO k_int VALUES (1, 'one'), (2, 'two'), (10, 'ten');
INSERT INTO k_auto (id, name) VALUES (1, 'first'), (2, 'second');
DELETE FROM k_auto WHERE id = 2;
INSERT INTO k_text VALUES
  ('plain', 'a plain key'),
  ('a/b', 'a slash'),
  ('with space', 'a space'),
  ('comma,inside', 'a comma'),
  ('50%', 'a percent sign'),
  ('q?x#y', 'a question mark and a hash'),
  ('ünï', 'non-ASCII'),
  ('+plus', 'a plus sign'),
  ('', 'the empty string');
INSERT INTO k_int_not_alias VALUES (7, 'seven'), (-3, 'minus three');
INSERT INTO k_composite VALUES
  ('north', 2023, 10.5),
  ('north', 2024, 11),
  ('south,east', 2024, 7.25),
  ('west/1', 2024, 3);
INSERT INTO k_without_rowid VALUES ('x', 1, 'x1'), ('y', 1, 'y1'), ('x', 2, 'x2'), ('a,b', 3, 'comma');
INSERT INTO k_rowid (rowid, name, qty) VALUES (1, 'apples', 3), (2, 'pears', 5), (5, 'plums', 8);
