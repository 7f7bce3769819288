-- The ikigai map: one per user, the four circles as JSON arrays and the statement that joins them.
CREATE TABLE ikigai_maps (
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  love MEDIUMTEXT NOT NULL,
  good_at MEDIUMTEXT NOT NULL,
  world_needs MEDIUMTEXT NOT NULL,
  paid_for MEDIUMTEXT NOT NULL,
  statement TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INT NOT NULL,
  CONSTRAINT fk_ikigai_maps_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
