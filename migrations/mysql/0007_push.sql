-- Web Push: each browser's subscription (one row per endpoint) and the durable delivery queue.
-- A queued push is one row per (notification, subscription), encrypted only when sent, so a
-- subscription whose keys change gets its queued pushes under the new keys, and deleting a
-- subscription (410 from the push service, the user, or the account) drops its queue.
-- The endpoint is ASCII (checked on input), so its 2048 bytes fit a unique index.

CREATE TABLE push_subscriptions (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  endpoint VARCHAR(2048) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  p256dh VARCHAR(96) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  auth VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_agent VARCHAR(512) NULL,
  expiration_time BIGINT NULL,
  created_at BIGINT NOT NULL,
  registered_at BIGINT NOT NULL,
  last_success_at BIGINT NULL,
  UNIQUE KEY ux_push_subscriptions_endpoint (endpoint),
  KEY ix_push_subscriptions_user (user_id, registered_at),
  CONSTRAINT fk_push_subscriptions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;

-- Claimed by a conditional UPDATE (claim token + lease), never by row locks, so that two
-- instances on a Galera cluster cannot both send one message.
CREATE TABLE push_outbox (
  notification_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  subscription_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  payload TEXT NOT NULL,
  urgency VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  claim_token CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
  claimed_until BIGINT NULL,
  last_status INT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (notification_id, subscription_id),
  KEY ix_push_outbox_due (next_attempt_at),
  KEY ix_push_outbox_subscription (subscription_id),
  KEY ix_push_outbox_claim (claim_token),
  CONSTRAINT fk_push_outbox_subscription FOREIGN KEY (subscription_id) REFERENCES push_subscriptions (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
