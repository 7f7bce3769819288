-- Two-factor sign-in (TOTP, RFC 6238) and its recovery codes.
-- mfa_secret: the confirmed secret (base32); mfa_pending_secret: one being enrolled, not yet
-- confirmed; mfa_last_step: the last accepted 30-second step (a code for it or an earlier one is
-- refused, which is the replay protection: one conditional UPDATE decides).
ALTER TABLE users ADD COLUMN mfa_enabled TINYINT NOT NULL DEFAULT 0,
  ADD COLUMN mfa_secret VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD COLUMN mfa_pending_secret VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD COLUMN mfa_last_step BIGINT NULL;

-- Wrong codes spent on one mfa_token (the fifth spends it).
ALTER TABLE one_time_tokens ADD COLUMN attempts INT NOT NULL DEFAULT 0;

-- Recovery codes, stored only as SHA-256 hex of the normalised code; a used one is deleted.
CREATE TABLE mfa_recovery_codes (
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  code_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, code_hash),
  CONSTRAINT fk_mfa_recovery_codes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
