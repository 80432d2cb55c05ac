-- The one thing the photo sidecar reads from this schema: who holds an active entitlement to
-- which photo. A narrow, read-only contract (two columns), so the sidecar, which enforces the
-- paywall, answers from the source of truth: a buyer gets the clean sizes the moment the order
-- commits, a refund takes them away at once, and nothing has to be copied or retried.
-- In production the sidecar's database role gets SELECT on this view and nothing else here.
CREATE VIEW photo_entitlements AS
    SELECT user_id, photo_id FROM entitlements WHERE status = 'active';

-- "Has anybody bought this photo?" (deleting a sold photo only unlists it).
CREATE INDEX entitlements_active_photo_idx ON entitlements (photo_id) WHERE status = 'active';
