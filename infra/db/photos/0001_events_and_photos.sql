-- Events (a photographer's shoot) and the photos uploaded into them.
CREATE TABLE events (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id        text NOT NULL,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    event_date      date NOT NULL,
    place           text NOT NULL DEFAULT '' CHECK (length(place) <= 200),
    visibility      text NOT NULL CHECK (visibility IN ('public', 'private')),
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE UNIQUE INDEX events_owner_idempotency ON events (owner_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_owner_created ON events (owner_id, created_at, id);
CREATE INDEX events_public_created ON events (created_at, id) WHERE visibility = 'public';

CREATE TABLE photos (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id        uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    owner_id        text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),
    original_key    text NOT NULL UNIQUE,
    content_type    text NOT NULL,
    declared_bytes  bigint NOT NULL CHECK (declared_bytes > 0),
    width           int,
    height          int,
    original_bytes  bigint,
    sha256          text,
    captured_at     timestamptz,
    camera          text,
    price_minor     bigint NOT NULL DEFAULT 0 CHECK (price_minor >= 0),
    currency        text NOT NULL DEFAULT '' CHECK (currency = '' OR currency ~ '^[A-Z]{3}$'),
    visibility      text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private')),
    failure_reason  text,
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Keyset pagination walks (created_at, id) within an event.
CREATE INDEX photos_event_page ON photos (event_id, created_at, id);
CREATE UNIQUE INDEX photos_owner_idempotency ON photos (owner_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE derivatives (
    photo_id     uuid NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    key          text NOT NULL,
    width        int NOT NULL CHECK (width > 0),
    height       int NOT NULL CHECK (height > 0),
    bytes        bigint NOT NULL CHECK (bytes > 0),
    content_type text NOT NULL,
    PRIMARY KEY (photo_id, kind)
);
