-- Views are reflected read-only: listed, readable, never written.
CREATE TABLE staff (
  id     INTEGER PRIMARY KEY,
  name   TEXT NOT NULL,
  dept   TEXT NOT NULL CHECK (dept IN ('eng', 'ops', 'sales')),
  salary INTEGER CHECK (salary >= 0),
  joined DATE
);
INSERT INTO staff VALUES
  (1, 'Ada', 'eng', 120, '2020-03-01'),
  (2, 'Grace', 'eng', 130, '2019-07-15'),
  (3, 'Linus', 'ops', 90, '2021-01-10'),
  (4, 'Margaret', 'sales', 100, NULL),
  (5, 'Ken', 'eng', NULL, '2022-11-30');

CREATE VIEW eng_staff AS SELECT id, name, salary, joined FROM staff WHERE dept = 'eng';
CREATE VIEW dept_totals AS
  SELECT dept, count(*) AS people, sum(salary) AS total, max(joined) AS latest
    FROM staff GROUP BY dept ORDER BY dept;
CREATE VIEW "view with spaces" AS SELECT name AS "who?", upper(dept) AS "Dept" FROM staff ORDER BY id;
