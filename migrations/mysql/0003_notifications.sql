-- Notifications: the inbox, each user's channel preferences, reminder state on tasks, and the
-- state of an announcement's fan-out (so any instance can finish one that another started).

CREATE TABLE notifications (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  kind VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  title VARCHAR(255) NOT NULL,
  body TEXT NOT NULL,
  data TEXT NOT NULL,
  read_at BIGINT NULL,
  created_at BIGINT NOT NULL,
  CONSTRAINT ck_notifications_kind CHECK (kind IN ('task_due', 'security', 'announcement', 'feedback_reply')),
  KEY ix_notifications_user (user_id, id),
  KEY ix_notifications_user_kind (user_id, kind, id),
  KEY ix_notifications_user_unread (user_id, read_at, id),
  KEY ix_notifications_created (created_at),
  CONSTRAINT fk_notifications_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE notification_prefs (
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  email_task_due TINYINT NOT NULL DEFAULT 1,
  email_announcement TINYINT NOT NULL DEFAULT 1,
  email_feedback_reply TINYINT NOT NULL DEFAULT 1,
  in_app_task_due TINYINT NOT NULL DEFAULT 1,
  in_app_announcement TINYINT NOT NULL DEFAULT 1,
  in_app_feedback_reply TINYINT NOT NULL DEFAULT 1,
  in_app_security TINYINT NOT NULL DEFAULT 1,
  push_task_due TINYINT NOT NULL DEFAULT 1,
  push_announcement TINYINT NOT NULL DEFAULT 1,
  push_feedback_reply TINYINT NOT NULL DEFAULT 1,
  push_security TINYINT NOT NULL DEFAULT 1,
  reminder_lead_minutes INT NOT NULL DEFAULT 60,
  updated_at BIGINT NOT NULL,
  CONSTRAINT fk_notification_prefs_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE tasks ADD COLUMN remind_at BIGINT NULL, ADD COLUMN reminded_due_at BIGINT NULL,
  ADD KEY ix_tasks_remind (remind_at);

CREATE TABLE broadcasts (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  created_by CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
  title VARCHAR(255) NOT NULL,
  body TEXT NOT NULL,
  role VARCHAR(16) NULL,
  user_ids MEDIUMTEXT NULL,
  recipients INT NOT NULL,
  next_user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  claimed_by CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
  claimed_until BIGINT NULL,
  created_at BIGINT NOT NULL,
  done_at BIGINT NULL,
  KEY ix_broadcasts_done (done_at, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
