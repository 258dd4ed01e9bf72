-- What Postgres has and SQLite lacks, each as the JSON Schema, the form and
-- the JSON API show it (README, "PostgreSQL": the type table).
CREATE TYPE mood AS ENUM ('happy', 'sad', 'it''s <complicated>');
CREATE DOMAIN percent AS integer CHECK (VALUE BETWEEN 0 AND 100);
CREATE TABLE owner (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name varchar(40) NOT NULL
);
COMMENT ON TABLE owner IS 'Who owns things';
CREATE TABLE thing (
  id bigserial PRIMARY KEY,
  label text NOT NULL CHECK (length(label) <= 60),
  kind varchar(10) NOT NULL DEFAULT 'tool' CHECK (kind IN ('tool', 'toy')),
  price numeric(8,2) CHECK (price >= 0),
  ratio real,
  share percent,
  ok boolean NOT NULL DEFAULT false,
  feeling mood,
  token uuid,
  born date,
  at_time time,
  seen timestamp,
  seen_tz timestamptz,
  span interval,
  doc jsonb,
  raw bytea,
  tags text[],
  owner_id integer REFERENCES owner (id),
  parent_id bigint REFERENCES thing (id),
  label_upper text GENERATED ALWAYS AS (upper(label)) STORED
);
COMMENT ON COLUMN thing.price IS 'In euros';
CREATE TABLE part (
  thing_id bigint NOT NULL REFERENCES thing (id),
  n smallint NOT NULL,
  note text,
  PRIMARY KEY (thing_id, n)
);
CREATE TABLE part_note (
  id serial PRIMARY KEY,
  thing_id bigint NOT NULL,
  n smallint NOT NULL,
  body text,
  FOREIGN KEY (thing_id, n) REFERENCES part (thing_id, n)
);
CREATE VIEW cheap AS SELECT id, label, price FROM thing WHERE price < 10;
CREATE VIEW kinds AS SELECT kind, count(*) AS n FROM thing GROUP BY kind;
INSERT INTO owner (name) VALUES ('Ada'), ('<b>Grace</b>');
INSERT INTO thing (label, kind, price, ratio, share, ok, feeling, token, born, at_time, seen, seen_tz, span, doc, raw, tags, owner_id, parent_id) VALUES
  ('Hammer', 'tool', 12.50, 0.5, 40, true, 'happy', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29', '08:15:00', '2024-03-01 10:00:00', '2024-03-01 10:00:00+02', '1 day 02:00:00', '{"b": 1, "a": [true, null]}', '\x00ff10', '{a,"b c"}', 1, NULL),
  ('Kite', 'toy', 3.99, NULL, NULL, false, 'it''s <complicated>', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 2, 1);
INSERT INTO part VALUES (1, 1, 'head'), (1, 2, 'handle');
INSERT INTO part_note (thing_id, n, body) VALUES (1, 2, 'oak');
