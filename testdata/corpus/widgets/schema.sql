-- One column per widget the UI schema chooses by type, constraint and name.
CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO companies VALUES (1, 'Acme Ltd'), (2, 'Globex & Sons'), (3, 'Initech');

CREATE TABLE contacts (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL,
  email        TEXT,
  work_email   TEXT,
  website      TEXT,
  homepage_url TEXT,
  phone        TEXT,
  mobile       TEXT,
  birthday     DATE,
  last_seen    DATETIME,
  created      TIMESTAMP,
  active       BOOLEAN NOT NULL DEFAULT 1,
  vip          BOOLEAN,
  description  TEXT,
  notes        TEXT,
  body         TEXT,
  comment      TEXT,
  short_code   VARCHAR(10),
  long_text    VARCHAR(1000),
  kind         TEXT NOT NULL DEFAULT 'friend' CHECK (kind IN ('friend', 'work', 'family')),
  tier         TEXT CHECK (tier IN ('gold', 'silver')),
  company_id   INTEGER REFERENCES companies (id),
  score        REAL CHECK (score >= 0 AND score <= 10),
  visits       INTEGER,
  photo        BLOB,
  plain        TEXT
);
INSERT INTO contacts VALUES
  (1, 'Ines Duarte', 'ines@example.com', 'ines.duarte@work.example.com', 'https://ines.example.com',
   'https://example.org/~ines', '+351 21 000 0000', '+351 91 000 0000', '1990-05-17', '2024-06-01 14:30:00',
   '2024-01-01 09:00:00', 1, 0, 'A long description
over two lines.', 'Met at the conference.', 'Body text', 'A comment', 'ID-42',
   'Some long text that could go on for a while', 'work', 'gold', 2, 7.5, 12, x'89504E47', 'plain text');
