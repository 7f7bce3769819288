-- The ikigai map: one per user, the four circles as JSON arrays and the statement that joins them.
CREATE TABLE ikigai_maps (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  love TEXT NOT NULL DEFAULT '[]',
  good_at TEXT NOT NULL DEFAULT '[]',
  world_needs TEXT NOT NULL DEFAULT '[]',
  paid_for TEXT NOT NULL DEFAULT '[]',
  statement TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL
);
