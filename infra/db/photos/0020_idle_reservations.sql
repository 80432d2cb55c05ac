-- The reconciler lists reservations nobody uploaded to (sidecar/reservations.py): pending,
-- listed, untouched the longest. Few photos are pending at a time, so the index stays small.
CREATE INDEX IF NOT EXISTS photos_idle_reservations ON photos (updated_at, id)
    WHERE status = 'pending' AND unlisted_at IS NULL;
