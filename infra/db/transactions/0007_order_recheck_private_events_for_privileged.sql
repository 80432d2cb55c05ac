-- The re-check under the sale hold applies the event's visibility as the catalog read did.
--
-- The buyer's catalog read hides a private event's photos from everyone but their owner,
-- admins and earlier buyers (sidecar/domain.py, can_see_photo); an owner cannot buy their own
-- photo and a buyer already owns it, so among buyers only a privileged one (an admin) may buy
-- a photo of a private event. place_order_checked now takes p_sees_private_events (the
-- buyer's verified role allows it) and refuses a photo whose event is not public otherwise
-- (photos migration 0023: the sale status's event_public column), so an event made private
-- between the catalog read and the hold is still refused for a customer, and an admin's
-- order of a photo they were shown is not refused as changed. The old signature is dropped
-- (a second overload would be callable without the flag); the function keeps its generic
-- plans (migration 0006).
DROP FUNCTION place_order_checked(uuid, text, text, text, char(3), bigint, text, text[], text[], bigint[],
                                  bigint[], bigint[], bigint[], bigint[], bigint);

CREATE FUNCTION place_order_checked(
    p_order_id uuid, p_customer text, p_key text, p_request_hash text, p_currency char(3),
    p_total bigint, p_reference text,
    p_photo_ids text[], p_owner_ids text[], p_prices bigint[], p_fees bigint[], p_nets bigint[],
    p_account_ids bigint[], p_amounts bigint[], p_wallet_id bigint, p_sees_private_events boolean,
    OUT outcome text, OUT request_hash text, OUT response jsonb
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
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
     WHERE s.photo_id IS NULL OR NOT s.sellable OR NOT (s.event_public OR p_sees_private_events)
        OR s.owner_id <> i.owner_id OR s.price_minor <> i.price
        OR s.currency <> p_currency::text;
    IF v_changed IS NOT NULL THEN
        RAISE EXCEPTION 'photo changed' USING ERRCODE = 'PSCHG', DETAIL = v_changed;
    END IF;
    SELECT o.outcome, o.request_hash, o.response INTO outcome, request_hash, response
      FROM place_order(p_order_id, p_customer, p_key, p_request_hash, p_currency, p_total, p_reference,
                       p_photo_ids, p_owner_ids, p_prices, p_fees, p_nets, p_account_ids, p_amounts,
                       p_wallet_id) AS o;
END $$;
