-- The last-admin rule on a multi-primary cluster (Galera): every change that removes an enabled
-- admin also updates this one row (see the MariaDB migration). SQLite's single writer already
-- serialises such changes; the table is kept so both dialects run the same statements.

CREATE TABLE admin_guard (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  changes INTEGER NOT NULL DEFAULT 0
);

INSERT INTO admin_guard (id, changes) VALUES (1, 0);
