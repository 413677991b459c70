-- 0002: revoked sessions are loaded by revoked_at (Revocations), and only
-- revoked families are indexed.
CREATE INDEX refresh_families_revoked ON refresh_families (revoked_at) WHERE revoked_at IS NOT NULL;
