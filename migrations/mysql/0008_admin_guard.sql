-- The last-admin rule on a multi-primary cluster (Galera). Row locks are not replicated: two
-- nodes that each demote a different admin lock different rows, both see two admins, and both
-- certify, leaving none. Every change that removes an enabled admin also updates this one row,
-- so of two such changes at once certification aborts one, and its retry sees the other's result.

CREATE TABLE admin_guard (
  id TINYINT NOT NULL PRIMARY KEY,
  changes BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO admin_guard (id, changes) VALUES (1, 0);
