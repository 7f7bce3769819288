-- Two-factor sign-in (TOTP, RFC 6238) and its recovery codes.
-- mfa_secret: the confirmed secret (base32); mfa_pending_secret: one being enrolled, not yet
-- confirmed; mfa_last_step: the last accepted 30-second step (a code for it or an earlier one is
-- refused, which is the replay protection: one conditional UPDATE decides).
ALTER TABLE users ADD COLUMN mfa_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN mfa_secret TEXT;
ALTER TABLE users ADD COLUMN mfa_pending_secret TEXT;
ALTER TABLE users ADD COLUMN mfa_last_step INTEGER;

-- Wrong codes spent on one mfa_token (the fifth spends it).
ALTER TABLE one_time_tokens ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;

-- Recovery codes, stored only as SHA-256 hex of the normalised code; a used one is deleted.
CREATE TABLE mfa_recovery_codes (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, code_hash)
);
