-- Face opt-outs are applied where faces are searched (sidecar/face_index.py), no longer by
-- labelling face rows inside the opt-out request (issue 12). A withheld face is withheld from
-- every search, the opter's own included, so it needs no owner: faces.subject_id is no longer
-- written or read (left in place while an older sidecar may still run; a later migration drops it).
--
-- One revision for the whole opt-out table, bumped by every change to it, so that each sidecar
-- instance knows when the references it holds are stale; each reference records the revision
-- it was stored at, so an instance applies a reference to an event's matrix once.
CREATE TABLE face_opt_out_revision (
    single   boolean PRIMARY KEY DEFAULT true CHECK (single),
    revision bigint NOT NULL
);
INSERT INTO face_opt_out_revision (single, revision) VALUES (true, 1);

ALTER TABLE face_opt_outs ADD COLUMN revision bigint NOT NULL DEFAULT 1;
