-- What every other function may read about an account: whether it is disabled and the
-- version its access tokens must carry (photostack.account_status reads it on a Redis miss
-- or while Redis is down). No email, no password hash, no profile. Where each function has
-- its own database user (AWS), grant the photos and transactions users USAGE on this schema
-- and SELECT on this view only.
CREATE VIEW account_states AS
    SELECT id, disabled, token_version FROM users;
