-- The "already owned" check of an order no longer reads every photo its customer owns.
--
-- Its generic plan (place_order_checked runs with plan_cache_mode = force_generic_plan, 0006)
-- used entitlements_one_active with user_id alone as the index condition and photo_id = ANY
-- (...) as a filter: every order read all of its customer's active entitlements, so a
-- customer's orders got slower with every photo they had bought (issue #17: in the ledger
-- bench, where each client buys thousands of photos, 1,214 entitlement rows fetched per order
-- on average, pg_stat_user_tables over one level; EXPLAIN ANALYZE of the old query for a
-- customer owning 6,300 photos: 37 ms, 6,300 heap fetches; the new one: 0.2 ms, one index
-- lookup per photo). Same result and the same error; nothing else in the function changed.

CREATE OR REPLACE FUNCTION place_order_checked(
    p_order_id uuid, p_customer text, p_key text, p_request_hash text, p_currency char(3),
    p_total bigint, p_reference text,
    p_photo_ids text[], p_owner_ids text[], p_prices bigint[], p_fees bigint[], p_nets bigint[],
    p_account_ids bigint[], p_amounts bigint[], p_wallet_id bigint, p_sees_private_events boolean,
    OUT outcome text, OUT request_hash text, OUT response jsonb
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_changed text;
    v_created timestamptz := now();
    v_entry bigint;
    v_owned text;
    v_balance bigint;
BEGIN
    -- The sale hold (see 0003: the sidecar takes it exclusively while it decides between
    -- deleting and unlisting a photo), shared until the transaction ends, in sorted order.
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('photostack:photo-sale:' || h.photo_id, 0))
       FROM (SELECT DISTINCT u AS photo_id FROM unnest(p_photo_ids) AS u ORDER BY u) AS h;
    -- The re-check under the hold (0005, 0007). The sidecar's ids are uuids; anything else
    -- cannot be a listed photo (and must not fail the cast).
    SELECT string_agg(i.photo_id, ', ' ORDER BY i.photo_id) INTO v_changed
      FROM unnest(p_photo_ids, p_owner_ids, p_prices) AS i (photo_id, owner_id, price)
      LEFT JOIN photos.photo_sale_status s
        ON s.photo_id = CASE WHEN i.photo_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                             THEN i.photo_id::uuid END
     WHERE s.photo_id IS NULL OR NOT s.sellable OR NOT (s.event_public OR p_sees_private_events)
        OR s.owner_id <> i.owner_id OR s.price_minor <> i.price
        OR s.currency <> p_currency::text;
    IF v_changed IS NOT NULL THEN
        RAISE EXCEPTION 'photo changed' USING ERRCODE = 'PSCHG', DETAIL = v_changed;
    END IF;

    -- Claim the key: a concurrent request with the same key waits here on the unique index
    -- until the first one ends, then sees its committed row. The order row carries its
    -- entry's id from the start (checked at commit, 0004) and its response.
    v_entry := nextval('journal_entries_id_seq'::regclass);
    INSERT INTO orders (id, customer_id, idempotency_key, request_hash, status, currency,
                        total_minor, entry_id, response, created_at)
    VALUES (p_order_id, p_customer, p_key, p_request_hash, 'paid', p_currency, p_total, v_entry,
            jsonb_build_object(
                'order_id', p_order_id::text, 'status', 'paid', 'currency', p_currency, 'total_minor', p_total,
                'items', (SELECT jsonb_agg(jsonb_build_object('photo_id', i.photo_id, 'price_minor', i.price)
                                           ORDER BY i.n)
                            FROM unnest(p_photo_ids, p_prices) WITH ORDINALITY AS i (photo_id, price, n)),
                -- As Python's datetime.isoformat() writes it.
                'created_at', to_char(v_created AT TIME ZONE 'UTC',
                                      CASE WHEN extract(microseconds FROM v_created)::bigint % 1000000 = 0
                                           THEN 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'
                                           ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"' END)),
            v_created)
    ON CONFLICT (customer_id, idempotency_key) DO NOTHING
    RETURNING orders.response INTO response;
    IF NOT FOUND THEN
        SELECT 'exists', o.request_hash, o.response INTO outcome, request_hash, response
          FROM orders o WHERE o.customer_id = p_customer AND o.idempotency_key = p_key;
        RETURN;
    END IF;

    -- One index lookup per photo of the order (LATERAL with LIMIT: never flattened into a join
    -- that reads all the customer's entitlements).
    SELECT string_agg(w.photo_id, ', ' ORDER BY w.photo_id) INTO v_owned
      FROM unnest(p_photo_ids) AS w (photo_id),
           LATERAL (SELECT 1 FROM entitlements e
                     WHERE e.user_id = p_customer AND e.photo_id = w.photo_id AND e.status = 'active'
                     LIMIT 1) AS owned;
    IF v_owned IS NOT NULL THEN
        RAISE EXCEPTION 'already owned' USING ERRCODE = 'PSOWN', DETAIL = v_owned;
    END IF;

    -- Everything that takes no account lock first, so the account locks are held as briefly
    -- as possible; a concurrent order of the same photo by the same customer waits on the
    -- entitlement index instead.
    WITH entry AS (
        INSERT INTO journal_entries (id, kind, reference) VALUES (v_entry, 'order', p_reference)
    ), lines AS (
        INSERT INTO order_items (order_id, photo_id, owner_id, currency, price_minor, fee_minor, net_minor)
        SELECT p_order_id, i.photo_id, i.owner_id, p_currency, i.price, i.fee, i.net
          FROM unnest(p_photo_ids, p_owner_ids, p_prices, p_fees, p_nets) AS i (photo_id, owner_id, price, fee, net)
    )
    INSERT INTO entitlements (user_id, photo_id, order_id)
    SELECT p_customer, u, p_order_id FROM unnest(p_photo_ids) AS u;

    -- Lock the accounts in ascending id order (the one global order: no deadlocks) and read
    -- the wallet's balance from its locked row. The wallet is picked by the aggregate's
    -- FILTER, not by a WHERE on the outer query: such a condition is pushed down into the
    -- locking subquery, which then locks the wallet alone and leaves the other accounts to
    -- the balance UPDATE, in no particular order (measured: deadlocks at 32 clients).
    SELECT max(a.balance_minor) FILTER (WHERE a.id = p_wallet_id) INTO v_balance
      FROM (SELECT id, balance_minor FROM accounts WHERE id = ANY (p_account_ids) ORDER BY id FOR UPDATE) AS a;
    IF v_balance IS NULL OR v_balance < p_total THEN
        RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'PSNSF', DETAIL = coalesce(v_balance, 0)::text;
    END IF;
    -- One statement: the postings trigger checks the entry and moves the balances (0004).
    INSERT INTO postings (entry_id, account_id, currency, amount_minor)
    SELECT v_entry, a.account_id, p_currency, a.amount
      FROM unnest(p_account_ids, p_amounts) AS a (account_id, amount);
    outcome := 'created';
    request_hash := p_request_hash;
END $$;
