-- Feedback: what users tell us (bug, idea, praise, other), its triage status and an admin's reply.
-- Goes with the user (ON DELETE CASCADE). context is a JSON object of strings, as text.

CREATE TABLE feedback (
  id TEXT PRIMARY KEY,  -- UUIDv7: time-ordered, so the lists are newest first by id
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  category TEXT NOT NULL CHECK (category IN ('bug', 'idea', 'praise', 'other')),
  message TEXT NOT NULL,
  rating INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
  context TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'triaged', 'planned', 'done', 'dismissed')),
  reply TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- The author's own list; the admin list by id alone, or filtered by status or category; the
-- stats' GROUP BYs read the (status) and (category) prefixes.
CREATE INDEX ix_feedback_user ON feedback (user_id, id);
CREATE INDEX ix_feedback_status ON feedback (status, id);
CREATE INDEX ix_feedback_category ON feedback (category, id);
CREATE INDEX ix_feedback_rating ON feedback (rating);
