-- The activity API reads "events done to a user" newest first: the target index gets (at, id),
-- so a page is an index range scan, not a sort of all the user's events.
DROP INDEX ix_activity_target;
CREATE INDEX ix_activity_target ON activity (target_id, at, id);
