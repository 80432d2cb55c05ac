-- The event's visibility is its own column of the sale status, not part of "sellable".
--
-- 0022 folded "the event is public" into sellable, so the order's re-check under the sale
-- hold refused every photo of a private event. But the catalog read shows such photos to
-- privileged callers (admins: sidecar/domain.py, can_see_photo), and the authorisation
-- matrix has an admin buy one (tests/e2e/authz/matrix.yaml, POST /orders, private): that
-- order was read as for sale and then refused as "photo_changed" although nothing changed.
-- Now sellable is the photo's own rule again (0021: processed, priced, public, not
-- unlisted) and event_public says whether its event is public; the order function
-- (transactions migration 0007) requires event_public unless the buyer may see private
-- events, which is what the catalog read applied. Columns are only appended (a view's
-- existing columns keep their names and order).
CREATE OR REPLACE VIEW photo_sale_status AS
    SELECT p.id AS photo_id, p.owner_id, p.price_minor, p.currency,
           (p.status = 'ready' AND p.price_minor > 0 AND p.currency <> '' AND p.visibility = 'public'
            AND p.unlisted_at IS NULL) AS sellable,
           (e.visibility = 'public') AS event_public
      FROM photos p JOIN events e ON e.id = p.event_id;
