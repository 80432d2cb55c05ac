-- The ledger's database-side rules, checked once per statement instead of once per posting.
--
-- Measured per one-photo order (three postings), inside PostgreSQL: the per-row
-- triggers of 0001 cost more than all the order's other writes together. Each posting
-- ran its own balance UPDATE, and at commit the deferred balance check ran once per
-- posting plus once for the entry, two queries each: eight queries for one entry.
--
-- Same guarantees, fewer queries:
-- * After every INSERT statement into postings, every entry it touched balances per
--   currency (checked immediately, over all of that entry's postings). Postings are
--   append-only, so an entry that balanced after its last insert balances at commit.
--   Writers insert an entry's postings in one statement (transactions.repository,
--   the place_order function).
-- * The cached balances move in the same trigger, one UPDATE per statement (summed by
--   account), after the accounts were locked in id order by the caller.
-- * At commit, every new journal entry has postings and balances (deferred, per entry,
--   one query).

DROP TRIGGER postings_apply ON postings;
DROP TRIGGER postings_balanced ON postings;

CREATE FUNCTION settle_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT p.entry_id, p.currency, sum(p.amount_minor) AS total INTO bad
      FROM postings p
     WHERE p.entry_id IN (SELECT DISTINCT n.entry_id FROM new_postings n)
     GROUP BY p.entry_id, p.currency HAVING sum(p.amount_minor) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance in %: %', bad.entry_id, bad.currency, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    UPDATE accounts a SET balance_minor = a.balance_minor + n.total
      FROM (SELECT account_id, sum(amount_minor) AS total FROM new_postings GROUP BY account_id) n
     WHERE a.id = n.account_id;
    RETURN NULL;
END $$;
CREATE TRIGGER postings_settle AFTER INSERT ON postings REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION settle_postings();

-- Now fired only by journal_entries (entries_have_postings, deferred): one query.
CREATE OR REPLACE FUNCTION check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    currencies bigint;
    unbalanced bigint;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE s.total <> 0) INTO currencies, unbalanced
      FROM (SELECT sum(amount_minor) AS total FROM postings WHERE entry_id = NEW.id GROUP BY currency) s;
    IF currencies = 0 THEN
        RAISE EXCEPTION 'journal entry % has no postings', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    IF unbalanced > 0 THEN
        RAISE EXCEPTION 'journal entry % does not balance', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

-- The order's writes, each row written once: the response is built before the order row
-- (its created_at is now(), the transaction's start, as the column default), and the
-- order row carries its entry's id from the start (taken from the sequence; the entry is
-- written right after the key is claimed, so the reference is checked at commit). When
-- the key is taken ('exists'), nothing was written.
ALTER TABLE orders ALTER CONSTRAINT orders_entry_id_fkey DEFERRABLE INITIALLY DEFERRED;

CREATE OR REPLACE FUNCTION place_order(
    p_order_id uuid, p_customer text, p_key text, p_request_hash text, p_currency char(3),
    p_total bigint, p_reference text,
    p_photo_ids text[], p_owner_ids text[], p_prices bigint[], p_fees bigint[], p_nets bigint[],
    p_account_ids bigint[], p_amounts bigint[], p_wallet_id bigint,
    OUT outcome text, OUT request_hash text, OUT response jsonb
) LANGUAGE plpgsql AS $$
DECLARE
    v_created timestamptz := now();
    v_entry bigint := nextval(pg_get_serial_sequence('journal_entries', 'id'));
    v_owned text;
    v_balance bigint;
BEGIN
    response := jsonb_build_object(
        'order_id', p_order_id::text, 'status', 'paid', 'currency', p_currency, 'total_minor', p_total,
        'items', (SELECT jsonb_agg(jsonb_build_object('photo_id', i.photo_id, 'price_minor', i.price)
                                   ORDER BY i.n)
                    FROM unnest(p_photo_ids, p_prices) WITH ORDINALITY AS i (photo_id, price, n)),
        -- As Python's datetime.isoformat() writes it.
        'created_at', to_char(v_created AT TIME ZONE 'UTC',
                              CASE WHEN extract(microseconds FROM v_created)::bigint % 1000000 = 0
                                   THEN 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'
                                   ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"' END));
    -- Claim the key: a concurrent request with the same key waits here on the unique
    -- index until the first one ends, then sees its committed row.
    INSERT INTO orders (id, customer_id, idempotency_key, request_hash, status, currency,
                        total_minor, entry_id, response, created_at)
    VALUES (p_order_id, p_customer, p_key, p_request_hash, 'paid', p_currency, p_total, v_entry,
            place_order.response, v_created)
    ON CONFLICT (customer_id, idempotency_key) DO NOTHING;
    IF NOT FOUND THEN
        SELECT 'exists', o.request_hash, o.response INTO outcome, request_hash, response
          FROM orders o WHERE o.customer_id = p_customer AND o.idempotency_key = p_key;
        RETURN;
    END IF;
    INSERT INTO journal_entries (id, kind, reference) VALUES (v_entry, 'order', p_reference);

    SELECT string_agg(e.photo_id, ', ' ORDER BY e.photo_id) INTO v_owned
      FROM entitlements e
     WHERE e.user_id = p_customer AND e.photo_id = ANY (p_photo_ids) AND e.status = 'active';
    IF v_owned IS NOT NULL THEN
        RAISE EXCEPTION 'already owned' USING ERRCODE = 'PSOWN', DETAIL = v_owned;
    END IF;

    -- Everything that takes no account lock is written first, so the account locks are
    -- held as briefly as possible; a concurrent order of the same photo by the same
    -- customer waits on the entitlement index instead.
    INSERT INTO order_items (order_id, photo_id, owner_id, currency, price_minor, fee_minor, net_minor)
    SELECT p_order_id, i.photo_id, i.owner_id, p_currency, i.price, i.fee, i.net
      FROM unnest(p_photo_ids, p_owner_ids, p_prices, p_fees, p_nets) AS i (photo_id, owner_id, price, fee, net);
    INSERT INTO entitlements (user_id, photo_id, order_id)
    SELECT p_customer, u, p_order_id FROM unnest(p_photo_ids) AS u;

    -- Lock the accounts in ascending id order (the one global order: no deadlocks).
    PERFORM 1 FROM accounts WHERE id = ANY (p_account_ids) ORDER BY id FOR UPDATE;
    SELECT balance_minor INTO v_balance FROM accounts WHERE id = p_wallet_id;
    IF v_balance IS NULL OR v_balance < p_total THEN
        RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'PSNSF', DETAIL = coalesce(v_balance, 0)::text;
    END IF;
    -- One statement: the postings trigger checks the entry and moves the balances.
    INSERT INTO postings (entry_id, account_id, currency, amount_minor)
    SELECT v_entry, a.account_id, p_currency, a.amount
      FROM unnest(p_account_ids, p_amounts) AS a (account_id, amount);
    outcome := 'created';
    request_hash := p_request_hash;
END $$;
