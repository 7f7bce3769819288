-- The first tables: accounts, sessions, one-time tokens, rate-limit events, tasks, activity, outbox.
-- Timestamps are BIGINT milliseconds since the Unix epoch (UTC); ids are UUIDv7 text.
-- InnoDB, utf8mb4; lowered and hashed columns use utf8mb4_bin so comparisons are exact.

CREATE TABLE users (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  username VARCHAR(32) NOT NULL,
  username_lower VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,
  email VARCHAR(254) NOT NULL,
  email_lower VARCHAR(254) COLLATE utf8mb4_bin NOT NULL,
  display_name VARCHAR(64) NOT NULL,
  password_hash VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
  role VARCHAR(16) NOT NULL DEFAULT 'user',
  email_verified TINYINT NOT NULL DEFAULT 0,
  pending_email VARCHAR(254) NULL,
  disabled TINYINT NOT NULL DEFAULT 0,
  legacy_id BIGINT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CONSTRAINT ck_users_role CHECK (role IN ('user', 'admin')),
  UNIQUE KEY ux_users_username_lower (username_lower),
  UNIQUE KEY ux_users_email_lower (email_lower),
  UNIQUE KEY ux_users_legacy_id (legacy_id),
  KEY ix_users_created (created_at, id),
  KEY ix_users_role (role, created_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sessions (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NULL,
  ip VARCHAR(45) NOT NULL DEFAULT '',
  user_agent VARCHAR(512) NOT NULL DEFAULT '',
  KEY ix_sessions_user (user_id, created_at),
  KEY ix_sessions_expires (expires_at),
  CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE refresh_tokens (
  token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  session_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at BIGINT NOT NULL,
  spent_at BIGINT NULL,
  KEY ix_refresh_tokens_session (session_id),
  CONSTRAINT fk_refresh_tokens_session FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE one_time_tokens (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  purpose VARCHAR(32) NOT NULL,
  token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  data VARCHAR(1000) NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT NULL,
  UNIQUE KEY ux_one_time_tokens_hash (token_hash),
  KEY ix_one_time_tokens_user (user_id, purpose),
  KEY ix_one_time_tokens_expires (expires_at),
  CONSTRAINT fk_one_time_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE login_attempts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  bucket VARCHAR(32) NOT NULL,
  subject VARCHAR(300) NOT NULL,
  at BIGINT NOT NULL,
  KEY ix_login_attempts_lookup (bucket, subject, at),
  KEY ix_login_attempts_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE tasks (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  title VARCHAR(200) NOT NULL,
  notes TEXT NOT NULL,
  status VARCHAR(16) NOT NULL DEFAULT 'todo',
  priority TINYINT NOT NULL DEFAULT 1,
  due_at BIGINT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  completed_at BIGINT NULL,
  version INT NOT NULL DEFAULT 1,
  KEY ix_tasks_user_created (user_id, created_at, id),
  KEY ix_tasks_user_due (user_id, due_at, created_at, id),
  KEY ix_tasks_user_priority (user_id, priority, created_at, id),
  KEY ix_tasks_user_status (user_id, status, created_at, id),
  CONSTRAINT fk_tasks_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE task_tags (
  task_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  tag VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,
  position SMALLINT NOT NULL DEFAULT 0,
  PRIMARY KEY (task_id, tag),
  KEY ix_task_tags_user_tag (user_id, tag, task_id),
  CONSTRAINT fk_task_tags_task FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE,
  CONSTRAINT fk_task_tags_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE activity (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  at BIGINT NOT NULL,
  actor_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
  action VARCHAR(64) NOT NULL,
  target_type VARCHAR(32) NULL,
  target_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ip VARCHAR(45) NOT NULL DEFAULT '',
  user_agent VARCHAR(512) NOT NULL DEFAULT '',
  request_id VARCHAR(128) NOT NULL DEFAULT '',
  data TEXT NOT NULL,
  KEY ix_activity_at (at, id),
  KEY ix_activity_actor (actor_id, at, id),
  KEY ix_activity_target (target_id),
  KEY ix_activity_action (action, at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE mail_outbox (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
  kind VARCHAR(32) NOT NULL,
  to_address VARCHAR(254) NOT NULL,
  subject VARCHAR(300) NOT NULL,
  text_body MEDIUMTEXT NOT NULL,
  html_body MEDIUMTEXT NOT NULL,
  status VARCHAR(16) NOT NULL DEFAULT 'pending',
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  claimed_by VARCHAR(64) NULL,
  claimed_until BIGINT NULL,
  last_error VARCHAR(500) NULL,
  created_at BIGINT NOT NULL,
  sent_at BIGINT NULL,
  KEY ix_mail_outbox_due (status, next_attempt_at),
  KEY ix_mail_outbox_user (user_id),
  CONSTRAINT fk_mail_outbox_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
