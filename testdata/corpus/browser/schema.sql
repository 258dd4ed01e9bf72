-- Browser safety (CONTRACT, "Browser safety"): Host names the server answers
-- to and those it refuses (DNS rebinding), the headers of every answer with
-- embedding origins configured, and CSV cells a spreadsheet would run.
CREATE TABLE sheet (
  id     INTEGER PRIMARY KEY,
  "=cmd" TEXT,
  label  TEXT,
  n      INTEGER,
  x      REAL
);
INSERT INTO sheet VALUES
  (1, '=HYPERLINK("http://evil/","click")', '+cmd|'' /C calc''!A0', -5, -1.5),
  (2, '@SUM(A1:A9)', '-2+3', 7, 2.5),
  (3, char(9) || '=1+1', char(13) || '=1+1', 0, -0.0),
  (4, 'plain', ' =not at the start', -9223372036854775808, 1e308),
  (5, '', NULL, NULL, NULL);
