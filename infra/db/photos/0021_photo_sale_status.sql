-- The one thing the transactions schema reads from this one: whether a photo can be sold
-- right now, and by whom at what price. An order re-checks its photos through this view
-- under the sale hold (transactions migration 0005), inside the same statement that writes
-- the order: a delete that committed between the order's catalog read and its hold is seen
-- there, without a second call to the sidecar. A narrow, read-only contract (five columns,
-- no keys, no derivatives, no visibility rules beyond "listed and public"), the mirror of
-- transactions.photo_entitlements; in production the transactions role gets SELECT on this
-- view and nothing else here.
--
-- sellable is the sidecar's rule for "for sale" (transactions/catalog_grpc.py,
-- to_catalog_photo): processed, priced, public, not unlisted. A deleted photo has no row.
CREATE OR REPLACE VIEW photo_sale_status AS
    SELECT id AS photo_id, owner_id, price_minor, currency,
           (status = 'ready' AND price_minor > 0 AND currency <> '' AND visibility = 'public'
            AND unlisted_at IS NULL) AS sellable
      FROM photos;
