-- CHECK constraints the JSON Schema can say (column and table level) and some it
-- cannot (which must not leak into the schema). Requests only break the ones it can
-- say, so no raw SQLite message reaches an answer.
CREATE TABLE products (
  id        INTEGER PRIMARY KEY,
  sku       TEXT NOT NULL CHECK (length(sku) <= 12),
  name      TEXT NOT NULL CHECK (length(name) >= 2 AND length(name) <= 40),
  size      TEXT CHECK (size IN ('S', 'M', 'L', 'XL')),
  color     TEXT NOT NULL DEFAULT 'red' CHECK (color IN ('red', 'green', 'blue')),
  level     INTEGER CHECK (level IN (1, 2, 3)),
  price     REAL NOT NULL CHECK (price > 0),
  stock     INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
  discount  INTEGER CHECK (discount BETWEEN 0 AND 90),
  rating    REAL CHECK (rating >= 1 AND rating <= 5),
  weight    REAL CHECK (weight < 1000),
  max_order INTEGER CHECK (max_order <= 50),
  code      VARCHAR(8) CHECK (length(code) <= 6),
  starts    DATE,
  ends      DATE,
  CHECK (price <= 10000),
  CHECK (stock BETWEEN -5 AND 5000),
  CHECK ("level" <> 0 AND size IS NOT 'XXL'),
  CHECK (starts <= ends),
  CHECK (discount <= 50 OR stock > 10),
  CONSTRAINT sku_shape CHECK (sku NOT LIKE '% %')
);

CREATE TABLE reversed (
  id    INTEGER PRIMARY KEY,
  a     INTEGER CHECK (10 >= a),
  b     INTEGER CHECK (0 < b),
  c     REAL CHECK (c >= -1.5 AND c < 2.5),
  d     TEXT CHECK (d IN ('x')),
  e     TEXT CHECK (e NOT IN ('bad')),
  f     INTEGER CHECK (f > 0 OR f IS NULL),
  g     TEXT CHECK (g = lower(g))
);

INSERT INTO products (id, sku, name, size, color, level, price, stock, discount, rating, weight, max_order, code, starts, ends)
VALUES (1, 'TEE-001', 'Plain tee', 'M', 'blue', 1, 12.5, 40, 10, 4.5, 0.2, 5, 'TEE1', '2024-01-01', '2024-12-31');
