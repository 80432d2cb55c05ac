-- Sold photos are immutable and outlive their listing (issue 12).
--
-- original_etag / original_version_id: the identity of the exact S3 object (ETag, and the
-- version id when the uploads bucket is versioned) whose bytes the upload pipeline hashed into
-- sha256. A download grant checks that the object is still that one before presigning it.
-- unlisted_at: set when the owner deletes a photo somebody bought: it leaves browsing, search
-- and sale, its record and objects stay for the buyers' downloads.
ALTER TABLE photos
    ADD COLUMN original_etag       text,
    ADD COLUMN original_version_id text,
    ADD COLUMN unlisted_at         timestamptz;
