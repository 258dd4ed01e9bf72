CREATE TABLE kinds (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO kinds VALUES (1, 'tool'), (2, 'toy');
CREATE TABLE "it""em<s>" (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  qty INTEGER NOT NULL DEFAULT 1 CHECK (qty >= 0),
  price REAL,
  kind INTEGER REFERENCES kinds(id),
  "n<o>te" TEXT
);
INSERT INTO "it""em<s>" VALUES (1, 'old', 3, 1.5, 1, NULL);
