-- Feedback: what users tell us (bug, idea, praise, other), its triage status and an admin's reply.
-- Goes with the user (ON DELETE CASCADE). context is a JSON object of strings, as text: at most
-- 10 values of 200 characters and keys of 64, so well within TEXT's 64 KiB even in 4-byte UTF-8.
-- message and reply are at most 5000 characters (20,000 bytes in utf8mb4): TEXT as well.

CREATE TABLE feedback (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  category VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  message TEXT NOT NULL,
  rating TINYINT NULL,
  context TEXT NOT NULL,
  status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'new',
  reply TEXT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CONSTRAINT ck_feedback_category CHECK (category IN ('bug', 'idea', 'praise', 'other')),
  CONSTRAINT ck_feedback_rating CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
  CONSTRAINT ck_feedback_status CHECK (status IN ('new', 'triaged', 'planned', 'done', 'dismissed')),
  KEY ix_feedback_user (user_id, id),
  KEY ix_feedback_status (status, id),
  KEY ix_feedback_category (category, id),
  KEY ix_feedback_rating (rating),
  CONSTRAINT fk_feedback_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
