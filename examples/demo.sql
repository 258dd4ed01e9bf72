-- The demo database: Harbor Lane Books, a small independent bookshop.
--
--   sqlite3 examples/demo.db < examples/demo.sql
--
-- Seven tables, one view and one full-text index, chosen so that every widget and
-- every constraint nakedhtmx reflects shows up at least once: foreign keys, CHECK
-- enums and ranges, VARCHAR(n), dates and timestamps, booleans, email, url and
-- phone columns, long descriptions, a composite-key join table (WITHOUT ROWID),
-- an AUTOINCREMENT key, and an external-content FTS5 index kept in sync by triggers.
--
-- The data is deterministic (no random()): the same script gives the same rows,
-- so screenshots and tests see the same shop every time. Phone numbers are in
-- Ofcom's drama range and addresses use example.com/example.org.

PRAGMA foreign_keys = ON;

BEGIN;

CREATE TABLE publishers (
  id       INTEGER PRIMARY KEY,
  name     TEXT NOT NULL UNIQUE,
  website  TEXT,
  phone    TEXT,
  city     TEXT,
  founded  INTEGER CHECK (founded BETWEEN 1450 AND 2100)
);

CREATE TABLE authors (
  id       INTEGER PRIMARY KEY,
  name     VARCHAR(120) NOT NULL,
  email    TEXT,
  born     DATE,
  country  TEXT,
  bio      TEXT
);

CREATE TABLE books (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  title        VARCHAR(200) NOT NULL,
  isbn         CHAR(13) UNIQUE CHECK (length(isbn) = 13),
  publisher_id INTEGER REFERENCES publishers (id) ON DELETE SET NULL,
  genre        TEXT NOT NULL DEFAULT 'fiction'
               CHECK (genre IN ('fiction', 'mystery', 'science fiction', 'fantasy', 'poetry',
                                'history', 'biography', 'science', 'children', 'travel')),
  published    DATE,
  price        REAL NOT NULL CHECK (price >= 0),
  pages        INTEGER CHECK (pages > 0),
  in_stock     BOOLEAN NOT NULL DEFAULT 1,
  description  TEXT
);

CREATE TABLE book_authors (
  book_id   INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
  author_id INTEGER NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
  role      TEXT NOT NULL DEFAULT 'author'
            CHECK (role IN ('author', 'co-author', 'editor', 'translator', 'illustrator')),
  PRIMARY KEY (book_id, author_id)
) WITHOUT ROWID;

CREATE TABLE customers (
  id          INTEGER PRIMARY KEY,
  name        VARCHAR(100) NOT NULL,
  email       TEXT NOT NULL UNIQUE CHECK (email LIKE '%_@_%'),
  phone       TEXT,
  city        TEXT,
  joined      DATE NOT NULL,
  newsletter  BOOLEAN NOT NULL DEFAULT 0,
  notes       TEXT
);

CREATE TABLE orders (
  id          INTEGER PRIMARY KEY,
  code        TEXT NOT NULL UNIQUE,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  ordered_at  DATETIME NOT NULL,
  status      TEXT NOT NULL DEFAULT 'paid'
              CHECK (status IN ('cart', 'paid', 'shipped', 'delivered', 'cancelled')),
  gift        BOOLEAN NOT NULL DEFAULT 0,
  shipping_address VARCHAR(300)
);

CREATE TABLE order_items (
  order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  book_id    INTEGER NOT NULL REFERENCES books (id),
  quantity   INTEGER NOT NULL DEFAULT 1 CHECK (quantity BETWEEN 1 AND 99),
  unit_price REAL NOT NULL CHECK (unit_price >= 0),
  PRIMARY KEY (order_id, book_id)
);

CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX order_items_book ON order_items (book_id);
CREATE INDEX books_publisher ON books (publisher_id);

-- Full-text search over books, external content: the index holds no copy of the
-- text, and these three triggers keep it in step with every write, whoever makes it.
CREATE VIRTUAL TABLE books_fts USING fts5 (title, description, content = 'books', content_rowid = 'id');

CREATE TRIGGER books_fts_insert AFTER INSERT ON books BEGIN
  INSERT INTO books_fts (rowid, title, description) VALUES (new.id, new.title, new.description);
END;
CREATE TRIGGER books_fts_delete AFTER DELETE ON books BEGIN
  INSERT INTO books_fts (books_fts, rowid, title, description) VALUES ('delete', old.id, old.title, old.description);
