-- Foreign keys and the label column a reference widget shows for the parent row:
-- a column called name, title or label, else one ending so, else the first text
-- column that is not a key, else none.
CREATE TABLE countries (code TEXT PRIMARY KEY, population INTEGER, name TEXT NOT NULL);
CREATE TABLE genres (id INTEGER PRIMARY KEY, slug TEXT, title TEXT NOT NULL);
CREATE TABLE tags (id INTEGER PRIMARY KEY, colour TEXT, label TEXT NOT NULL);
CREATE TABLE people (id INTEGER PRIMARY KEY, age INTEGER, nickname TEXT, full_name TEXT);
CREATE TABLE rooms (id INTEGER PRIMARY KEY, floor INTEGER, building TEXT, wing TEXT);
CREATE TABLE numbers_only (id INTEGER PRIMARY KEY, n INTEGER);
CREATE TABLE seats (room_id INTEGER REFERENCES rooms (id), seat INTEGER, PRIMARY KEY (room_id, seat));

CREATE TABLE events (
  id           INTEGER PRIMARY KEY,
  title        TEXT NOT NULL,
  country      TEXT REFERENCES countries (code),
  genre_id     INTEGER NOT NULL REFERENCES genres,
  tag_id       INTEGER REFERENCES tags (id) ON DELETE SET NULL,
  organiser_id INTEGER REFERENCES people (id),
  room_id      INTEGER,
  seat         INTEGER,
  counter_id   INTEGER REFERENCES numbers_only (id),
  parent_id    INTEGER REFERENCES events (id),
  FOREIGN KEY (room_id, seat) REFERENCES seats (room_id, seat)
);

INSERT INTO countries VALUES ('NO', 5500000, 'Norway'), ('PT', 10300000, 'Portugal'), ('JP', 124000000, 'Japan');
INSERT INTO genres VALUES (1, 'jazz', 'Jazz'), (2, 'folk', 'Folk & Roots'), (3, 'xss', '<b>bold</b> & "quoted"');
INSERT INTO tags VALUES (1, 'green', 'Outdoor'), (2, 'blue', 'Free entry');
INSERT INTO people VALUES (1, 41, 'Gus', 'Augusta Fernandes'), (2, 29, 'Kit', 'Kristoffer Berg');
INSERT INTO rooms VALUES (1, 2, 'Main hall', 'East'), (2, 0, 'Cellar', NULL);
INSERT INTO numbers_only VALUES (1, 100), (2, 200);
INSERT INTO seats VALUES (1, 1), (1, 2), (2, 1);
INSERT INTO events VALUES
  (1, 'Fjord Jazz Night', 'NO', 1, 1, 1, 1, 2, 1, NULL),
  (2, 'Fado at the Cellar', 'PT', 2, NULL, 2, 2, 1, NULL, NULL),
  (3, 'Fado encore', 'PT', 2, 2, NULL, NULL, NULL, 2, 2),
  (4, 'Escaping test', NULL, 3, NULL, NULL, NULL, NULL, NULL, NULL);
