-- The first tables: accounts, sessions, one-time tokens, rate-limit events, tasks, activity, outbox.
-- Timestamps are INTEGER milliseconds since the Unix epoch (UTC); ids are UUIDv7 text.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  username_lower TEXT NOT NULL,
  email TEXT NOT NULL,
  email_lower TEXT NOT NULL,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  email_verified INTEGER NOT NULL DEFAULT 0,
  pending_email TEXT,
  disabled INTEGER NOT NULL DEFAULT 0,
  legacy_id INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- Case-insensitive uniqueness is the database's job: the lowered columns carry unique indexes.
CREATE UNIQUE INDEX ux_users_username_lower ON users (username_lower);
CREATE UNIQUE INDEX ux_users_email_lower ON users (email_lower);
CREATE UNIQUE INDEX ux_users_legacy_id ON users (legacy_id);
CREATE INDEX ix_users_created ON users (created_at, id);
CREATE INDEX ix_users_role ON users (role, created_at, id);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ix_sessions_user ON sessions (user_id, created_at);
CREATE INDEX ix_sessions_expires ON sessions (expires_at);

-- Refresh tokens of a session, stored only as SHA-256 hex. A spent token stays for reuse detection.
CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  spent_at INTEGER
);
CREATE INDEX ix_refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE one_time_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  data TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE UNIQUE INDEX ux_one_time_tokens_hash ON one_time_tokens (token_hash);
CREATE INDEX ix_one_time_tokens_user ON one_time_tokens (user_id, purpose);
CREATE INDEX ix_one_time_tokens_expires ON one_time_tokens (expires_at);

-- Events counted by the rate limits (failed logins, registrations, ...), shared by all instances.
CREATE TABLE login_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  bucket TEXT NOT NULL,
  subject TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX ix_login_attempts_lookup ON login_attempts (bucket, subject, at);
CREATE INDEX ix_login_attempts_at ON login_attempts (at);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  notes TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'todo',
  priority INTEGER NOT NULL DEFAULT 1,
  due_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  completed_at INTEGER,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_tasks_user_created ON tasks (user_id, created_at, id);
CREATE INDEX ix_tasks_user_due ON tasks (user_id, due_at, created_at, id);
CREATE INDEX ix_tasks_user_priority ON tasks (user_id, priority, created_at, id);
CREATE INDEX ix_tasks_user_status ON tasks (user_id, status, created_at, id);

CREATE TABLE task_tags (
  task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  position INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (task_id, tag)
);
CREATE INDEX ix_task_tags_user_tag ON task_tags (user_id, tag, task_id);

CREATE TABLE activity (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  actor_id TEXT,
  action TEXT NOT NULL,
  target_type TEXT,
  target_id TEXT,
  ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT '',
  request_id TEXT NOT NULL DEFAULT '',
  data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX ix_activity_at ON activity (at, id);
CREATE INDEX ix_activity_actor ON activity (actor_id, at, id);
CREATE INDEX ix_activity_target ON activity (target_id);
CREATE INDEX ix_activity_action ON activity (action, at, id);

CREATE TABLE mail_outbox (
  id TEXT PRIMARY KEY,
  user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  to_address TEXT NOT NULL,
  subject TEXT NOT NULL,
  text_body TEXT NOT NULL,
  html_body TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  claimed_by TEXT,
  claimed_until INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER
);
CREATE INDEX ix_mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX ix_mail_outbox_user ON mail_outbox (user_id);