END;
CREATE TRIGGER books_fts_update AFTER UPDATE ON books BEGIN
  INSERT INTO books_fts (books_fts, rowid, title, description) VALUES ('delete', old.id, old.title, old.description);
  INSERT INTO books_fts (rowid, title, description) VALUES (new.id, new.title, new.description);
END;

CREATE VIEW book_sales AS
  SELECT b.id AS book_id,
         b.title,
         b.genre,
         count(s.order_id) AS orders,
         coalesce(sum(s.quantity), 0) AS copies_sold,
         round(coalesce(sum(s.quantity * s.unit_price), 0), 2) AS revenue
    FROM books AS b
    LEFT JOIN (SELECT oi.*
                 FROM order_items AS oi
                 JOIN orders AS o ON o.id = oi.order_id
                WHERE o.status <> 'cancelled') AS s ON s.book_id = b.id
   GROUP BY b.id;

INSERT INTO publishers (id, name, website, phone, city, founded) VALUES
  (1, 'Harbor Lane Press',     'https://harborlane.example.com',   '+44 20 7946 0101', 'London',    1921),
  (2, 'Northwind Books',       'https://northwind.example.org',    '+44 161 496 0202', 'Manchester', 1952),
  (3, 'Quayside Classics',     'https://quayside.example.com',     '+44 131 496 0303', 'Edinburgh', 1887),
  (4, 'Blue Heron Editions',   'https://blueheron.example.org',    '+1 555 0104',      'Boston',    1974),
  (5, 'Fennel & Finch',        'https://fennelfinch.example.com',  '+44 117 496 0505', 'Bristol',   2009),
  (6, 'Lantern House',         NULL,                               '+1 555 0106',      'Chicago',   1938),
  (7, 'Orchard Street Publishing', 'https://orchardstreet.example.com', NULL,         'Dublin',    1996);

INSERT INTO authors (id, name, email, born, country, bio) VALUES
  (1,  'Jane Austen',           NULL, '1775-12-16', 'England',  'English novelist known for six major novels that interpret, critique and comment upon the British landed gentry at the end of the 18th century.'),
  (2,  'Charles Dickens',       NULL, '1812-02-07', 'England',  'Novelist and social critic who created some of the best-known fictional characters of the Victorian era.'),
  (3,  'Mary Shelley',          NULL, '1797-08-30', 'England',  'Novelist who wrote the Gothic novel Frankenstein; or, The Modern Prometheus, an early example of science fiction.'),
  (4,  'Herman Melville',       NULL, '1819-08-01', 'United States', 'Novelist, short story writer and poet of the American Renaissance period.'),
  (5,  'Leo Tolstoy',           NULL, '1828-09-09', 'Russia',   'Russian writer regarded as one of the greatest authors of all time.'),
  (6,  'Fyodor Dostoevsky',     NULL, '1821-11-11', 'Russia',   'Russian novelist whose works explore human psychology in the troubled political, social and spiritual atmospheres of 19th-century Russia.'),
  (7,  'Arthur Conan Doyle',    NULL, '1859-05-22', 'Scotland', 'Physician and writer, the creator of the detective Sherlock Holmes.'),
  (8,  'H. G. Wells',           NULL, '1866-09-21', 'England',  'Prolific writer in many genres, sometimes called the father of science fiction.'),
  (9,  'Jules Verne',           NULL, '1828-02-08', 'France',   'Novelist, poet and playwright best known for his adventure novels.'),
  (10, 'Emily Brontë',          NULL, '1818-07-30', 'England',  'Novelist and poet best known for her only novel, Wuthering Heights.'),
  (11, 'Charlotte Brontë',      NULL, '1816-04-21', 'England',  'Novelist and poet, the eldest of the three Brontë sisters who survived into adulthood.'),
  (12, 'Mark Twain',            NULL, '1835-11-30', 'United States', 'Writer, humorist and lecturer, praised as the greatest humorist the United States has produced.'),
  (13, 'Lewis Carroll',         NULL, '1832-01-27', 'England',  'Writer of children''s fiction, notably Alice''s Adventures in Wonderland, and a mathematician.'),
  (14, 'Emily Dickinson',       NULL, '1830-12-10', 'United States', 'Poet, little known during her life, now regarded as one of the most important figures in American poetry.'),
  (15, 'Walt Whitman',          NULL, '1819-05-31', 'United States', 'Poet, essayist and journalist; his work Leaves of Grass was controversial in its time.'),
  (16, 'Edgar Allan Poe',       NULL, '1809-01-19', 'United States', 'Writer, poet, editor and literary critic, best known for his poetry and short stories of mystery and the macabre.'),
  (17, 'Robert Louis Stevenson', NULL, '1850-11-13', 'Scotland', 'Novelist, essayist, poet and travel writer.'),
  (18, 'Oscar Wilde',           NULL, '1854-10-16', 'Ireland',  'Poet and playwright, one of the most popular playwrights in London in the early 1890s.'),
  (19, 'Constance Garnett',     NULL, '1861-12-19', 'England',  'Translator whose English versions of Russian classics introduced them to a wide readership.'),
  (20, 'John Tenniel',          NULL, '1820-02-28', 'England',  'Illustrator, graphic humorist and political cartoonist.'),
  (21, 'Maya Okafor',           'maya.okafor@example.com',    '1984-03-02', 'Nigeria',  'Writes literary mysteries set along the Lagos lagoon; former port engineer.'),
  (22, 'Tomás Lindqvist',       'tomas@lindqvist.example.org', '1979-11-17', 'Sweden',   'Historian of the Baltic trade and author of narrative non-fiction.'),
  (23, 'Priya Raman',           'priya.raman@example.com',    '1990-06-25', 'India',    'Astrophysicist and science writer.'),
  (24, 'Eleanor Whitfield',     'eleanor.w@example.org',      '1968-01-09', 'England',  'Biographer and editor of Victorian letters.'),
  (25, 'Kenji Mori',            'kenji.mori@example.com',     '1987-08-14', 'Japan',    'Travel writer who crossed Eurasia by train, twice.'),
  (26, 'Sofia Álvarez',         'sofia.alvarez@example.org',  '1993-04-30', 'Spain',    'Writes fantasy for younger readers; former primary school teacher.');

