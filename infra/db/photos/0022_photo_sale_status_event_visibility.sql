-- The sale status also applies the event's visibility, as the catalog read does.
--
-- The transactions function reads the catalog as the buyer, and the sidecar does not show
-- a photo of a private event to anyone but its owner, admins and earlier buyers
-- (sidecar/domain.py, can_see_photo): such a photo is absent from the answer, so it cannot
-- be bought. The re-check under the sale hold (transactions migration 0005) read only the
-- photo's own columns, so an event made private between an order's catalog read and its
-- hold still sold. Now a photo is sellable only while its event is public too; the same
-- five columns, one more primary-key lookup (events) per photo of an order.
CREATE OR REPLACE VIEW photo_sale_status AS
    SELECT p.id AS photo_id, p.owner_id, p.price_minor, p.currency,
           (p.status = 'ready' AND p.price_minor > 0 AND p.currency <> '' AND p.visibility = 'public'
            AND p.unlisted_at IS NULL AND e.visibility = 'public') AS sellable
      FROM photos p JOIN events e ON e.id = p.event_id;
