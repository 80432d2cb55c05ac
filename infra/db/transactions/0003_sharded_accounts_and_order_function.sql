-- Past the hot row, and one round trip per order.
--
-- 1. Shards. Every order credits the platform revenue account and its photographer's
--    earnings account, so with one row per account all orders queue on the same row
--    lock (held until commit, fsync included): measured, the rate stopped growing at
--    8 clients. Accounts that only need their sum (not a check against their balance
--    under a lock) are split into shard rows of the same (kind, owner, currency); a
--    posting goes to the shard chosen by a hash of its entry's reference, and an
--    account's balance is the sum of its shards. Every shard is an ordinary account row
--    with its own postings, so all ledger invariants hold per row as before. Wallets
--    stay one row: "never below zero" is checked on that row, under its lock.
ALTER TABLE accounts ADD COLUMN shard smallint NOT NULL DEFAULT 0 CHECK (shard >= 0);
ALTER TABLE accounts DROP CONSTRAINT accounts_owner_key;
ALTER TABLE accounts ADD CONSTRAINT accounts_owner_key UNIQUE (kind, owner_id, currency, shard);
ALTER TABLE accounts ADD CONSTRAINT wallet_is_one_row CHECK (kind <> 'wallet' OR shard = 0);

-- 2. The sale hold: the photo sidecar takes this per-photo advisory lock exclusively
--    while it decides between deleting and unlisting a photo (sidecar/repository.py,
--    SALE_LOCK_SQL: keep the two expressions equal). Shared here until the transaction
--    ends; taken in sorted order so that orders never deadlock each other; one
--    statement for any number of photos.
CREATE FUNCTION hold_photos_for_sale(p_photo_ids text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    pid text;
BEGIN
    FOREACH pid IN ARRAY ARRAY(SELECT DISTINCT u FROM unnest(p_photo_ids) AS u ORDER BY u) LOOP
        PERFORM pg_advisory_xact_lock_shared(hashtextextended('photostack:photo-sale:' || pid, 0));
    END LOOP;
END $$;

-- 3. The writes of an order in one statement (one round trip instead of nine; the plans
--    are cached per backend, which PgBouncer's transaction mode allows). Python
--    (transactions.ledger) still decides the postings and the split; this function only
--    writes them, and the database's own checks (balanced entries at commit, the wallet
--    constraint, the one-active-entitlement index) stay the backstops.
--
--    Returns ('created', response) or, when the customer's key is already taken by a
--    committed order, ('exists', that order's request hash and response): the caller
--    replays or refuses. Raises SQLSTATE PSOWN (detail: the photo ids) when the customer
--    already owns one of the photos, PSNSF (detail: the balance) on insufficient funds.
CREATE FUNCTION place_order(
    p_order_id uuid, p_customer text, p_key text, p_request_hash text, p_currency char(3),
    p_total bigint, p_reference text,
    p_photo_ids text[], p_owner_ids text[], p_prices bigint[], p_fees bigint[], p_nets bigint[],
    p_account_ids bigint[], p_amounts bigint[], p_wallet_id bigint,
    OUT outcome text, OUT request_hash text, OUT response jsonb
) LANGUAGE plpgsql AS $$
DECLARE
    v_created timestamptz;
    v_entry bigint;
    v_owned text;
    v_balance bigint;
BEGIN
    -- Claim the key first: a concurrent request with the same key waits here on the
    -- unique index until the first one ends, then sees its committed row.
    INSERT INTO orders (id, customer_id, idempotency_key, request_hash, status, currency,
                        total_minor, response)
    VALUES (p_order_id, p_customer, p_key, p_request_hash, 'paid', p_currency, p_total, '{}'::jsonb)
    ON CONFLICT (customer_id, idempotency_key) DO NOTHING
    RETURNING created_at INTO v_created;
    IF v_created IS NULL THEN
        SELECT 'exists', o.request_hash, o.response INTO outcome, request_hash, response
          FROM orders o WHERE o.customer_id = p_customer AND o.idempotency_key = p_key;
        RETURN;
    END IF;

    SELECT string_agg(e.photo_id, ', ' ORDER BY e.photo_id) INTO v_owned
      FROM entitlements e
     WHERE e.user_id = p_customer AND e.photo_id = ANY (p_photo_ids) AND e.status = 'active';
    IF v_owned IS NOT NULL THEN
        RAISE EXCEPTION 'already owned' USING ERRCODE = 'PSOWN', DETAIL = v_owned;
    END IF;

    -- Everything that takes no account lock is written first, so the account locks are
    -- held as briefly as possible; a concurrent order of the same photo by the same
    -- customer waits on the entitlement index instead.
    INSERT INTO journal_entries (kind, reference) VALUES ('order', p_reference) RETURNING id INTO v_entry;
    INSERT INTO order_items (order_id, photo_id, owner_id, currency, price_minor, fee_minor, net_minor)
    SELECT p_order_id, i.photo_id, i.owner_id, p_currency, i.price, i.fee, i.net
      FROM unnest(p_photo_ids, p_owner_ids, p_prices, p_fees, p_nets) AS i (photo_id, owner_id, price, fee, net);
    INSERT INTO entitlements (user_id, photo_id, order_id)
    SELECT p_customer, u, p_order_id FROM unnest(p_photo_ids) AS u;
    response := jsonb_build_object(
        'order_id', p_order_id::text, 'status', 'paid', 'currency', p_currency, 'total_minor', p_total,
        'items', (SELECT jsonb_agg(jsonb_build_object('photo_id', i.photo_id, 'price_minor', i.price)
                                   ORDER BY i.n)
                    FROM unnest(p_photo_ids, p_prices) WITH ORDINALITY AS i (photo_id, price, n)),
        -- As Python's datetime.isoformat() writes it, so a replay is byte-for-byte the same.
        'created_at', to_char(v_created AT TIME ZONE 'UTC', CASE WHEN extract(microseconds FROM v_created)::bigint % 1000000 = 0
                       THEN 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"' END));
    UPDATE orders SET entry_id = v_entry, response = place_order.response WHERE id = p_order_id;

    -- Lock the accounts in ascending id order (the one global order: no deadlocks).
    PERFORM 1 FROM accounts WHERE id = ANY (p_account_ids) ORDER BY id FOR UPDATE;
    SELECT balance_minor INTO v_balance FROM accounts WHERE id = p_wallet_id;
    IF v_balance IS NULL OR v_balance < p_total THEN
        RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'PSNSF', DETAIL = coalesce(v_balance, 0)::text;
    END IF;
    -- The postings trigger moves the cached balances; the deferred trigger checks the
    -- entry balances at commit.
    INSERT INTO postings (entry_id, account_id, currency, amount_minor)
    SELECT v_entry, a.account_id, p_currency, a.amount
      FROM unnest(p_account_ids, p_amounts) AS a (account_id, amount);
    outcome := 'created';
    request_hash := p_request_hash;
END $$;
