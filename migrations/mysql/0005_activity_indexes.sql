-- The activity API reads "events done to a user" newest first: the target index gets (at, id),
-- so a page is an index range scan, not a sort of all the user's events.
ALTER TABLE activity DROP KEY ix_activity_target, ADD KEY ix_activity_target (target_id, at, id);
