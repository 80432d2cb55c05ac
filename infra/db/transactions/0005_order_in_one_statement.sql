-- The whole order in one statement, the catalog re-check included.
--
-- Before: five round trips per order (BEGIN, the transaction's settings, the sale hold,
-- place_order, COMMIT), with the re-check between the hold and place_order asked from the
-- catalog (the sidecar) again. Measured on 2 cores, the round trips cost about as much CPU
-- as the order's writes. Now the client sends the settings and this function in one
-- message, which PostgreSQL runs as one implicit transaction; the function takes the hold,
-- re-checks the photos under it against the photos schema's sale-status view (photos
-- migration 0021: read-only, five columns), and writes the order with place_order (0004).
--
-- Why the re-check under the hold: the sidecar takes the sale lock exclusively while it
-- decides between deleting a photo (nobody bought it) and only unlisting it (somebody did).
-- A delete that committed before the hold is seen here (no row, or not sellable); one that
-- comes after waits for this transaction and then finds the sale, so it only unlists. A
-- buyer never pays for a photo whose original is gone.
--
-- Raises SQLSTATE PSCHG (detail: the photo ids) when a photo is gone, no longer for sale,
-- or has another owner, price or currency than the order was priced with; otherwise as
-- place_order.
CREATE OR REPLACE FUNCTION place_order_checked(
    p_order_id uuid, p_customer text, p_key text, p_request_hash text, p_currency char(3),
    p_total bigint, p_reference text,
    p_photo_ids text[], p_owner_ids text[], p_prices bigint[], p_fees bigint[], p_nets bigint[],
    p_account_ids bigint[], p_amounts bigint[], p_wallet_id bigint,
    OUT outcome text, OUT request_hash text, OUT response jsonb
) LANGUAGE plpgsql AS $$
DECLARE
    v_changed text;
BEGIN
    PERFORM hold_photos_for_sale(p_photo_ids);
    -- The sidecar's ids are uuids; anything else cannot be a listed photo (and must not
    -- fail the cast).
    SELECT string_agg(i.photo_id, ', ' ORDER BY i.photo_id) INTO v_changed
      FROM unnest(p_photo_ids, p_owner_ids, p_prices) AS i (photo_id, owner_id, price)
      LEFT JOIN photos.photo_sale_status s
        ON s.photo_id = CASE WHEN i.photo_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                             THEN i.photo_id::uuid END
     WHERE s.photo_id IS NULL OR NOT s.sellable OR s.owner_id <> i.owner_id OR s.price_minor <> i.price
        OR s.currency <> p_currency::text;
    IF v_changed IS NOT NULL THEN
        RAISE EXCEPTION 'photo changed' USING ERRCODE = 'PSCHG', DETAIL = v_changed;
    END IF;
    SELECT o.outcome, o.request_hash, o.response INTO outcome, request_hash, response
      FROM place_order(p_order_id, p_customer, p_key, p_request_hash, p_currency, p_total, p_reference,
                       p_photo_ids, p_owner_ids, p_prices, p_fees, p_nets, p_account_ids, p_amounts,
                       p_wallet_id) AS o;
END $$;
