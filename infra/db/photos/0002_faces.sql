-- Face search: the faces found in each photo, and who opted out of being found by others.
-- pgvector is not available here, so embeddings are 512 float32 (little-endian) in bytea; the
-- sidecar holds each event's faces as one in-memory matrix and searches it exactly.
ALTER TABLE photos
    ADD COLUMN faces_indexed_at timestamptz,  -- NULL: not indexed yet
    ADD COLUMN face_count       int CHECK (face_count >= 0);

CREATE TABLE faces (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    photo_id   uuid NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    event_id   uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    x1         real NOT NULL,
    y1         real NOT NULL,
    x2         real NOT NULL,
    y2         real NOT NULL,
    score      real NOT NULL CHECK (score BETWEEN 0 AND 1),
    embedding  bytea NOT NULL CHECK (length(embedding) = 2048),
    -- The opted-out user this face was recognised as (their reference embedding matched):
    -- withheld from every search but that user's own.
    subject_id text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX faces_event ON faces (event_id);
CREATE INDEX faces_photo ON faces (photo_id);
CREATE INDEX faces_subject ON faces (subject_id) WHERE subject_id IS NOT NULL;

-- Bumped by every change to an event's faces, so that each sidecar instance knows when the
-- matrix it holds for the event is stale (another instance wrote) and reloads it.
CREATE TABLE face_event_versions (
    event_id uuid PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    version  bigint NOT NULL
);

-- Users who opted out, with the embedding of the selfie they gave to be recognised by.
CREATE TABLE face_opt_outs (
    user_id      text PRIMARY KEY,
    reference    bytea NOT NULL CHECK (length(reference) = 2048),
    opted_out_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
