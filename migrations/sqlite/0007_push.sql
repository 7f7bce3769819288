-- Web Push: each browser's subscription (one row per endpoint) and the durable delivery queue.
-- A queued push is one row per (notification, subscription), encrypted only when sent, so a
-- subscription whose keys change gets its queued pushes under the new keys, and deleting a
-- subscription (410 from the push service, the user, or the account) drops its queue.

CREATE TABLE push_subscriptions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  endpoint TEXT NOT NULL UNIQUE,
  p256dh TEXT NOT NULL,           -- base64url of the 65-byte P-256 point
  auth TEXT NOT NULL,             -- base64url of the 16-byte secret
  user_agent TEXT,
  expiration_time INTEGER,        -- the browser's expirationTime (ms), informational
  created_at INTEGER NOT NULL,
  registered_at INTEGER NOT NULL, -- last POST of this endpoint: the 21st replaces the oldest
  last_success_at INTEGER
);
CREATE INDEX ix_push_subscriptions_user ON push_subscriptions (user_id, registered_at);

-- Claimed by a conditional UPDATE (claim token + lease), never by row locks, so that two
-- instances on a Galera cluster cannot both send one message.
CREATE TABLE push_outbox (
  notification_id TEXT NOT NULL,
  subscription_id TEXT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
  payload TEXT NOT NULL,          -- the Notification JSON, body already shortened to fit
  urgency TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  claim_token TEXT,
  claimed_until INTEGER,
  last_status INTEGER,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (notification_id, subscription_id)
);
CREATE INDEX ix_push_outbox_due ON push_outbox (next_attempt_at);
CREATE INDEX ix_push_outbox_subscription ON push_outbox (subscription_id);
-- A batch's rows are read and recorded by their claim token.
CREATE INDEX ix_push_outbox_claim ON push_outbox (claim_token);