INSERT INTO books (id, title, isbn, publisher_id, genre, published, price, pages, in_stock, description) VALUES
  (1,  'Pride and Prejudice',        '9780000000019', 3, 'fiction',         '1813-01-28', 8.99,  432, 1, 'Elizabeth Bennet, the spirited second of five daughters, spars with the proud Mr Darcy in a comedy of manners about marriage, money and first impressions.'),
  (2,  'Emma',                       '9780000000026', 3, 'fiction',         '1815-12-23', 8.99,  474, 1, 'Handsome, clever and rich Emma Woodhouse meddles in the love lives of her neighbours in Highbury, with results she does not foresee.'),
  (3,  'Persuasion',                 '9780000000033', 3, 'fiction',         '1817-12-20', 7.99,  272, 0, 'Eight years after she was persuaded to break off her engagement, Anne Elliot meets Captain Wentworth again.'),
  (4,  'Great Expectations',         '9780000000040', 1, 'fiction',         '1861-08-01', 9.49,  544, 1, 'The orphan Pip rises from a blacksmith''s forge to London society, helped by a mysterious benefactor.'),
  (5,  'A Tale of Two Cities',       '9780000000057', 1, 'fiction',         '1859-11-26', 9.49,  489, 1, 'London and Paris before and during the French Revolution: a story of sacrifice, resurrection and two men who look alike.'),
  (6,  'Bleak House',                '9780000000064', 1, 'fiction',         '1853-09-01', 11.99, 1036, 1, 'The interminable Chancery suit of Jarndyce and Jarndyce draws in an orphan, a baronet''s wife and a detective.'),
  (7,  'Frankenstein',               '9780000000071', 4, 'science fiction', '1818-01-01', 7.49,  280, 1, 'Victor Frankenstein builds a living creature and abandons it, and the creature sets out to make him answer for it.'),
  (8,  'Moby-Dick',                  '9780000000088', 4, 'fiction',         '1851-10-18', 10.99, 720, 1, 'Ishmael signs on to the whaler Pequod, whose captain Ahab hunts the white whale that took his leg.'),
  (9,  'War and Peace',              '9780000000095', 2, 'history',         '1869-01-01', 14.99, 1296, 1, 'Five aristocratic families live through Napoleon''s invasion of Russia. Translated by Constance Garnett.'),
  (10, 'Anna Karenina',              '9780000000101', 2, 'fiction',         '1878-01-01', 12.49, 864, 1, 'A married woman''s affair with the cavalry officer Vronsky, set against Levin''s search for meaning on his estate.'),
  (11, 'Crime and Punishment',       '9780000000118', 2, 'fiction',         '1866-01-01', 10.49, 671, 0, 'Raskolnikov, a destitute former student in St Petersburg, commits a murder and is pursued by his conscience and a patient detective.'),
  (12, 'The Brothers Karamazov',     '9780000000125', 2, 'fiction',         '1880-11-01', 13.49, 824, 1, 'Three brothers and their dissolute father in a provincial town; a murder trial and a long argument about God and freedom.'),
  (13, 'The Hound of the Baskervilles', '9780000000132', 5, 'mystery',      '1902-04-01', 6.99,  256, 1, 'Sherlock Holmes and Dr Watson investigate the legend of a spectral hound on Dartmoor.'),
  (14, 'A Study in Scarlet',         '9780000000149', 5, 'mystery',         '1887-11-01', 5.99,  176, 1, 'The first meeting of Holmes and Watson, and a murder in Brixton with the word RACHE written in blood.'),
  (15, 'The Sign of the Four',       '9780000000156', 5, 'mystery',         '1890-02-01', 5.99,  192, 1, 'A missing father, an annual pearl and a stolen treasure from Agra.'),
  (16, 'The Time Machine',           '9780000000163', 4, 'science fiction', '1895-05-07', 6.49,  118, 1, 'A Victorian inventor travels to the year 802,701 and finds humanity split into the Eloi and the Morlocks.'),
  (17, 'The War of the Worlds',      '9780000000170', 4, 'science fiction', '1898-01-01', 6.99,  192, 1, 'Martian cylinders land in Surrey and their tripods lay waste to southern England.'),
  (18, 'The Invisible Man',          '9780000000187', 4, 'science fiction', '1897-01-01', 6.49,  176, 0, 'A scientist who has made himself invisible arrives at a village inn, wrapped in bandages.'),
  (19, 'Twenty Thousand Leagues Under the Seas', '9780000000194', 6, 'science fiction', '1870-06-20', 8.49, 448, 1, 'Professor Aronnax is taken aboard Captain Nemo''s submarine Nautilus for a voyage around the world under water.'),
  (20, 'Around the World in Eighty Days', '9780000000200', 6, 'travel',     '1872-12-22', 7.49,  256, 1, 'Phileas Fogg wagers half his fortune that he can circle the globe in eighty days.'),
  (21, 'Journey to the Centre of the Earth', '9780000000217', 6, 'science fiction', '1864-11-25', 7.49, 240, 1, 'A professor, his nephew and their guide descend through an Icelandic volcano.'),
  (22, 'Wuthering Heights',          '9780000000224', 3, 'fiction',         '1847-12-01', 7.99,  416, 1, 'The foundling Heathcliff and Catherine Earnshaw on the Yorkshire moors: a love that outlasts death and ruins two families.'),
  (23, 'Jane Eyre',                  '9780000000231', 3, 'fiction',         '1847-10-16', 8.49,  532, 1, 'An orphaned governess falls in love with her employer, Mr Rochester, whose house holds a secret.'),
  (24, 'Adventures of Huckleberry Finn', '9780000000248', 7, 'fiction',     '1884-12-10', 8.99,  366, 1, 'Huck and the escaped slave Jim float down the Mississippi on a raft.'),
  (25, 'The Adventures of Tom Sawyer', '9780000000255', 7, 'children',      '1876-06-01', 6.99,  274, 1, 'A mischievous boy grows up along the Mississippi, whitewashes a fence and witnesses a murder.'),
  (26, 'Alice''s Adventures in Wonderland', '9780000000262', 5, 'children', '1865-11-26', 6.49,  192, 1, 'Alice follows a White Rabbit down a hole into a world of nonsense. With the original illustrations by John Tenniel.'),
  (27, 'Through the Looking-Glass',  '9780000000279', 5, 'children',        '1871-12-27', 6.49,  224, 1, 'Alice climbs through a mirror into a land laid out like a chessboard.'),
  (28, 'Poems, Series One',          '9780000000286', 4, 'poetry',          '1890-11-12', 9.99,  152, 1, 'The first posthumous selection of Emily Dickinson''s poems.'),
  (29, 'Leaves of Grass',            '9780000000293', 4, 'poetry',          '1855-07-04', 10.99, 456, 1, 'Whitman''s life work, revised and expanded in edition after edition, celebrating the self, the body and democracy.'),
  (30, 'Tales of Mystery and Imagination', '9780000000309', 6, 'mystery',   '1908-01-01', 8.99,  368, 1, 'Poe''s stories of detection and dread, including The Murders in the Rue Morgue and The Fall of the House of Usher.'),
  (31, 'Treasure Island',            '9780000000316', 1, 'children',        '1883-05-23', 6.99,  240, 1, 'Young Jim Hawkins, a treasure map and the one-legged cook Long John Silver.'),
  (32, 'Strange Case of Dr Jekyll and Mr Hyde', '9780000000323', 1, 'fiction', '1886-01-05', 5.49, 144, 1, 'A London lawyer looks into the strange connection between his friend Dr Jekyll and the brutal Edward Hyde.'),
  (33, 'The Picture of Dorian Gray', '9780000000330', 7, 'fiction',         '1890-06-20', 7.99,  272, 1, 'A beautiful young man stays young while his portrait ages and records every sin.'),
  (34, 'The Importance of Being Earnest', '9780000000347', 7, 'fiction',    '1895-02-14', 5.99,  96,  1, 'A trivial comedy for serious people, with two imaginary friends and a handbag at Victoria Station.'),
  (35, 'The Lagoon Ledger',          '9780000000354', 5, 'mystery',         '2021-03-18', 14.99, 352, 1, 'When a harbour pilot vanishes from a container ship in Lagos, his sister reads his ledger of favours owed and learns who wanted him gone.'),
  (36, 'Salt and Amber',             '9780000000361', 2, 'history',         '2019-09-05', 18.99, 448, 1, 'How the Hanseatic towns traded salt, herring and amber across the Baltic for four hundred years, told through the ledgers of one Lübeck family.'),
  (37, 'A Small Guide to Large Stars', '9780000000378', 4, 'science',       '2022-02-10', 16.49, 288, 1, 'What red giants, neutron stars and black holes are made of, and how we know, explained without equations.'),
  (38, 'Letters from Haworth',       '9780000000385', 3, 'biography',       '2016-05-12', 21.00, 512, 1, 'The Brontë family''s letters, edited and annotated, with an account of the parsonage years.'),
  (39, 'Eleven Thousand Kilometres of Rail', '9780000000392', 6, 'travel',  '2020-10-01', 15.99, 336, 1, 'From Lisbon to Vladivostok by train: the people met in dining cars and station buffets along the way.'),
  (40, 'The Clockwork Orchard',      '9780000000408', 5, 'fantasy',         '2023-04-20', 12.99, 304, 1, 'Inés discovers that the apple trees in her grandmother''s orchard tick, and that one of them has stopped.'),
  (41, 'Night Harbour',              '9780000000415', 5, 'mystery',         '2024-01-25', 15.99, 384, 1, 'A second case for the lagoon pilot''s sister: a fire on a ferry and a passenger list with one name too many.'),
  (42, 'The Lantern Maker''s Daughter', '9780000000422', 5, 'fantasy',      '2024-09-12', 13.49, 320, 0, 'A girl who can carry light in her hands must cross a city where every window has gone dark.');

