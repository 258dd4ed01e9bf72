-- One column per row of CONTRACT.md's type table, nullable and NOT NULL, with a
-- DEFAULT of every literal kind (and two expressions, which the schema must not
-- carry as "default").
CREATE TABLE every_type (
  id             INTEGER PRIMARY KEY,
  c_int          INT,
  c_integer      INTEGER NOT NULL DEFAULT 0,
  c_bigint       BIGINT DEFAULT -42,
  c_unsigned     UNSIGNED BIG INT,
  c_hex_default  INTEGER DEFAULT 0x1F,
  c_real         REAL DEFAULT 1.5,
  c_float        FLOAT NOT NULL DEFAULT +2,
  c_double       DOUBLE PRECISION DEFAULT -2.5e3,
  c_numeric      NUMERIC,
  c_decimal      DECIMAL(10, 2) DEFAULT 9.99,
  c_text         TEXT DEFAULT 'hello',
  c_quote        TEXT DEFAULT 'it''s "quoted"',
  c_empty        TEXT NOT NULL DEFAULT '',
  c_char         CHAR(3),
  c_varchar      VARCHAR(20) NOT NULL DEFAULT 'short',
  c_nvarchar     NVARCHAR(50),
  c_varying      CHARACTER VARYING(7),
  c_clob         CLOB,
  c_untyped,
  c_blob         BLOB,
  c_bool         BOOLEAN NOT NULL DEFAULT TRUE,
  c_bool_false   BOOL DEFAULT FALSE,
  c_bool_int     BOOLEAN DEFAULT 1,
  c_date         DATE DEFAULT '2024-02-29',
  c_datetime     DATETIME,
  c_timestamp    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  c_null_default TEXT DEFAULT NULL,
  c_expr_default INTEGER DEFAULT (6 * 7),
  c_generated    INTEGER GENERATED ALWAYS AS (c_integer * 2) VIRTUAL,
  c_stored       TEXT GENERATED ALWAYS AS (c_text || '!') STORED,
  c_required     TEXT NOT NULL
);

INSERT INTO every_type (id, c_int, c_integer, c_bigint, c_unsigned, c_real, c_float, c_double, c_numeric,
                        c_decimal, c_text, c_char, c_varchar, c_nvarchar, c_varying, c_clob, c_untyped,
                        c_blob, c_bool, c_bool_false, c_bool_int, c_date, c_datetime, c_timestamp, c_required)
VALUES
  (1, 7, 42, 9007199254740993, 9223372036854775807, 0.1, 3.25, -1e-7, 12.5, 1234.56, 'text', 'abc',
   'twenty characters!!!', 'ñandú', 'varying', 'a clob', 'untyped value', x'00FF10', 1, 0, NULL,
   '2024-01-31', '2024-01-31 23:59:59', '2000-01-01 00:00:00', 'first'),
  (2, NULL, -5, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, '', NULL, NULL, NULL, 12,
   NULL, 0, NULL, NULL, NULL, NULL, '2000-01-02 00:00:00', 'second');

-- Column types SQLite stores outside their affinity: the API shows what is stored.
CREATE TABLE loose_values (
  id      INTEGER PRIMARY KEY,
  n       INTEGER,
  r       REAL,
  flag    BOOLEAN,
  day     DATE
);
INSERT INTO loose_values VALUES
  (1, 'not a number', 'abc', 2, 'someday'),
  (2, 3.5, 4, 0, 20240101),
  (3, -9223372036854775808, 1e300, 1, '2024-12-31');
