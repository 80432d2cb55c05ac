-- Double-entry ledger: accounts, journal entries and their postings.
--
-- Sign convention: a posting adds its amount to its account; every entry's
-- postings sum to zero per currency, so the sum over all accounts is zero.
-- A customer wallet is positive; the payment-provider clearing account goes
-- negative by what the provider has paid in.

CREATE TABLE accounts (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('wallet', 'earnings', 'platform_revenue', 'provider_clearing')),
    -- '' for the platform's own accounts, so the unique key needs no NULL handling.
    owner_id      text NOT NULL DEFAULT '',
    currency      char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    balance_minor bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_owner_key UNIQUE (kind, owner_id, currency),
    -- Lets postings reference (account, currency) so a posting cannot carry a
    -- currency other than its account's.
    CONSTRAINT accounts_id_currency_key UNIQUE (id, currency),
    CONSTRAINT wallet_not_overdrawn CHECK (kind <> 'wallet' OR balance_minor >= 0),
    CONSTRAINT owner_matches_kind CHECK ((kind IN ('wallet', 'earnings')) = (owner_id <> ''))
);

CREATE TABLE journal_entries (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('topup', 'order', 'refund')),
    reference  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE postings (
    id           bigserial PRIMARY KEY,
    entry_id     bigint NOT NULL REFERENCES journal_entries (id),
    account_id   bigint NOT NULL,
    currency     char(3) NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor <> 0),
    FOREIGN KEY (account_id, currency) REFERENCES accounts (id, currency)
);
CREATE INDEX postings_entry_idx ON postings (entry_id);
CREATE INDEX postings_account_idx ON postings (account_id, id);

-- The cached balance moves with every posting, in the same transaction, so it
-- cannot disagree with the postings. Callers lock the accounts first (sorted
-- ids, FOR UPDATE); this UPDATE then takes no new lock.
CREATE FUNCTION apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts SET balance_minor = balance_minor + NEW.amount_minor WHERE id = NEW.account_id;
    RETURN NULL;
END $$;
CREATE TRIGGER postings_apply AFTER INSERT ON postings FOR EACH ROW EXECUTE FUNCTION apply_posting();

-- Checked at commit, when all postings of the entry are in.
CREATE FUNCTION check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    entry bigint;
    bad record;
BEGIN
    -- Each branch is planned only when it runs, so NEW's shape may differ.
    IF TG_TABLE_NAME = 'postings' THEN
        entry := NEW.entry_id;
    ELSE
        entry := NEW.id;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM postings WHERE entry_id = entry) THEN
        RAISE EXCEPTION 'journal entry % has no postings', entry USING ERRCODE = 'check_violation';
    END IF;
    SELECT currency, sum(amount_minor) AS total INTO bad
      FROM postings WHERE entry_id = entry GROUP BY currency HAVING sum(amount_minor) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance in %: %', entry, bad.currency, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_entry_balanced();
CREATE CONSTRAINT TRIGGER entries_have_postings AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_entry_balanced();

-- The ledger is append-only: corrections are reversing entries.
CREATE FUNCTION reject_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION reject_ledger_change();
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION reject_ledger_change();
-- The balance may only move through postings.
CREATE FUNCTION reject_direct_balance_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.balance_minor <> OLD.balance_minor AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'account balances change only through postings' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER accounts_balance_guard BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION reject_direct_balance_change();

-- Payments started by top-ups; the provider's signed webhook settles them.
CREATE TABLE payments (
    id              uuid PRIMARY KEY,
    user_id         text NOT NULL,
    idempotency_key text NOT NULL,
    request_hash    text NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    currency        char(3) NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    entry_id        bigint REFERENCES journal_entries (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    settled_at      timestamptz,
    CONSTRAINT payments_idempotency_key UNIQUE (user_id, idempotency_key),
    CONSTRAINT credited_once CHECK ((status = 'succeeded') = (entry_id IS NOT NULL))
);

CREATE TABLE webhook_events (
    event_id    text PRIMARY KEY,
    payment_id  uuid NOT NULL REFERENCES payments (id),
    status      text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id              uuid PRIMARY KEY,
    -- Creation order, for cursor pagination (uuids are not ordered).
    seq             bigserial NOT NULL UNIQUE,
    customer_id     text NOT NULL,
    idempotency_key text NOT NULL,
    request_hash    text NOT NULL,
    status          text NOT NULL CHECK (status IN ('paid', 'refunded')),
    currency        char(3) NOT NULL,
    total_minor     bigint NOT NULL CHECK (total_minor >= 0),
    entry_id        bigint REFERENCES journal_entries (id),
    refund_entry_id bigint REFERENCES journal_entries (id),
    response        jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    refunded_at     timestamptz,
    CONSTRAINT orders_idempotency_key UNIQUE (customer_id, idempotency_key),
    CONSTRAINT refund_matches_status CHECK ((status = 'refunded') = (refund_entry_id IS NOT NULL))
);
CREATE INDEX orders_customer_idx ON orders (customer_id, seq);

CREATE TABLE order_items (
    order_id     uuid NOT NULL REFERENCES orders (id),
    photo_id     text NOT NULL,
    owner_id     text NOT NULL,
    currency     char(3) NOT NULL,
    price_minor  bigint NOT NULL CHECK (price_minor >= 0),
    fee_minor    bigint NOT NULL CHECK (fee_minor >= 0),
    net_minor    bigint NOT NULL CHECK (net_minor >= 0),
    PRIMARY KEY (order_id, photo_id),
    CONSTRAINT split_is_exact CHECK (fee_minor + net_minor = price_minor)
);
CREATE INDEX order_items_owner_idx ON order_items (owner_id);

CREATE TABLE entitlements (
    id         bigserial PRIMARY KEY,
    user_id    text NOT NULL,
    photo_id   text NOT NULL,
    order_id   uuid NOT NULL REFERENCES orders (id),
    status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE UNIQUE INDEX entitlements_one_active ON entitlements (user_id, photo_id) WHERE status = 'active';
CREATE INDEX entitlements_order_idx ON entitlements (order_id);
CREATE INDEX entitlements_user_idx ON entitlements (user_id, id);