INSERT INTO book_authors (book_id, author_id, role) VALUES
  (1, 1, 'author'), (2, 1, 'author'), (3, 1, 'author'),
  (4, 2, 'author'), (5, 2, 'author'), (6, 2, 'author'),
  (7, 3, 'author'), (8, 4, 'author'),
  (9, 5, 'author'), (9, 19, 'translator'), (10, 5, 'author'), (10, 19, 'translator'),
  (11, 6, 'author'), (11, 19, 'translator'), (12, 6, 'author'), (12, 19, 'translator'),
  (13, 7, 'author'), (14, 7, 'author'), (15, 7, 'author'),
  (16, 8, 'author'), (17, 8, 'author'), (18, 8, 'author'),
  (19, 9, 'author'), (20, 9, 'author'), (21, 9, 'author'),
  (22, 10, 'author'), (23, 11, 'author'),
  (24, 12, 'author'), (25, 12, 'author'),
  (26, 13, 'author'), (26, 20, 'illustrator'), (27, 13, 'author'), (27, 20, 'illustrator'),
  (28, 14, 'author'), (29, 15, 'author'), (30, 16, 'author'),
  (31, 17, 'author'), (32, 17, 'author'), (33, 18, 'author'), (34, 18, 'author'),
  (35, 21, 'author'), (36, 22, 'author'), (37, 23, 'author'),
  (38, 24, 'editor'), (38, 10, 'co-author'), (38, 11, 'co-author'),
  (39, 25, 'author'), (40, 26, 'author'), (41, 21, 'author'), (42, 26, 'author');

