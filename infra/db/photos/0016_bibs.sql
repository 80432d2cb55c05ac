-- Bib numbers read in photos (issue 16): one row per number per photo, the best reading kept.
-- Numbered 0016 (the issue) so it cannot collide with the schema's next migrations.
CREATE TABLE photo_bibs (
    photo_id   uuid NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    event_id   uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    number     text NOT NULL CHECK (number ~ '^[A-Z]?[0-9]{1,6}$'),
    confidence real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    x1         real NOT NULL,
    y1         real NOT NULL,
    x2         real NOT NULL,
    y2         real NOT NULL,
    PRIMARY KEY (photo_id, number)
);
-- "?bib=1234" in an event: an index range scan that comes out best first.
CREATE INDEX photo_bibs_search ON photo_bibs (event_id, number, confidence DESC);

-- Photos whose web derivative has been read (zero rows in photo_bibs: no number in it), so a
-- notice delivered again skips the OCR. Kept apart from `photos`: the photo record is not
-- changed by reading it, and its cache stays valid.
CREATE TABLE photo_bib_scans (
    photo_id   uuid PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
    bib_count  int NOT NULL CHECK (bib_count >= 0),
    scanned_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
