-- Notifications: the inbox, each user's channel preferences, reminder state on tasks, and the
-- state of an announcement's fan-out (so any instance can finish one that another started).

CREATE TABLE notifications (
  id TEXT PRIMARY KEY,  -- UUIDv7: time-ordered, the inbox cursor and the stream poller read by it
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('task_due', 'security', 'announcement', 'feedback_reply')),
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  data TEXT NOT NULL DEFAULT '{}',
  read_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX ix_notifications_user ON notifications (user_id, id);
CREATE INDEX ix_notifications_user_kind ON notifications (user_id, kind, id);
CREATE INDEX ix_notifications_user_unread ON notifications (user_id, read_at, id);
CREATE INDEX ix_notifications_created ON notifications (created_at);

-- No row means every channel on and a 60-minute reminder lead. email.security is always on.
CREATE TABLE notification_prefs (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  email_task_due INTEGER NOT NULL DEFAULT 1,
  email_announcement INTEGER NOT NULL DEFAULT 1,
  email_feedback_reply INTEGER NOT NULL DEFAULT 1,
  in_app_task_due INTEGER NOT NULL DEFAULT 1,
  in_app_announcement INTEGER NOT NULL DEFAULT 1,
  in_app_feedback_reply INTEGER NOT NULL DEFAULT 1,
  in_app_security INTEGER NOT NULL DEFAULT 1,
  push_task_due INTEGER NOT NULL DEFAULT 1,
  push_announcement INTEGER NOT NULL DEFAULT 1,
  push_feedback_reply INTEGER NOT NULL DEFAULT 1,
  push_security INTEGER NOT NULL DEFAULT 1,
  reminder_lead_minutes INTEGER NOT NULL DEFAULT 60,
  updated_at INTEGER NOT NULL
);

-- remind_at = due_at - lead while a reminder is owed (due, not done, not yet reminded for this
-- due time), NULL otherwise; the reminder job reads only rows with remind_at <= now, by index.
ALTER TABLE tasks ADD COLUMN remind_at INTEGER;
ALTER TABLE tasks ADD COLUMN reminded_due_at INTEGER;
CREATE INDEX ix_tasks_remind ON tasks (remind_at);

CREATE TABLE broadcasts (
  id TEXT PRIMARY KEY,
  created_by TEXT,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  role TEXT,
  user_ids TEXT,  -- JSON array when sent to chosen users
  recipients INTEGER NOT NULL,
  next_user_id TEXT NOT NULL DEFAULT '',  -- users with a greater id are still to be done
  claimed_by TEXT,
  claimed_until INTEGER,
  created_at INTEGER NOT NULL,
  done_at INTEGER
);
CREATE INDEX ix_broadcasts_done ON broadcasts (done_at, created_at);
