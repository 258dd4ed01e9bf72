-- The HTML pages: index, list (sorted, filtered, searched, paged, as an htmx
-- fragment), row page, create form, an invalid POST with inline errors, update,
-- delete with its confirmation page.
CREATE TABLE books (
  id        INTEGER PRIMARY KEY,
  title     VARCHAR(60) NOT NULL,
  author    TEXT NOT NULL,
  year      INTEGER CHECK (year BETWEEN 1400 AND 2100),
  genre     TEXT NOT NULL DEFAULT 'novel' CHECK (genre IN ('novel', 'poetry', 'drama', 'essay')),
  available BOOLEAN NOT NULL DEFAULT 1,
  added     DATE
);
INSERT INTO books VALUES
  (1, 'Moby-Dick', 'Herman Melville', 1851, 'novel', 1, '2024-01-05'),
  (2, 'Leaves of Grass', 'Walt Whitman', 1855, 'poetry', 1, '2024-01-06'),
  (3, 'Hamlet', 'William Shakespeare', 1603, 'drama', 0, '2024-01-07'),
  (4, 'Great Expectations', 'Charles Dickens', 1861, 'novel', 1, '2024-01-08'),
  (5, 'Bleak House', 'Charles Dickens', 1853, 'novel', 1, NULL),
  (6, 'Self-Reliance', 'Ralph Waldo Emerson', 1841, 'essay', 1, '2024-01-10'),
  (7, 'The Raven', 'Edgar Allan Poe', 1845, 'poetry', 0, '2024-01-11');

CREATE TABLE shelves (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
INSERT INTO shelves VALUES (1, 'Front window');
CREATE TABLE empty_table (id INTEGER PRIMARY KEY, name TEXT);