-- 160 customers: first and last names combined by two coprime strides, so every
-- name is different and nothing depends on random().
WITH RECURSIVE
  firsts(list) AS (SELECT json('["Olivia","Liam","Amara","Noah","Isla","Mateo","Freya","Arjun","Chloe","Yusuf",
    "Hannah","Luca","Zara","Oscar","Mei","Ethan","Aisha","Finn","Sofia","Kwame",
    "Grace","Jonas","Leila","Samuel","Ingrid","Diego","Ruby","Tariq","Elena","Rowan",
    "Nadia","Felix","Priya","Hugo","Maeve","Ibrahim","Clara","Theo","Yara","Dmitri"]')),
  lasts(list) AS (SELECT json('["Smith","Okonkwo","Nguyen","Murphy","Kowalski","Haddad","Fischer","Patel","Rossi","Jensen",
    "O''Brien","Santos","Kim","Dubois","Campbell","Novak","Ahmed","Lindgren","Moreau","Walsh",
    "Tanaka","Oliveira","MacLeod","Schneider","Mensah","Byrne","Silva","Hughes","Costa","Larsen",
    "Iyer","Brennan","Petrov","Evans","García","Yilmaz","Reid","Bauer","Chen","Fraser"]')),
  cities(list) AS (SELECT json('["London","Manchester","Bristol","Leeds","Glasgow","Edinburgh","Cardiff","Belfast",
    "York","Brighton","Norwich","Bath","Oxford","Cambridge","Dublin","Liverpool"]')),
  n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 160),
  people AS (
    SELECT i,
           json_extract(firsts.list, '$[' || ((i * 7) % 40) || ']') AS first,
           json_extract(lasts.list, '$[' || ((i * 11 + i / 40) % 40) || ']') AS last,
           json_extract(cities.list, '$[' || ((i * 5) % 16) || ']') AS city
      FROM n, firsts, lasts, cities)
INSERT INTO customers (id, name, email, phone, city, joined, newsletter, notes)
SELECT i,
       first || ' ' || last,
       lower(replace(replace(first || '.' || last, '''', ''), 'í', 'i')) || i || '@example.com',
       CASE WHEN i % 4 = 0 THEN NULL ELSE '+44 7700 9' || printf('%05d', i * 37 % 100000) END,
       city,
       date('2021-01-04', '+' || ((i * 97) % 1400) || ' days'),
       i % 3 = 0,
       CASE i % 9
         WHEN 0 THEN 'Prefers collection in store; call when the order arrives.'
         WHEN 4 THEN 'Book club organiser: orders several copies of the monthly pick.'
         WHEN 7 THEN 'Gift wrapping on every order, please.'
         ELSE NULL END
  FROM people;

-- 420 orders, about one every forty hours over two years, each with one to three books.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 420)
INSERT INTO orders (id, code, customer_id, ordered_at, status, gift, shipping_address)
SELECT i,
       'HL-' || printf('%05d', 10000 + i),
       (i * 37) % 160 + 1,
       datetime('2023-01-02 09:00:00', '+' || (i * 2460 + (i * 389) % 600) || ' minutes'),
       CASE
         WHEN i > 405 THEN 'cart'
         WHEN i % 23 = 0 THEN 'cancelled'
         WHEN i > 380 THEN 'paid'
         WHEN i > 340 THEN 'shipped'
         ELSE 'delivered' END,
       i % 11 = 0,
       CASE WHEN i % 5 = 0 THEN NULL
            ELSE ((i * 13) % 180 + 1) || ' ' ||
                 json_extract('["High Street","Station Road","Church Lane","Mill Road","Park Avenue","Victoria Road","Queen Street","Harbour Walk"]',
                              '$[' || (i % 8) || ']') ||
                 ', ' || (SELECT city FROM customers WHERE id = (i * 37) % 160 + 1) END
  FROM n;

WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 2)
INSERT INTO order_items (order_id, book_id, quantity, unit_price)
SELECT o.id,
       ((o.id * o.id) % 97 + k.j * 11) % 42 + 1,
       CASE WHEN o.id % 13 = 0 THEN 3 WHEN (o.id + k.j) % 5 = 0 THEN 2 ELSE 1 END,
       b.price
  FROM orders AS o
  JOIN k ON k.j <= o.id % 3
  JOIN books AS b ON b.id = ((o.id * o.id) % 97 + k.j * 11) % 42 + 1;

COMMIT;
